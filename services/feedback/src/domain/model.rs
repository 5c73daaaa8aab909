//! Feedback's records.

use dualreport_platform::stored_enum;
use serde::{Deserialize, Serialize};

use super::Period;

/// A row of the summary table (附录F 在职党员到社区报到情况汇总表).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub number: i32,
    pub member_id: String,
    pub name: String,
    pub reported: bool,
    pub reported_community_id: String,
    pub points: i64,
    pub stars: i64,
    pub comment: String,
    /// Sources that did not answer for this row ("registry", "scoring").
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryTable {
    pub unit_org_id: String,
    pub unit_name: String,
    pub community_id: String,
    pub period: Period,
    pub rows: Vec<SummaryRow>,
    pub missing_sources: Vec<String>,
    pub built_at: i64,
}

impl SummaryTable {
    pub fn complete(&self) -> bool {
        self.missing_sources.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct MemberComment {
    pub community_id: String,
    pub member_id: String,
    pub period: Period,
    pub comment: String,
    pub author: String,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeStatus {
    Sent,
    Acknowledged,
}
stored_enum!(NoticeStatus { Sent => "sent", Acknowledged => "acknowledged" });

/// A feedback notice (附录E 在职党员社区表现反馈单).
#[derive(Debug, Clone)]
pub struct Notice {
    pub id: String,
    pub community_id: String,
    pub community_path: String,
    pub unit_org_id: String,
    pub unit_path: String,
    pub district_id: String,
    pub period: Period,
    pub title: String,
    pub body: String,
    pub urgent: bool,
    pub summary: Option<SummaryTable>,
    pub status: NoticeStatus,
    pub sent_by: String,
    pub sent_at: i64,
    pub acknowledged_by: String,
    pub acknowledged_at: Option<i64>,
}

/// The yearly grade of a unit's service (S1 附件3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grade {
    /// 优秀
    Excellent,
    /// 良好
    Good,
    /// 一般
    Fair,
    /// 较差
    Poor,
}
stored_enum!(Grade { Excellent => "excellent", Good => "good", Fair => "fair", Poor => "poor" });

impl Grade {
    pub fn chinese(self) -> &'static str {
        match self {
            Grade::Excellent => "优秀",
            Grade::Good => "良好",
            Grade::Fair => "一般",
            Grade::Poor => "较差",
        }
    }
}

#[derive(Debug, Clone)]
pub struct UnitRating {
    pub community_id: String,
    pub community_path: String,
    pub unit_org_id: String,
    pub unit_path: String,
    pub year: i32,
    pub grade: Grade,
    pub comment: String,
    pub rated_by: String,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectionStatus {
    Open,
    Assigned,
    Upheld,
    Rejected,
}
/// The filters of an objection list (a work queue by stage and day raised).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectionFilter {
    pub status: Option<ObjectionStatus>,
    pub raised: dualreport_platform::filter::DateWindow,
}

stored_enum!(ObjectionStatus { Open => "open", Assigned => "assigned", Upheld => "upheld", Rejected => "rejected" });

impl ObjectionStatus {
    pub fn decided(self) -> bool {
        matches!(self, Self::Upheld | Self::Rejected)
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Self::Open => "待处理",
            Self::Assigned => "调查中",
            Self::Upheld => "异议成立",
            Self::Rejected => "异议不成立",
        }
    }
}

/// One step of an objection's history.
#[derive(Debug, Clone)]
pub struct Step {
    pub action: String,
    pub actor: String,
    pub text: String,
    pub evidence_ids: Vec<String>,
    pub at: i64,
}

/// An objection (附录G 异议处理登记表) and its history.
#[derive(Debug, Clone)]
pub struct Objection {
    pub id: String,
    pub raised_by: String,
    /// "member" or "unit_org".
    pub subject_kind: String,
    pub subject_id: String,
    pub entry_id: String,
    pub community_id: String,
    pub community_path: String,
    pub district_id: String,
    pub content: String,
    pub department: String,
    pub status: ObjectionStatus,
    pub result: String,
    pub correction_points: i64,
    pub correction_entry_id: String,
    pub correction_error: String,
    pub correction_attempts: i64,
    pub raised_at: i64,
    pub decided_at: Option<i64>,
    pub history: Vec<Step>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Pending,
    /// 走访
    Visited,
    /// 电话
    Phoned,
}
stored_enum!(Method { Pending => "pending", Visited => "visited", Phoned => "phoned" });

#[derive(Debug, Clone)]
pub struct SpotItem {
    pub member_id: String,
    pub community_id: String,
    pub method: Method,
    pub findings: String,
    pub checked_by: String,
    pub checked_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct SpotCheck {
    pub id: String,
    pub unit_org_id: String,
    pub unit_path: String,
    pub year: i32,
    pub sample_percent: i64,
    pub seed: String,
    pub population: i64,
    pub drawn_by: String,
    pub drawn_at: i64,
    pub items: Vec<SpotItem>,
}

/// An event of the feed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Event {
    pub sequence: i64,
    pub source: String,
    pub kind: String,
    pub occur_time: i64,
    pub subject_id: String,
    pub district_id: String,
    pub community_id: String,
    pub unit_org_id: String,
    pub member_id: String,
    pub text: String,
    pub evidence_ids: Vec<String>,
    /// The year the fact is about (a warning's, a report's), 0 when none;
    /// in feedback's own journal, not in the feed's events.
    pub year: i32,
}

pub use dualreport_webhook::Webhook;

#[derive(Debug, Clone)]
pub struct FailedDelivery {
    pub id: String,
    pub event: Event,
    pub attempts: i64,
    pub last_error: String,
    pub failed_at: i64,
}

/// One line of a performance card: per activity type and way of taking part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardLine {
    pub activity_kind: String,
    pub way: String,
    pub services: i64,
    pub minutes: i64,
}

#[derive(Debug, Clone)]
pub struct CardEntry {
    pub attendance_id: String,
    pub activity_id: String,
    pub title: String,
    pub activity_kind: String,
    pub community_id: String,
    pub minutes: i64,
    pub confirmed_at: Option<i64>,
}

/// A member's performance card (S3 附件5) for a year.
#[derive(Debug, Clone)]
pub struct Card {
    pub member_id: String,
    pub name: String,
    pub year: i32,
    pub lines: Vec<CardLine>,
    pub entries: Vec<CardEntry>,
}
