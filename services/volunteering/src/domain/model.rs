//! The records volunteering keeps, and the state machine of attendance (the
//! orders' and wishes' are in [`super::order`], re-exported here).

use dualreport_platform::stored_enum;

use super::Date;

pub use super::order::*;

/// 岗位: a volunteer post a community sets.
#[derive(Debug, Clone)]
pub struct Post {
    pub id: String,
    pub community_id: String,
    pub name: String,
    pub description: String,
    pub standard: bool,
    pub created_at: i64,
}

/// 认岗: a member's claim of a post for a year.
#[derive(Debug, Clone)]
pub struct Claim {
    pub id: String,
    pub member_id: String,
    pub post_id: String,
    pub post_name: String,
    pub community_id: String,
    pub year: i32,
    pub created_at: i64,
}

/// 服务队 kinds (S4 §3.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamKind {
    Organised,
    Professional,
    Interest,
}

stored_enum!(TeamKind { Organised => "organised", Professional => "professional", Interest => "interest" });

#[derive(Debug, Clone)]
pub struct Team {
    pub id: String,
    pub community_id: String,
    pub name: String,
    pub kind: TeamKind,
    pub post_id: String,
    pub member_ids: Vec<String>,
    pub created_at: i64,
}

/// 特长党员工作室
#[derive(Debug, Clone)]
pub struct Studio {
    pub id: String,
    pub community_id: String,
    pub member_id: String,
    pub name: String,
    pub services: Vec<String>,
    pub opening_hours: String,
    pub created_at: i64,
}

/// 承诺: what a member promises for a year.
#[derive(Debug, Clone)]
pub struct Pledge {
    pub member_id: String,
    pub community_id: String,
    pub year: i32,
    pub items: Vec<String>,
    pub services: i64,
    pub hours: i64,
    pub way: String,
    pub updated_at: i64,
}

/// Progress against a pledge, from confirmed attendance only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub services_done: i64,
    pub minutes_done: i64,
}

impl Progress {
    pub fn hours_done(self) -> i64 {
        self.minutes_done / 60
    }

    pub fn fulfils(self, services: i64, hours: i64) -> bool {
        self.services_done >= services && self.hours_done() >= hours
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectStatus {
    Planned,
    InProgress,
    Completed,
    Cancelled,
}

stored_enum!(ProjectStatus {
    Planned => "planned",
    InProgress => "in_progress",
    Completed => "completed",
    Cancelled => "cancelled",
});

#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub goal: String,
    pub expected_effect: String,
    pub deadline: Option<Date>,
    pub status: ProjectStatus,
}

/// 联建协议 with its three lists and the unit's pledge.
#[derive(Debug, Clone)]
pub struct Agreement {
    pub id: String,
    pub unit_org_id: String,
    pub community_id: String,
    pub year: i32,
    pub resources: Vec<String>,
    pub needs: Vec<String>,
    pub projects: Vec<Project>,
    pub pledge_services: i64,
    pub pledge_hours: i64,
    pub pledge_form: String,
    pub progress: Progress,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct Household {
    pub id: String,
    pub member_id: String,
    pub community_id: String,
    /// Its place in the member's assigned list (from 0).
    pub position: i64,
    pub label: String,
    pub visits: i64,
    pub last_visit_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    Regular,
    Festival,
    ThemePartyDay,
    TeamService,
    StudioHours,
    Order,
    Wish,
    HouseholdVisit,
    ProjectWork,
}

/// What a unit's service record is (S2 三): 社区志愿服务活动 (monthly), 联合主题党日
/// (half-yearly) or 联席会议 — the street joint-building meeting or the
/// community joint committee (quarterly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitServiceKind {
    CommunityActivity,
    ThemePartyDay,
    JointMeeting,
}

stored_enum!(UnitServiceKind {
    CommunityActivity => "community_activity",
    ThemePartyDay => "theme_party_day",
    JointMeeting => "joint_meeting",
});

stored_enum!(ActivityKind {
    Regular => "regular",
    Festival => "festival",
    ThemePartyDay => "theme_party_day",
    TeamService => "team_service",
    StudioHours => "studio_hours",
    Order => "order",
    Wish => "wish",
    HouseholdVisit => "household_visit",
    ProjectWork => "project_work",
});

impl ActivityKind {
    /// Kinds the service creates itself for one member's completed work.
    pub fn is_individual(self) -> bool {
        matches!(
            self,
            ActivityKind::Order | ActivityKind::Wish | ActivityKind::HouseholdVisit
        )
    }
}

#[derive(Debug, Clone)]
pub struct Activity {
    pub id: String,
    pub community_id: String,
    pub kind: ActivityKind,
    pub title: String,
    pub content: String,
    pub post_id: String,
    pub place: String,
    pub start_at: i64,
    pub end_at: i64,
    pub capacity: i64,
    pub signed_up: i64,
    pub organiser: String,
    pub contact: String,
    pub team_id: String,
    pub studio_id: String,
    pub agreement_id: String,
    pub created_at: i64,
}

impl Activity {
    pub fn minutes(&self) -> i64 {
        ((self.end_at - self.start_at) / 60_000).max(1)
    }

