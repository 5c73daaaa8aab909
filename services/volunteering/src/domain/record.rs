//! The national volunteer-service record (全国志愿服务信息系统): the Ministry of
//! Civil Affairs' rule is 谁组织谁记录 — the community that organised a
//! service records it. One record per confirmed service: the volunteer, the
//! organiser, the day, what was done, where, and the hours served.

use dualreport_platform::stored_enum;
use dualreport_tables::{Cell, Table};

/// Where a record stands with the national system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStatus {
    /// Never marked: still to send.
    New,
    Sent,
    /// The national system refused it; exported again.
    Failed,
}

stored_enum!(RecordStatus { New => "new", Sent => "sent", Failed => "failed" });

impl RecordStatus {
    pub fn chinese(self) -> &'static str {
        match self {
            RecordStatus::New => "未上报",
            RecordStatus::Sent => "已上报",
            RecordStatus::Failed => "上报失败",
        }
    }
}

/// The prefix of every record id: `VR-<attendance id>`, stable across exports.
pub const RECORD_PREFIX: &str = "VR-";

/// The attendance a record id names, if it is one.
pub fn attendance_of(record_id: &str) -> Option<&str> {
    record_id.strip_prefix(RECORD_PREFIX).filter(|id| !id.is_empty())
}

/// An activity's length in whole minutes from its start and end instants
/// (Unix milliseconds); 0 when unknown or reversed.
pub fn activity_minutes(start_at: i64, end_at: i64) -> i64 {
    ((end_at - start_at) / 60_000).max(0)
}

/// Hours served in hundredths: the confirmed minutes, at most the
/// activity's length (0: unknown), rounded to two decimals as the national
/// system counts them.
pub fn hundredths(minutes: i64, activity_minutes: i64) -> i64 {
    let minutes = if activity_minutes > 0 {
        minutes.min(activity_minutes)
    } else {
        minutes
    }
    .max(0);
    // minutes / 60 hours, in hundredths, rounded half up.
    (minutes * 100 + 30) / 60
}

/// Hundredths of an hour as a certificate prints them: `7.5`, `12`, `0.25`.
pub fn hours_text(hundredths: i64) -> String {
    let whole = hundredths / 100;
    match hundredths % 100 {
        0 => whole.to_string(),
        part if part % 10 == 0 => format!("{whole}.{}", part / 10),
        part => format!("{whole}.{part:02}"),
    }
}

/// One record, as exported.
#[derive(Debug, Clone, PartialEq)]
pub struct VolunteerRecord {
    pub attendance_id: String,
    pub volunteer_id: String,
    pub volunteer_name: String,
    /// The organising community (谁组织谁记录) and the activity's own organiser.
    pub organiser: String,
    /// `YYYY-MM-DD`, China Standard Time.
    pub served_on: String,
    pub content: String,
    pub place: String,
    /// Minutes served as confirmed (travel is never recorded as service).
    pub minutes: i64,
    /// The activity's own length in minutes (0: unknown).
    pub activity_minutes: i64,
    pub status: RecordStatus,
    pub error: String,
}

impl VolunteerRecord {
    pub fn record_id(&self) -> String {
        format!("{RECORD_PREFIX}{}", self.attendance_id)
    }

    /// Hours served: the confirmed minutes, at most the activity's length,
    /// in hours rounded to two decimals (the national system's unit).
    pub fn hours(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let hours = hundredths(self.minutes, self.activity_minutes) as f64 / 100.0;
        hours
    }

    fn date_cell(&self) -> Cell {
        let mut parts = self.served_on.splitn(3, '-').map(|p| p.parse::<u32>().ok());
        match (parts.next().flatten(), parts.next().flatten(), parts.next().flatten()) {
            (Some(year), Some(month), Some(day)) => Cell::Date {
                year: i32::try_from(year).unwrap_or(0),
                month,
                day,
            },
            _ => Cell::Text(self.served_on.clone()),
        }
    }

