//! The gRPC layer: proto → domain (failures name the field), call
//! [`Feedback`], domain → proto. Prost types stop here.

pub mod access;
mod convert;

use std::pin::Pin;
use std::time::Duration;

use dualreport_platform::auth::{Principal, principal};
use dualreport_platform::error as err;
use dualreport_platform::validate::{Violations, id, optional_id, text};
use dualreport_platform::wire::{date_from_pb, page};
use dualreport_proto::common::v1::ErrorReason;
use dualreport_proto::feedback::v1 as pb;
use dualreport_proto::feedback::v1::feedback_service_server::FeedbackService;
use futures::Stream;
use tonic::{Code, Request, Response, Status};

use crate::app::Feedback;
use crate::domain::export::{self, Table};
use crate::domain::{FeedbackError, Period, china_today, parse_cursor, webhook_url, year};
use crate::feed::Poster;
use convert::*;

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
        F::Invalid(fields) => err::invalid_fields(&fields),
        F::NotFound { what, id } => err::not_found(what, &id),
        F::OutOfScope(m) => err::status(Code::PermissionDenied, E::OutOfScope, m),
        F::NotRegistered(m) => err::status(Code::FailedPrecondition, E::NotRegistered, m),
        F::NotPaired(m) => err::status(Code::FailedPrecondition, E::NotPaired, m),
        F::WrongState(m) => err::status(Code::FailedPrecondition, E::WrongState, m),
        F::Unavailable(m) => err::status(Code::Unavailable, E::UpstreamUnavailable, m),
        F::Conflict(m) => err::status(Code::Aborted, E::Conflict, m),
        e @ F::RequestIdReused => err::status(Code::FailedPrecondition, E::RequestIdReused, e.to_string()),
        F::Internal(e) => err::internal(e.as_ref()),
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

#[tonic::async_trait]
impl FeedbackService for FeedbackApi {
    // ───────────── summary tables and notices ─────────────

