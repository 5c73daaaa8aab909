//! Reference data: parse, call the use case, answer (as registry orgs).

use dualreport_platform::validate::{Violations, text};
use dualreport_proto::registry::v1 as rpb;

use super::*;
use crate::domain::{MUNICIPAL_TYPES, MunicipalOrg, NewMunicipalOrg, OrgDetails};

/// The registry's stored type name of a proto type (`ORGANIZATION_TYPE_ORGAN` → `ORGAN`).
fn type_name(value: i32) -> Option<&'static str> {
    let name = rpb::OrganizationType::try_from(value).ok()?.as_str_name();
    let short = name.strip_prefix("ORGANIZATION_TYPE_")?;
    MUNICIPAL_TYPES.iter().copied().find(|t| *t == short)
}

fn type_of(name: &str) -> i32 {
    rpb::OrganizationType::from_str_name(&format!("ORGANIZATION_TYPE_{name}")).map_or(0, |t| t as i32)
}

/// The name and details of `input`, each checked when `wanted(path)`.
fn org_fields(
    input: &rpb::OrganizationInput,
    wanted: impl Fn(&str) -> bool,
    v: &mut Violations,
) -> (String, OrgDetails) {
    let mut field = |path: &str, value: &str, max: usize, required: bool| {
        if wanted(path) {
            v.check(text(&format!("organization.{path}"), value, max, required))
                .unwrap_or_default()
        } else {
            String::new()
        }
    };
    let name = field("name", &input.name, 100, true);
    let address = field("address", &input.address, 200, false);
    let postcode = field("postcode", &input.postcode, 20, false);
    let leader = field("leader", &input.leader, 50, false);
    let contact_person = field("contact_person", &input.contact_person, 50, false);
    let contact_phone = field("contact_phone", &input.contact_phone, 40, false);
    if wanted("in_service_member_count") && !(0..=1_000_000).contains(&input.in_service_member_count) {
        v.add("organization.in_service_member_count", "must be between 0 and 1000000");
    }
    (
        name,
        OrgDetails {
            address,
            postcode,
            leader,
            contact_person,
            contact_phone,
            in_service_member_count: i64::from(input.in_service_member_count),
        },
    )
}

fn new_org(input: Option<&rpb::OrganizationInput>) -> Result<NewMunicipalOrg, Status> {
    let default = rpb::OrganizationInput::default();
    let input = input.unwrap_or(&default);
    let mut v = Violations::default();
    let (name, details) = org_fields(input, |_| true, &mut v);
    let org_type = type_name(input.r#type);
    if org_type.is_none() {
        v.add(
            "organization.type",
            "must be a unit type (ORGAN, INSTITUTION, ENTERPRISE, …): districts, streets and communities belong to the districts",
        );
    }
    let parent_id = v.check(dualreport_platform::validate::id(
        "organization.parent_id",
        &input.parent_id,
    ));
    if !v.is_empty() {
        return Err(err::invalid_fields(&v.0));
    }
    Ok(NewMunicipalOrg {
        name,
        org_type: org_type.unwrap_or_default().to_owned(),
        parent_id: parent_id.unwrap_or_default(),
        details,
    })
}

/// What `UpdateMunicipalUnit` may change, as `update_mask` paths.
const UPDATABLE: [&str; 7] = [
    "name",
    "address",
    "postcode",
    "leader",
    "contact_person",
    "contact_phone",
    "in_service_member_count",
];

pub(super) async fn update_municipal_unit(
    city: &City,
    request: Request<pb::UpdateMunicipalUnitRequest>,
) -> R<pb::UpdateMunicipalUnitResponse> {
    let p = principal(&request)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let id = v.check(dualreport_platform::validate::id("organization_id", &r.organization_id));
    let mask = r.update_mask.map(|m| m.paths).unwrap_or_default();
    if mask.is_empty() {
        v.add("update_mask", "name at least one field to update");
    }
    for path in &mask {
        if !UPDATABLE.contains(&path.as_str()) {
            v.add(
                "update_mask",
                format!(
                    "{path:?} cannot be changed: a municipal org keeps its type and its parent (moving one would re-parent it in every district); the paths are {}",
                    UPDATABLE.join(", ")
                ),
            );
        }
    }
    let default = rpb::OrganizationInput::default();
    let (name, details) = org_fields(
        r.organization.as_ref().unwrap_or(&default),
        |path| mask.iter().any(|m| m == path),
        &mut v,
    );
    if !v.is_empty() {
        return Err(err::invalid_fields(&v.0));
    }
    let patch = crate::domain::MunicipalPatch {
        name,
        details,
        fields: mask,
    };
    let org = city
        .update_municipal_unit(&p, &r.request_id, &id.unwrap_or_default(), patch, &r.etag)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::UpdateMunicipalUnitResponse {
        organization: Some(org_to_pb(org)),
    }))
}

pub(super) fn org_to_pb(o: MunicipalOrg) -> rpb::Organization {
    let ancestor_ids = o
        .path
        .split('/')
        .filter(|id| !id.is_empty() && *id != o.id)
        .map(str::to_owned)
        .collect();
    rpb::Organization {
        id: o.id,
        name: o.name,
        r#type: type_of(&o.org_type),
        parent_id: o.parent_id,
        district_id: String::new(),
        address: o.details.address,
        postcode: o.details.postcode,
        leader: o.details.leader,
        contact_person: o.details.contact_person,
        contact_phone: o.details.contact_phone,
        in_service_member_count: i32::try_from(o.details.in_service_member_count).unwrap_or(i32::MAX),
        create_time: Some(timestamp(o.created_at)),
        update_time: Some(timestamp(o.updated_at)),
        ancestor_ids,
        etag: dualreport_platform::etag::of(o.updated_at),
    }
}

pub(super) async fn create_municipal_unit(
    city: &City,
    request: Request<pb::CreateMunicipalUnitRequest>,
) -> R<pb::CreateMunicipalUnitResponse> {
    let p = principal(&request)?;
    let r = request.into_inner();
    let input = new_org(r.organization.as_ref())?;
    let org = city
        .create_municipal_unit(&p, &r.request_id, input)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::CreateMunicipalUnitResponse {
        organization: Some(org_to_pb(org)),
    }))
}

pub(super) async fn list_municipal_units(
    city: &City,
    request: Request<pb::ListMunicipalUnitsRequest>,
) -> R<pb::ListMunicipalUnitsResponse> {
    principal(&request)?;
    let r = request.into_inner();
    let page = page(r.page_size, &r.page_token)?;
    let (orgs, next) = city.list_municipal_units(&page).await.map_err(to_status)?;
    Ok(Response::new(pb::ListMunicipalUnitsResponse {
        organizations: orgs.into_iter().map(org_to_pb).collect(),
        next_page_token: next,
    }))
}

pub(super) async fn list_reference_changes(
    city: &City,
    request: Request<pb::ListReferenceChangesRequest>,
) -> R<pb::ListReferenceChangesResponse> {
    principal(&request)?;
    let r = request.into_inner();
    if r.after_sequence < 0 {
        return Err(err::invalid_field("after_sequence", "must not be negative"));
    }
    let limit = match r.limit {
        0 => 100,
        1..=1000 => i64::from(r.limit),
        _ => return Err(err::invalid_field("limit", "must be between 0 and 1000")),
    };
    let changes = city
        .reference_changes(r.after_sequence, limit)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListReferenceChangesResponse {
        changes: changes
            .into_iter()
            .map(|o| pb::ReferenceChange {
                sequence: o.sequence,
                organization: Some(org_to_pb(o)),
            })
            .collect(),
    }))
}
