//! 党组织 — organisations and the rules of their tree.

use super::{RegistryError, Result, Violations, text};

/// Where an org sits in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgType {
    /// 市
    City,
    /// 区/县
    District,
    /// 街道党工委
    Street,
    /// 社区/村居党组织
    Community,
    /// 党群服务中心 — party–masses service centre, under a community.
    ServiceCenter,
    /// 驻地单位党组织 — a resident unit's org.
    Unit(UnitKind),
}

/// The kinds of resident unit (S1 附件1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitKind {
    Organ,
    Institution,
    Enterprise,
    ResearchInstitute,
    NonPublicEnterprise,
    SocialOrganization,
    Other,
}

impl OrgType {
    pub const ALL_UNITS: [OrgType; 7] = [
        OrgType::Unit(UnitKind::Organ),
        OrgType::Unit(UnitKind::Institution),
        OrgType::Unit(UnitKind::Enterprise),
        OrgType::Unit(UnitKind::ResearchInstitute),
        OrgType::Unit(UnitKind::NonPublicEnterprise),
        OrgType::Unit(UnitKind::SocialOrganization),
        OrgType::Unit(UnitKind::Other),
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgType::City => "CITY",
            OrgType::District => "DISTRICT",
            OrgType::Street => "STREET",
            OrgType::Community => "COMMUNITY",
            OrgType::ServiceCenter => "SERVICE_CENTER",
            OrgType::Unit(UnitKind::Organ) => "ORGAN",
            OrgType::Unit(UnitKind::Institution) => "INSTITUTION",
            OrgType::Unit(UnitKind::Enterprise) => "ENTERPRISE",
            OrgType::Unit(UnitKind::ResearchInstitute) => "RESEARCH_INSTITUTE",
            OrgType::Unit(UnitKind::NonPublicEnterprise) => "NON_PUBLIC_ENTERPRISE",
            OrgType::Unit(UnitKind::SocialOrganization) => "SOCIAL_ORGANIZATION",
            OrgType::Unit(UnitKind::Other) => "OTHER_UNIT",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            OrgType::City,
            OrgType::District,
            OrgType::Street,
            OrgType::Community,
            OrgType::ServiceCenter,
        ]
        .into_iter()
        .chain(Self::ALL_UNITS)
        .find(|t| t.as_str() == value)
    }

    pub fn is_unit(self) -> bool {
        matches!(self, OrgType::Unit(_))
    }

    /// Whether an org of this type may sit under `parent`. Resident units sit
    /// under their superior org: an area (city, district, street, community) or
    /// another unit (a system's party committee, 机关工委).
    pub fn may_sit_under(self, parent: OrgType) -> bool {
        match self {
            OrgType::City => false,
            OrgType::District => parent == OrgType::City,
            OrgType::Street => parent == OrgType::District,
            OrgType::Community => parent == OrgType::Street,
            OrgType::ServiceCenter => parent == OrgType::Community,
            OrgType::Unit(_) => parent != OrgType::ServiceCenter,
        }
    }
}

/// A stored organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: String,
    pub name: String,
    pub org_type: OrgType,
    pub parent_id: Option<String>,
    /// Materialised path of ids, `/city/district/…/id/`: an admin of X covers Y
    /// when Y's path starts with X's.
    pub path: String,
    pub district_id: Option<String>,
    pub details: OrgDetails,
    pub created_at: i64,
    pub updated_at: i64,
    /// The city's reference data (a municipal unit copied by `city_sync`):
    /// read-only here.
    pub city_owned: bool,
}

impl Org {
    /// The ids above this org, root first.
    pub fn ancestor_ids(&self) -> impl Iterator<Item = &str> {
        let own = self.id.as_str();
        self.path.split('/').filter(move |id| !id.is_empty() && *id != own)
    }

    /// True when `self` is `other` or one of its ancestors.
    pub fn covers(&self, other_path: &str) -> bool {
        other_path.starts_with(&self.path)
    }
}

/// The free fields of an organisation (报到单 header).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgDetails {
    pub address: String,
    pub postcode: String,
    pub leader: String,
    pub contact_person: String,
    pub contact_phone: String,
    pub in_service_member_count: i64,
}

