//! Half-years (半年度), the unit of settlement (S4 §3.5.4): H1 January–June,
//! H2 July–December, read in China Standard Time.

use chrono::Datelike as _;
use dualreport_platform::error::FieldError;

use super::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Half {
    First,
    Second,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    pub year: i32,
    pub half: Half,
}

impl Period {
    pub fn new(field: &str, year: i32, half: Option<Half>) -> Result<Self, FieldError> {
        let half = half.ok_or_else(|| FieldError::new(format!("{field}.half"), "must be HALF_FIRST or HALF_SECOND"))?;
        if !(2000..=9998).contains(&year) {
            return Err(FieldError::new(
                format!("{field}.year"),
                "must be between 2000 and 9998",
            ));
        }
        Ok(Self { year, half })
    }

    /// The half-year `date` falls in.
    pub fn of(date: Date) -> Self {
        Self {
            year: date.year(),
            half: if date.month() <= 6 { Half::First } else { Half::Second },
        }
    }

    pub fn first_day(self) -> Date {
        let month = match self.half {
            Half::First => 1,
            Half::Second => 7,
        };
        Date::from_ymd_opt(self.year, month, 1).expect("the first of January or July exists")
    }

    pub fn last_day(self) -> Date {
        let (month, day) = match self.half {
            Half::First => (6, 30),
            Half::Second => (12, 31),
        };
        Date::from_ymd_opt(self.year, month, day).expect("30 June and 31 December exist")
    }

    /// A period can be settled from the day after its last day.
    pub fn has_ended(self, today: Date) -> bool {
        today > self.last_day()
    }

    /// The stored form, `2026H1`; it sorts chronologically.
    pub fn key(self) -> String {
        let half = match self.half {
            Half::First => 1,
            Half::Second => 2,
        };
        format!("{}H{half}", self.year)
    }

    pub fn parse_key(key: &str) -> Option<Self> {
        let (year, half) = key.split_once('H')?;
        let half = match half {
            "1" => Half::First,
            "2" => Half::Second,
            _ => return None,
        };
        Some(Self {
            year: year.parse().ok()?,
            half,
        })
    }

    /// 2026年上半年 / 2026年下半年, as the templates write it.
    pub fn chinese(self) -> String {
        let half = match self.half {
            Half::First => "上",
            Half::Second => "下",
        };
        format!("{}年{half}半年", self.year)
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> Date {
        Date::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn halves_split_at_the_first_of_july() {
        assert_eq!(Period::of(day(2026, 6, 30)).key(), "2026H1");
        assert_eq!(Period::of(day(2026, 7, 1)).key(), "2026H2");
        let h1 = Period::parse_key("2026H1").expect("parses");
        assert_eq!((h1.first_day(), h1.last_day()), (day(2026, 1, 1), day(2026, 6, 30)));
        assert!(!h1.has_ended(day(2026, 6, 30)));
        assert!(h1.has_ended(day(2026, 7, 1)));
        assert_eq!(Period::parse_key("2026H3"), None);
        assert_eq!(h1.chinese(), "2026年上半年");
        assert!("2025H2" < "2026H1", "keys sort chronologically");
    }
}
