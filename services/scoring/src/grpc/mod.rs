//! The gRPC layer: proto → domain (failures name the field), call
//! [`Scoring`], domain → proto. Prost types stop here.

pub mod access;
mod convert;
mod ledger;
mod settlement;
mod supermarket;

use dualreport_platform::auth::principal;
use dualreport_platform::error::{self as err, FieldError};
use dualreport_platform::validate::{Violations, known, text};
use dualreport_platform::wire::page;
use dualreport_proto::common::v1::ErrorReason;
use dualreport_proto::scoring::v1 as pb;
use dualreport_proto::scoring::v1::scoring_service_server::ScoringService;
use tonic::{Code, Request, Response, Status};

use crate::app::{Correction, ItemChange, ProjectAward, Scoring, ServiceAward, SpecialAward};
use crate::domain::market::{self, Item};
use crate::domain::settlement::{SettlementStatus, SettlementsOf};
use crate::domain::{ScoringError, id, now_millis};
use crate::storage::{BoardCursor, LineCursor};
use convert::*;
use dualreport_platform::paging::PageRequest;

pub struct ScoringApi {
    scoring: Scoring,
}

impl ScoringApi {
    pub fn new(scoring: Scoring) -> Self {
        Self { scoring }
    }
}

/// Every domain error → status, exhaustively: a new variant is a compile error here.
fn to_status(error: ScoringError) -> Status {
    use ErrorReason as E;
    match error {
        ScoringError::Common(failure) => failure.into(),
        ScoringError::NotRegistered(m) => err::status(Code::FailedPrecondition, E::NotRegistered, m),
        e @ ScoringError::PeriodNotEnded(_) => err::status(Code::FailedPrecondition, E::PeriodNotEnded, e.to_string()),
        e @ ScoringError::NothingChanged(..) => err::status(Code::FailedPrecondition, E::NothingChanged, e.to_string()),
        ScoringError::InsufficientPoints(m) => err::status(Code::FailedPrecondition, E::InsufficientPoints, m),
        ScoringError::OutOfStock(m) => err::status(Code::FailedPrecondition, E::OutOfStock, m),
        ScoringError::CapExceeded(m) => err::status(Code::FailedPrecondition, E::CapExceeded, m),
        e @ ScoringError::SourceKeyReused(_) => err::status(Code::AlreadyExists, E::SourceKeyReused, e.to_string()),
        ScoringError::Unavailable(m) => err::status(Code::Unavailable, E::UpstreamUnavailable, m),
    }
}

fn field(result: Result<String, FieldError>) -> Result<String, Status> {
    result.map_err(bad)
}

/// The source key every award carries; falls back to nothing.
fn source_key(value: &str) -> Result<String, Status> {
    field(text("source_key", value, 200, true))
}

fn content(name: &str, value: &str) -> Result<String, Status> {
    field(text(name, value, 500, true))
}

fn i64_of(value: i32) -> i64 {
    i64::from(value)
}

/// The keyset cursor a page token holds (none on the first page).
fn cursor<T>(page: &PageRequest, decode: fn(&str) -> Option<T>) -> Result<Option<T>, Status> {
    if page.after.is_empty() {
        return Ok(None);
    }
    decode(&page.after)
        .map(Some)
        .ok_or_else(|| bad(FieldError::new("page_token", "is not a token this service issued")))
}

