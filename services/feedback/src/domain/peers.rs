//! What feedback knows of the other three services, in its own words: the
//! parts of their answers its rules read. [`crate::sources`] turns each
//! peer's reply into these, so no use case or rule of feedback depends on
//! another service's contract (as `dualreport_directory` does for the
//! registry's orgs and members).

use super::Date;

/// A member of a unit org, as the registry holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitMember {
    pub id: String,
    pub name: String,
    /// The community the member lives in (居住地社区).
    pub residence_community_id: String,
}

/// A member's report (在职党员报到) to a community, as the registry holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOf {
    pub member_id: String,
    pub community_id: String,
    /// Confirmed by the community, or ended after confirmation: the member
    /// counts as reported for that year.
    pub counts: bool,
    /// When the community confirmed it (epoch ms), if it did.
    pub confirmed_at: Option<i64>,
}

/// A relocation still pending after its due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRelocation {
    pub member_id: String,
    pub to_community_id: String,
    pub due_on: Option<Date>,
}

/// A member's year in scoring's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberYear {
    pub member_id: String,
    /// Services recorded in the year, by whichever path.
    pub services: i64,
    pub halves: Vec<HalfAtCommunity>,
}

/// Points earned and stars (as scoring counted them) in one half-year at one community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HalfAtCommunity {
    pub year: i32,
    pub half: i32,
    pub community_id: String,
    pub earned: i64,
    pub stars: i64,
}

/// Whose card a scoring entry is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardOf {
    Member(String),
    Unit(String),
}

/// A scoring entry, as an objection refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoredEntry {
    pub id: String,
    pub community_id: String,
    pub card: CardOf,
}

/// A member's confirmed attendance at a volunteering activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedActivity {
    pub attendance_id: String,
    pub activity_id: String,
    pub community_id: String,
    pub minutes: i64,
    pub confirmed_at: Option<i64>,
}

/// A volunteering activity: its title and kind (`ORDER`, `WISH`, `VISIT`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityOf {
    pub id: String,
    pub title: String,
    pub kind: String,
}

/// What a unit's own service record counts towards (S2 三).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitServiceKind {
    /// A community activity: at least one a month.
    CommunityActivity,
    /// A joint meeting (联席会议): at least one a quarter.
    JointMeeting,
    /// A joint theme party day (主题党日): at least one a half-year.
    ThemePartyDay,
}

/// A unit's service record (单位服务记录).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRecordOf {
    pub served_on: Option<Date>,
    pub kind: UnitServiceKind,
}

/// A peer's answer that was not a reply: its gRPC code's name, its message,
/// and whether it was an outage (retry later) rather than a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerFailure {
    pub code: String,
    pub message: String,
    pub outage: bool,
}
