//! The national volunteer-service record: parse, call the use case, stream.

use super::*;
use crate::domain::record::{RecordStatus, VolunteerRecord, csv};

pub(super) type ExportStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<pb::ExportVolunteerRecordsResponse, Status>> + Send + 'static>>;

fn chunk(records: &[VolunteerRecord], json: bool, first: bool) -> Vec<u8> {
    if json {
        records
            .iter()
            .map(VolunteerRecord::json_line)
            .collect::<String>()
            .into_bytes()
    } else {
        csv(records, first)
    }
}

pub(super) async fn export_volunteer_records(
    api: &VolunteeringApi,
    request: Request<pb::ExportVolunteerRecordsRequest>,
) -> R<ExportStream> {
    let p = principal(&request)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let community = v.check(id("community_id", &r.community_id));
    if r.served.is_none() {
        v.add("served", "is required: the service days to export");
    }
    let window = v.check(DateWindow::parse("served", r.served.as_ref()));
    let json = match pb::RecordFormat::try_from(r.format) {
        Ok(pb::RecordFormat::JsonLines) => true,
        Ok(pb::RecordFormat::Csv | pb::RecordFormat::Unspecified) => false,
        Err(_) => {
            v.add("format", format!("{} is not a value of this enum", r.format));
            false
        }
    };
    if !v.is_empty() {
        return Err(err::invalid_fields(&v.0));
    }
    let (community, window) = (community.unwrap_or_default(), window.unwrap_or_default());
    // The first page now: a refusal is the call's status, not a broken stream.
    let (records, next) = api
        .app
        .volunteer_records(&p, &community, &window, r.include_sent, "")
        .await
        .map_err(to_status)?;
    let (first_day, last_day) = window.days();
    let first = pb::ExportVolunteerRecordsResponse {
        file_name: format!(
            "志愿服务记录-{community}-{first_day}-{last_day}.{}",
            if json { "jsonl" } else { "csv" }
        ),
        content_type: if json {
            "application/x-ndjson; charset=utf-8".into()
        } else {
            "text/csv; charset=utf-8".into()
        },
        chunk: chunk(&records, json, true),
        records: i32::try_from(records.len()).unwrap_or(i32::MAX),
    };
    let app = api.app.clone();
    let include_sent = r.include_sent;
    let rest = futures::stream::try_unfold(next, move |after| {
        let (app, p, community, window) = (app.clone(), p.clone(), community.clone(), window);
        async move {
            if after.is_empty() {
                return Ok(None);
            }
            let (records, next) = app
                .volunteer_records(&p, &community, &window, include_sent, &after)
                .await
                .map_err(to_status)?;
            let message = pb::ExportVolunteerRecordsResponse {
                chunk: chunk(&records, json, false),
                records: i32::try_from(records.len()).unwrap_or(i32::MAX),
                ..Default::default()
            };
            Ok(Some((message, next)))
        }
    });
    let stream = futures::stream::StreamExt::chain(futures::stream::iter([Ok(first)]), rest);
    Ok(Response::new(Box::pin(stream)))
}

pub(super) async fn mark_volunteer_records(
    api: &VolunteeringApi,
    request: Request<pb::MarkVolunteerRecordsRequest>,
) -> R<pb::MarkVolunteerRecordsResponse> {
    let p = principal(&request)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let community = v.check(id("community_id", &r.community_id));
    if r.record_ids.is_empty() || r.record_ids.len() > 1000 {
        v.add("record_ids", "must hold 1 to 1000 record ids");
    }
    let status = match pb::VolunteerRecordStatus::try_from(r.status) {
        Ok(pb::VolunteerRecordStatus::Sent) => RecordStatus::Sent,
        Ok(pb::VolunteerRecordStatus::Failed) => RecordStatus::Failed,
        _ => {
            v.add("status", "must be VOLUNTEER_RECORD_STATUS_SENT or _FAILED");
            RecordStatus::New
        }
    };
    let error = v.check(text("error", &r.error, 500, false));
    if !v.is_empty() {
        return Err(err::invalid_fields(&v.0));
    }
    let marked = api
        .app
        .mark_volunteer_records(
            &p,
            &community.unwrap_or_default(),
            &r.record_ids,
            status,
            &error.unwrap_or_default(),
        )
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::MarkVolunteerRecordsResponse {
        marked: i32::try_from(marked).unwrap_or(i32::MAX),
    }))
}

pub(super) async fn issue_service_certificate(
    api: &VolunteeringApi,
    request: Request<pb::IssueServiceCertificateRequest>,
) -> R<pb::IssueServiceCertificateResponse> {
    let p = principal(&request)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let community = v.check(id("community_id", &r.community_id));
    let member = v.check(id("member_id", &r.member_id));
    match &r.served {
        Some(range) if range.first.is_some() && range.last.is_some() => {}
        _ => v.add(
            "served",
            "needs both days: the first and the last service day the certificate covers",
        ),
    }
    let window = v.check(DateWindow::parse("served", r.served.as_ref()));
    if !v.is_empty() {
        return Err(err::invalid_fields(&v.0));
    }
    let (row, pdf) = api
        .app
        .issue_certificate(
            &p,
            &r.request_id,
            &community.unwrap_or_default(),
            &member.unwrap_or_default(),
            &window.unwrap_or_default(),
        )
        .await
        .map_err(to_status)?;
    let day = |text: &str| {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .map(dualreport_platform::wire::date_to_pb)
    };
    Ok(Response::new(pb::IssueServiceCertificateResponse {
        file_name: format!("{}.pdf", row.number),
        certificate: Some(pb::ServiceCertificate {
            served: Some(dualreport_proto::common::v1::DateRange {
                first: day(&row.first_day),
                last: day(&row.last_day),
            }),
            services: i32::try_from(row.services).unwrap_or(i32::MAX),
            hours: crate::domain::record::hours_text(row.hundredths),
            issue_time: Some(dualreport_platform::wire::timestamp(row.issued_at)),
            number: row.number,
            community_id: row.community_id,
            community_name: row.community_name,
            member_id: row.member_id,
            member_name: row.member_name,
            issued_by: row.issued_by,
        }),
        pdf,
    }))
}
