//! Work-queue filters every List shares: the [`DateWindow`] of a
//! `common.DateRange`, in the forms the stores compare against.

use chrono::NaiveDate;
use dualreport_proto::common::v1::DateRange;

use crate::error::FieldError;
use crate::wire::date_from_pb;

/// China Standard Time is UTC+8 all year.
const CST_OFFSET_MILLIS: i64 = 8 * 3600 * 1000;
const DAY_MILLIS: i64 = 24 * 3600 * 1000;

/// Days from `first` through `last`, both included (CST); `None` is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateWindow {
    pub first: Option<NaiveDate>,
    pub last: Option<NaiveDate>,
}

impl DateWindow {
    /// The request's range, refusing a date that is not on the calendar
    /// (`field.first`) or a range that ends before it starts (`field`).
    pub fn parse(field: &str, range: Option<&DateRange>) -> Result<Self, FieldError> {
        let Some(range) = range else { return Ok(Self::default()) };
        let end = |name: &str, date: Option<&dualreport_proto::common::v1::Date>| {
            date.map(|d| {
                date_from_pb(d).ok_or_else(|| FieldError::new(format!("{field}.{name}"), "is not a calendar date"))
            })
            .transpose()
        };
        let window = Self {
            first: end("first", range.first.as_ref())?,
            last: end("last", range.last.as_ref())?,
        };
        if let (Some(first), Some(last)) = (window.first, window.last)
            && first > last
        {
            return Err(FieldError::new(field, format!("first {first} is after last {last}")));
        }
        Ok(window)
    }

    /// `[from, until)` in Unix milliseconds, for columns holding instants.
    pub fn millis(&self) -> (i64, i64) {
        let start_of = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .map_or(0, |t| t.and_utc().timestamp_millis() - CST_OFFSET_MILLIS)
        };
        (
            self.first.map_or(i64::MIN, start_of),
            self.last.map_or(i64::MAX, |d| start_of(d).saturating_add(DAY_MILLIS)),
        )
    }

    /// `[first, last]` as `YYYY-MM-DD`, for columns holding calendar days
    /// (text compares in date order).
    pub fn days(&self) -> (String, String) {
        (
            self.first.map_or_else(|| "0000-01-01".to_owned(), |d| d.to_string()),
            self.last.map_or_else(|| "9999-12-31".to_owned(), |d| d.to_string()),
        )
    }
}

#[cfg(test)]
mod tests {
    use dualreport_proto::common::v1::Date;

    use super::*;

    fn range(first: Option<(i32, i32, i32)>, last: Option<(i32, i32, i32)>) -> DateRange {
        let d = |(year, month, day)| Date { year, month, day };
        DateRange {
            first: first.map(d),
            last: last.map(d),
        }
    }

    #[test]
    fn a_window_covers_whole_china_days() {
        let w = DateWindow::parse("submitted", Some(&range(Some((2026, 3, 1)), Some((2026, 3, 1))))).unwrap();
        // 2026-03-01 00:00 CST is 2026-02-28 16:00 UTC.
        assert_eq!(w.millis(), (1_772_294_400_000, 1_772_294_400_000 + DAY_MILLIS));
        assert_eq!(w.days(), ("2026-03-01".to_owned(), "2026-03-01".to_owned()));
    }

    #[test]
    fn open_ends_and_bad_ranges() {
        let open = DateWindow::parse("served", None).unwrap();
        assert_eq!(open.millis(), (i64::MIN, i64::MAX));
        let bad = DateWindow::parse("served", Some(&range(Some((2026, 2, 30)), None))).unwrap_err();
        assert_eq!(bad.field, "served.first");
        let backwards = DateWindow::parse("served", Some(&range(Some((2026, 3, 2)), Some((2026, 3, 1))))).unwrap_err();
        assert_eq!(backwards.field, "served");
    }
}
