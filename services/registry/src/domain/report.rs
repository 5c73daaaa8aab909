//! 报到 — unit and member reports, letters, receipts, relocations.

use super::Date;
use dualreport_platform::filter::DateWindow;
use dualreport_platform::stored_enum;

/// The filters of a unit-report list (a community's queue of reports to
/// receive is `status = Submitted`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitReportFilter {
    /// 0: every year.
    pub year: i32,
    pub status: Option<UnitReportStatus>,
    pub submitted: DateWindow,
}

/// The filters of a member-report list (a community's confirmation queue
/// is `status = Submitted`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemberReportFilter {
    /// 0: every year.
    pub year: i32,
    pub status: Option<MemberReportStatus>,
    pub submitted: DateWindow,
}

/// The filters of a relocation list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelocationFilter {
    /// Only relocations still pending after their due day, judged on this day.
    pub overdue_on: Option<Date>,
    pub status: Option<RelocationStatus>,
    pub declared: DateWindow,
}

/// 报到单 status of a unit report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitReportStatus {
    Submitted,
    Received,
}

/// How the community of a unit report was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignment {
    Chosen,
    BySuperior,
    ByStreet,
}

/// Status of a member report. Active = submitted or confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberReportStatus {
    Submitted,
    Confirmed,
    /// Ended by a relocation.
    Ended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelocationStatus {
    Pending,
    Fulfilled,
}

stored_enum!(UnitReportStatus { Submitted => "SUBMITTED", Received => "RECEIVED" });
stored_enum!(Assignment { Chosen => "CHOSEN", BySuperior => "BY_SUPERIOR", ByStreet => "BY_STREET" });
stored_enum!(MemberReportStatus { Submitted => "SUBMITTED", Confirmed => "CONFIRMED", Ended => "ENDED" });
stored_enum!(RelocationStatus { Pending => "PENDING", Fulfilled => "FULFILLED" });

/// 回执 — a numbered, dated receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub number: String,
    pub issued_at: i64,
    pub year: i32,
    pub community_id: String,
    pub unit_org_id: String,
    pub member_id: Option<String>,
    pub report_id: String,
}

/// The kind letter of a receipt number.
#[derive(Debug, Clone, Copy)]
pub enum ReceiptKind {
    Unit,
    Member,
}

/// `PREFIX-2026-U-000001`: unique per deployment, readable on paper.
pub fn receipt_number(prefix: &str, year: i32, kind: ReceiptKind, sequence: i64) -> String {
    let kind = match kind {
        ReceiptKind::Unit => 'U',
        ReceiptKind::Member => 'M',
    };
    format!("{prefix}-{year}-{kind}-{sequence:06}")
}

/// `PREFIX-2026-L-000001` for introduction letters.
pub fn letter_number(prefix: &str, year: i32, sequence: i64) -> String {
    format!("{prefix}-{year}-L-{sequence:06}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitReport {
    pub id: String,
    pub unit_org_id: String,
    pub community_id: String,
    pub year: i32,
    pub status: UnitReportStatus,
    pub assignment: Assignment,
    pub assigned_by_org_id: Option<String>,
    pub org_name: String,
    pub details: super::org::OrgDetails,
    pub superior_org_id: Option<String>,
    pub resources: String,
    pub suggestions: String,
    pub submitted_at: i64,
    pub receipt: Option<Receipt>,
}

/// 介绍信
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub id: String,
    pub number: String,
    pub unit_org_id: String,
    pub member_id: String,
    pub community_id: String,
    pub year: i32,
    pub issued_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberReport {
    pub id: String,
    pub member_id: String,
    pub community_id: String,
    pub year: i32,
    pub status: MemberReportStatus,
    pub letter_id: Option<String>,
    pub unit_org_id: String,
    pub branch: String,
    pub submitted_at: i64,
    pub confirmed_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub receipt: Option<Receipt>,
    /// The first day the registration covers: January 1st of the year, or
    /// the relocation date for a report that fulfils a relocation.
    pub registered_from: Option<Date>,
    /// The first day it no longer covers (the relocation date of a move
    /// away); `None` while open.
    pub registered_until: Option<Date>,
}

impl MemberReport {
    /// The first day the registration covers.
    pub fn covers_from(&self) -> Date {
        self.registered_from
            .or_else(|| Date::from_ymd_opt(self.year, 1, 1))
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relocation {
    pub id: String,
    pub member_id: String,
    pub from_community_id: String,
    /// In `to_district` when that is set (another district's community).
    pub to_community_id: String,
    /// The district moved to, as the city tier names it; empty within this district.
    pub to_district: String,
    pub reason: String,
    pub declared_at: i64,
    pub due_on: Date,
    pub status: RelocationStatus,
    pub fulfilled_by_report_id: Option<String>,
}

impl Relocation {
    /// Still pending after its due date.
    pub fn is_overdue(&self, today: Date) -> bool {
        self.status == RelocationStatus::Pending && today > self.due_on
    }
}

/// The date by which a relocated member must report again.
pub fn relocation_due(declared_on: Date, days: u32) -> Date {
    declared_on + chrono::Days::new(u64::from(days))
}

/// A reporting year the registry accepts.
pub fn valid_year(year: i32) -> bool {
    (2000..=2100).contains(&year)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_due_dates() {
        assert_eq!(receipt_number("JS", 2026, ReceiptKind::Unit, 7), "JS-2026-U-000007");
        assert_eq!(
            receipt_number("JS", 2026, ReceiptKind::Member, 1234567),
            "JS-2026-M-1234567"
        );
        assert_eq!(letter_number("JS", 2026, 3), "JS-2026-L-000003");
        let declared = Date::from_ymd_opt(2026, 1, 31).expect("date");
        assert_eq!(
            relocation_due(declared, 30),
            Date::from_ymd_opt(2026, 3, 2).expect("date")
        );
    }
}
