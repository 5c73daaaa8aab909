//! Summary tables, comments and notices: parse, call the use case, answer.

use super::*;
use crate::domain::model::NoticeStatus;

pub(super) async fn get_summary_table(
    api: &FeedbackApi,
    request: Request<pb::GetSummaryTableRequest>,
) -> R<pb::GetSummaryTableResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let unit = id("unit_org_id", &r.unit_org_id)?;
    let community = optional_id("community_id", &r.community_id)?;
    let period = period(r.period.as_ref())?;
    let table = api
        .app
        .summary_table(&p, &unit, &community, period)
        .await
        .map_err(to_status)?;
    ok(pb::GetSummaryTableResponse {
        table: Some(summary_to_pb(table)),
    })
}

pub(super) async fn comment_on_member(
    api: &FeedbackApi,
    request: Request<pb::CommentOnMemberRequest>,
) -> R<pb::CommentOnMemberResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let (community, member, comment) = (
        v.check(id("community_id", &r.community_id)),
        v.check(id("member_id", &r.member_id)),
        v.check(text("comment", &r.comment, 500, true)),
    );
    let (Some(community), Some(member), Some(comment)) = (community, member, comment) else {
        return Err(err::invalid_fields(&v.0));
    };
    let period = period(r.period.as_ref())?;
    let c = api
        .app
        .comment_on_member(&p, &community, &member, period, comment)
        .await
        .map_err(to_status)?;
    ok(pb::CommentOnMemberResponse {
        comment: Some(comment_to_pb(c)),
    })
}

pub(super) async fn send_notice(
    api: &FeedbackApi,
    request: Request<pb::SendNoticeRequest>,
) -> R<pb::SendNoticeResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let (community, unit, title) = (
        v.check(id("community_id", &r.community_id)),
        v.check(id("unit_org_id", &r.unit_org_id)),
        v.check(text("title", &r.title, 100, true)),
    );
    let (Some(community), Some(unit), Some(title)) = (community, unit, title) else {
        return Err(err::invalid_fields(&v.0));
    };
    let body = long_text("body", &r.body, 5000)?;
    let period = period(r.period.as_ref())?;
    let notice = api
        .app
        .send_notice(&p, &r.request_id, &community, &unit, period, title, body, r.urgent)
        .await
        .map_err(to_status)?;
    ok(pb::SendNoticeResponse {
        notice: Some(notice_to_pb(notice)),
    })
}

pub(super) async fn get_notice(api: &FeedbackApi, request: Request<pb::GetNoticeRequest>) -> R<pb::GetNoticeResponse> {
    let p = who(&request)?;
    let notice_id = id("notice_id", &request.get_ref().notice_id)?;
    let notice = api.app.get_notice(&p, &notice_id).await.map_err(to_status)?;
    ok(pb::GetNoticeResponse {
        notice: Some(notice_to_pb(notice)),
    })
}

pub(super) async fn list_notices(
    api: &FeedbackApi,
    request: Request<pb::ListNoticesRequest>,
) -> R<pb::ListNoticesResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let org = optional_id("org_id", &r.org_id)?;
    let year = any_year(r.year)?;
    let page = page(r.page_size, &r.page_token)?;
    let status = match known::<pb::NoticeStatus>("status", r.status)? {
        pb::NoticeStatus::Unspecified => None,
        pb::NoticeStatus::Sent => Some(NoticeStatus::Sent),
        pb::NoticeStatus::Acknowledged => Some(NoticeStatus::Acknowledged),
    };
    let (notices, next) = api
        .app
        .list_notices(&p, &org, year, status, &page)
        .await
        .map_err(to_status)?;
    ok(pb::ListNoticesResponse {
        notices: notices.into_iter().map(notice_to_pb).collect(),
        next_page_token: next,
    })
}

pub(super) async fn acknowledge_notice(
    api: &FeedbackApi,
    request: Request<pb::AcknowledgeNoticeRequest>,
) -> R<pb::AcknowledgeNoticeResponse> {
    let p = who(&request)?;
    let notice = acknowledge_one(api, &p, request.get_ref()).await?;
    ok(pb::AcknowledgeNoticeResponse { notice: Some(notice) })
}

async fn acknowledge_one(
    api: &FeedbackApi,
    p: &Principal,
    req: &pb::AcknowledgeNoticeRequest,
) -> Result<pb::Notice, Status> {
    let notice_id = id("notice_id", &req.notice_id)?;
    let notice = api.app.acknowledge_notice(p, &notice_id).await.map_err(to_status)?;
    Ok(notice_to_pb(notice))
}