type R<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl ScoringService for ScoringApi {
    async fn record_service(&self, request: Request<pb::RecordServiceRequest>) -> R<pb::RecordServiceResponse> {
        ledger::record_service(self, request).await
    }

    async fn batch_record_services(
        &self,
        request: Request<pb::BatchRecordServicesRequest>,
    ) -> R<pb::BatchRecordServicesResponse> {
        ledger::batch_record_services(self, request).await
    }

    async fn record_special(&self, request: Request<pb::RecordSpecialRequest>) -> R<pb::RecordSpecialResponse> {
        ledger::record_special(self, request).await
    }

    async fn record_project_score(
        &self,
        request: Request<pb::RecordProjectScoreRequest>,
    ) -> R<pb::RecordProjectScoreResponse> {
        ledger::record_project_score(self, request).await
    }

    async fn record_correction(
        &self,
        request: Request<pb::RecordCorrectionRequest>,
    ) -> R<pb::RecordCorrectionResponse> {
        ledger::record_correction(self, request).await
    }

    async fn get_entry(&self, request: Request<pb::GetEntryRequest>) -> R<pb::GetEntryResponse> {
        ledger::get_entry(self, request).await
    }

    async fn list_entries(&self, request: Request<pb::ListEntriesRequest>) -> R<pb::ListEntriesResponse> {
        ledger::list_entries(self, request).await
    }

    async fn list_member_totals(
        &self,
        request: Request<pb::ListMemberTotalsRequest>,
    ) -> R<pb::ListMemberTotalsResponse> {
        ledger::list_member_totals(self, request).await
    }

    async fn get_balance(&self, request: Request<pb::GetBalanceRequest>) -> R<pb::GetBalanceResponse> {
        ledger::get_balance(self, request).await
    }

    async fn settle_period(&self, request: Request<pb::SettlePeriodRequest>) -> R<pb::SettlePeriodResponse> {
        settlement::settle_period(self, request).await
    }

    async fn review_settlement(
        &self,
        request: Request<pb::ReviewSettlementRequest>,
    ) -> R<pb::ReviewSettlementResponse> {
        settlement::review_settlement(self, request).await
    }

    async fn publish_settlement(
        &self,
        request: Request<pb::PublishSettlementRequest>,
    ) -> R<pb::PublishSettlementResponse> {
        settlement::publish_settlement(self, request).await
    }

    async fn get_settlement(&self, request: Request<pb::GetSettlementRequest>) -> R<pb::GetSettlementResponse> {
        settlement::get_settlement(self, request).await
    }

    async fn list_settlement_lines(
        &self,
        request: Request<pb::ListSettlementLinesRequest>,
    ) -> R<pb::ListSettlementLinesResponse> {
        settlement::list_settlement_lines(self, request).await
    }

    async fn list_settlements(&self, request: Request<pb::ListSettlementsRequest>) -> R<pb::ListSettlementsResponse> {
        settlement::list_settlements(self, request).await
    }

    async fn get_board(&self, request: Request<pb::GetBoardRequest>) -> R<pb::GetBoardResponse> {
        settlement::get_board(self, request).await
    }

    async fn get_board_statistics(
        &self,
        request: Request<pb::GetBoardStatisticsRequest>,
    ) -> R<pb::GetBoardStatisticsResponse> {
        settlement::get_board_statistics(self, request).await
    }

    async fn get_registration_table(
        &self,
        request: Request<pb::GetRegistrationTableRequest>,
    ) -> R<pb::GetRegistrationTableResponse> {
        settlement::get_registration_table(self, request).await
    }

    async fn create_item(&self, request: Request<pb::CreateItemRequest>) -> R<pb::CreateItemResponse> {
        supermarket::create_item(self, request).await
    }

    async fn update_item(&self, request: Request<pb::UpdateItemRequest>) -> R<pb::UpdateItemResponse> {
        supermarket::update_item(self, request).await
    }

    async fn list_items(&self, request: Request<pb::ListItemsRequest>) -> R<pb::ListItemsResponse> {
        supermarket::list_items(self, request).await
    }

    async fn redeem(&self, request: Request<pb::RedeemRequest>) -> R<pb::RedeemResponse> {
        supermarket::redeem(self, request).await
    }

    async fn cancel_redemption(
        &self,
        request: Request<pb::CancelRedemptionRequest>,
    ) -> R<pb::CancelRedemptionResponse> {
        supermarket::cancel_redemption(self, request).await
    }

    async fn list_redemptions(&self, request: Request<pb::ListRedemptionsRequest>) -> R<pb::ListRedemptionsResponse> {
        supermarket::list_redemptions(self, request).await
    }

    async fn get_scoring_rules(&self, request: Request<pb::GetScoringRulesRequest>) -> R<pb::GetScoringRulesResponse> {
        ledger::get_scoring_rules(self, request).await
    }
}
