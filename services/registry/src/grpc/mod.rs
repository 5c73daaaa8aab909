//! The gRPC layer: proto → domain (failures name the field), call the
//! [`Registry`], domain → proto. Prost types stop here.

pub mod access;
mod convert;

use dualreport_platform::auth::principal;
use dualreport_platform::error::{self as err, FieldError};
use dualreport_platform::validate::known;
use dualreport_platform::wire::page;
use dualreport_proto::common::v1::ErrorReason;
use dualreport_proto::registry::v1 as pb;
use dualreport_proto::registry::v1::registry_service_server::RegistryService;
use std::pin::Pin;
use std::time::Duration;

use dualreport_platform::auth::Principal;
use futures::{Stream, StreamExt as _};
use tonic::{Code, Request, Response, Status, Streaming};

use crate::app::{ImportOutcome, MAX_IMPORT_ROWS, Registry, UnitReportDraft};
use crate::domain::RegistryError;
use crate::domain::org::OrgType;
use crate::storage::OrgFilter;
use convert::*;

pub struct RegistryApi {
    registry: Registry,
    /// How long one import batch may take (`server.request_timeout_ms`).
    batch_timeout: Duration,
    /// Batches of one import stream worked on at once.
    batches_in_flight: usize,
}

impl RegistryApi {
    pub fn new(registry: Registry, batch_timeout: Duration, batches_in_flight: usize) -> Self {
        Self {
            registry,
            batch_timeout,
            batches_in_flight: batches_in_flight.max(1),
        }
    }
}

/// The reply stream of `ImportMembers`: one message per batch.
pub type ImportReplies = Pin<Box<dyn Stream<Item = Result<pb::ImportMembersResponse, Status>> + Send>>;

/// Checks and writes one batch within `per_batch`; a batch that runs out of
/// time is rolled back whole.
async fn import_one(
    registry: &Registry,
    p: &Principal,
    index: i32,
    batch: pb::ImportMembersRequest,
    per_batch: Duration,
) -> Result<pb::ImportMembersResponse, Status> {
    if batch.rows.len() > MAX_IMPORT_ROWS {
        return Err(err::invalid_field(
            "rows",
            format!(
                "a batch holds at most {MAX_IMPORT_ROWS} rows (batch {index} has {})",
                batch.rows.len()
            ),
        ));
    }
    let rows = batch
        .rows
        .iter()
        .map(|row| profile_from_pb(Some(row), "row"))
        .collect::<Vec<_>>();
    let outcome = tokio::time::timeout(per_batch, registry.import_batch(p, &batch.request_id, rows))
        .await
        .map_err(|_| {
            err::status(
                Code::DeadlineExceeded,
                ErrorReason::BatchTooSlow,
                format!(
                    "batch {index} took longer than {} ms and was not written; send smaller batches",
                    per_batch.as_millis()
                ),
            )
        })?
        .map_err(to_status)?;
    let mut reply = pb::ImportMembersResponse {
        batch: index,
        request_id: batch.request_id,
        ..Default::default()
    };
    match outcome {
        ImportOutcome::Committed(ids) | ImportOutcome::Replayed(ids) => {
            reply.committed = true;
            reply.member_ids = ids;
        }
        ImportOutcome::Rejected(errors) => {
            reply.errors = errors
                .into_iter()
                .map(|(row, e): (usize, FieldError)| pb::ImportRowError {
                    batch: index,
                    row: i32::try_from(row).unwrap_or(i32::MAX),
                    field: e.field,
                    description: e.description,
                })
                .collect();
        }
    }
    Ok(reply)
}

