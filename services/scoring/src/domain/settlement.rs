//! Half-year settlement (清算, S4 §3.5.4–3.5.6): freezes each subject's points
//! and stars at a community; the members-and-residents assembly reviews the
//! result and the community publishes it on the vanguard board.

use dualreport_platform::stored_enum;

use super::period::Period;
use super::{Date, Subject};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettlementStatus {
    Draft,
    /// Reviewed by the members-and-residents assembly (党员群众代表大会).
    Reviewed,
    Published,
}

/// Whose settlements a list reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettlementsOf {
    Community(String),
    /// Every community under this org path (`/city/…/org/`).
    Subtree(String),
}

stored_enum!(SettlementStatus { Draft => "draft", Reviewed => "reviewed", Published => "published" });

/// One subject's frozen result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub subject: Subject,
    pub subject_name: String,
    pub points: i64,
    pub stars: i64,
}

/// One version of a community's half-year result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub id: String,
    pub community_id: String,
    /// `/city/district/street/community/`: where the board finds it.
    pub scope_path: String,
    pub period: Period,
    pub version: i64,
    pub status: SettlementStatus,
    pub reason: String,
    /// The published version the board shows.
    pub current: bool,
    pub settled_by: String,
    pub settled_at: i64,
    pub assembly_date: Option<Date>,
    pub reviewed_by: String,
    pub reviewed_at: Option<i64>,
    pub published_by: String,
    pub published_at: Option<i64>,
    pub points_per_star: i64,
    pub max_stars: i64,
    /// How many lines it froze (paged by `ListSettlementLines`).
    pub line_count: i64,
}

/// The assembly reviews after the half-year has ended and not in the future.
pub fn assembly_date(period: Period, date: Option<Date>, today: Date) -> Result<Date, String> {
    let date = date.ok_or("must be a calendar date")?;
    if date <= period.last_day() {
        return Err(format!("must be after the half-year ends ({})", period.last_day()));
    }
    if date > today {
        return Err(format!("must not be after today ({today})"));
    }
    Ok(date)
}
