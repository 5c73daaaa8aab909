//! Relocations and report statistics: parse, call the use case, answer.

use super::*;

pub(super) async fn declare_relocation(
    api: &RegistryApi,
    request: Request<pb::DeclareRelocationRequest>,
) -> R<pb::DeclareRelocationResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    required("member_id", &req.member_id)?;
    required("to_community_id", &req.to_community_id)?;
    let reason = text("reason", &req.reason, 500, false)?;
    let to_district = district_name("to_district", &req.to_district)?;
    let relocation = api
        .registry
        .declare_relocation(
            &p,
            &req.request_id,
            &req.member_id,
            &req.to_community_id,
            &to_district,
            reason,
        )
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::DeclareRelocationResponse {
        relocation: Some(relocation_to_pb(relocation, crate::domain::china_today())),
    }))
}

pub(super) async fn list_relocations(
    api: &RegistryApi,
    request: Request<pb::ListRelocationsRequest>,
) -> R<pb::ListRelocationsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let page = page(req.page_size, &req.page_token)?;
    let as_of = match &req.as_of {
        None => crate::domain::china_today(),
        Some(d) => date_from_pb(d).ok_or_else(|| err::invalid_field("as_of", "is not a real date"))?,
    };
    let filter = RelocationFilter {
        overdue_on: req.overdue_only.then_some(as_of),
        status: match known::<pb::RelocationStatus>("status", req.status)? {
            pb::RelocationStatus::Unspecified => None,
            pb::RelocationStatus::Pending => Some(RelocationStatus::Pending),
            pb::RelocationStatus::Fulfilled => Some(RelocationStatus::Fulfilled),
        },
        declared: DateWindow::parse("declared", req.declared.as_ref())?,
    };
    let (rows, next) = api
        .registry
        .list_relocations(&p, &req.org_id, &filter, &page)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListRelocationsResponse {
        relocations: rows.into_iter().map(|r| relocation_to_pb(r, as_of)).collect(),
        next_page_token: next,
    }))
}

pub(super) async fn record_non_report_reason(
    api: &RegistryApi,
    request: Request<pb::RecordNonReportReasonRequest>,
) -> R<pb::RecordNonReportReasonResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    required("member_id", &req.member_id)?;
    let reason = text("reason", &req.reason, 500, true)?;
    api.registry
        .record_non_report_reason(&p, &req.member_id, req.year, &reason)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::RecordNonReportReasonResponse {}))
}

pub(super) async fn get_report_statistics(
    api: &RegistryApi,
    request: Request<pb::GetReportStatisticsRequest>,
) -> R<pb::GetReportStatisticsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let page = page(req.page_size, &req.page_token)?;
    let lines = api
        .registry
        .statistics(&p, &req.org_id, req.year, &page)
        .await
        .map_err(to_status)?;
    Ok(Response::new(statistics_to_pb(req.year, lines)))
}

pub(super) async fn list_not_reported_members(
    api: &RegistryApi,
    request: Request<pb::ListNotReportedMembersRequest>,
) -> R<pb::ListNotReportedMembersResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let page = page(req.page_size, &req.page_token)?;
    let (rows, next_page_token) = api
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

/// A district's name as the city tier gives it; empty stays empty (within this district).
fn district_name(field: &str, value: &str) -> Result<String, Status> {
    if value.is_empty() {
        return Ok(String::new());
    }
    dualreport_platform::validate::district_name(field, value).map_err(|e| err::invalid_fields(&[e]))
}

pub(super) async fn get_relocation_transfer(
    api: &RegistryApi,
    request: Request<pb::GetRelocationTransferRequest>,
) -> R<pb::GetRelocationTransferResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    required("relocation_id", &req.relocation_id)?;
    let (relocation, member) = api
        .registry
        .relocation_transfer(&p, &req.relocation_id)
        .await
        .map_err(to_status)?;
    let member = member_to_pb(member);
    Ok(Response::new(pb::GetRelocationTransferResponse {
        relocation: Some(relocation_to_pb(relocation, crate::domain::china_today())),
        member_id: member.id,
        profile: member.profile,
    }))
}

pub(super) async fn admit_relocated_member(
    api: &RegistryApi,
    request: Request<pb::AdmitRelocatedMemberRequest>,
) -> R<pb::AdmitRelocatedMemberResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    required("relocation_id", &req.relocation_id)?;
    dualreport_platform::validate::id("member_id", &req.member_id).map_err(|e| err::invalid_fields(&[e]))?;
    district_name("from_district", &req.from_district)?;
    let profile = profile_from_pb(req.profile.as_ref(), "profile").map_err(|e| err::invalid_fields(&e))?;
    let member = api
        .registry
        .admit_relocated_member(&p, &req.relocation_id, &req.member_id, profile)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::AdmitRelocatedMemberResponse {
        member: Some(member_to_pb(member)),
    }))
}

pub(super) async fn fulfil_relocation(
    api: &RegistryApi,
    request: Request<pb::FulfilRelocationRequest>,
) -> R<pb::FulfilRelocationResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    required("relocation_id", &req.relocation_id)?;
    let relocation = api
        .registry
        .fulfil_relocation(&p, &req.relocation_id)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::FulfilRelocationResponse {
        relocation: Some(relocation_to_pb(relocation, crate::domain::china_today())),
    }))
}