/// A validated request to create or update an org.
#[derive(Debug, Clone)]
pub struct OrgInput {
    pub name: String,
    pub org_type: OrgType,
    pub parent_id: String,
    pub details: OrgDetails,
}

pub const MAX_NAME_CHARS: usize = 100;

/// Validates the free fields, naming each bad one.
pub fn validate_details(details: &OrgDetails, violations: &mut Violations) -> OrgDetails {
    let mut out = OrgDetails {
        in_service_member_count: details.in_service_member_count,
        ..OrgDetails::default()
    };
    if let Some(v) = violations.check(text("address", &details.address, 200, false)) {
        out.address = v;
    }
    let postcode = details.postcode.trim();
    if !(postcode.is_empty() || postcode.len() == 6 && postcode.bytes().all(|b| b.is_ascii_digit())) {
        violations.add("postcode", "must be six digits");
    } else {
        out.postcode = postcode.to_owned();
    }
    if let Some(v) = violations.check(text("leader", &details.leader, 50, false)) {
        out.leader = v;
    }
    if let Some(v) = violations.check(text("contact_person", &details.contact_person, 50, false)) {
        out.contact_person = v;
    }
    let phone = details.contact_phone.trim();
    if !phone.is_empty() && !super::member::is_valid_phone(phone) {
        violations.add(
            "contact_phone",
            "must be a mainland mobile (11 digits) or a landline like 0371-12345678",
        );
    } else {
        out.contact_phone = phone.to_owned();
    }
    if !(0..=1_000_000).contains(&details.in_service_member_count) {
        violations.add("in_service_member_count", "must be between 0 and 1000000");
    }
    out
}

/// Checks that `org_type` may sit under `parent`.
pub fn check_parent(org_type: OrgType, parent: &Org) -> Result<()> {
    if org_type.may_sit_under(parent.org_type) {
        Ok(())
    } else {
        Err(RegistryError::InvalidParent(format!(
            "an org of type {} cannot sit under {} ({})",
            org_type.as_str(),
            parent.org_type.as_str(),
            parent.id
        )))
    }
}

/// The district an org under `parent` lies in.
pub fn district_under(parent: &Org) -> Option<String> {
    if parent.org_type == OrgType::District {
        Some(parent.id.clone())
    } else {
        parent.district_id.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_has_a_fixed_shape_and_units_sit_under_their_superior() {
        use OrgType::*;
        let organ = Unit(UnitKind::Organ);
        let enterprise = Unit(UnitKind::Enterprise);
        assert!(District.may_sit_under(City));
        assert!(Street.may_sit_under(District));
        assert!(Community.may_sit_under(Street));
        assert!(ServiceCenter.may_sit_under(Community));
        for parent in [City, District, Street, Community, organ] {
            assert!(enterprise.may_sit_under(parent), "{parent:?}");
        }
        assert!(!enterprise.may_sit_under(ServiceCenter));
        assert!(!City.may_sit_under(District));
        assert!(!Street.may_sit_under(City));
        assert!(!Community.may_sit_under(District));
        assert!(!ServiceCenter.may_sit_under(Street));
        for t in [City, District, Street, Community, ServiceCenter, organ, enterprise] {
            assert_eq!(OrgType::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn ancestors_and_coverage_follow_the_path() {
        let org = |id: &str, path: &str| Org {
            id: id.into(),
            name: id.into(),
            org_type: OrgType::Street,
            parent_id: None,
            path: path.into(),
            district_id: None,
            details: OrgDetails::default(),
            created_at: 0,
            updated_at: 0,
            city_owned: false,
        };
        let street = org("s", "/city/d/s/");
        assert_eq!(street.ancestor_ids().collect::<Vec<_>>(), ["city", "d"]);
        assert!(street.covers("/city/d/s/c/"));
        assert!(street.covers("/city/d/s/"));
        assert!(!street.covers("/city/d/"));
        assert!(
            !street.covers("/city/d/s2/"),
            "a sibling whose id starts the same is not covered"
        );
    }
}