/// A unit's receipts (回执) for many notices, each as `AcknowledgeNotice` would.
pub(super) async fn batch_acknowledge_notices(
    api: &FeedbackApi,
    request: Request<pb::BatchAcknowledgeNoticesRequest>,
) -> R<pb::BatchAcknowledgeNoticesResponse> {
    let p = who(&request)?;
    let results = dualreport_platform::batch::each(
        "requests",
        request.into_inner().requests,
        |item| {
            let p = &p;
            async move { acknowledge_one(api, p, &item).await }
        },
        |outcome| {
            let (notice, error) = dualreport_platform::batch::split(outcome);
            pb::AcknowledgeNoticeResult { notice, error }
        },
    )
    .await?;
    ok(pb::BatchAcknowledgeNoticesResponse { results })
}

pub(super) async fn export_table(
    api: &FeedbackApi,
    request: Request<pb::ExportTableRequest>,
) -> R<pb::ExportTableResponse> {
    let p = who(&request)?;
    ok(build_table(api, &p, request.into_inner()).await?)
}

/// The bytes of one `DownloadTable` message at most: well inside any
/// client's default 4 MiB message limit.
pub(super) const DOWNLOAD_CHUNK_BYTES: usize = 256 * 1024;

/// The same file as `ExportTable`, streamed in chunks of at most
/// [`DOWNLOAD_CHUNK_BYTES`]; the first message names it.
pub(super) async fn download_table(api: &FeedbackApi, request: Request<pb::ExportTableRequest>) -> R<DownloadStream> {
    let p = who(&request)?;
    let file = build_table(api, &p, request.into_inner())
        .await
        .map_err(|status| err::nested("table", status))?;
    let chunks: Vec<pb::DownloadTableResponse> = file
        .content
        .chunks(DOWNLOAD_CHUNK_BYTES)
        .enumerate()
        .map(|(i, chunk)| pb::DownloadTableResponse {
            file_name: if i == 0 { file.file_name.clone() } else { String::new() },
            content_type: if i == 0 {
                file.content_type.clone()
            } else {
                String::new()
            },
            incomplete: i == 0 && file.incomplete,
            chunk: chunk.to_vec(),
        })
        .collect();
    ok(Box::pin(futures::stream::iter(chunks.into_iter().map(Ok))))
}

async fn build_table(
    api: &FeedbackApi,
    p: &Principal,
    r: pb::ExportTableRequest,
) -> Result<pb::ExportTableResponse, Status> {
    let format = pb::ExportFormat::try_from(r.format).unwrap_or(pb::ExportFormat::Unspecified);
    if format == pb::ExportFormat::Unspecified {
        return Err(err::invalid_field("format", "must be CSV or XLSX"));
    }
    let (table, incomplete, base) = match pb::TableKind::try_from(r.kind).unwrap_or(pb::TableKind::Unspecified) {
        pb::TableKind::Summary => {
            let unit = id("unit_org_id", &r.unit_org_id)?;
            let community = optional_id("community_id", &r.community_id)?;
            let period = period(r.period.as_ref())?;
            let t = api
                .app
                .summary_table(p, &unit, &community, period)
                .await
                .map_err(to_status)?;
            let incomplete = !t.complete();
            let name = format!("summary-{}-{}", t.unit_org_id, t.period.label());
            (crate::tables::summary(&t), incomplete, name)
        }
        pb::TableKind::Objections => {
            let org = optional_id("org_id", &r.org_id)?;
            let objections = api.app.all_objections(p, &org).await.map_err(to_status)?;
            (crate::tables::objections(&objections), false, "objections".to_owned())
        }
        pb::TableKind::Registration => {
            let member = id("member_id", &r.member_id)?;
            let community = id("community_id", &r.community_id)?;
            let period = period(r.period.as_ref())?;
            if period.half == 0 {
                return Err(err::invalid_field(
                    "period.half",
                    "the registration table is per half-year: 1 or 2",
                ));
            }
            let t = api
                .app
                .registration_table(p, &member, &community, period)
                .await
                .map_err(to_status)?;
            let name = format!("registration-{member}-{}", period.label());
            (crate::tables::registration(&t), false, name)
        }
        pb::TableKind::Unspecified => {
            return Err(err::invalid_field(
                "kind",
                "must be SUMMARY, OBJECTIONS or REGISTRATION",
            ));
        }
    };
    render(&table, format, &base, incomplete)
}