/// Every domain error → status, exhaustively: a new variant is a compile error here.
fn to_status(error: RegistryError) -> Status {
    match error {
        RegistryError::Invalid(fields) => err::invalid_fields(&fields),
        RegistryError::NotFound { what, id } => err::not_found(what, &id),
        RegistryError::AlreadyExists(m) => err::status(Code::AlreadyExists, ErrorReason::AlreadyExists, m),
        RegistryError::OutOfScope(m) => err::status(Code::PermissionDenied, ErrorReason::OutOfScope, m),
        e @ RegistryError::TreeCycle(_) => err::status(Code::FailedPrecondition, ErrorReason::TreeCycle, e.to_string()),
        RegistryError::InvalidParent(m) => err::status(Code::FailedPrecondition, ErrorReason::InvalidParent, m),
        RegistryError::OutsideWindow(m) => err::status(Code::FailedPrecondition, ErrorReason::OutsideWindow, m),
        RegistryError::WrongState(m) => err::status(Code::FailedPrecondition, ErrorReason::WrongState, m),
        RegistryError::LetterRequired(m) => err::status(Code::FailedPrecondition, ErrorReason::LetterRequired, m),
        e @ RegistryError::SameCommunity(_) => {
            err::status(Code::FailedPrecondition, ErrorReason::SameCommunity, e.to_string())
        }
        RegistryError::Conflict(m) => err::status(Code::Aborted, ErrorReason::Conflict, m),
        e @ RegistryError::RequestIdReused => {
            err::status(Code::FailedPrecondition, ErrorReason::RequestIdReused, e.to_string())
        }
        RegistryError::Internal(e) => err::internal(e.as_ref()),
    }
}

/// An id or number the registry issued: not empty, at most 128 characters.
fn required(field: &str, value: &str) -> Result<(), Status> {
    if value.trim().is_empty() {
        Err(err::invalid_field(field, "must not be empty"))
    } else if value.chars().count() > 128 {
        Err(err::invalid_field(field, "must be at most 128 characters"))
    } else {
        Ok(())
    }
}

fn text(field: &str, value: &str, max: usize, required: bool) -> Result<String, Status> {
    crate::domain::text(field, value, max, required).map_err(|e| err::invalid_fields(&[e]))
}

