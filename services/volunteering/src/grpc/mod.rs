//! The gRPC layer: proto → domain (failures name the field), call
//! [`Volunteering`], domain → proto. Prost types stop here.

pub mod access;
mod convert;

use dualreport_platform::auth::principal;
use dualreport_platform::error as err;
use dualreport_platform::validate::{Violations, id, optional_id, text};
use dualreport_platform::wire::{date_from_pb, page};
use dualreport_proto::common::v1::ErrorReason;
use dualreport_proto::volunteering::v1 as pb;
use dualreport_proto::volunteering::v1::volunteering_service_server::VolunteeringService;
use tonic::{Code, Request, Response, Status};

use crate::app::{NewActivity, Volunteering};
use crate::domain::model::*;
use crate::domain::{VolunteeringError, china_today, evidence_ids, minutes, now_millis, text_list, year};
use convert::*;

pub struct VolunteeringApi {
    app: Volunteering,
}

impl VolunteeringApi {
    pub fn new(app: Volunteering) -> Self {
        Self { app }
    }
}

/// Every domain error → status, exhaustively: a new variant is a compile error here.
fn to_status(error: VolunteeringError) -> Status {
    use ErrorReason as E;
    use VolunteeringError as V;
    match error {
        V::Invalid(fields) => err::invalid_fields(&fields),
        V::NotFound { what, id } => err::not_found(what, &id),
        V::OutOfScope(m) => err::status(Code::PermissionDenied, E::OutOfScope, m),
        V::NotRegistered(m) => err::status(Code::FailedPrecondition, E::NotRegistered, m),
        V::NotPaired(m) => err::status(Code::FailedPrecondition, E::NotPaired, m),
        V::WrongState(m) => err::status(Code::FailedPrecondition, E::WrongState, m),
        V::AlreadyTaken(m) => err::status(Code::FailedPrecondition, E::AlreadyTaken, m),
        V::CapacityFull(m) => err::status(Code::FailedPrecondition, E::CapacityFull, m),
        V::ActivityFinished(m) => err::status(Code::FailedPrecondition, E::ActivityFinished, m),
        V::CodeExpired(m) => err::status(Code::FailedPrecondition, E::CodeExpired, m),
        V::OutOfBounds(m) => err::status(Code::FailedPrecondition, E::OutOfBounds, m),
        V::CountOutOfBounds(field) => err::invalid_fields_because(E::OutOfBounds, &[field]),
        V::AlreadyExists(m) => err::status(Code::AlreadyExists, E::AlreadyExists, m),
        V::Unavailable(m) => err::status(Code::Unavailable, E::UpstreamUnavailable, m),
        V::Conflict(m) => err::status(Code::Aborted, E::Conflict, m),
        e @ V::RequestIdReused => err::status(Code::FailedPrecondition, E::RequestIdReused, e.to_string()),
        V::Internal(e) => err::internal(e.as_ref()),
    }
}

fn name(field_name: &str, value: &str) -> Result<String, Status> {
    Ok(text(field_name, value, 100, true)?)
}

fn words(field_name: &str, value: &str, required: bool) -> Result<String, Status> {
    Ok(text(field_name, value, 500, required)?)
}

fn the_year(value: i32) -> Result<i32, Status> {
    Ok(year("year", value, china_today())?)
}

/// 0 means "every year" in lists.
fn any_year(value: i32) -> Result<i32, Status> {
    if value == 0 { Ok(0) } else { the_year(value) }
}