    async fn get_summary_table(&self, request: Request<pb::GetSummaryTableRequest>) -> R<pb::GetSummaryTableResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let unit = id("unit_org_id", &r.unit_org_id)?;
        let community = optional_id("community_id", &r.community_id)?;
        let period = period(r.period.as_ref())?;
        let table = self
            .app
            .summary_table(&p, &unit, &community, period)
            .await
            .map_err(to_status)?;
        ok(pb::GetSummaryTableResponse {
            table: Some(summary_to_pb(table)),
        })
    }

    async fn comment_on_member(&self, request: Request<pb::CommentOnMemberRequest>) -> R<pb::CommentOnMemberResponse> {
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
        let c = self
            .app
            .comment_on_member(&p, &community, &member, period, comment)
            .await
            .map_err(to_status)?;
        ok(pb::CommentOnMemberResponse {
            comment: Some(comment_to_pb(c)),
        })
    }

    async fn send_notice(&self, request: Request<pb::SendNoticeRequest>) -> R<pb::SendNoticeResponse> {
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
        let notice = self
            .app
            .send_notice(&p, &r.request_id, &community, &unit, period, title, body, r.urgent)
            .await
            .map_err(to_status)?;
        ok(pb::SendNoticeResponse {
            notice: Some(notice_to_pb(notice)),
        })
    }

    async fn get_notice(&self, request: Request<pb::GetNoticeRequest>) -> R<pb::GetNoticeResponse> {
        let p = who(&request)?;
        let notice_id = id("notice_id", &request.get_ref().notice_id)?;
        let notice = self.app.get_notice(&p, &notice_id).await.map_err(to_status)?;
        ok(pb::GetNoticeResponse {
            notice: Some(notice_to_pb(notice)),
        })
    }

    async fn list_notices(&self, request: Request<pb::ListNoticesRequest>) -> R<pb::ListNoticesResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let org = optional_id("org_id", &r.org_id)?;
        let year = any_year(r.year)?;
        let page = page(r.page_size, &r.page_token)?;
        let (notices, next) = self.app.list_notices(&p, &org, year, &page).await.map_err(to_status)?;
        ok(pb::ListNoticesResponse {
            notices: notices.into_iter().map(notice_to_pb).collect(),
            next_page_token: next,
        })
    }

    async fn acknowledge_notice(
        &self,
        request: Request<pb::AcknowledgeNoticeRequest>,
    ) -> R<pb::AcknowledgeNoticeResponse> {
        let p = who(&request)?;
        let notice_id = id("notice_id", &request.get_ref().notice_id)?;
        let notice = self.app.acknowledge_notice(&p, &notice_id).await.map_err(to_status)?;
        ok(pb::AcknowledgeNoticeResponse {
            notice: Some(notice_to_pb(notice)),
        })
    }

    // ───────────── ratings and cards ─────────────

    async fn rate_unit(&self, request: Request<pb::RateUnitRequest>) -> R<pb::RateUnitResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let (community, unit, comment) = (
            v.check(id("community_id", &r.community_id)),
            v.check(id("unit_org_id", &r.unit_org_id)),
            v.check(text("comment", &r.comment, 500, false)),
        );
        let grade = grade_from_pb(r.grade);
        if grade.is_none() {
            v.add(
                "grade",
                "must be one of EXCELLENT (优秀), GOOD (良好), FAIR (一般), POOR (较差)",
            );
        }
        let (Some(community), Some(unit), Some(comment), Some(grade)) = (community, unit, comment, grade) else {
            return Err(err::invalid_fields(&v.0));
        };
        let year = the_year("year", r.year)?;
        let rating = self
            .app
            .rate_unit(&p, &community, &unit, year, grade, comment)
            .await
            .map_err(to_status)?;
        ok(pb::RateUnitResponse {
            rating: Some(rating_to_pb(rating)),
        })
    }

    async fn list_unit_ratings(&self, request: Request<pb::ListUnitRatingsRequest>) -> R<pb::ListUnitRatingsResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let org = optional_id("org_id", &r.org_id)?;
        let year = any_year(r.year)?;
        let page = page(r.page_size, &r.page_token)?;
        let (ratings, next) = self.app.list_ratings(&p, &org, year, &page).await.map_err(to_status)?;
        ok(pb::ListUnitRatingsResponse {
            ratings: ratings.into_iter().map(rating_to_pb).collect(),
            next_page_token: next,
        })
    }

    async fn get_performance_card(
        &self,
        request: Request<pb::GetPerformanceCardRequest>,
    ) -> R<pb::GetPerformanceCardResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let member = id("member_id", &r.member_id)?;
        let year = the_year("year", r.year)?;
        let card = self.app.performance_card(&p, &member, year).await.map_err(to_status)?;
        ok(pb::GetPerformanceCardResponse {
            card: Some(card_to_pb(card)),
        })
    }

    // ───────────── objections ─────────────

    async fn raise_objection(&self, request: Request<pb::RaiseObjectionRequest>) -> R<pb::RaiseObjectionResponse> {
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
        let o = self
            .app
            .raise_objection(&p, &r.request_id, &entry, content)
            .await
            .map_err(to_status)?;
        ok(pb::RaiseObjectionResponse {
            objection: Some(objection_to_pb(o)),
        })
    }

    async fn assign_objection(&self, request: Request<pb::AssignObjectionRequest>) -> R<pb::AssignObjectionResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let objection = id("objection_id", &r.objection_id)?;
        let department = words("department", &r.department, 100, true)?;
        let o = self
            .app
            .assign_objection(&p, &objection, department)
            .await
            .map_err(to_status)?;
        ok(pb::AssignObjectionResponse {
            objection: Some(objection_to_pb(o)),
        })
    }

    async fn add_investigation_note(
        &self,
        request: Request<pb::AddInvestigationNoteRequest>,
    ) -> R<pb::AddInvestigationNoteResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let objection = id("objection_id", &r.objection_id)?;
        let note = words("note", &r.note, 2000, true)?;
        let evidence = ids("evidence_ids", &r.evidence_ids)?;
        let o = self
            .app
            .add_note(&p, &r.request_id, &objection, note, evidence)
            .await
            .map_err(to_status)?;
        ok(pb::AddInvestigationNoteResponse {
            objection: Some(objection_to_pb(o)),
        })
    }

    async fn decide_objection(&self, request: Request<pb::DecideObjectionRequest>) -> R<pb::DecideObjectionResponse> {
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
        let o = self
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

    async fn get_objection(&self, request: Request<pb::GetObjectionRequest>) -> R<pb::GetObjectionResponse> {
        let p = who(&request)?;
        let objection = id("objection_id", &request.get_ref().objection_id)?;
        let o = self.app.get_objection(&p, &objection).await.map_err(to_status)?;
        ok(pb::GetObjectionResponse {
            objection: Some(objection_to_pb(o)),
        })
    }

    async fn list_objections(&self, request: Request<pb::ListObjectionsRequest>) -> R<pb::ListObjectionsResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let org = optional_id("org_id", &r.org_id)?;
        let page = page(r.page_size, &r.page_token)?;
        let (objections, next) = self.app.list_objections(&p, &org, &page).await.map_err(to_status)?;
        ok(pb::ListObjectionsResponse {
            objections: objections.into_iter().map(objection_to_pb).collect(),
            next_page_token: next,
        })
    }

    // ───────────── spot checks ─────────────

    async fn draw_spot_check(&self, request: Request<pb::DrawSpotCheckRequest>) -> R<pb::DrawSpotCheckResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let unit = id("unit_org_id", &r.unit_org_id)?;
        let year = the_year("year", r.year)?;
        let percent = u32::try_from(r.sample_percent)
            .map_err(|_| err::invalid_field("sample_percent", "must not be negative"))?;
        let seed = words("seed", &r.seed, 100, false)?;
        let check = self
            .app
            .draw_spot_check(&p, &r.request_id, &unit, year, percent, seed)
            .await
            .map_err(to_status)?;
        ok(pb::DrawSpotCheckResponse {
            spot_check: Some(spot_check_to_pb(check)),
        })
    }

    async fn record_spot_check_outcome(
        &self,
        request: Request<pb::RecordSpotCheckOutcomeRequest>,
    ) -> R<pb::RecordSpotCheckOutcomeResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let check = id("spot_check_id", &r.spot_check_id)?;
        let member = id("member_id", &r.member_id)?;
        let method =
            method_from_pb(r.method).ok_or_else(|| err::invalid_field("method", "must be VISITED or PHONED"))?;
        let findings = words("findings", &r.findings, 1000, true)?;
        let check = self
            .app
            .record_outcome(&p, &check, &member, method, findings)
            .await
            .map_err(to_status)?;
        ok(pb::RecordSpotCheckOutcomeResponse {
            spot_check: Some(spot_check_to_pb(check)),
        })
    }

    async fn get_spot_check(&self, request: Request<pb::GetSpotCheckRequest>) -> R<pb::GetSpotCheckResponse> {
        let p = who(&request)?;
        let check = id("spot_check_id", &request.get_ref().spot_check_id)?;
        let check = self.app.get_spot_check(&p, &check).await.map_err(to_status)?;
        ok(pb::GetSpotCheckResponse {
            spot_check: Some(spot_check_to_pb(check)),
        })
    }

    // ───────────── warnings ─────────────

    async fn evaluate_warnings(
        &self,
        request: Request<pb::EvaluateWarningsRequest>,
    ) -> R<pb::EvaluateWarningsResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let unit = id("unit_org_id", &r.unit_org_id)?;
        let year = the_year("year", r.year)?;
        let today = self.app.today();
        let as_of = match &r.as_of {
            None => today,
            Some(d) => date_from_pb(d).ok_or_else(|| err::invalid_field("as_of", "is not a calendar date"))?,
        };
        if as_of > today {
            return Err(err::invalid_field(
                "as_of",
                format!(
                    "must not be after today ({today}, China Standard Time): rules are judged on days that have come"
                ),
            ));
        }
        let evaluation = self
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

    async fn list_warnings(&self, request: Request<pb::ListWarningsRequest>) -> R<pb::ListWarningsResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let org = optional_id("org_id", &r.org_id)?;
        let member = optional_id("member_id", &r.member_id)?;
        let year = any_year(r.year)?;
        let page = page(r.page_size, &r.page_token)?;
        let (warnings, next) = self
            .app
            .list_warnings(&p, &org, &member, year, &page)
            .await
            .map_err(to_status)?;
        ok(pb::ListWarningsResponse {
            warnings: warnings.into_iter().map(warning_to_pb).collect(),
            next_page_token: next,
        })
    }

    async fn get_eligibility(&self, request: Request<pb::GetEligibilityRequest>) -> R<pb::GetEligibilityResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let member = id("member_id", &r.member_id)?;
        let year = the_year("year", r.year)?;
        let (eligible, warnings) = self.app.eligibility(&p, &member, year).await.map_err(to_status)?;
        ok(pb::GetEligibilityResponse {
            eligible_for_excellent: eligible,
            warnings: warnings.into_iter().map(warning_to_pb).collect(),
        })
    }

    // ───────────── the feed ─────────────

    type WatchEventsStream = EventStream;

    async fn watch_events(&self, request: Request<pb::WatchEventsRequest>) -> R<Self::WatchEventsStream> {
        let p = who(&request)?;
        let r = request.into_inner();
        let mut after = parse_cursor(&r.cursor)?;
        let district = self.app.feed_scope(&p).await.map_err(to_status)?;
        let last = self.app.last_sequence().await.map_err(to_status)?;
        if after > last {
            return Err(err::invalid_field(
                "cursor",
                "is beyond the newest event; pass a cursor this feed returned",
            ));
        }
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let app = self.app.clone();
        let poll = self.watch_poll;
        let backlog_only = r.backlog_only;
        tokio::spawn(async move {
            loop {
                // Register for wake-ups before reading, so an append in between is not missed.
                let appended = app.appended().clone();
                let woken = appended.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                let events = match app.events_after(after, 100, district.as_deref()).await {
                    Ok(events) => events,
                    Err(e) => {
                        let _ = tx.send(Err(to_status(e))).await;
                        return;
                    }
                };
                let full = events.len() == 100;
                for event in events {
                    after = event.sequence;
                    let item = pb::WatchEventsResponse {
                        event: Some(event_to_pb(event)),
                    };
                    if tx.send(Ok(item)).await.is_err() {
                        return;
                    }
                }
                if full {
                    continue;
                }
                if backlog_only {
                    return;
                }
                tokio::select! {
                    () = &mut woken => {}
                    () = tokio::time::sleep(poll) => {}
                    () = tx.closed() => return,
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }

    async fn set_webhook(&self, request: Request<pb::SetWebhookRequest>) -> R<pb::SetWebhookResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let (url, secret) = if r.url.is_empty() {
            (String::new(), String::new())
        } else {
            let url = webhook_url(&r.url, self.app.allow_http())?;
            if r.secret.len() < 32 || r.secret.len() > 256 {
                return Err(err::invalid_field("secret", "must be 32 to 256 bytes"));
            }
            (url, r.secret)
        };
        let (hook, failed) = self.app.set_webhook(&p, url, secret).await.map_err(to_status)?;
        ok(pb::SetWebhookResponse {
            webhook: Some(webhook_to_pb(hook, failed)),
        })
    }

    async fn get_webhook(&self, request: Request<pb::GetWebhookRequest>) -> R<pb::GetWebhookResponse> {
        let p = who(&request)?;
        let (hook, failed) = self.app.get_webhook(&p).await.map_err(to_status)?;
        ok(pb::GetWebhookResponse {
            webhook: Some(webhook_to_pb(hook, failed)),
        })
    }

    async fn list_failed_deliveries(
        &self,
        request: Request<pb::ListFailedDeliveriesRequest>,
    ) -> R<pb::ListFailedDeliveriesResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let page = page(r.page_size, &r.page_token)?;
        let (deliveries, next) = self.app.list_failed(&p, &page).await.map_err(to_status)?;
        ok(pb::ListFailedDeliveriesResponse {
            deliveries: deliveries.into_iter().map(failed_to_pb).collect(),
            next_page_token: next,
        })
    }

    async fn replay_delivery(&self, request: Request<pb::ReplayDeliveryRequest>) -> R<pb::ReplayDeliveryResponse> {
        let p = who(&request)?;
        let delivery = id("delivery_id", &request.get_ref().delivery_id)?;
        let (delivered, error) = self
            .app
            .replay_delivery(&p, &delivery, &self.poster)
            .await
            .map_err(to_status)?;
        ok(pb::ReplayDeliveryResponse { delivered, error })
    }

    // ───────────── exports ─────────────

    async fn export_table(&self, request: Request<pb::ExportTableRequest>) -> R<pb::ExportTableResponse> {
        let p = who(&request)?;
        let r = request.into_inner();
        let format = pb::ExportFormat::try_from(r.format).unwrap_or(pb::ExportFormat::Unspecified);
        if format == pb::ExportFormat::Unspecified {
            return Err(err::invalid_field("format", "must be CSV or XLSX"));
        }
        let (table, incomplete, base) = match pb::TableKind::try_from(r.kind).unwrap_or(pb::TableKind::Unspecified) {
            pb::TableKind::Summary => {
                let unit = id("unit_org_id", &r.unit_org_id)?;
                let community = optional_id("community_id", &r.community_id)?;
                let period = period(r.period.as_ref())?;
                let t = self
                    .app
                    .summary_table(&p, &unit, &community, period)
                    .await
                    .map_err(to_status)?;
                let incomplete = !t.complete();
                let name = format!("summary-{}-{}", t.unit_org_id, t.period.label());
                (crate::tables::summary(&t), incomplete, name)
            }
            pb::TableKind::Objections => {
                let org = optional_id("org_id", &r.org_id)?;
                let objections = self.app.all_objections(&p, &org).await.map_err(to_status)?;
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
                let t = self
                    .app
                    .registration_table(&p, &member, &community, period)
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
        ok(render(&table, format, &base, incomplete))
    }
}

fn render(table: &Table, format: pb::ExportFormat, base: &str, incomplete: bool) -> pb::ExportTableResponse {
    let (content, extension, content_type) = match format {
        pb::ExportFormat::Xlsx => (
            export::xlsx(table),
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => (export::csv(table), "csv", "text/csv; charset=utf-8"),
    };
    pb::ExportTableResponse {
        file_name: format!("{base}.{extension}"),
        content_type: content_type.to_owned(),
        content,
        incomplete,
    }
}
