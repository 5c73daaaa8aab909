//! The gRPC layer: proto → domain (failures name the field), call the
//! [`Registry`], domain → proto. Prost types stop here.

pub mod access;
pub mod audit;
mod convert;
mod members;
mod orgs;
mod relocations;
mod reports;

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
use crate::domain::report::{
    MemberReportFilter, MemberReportStatus, RelocationFilter, RelocationStatus, UnitReportFilter, UnitReportStatus,
};
use crate::storage::OrgFilter;
use convert::*;
use dualreport_platform::filter::DateWindow;

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
        RegistryError::Common(failure) => failure.into(),
        RegistryError::AlreadyExists(m) => err::status(Code::AlreadyExists, ErrorReason::AlreadyExists, m),
        e @ RegistryError::TreeCycle(_) => err::status(Code::FailedPrecondition, ErrorReason::TreeCycle, e.to_string()),
        RegistryError::InvalidParent(m) => err::status(Code::FailedPrecondition, ErrorReason::InvalidParent, m),
        RegistryError::OutsideWindow(m) => err::status(Code::FailedPrecondition, ErrorReason::OutsideWindow, m),
        RegistryError::LetterRequired(m) => err::status(Code::FailedPrecondition, ErrorReason::LetterRequired, m),
        e @ RegistryError::SameCommunity(_) => {
            err::status(Code::FailedPrecondition, ErrorReason::SameCommunity, e.to_string())
        }
        e @ RegistryError::CityOwned(_) => err::status(Code::FailedPrecondition, ErrorReason::CityOwned, e.to_string()),
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
        orgs::create_organization(self, request).await
    }

    async fn get_organization(&self, request: Request<pb::GetOrganizationRequest>) -> R<pb::GetOrganizationResponse> {
        orgs::get_organization(self, request).await
    }

    async fn list_organizations(
        &self,
        request: Request<pb::ListOrganizationsRequest>,
    ) -> R<pb::ListOrganizationsResponse> {
        orgs::list_organizations(self, request).await
    }

    async fn update_organization(
        &self,
        request: Request<pb::UpdateOrganizationRequest>,
    ) -> R<pb::UpdateOrganizationResponse> {
        orgs::update_organization(self, request).await
    }

    async fn create_member(&self, request: Request<pb::CreateMemberRequest>) -> R<pb::CreateMemberResponse> {
        members::create_member(self, request).await
    }

    async fn get_member(&self, request: Request<pb::GetMemberRequest>) -> R<pb::GetMemberResponse> {
        members::get_member(self, request).await
    }

    async fn list_members(&self, request: Request<pb::ListMembersRequest>) -> R<pb::ListMembersResponse> {
        members::list_members(self, request).await
    }

    async fn update_member(&self, request: Request<pb::UpdateMemberRequest>) -> R<pb::UpdateMemberResponse> {
        members::update_member(self, request).await
    }

    type ImportMembersStream = ImportReplies;

    async fn import_members(
        &self,
        request: Request<Streaming<pb::ImportMembersRequest>>,
    ) -> R<Self::ImportMembersStream> {
        members::import_members(self, request).await
    }

    async fn list_personal_info_accesses(
        &self,
        request: Request<pb::ListPersonalInfoAccessesRequest>,
    ) -> R<pb::ListPersonalInfoAccessesResponse> {
        members::list_personal_info_accesses(self, request).await
    }

    async fn submit_unit_report(
        &self,
        request: Request<pb::SubmitUnitReportRequest>,
    ) -> R<pb::SubmitUnitReportResponse> {
        reports::submit_unit_report(self, request).await
    }

    async fn receive_unit_report(
        &self,
        request: Request<pb::ReceiveUnitReportRequest>,
    ) -> R<pb::ReceiveUnitReportResponse> {
        reports::receive_unit_report(self, request).await
    }

    async fn get_unit_report(&self, request: Request<pb::GetUnitReportRequest>) -> R<pb::GetUnitReportResponse> {
        reports::get_unit_report(self, request).await
    }

    async fn list_unit_reports(&self, request: Request<pb::ListUnitReportsRequest>) -> R<pb::ListUnitReportsResponse> {
        reports::list_unit_reports(self, request).await
    }

    async fn issue_introduction_letter(
        &self,
        request: Request<pb::IssueIntroductionLetterRequest>,
    ) -> R<pb::IssueIntroductionLetterResponse> {
        reports::issue_introduction_letter(self, request).await
    }

    async fn batch_issue_introduction_letters(
        &self,
        request: Request<pb::BatchIssueIntroductionLettersRequest>,
    ) -> R<pb::BatchIssueIntroductionLettersResponse> {
        reports::batch_issue_introduction_letters(self, request).await
    }

    async fn submit_member_report(
        &self,
        request: Request<pb::SubmitMemberReportRequest>,
    ) -> R<pb::SubmitMemberReportResponse> {
        reports::submit_member_report(self, request).await
    }

    async fn confirm_member_report(
        &self,
        request: Request<pb::ConfirmMemberReportRequest>,
    ) -> R<pb::ConfirmMemberReportResponse> {
        reports::confirm_member_report(self, request).await
    }

    async fn batch_confirm_member_reports(
        &self,
        request: Request<pb::BatchConfirmMemberReportsRequest>,
    ) -> R<pb::BatchConfirmMemberReportsResponse> {
        reports::batch_confirm_member_reports(self, request).await
    }

    async fn get_member_report(&self, request: Request<pb::GetMemberReportRequest>) -> R<pb::GetMemberReportResponse> {
        reports::get_member_report(self, request).await
    }

    async fn list_member_reports(
        &self,
        request: Request<pb::ListMemberReportsRequest>,
    ) -> R<pb::ListMemberReportsResponse> {
        reports::list_member_reports(self, request).await
    }

    async fn get_receipt(&self, request: Request<pb::GetReceiptRequest>) -> R<pb::GetReceiptResponse> {
        reports::get_receipt(self, request).await
    }

    async fn list_register(&self, request: Request<pb::ListRegisterRequest>) -> R<pb::ListRegisterResponse> {
        reports::list_register(self, request).await
    }

    async fn declare_relocation(
        &self,
        request: Request<pb::DeclareRelocationRequest>,
    ) -> R<pb::DeclareRelocationResponse> {
        relocations::declare_relocation(self, request).await
    }

    async fn list_relocations(&self, request: Request<pb::ListRelocationsRequest>) -> R<pb::ListRelocationsResponse> {
        relocations::list_relocations(self, request).await
    }

    async fn get_relocation_transfer(
        &self,
        request: Request<pb::GetRelocationTransferRequest>,
    ) -> R<pb::GetRelocationTransferResponse> {
        relocations::get_relocation_transfer(self, request).await
    }

    async fn admit_relocated_member(
        &self,
        request: Request<pb::AdmitRelocatedMemberRequest>,
    ) -> R<pb::AdmitRelocatedMemberResponse> {
        relocations::admit_relocated_member(self, request).await
    }

    async fn fulfil_relocation(
        &self,
        request: Request<pb::FulfilRelocationRequest>,
    ) -> R<pb::FulfilRelocationResponse> {
        relocations::fulfil_relocation(self, request).await
    }

    async fn record_non_report_reason(
        &self,
        request: Request<pb::RecordNonReportReasonRequest>,
    ) -> R<pb::RecordNonReportReasonResponse> {
        relocations::record_non_report_reason(self, request).await
    }

    async fn get_report_statistics(
        &self,
        request: Request<pb::GetReportStatisticsRequest>,
    ) -> R<pb::GetReportStatisticsResponse> {
        relocations::get_report_statistics(self, request).await
    }

    async fn list_not_reported_members(
        &self,
        request: Request<pb::ListNotReportedMembersRequest>,
    ) -> R<pb::ListNotReportedMembersResponse> {
        relocations::list_not_reported_members(self, request).await
    }

    async fn get_policy(&self, request: Request<pb::GetPolicyRequest>) -> R<pb::GetPolicyResponse> {
        orgs::get_policy(self, request).await
    }

    async fn reseal_personal_information(
        &self,
        request: Request<pb::ResealPersonalInformationRequest>,
    ) -> R<pb::ResealPersonalInformationResponse> {
        members::reseal_personal_information(self, request).await
    }
}

/// The proto org type, or None for the unspecified value.
pub(crate) fn org_type_from_pb(t: pb::OrganizationType) -> Option<OrgType> {
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
