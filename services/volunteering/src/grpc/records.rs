//! Evidence and unit service records: parse, call the use case, answer.

use super::*;

pub(super) async fn upload_evidence(
    api: &VolunteeringApi,
    request: Request<pb::UploadEvidenceRequest>,
) -> R<pb::UploadEvidenceResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let community_id = id("community_id", &req.community_id)?;
    let kind = evidence_kind_from_pb(req.kind)?;
    let text = text("text", &req.text, api.app.rules().evidence.max_text_chars, false)?;
    let evidence = api
        .app
        .upload_evidence(
            &p,
            &req.request_id,
            &community_id,
            kind,
            &req.content_type,
            bytes::Bytes::from(req.data),
            text,
        )
        .await
        .map_err(to_status)?;
    ok(pb::UploadEvidenceResponse {
        evidence: Some(evidence_to_pb(evidence)),
    })
}

pub(super) async fn get_evidence(
    api: &VolunteeringApi,
    request: Request<pb::GetEvidenceRequest>,
) -> R<pb::GetEvidenceResponse> {
    let p = principal(&request)?;
    let evidence_id = id("evidence_id", &request.get_ref().evidence_id)?;
    let (evidence, data) = api
        .app
        .get_evidence(&p, &evidence_id, request.get_ref().include_data)
        .await
        .map_err(to_status)?;
    ok(pb::GetEvidenceResponse {
        evidence: Some(evidence_to_pb(evidence)),
        data: data.to_vec(),
    })
}

pub(super) async fn record_unit_service(
    api: &VolunteeringApi,
    request: Request<pb::RecordUnitServiceRequest>,
) -> R<pb::RecordUnitServiceResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let served_on = req
        .served_on
        .as_ref()
        .and_then(date_from_pb)
        .ok_or_else(|| err::invalid_field("served_on", "must be a calendar date"))?;
    if served_on > china_today() {
        return Err(err::invalid_field("served_on", "must not be in the future"));
    }
    let record = UnitRecord {
        id: new_id(),
        kind: unit_service_kind_from_pb(req.kind)?,
        unit_org_id: id("unit_org_id", &req.unit_org_id)?,
        community_id: id("community_id", &req.community_id)?,
        served_on,
        content: words("content", &req.content, true)?,
        minutes: minutes("minutes", req.minutes)?,
        agreement_id: optional_id("agreement_id", &req.agreement_id)?,
        evidence_ids: evidence_ids("evidence_ids", &req.evidence_ids, false)?,
        recorded_by: p.subject.clone(),
        created_at: now_millis(),
    };
    let record = api
        .app
        .record_unit_service(&p, &req.request_id, record)
        .await
        .map_err(to_status)?;
    ok(pb::RecordUnitServiceResponse {
        record: Some(unit_record_to_pb(record)),
    })
}

pub(super) async fn list_unit_records(
    api: &VolunteeringApi,
    request: Request<pb::ListUnitRecordsRequest>,
) -> R<pb::ListUnitRecordsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let unit_org_id = id("unit_org_id", &req.unit_org_id)?;
    let year = any_year(req.year)?;
    let page = page(req.page_size, &req.page_token)?;
    let (records, next_page_token) = api
        .app
        .list_unit_records(&p, &unit_org_id, year, &page)
        .await
        .map_err(to_status)?;
    ok(pb::ListUnitRecordsResponse {
        records: records.into_iter().map(unit_record_to_pb).collect(),
        next_page_token,
    })
}
