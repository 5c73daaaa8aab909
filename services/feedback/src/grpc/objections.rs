//! Objections and spot checks: parse, call the use case, answer.

use super::*;
use crate::domain::model::{ObjectionFilter, ObjectionStatus};
use dualreport_platform::filter::DateWindow;

pub(super) async fn raise_objection(
    api: &FeedbackApi,
    request: Request<pb::RaiseObjectionRequest>,
) -> R<pb::RaiseObjectionResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let (entry, content) = (
        v.check(id("entry_id", &r.entry_id)),
        v.check(text("content", &r.content, 1000, true)),
    );
    let (Some(entry), Some(content)) = (entry, content) else {
        return Err(err::invalid_fields(&v.0));
    };
    let o = api
        .app
        .raise_objection(&p, &r.request_id, &entry, content)
        .await
        .map_err(to_status)?;
    ok(pb::RaiseObjectionResponse {
        objection: Some(objection_to_pb(o)),
    })
}

pub(super) async fn assign_objection(
    api: &FeedbackApi,
    request: Request<pb::AssignObjectionRequest>,
) -> R<pb::AssignObjectionResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let objection = id("objection_id", &r.objection_id)?;
    let department = words("department", &r.department, 100, true)?;
    let o = api
        .app
        .assign_objection(&p, &objection, department)
        .await
        .map_err(to_status)?;
    ok(pb::AssignObjectionResponse {
        objection: Some(objection_to_pb(o)),
    })
}

pub(super) async fn add_investigation_note(
    api: &FeedbackApi,
    request: Request<pb::AddInvestigationNoteRequest>,
) -> R<pb::AddInvestigationNoteResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let objection = id("objection_id", &r.objection_id)?;
    let note = words("note", &r.note, 2000, true)?;
    let evidence = ids("evidence_ids", &r.evidence_ids)?;
    let o = api
        .app
        .add_note(&p, &r.request_id, &objection, note, evidence)
        .await
        .map_err(to_status)?;
    ok(pb::AddInvestigationNoteResponse {
        objection: Some(objection_to_pb(o)),
    })
}

pub(super) async fn decide_objection(
    api: &FeedbackApi,
    request: Request<pb::DecideObjectionRequest>,
) -> R<pb::DecideObjectionResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let (objection, reason) = (
        v.check(id("objection_id", &r.objection_id)),
        v.check(text("reason", &r.reason, 1000, true)),
    );
    if r.upheld && (r.correction_points == 0 || r.correction_points.abs() > 1000) {
        v.add(
            "correction_points",
            "an upheld objection needs a non-zero change of at most 1000 points",
        );
    }
    if !r.upheld && r.correction_points != 0 {
        v.add("correction_points", "must be 0 when the objection is rejected");
    }
    let (Some(objection), Some(reason)) = (objection, reason) else {
        return Err(err::invalid_fields(&v.0));
    };
    if !v.is_empty() {
        return Err(err::invalid_fields(&v.0));
    }
    let o = api
        .app
        .decide_objection(
            &p,
            &r.request_id,
            &objection,
            r.upheld,
            i64::from(r.correction_points),
            reason,
        )
        .await
        .map_err(to_status)?;
    ok(pb::DecideObjectionResponse {
        objection: Some(objection_to_pb(o)),
    })
}

pub(super) async fn get_objection(
    api: &FeedbackApi,
    request: Request<pb::GetObjectionRequest>,
) -> R<pb::GetObjectionResponse> {
    let p = who(&request)?;
    let objection = id("objection_id", &request.get_ref().objection_id)?;
    let o = api.app.get_objection(&p, &objection).await.map_err(to_status)?;
    ok(pb::GetObjectionResponse {
        objection: Some(objection_to_pb(o)),
    })
}

pub(super) async fn list_objections(
    api: &FeedbackApi,
    request: Request<pb::ListObjectionsRequest>,
) -> R<pb::ListObjectionsResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let org = optional_id("org_id", &r.org_id)?;
    let page = page(r.page_size, &r.page_token)?;
    let filter = ObjectionFilter {
        status: match known::<pb::ObjectionStatus>("status", r.status)? {
            pb::ObjectionStatus::Unspecified => None,
            pb::ObjectionStatus::Open => Some(ObjectionStatus::Open),
            pb::ObjectionStatus::Assigned => Some(ObjectionStatus::Assigned),
            pb::ObjectionStatus::Upheld => Some(ObjectionStatus::Upheld),
            pb::ObjectionStatus::Rejected => Some(ObjectionStatus::Rejected),
        },
        raised: DateWindow::parse("raised", r.raised.as_ref())?,
    };
    let (objections, next) = api
        .app
        .list_objections(&p, &org, &filter, &page)
        .await
        .map_err(to_status)?;
    ok(pb::ListObjectionsResponse {
        objections: objections.into_iter().map(objection_to_pb).collect(),
        next_page_token: next,
    })
}

pub(super) async fn draw_spot_check(
    api: &FeedbackApi,
    request: Request<pb::DrawSpotCheckRequest>,
) -> R<pb::DrawSpotCheckResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let unit = id("unit_org_id", &r.unit_org_id)?;
    let year = the_year("year", r.year)?;
    let percent =
        u32::try_from(r.sample_percent).map_err(|_| err::invalid_field("sample_percent", "must not be negative"))?;
    let seed = words("seed", &r.seed, 100, false)?;
    let check = api
        .app
        .draw_spot_check(&p, &r.request_id, &unit, year, percent, seed)
        .await
        .map_err(to_status)?;
    ok(pb::DrawSpotCheckResponse {
        spot_check: Some(spot_check_to_pb(check)),
    })
}

pub(super) async fn record_spot_check_outcome(
    api: &FeedbackApi,
    request: Request<pb::RecordSpotCheckOutcomeRequest>,
) -> R<pb::RecordSpotCheckOutcomeResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let check = id("spot_check_id", &r.spot_check_id)?;
    let member = id("member_id", &r.member_id)?;
    let method = method_from_pb(r.method).ok_or_else(|| err::invalid_field("method", "must be VISITED or PHONED"))?;
    let findings = words("findings", &r.findings, 1000, true)?;
    let check = api
        .app
        .record_outcome(&p, &check, &member, method, findings)
        .await
        .map_err(to_status)?;
    ok(pb::RecordSpotCheckOutcomeResponse {
        spot_check: Some(spot_check_to_pb(check)),
    })
}

pub(super) async fn get_spot_check(
    api: &FeedbackApi,
    request: Request<pb::GetSpotCheckRequest>,
) -> R<pb::GetSpotCheckResponse> {
    let p = who(&request)?;
    let check = id("spot_check_id", &request.get_ref().spot_check_id)?;
    let check = api.app.get_spot_check(&p, &check).await.map_err(to_status)?;
    ok(pb::GetSpotCheckResponse {
        spot_check: Some(spot_check_to_pb(check)),
    })
}
