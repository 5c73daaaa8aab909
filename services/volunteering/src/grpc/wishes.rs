//! Small wishes and household pairings: parse, call the use case, answer.

use super::*;

pub(super) async fn post_wish(api: &VolunteeringApi, request: Request<pb::PostWishRequest>) -> R<pb::PostWishResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let now = now_millis();
    let wish = Wish {
        id: new_id(),
        community_id: id("community_id", &req.community_id)?,
        beneficiary: name("beneficiary", &req.beneficiary)?,
        content: words("content", &req.content, true)?,
        status: WishStatus::Open,
        member_id: String::new(),
        unit_org_id: String::new(),
        evidence_ids: Vec::new(),
        attendance_id: String::new(),
        unit_record_id: String::new(),
        created_at: now,
        updated_at: now,
    };
    let wish = api.app.post_wish(&p, &req.request_id, wish).await.map_err(to_status)?;
    ok(pb::PostWishResponse {
        wish: Some(wish_to_pb(wish)),
    })
}

pub(super) async fn claim_wish(
    api: &VolunteeringApi,
    request: Request<pb::ClaimWishRequest>,
) -> R<pb::ClaimWishResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let wish_id = id("wish_id", &req.wish_id)?;
    if req.member_id.is_empty() == req.unit_org_id.is_empty() {
        return Err(err::invalid_field(
            "member_id",
            "give exactly one of member_id and unit_org_id",
        ));
    }
    let member_id = optional_id("member_id", &req.member_id)?;
    let unit_org_id = optional_id("unit_org_id", &req.unit_org_id)?;
    let wish = api
        .app
        .claim_wish(&p, &wish_id, &member_id, &unit_org_id)
        .await
        .map_err(to_status)?;
    ok(pb::ClaimWishResponse {
        wish: Some(wish_to_pb(wish)),
    })
}

pub(super) async fn fulfil_wish(
    api: &VolunteeringApi,
    request: Request<pb::FulfilWishRequest>,
) -> R<pb::FulfilWishResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let wish_id = id("wish_id", &req.wish_id)?;
    let minutes = minutes("minutes", req.minutes)?;
    let evidence = evidence_ids("evidence_ids", &req.evidence_ids, true)?;
    let wish = api
        .app
        .fulfil_wish(&p, &wish_id, minutes, evidence)
        .await
        .map_err(to_status)?;
    ok(pb::FulfilWishResponse {
        wish: Some(wish_to_pb(wish)),
    })
}

pub(super) async fn list_wishes(
    api: &VolunteeringApi,
    request: Request<pb::ListWishesRequest>,
) -> R<pb::ListWishesResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let area = area(&req.community_id, &req.org_id)?;
    let status = wish_status_from_pb(req.status)?;
    let created = DateWindow::parse("created", req.created.as_ref())?;
    let page = page(req.page_size, &req.page_token)?;
    let (wishes, next_page_token) = api
        .app
        .list_wishes(&p, &area, status, &created, &page)
        .await
        .map_err(to_status)?;
    ok(pb::ListWishesResponse {
        wishes: wishes.into_iter().map(wish_to_pb).collect(),
        next_page_token,
    })
}

pub(super) async fn assign_households(
    api: &VolunteeringApi,
    request: Request<pb::AssignHouseholdsRequest>,
) -> R<pb::AssignHouseholdsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let member_id = id("member_id", &req.member_id)?;
    let community_id = id("community_id", &req.community_id)?;
    let labels = text_list("labels", &req.labels, 100, 100)?;
    let households = api
        .app
        .assign_households(&p, &req.request_id, &member_id, &community_id, labels)
        .await
        .map_err(to_status)?;
    ok(pb::AssignHouseholdsResponse {
        households: households.into_iter().map(household_to_pb).collect(),
    })
}

pub(super) async fn list_households(
    api: &VolunteeringApi,
    request: Request<pb::ListHouseholdsRequest>,
) -> R<pb::ListHouseholdsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let member_id = id("member_id", &req.member_id)?;
    let page = page(req.page_size, &req.page_token)?;
    let (households, next_page_token) = api
        .app
        .list_households(&p, &member_id, &page)
        .await
        .map_err(to_status)?;
    ok(pb::ListHouseholdsResponse {
        households: households.into_iter().map(household_to_pb).collect(),
        next_page_token,
    })
}

pub(super) async fn log_visit(api: &VolunteeringApi, request: Request<pb::LogVisitRequest>) -> R<pb::LogVisitResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let household_id = id("household_id", &req.household_id)?;
    let minutes = minutes("minutes", req.minutes)?;
    let note = words("note", &req.note, false)?;
    let evidence = evidence_ids("evidence_ids", &req.evidence_ids, false)?;
    let (household, attendance) = api
        .app
        .log_visit(&p, &req.request_id, &household_id, minutes, note, evidence)
        .await
        .map_err(to_status)?;
    ok(pb::LogVisitResponse {
        household: Some(household_to_pb(household)),
        attendance: Some(attendance_to_pb(attendance)),
    })
}
