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
