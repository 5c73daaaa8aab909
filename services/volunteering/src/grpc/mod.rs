//! The gRPC layer: proto → domain (failures name the field), call
//! [`Volunteering`], domain → proto. Prost types stop here.

pub mod access;
mod activities;
mod convert;
mod orders;
mod pledges;
mod posts;
mod records;
mod teams_studios;
mod volunteer_records;
mod wishes;

use dualreport_platform::auth::principal;
use dualreport_platform::error as err;
use dualreport_platform::filter::DateWindow;
use dualreport_platform::ids::new_id;
use dualreport_platform::validate::{Violations, id, known, optional_id, text};
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
        V::Common(failure) => failure.into(),
        V::NotRegistered(m) => err::status(Code::FailedPrecondition, E::NotRegistered, m),
        V::NotPaired(m) => err::status(Code::FailedPrecondition, E::NotPaired, m),
        V::AlreadyTaken(m) => err::status(Code::FailedPrecondition, E::AlreadyTaken, m),
        V::CapacityFull(m) => err::status(Code::FailedPrecondition, E::CapacityFull, m),
        V::ActivityFinished(m) => err::status(Code::FailedPrecondition, E::ActivityFinished, m),
        V::CodeExpired(m) => err::status(Code::FailedPrecondition, E::CodeExpired, m),
        V::OutOfBounds(m) => err::status(Code::FailedPrecondition, E::OutOfBounds, m),
        V::CountOutOfBounds(field) => err::invalid_fields_because(E::OutOfBounds, &[field]),
        V::AlreadyExists(m) => err::status(Code::AlreadyExists, E::AlreadyExists, m),
        V::Unavailable(m) => err::status(Code::Unavailable, E::UpstreamUnavailable, m),
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

fn millis(field_name: &str, ts: Option<&prost_types::Timestamp>) -> Result<i64, Status> {
    let ts = ts.ok_or_else(|| err::invalid_field(field_name, "is required"))?;
    if !(0..1_000_000_000).contains(&ts.nanos) || ts.seconds < 946_684_800 || ts.seconds > 4_102_444_800 {
        return Err(err::invalid_field(field_name, "must be a time between 2000 and 2100"));
    }
    Ok(dualreport_platform::wire::millis_of(ts))
}

type R<T> = Result<Response<T>, Status>;

fn ok<T>(value: T) -> R<T> {
    Ok(Response::new(value))
}

#[tonic::async_trait]
impl VolunteeringService for VolunteeringApi {
    async fn list_posts(&self, request: Request<pb::ListPostsRequest>) -> R<pb::ListPostsResponse> {
        posts::list_posts(self, request).await
    }

    async fn create_post(&self, request: Request<pb::CreatePostRequest>) -> R<pb::CreatePostResponse> {
        posts::create_post(self, request).await
    }

    async fn claim_post(&self, request: Request<pb::ClaimPostRequest>) -> R<pb::ClaimPostResponse> {
        posts::claim_post(self, request).await
    }

    async fn withdraw_claim(&self, request: Request<pb::WithdrawClaimRequest>) -> R<pb::WithdrawClaimResponse> {
        posts::withdraw_claim(self, request).await
    }

    async fn list_claims(&self, request: Request<pb::ListClaimsRequest>) -> R<pb::ListClaimsResponse> {
        posts::list_claims(self, request).await
    }

    async fn create_team(&self, request: Request<pb::CreateTeamRequest>) -> R<pb::CreateTeamResponse> {
        teams_studios::create_team(self, request).await
    }

    async fn join_team(&self, request: Request<pb::JoinTeamRequest>) -> R<pb::JoinTeamResponse> {
        teams_studios::join_team(self, request).await
    }

    async fn leave_team(&self, request: Request<pb::LeaveTeamRequest>) -> R<pb::LeaveTeamResponse> {
        teams_studios::leave_team(self, request).await
    }

    async fn list_teams(&self, request: Request<pb::ListTeamsRequest>) -> R<pb::ListTeamsResponse> {
        teams_studios::list_teams(self, request).await
    }