    pub fn finished(&self, now: i64) -> bool {
        now > self.end_at
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttendanceStatus {
    SignedUp,
    CheckedIn,
    Confirmed,
}

stored_enum!(AttendanceStatus { SignedUp => "signed_up", CheckedIn => "checked_in", Confirmed => "confirmed" });

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payment {
    None,
    Pending,
    Paid,
}

/// Where a community's list reads (辖区): one community, or every community
/// inside an org's subtree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Area {
    Community(String),
    Subtree(String),
}

/// Whose attendance a list reads: exactly one of an activity's, a member's
/// or a community's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttendanceOf {
    Activity(String),
    Member(String),
    /// 社区的确认队列 — a community's queue, with `status = CheckedIn`.
    Community(String),
    /// Every community inside this org's subtree.
    Subtree(String),
}

/// The filters of an attendance list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttendanceFilter {
    /// 0: every year.
    pub year: i32,
    pub status: Option<AttendanceStatus>,
    pub payment: Option<Payment>,
    /// Only payments still owed after a failed delivery.
    pub payment_failing: bool,
    pub served: dualreport_platform::filter::DateWindow,
}

#[derive(Debug, Clone)]
pub struct Attendance {
    pub id: String,
    pub activity_id: String,
    pub member_id: String,
    pub community_id: String,
    pub status: AttendanceStatus,
    pub minutes: i64,
    pub adjustment: i64,
    pub note: String,
    pub evidence_ids: Vec<String>,
    pub confirmed_by: String,
    pub check_in_at: Option<i64>,
    pub confirmed_at: Option<i64>,
    /// The day served (China Standard Time), paid as `served_on`.
    pub served_on: Date,
    /// What the award says (the activity's title).
    pub content: String,
    pub entry_id: String,
    pub payment_error: String,
}

impl Attendance {
    pub fn payment(&self) -> Payment {
        match (self.status, self.entry_id.is_empty()) {
            (AttendanceStatus::Confirmed, false) => Payment::Paid,
            (AttendanceStatus::Confirmed, true) => Payment::Pending,
            _ => Payment::None,
        }
    }

    /// The scoring source key: one attendance is paid once, however often delivered.
    pub fn source_key(&self) -> String {
        format!("attendance:{}", self.id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    Photo,
    Text,
}

stored_enum!(EvidenceKind { Photo => "photo", Text => "text" });

#[derive(Debug, Clone)]
pub struct Evidence {
    pub id: String,
    pub community_id: String,
    pub kind: EvidenceKind,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub text: String,
    /// Where the bytes are in the blob store (photos only).
    pub object_key: String,
    pub uploaded_by: String,
    pub created_at: i64,
}

/// One service of a unit org (S1 附件2).
#[derive(Debug, Clone)]
pub struct UnitRecord {
    pub id: String,
    pub kind: UnitServiceKind,
    pub unit_org_id: String,
    pub community_id: String,
    pub served_on: Date,
    pub content: String,
    pub minutes: i64,
    pub agreement_id: String,
    pub evidence_ids: Vec<String>,
    pub recorded_by: String,
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_whole_hours() {
        let progress = Progress {
            services_done: 2,
            minutes_done: 179,
        };
        assert_eq!(progress.hours_done(), 2);
        assert!(progress.fulfils(2, 2));
        assert!(!progress.fulfils(2, 3));
        assert!(!progress.fulfils(3, 0));
    }
}
