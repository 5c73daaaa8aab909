//! The gRPC layer: proto → domain (failures name the field), call
//! [`Scoring`], domain → proto. Prost types stop here.

pub mod access;
mod convert;

use dualreport_platform::auth::principal;
use dualreport_platform::error::{self as err, FieldError};
use dualreport_platform::validate::{Violations, text};
use dualreport_platform::wire::page;
use dualreport_proto::common::v1::ErrorReason;
use dualreport_proto::scoring::v1 as pb;
use dualreport_proto::scoring::v1::scoring_service_server::ScoringService;
use tonic::{Code, Request, Response, Status};

use crate::app::{Correction, ItemChange, ProjectAward, Scoring, ServiceAward, SpecialAward};
use crate::domain::market::{self, Item};
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
        ScoringError::Invalid(fields) => err::invalid_fields(&fields),
        ScoringError::NotFound { what, id } => err::not_found(what, &id),
        ScoringError::OutOfScope(m) => err::status(Code::PermissionDenied, E::OutOfScope, m),
        ScoringError::NotRegistered(m) => err::status(Code::FailedPrecondition, E::NotRegistered, m),
        ScoringError::WrongState(m) => err::status(Code::FailedPrecondition, E::WrongState, m),
        e @ ScoringError::PeriodNotEnded(_) => err::status(Code::FailedPrecondition, E::PeriodNotEnded, e.to_string()),
        e @ ScoringError::NothingChanged(..) => err::status(Code::FailedPrecondition, E::NothingChanged, e.to_string()),
        ScoringError::InsufficientPoints(m) => err::status(Code::FailedPrecondition, E::InsufficientPoints, m),
        ScoringError::OutOfStock(m) => err::status(Code::FailedPrecondition, E::OutOfStock, m),
        ScoringError::CapExceeded(m) => err::status(Code::FailedPrecondition, E::CapExceeded, m),
        e @ ScoringError::SourceKeyReused(_) => err::status(Code::AlreadyExists, E::SourceKeyReused, e.to_string()),
        ScoringError::Unavailable(m) => err::status(Code::Unavailable, E::UpstreamUnavailable, m),
        ScoringError::Conflict(m) => err::status(Code::Aborted, E::Conflict, m),
        e @ ScoringError::RequestIdReused => err::status(Code::FailedPrecondition, E::RequestIdReused, e.to_string()),
        ScoringError::Internal(e) => err::internal(e.as_ref()),
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
        let p = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let award = (
            v.check(text("source_key", &req.source_key, 200, true)),
            v.check(id("member_id", &req.member_id)),
            v.check(id("community_id", &req.community_id)),
            v.check(text("content", &req.content, 500, true)),
        );
        let served_on = date(req.served_on.as_ref());
        let (Some(source_key), Some(member_id), Some(community_id), Some(content)) = award else {
            return Err(err::invalid_fields(&v.0));
        };
        let entry = self
            .scoring
            .record_service(
                &p,
                ServiceAward {
                    source_key,
                    member_id,
                    community_id,
                    served_on,
                    content,
                    adjustment: i64_of(req.adjustment),
                },
            )
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::RecordServiceResponse {
            entry: Some(entry_to_pb(entry)),
        }))
    }

    async fn record_special(&self, request: Request<pb::RecordSpecialRequest>) -> R<pb::RecordSpecialResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let award = SpecialAward {
            source_key: source_key(&req.source_key)?,
            member_id: field(id("member_id", &req.member_id))?,
            community_id: field(id("community_id", &req.community_id))?,
            occurred_on: date(req.occurred_on.as_ref()),
            category: special_category_from_pb(req.category)?,
            points: i64_of(req.points),
            reason: content("reason", &req.reason)?,
        };
        let entry = self.scoring.record_special(&p, award).await.map_err(to_status)?;
        Ok(Response::new(pb::RecordSpecialResponse {
            entry: Some(entry_to_pb(entry)),
        }))
    }

    async fn record_project_score(
        &self,
        request: Request<pb::RecordProjectScoreRequest>,
    ) -> R<pb::RecordProjectScoreResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let award = ProjectAward {
            source_key: source_key(&req.source_key)?,
            unit_org_id: field(id("unit_org_id", &req.unit_org_id))?,
            community_id: field(id("community_id", &req.community_id))?,
            project_id: field(id("project_id", &req.project_id))?,
            project_name: content("project_name", &req.project_name)?,
            scorer: project_scorer_from_pb(req.scorer)?,
            points: i64_of(req.points),
            scored_on: date(req.scored_on.as_ref()),
        };
        let entry = self.scoring.record_project(&p, award).await.map_err(to_status)?;
        Ok(Response::new(pb::RecordProjectScoreResponse {
            entry: Some(entry_to_pb(entry)),
        }))
    }

    async fn record_correction(
        &self,
        request: Request<pb::RecordCorrectionRequest>,
    ) -> R<pb::RecordCorrectionResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        if req.points == 0 {
            return Err(bad(FieldError::new("points", "must not be zero")));
        }
        let correction = Correction {
            source_key: source_key(&req.source_key)?,
            corrects_entry_id: field(id("corrects_entry_id", &req.corrects_entry_id))?,
            points: i64_of(req.points),
            reason: content("reason", &req.reason)?,
        };
        let (entry, version) = self
            .scoring
            .record_correction(&p, correction)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::RecordCorrectionResponse {
            entry: Some(entry_to_pb(entry)),
            new_settlement_version: version.map(settlement_to_pb),
        }))
    }

    async fn get_entry(&self, request: Request<pb::GetEntryRequest>) -> R<pb::GetEntryResponse> {
        let p = principal(&request)?;
        let entry_id = field(id("entry_id", &request.get_ref().entry_id))?;
        let entry = self.scoring.get_entry(&p, &entry_id).await.map_err(to_status)?;
        Ok(Response::new(pb::GetEntryResponse {
            entry: Some(entry_to_pb(entry)),
        }))
    }

    async fn list_entries(&self, request: Request<pb::ListEntriesRequest>) -> R<pb::ListEntriesResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let subject = subject_from_pb("subject", req.subject.as_ref())?;
        let community = if req.community_id.is_empty() {
            None
        } else {
            Some(field(id("community_id", &req.community_id))?)
        };
        let period = opt_period_from_pb("period", req.period.as_ref())?;
        let page = page(req.page_size, &req.page_token)?;
        let (entries, next_page_token) = self
            .scoring
            .list_entries(&p, &subject, community.as_deref(), period, &page)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ListEntriesResponse {
            entries: entries.into_iter().map(entry_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn list_member_totals(
        &self,
        request: Request<pb::ListMemberTotalsRequest>,
    ) -> R<pb::ListMemberTotalsResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        if req.member_ids.is_empty() || req.member_ids.len() > 1000 {
            return Err(err::invalid_field("member_ids", "must name 1 to 1000 members"));
        }
        let ids = req
            .member_ids
            .iter()
            .enumerate()
            .map(|(i, m)| field(id(&format!("member_ids[{i}]"), m)))
            .collect::<Result<Vec<_>, _>>()?;
        if !(2000..=9998).contains(&req.year) {
            return Err(err::invalid_field("year", "must be between 2000 and 9998"));
        }
        let totals = self
            .scoring
            .member_totals(&p, &ids, req.year)
            .await
            .map_err(to_status)?;
        let clamp = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
        Ok(Response::new(pb::ListMemberTotalsResponse {
            totals: totals
                .into_iter()
                .map(|t| pb::MemberTotals {
                    member_id: t.member_id,
                    services: clamp(t.services),
                    periods: t
                        .periods
                        .into_iter()
                        .map(|(community_id, period, earned, stars)| pb::PeriodPoints {
                            period: Some(period_to_pb(period)),
                            community_id,
                            earned: clamp(earned),
                            stars: clamp(stars),
                        })
                        .collect(),
                })
                .collect(),
        }))
    }

    async fn get_balance(&self, request: Request<pb::GetBalanceRequest>) -> R<pb::GetBalanceResponse> {
        let p = principal(&request)?;
        let subject = subject_from_pb("subject", request.get_ref().subject.as_ref())?;
        let balance = self.scoring.balance(&p, &subject).await.map_err(to_status)?;
        let clamp = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
        Ok(Response::new(pb::GetBalanceResponse {
            subject: Some(subject_to_pb(&subject)),
            lifetime_earned: clamp(balance.accounts.iter().map(|a| a.earned).sum()),
            accounts: balance
                .accounts
                .into_iter()
                .map(|a| pb::Account {
                    earned: clamp(a.earned),
                    redeemed: clamp(a.redeemed),
                    spendable: clamp(a.earned - a.redeemed),
                    community_id: a.community_id,
                })
                .collect(),
            periods: balance
                .periods
                .into_iter()
                .map(|(community_id, period, earned, stars)| pb::PeriodPoints {
                    period: Some(period_to_pb(period)),
                    community_id,
                    earned: clamp(earned),
                    stars: clamp(stars),
                })
                .collect(),
        }))
    }

    async fn settle_period(&self, request: Request<pb::SettlePeriodRequest>) -> R<pb::SettlePeriodResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let community_id = field(id("community_id", &req.community_id))?;
        let period = period_from_pb("period", req.period.as_ref())?;
        let s = self
            .scoring
            .settle(&p, &req.request_id, &community_id, period)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::SettlePeriodResponse {
            settlement: Some(settlement_to_pb(s)),
        }))
    }

    async fn review_settlement(
        &self,
        request: Request<pb::ReviewSettlementRequest>,
    ) -> R<pb::ReviewSettlementResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let settlement_id = field(id("settlement_id", &req.settlement_id))?;
        let recorded_by = field(text("recorded_by", &req.recorded_by, 100, true))?;
        let s = self
            .scoring
            .review(
                &p,
                &req.request_id,
                &settlement_id,
                date(req.assembly_date.as_ref()),
                &recorded_by,
            )
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ReviewSettlementResponse {
            settlement: Some(settlement_to_pb(s)),
        }))
    }

    async fn publish_settlement(
        &self,
        request: Request<pb::PublishSettlementRequest>,
    ) -> R<pb::PublishSettlementResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let settlement_id = field(id("settlement_id", &req.settlement_id))?;
        let s = self
            .scoring
            .publish(&p, &req.request_id, &settlement_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::PublishSettlementResponse {
            settlement: Some(settlement_to_pb(s)),
        }))
    }

    async fn get_settlement(&self, request: Request<pb::GetSettlementRequest>) -> R<pb::GetSettlementResponse> {
        let p = principal(&request)?;
        let settlement_id = field(id("settlement_id", &request.get_ref().settlement_id))?;
        let s = self
            .scoring
            .get_settlement(&p, &settlement_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::GetSettlementResponse {
            settlement: Some(settlement_to_pb(s)),
        }))
    }

    async fn list_settlement_lines(
        &self,
        request: Request<pb::ListSettlementLinesRequest>,
    ) -> R<pb::ListSettlementLinesResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let settlement_id = field(id("settlement_id", &req.settlement_id))?;
        let page = page(req.page_size, &req.page_token)?;
        let after = cursor(&page, LineCursor::decode)?;
        let (lines, next) = self
            .scoring
            .settlement_lines(&p, &settlement_id, page.size, after.as_ref())
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ListSettlementLinesResponse {
            lines: lines.into_iter().map(line_to_pb).collect(),
            next_page_token: next.map(|c| page.token_for(&c.encode())).unwrap_or_default(),
        }))
    }

    async fn list_settlements(&self, request: Request<pb::ListSettlementsRequest>) -> R<pb::ListSettlementsResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let community_id = field(id("community_id", &req.community_id))?;
        let period = opt_period_from_pb("period", req.period.as_ref())?;
        let page = page(req.page_size, &req.page_token)?;
        let (rows, next_page_token) = self
            .scoring
            .list_settlements(&p, &community_id, period, &page)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ListSettlementsResponse {
            settlements: rows.into_iter().map(settlement_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn get_board(&self, request: Request<pb::GetBoardRequest>) -> R<pb::GetBoardResponse> {
        principal(&request)?;
        let req = request.into_inner();
        let org_id = field(id("org_id", &req.org_id))?;
        let period = period_from_pb("period", req.period.as_ref())?;
        let kind = subject_kind_from_pb("subject_kind", req.subject_kind)?;
        let page = page(req.page_size, &req.page_token)?;
        let after = cursor(&page, BoardCursor::decode)?;
        let (rows, next) = self
            .scoring
            .board(&org_id, period, kind, page.size, after.as_ref())
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::GetBoardResponse {
            rows: rows.into_iter().map(board_row_to_pb).collect(),
            next_page_token: next.map(|c| page.token_for(&c.encode())).unwrap_or_default(),
        }))
    }

    async fn get_registration_table(
        &self,
        request: Request<pb::GetRegistrationTableRequest>,
    ) -> R<pb::GetRegistrationTableResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let member_id = field(id("member_id", &req.member_id))?;
        let community_id = field(id("community_id", &req.community_id))?;
        let period = period_from_pb("period", req.period.as_ref())?;
        let table = self
            .scoring
            .registration_table(&p, &member_id, &community_id, period)
            .await
            .map_err(to_status)?;
        let table = registration_table_to_pb(table);
        let csv = registration_csv(&table, period);
        Ok(Response::new(pb::GetRegistrationTableResponse {
            table: Some(table),
            csv,
        }))
    }

    async fn create_item(&self, request: Request<pb::CreateItemRequest>) -> R<pb::CreateItemResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let community_id = v.check(id("community_id", &req.community_id));
        let name = market::name(&req.name, &mut v);
        let description = market::description(&req.description, &mut v);
        let price = market::price(i64_of(req.price_points), &mut v);
        if !(0..=market::MAX_STOCK).contains(&i64_of(req.stock)) {
            v.add("stock", format!("must be between 0 and {}", market::MAX_STOCK));
        }
        let (Some(community_id), Some(name), Some(description), Some(price_points), true) =
            (community_id, name, description, price, v.is_empty())
        else {
            return Err(err::invalid_fields(&v.0));
        };
        let now = now_millis();
        let item = Item {
            id: uuid::Uuid::now_v7().to_string(),
            community_id,
            name,
            description,
            price_points,
            stock: i64_of(req.stock),
            active: true,
            created_at: now,
            updated_at: now,
        };
        let item = self
            .scoring
            .create_item(&p, &req.request_id, item)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::CreateItemResponse {
            item: Some(item_to_pb(item)),
        }))
    }

    async fn update_item(&self, request: Request<pb::UpdateItemRequest>) -> R<pb::UpdateItemResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let item_id = field(id("item_id", &req.item_id))?;
        let mut v = Violations::default();
        let change = ItemChange {
            name: req.name.as_deref().and_then(|n| market::name(n, &mut v)),
            description: req.description.as_deref().and_then(|d| market::description(d, &mut v)),
            price_points: req.price_points.and_then(|price| market::price(i64_of(price), &mut v)),
            add_stock: i64_of(req.add_stock),
            active: req.active,
        };
        if !v.is_empty() {
            return Err(err::invalid_fields(&v.0));
        }
        let item = self
            .scoring
            .update_item(&p, &req.request_id, &item_id, change)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::UpdateItemResponse {
            item: Some(item_to_pb(item)),
        }))
    }

    async fn list_items(&self, request: Request<pb::ListItemsRequest>) -> R<pb::ListItemsResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let community_id = field(id("community_id", &req.community_id))?;
        let page = page(req.page_size, &req.page_token)?;
        let (items, next_page_token) = self
            .scoring
            .list_items(&p, &community_id, req.include_inactive, &page)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ListItemsResponse {
            items: items.into_iter().map(item_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn redeem(&self, request: Request<pb::RedeemRequest>) -> R<pb::RedeemResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let member_id = field(id("member_id", &req.member_id))?;
        let item_id = field(id("item_id", &req.item_id))?;
        let quantity = market::quantity(i64_of(req.quantity)).map_err(bad)?;
        let redemption = self
            .scoring
            .redeem(&p, &req.request_id, &member_id, &item_id, quantity)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::RedeemResponse {
            redemption: Some(redemption_to_pb(redemption)),
        }))
    }

    async fn cancel_redemption(
        &self,
        request: Request<pb::CancelRedemptionRequest>,
    ) -> R<pb::CancelRedemptionResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let redemption_id = field(id("redemption_id", &req.redemption_id))?;
        let reason = content("reason", &req.reason)?;
        let redemption = self
            .scoring
            .cancel_redemption(&p, &req.request_id, &redemption_id, &reason)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::CancelRedemptionResponse {
            redemption: Some(redemption_to_pb(redemption)),
        }))
    }

    async fn list_redemptions(&self, request: Request<pb::ListRedemptionsRequest>) -> R<pb::ListRedemptionsResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        for (name, value) in [("member_id", &req.member_id), ("community_id", &req.community_id)] {
            if !value.is_empty() {
                field(id(name, value))?;
            }
        }
        let page = page(req.page_size, &req.page_token)?;
        let (rows, next_page_token) = self
            .scoring
            .list_redemptions(&p, &req.member_id, &req.community_id, &page)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ListRedemptionsResponse {
            redemptions: rows.into_iter().map(redemption_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn get_scoring_rules(&self, request: Request<pb::GetScoringRulesRequest>) -> R<pb::GetScoringRulesResponse> {
        principal(&request)?;
        Ok(Response::new(pb::GetScoringRulesResponse {
            rules: Some(rules_to_pb(self.scoring.rules())),
        }))
    }
}
