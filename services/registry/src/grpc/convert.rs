//! proto ↔ domain conversions.

use dualreport_platform::error::{self as err, FieldError};
use dualreport_proto::registry::v1 as pb;
use tonic::Status;

use super::org_type_from_pb;
use crate::app::{MemberView, StatisticsPage};
use crate::domain::member::{Category, Gender, MembershipStatus, Profile, ProfileDraft};
use crate::domain::org::{self, Org, OrgDetails, OrgInput, OrgType, UnitKind};
use crate::domain::policy::Policy;
use crate::domain::report::{
    Assignment, Letter, MemberReport, MemberReportStatus, Receipt, Relocation, RelocationStatus, UnitReport,
    UnitReportStatus,
};
use crate::domain::{Date, Violations, china_today};
use crate::storage::AccessRow;

pub use dualreport_platform::wire::{date_from_pb, date_to_pb, opt_timestamp, timestamp};

pub fn org_type_to_pb(t: OrgType) -> pb::OrganizationType {
    use pb::OrganizationType as T;
    match t {
        OrgType::City => T::City,
        OrgType::District => T::District,
        OrgType::Street => T::Street,
        OrgType::Community => T::Community,
        OrgType::ServiceCenter => T::ServiceCenter,
        OrgType::Unit(UnitKind::Organ) => T::Organ,
        OrgType::Unit(UnitKind::Institution) => T::Institution,
        OrgType::Unit(UnitKind::Enterprise) => T::Enterprise,
        OrgType::Unit(UnitKind::ResearchInstitute) => T::ResearchInstitute,
        OrgType::Unit(UnitKind::NonPublicEnterprise) => T::NonPublicEnterprise,
        OrgType::Unit(UnitKind::SocialOrganization) => T::SocialOrganization,
        OrgType::Unit(UnitKind::Other) => T::OtherUnit,
    }
}

