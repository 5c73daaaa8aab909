//! The city tier's vocabulary in plain Rust: districts by name, the three
//! journals it reads, ingested events and board lines. No tonic, no SQL.

use dualreport_platform::error::FieldError;
pub use dualreport_platform::failure::Failure;
pub use dualreport_policy::now_millis;

/// Everything that can go wrong at the city tier. The gRPC layer maps each
/// variant to a status with an exhaustive match.
#[derive(Debug, thiserror::Error)]
pub enum CityError {
    /// A district (or one of its services) did not answer in time.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Common(#[from] Failure),
}

dualreport_platform::service_error!(CityError);

pub type Result<T, E = CityError> = std::result::Result<T, E>;

pub use dualreport_platform::validate::district_name;

/// The district journals the city reads (`EventJournalService` of each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Journal {
    Registry,
    Volunteering,
    Scoring,
    /// Feedback's own events: warnings raised and withdrawn, notices sent,
    /// objections decided (not what it read from the other three).
    Feedback,
}

dualreport_platform::stored_enum!(Journal {
    Registry => "registry",
    Volunteering => "volunteering",
    Scoring => "scoring",
    Feedback => "feedback",
});

impl Journal {
    pub const ALL: [Journal; 4] = [
        Journal::Registry,
        Journal::Volunteering,
        Journal::Scoring,
        Journal::Feedback,
    ];
}

/// The fact kinds feedback journals for a compliance warning (预警).
pub const WARNING_RAISED: &str = "warning.raised";
pub const WARNING_WITHDRAWN: &str = "warning.withdrawn";

/// A warning's rule, from its fact's text (`<rule>: <evidence>`, as
/// feedback writes it); empty when the text has no rule.
pub fn warning_rule(text: &str) -> &str {
    text.split_once(':')
        .map(|(rule, _)| rule.trim())
        .filter(|rule| !rule.is_empty() && rule.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .unwrap_or("")
}

/// One district's warning, as its latest fact left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CityWarning {
    pub district: String,
    pub warning_id: String,
    pub rule: String,
    pub year: i32,
    pub unit_org_id: String,
    pub community_id: String,
    pub member_id: String,
    pub in_force: bool,
    pub source_sequence: i64,
}

impl CityWarning {
    /// The warning a feedback fact describes; `None` for any other fact.
    pub fn from_fact(e: &Event) -> Option<Self> {
        let in_force = match e.kind.as_str() {
            WARNING_RAISED => true,
            WARNING_WITHDRAWN => false,
            _ => return None,
        };
        Some(Self {
            district: e.district.clone(),
            warning_id: e.subject_id.clone(),
            rule: warning_rule(&e.text).to_owned(),
            year: e.year,
            unit_org_id: e.unit_org_id.clone(),
            community_id: e.community_id.clone(),
            member_id: e.member_id.clone(),
            in_force,
            source_sequence: e.source_sequence,
        })
    }
}

/// One fact read from a district journal, as the city keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// The city's sequence (0 before it is stored).
    pub sequence: i64,
    pub district: String,
    /// The journal it came from.
    pub source: String,
    pub source_sequence: i64,
    pub kind: String,
    pub occur_time: i64,
    pub subject_id: String,
    pub district_id: String,
    pub community_id: String,
    pub unit_org_id: String,
    pub member_id: String,
    pub text: String,
    pub evidence_ids: Vec<String>,
    /// The year the fact is about (a report's), 0 when none; not part of the feed.
    pub year: i32,
}

/// The fact kind scoring journals when a settlement version is published.
pub const SETTLEMENT_PUBLISHED: &str = "settlement.published";

/// The cursor of the city's feed after `sequence` (opaque to callers).
pub fn cursor(sequence: i64) -> String {
    format!("city1.{sequence}")
}

/// Parses a feed cursor (empty: the beginning).
pub fn parse_cursor(text: &str) -> Result<i64, FieldError> {
    if text.is_empty() {
        return Ok(0);
    }
    text.strip_prefix("city1.")
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| FieldError::new("cursor", "is not a cursor this feed issued"))
}

/// A half-year (半年度): `half` is 1 (January–June) or 2 (July–December).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub year: i32,
    pub half: i32,
}

/// Whose line it is on a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectKind {
    /// 在职党员
    Member,
    /// 驻地单位党组织
    UnitOrg,
}

dualreport_platform::stored_enum!(SubjectKind { Member => "member", UnitOrg => "unit_org" });

/// A published settlement as the city copies it onto its board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedSettlement {
    pub district: String,
    pub community_id: String,
    pub period: Period,
    pub settlement_id: String,
    pub version: i32,
    pub lines: Vec<BoardLine>,
}

/// One line of the city board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardLine {
    pub district: String,
    pub community_id: String,
    pub settlement_id: String,
    pub version: i32,
    pub subject_kind: SubjectKind,
    pub subject_id: String,
    pub subject_name: String,
    pub points: i32,
    pub stars: i32,
}

impl BoardLine {
    /// The board's sort key as page-token fields: stars and points
    /// descending (stored negated), then district, community and subject.
    pub fn key(&self) -> String {
        dualreport_platform::paging::compound_key(&[
            &(-self.stars).to_string(),
            &(-self.points).to_string(),
            &self.district,
            &self.community_id,
            self.subject_kind.as_str(),
            &self.subject_id,
        ])
    }
}