type R<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl RegistryService for RegistryApi {
    async fn create_organization(
        &self,
        request: Request<pb::CreateOrganizationRequest>,
    ) -> R<pb::CreateOrganizationResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let input = org_input(req.organization.as_ref(), true)?;
        let org = self
            .registry
            .create_org(&p, &req.request_id, input)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::CreateOrganizationResponse {
            organization: Some(org_to_pb(org)),
        }))
    }

    async fn get_organization(&self, request: Request<pb::GetOrganizationRequest>) -> R<pb::GetOrganizationResponse> {
        principal(&request)?;
        let req = request.into_inner();
        required("organization_id", &req.organization_id)?;
        let org = self.registry.get_org(&req.organization_id).await.map_err(to_status)?;
        Ok(Response::new(pb::GetOrganizationResponse {
            organization: Some(org_to_pb(org)),
        }))
    }

    async fn list_organizations(
        &self,
        request: Request<pb::ListOrganizationsRequest>,
    ) -> R<pb::ListOrganizationsResponse> {
        principal(&request)?;
        let req = request.into_inner();
        let page = page(req.page_size, &req.page_token)?;
        let org_type = match pb::OrganizationType::try_from(req.r#type) {
            Ok(pb::OrganizationType::Unspecified) => None,
            Ok(t) => Some(org_type_from_pb(t).ok_or_else(|| err::invalid_field("type", "unknown type"))?),
            Err(_) => return Err(err::invalid_field("type", "unknown type")),
        };
        let filter = OrgFilter {
            parent_id: (!req.parent_id.is_empty()).then_some(req.parent_id.as_str()),
            org_type,
            district_id: (!req.district_id.is_empty()).then_some(req.district_id.as_str()),
        };
        let (orgs, next) = self.registry.list_orgs(&filter, &page).await.map_err(to_status)?;
        Ok(Response::new(pb::ListOrganizationsResponse {
            organizations: orgs.into_iter().map(org_to_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn update_organization(
        &self,
        request: Request<pb::UpdateOrganizationRequest>,
    ) -> R<pb::UpdateOrganizationResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        required("organization_id", &req.organization_id)?;
        let mask = req.update_mask.map(|m| m.paths).unwrap_or_default();
        if mask.is_empty() {
            return Err(err::invalid_field("update_mask", "name at least one field to update"));
        }
        let input = org_input(req.organization.as_ref(), false)?;
        if mask.iter().any(|p| p == "name") && input.name.is_empty() {
            return Err(err::invalid_field("organization.name", "must not be empty"));
        }
        let org = self
            .registry
            .update_org(&p, &req.request_id, &req.organization_id, input, &mask)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::UpdateOrganizationResponse {
            organization: Some(org_to_pb(org)),
        }))
    }

    async fn create_member(&self, request: Request<pb::CreateMemberRequest>) -> R<pb::CreateMemberResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let profile = profile_from_pb(req.profile.as_ref(), "profile").map_err(|e| err::invalid_fields(&e))?;
        let member = self
            .registry
            .create_member(&p, &req.request_id, profile)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::CreateMemberResponse {
            member: Some(member_to_pb(member)),
        }))
    }

    async fn get_member(&self, request: Request<pb::GetMemberRequest>) -> R<pb::GetMemberResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        required("member_id", &req.member_id)?;
        let view: pb::MemberView = known("view", req.view)?;
        let whole = view == pb::MemberView::Full;
        let member = self
            .registry
            .get_member(&p, &req.member_id, whole)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::GetMemberResponse {
            member: Some(member_to_pb(member)),
        }))
    }

    async fn list_members(&self, request: Request<pb::ListMembersRequest>) -> R<pb::ListMembersResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let page = page(req.page_size, &req.page_token)?;
        let (members, next) = self
            .registry
            .list_members(&p, &req.unit_org_id, &req.community_id, &page)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ListMembersResponse {
            members: members.into_iter().map(member_to_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn update_member(&self, request: Request<pb::UpdateMemberRequest>) -> R<pb::UpdateMemberResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        required("member_id", &req.member_id)?;
        let mask = req.update_mask.map(|m| m.paths).unwrap_or_default();
        if mask.is_empty() {
            return Err(err::invalid_field("update_mask", "name at least one field to update"));
        }
        if mask.iter().any(|m| m == "unit_org_id") {
            return Err(err::invalid_field(
                "update_mask",
                "unit_org_id does not change; the new unit registers the member",
            ));
        }
        let update = partial_profile(req.profile.as_ref(), &mask)?;
        let member = self
            .registry
            .update_member(&p, &req.request_id, &req.member_id, update, &mask)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::UpdateMemberResponse {
            member: Some(member_to_pb(member)),
        }))
    }

    type ImportMembersStream = ImportReplies;

    async fn import_members(
        &self,
        request: Request<Streaming<pb::ImportMembersRequest>>,
    ) -> R<Self::ImportMembersStream> {
        let p = principal(&request)?;
        let batches = request.into_inner();
        let (registry, per_batch) = (self.registry.clone(), self.batch_timeout);
        // On PostgreSQL two batches in flight: the next is checked and sealed
        // while this one is written; replies keep the order of the batches,
        // and the stream ends at the first batch that fails.
        let replies = batches
            .enumerate()
            .map(move |(index, batch)| {
                let (registry, p) = (registry.clone(), p.clone());
                async move {
                    let index = i32::try_from(index).unwrap_or(i32::MAX);
                    let batch = batch.map_err(dualreport_platform::edge::stream_message_status)?;
                    import_one(&registry, &p, index, batch, per_batch).await
                }
            })
            .buffered(self.batches_in_flight)
            .scan(false, |failed, reply| {
                let next = (!*failed).then(|| {
                    *failed = reply.is_err();
                    reply
                });
                std::future::ready(next)
            });
        Ok(Response::new(Box::pin(replies)))
    }

    async fn list_personal_info_accesses(
        &self,
        request: Request<pb::ListPersonalInfoAccessesRequest>,
    ) -> R<pb::ListPersonalInfoAccessesResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let page = page(req.page_size, &req.page_token)?;
        let (rows, next) = self
            .registry
            .list_accesses(&p, &req.member_id, &page)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ListPersonalInfoAccessesResponse {
            accesses: rows.into_iter().map(access_to_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn submit_unit_report(
        &self,
        request: Request<pb::SubmitUnitReportRequest>,
    ) -> R<pb::SubmitUnitReportResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        required("unit_org_id", &req.unit_org_id)?;
        required("community_id", &req.community_id)?;
        let resources = text("resources", &req.resources, 2000, false)?;
        let suggestions = text("suggestions", &req.suggestions, 2000, false)?;
        let report = self
            .registry
            .submit_unit_report(
                &p,
                &req.request_id,
                UnitReportDraft {
                    unit_org_id: req.unit_org_id.clone(),
                    community_id: req.community_id.clone(),
                    year: req.year,
                    resources,
                    suggestions,
                },
            )
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::SubmitUnitReportResponse {
            report: Some(unit_report_to_pb(report)),
        }))
    }

    async fn receive_unit_report(
        &self,
        request: Request<pb::ReceiveUnitReportRequest>,
    ) -> R<pb::ReceiveUnitReportResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        required("report_id", &req.report_id)?;
        let report = self
            .registry
            .receive_unit_report(&p, &req.request_id, &req.report_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ReceiveUnitReportResponse {
            report: Some(unit_report_to_pb(report)),
        }))
    }

    async fn get_unit_report(&self, request: Request<pb::GetUnitReportRequest>) -> R<pb::GetUnitReportResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        required("report_id", &req.report_id)?;
        let report = self
            .registry
            .get_unit_report(&p, &req.report_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::GetUnitReportResponse {
            report: Some(unit_report_to_pb(report)),
        }))
    }

    async fn list_unit_reports(&self, request: Request<pb::ListUnitReportsRequest>) -> R<pb::ListUnitReportsResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let page = page(req.page_size, &req.page_token)?;
        let (reports, next) = self
            .registry
            .list_unit_reports(&p, &req.org_id, req.year, &page)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ListUnitReportsResponse {
            reports: reports.into_iter().map(unit_report_to_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn issue_introduction_letter(
        &self,
        request: Request<pb::IssueIntroductionLetterRequest>,
    ) -> R<pb::IssueIntroductionLetterResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        required("member_id", &req.member_id)?;
        required("community_id", &req.community_id)?;
        let letter = self
            .registry
            .issue_letter(&p, &req.request_id, &req.member_id, &req.community_id, req.year)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::IssueIntroductionLetterResponse {
            letter: Some(letter_to_pb(letter)),
        }))
    }

    async fn submit_member_report(
        &self,
        request: Request<pb::SubmitMemberReportRequest>,
    ) -> R<pb::SubmitMemberReportResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        required("member_id", &req.member_id)?;
        required("community_id", &req.community_id)?;
        let report = self
            .registry
            .submit_member_report(
                &p,
                &req.request_id,
                &req.member_id,
                &req.community_id,
                req.year,
                &req.letter_id,
            )
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::SubmitMemberReportResponse {
            report: Some(member_report_to_pb(report)),
        }))
    }

    async fn confirm_member_report(
        &self,
        request: Request<pb::ConfirmMemberReportRequest>,
    ) -> R<pb::ConfirmMemberReportResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        required("report_id", &req.report_id)?;
        let branch = text("branch", &req.branch, 100, true)?;
        let report = self
            .registry
            .confirm_member_report(&p, &req.request_id, &req.report_id, &branch)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ConfirmMemberReportResponse {
            report: Some(member_report_to_pb(report)),
        }))
    }

    async fn get_member_report(&self, request: Request<pb::GetMemberReportRequest>) -> R<pb::GetMemberReportResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        required("report_id", &req.report_id)?;
        let report = self
            .registry
            .get_member_report(&p, &req.report_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::GetMemberReportResponse {
            report: Some(member_report_to_pb(report)),
        }))
    }

    async fn list_member_reports(
        &self,
        request: Request<pb::ListMemberReportsRequest>,
    ) -> R<pb::ListMemberReportsResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let page = page(req.page_size, &req.page_token)?;
        let (reports, next) = self
            .registry
            .list_member_reports(&p, &req.member_id, &req.org_id, req.year, &page)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ListMemberReportsResponse {
            reports: reports.into_iter().map(member_report_to_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn get_receipt(&self, request: Request<pb::GetReceiptRequest>) -> R<pb::GetReceiptResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        required("number", &req.number)?;
        let receipt = self.registry.get_receipt(&p, &req.number).await.map_err(to_status)?;
        Ok(Response::new(pb::GetReceiptResponse {
            receipt: Some(receipt_to_pb(receipt)),
        }))
    }

    async fn list_register(&self, request: Request<pb::ListRegisterRequest>) -> R<pb::ListRegisterResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        required("community_id", &req.community_id)?;
        let page = page(req.page_size, &req.page_token)?;
        let (rows, next) = self
            .registry
            .register(&p, &req.community_id, req.year, &page)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ListRegisterResponse {
            entries: rows
                .into_iter()
                .map(|r| pb::RegisterEntry {
                    member_id: r.member_id,
                    member_name: r.member_name,
                    unit_org_id: r.unit_org_id,
                    branch: r.branch,
                    report_id: r.report_id,
                    year: r.year,
                    since_time: Some(timestamp(r.since)),
                })
                .collect(),
            next_page_token: next,
        }))
    }

    async fn declare_relocation(
        &self,
        request: Request<pb::DeclareRelocationRequest>,
    ) -> R<pb::DeclareRelocationResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        required("member_id", &req.member_id)?;
        required("to_community_id", &req.to_community_id)?;
        let reason = text("reason", &req.reason, 500, false)?;
        let relocation = self
            .registry
            .declare_relocation(&p, &req.request_id, &req.member_id, &req.to_community_id, reason)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::DeclareRelocationResponse {
            relocation: Some(relocation_to_pb(relocation, crate::domain::china_today())),
        }))
    }

    async fn list_relocations(&self, request: Request<pb::ListRelocationsRequest>) -> R<pb::ListRelocationsResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let page = page(req.page_size, &req.page_token)?;
        let as_of = match &req.as_of {
            None => crate::domain::china_today(),
            Some(d) => date_from_pb(d).ok_or_else(|| err::invalid_field("as_of", "is not a real date"))?,
        };
        let (rows, next) = self
            .registry
            .list_relocations(&p, &req.org_id, req.overdue_only, as_of, &page)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ListRelocationsResponse {
            relocations: rows.into_iter().map(|r| relocation_to_pb(r, as_of)).collect(),
            next_page_token: next,
        }))
    }

    async fn record_non_report_reason(
        &self,
        request: Request<pb::RecordNonReportReasonRequest>,
    ) -> R<pb::RecordNonReportReasonResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        required("member_id", &req.member_id)?;
        let reason = text("reason", &req.reason, 500, true)?;
        self.registry
            .record_non_report_reason(&p, &req.member_id, req.year, &reason)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::RecordNonReportReasonResponse {}))
    }

    async fn get_report_statistics(
        &self,
        request: Request<pb::GetReportStatisticsRequest>,
    ) -> R<pb::GetReportStatisticsResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let (units, communities) = self
            .registry
            .statistics(&p, &req.org_id, req.year)
            .await
            .map_err(to_status)?;
        Ok(Response::new(statistics_to_pb(req.year, units, communities)))
    }

    async fn list_not_reported_members(
        &self,
        request: Request<pb::ListNotReportedMembersRequest>,
    ) -> R<pb::ListNotReportedMembersResponse> {
        let p = principal(&request)?;
        let req = request.into_inner();
        let page = page(req.page_size, &req.page_token)?;
        let (rows, next_page_token) = self
            .registry
            .not_reported(&p, &req.org_id, req.year, &page)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ListNotReportedMembersResponse {
            members: rows
                .into_iter()
                .map(|m| pb::NotReportedMember {
                    member_id: m.member_id,
                    member_name: m.name,
                    reason: m.reason.unwrap_or_default(),
                    unit_org_id: m.unit_org_id,
                })
                .collect(),
            next_page_token,
        }))
    }

    async fn get_policy(&self, request: Request<pb::GetPolicyRequest>) -> R<pb::GetPolicyResponse> {
        principal(&request)?;
        Ok(Response::new(pb::GetPolicyResponse {
            policy: Some(policy_to_pb(self.registry.policy())),
        }))
    }
}

/// The proto org type, or None for the unspecified value.
fn org_type_from_pb(t: pb::OrganizationType) -> Option<OrgType> {
    use crate::domain::org::UnitKind as K;
    use pb::OrganizationType as T;
    Some(match t {
        T::Unspecified => return None,
        T::City => OrgType::City,
        T::District => OrgType::District,
        T::Street => OrgType::Street,
        T::Community => OrgType::Community,
        T::ServiceCenter => OrgType::ServiceCenter,
        T::Organ => OrgType::Unit(K::Organ),
        T::Institution => OrgType::Unit(K::Institution),
        T::Enterprise => OrgType::Unit(K::Enterprise),
        T::ResearchInstitute => OrgType::Unit(K::ResearchInstitute),
        T::NonPublicEnterprise => OrgType::Unit(K::NonPublicEnterprise),
        T::SocialOrganization => OrgType::Unit(K::SocialOrganization),
        T::OtherUnit => OrgType::Unit(K::Other),
    })
}