fn count(field_name: &str, value: i32, max: i32) -> Result<i64, Status> {
    if !(0..=max).contains(&value) {
        return Err(err::invalid_field(field_name, format!("must be between 0 and {max}")));
    }
    Ok(i64::from(value))
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn millis(field_name: &str, ts: Option<&prost_types::Timestamp>) -> Result<i64, Status> {
    let ts = ts.ok_or_else(|| err::invalid_field(field_name, "is required"))?;
    if !(0..1_000_000_000).contains(&ts.nanos) || ts.seconds < 946_684_800 || ts.seconds > 4_102_444_800 {
        return Err(err::invalid_field(field_name, "must be a time between 2000 and 2100"));
    }
    Ok(ts.seconds * 1000 + i64::from(ts.nanos) / 1_000_000)
}

type R<T> = Result<Response<T>, Status>;

fn ok<T>(value: T) -> R<T> {
    Ok(Response::new(value))
}

#[tonic::async_trait]
impl VolunteeringService for VolunteeringApi {
    // ───────────── posts and claims ─────────────

    async fn list_posts(&self, request: Request<pb::ListPostsRequest>) -> R<pb::ListPostsResponse> {
        let p = principal(&request)?;
        let community_id = id("community_id", &request.get_ref().community_id)?;
        let posts = self.app.list_posts(&p, &community_id).await.map_err(to_status)?;
        ok(pb::ListPostsResponse {
            posts: posts.into_iter().map(post_to_pb).collect(),
        })
    }

    async fn create_post(&self, request: Request<pb::CreatePostRequest>) -> R<pb::CreatePostResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let (community_id, post_name, description) = (
            v.check(id("community_id", &req.community_id)),
            v.check(text("name", &req.name, 100, true)),
            v.check(text("description", &req.description, 500, false)),
        );
        let (Some(community_id), Some(post_name), Some(description)) = (community_id, post_name, description) else {
            return Err(err::invalid_fields(&v.0));
        };
        let post = Post {
            id: new_id(),
            community_id,
            name: post_name,
            description,
            standard: false,
            created_at: now_millis(),
        };
        let post = self
            .app
            .create_post(&p, &req.request_id, post)
            .await
            .map_err(to_status)?;
        ok(pb::CreatePostResponse {
            post: Some(post_to_pb(post)),
        })
    }

    async fn claim_post(&self, request: Request<pb::ClaimPostRequest>) -> R<pb::ClaimPostResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let member_id = id("member_id", &req.member_id)?;
        let post_id = id("post_id", &req.post_id)?;
        let year = the_year(req.year)?;
        let claim = self
            .app
            .claim_post(&p, &req.request_id, &member_id, &post_id, year)
            .await
            .map_err(to_status)?;
        ok(pb::ClaimPostResponse {
            claim: Some(claim_to_pb(claim)),
        })
    }

    async fn withdraw_claim(&self, request: Request<pb::WithdrawClaimRequest>) -> R<pb::WithdrawClaimResponse> {
        let p = principal(&request)?;
        let claim_id = id("claim_id", &request.get_ref().claim_id)?;
        self.app.withdraw_claim(&p, &claim_id).await.map_err(to_status)?;
        ok(pb::WithdrawClaimResponse {})
    }

    async fn list_claims(&self, request: Request<pb::ListClaimsRequest>) -> R<pb::ListClaimsResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        if req.member_id.is_empty() == req.community_id.is_empty() {
            return Err(err::invalid_field(
                "member_id",
                "give exactly one of member_id and community_id",
            ));
        }
        let member_id = optional_id("member_id", &req.member_id)?;
        let community_id = optional_id("community_id", &req.community_id)?;
        let year = the_year(req.year)?;
        let page = page(req.page_size, &req.page_token)?;
        let ((claims, next_page_token), meets_minimum) = self
            .app
            .list_claims(&p, &member_id, &community_id, year, &page)
            .await
            .map_err(to_status)?;
        ok(pb::ListClaimsResponse {
            claims: claims.into_iter().map(claim_to_pb).collect(),
            next_page_token,
            meets_minimum,
        })
    }

    // ───────────── teams and studios ─────────────

    async fn create_team(&self, request: Request<pb::CreateTeamRequest>) -> R<pb::CreateTeamResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let team = Team {
            id: new_id(),
            community_id: id("community_id", &req.community_id)?,
            name: name("name", &req.name)?,
            kind: team_kind_from_pb(req.kind)?,
            post_id: optional_id("post_id", &req.post_id)?,
            member_ids: Vec::new(),
            created_at: now_millis(),
        };
        let team = self
            .app
            .create_team(&p, &req.request_id, team)
            .await
            .map_err(to_status)?;
        ok(pb::CreateTeamResponse {
            team: Some(team_to_pb(team)),
        })
    }

    async fn join_team(&self, request: Request<pb::JoinTeamRequest>) -> R<pb::JoinTeamResponse> {
        let p = principal(&request)?;
        let team_id = id("team_id", &request.get_ref().team_id)?;
        let member_id = id("member_id", &request.get_ref().member_id)?;
        let team = self
            .app
            .change_team(&p, &team_id, &member_id, true)
            .await
            .map_err(to_status)?;
        ok(pb::JoinTeamResponse {
            team: Some(team_to_pb(team)),
        })
    }

    async fn leave_team(&self, request: Request<pb::LeaveTeamRequest>) -> R<pb::LeaveTeamResponse> {
        let p = principal(&request)?;
        let team_id = id("team_id", &request.get_ref().team_id)?;
        let member_id = id("member_id", &request.get_ref().member_id)?;
        let team = self
            .app
            .change_team(&p, &team_id, &member_id, false)
            .await
            .map_err(to_status)?;
        ok(pb::LeaveTeamResponse {
            team: Some(team_to_pb(team)),
        })
    }

    async fn list_teams(&self, request: Request<pb::ListTeamsRequest>) -> R<pb::ListTeamsResponse> {
        let p = principal(&request)?;
        let community_id = id("community_id", &request.get_ref().community_id)?;
        let teams = self.app.list_teams(&p, &community_id).await.map_err(to_status)?;
        ok(pb::ListTeamsResponse {
            teams: teams.into_iter().map(team_to_pb).collect(),
        })
    }

    async fn create_studio(&self, request: Request<pb::CreateStudioRequest>) -> R<pb::CreateStudioResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let studio = Studio {
            id: new_id(),
            community_id: id("community_id", &req.community_id)?,
            member_id: id("member_id", &req.member_id)?,
            name: name("name", &req.name)?,
            services: text_list("services", &req.services, 30, 100)?,
            opening_hours: text("opening_hours", &req.opening_hours, 100, true)?,
            created_at: now_millis(),
        };
        if studio.services.is_empty() {
            return Err(err::invalid_field("services", "must list at least one service"));
        }
        let studio = self
            .app
            .create_studio(&p, &req.request_id, studio)
            .await
            .map_err(to_status)?;
        ok(pb::CreateStudioResponse {
            studio: Some(studio_to_pb(studio)),
        })
    }

    async fn list_studios(&self, request: Request<pb::ListStudiosRequest>) -> R<pb::ListStudiosResponse> {
        let p = principal(&request)?;
        let community_id = id("community_id", &request.get_ref().community_id)?;
        let studios = self.app.list_studios(&p, &community_id).await.map_err(to_status)?;
        ok(pb::ListStudiosResponse {
            studios: studios.into_iter().map(studio_to_pb).collect(),
        })
    }

    // ───────────── pledges and agreements ─────────────

    async fn set_pledge(&self, request: Request<pb::SetPledgeRequest>) -> R<pb::SetPledgeResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let pledge = Pledge {
            member_id: id("member_id", &req.member_id)?,
            community_id: id("community_id", &req.community_id)?,
            year: the_year(req.year)?,
            items: text_list("items", &req.items, 20, 100)?,
            services: count("services", req.services, 366)?,
            hours: count("hours", req.hours, 8784)?,
            way: words("way", &req.way, false)?,
            updated_at: now_millis(),
        };
        let (pledge, progress) = self.app.set_pledge(&p, pledge).await.map_err(to_status)?;
        ok(pb::SetPledgeResponse {
            pledge: Some(pledge_to_pb(pledge, progress)),
        })
    }

    async fn get_pledge(&self, request: Request<pb::GetPledgeRequest>) -> R<pb::GetPledgeResponse> {
        let p = principal(&request)?;
        let member_id = id("member_id", &request.get_ref().member_id)?;
        let year = the_year(request.get_ref().year)?;
        let (pledge, progress) = self.app.get_pledge(&p, &member_id, year).await.map_err(to_status)?;
        ok(pb::GetPledgeResponse {
            pledge: Some(pledge_to_pb(pledge, progress)),
        })
    }

    async fn list_pledges(&self, request: Request<pb::ListPledgesRequest>) -> R<pb::ListPledgesResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let community_id = id("community_id", &req.community_id)?;
        let year = the_year(req.year)?;
        let page = page(req.page_size, &req.page_token)?;
        let (rows, next_page_token) = self
            .app
            .list_pledges(&p, &community_id, year, &page)
            .await
            .map_err(to_status)?;
        ok(pb::ListPledgesResponse {
            pledges: rows.into_iter().map(|(pl, pr)| pledge_to_pb(pl, pr)).collect(),
            next_page_token,
        })
    }

    async fn create_agreement(&self, request: Request<pb::CreateAgreementRequest>) -> R<pb::CreateAgreementResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let mut projects = Vec::new();
        if req.projects.len() > 20 {
            v.add("projects", "must have at most 20 entries");
        }
        for (i, input) in req.projects.iter().enumerate() {
            let at = |f: &str| format!("projects[{i}].{f}");
            let project = (
                v.check(text(&at("name"), &input.name, 100, true)),
                v.check(text(&at("goal"), &input.goal, 500, true)),
                v.check(text(&at("expected_effect"), &input.expected_effect, 500, false)),
            );
            let deadline = match &input.deadline {
                None => None,
                Some(d) => {
                    let parsed = date_from_pb(d);
                    if parsed.is_none() {
                        v.add(at("deadline"), "must be a calendar date");
                    }
                    parsed
                }
            };
            if let (Some(name), Some(goal), Some(expected_effect)) = project {
                projects.push(Project {
                    id: new_id(),
                    name,
                    goal,
                    expected_effect,
                    deadline,
                    status: ProjectStatus::Planned,
                });
            }
        }
        let pledge = req.pledge.unwrap_or_default();
        let agreement = (
            v.check(id("unit_org_id", &req.unit_org_id)),
            v.check(id("community_id", &req.community_id)),
            v.check(year("year", req.year, china_today())),
            v.check(text_list("resources", &req.resources, 30, 200)),
            v.check(text_list("needs", &req.needs, 30, 200)),
            v.check(text("pledge.form", &pledge.form, 200, false)),
        );
        for (f, n) in [("pledge.services", pledge.services), ("pledge.hours", pledge.hours)] {
            if !(0..=100_000).contains(&n) {
                v.add(f, "must be between 0 and 100000");
            }
        }
        let (Some(unit_org_id), Some(community_id), Some(year), Some(resources), Some(needs), Some(form), true) = (
            agreement.0,
            agreement.1,
            agreement.2,
            agreement.3,
            agreement.4,
            agreement.5,
            v.is_empty(),
        ) else {
            return Err(err::invalid_fields(&v.0));
        };
        let agreement = Agreement {
            id: new_id(),
            unit_org_id,
            community_id,
            year,
            resources,
            needs,
            projects,
            pledge_services: i64::from(pledge.services),
            pledge_hours: i64::from(pledge.hours),
            pledge_form: form,
            progress: Progress::default(),
            created_at: now_millis(),
        };
        let agreement = self
            .app
            .create_agreement(&p, &req.request_id, agreement)
            .await
            .map_err(to_status)?;
        ok(pb::CreateAgreementResponse {
            agreement: Some(agreement_to_pb(agreement)),
        })
    }

    async fn get_agreement(&self, request: Request<pb::GetAgreementRequest>) -> R<pb::GetAgreementResponse> {
        let p = principal(&request)?;
        let agreement_id = id("agreement_id", &request.get_ref().agreement_id)?;
        let agreement = self.app.get_agreement(&p, &agreement_id).await.map_err(to_status)?;
        ok(pb::GetAgreementResponse {
            agreement: Some(agreement_to_pb(agreement)),
        })
    }

    async fn list_agreements(&self, request: Request<pb::ListAgreementsRequest>) -> R<pb::ListAgreementsResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        if req.unit_org_id.is_empty() == req.community_id.is_empty() {
            return Err(err::invalid_field(
                "community_id",
                "give exactly one of community_id and unit_org_id",
            ));
        }
        let community_id = optional_id("community_id", &req.community_id)?;
        let unit_org_id = optional_id("unit_org_id", &req.unit_org_id)?;
        let year = any_year(req.year)?;
        let agreements = self
            .app
            .list_agreements(&p, &community_id, &unit_org_id, year)
            .await
            .map_err(to_status)?;
        ok(pb::ListAgreementsResponse {
            agreements: agreements.into_iter().map(agreement_to_pb).collect(),
        })
    }

    async fn update_project_status(
        &self,
        request: Request<pb::UpdateProjectStatusRequest>,
    ) -> R<pb::UpdateProjectStatusResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let agreement_id = id("agreement_id", &req.agreement_id)?;
        let project_id = id("project_id", &req.project_id)?;
        let status = project_status_from_pb(req.status)?;
        let agreement = self
            .app
            .update_project_status(&p, &agreement_id, &project_id, status)
            .await
            .map_err(to_status)?;
        ok(pb::UpdateProjectStatusResponse {
            agreement: Some(agreement_to_pb(agreement)),
        })
    }

    // ───────────── orders ─────────────

    async fn place_order(&self, request: Request<pb::PlaceOrderRequest>) -> R<pb::PlaceOrderResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let now = now_millis();
        let order = Order {
            id: new_id(),
            community_id: id("community_id", &req.community_id)?,
            resident_name: name("resident_name", &req.resident_name)?,
            place: text("place", &req.place, 200, false)?,
            content: words("content", &req.content, true)?,
            post_id: optional_id("post_id", &req.post_id)?,
            status: OrderStatus::Open,
            dispatch_note: String::new(),
            member_id: String::new(),
            attendance_id: String::new(),
            evidence_ids: Vec::new(),
            satisfaction: 0,
            resident_comment: String::new(),
            created_at: now,
            updated_at: now,
        };
        let order = self
            .app
            .place_order(&p, &req.request_id, order)
            .await
            .map_err(to_status)?;
        ok(pb::PlaceOrderResponse {
            order: Some(order_to_pb(order)),
        })
    }

    async fn dispatch_order(&self, request: Request<pb::DispatchOrderRequest>) -> R<pb::DispatchOrderResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let order_id = id("order_id", &req.order_id)?;
        let note = words("note", &req.note, false)?;
        let order = self.app.dispatch_order(&p, &order_id, note).await.map_err(to_status)?;
        ok(pb::DispatchOrderResponse {
            order: Some(order_to_pb(order)),
        })
    }

    async fn accept_order(&self, request: Request<pb::AcceptOrderRequest>) -> R<pb::AcceptOrderResponse> {
        let p = principal(&request)?;
        let order_id = id("order_id", &request.get_ref().order_id)?;
        let member_id = id("member_id", &request.get_ref().member_id)?;
        let order = self
            .app
            .accept_order(&p, &order_id, &member_id)
            .await
            .map_err(to_status)?;
        ok(pb::AcceptOrderResponse {
            order: Some(order_to_pb(order)),
        })
    }

    async fn complete_order(&self, request: Request<pb::CompleteOrderRequest>) -> R<pb::CompleteOrderResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let order_id = id("order_id", &req.order_id)?;
        let minutes = minutes("minutes", req.minutes)?;
        let evidence = evidence_ids("evidence_ids", &req.evidence_ids, true)?;
        let order = self
            .app
            .complete_order(&p, &order_id, minutes, evidence)
            .await
            .map_err(to_status)?;
        ok(pb::CompleteOrderResponse {
            order: Some(order_to_pb(order)),
        })
    }

    async fn rate_order(&self, request: Request<pb::RateOrderRequest>) -> R<pb::RateOrderResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let order_id = id("order_id", &req.order_id)?;
        if !(1..=5).contains(&req.satisfaction) {
            return Err(err::invalid_field("satisfaction", "must be between 1 and 5"));
        }
        let comment = words("comment", &req.comment, false)?;
        let order = self
            .app
            .rate_order(&p, &order_id, i64::from(req.satisfaction), comment)
            .await
            .map_err(to_status)?;
        ok(pb::RateOrderResponse {
            order: Some(order_to_pb(order)),
        })
    }

    async fn get_order(&self, request: Request<pb::GetOrderRequest>) -> R<pb::GetOrderResponse> {
        let p = principal(&request)?;
        let order_id = id("order_id", &request.get_ref().order_id)?;
        let order = self.app.get_order(&p, &order_id).await.map_err(to_status)?;
        ok(pb::GetOrderResponse {
            order: Some(order_to_pb(order)),
        })
    }

    async fn list_orders(&self, request: Request<pb::ListOrdersRequest>) -> R<pb::ListOrdersResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let community_id = id("community_id", &req.community_id)?;
        let status = order_status_from_pb(req.status)?;
        let page = page(req.page_size, &req.page_token)?;
        let (orders, next_page_token) = self
            .app
            .list_orders(&p, &community_id, status, &page)
            .await
            .map_err(to_status)?;
        ok(pb::ListOrdersResponse {
            orders: orders.into_iter().map(order_to_pb).collect(),
            next_page_token,
        })
    }

    // ───────────── wishes ─────────────

    async fn post_wish(&self, request: Request<pb::PostWishRequest>) -> R<pb::PostWishResponse> {
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
        let wish = self.app.post_wish(&p, &req.request_id, wish).await.map_err(to_status)?;
        ok(pb::PostWishResponse {
            wish: Some(wish_to_pb(wish)),
        })
    }

    async fn claim_wish(&self, request: Request<pb::ClaimWishRequest>) -> R<pb::ClaimWishResponse> {
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
        let wish = self
            .app
            .claim_wish(&p, &wish_id, &member_id, &unit_org_id)
            .await
            .map_err(to_status)?;
        ok(pb::ClaimWishResponse {
            wish: Some(wish_to_pb(wish)),
        })
    }

    async fn fulfil_wish(&self, request: Request<pb::FulfilWishRequest>) -> R<pb::FulfilWishResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let wish_id = id("wish_id", &req.wish_id)?;
        let minutes = minutes("minutes", req.minutes)?;
        let evidence = evidence_ids("evidence_ids", &req.evidence_ids, true)?;
        let wish = self
            .app
            .fulfil_wish(&p, &wish_id, minutes, evidence)
            .await
            .map_err(to_status)?;
        ok(pb::FulfilWishResponse {
            wish: Some(wish_to_pb(wish)),
        })
    }

    async fn list_wishes(&self, request: Request<pb::ListWishesRequest>) -> R<pb::ListWishesResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let community_id = id("community_id", &req.community_id)?;
        let status = wish_status_from_pb(req.status)?;
        let page = page(req.page_size, &req.page_token)?;
        let (wishes, next_page_token) = self
            .app
            .list_wishes(&p, &community_id, status, &page)
            .await
            .map_err(to_status)?;
        ok(pb::ListWishesResponse {
            wishes: wishes.into_iter().map(wish_to_pb).collect(),
            next_page_token,
        })
    }

    // ───────────── households ─────────────

    async fn assign_households(
        &self,
        request: Request<pb::AssignHouseholdsRequest>,
    ) -> R<pb::AssignHouseholdsResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let member_id = id("member_id", &req.member_id)?;
        let community_id = id("community_id", &req.community_id)?;
        let labels = text_list("labels", &req.labels, 100, 100)?;
        let households = self
            .app
            .assign_households(&p, &req.request_id, &member_id, &community_id, labels)
            .await
            .map_err(to_status)?;
        ok(pb::AssignHouseholdsResponse {
            households: households.into_iter().map(household_to_pb).collect(),
        })
    }

    async fn list_households(&self, request: Request<pb::ListHouseholdsRequest>) -> R<pb::ListHouseholdsResponse> {
        let p = principal(&request)?;
        let member_id = id("member_id", &request.get_ref().member_id)?;
        let households = self.app.list_households(&p, &member_id).await.map_err(to_status)?;
        ok(pb::ListHouseholdsResponse {
            households: households.into_iter().map(household_to_pb).collect(),
        })
    }

    async fn log_visit(&self, request: Request<pb::LogVisitRequest>) -> R<pb::LogVisitResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let household_id = id("household_id", &req.household_id)?;
        let minutes = minutes("minutes", req.minutes)?;
        let note = words("note", &req.note, false)?;
        let evidence = evidence_ids("evidence_ids", &req.evidence_ids, false)?;
        let (household, attendance) = self
            .app
            .log_visit(&p, &req.request_id, &household_id, minutes, note, evidence)
            .await
            .map_err(to_status)?;
        ok(pb::LogVisitResponse {
            household: Some(household_to_pb(household)),
            attendance: Some(attendance_to_pb(attendance)),
        })
    }

    // ───────────── activities ─────────────

    async fn create_activity(&self, request: Request<pb::CreateActivityRequest>) -> R<pb::CreateActivityResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let kind = activity_kind_from_pb(req.kind)?.ok_or_else(|| err::invalid_field("kind", "is required"))?;
        if kind.is_individual() {
            return Err(err::invalid_field(
                "kind",
                "ORDER, WISH and HOUSEHOLD_VISIT activities are created by CompleteOrder, FulfilWish and LogVisit",
            ));
        }
        let start_at = millis("start_time", req.start_time.as_ref())?;
        let end_at = millis("end_time", req.end_time.as_ref())?;
        if end_at <= start_at {
            return Err(err::invalid_field("end_time", "must be after start_time"));
        }
        if end_at - start_at > 24 * 3_600_000 {
            return Err(err::invalid_field("end_time", "an activity lasts at most a day"));
        }
        if !(1..=10_000).contains(&req.capacity) {
            return Err(err::invalid_field("capacity", "must be between 1 and 10000"));
        }
        let team_id = optional_id("team_id", &req.team_id)?;
        let studio_id = optional_id("studio_id", &req.studio_id)?;
        let agreement_id = optional_id("agreement_id", &req.agreement_id)?;
        let contact = text("contact", &req.contact, 100, false)?;
        match kind {
            ActivityKind::TeamService if team_id.is_empty() => {
                return Err(err::invalid_field(
                    "team_id",
                    "a team service names its team (S4 §3.3.2)",
                ));
            }
            ActivityKind::TeamService if contact.is_empty() => {
                return Err(err::invalid_field(
                    "contact",
                    "a team service publishes a contact (S4 §3.3.2)",
                ));
            }
            ActivityKind::StudioHours if studio_id.is_empty() => {
                return Err(err::invalid_field("studio_id", "studio hours name the studio"));
            }
            ActivityKind::ProjectWork if agreement_id.is_empty() => {
                return Err(err::invalid_field("agreement_id", "project work names its agreement"));
            }
            _ => {}
        }
        let new = NewActivity {
            community_id: id("community_id", &req.community_id)?,
            kind,
            title: text("title", &req.title, 200, true)?,
            content: words("content", &req.content, false)?,
            post_id: optional_id("post_id", &req.post_id)?,
            place: text("place", &req.place, 200, true)?,
            start_at,
            end_at,
            capacity: i64::from(req.capacity),
            organiser: text("organiser", &req.organiser, 100, true)?,
            contact,
            team_id,
            studio_id,
            agreement_id,
        };
        let activity = self
            .app
            .create_activity(&p, &req.request_id, new)
            .await
            .map_err(to_status)?;
        ok(pb::CreateActivityResponse {
            activity: Some(activity_to_pb(activity)),
        })
    }

    async fn get_activity(&self, request: Request<pb::GetActivityRequest>) -> R<pb::GetActivityResponse> {
        let p = principal(&request)?;
        let activity_id = id("activity_id", &request.get_ref().activity_id)?;
        let activity = self.app.get_activity(&p, &activity_id).await.map_err(to_status)?;
        ok(pb::GetActivityResponse {
            activity: Some(activity_to_pb(activity)),
        })
    }

    async fn list_activities(&self, request: Request<pb::ListActivitiesRequest>) -> R<pb::ListActivitiesResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let community_id = id("community_id", &req.community_id)?;
        let kind = activity_kind_from_pb(req.kind)?;
        let page = page(req.page_size, &req.page_token)?;
        let (activities, next_page_token) = self
            .app
            .list_activities(&p, &community_id, kind, &page)
            .await
            .map_err(to_status)?;
        ok(pb::ListActivitiesResponse {
            activities: activities.into_iter().map(activity_to_pb).collect(),
            next_page_token,
        })
    }

    async fn issue_check_in_code(
        &self,
        request: Request<pb::IssueCheckInCodeRequest>,
    ) -> R<pb::IssueCheckInCodeResponse> {
        let p = principal(&request)?;
        let activity_id = id("activity_id", &request.get_ref().activity_id)?;
        let (code, expires_at) = self
            .app
            .issue_check_in_code(&p, &activity_id)
            .await
            .map_err(to_status)?;
        ok(pb::IssueCheckInCodeResponse {
            code,
            expire_time: Some(dualreport_platform::wire::timestamp(expires_at)),
        })
    }

    async fn sign_up(&self, request: Request<pb::SignUpRequest>) -> R<pb::SignUpResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let activity_id = id("activity_id", &req.activity_id)?;
        let member_id = id("member_id", &req.member_id)?;
        let attendance = self
            .app
            .sign_up(&p, &req.request_id, &activity_id, &member_id)
            .await
            .map_err(to_status)?;
        ok(pb::SignUpResponse {
            attendance: Some(attendance_to_pb(attendance)),
        })
    }

    async fn check_in(&self, request: Request<pb::CheckInRequest>) -> R<pb::CheckInResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let activity_id = id("activity_id", &req.activity_id)?;
        let member_id = id("member_id", &req.member_id)?;
        if req.code.len() != 6 || !req.code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err::invalid_field("code", "must be the six digits the organiser shows"));
        }
        let attendance = self
            .app
            .check_in(&p, &activity_id, &member_id, &req.code)
            .await
            .map_err(to_status)?;
        ok(pb::CheckInResponse {
            attendance: Some(attendance_to_pb(attendance)),
        })
    }

    async fn confirm_attendance(
        &self,
        request: Request<pb::ConfirmAttendanceRequest>,
    ) -> R<pb::ConfirmAttendanceResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let attendance_id = id("attendance_id", &req.attendance_id)?;
        let note = words("note", &req.note, false)?;
        let evidence = evidence_ids("evidence_ids", &req.evidence_ids, false)?;
        let attendance = self
            .app
            .confirm_attendance(
                &p,
                &req.request_id,
                &attendance_id,
                i64::from(req.adjustment),
                note,
                evidence,
            )
            .await
            .map_err(to_status)?;
        ok(pb::ConfirmAttendanceResponse {
            attendance: Some(attendance_to_pb(attendance)),
        })
    }

    async fn list_attendance(&self, request: Request<pb::ListAttendanceRequest>) -> R<pb::ListAttendanceResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        if req.activity_id.is_empty() == req.member_id.is_empty() {
            return Err(err::invalid_field(
                "activity_id",
                "give exactly one of activity_id and member_id",
            ));
        }
        let activity_id = optional_id("activity_id", &req.activity_id)?;
        let member_id = optional_id("member_id", &req.member_id)?;
        let year = any_year(req.year)?;
        let page = page(req.page_size, &req.page_token)?;
        let (rows, next_page_token) = self
            .app
            .list_attendance(&p, &activity_id, &member_id, year, &page)
            .await
            .map_err(to_status)?;
        ok(pb::ListAttendanceResponse {
            attendance: rows.into_iter().map(attendance_to_pb).collect(),
            next_page_token,
        })
    }

    async fn upload_evidence(&self, request: Request<pb::UploadEvidenceRequest>) -> R<pb::UploadEvidenceResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let community_id = id("community_id", &req.community_id)?;
        let kind = evidence_kind_from_pb(req.kind)?;
        let text = text("text", &req.text, self.app.rules().evidence.max_text_chars, false)?;
        let evidence = self
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

    async fn get_evidence(&self, request: Request<pb::GetEvidenceRequest>) -> R<pb::GetEvidenceResponse> {
        let p = principal(&request)?;
        let evidence_id = id("evidence_id", &request.get_ref().evidence_id)?;
        let (evidence, data) = self
            .app
            .get_evidence(&p, &evidence_id, request.get_ref().include_data)
            .await
            .map_err(to_status)?;
        ok(pb::GetEvidenceResponse {
            evidence: Some(evidence_to_pb(evidence)),
            data: data.to_vec(),
        })
    }

    // ───────────── unit records ─────────────

    async fn record_unit_service(
        &self,
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
        let record = self
            .app
            .record_unit_service(&p, &req.request_id, record)
            .await
            .map_err(to_status)?;
        ok(pb::RecordUnitServiceResponse {
            record: Some(unit_record_to_pb(record)),
        })
    }

    async fn list_unit_records(&self, request: Request<pb::ListUnitRecordsRequest>) -> R<pb::ListUnitRecordsResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let unit_org_id = id("unit_org_id", &req.unit_org_id)?;
        let year = any_year(req.year)?;
        let page = page(req.page_size, &req.page_token)?;
        let (records, next_page_token) = self
            .app
            .list_unit_records(&p, &unit_org_id, year, &page)
            .await
            .map_err(to_status)?;
        ok(pb::ListUnitRecordsResponse {
            records: records.into_iter().map(unit_record_to_pb).collect(),
            next_page_token,
        })
    }
}