/// The ingest state of one (district, journal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub district: String,
    pub journal: String,
    pub after_sequence: i64,
    pub newest_occur_ms: i64,
    pub read_at_ms: i64,
    /// The last read that reached the journal's end.
    pub caught_up_at_ms: i64,
    pub up: bool,
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_fact_names_its_rule_and_whether_it_stands() {
        assert_eq!(
            warning_rule("not_reported: no confirmed report for 2026 by 03-31"),
            "not_reported"
        );
        assert_eq!(warning_rule("no rule here"), "");
        assert_eq!(warning_rule("Not A Rule: x"), "");
        let fact = |kind: &str| Event {
            district: "east".into(),
            source_sequence: 7,
            kind: kind.into(),
            subject_id: "w1".into(),
            text: "unit_monthly_activities: none in 2026-03".into(),
            year: 2026,
            ..Default::default()
        };
        let raised = CityWarning::from_fact(&fact(WARNING_RAISED)).unwrap();
        assert!(raised.in_force);
        assert_eq!((raised.rule.as_str(), raised.year), ("unit_monthly_activities", 2026));
        assert!(!CityWarning::from_fact(&fact(WARNING_WITHDRAWN)).unwrap().in_force);
        assert_eq!(CityWarning::from_fact(&fact("notice.sent")), None);
    }

    #[test]
    fn a_cursor_round_trips_and_a_foreign_one_is_refused() {
        assert_eq!(parse_cursor(&cursor(42)).unwrap(), 42);
        assert_eq!(parse_cursor("").unwrap(), 0);
        for bad in ["ev1.3", "city1.-1", "city1.x", "42"] {
            assert_eq!(parse_cursor(bad).unwrap_err().field, "cursor", "{bad}");
        }
    }
}

/// A municipal org (市直单位党组织): reference data the city owns and every
/// district registry copies. `org_type` is the registry's stored type name
/// (`ORGAN`, `INSTITUTION`, …), `path` the city tree path
/// (`/<city>/<parent ids>/<id>/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MunicipalOrg {
    pub id: String,
    /// The change that wrote this version (the reference journal's order).
    pub sequence: i64,
    pub name: String,
    pub org_type: String,
    pub parent_id: String,
    pub path: String,
    pub details: OrgDetails,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an admin fills in about an org (as the registry has it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgDetails {
    pub address: String,
    pub postcode: String,
    pub leader: String,
    pub contact_person: String,
    pub contact_phone: String,
    pub in_service_member_count: i64,
}

/// A new municipal org, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMunicipalOrg {
    pub name: String,
    pub org_type: String,
    pub parent_id: String,
    pub details: OrgDetails,
}

/// A change to a municipal org: the `fields` named (update-mask paths)
/// take their values from `name` and `details`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MunicipalPatch {
    pub name: String,
    pub details: OrgDetails,
    pub fields: Vec<String>,
}

impl MunicipalPatch {
    /// `org` with the patch's fields applied.
    pub fn apply(&self, org: &MunicipalOrg) -> MunicipalOrg {
        let mut out = org.clone();
        for field in &self.fields {
            let d = &self.details;
            match field.as_str() {
                "name" => out.name.clone_from(&self.name),
                "address" => out.details.address.clone_from(&d.address),
                "postcode" => out.details.postcode.clone_from(&d.postcode),
                "leader" => out.details.leader.clone_from(&d.leader),
                "contact_person" => out.details.contact_person.clone_from(&d.contact_person),
                "contact_phone" => out.details.contact_phone.clone_from(&d.contact_phone),
                "in_service_member_count" => out.details.in_service_member_count = d.in_service_member_count,
                _ => {}
            }
        }
        out
    }
}

/// The unit types a municipal org may have: a unit, never a district,
/// street or community (those belong to the districts).
pub const MUNICIPAL_TYPES: [&str; 7] = [
    "ORGAN",
    "INSTITUTION",
    "ENTERPRISE",
    "RESEARCH_INSTITUTE",
    "NON_PUBLIC_ENTERPRISE",
    "SOCIAL_ORGANIZATION",
    "OTHER_UNIT",
];

/// Where a relocation between districts stands in the city's saga.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelocationStatus {
    /// Journalled by the district left; the member is not admitted yet.
    Declared,
    /// The member exists in the district moved to.
    Admitted,
    /// The member's report there was confirmed; the district left is to be told.
    Reported,
    Fulfilled,
    /// A district refused a step for good.
    Failed,
}

dualreport_platform::stored_enum!(RelocationStatus {
    Declared => "declared",
    Admitted => "admitted",
    Reported => "reported",
    Fulfilled => "fulfilled",
    Failed => "failed",
});

/// A relocation between districts, as the city tracks it (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CityRelocation {
    pub from_district: String,
    pub relocation_id: String,
    pub member_id: String,
    pub to_district: String,
    pub to_community_id: String,
    pub declared_at: i64,
    /// `YYYY-MM-DD`; empty until the transfer was read.
    pub due_on: String,
    pub status: RelocationStatus,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: String,
    pub updated_at: i64,
}

impl CityRelocation {
    /// Still waiting for the member's report after the due day.
    pub fn is_overdue(&self, today: &str) -> bool {
        matches!(self.status, RelocationStatus::Declared | RelocationStatus::Admitted)
            && !self.due_on.is_empty()
            && self.due_on.as_str() < today
    }
}

/// The fact kind a registry journals for a move to another district.
pub const RELOCATION_DECLARED: &str = "relocation.declared";
/// The fact kind a registry journals when a member's report is confirmed.
pub const REPORT_CONFIRMED: &str = "member_report.confirmed";
/// The fact kinds a registry journals when a member joins, or changes unit or community.
pub const MEMBER_CREATED: &str = "member.created";
pub const MEMBER_UPDATED: &str = "member.updated";