    /// One JSON Lines line (keys in English, as the national system's import takes them).
    pub fn json_line(&self) -> String {
        let mut line = serde_json::json!({
            "record_id": self.record_id(),
            "volunteer_id": self.volunteer_id,
            "volunteer_name": self.volunteer_name,
            "organiser": self.organiser,
            "served_on": self.served_on,
            "content": self.content,
            "place": self.place,
            "hours": self.hours(),
            "status": self.status.as_str(),
        })
        .to_string();
        line.push('\n');
        line
    }
}

/// The CSV's headers (the national system's import template, in Chinese).
pub const HEADERS: [&str; 9] = [
    "记录编号",
    "志愿者编号",
    "志愿者姓名",
    "组织单位",
    "服务日期",
    "服务内容",
    "服务地点",
    "服务时长（小时）",
    "上报状态",
];

/// `records` as CSV lines (the header too when `first`), UTF-8 with a BOM.
pub fn csv(records: &[VolunteerRecord], first: bool) -> Vec<u8> {
    let mut table = Table::new("志愿服务记录", &HEADERS);
    for r in records {
        table.push(vec![
            r.record_id().into(),
            r.volunteer_id.as_str().into(),
            r.volunteer_name.as_str().into(),
            r.organiser.as_str().into(),
            r.date_cell(),
            r.content.as_str().into(),
            r.place.as_str().into(),
            Cell::Decimal(r.hours()),
            r.status.chinese().into(),
        ]);
    }
    let bytes = dualreport_tables::csv(&table);
    if first {
        bytes
    } else {
        // Later messages carry rows only: drop the BOM and the header line.
        let skip = bytes
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(bytes.len(), |at| at + 2);
        bytes[skip..].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(minutes: i64, activity_minutes: i64) -> VolunteerRecord {
        VolunteerRecord {
            attendance_id: "a1".into(),
            volunteer_id: "m1".into(),
            volunteer_name: "张三".into(),
            organiser: "花园社区（第一党支部）".into(),
            served_on: "2026-03-09".into(),
            content: "清理楼道杂物".into(),
            place: "3号楼".into(),
            minutes,
            activity_minutes,
            status: RecordStatus::New,
            error: String::new(),
        }
    }

    #[test]
    fn certificate_hours_are_printed_without_trailing_zeros() {
        assert_eq!(hours_text(750), "7.5");
        assert_eq!(hours_text(1200), "12");
        assert_eq!(hours_text(25), "0.25");
        assert_eq!(hundredths(20, 0), 33, "20 minutes are 0.33 hours");
        assert_eq!(hundredths(50, 0), 83, "50 minutes are 0.83 hours");
    }

    #[test]
    fn hours_are_decimal_and_never_more_than_the_activity() {
        assert!((record(90, 120).hours() - 1.5).abs() < 1e-9);
        assert!(
            (record(150, 120).hours() - 2.0).abs() < 1e-9,
            "capped at the activity's length"
        );
        assert!((record(50, 0).hours() - 0.83).abs() < 1e-9, "two decimals");
        assert_eq!(attendance_of("VR-a1"), Some("a1"));
        assert_eq!(attendance_of("a1"), None);
        assert_eq!(attendance_of("VR-"), None);
    }

    #[test]
    fn later_chunks_carry_rows_only() {
        let first = String::from_utf8(csv(&[record(90, 120)], true)).unwrap();
        assert!(first.starts_with("\u{feff}记录编号,"), "{first}");
        let later = String::from_utf8(csv(&[record(90, 120)], false)).unwrap();
        assert_eq!(
            later,
            "VR-a1,m1,张三,花园社区（第一党支部）,2026-03-09,清理楼道杂物,3号楼,1.5,未上报\r\n"
        );
        assert!(record(90, 120).json_line().contains("\"hours\":1.5"));
    }
}
