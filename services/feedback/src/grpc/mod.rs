//! The gRPC layer: proto → domain (failures name the field), call
//! [`Feedback`], domain → proto. Prost types stop here.

pub mod access;
mod convert;
mod feed;
mod objections;
mod ratings;
mod summary;
mod warnings;

use std::pin::Pin;
use std::time::Duration;

use dualreport_platform::auth::{Principal, principal};
use dualreport_platform::error as err;
use dualreport_platform::validate::{Violations, id, known, optional_id, text};
use dualreport_platform::wire::{date_from_pb, page};
use dualreport_proto::common::v1::ErrorReason;
use dualreport_proto::feedback::v1 as pb;
use dualreport_proto::feedback::v1::feedback_service_server::FeedbackService;
use futures::Stream;
use tonic::{Code, Request, Response, Status};

use crate::app::Feedback;
use crate::domain::{FeedbackError, Period, china_today, parse_cursor, year};
use convert::*;
use dualreport_tables::Table;
use dualreport_webhook::Poster;

pub struct FeedbackApi {
    app: Feedback,
    poster: Poster,
    watch_poll: Duration,
}

impl FeedbackApi {
    pub fn new(app: Feedback, poster: Poster, watch_poll: Duration) -> Self {
        Self {
            app,
            poster,
            watch_poll,
        }
    }
}

/// Every domain error → status, exhaustively: a new variant is a compile error here.
fn to_status(error: FeedbackError) -> Status {
    use ErrorReason as E;
    use FeedbackError as F;
    match error {
        F::Common(failure) => failure.into(),
        F::NotRegistered(m) => err::status(Code::FailedPrecondition, E::NotRegistered, m),
        F::NotPaired(m) => err::status(Code::FailedPrecondition, E::NotPaired, m),
        F::Unavailable(m) => err::status(Code::Unavailable, E::UpstreamUnavailable, m),
    }
}

fn words(name: &str, value: &str, max: usize, required: bool) -> Result<String, Status> {
    Ok(text(name, value, max, required)?)
}