    async fn create_studio(&self, request: Request<pb::CreateStudioRequest>) -> R<pb::CreateStudioResponse> {
        teams_studios::create_studio(self, request).await
    }

    async fn list_studios(&self, request: Request<pb::ListStudiosRequest>) -> R<pb::ListStudiosResponse> {
        teams_studios::list_studios(self, request).await
    }

    async fn set_pledge(&self, request: Request<pb::SetPledgeRequest>) -> R<pb::SetPledgeResponse> {
        pledges::set_pledge(self, request).await
    }

    async fn get_pledge(&self, request: Request<pb::GetPledgeRequest>) -> R<pb::GetPledgeResponse> {
        pledges::get_pledge(self, request).await
    }

    async fn list_pledges(&self, request: Request<pb::ListPledgesRequest>) -> R<pb::ListPledgesResponse> {
        pledges::list_pledges(self, request).await
    }

    async fn create_agreement(&self, request: Request<pb::CreateAgreementRequest>) -> R<pb::CreateAgreementResponse> {
        pledges::create_agreement(self, request).await
    }

    async fn get_agreement(&self, request: Request<pb::GetAgreementRequest>) -> R<pb::GetAgreementResponse> {
        pledges::get_agreement(self, request).await
    }

    async fn list_agreements(&self, request: Request<pb::ListAgreementsRequest>) -> R<pb::ListAgreementsResponse> {
        pledges::list_agreements(self, request).await
    }

    async fn update_project_status(
        &self,
        request: Request<pb::UpdateProjectStatusRequest>,
    ) -> R<pb::UpdateProjectStatusResponse> {
        pledges::update_project_status(self, request).await
    }

    async fn place_order(&self, request: Request<pb::PlaceOrderRequest>) -> R<pb::PlaceOrderResponse> {
        orders::place_order(self, request).await
    }

    async fn dispatch_order(&self, request: Request<pb::DispatchOrderRequest>) -> R<pb::DispatchOrderResponse> {
        orders::dispatch_order(self, request).await
    }

    async fn accept_order(&self, request: Request<pb::AcceptOrderRequest>) -> R<pb::AcceptOrderResponse> {
        orders::accept_order(self, request).await
    }

    async fn complete_order(&self, request: Request<pb::CompleteOrderRequest>) -> R<pb::CompleteOrderResponse> {
        orders::complete_order(self, request).await
    }

    async fn rate_order(&self, request: Request<pb::RateOrderRequest>) -> R<pb::RateOrderResponse> {
        orders::rate_order(self, request).await
    }

    async fn get_order(&self, request: Request<pb::GetOrderRequest>) -> R<pb::GetOrderResponse> {
        orders::get_order(self, request).await
    }

    async fn list_orders(&self, request: Request<pb::ListOrdersRequest>) -> R<pb::ListOrdersResponse> {
        orders::list_orders(self, request).await
    }

    async fn post_wish(&self, request: Request<pb::PostWishRequest>) -> R<pb::PostWishResponse> {
        wishes::post_wish(self, request).await
    }

    async fn claim_wish(&self, request: Request<pb::ClaimWishRequest>) -> R<pb::ClaimWishResponse> {
        wishes::claim_wish(self, request).await
    }

    async fn fulfil_wish(&self, request: Request<pb::FulfilWishRequest>) -> R<pb::FulfilWishResponse> {
        wishes::fulfil_wish(self, request).await
    }

    async fn list_wishes(&self, request: Request<pb::ListWishesRequest>) -> R<pb::ListWishesResponse> {
        wishes::list_wishes(self, request).await
    }

    async fn assign_households(
        &self,
        request: Request<pb::AssignHouseholdsRequest>,
    ) -> R<pb::AssignHouseholdsResponse> {
        wishes::assign_households(self, request).await
    }

    async fn list_households(&self, request: Request<pb::ListHouseholdsRequest>) -> R<pb::ListHouseholdsResponse> {
        wishes::list_households(self, request).await
    }

