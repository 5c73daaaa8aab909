//! Organisations: parse, call the use case, answer.

use super::*;

pub(super) async fn create_organization(
    api: &RegistryApi,
    request: Request<pb::CreateOrganizationRequest>,
) -> R<pb::CreateOrganizationResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let input = org_input(req.organization.as_ref(), true)?;
    let org = api
        .registry
        .create_org(&p, &req.request_id, input)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::CreateOrganizationResponse {
        organization: Some(org_to_pb(org)),
    }))
}

pub(super) async fn get_organization(
    api: &RegistryApi,
    request: Request<pb::GetOrganizationRequest>,
) -> R<pb::GetOrganizationResponse> {
    principal(&request)?;
    let req = request.into_inner();
    required("organization_id", &req.organization_id)?;
    let org = api.registry.get_org(&req.organization_id).await.map_err(to_status)?;
    Ok(Response::new(pb::GetOrganizationResponse {
        organization: Some(org_to_pb(org)),
    }))
}

pub(super) async fn list_organizations(
    api: &RegistryApi,
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
    let (orgs, next) = api.registry.list_orgs(&filter, &page).await.map_err(to_status)?;
    Ok(Response::new(pb::ListOrganizationsResponse {
        organizations: orgs.into_iter().map(org_to_pb).collect(),
        next_page_token: next,
    }))
}

pub(super) async fn update_organization(
    api: &RegistryApi,
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
    let org = api
        .registry
        .update_org(&p, &req.request_id, &req.organization_id, input, &mask, &req.etag)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::UpdateOrganizationResponse {
        organization: Some(org_to_pb(org)),
    }))
}

pub(super) async fn get_policy(api: &RegistryApi, request: Request<pb::GetPolicyRequest>) -> R<pb::GetPolicyResponse> {
    principal(&request)?;
    Ok(Response::new(pb::GetPolicyResponse {
        policy: Some(policy_to_pb(api.registry.policy())),
    }))
}