/// Multi-line text (notice bodies): newlines and tabs allowed.
fn long_text(name: &str, value: &str, max: usize) -> Result<String, Status> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(err::invalid_field(name, format!("must be at most {max} characters")));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(err::invalid_field(name, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

fn the_year(name: &str, value: i32) -> Result<i32, Status> {
    Ok(year(name, value, china_today())?)
}

fn any_year(value: i32) -> Result<i32, Status> {
    if value == 0 { Ok(0) } else { the_year("year", value) }
}

fn period(p: Option<&pb::Period>) -> Result<Period, Status> {
    let p = p.ok_or_else(|| err::invalid_field("period", "is required"))?;
    Ok(Period::new(p.year, p.half, china_today())?)
}

fn ids(name: &str, values: &[String]) -> Result<Vec<String>, Status> {
    if values.len() > 20 {
        return Err(err::invalid_field(name, "at most 20"));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| Ok(id(&format!("{name}[{i}]"), v)?))
        .collect()
}

type R<T> = Result<Response<T>, Status>;

fn ok<T>(value: T) -> R<T> {
    Ok(Response::new(value))
}

fn who<T>(request: &Request<T>) -> Result<Principal, Status> {
    principal(request)
}

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::WatchEventsResponse, Status>> + Send>>;
type DownloadStream = Pin<Box<dyn Stream<Item = Result<pb::DownloadTableResponse, Status>> + Send>>;

#[tonic::async_trait]
impl FeedbackService for FeedbackApi {
    async fn get_summary_table(&self, request: Request<pb::GetSummaryTableRequest>) -> R<pb::GetSummaryTableResponse> {
        summary::get_summary_table(self, request).await
    }

    async fn comment_on_member(&self, request: Request<pb::CommentOnMemberRequest>) -> R<pb::CommentOnMemberResponse> {
        summary::comment_on_member(self, request).await
    }

    async fn send_notice(&self, request: Request<pb::SendNoticeRequest>) -> R<pb::SendNoticeResponse> {
        summary::send_notice(self, request).await
    }

    async fn get_notice(&self, request: Request<pb::GetNoticeRequest>) -> R<pb::GetNoticeResponse> {
        summary::get_notice(self, request).await
    }

    async fn list_notices(&self, request: Request<pb::ListNoticesRequest>) -> R<pb::ListNoticesResponse> {
        summary::list_notices(self, request).await
    }

    async fn acknowledge_notice(
        &self,
        request: Request<pb::AcknowledgeNoticeRequest>,
    ) -> R<pb::AcknowledgeNoticeResponse> {
        summary::acknowledge_notice(self, request).await
    }

    async fn batch_acknowledge_notices(
        &self,
        request: Request<pb::BatchAcknowledgeNoticesRequest>,
    ) -> R<pb::BatchAcknowledgeNoticesResponse> {
        summary::batch_acknowledge_notices(self, request).await
    }

    async fn rate_unit(&self, request: Request<pb::RateUnitRequest>) -> R<pb::RateUnitResponse> {
        ratings::rate_unit(self, request).await
    }

    async fn list_unit_ratings(&self, request: Request<pb::ListUnitRatingsRequest>) -> R<pb::ListUnitRatingsResponse> {
        ratings::list_unit_ratings(self, request).await
    }

    async fn get_performance_card(
        &self,
        request: Request<pb::GetPerformanceCardRequest>,
    ) -> R<pb::GetPerformanceCardResponse> {
        ratings::get_performance_card(self, request).await
    }

    async fn raise_objection(&self, request: Request<pb::RaiseObjectionRequest>) -> R<pb::RaiseObjectionResponse> {
        objections::raise_objection(self, request).await
    }

    async fn assign_objection(&self, request: Request<pb::AssignObjectionRequest>) -> R<pb::AssignObjectionResponse> {
        objections::assign_objection(self, request).await
    }

    async fn add_investigation_note(
        &self,
        request: Request<pb::AddInvestigationNoteRequest>,
    ) -> R<pb::AddInvestigationNoteResponse> {
        objections::add_investigation_note(self, request).await
    }

    async fn decide_objection(&self, request: Request<pb::DecideObjectionRequest>) -> R<pb::DecideObjectionResponse> {
        objections::decide_objection(self, request).await
    }

    async fn get_objection(&self, request: Request<pb::GetObjectionRequest>) -> R<pb::GetObjectionResponse> {
        objections::get_objection(self, request).await
    }

    async fn list_objections(&self, request: Request<pb::ListObjectionsRequest>) -> R<pb::ListObjectionsResponse> {
        objections::list_objections(self, request).await
    }

    async fn draw_spot_check(&self, request: Request<pb::DrawSpotCheckRequest>) -> R<pb::DrawSpotCheckResponse> {
        objections::draw_spot_check(self, request).await
    }

    async fn record_spot_check_outcome(
        &self,
        request: Request<pb::RecordSpotCheckOutcomeRequest>,
    ) -> R<pb::RecordSpotCheckOutcomeResponse> {
        objections::record_spot_check_outcome(self, request).await
    }

    async fn get_spot_check(&self, request: Request<pb::GetSpotCheckRequest>) -> R<pb::GetSpotCheckResponse> {
        objections::get_spot_check(self, request).await
    }

    async fn evaluate_warnings(
        &self,
        request: Request<pb::EvaluateWarningsRequest>,
    ) -> R<pb::EvaluateWarningsResponse> {
        warnings::evaluate_warnings(self, request).await
    }

    async fn list_warnings(&self, request: Request<pb::ListWarningsRequest>) -> R<pb::ListWarningsResponse> {
        warnings::list_warnings(self, request).await
    }

    async fn get_eligibility(&self, request: Request<pb::GetEligibilityRequest>) -> R<pb::GetEligibilityResponse> {
        warnings::get_eligibility(self, request).await
    }

    type WatchEventsStream = EventStream;

    async fn watch_events(&self, request: Request<pb::WatchEventsRequest>) -> R<Self::WatchEventsStream> {
        feed::watch_events(self, request).await
    }

    async fn set_webhook(&self, request: Request<pb::SetWebhookRequest>) -> R<pb::SetWebhookResponse> {
        feed::set_webhook(self, request).await
    }

    async fn get_webhook(&self, request: Request<pb::GetWebhookRequest>) -> R<pb::GetWebhookResponse> {
        feed::get_webhook(self, request).await
    }

    async fn list_failed_deliveries(
        &self,
        request: Request<pb::ListFailedDeliveriesRequest>,
    ) -> R<pb::ListFailedDeliveriesResponse> {
        feed::list_failed_deliveries(self, request).await
    }

    async fn replay_delivery(&self, request: Request<pb::ReplayDeliveryRequest>) -> R<pb::ReplayDeliveryResponse> {
        feed::replay_delivery(self, request).await
    }

    async fn export_table(&self, request: Request<pb::ExportTableRequest>) -> R<pb::ExportTableResponse> {
        summary::export_table(self, request).await
    }

    type DownloadTableStream = DownloadStream;

    async fn download_table(&self, request: Request<pb::DownloadTableRequest>) -> R<DownloadStream> {
        let (metadata, extensions, message) = request.into_parts();
        let table = message.table.unwrap_or_default();
        summary::download_table(self, Request::from_parts(metadata, extensions, table)).await
    }
}

fn render(
    table: &Table,
    format: pb::ExportFormat,
    base: &str,
    incomplete: bool,
) -> Result<pb::ExportTableResponse, Status> {
    let (content, extension, content_type) = match format {
        pb::ExportFormat::Xlsx => (
            dualreport_tables::xlsx(table).map_err(|e| err::internal(&e))?,
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => (dualreport_tables::csv(table), "csv", "text/csv; charset=utf-8"),
    };
    Ok(pb::ExportTableResponse {
        file_name: format!("{base}.{extension}"),
        content_type: content_type.to_owned(),
        content,
        incomplete,
    })
}
