//! Compliance warnings and eligibility: parse, call the use case, answer.

use super::*;

pub(super) async fn evaluate_warnings(
    api: &FeedbackApi,
    request: Request<pb::EvaluateWarningsRequest>,
) -> R<pb::EvaluateWarningsResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let unit = id("unit_org_id", &r.unit_org_id)?;
    let year = the_year("year", r.year)?;
    let today = api.app.today();
    let as_of = match &r.as_of {
        None => today,
        Some(d) => date_from_pb(d).ok_or_else(|| err::invalid_field("as_of", "is not a calendar date"))?,
    };
    if as_of > today {
        return Err(err::invalid_field(
            "as_of",
            format!("must not be after today ({today}, China Standard Time): rules are judged on days that have come"),
        ));
    }
    let evaluation = api
        .app
        .evaluate_warnings(&p, &unit, year, as_of)
        .await
        .map_err(to_status)?;
    ok(pb::EvaluateWarningsResponse {
        warnings: evaluation.warnings.into_iter().map(warning_to_pb).collect(),
        raised: i32::try_from(evaluation.raised).unwrap_or(i32::MAX),
        withdrawn: i32::try_from(evaluation.withdrawn).unwrap_or(i32::MAX),
    })
}

pub(super) async fn list_warnings(
    api: &FeedbackApi,
    request: Request<pb::ListWarningsRequest>,
) -> R<pb::ListWarningsResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let org = optional_id("org_id", &r.org_id)?;
    let member = optional_id("member_id", &r.member_id)?;
    let year = any_year(r.year)?;
    let page = page(r.page_size, &r.page_token)?;
    let (warnings, next) = api
        .app
        .list_warnings(&p, &org, &member, year, &page)
        .await
        .map_err(to_status)?;
    ok(pb::ListWarningsResponse {
        warnings: warnings.into_iter().map(warning_to_pb).collect(),
        next_page_token: next,
    })
}

pub(super) async fn get_eligibility(
    api: &FeedbackApi,
    request: Request<pb::GetEligibilityRequest>,
) -> R<pb::GetEligibilityResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let member = id("member_id", &r.member_id)?;
    let year = the_year("year", r.year)?;
    let (eligible, warnings) = api.app.eligibility(&p, &member, year).await.map_err(to_status)?;
    ok(pb::GetEligibilityResponse {
        eligible_for_excellent: eligible,
        warnings: warnings.into_iter().map(warning_to_pb).collect(),
    })
}