/// Validates an org input; `creating` requires name, type and parent.
pub fn org_input(input: Option<&pb::OrganizationInput>, creating: bool) -> Result<OrgInput, Status> {
    let default = pb::OrganizationInput::default();
    let input = input.unwrap_or(&default);
    let mut v = Violations::default();
    let name = v.check(crate::domain::text(
        "organization.name",
        &input.name,
        org::MAX_NAME_CHARS,
        creating,
    ));
    let org_type = match pb::OrganizationType::try_from(input.r#type)
        .ok()
        .and_then(org_type_from_pb)
    {
        Some(t) => Some(t),
        None if creating => {
            v.add("organization.type", "must be a known organisation type");
            None
        }
        None => None,
    };
    if creating && input.parent_id.trim().is_empty() {
        v.add("organization.parent_id", "must not be empty");
    }
    let mut detail_violations = Violations::default();
    let details = org::validate_details(
        &OrgDetails {
            address: input.address.clone(),
            postcode: input.postcode.clone(),
            leader: input.leader.clone(),
            contact_person: input.contact_person.clone(),
            contact_phone: input.contact_phone.clone(),
            in_service_member_count: i64::from(input.in_service_member_count),
        },
        &mut detail_violations,
    );
    v.0.extend(detail_violations.0.into_iter().map(|e| e.within("organization")));
    if !v.0.is_empty() {
        return Err(err::invalid_fields(&v.0));
    }
    Ok(OrgInput {
        name: name.unwrap_or_default(),
        org_type: org_type.unwrap_or(OrgType::Unit(UnitKind::Other)),
        parent_id: input.parent_id.trim().to_owned(),
        details,
    })
}

pub fn org_to_pb(o: Org) -> pb::Organization {
    let ancestor_ids = o.ancestor_ids().map(str::to_owned).collect();
    pb::Organization {
        ancestor_ids,
        id: o.id,
        name: o.name,
        r#type: org_type_to_pb(o.org_type) as i32,
        parent_id: o.parent_id.unwrap_or_default(),
        district_id: o.district_id.unwrap_or_default(),
        address: o.details.address,
        postcode: o.details.postcode,
        leader: o.details.leader,
        contact_person: o.details.contact_person,
        contact_phone: o.details.contact_phone,
        in_service_member_count: i32::try_from(o.details.in_service_member_count).unwrap_or(i32::MAX),
        create_time: Some(timestamp(o.created_at)),
        update_time: Some(timestamp(o.updated_at)),
        etag: dualreport_platform::etag::of(o.updated_at),
    }
}

fn draft_from_pb(p: &pb::MemberProfile) -> ProfileDraft {
    ProfileDraft {
        name: p.name.clone(),
        gender: match pb::Gender::try_from(p.gender) {
            Ok(pb::Gender::Male) => Some(Gender::Male),
            Ok(pb::Gender::Female) => Some(Gender::Female),
            _ => None,
        },
        birth_year: p.birth_year,
        education: p.education.clone(),
        joined_party_on: p
            .joined_party_on
            .as_ref()
            .and_then(|d| Some((d.year, u32::try_from(d.month).ok()?, u32::try_from(d.day).ok()?))),
        membership_status: match pb::MembershipStatus::try_from(p.membership_status) {
            Ok(pb::MembershipStatus::Full) => Some(MembershipStatus::Full),
            Ok(pb::MembershipStatus::Probationary) => Some(MembershipStatus::Probationary),
            _ => None,
        },
        category: match pb::MemberCategory::try_from(p.category) {
            Ok(pb::MemberCategory::InService) => Some(Category::InService),
            Ok(pb::MemberCategory::Retired) => Some(Category::Retired),
            Ok(pb::MemberCategory::Floating) => Some(Category::Floating),
            _ => None,
        },
        employer: p.employer.clone(),
        position: p.position.clone(),
        unit_org_id: p.unit_org_id.clone(),
        home_address: p.home_address.clone(),
        residence_community_id: p.residence_community_id.clone(),
        phone: p.phone.clone(),
        skills: p.skills.clone(),
        service_intentions: p.service_intentions.clone(),
        available_time_slots: p.available_time_slots.clone(),
    }
}

fn this_year() -> i32 {
    chrono::Datelike::year(&china_today())
}

/// A whole profile, validated; errors name fields under `prefix`.
pub fn profile_from_pb(p: Option<&pb::MemberProfile>, prefix: &str) -> Result<Profile, Vec<FieldError>> {
    let p = p.ok_or_else(|| vec![FieldError::new(prefix, "must be given")])?;
    draft_from_pb(p).validate(prefix, this_year())
}

/// The masked fields of a profile, validated; the rest are placeholders the
/// update never reads.
pub fn partial_profile(p: Option<&pb::MemberProfile>, mask: &[String]) -> Result<Profile, Status> {
    let default = pb::MemberProfile::default();
    let given = draft_from_pb(p.unwrap_or(&default));
    let placeholder = ProfileDraft {
        name: "-".into(),
        gender: Some(Gender::Male),
        birth_year: 1970,
        education: String::new(),
        joined_party_on: Some((2000, 1, 1)),
        membership_status: Some(MembershipStatus::Full),
        category: Some(Category::InService),
        employer: String::new(),
        position: String::new(),
        unit_org_id: "-".into(),
        home_address: "-".into(),
        residence_community_id: "-".into(),
        phone: "13800000000".into(),
        skills: Vec::new(),
        service_intentions: vec!["-".into(), "--".into()],
        available_time_slots: Vec::new(),
    };
    let mut draft = placeholder;
    for path in mask {
        if !draft.set_field(path, &given) {
            let other = path;
            return Err(err::invalid_field(
                "update_mask",
                format!("{other:?} is not a profile field"),
            ));
        }
    }
    draft
        .validate("profile", this_year())
        .map_err(|e| err::invalid_fields(&e))
}

pub fn member_to_pb(m: MemberView) -> pb::Member {
    let p = m.profile;
    pb::Member {
        id: m.id,
        profile: Some(pb::MemberProfile {
            name: p.name,
            gender: match p.gender {
                Gender::Male => pb::Gender::Male,
                Gender::Female => pb::Gender::Female,
            } as i32,
            birth_year: p.birth_year,
            education: p.education,
            joined_party_on: Some(date_to_pb(p.joined_party_on)),
            membership_status: match p.membership_status {
                MembershipStatus::Full => pb::MembershipStatus::Full,
                MembershipStatus::Probationary => pb::MembershipStatus::Probationary,
            } as i32,
            category: match p.category {
                Category::InService => pb::MemberCategory::InService,
                Category::Retired => pb::MemberCategory::Retired,
                Category::Floating => pb::MemberCategory::Floating,
            } as i32,
            employer: p.employer,
            position: p.position,
            unit_org_id: p.unit_org_id,
            home_address: p.home_address,
            residence_community_id: p.residence_community_id,
            phone: p.phone,
            skills: p.skills,
            service_intentions: p.service_intentions,
            available_time_slots: p.available_time_slots,
        }),
        masked: m.masked,
        create_time: Some(timestamp(m.created_at)),
        update_time: Some(timestamp(m.updated_at)),
        etag: dualreport_platform::etag::of(m.updated_at),
    }
}

pub fn access_to_pb(a: AccessRow) -> pb::PersonalInfoAccess {
    pb::PersonalInfoAccess {
        id: a.id,
        reader_subject: a.reader_subject,
        reader_role: a.reader_role,
        member_id: a.member_id,
        field: match a.field.as_str() {
            "PHONE" => pb::PersonalInfoField::Phone,
            "HOME_ADDRESS" => pb::PersonalInfoField::HomeAddress,
            _ => pb::PersonalInfoField::Unspecified,
        } as i32,
        access_time: Some(timestamp(a.accessed_at)),
    }
}

pub fn receipt_to_pb(r: Receipt) -> pb::Receipt {
    pb::Receipt {
        number: r.number,
        issue_time: Some(timestamp(r.issued_at)),
        year: r.year,
        community_id: r.community_id,
        unit_org_id: r.unit_org_id,
        member_id: r.member_id.unwrap_or_default(),
        report_id: r.report_id,
    }
}

pub fn unit_report_to_pb(r: UnitReport) -> pb::UnitReport {
    pb::UnitReport {
        id: r.id,
        unit_org_id: r.unit_org_id,
        community_id: r.community_id,
        year: r.year,
        status: match r.status {
            UnitReportStatus::Submitted => pb::UnitReportStatus::Submitted,
            UnitReportStatus::Received => pb::UnitReportStatus::Received,
        } as i32,
        assignment: match r.assignment {
            Assignment::Chosen => pb::Assignment::Chosen,
            Assignment::BySuperior => pb::Assignment::BySuperior,
            Assignment::ByStreet => pb::Assignment::ByStreet,
        } as i32,
        assigned_by_org_id: r.assigned_by_org_id.unwrap_or_default(),
        org_name: r.org_name,
        in_service_member_count: i32::try_from(r.details.in_service_member_count).unwrap_or(i32::MAX),
        address: r.details.address,
        postcode: r.details.postcode,
        leader: r.details.leader,
        contact_person: r.details.contact_person,
        contact_phone: r.details.contact_phone,
        superior_org_id: r.superior_org_id.unwrap_or_default(),
        resources: r.resources,
        suggestions: r.suggestions,
        submit_time: Some(timestamp(r.submitted_at)),
        receipt: r.receipt.map(receipt_to_pb),
    }
}

pub fn letter_to_pb(l: Letter) -> pb::IntroductionLetter {
    pb::IntroductionLetter {
        id: l.id,
        number: l.number,
        unit_org_id: l.unit_org_id,
        member_id: l.member_id,
        community_id: l.community_id,
        year: l.year,
        issue_time: Some(timestamp(l.issued_at)),
    }
}

pub fn member_report_to_pb(r: MemberReport) -> pb::MemberReport {
    let registered_from = Some(date_to_pb(r.covers_from()));
    pb::MemberReport {
        registered_from,
        registered_until: r.registered_until.map(date_to_pb),
        id: r.id,
        member_id: r.member_id,
        community_id: r.community_id,
        year: r.year,
        status: match r.status {
            MemberReportStatus::Submitted => pb::MemberReportStatus::Submitted,
            MemberReportStatus::Confirmed => pb::MemberReportStatus::Confirmed,
            MemberReportStatus::Ended => pb::MemberReportStatus::Ended,
        } as i32,
        letter_id: r.letter_id.unwrap_or_default(),
        unit_org_id: r.unit_org_id,
        branch: r.branch,
        submit_time: Some(timestamp(r.submitted_at)),
        confirm_time: opt_timestamp(r.confirmed_at),
        end_time: opt_timestamp(r.ended_at),
        receipt: r.receipt.map(receipt_to_pb),
    }
}

pub fn relocation_to_pb(r: Relocation, as_of: Date) -> pb::Relocation {
    let overdue = r.is_overdue(as_of);
    pb::Relocation {
        id: r.id,
        member_id: r.member_id,
        from_community_id: r.from_community_id,
        to_community_id: r.to_community_id,
        reason: r.reason,
        declare_time: Some(timestamp(r.declared_at)),
        due_on: Some(date_to_pb(r.due_on)),
        status: match r.status {
            RelocationStatus::Pending => pb::RelocationStatus::Pending,
            RelocationStatus::Fulfilled => pb::RelocationStatus::Fulfilled,
        } as i32,
        overdue,
        fulfilled_by_report_id: r.fulfilled_by_report_id.unwrap_or_default(),
        to_district: r.to_district,
    }
}

fn count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub fn statistics_to_pb(year: i32, lines: StatisticsPage) -> pb::GetReportStatisticsResponse {
    let StatisticsPage {
        units,
        communities,
        next_page_token,
    } = lines;
    pb::GetReportStatisticsResponse {
        year,
        next_page_token,
        units: units
            .into_iter()
            .map(|u| pb::UnitStatistics {
                unit_org_id: u.unit.id,
                unit_name: u.unit.name,
                in_service_member_count: count(u.unit.details.in_service_member_count),
                registered_members: count(u.registered),
                reported_members: count(u.reported),
                unit_reported: u.unit_reported,
            })
            .collect(),
        communities: communities
            .into_iter()
            .map(|c| pb::CommunityStatistics {
                community_id: c.community.id,
                community_name: c.community.name,
                units_reported: count(c.units_reported),
                members_reported: count(c.members_reported),
            })
            .collect(),
    }
}

pub fn policy_to_pb(p: &Policy) -> pb::Policy {
    dualreport_policy::wire::to_pb(p)
}
