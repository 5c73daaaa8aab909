//! Ratings and performance cards: parse, call the use case, answer.

use super::*;

pub(super) async fn rate_unit(api: &FeedbackApi, request: Request<pb::RateUnitRequest>) -> R<pb::RateUnitResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let (community, unit, comment) = (
        v.check(id("community_id", &r.community_id)),
        v.check(id("unit_org_id", &r.unit_org_id)),
        v.check(text("comment", &r.comment, 500, false)),
    );
    let grade = grade_from_pb(r.grade);
    if grade.is_none() {
        v.add(
            "grade",
            "must be one of EXCELLENT (优秀), GOOD (良好), FAIR (一般), POOR (较差)",
        );
    }
    let (Some(community), Some(unit), Some(comment), Some(grade)) = (community, unit, comment, grade) else {
        return Err(err::invalid_fields(&v.0));
    };
    let year = the_year("year", r.year)?;
    let rating = api
        .app
        .rate_unit(&p, &community, &unit, year, grade, comment)
        .await
        .map_err(to_status)?;
    ok(pb::RateUnitResponse {
        rating: Some(rating_to_pb(rating)),
    })
}

pub(super) async fn list_unit_ratings(
    api: &FeedbackApi,
    request: Request<pb::ListUnitRatingsRequest>,
) -> R<pb::ListUnitRatingsResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let org = optional_id("org_id", &r.org_id)?;
    let year = any_year(r.year)?;
    let page = page(r.page_size, &r.page_token)?;
    let (ratings, next) = api.app.list_ratings(&p, &org, year, &page).await.map_err(to_status)?;
    ok(pb::ListUnitRatingsResponse {
        ratings: ratings.into_iter().map(rating_to_pb).collect(),
        next_page_token: next,
    })
}

pub(super) async fn get_performance_card(
    api: &FeedbackApi,
    request: Request<pb::GetPerformanceCardRequest>,
) -> R<pb::GetPerformanceCardResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let member = id("member_id", &r.member_id)?;
    let year = the_year("year", r.year)?;
    let card = api.app.performance_card(&p, &member, year).await.map_err(to_status)?;
    ok(pb::GetPerformanceCardResponse {
        card: Some(card_to_pb(card)),
    })
}