    async fn log_visit(&self, request: Request<pb::LogVisitRequest>) -> R<pb::LogVisitResponse> {
        wishes::log_visit(self, request).await
    }

    async fn create_activity(&self, request: Request<pb::CreateActivityRequest>) -> R<pb::CreateActivityResponse> {
        activities::create_activity(self, request).await
    }

    async fn get_activity(&self, request: Request<pb::GetActivityRequest>) -> R<pb::GetActivityResponse> {
        activities::get_activity(self, request).await
    }

    async fn list_activities(&self, request: Request<pb::ListActivitiesRequest>) -> R<pb::ListActivitiesResponse> {
        activities::list_activities(self, request).await
    }

    async fn issue_check_in_code(
        &self,
        request: Request<pb::IssueCheckInCodeRequest>,
    ) -> R<pb::IssueCheckInCodeResponse> {
        activities::issue_check_in_code(self, request).await
    }

    async fn sign_up(&self, request: Request<pb::SignUpRequest>) -> R<pb::SignUpResponse> {
        activities::sign_up(self, request).await
    }

    async fn check_in(&self, request: Request<pb::CheckInRequest>) -> R<pb::CheckInResponse> {
        activities::check_in(self, request).await
    }

    async fn confirm_attendance(
        &self,
        request: Request<pb::ConfirmAttendanceRequest>,
    ) -> R<pb::ConfirmAttendanceResponse> {
        activities::confirm_attendance(self, request).await
    }

    async fn batch_confirm_attendance(
        &self,
        request: Request<pb::BatchConfirmAttendanceRequest>,
    ) -> R<pb::BatchConfirmAttendanceResponse> {
        activities::batch_confirm_attendance(self, request).await
    }

    async fn list_attendance(&self, request: Request<pb::ListAttendanceRequest>) -> R<pb::ListAttendanceResponse> {
        activities::list_attendance(self, request).await
    }

    type ExportVolunteerRecordsStream = volunteer_records::ExportStream;

    async fn export_volunteer_records(
        &self,
        request: Request<pb::ExportVolunteerRecordsRequest>,
    ) -> R<Self::ExportVolunteerRecordsStream> {
        volunteer_records::export_volunteer_records(self, request).await
    }

    async fn mark_volunteer_records(
        &self,
        request: Request<pb::MarkVolunteerRecordsRequest>,
    ) -> R<pb::MarkVolunteerRecordsResponse> {
        volunteer_records::mark_volunteer_records(self, request).await
    }

    async fn issue_service_certificate(
        &self,
        request: Request<pb::IssueServiceCertificateRequest>,
    ) -> R<pb::IssueServiceCertificateResponse> {
        volunteer_records::issue_service_certificate(self, request).await
    }

    async fn upload_evidence(&self, request: Request<pb::UploadEvidenceRequest>) -> R<pb::UploadEvidenceResponse> {
        records::upload_evidence(self, request).await
    }

    async fn get_evidence(&self, request: Request<pb::GetEvidenceRequest>) -> R<pb::GetEvidenceResponse> {
        records::get_evidence(self, request).await
    }

    async fn record_unit_service(
        &self,
        request: Request<pb::RecordUnitServiceRequest>,
    ) -> R<pb::RecordUnitServiceResponse> {
        records::record_unit_service(self, request).await
    }

    async fn list_unit_records(&self, request: Request<pb::ListUnitRecordsRequest>) -> R<pb::ListUnitRecordsResponse> {
        records::list_unit_records(self, request).await
    }
}

/// Exactly one of a community and an org subtree.
fn area(community_id: &str, org_id: &str) -> Result<Area, Status> {
    match (community_id.is_empty(), org_id.is_empty()) {
        (false, true) => Ok(Area::Community(id("community_id", community_id)?)),
        (true, false) => Ok(Area::Subtree(id("org_id", org_id)?)),
        _ => Err(err::invalid_field(
            "community_id",
            "give exactly one of community_id and org_id",
        )),
    }
}
