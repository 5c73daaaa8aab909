//! Policy presets (S1–S4) and their overrides, shared by every service.
//!
//! Where the seeds disagree (deadlines, yearly minimums, posts, points) the
//! rule is a policy value. A deployment picks a preset (default S4) and may
//! override any value; each service reads the same `policy` section of its
//! settings (the Helm chart fills it from one value), and the registry serves
//! the effective policy (`GetPolicy`) to callers. This crate also holds the
//! calendar every rule is read in: China Standard Time.

pub mod wire;

use serde::Deserialize;

/// A calendar date (China Standard Time).
pub type Date = chrono::NaiveDate;

/// Today in China Standard Time, in which windows, deadlines and periods are read.
pub fn china_today() -> Date {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    chrono::Utc::now().with_timezone(&offset).date_naive()
}

/// The calendar day (China Standard Time) of a moment in milliseconds.
pub fn china_date(millis: i64) -> Date {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .with_timezone(&offset)
        .date_naive()
}

/// Where "today" comes from: China Standard Time by the system clock, or a
/// fixed day (tests of date rules must not depend on the day they run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    System,
    Fixed(Date),
}

impl Clock {
    pub fn today(self) -> Date {
        match self {
            Clock::System => china_today(),
            Clock::Fixed(date) => date,
        }
    }
}

/// Milliseconds since the Unix epoch, the stored form of instants.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A yearly window of month-day bounds, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: (u32, u32),
    pub end: (u32, u32),
}

impl Window {
    pub const fn new(start: (u32, u32), end: (u32, u32)) -> Self {
        Self { start, end }
    }

    /// Whether `date` falls inside this window of `year`.
    pub fn contains(&self, year: i32, date: Date) -> bool {
        let (Some(start), Some(end)) = (
            Date::from_ymd_opt(year, self.start.0, self.start.1),
            Date::from_ymd_opt(year, self.end.0, self.end.1),
        ) else {
            return false;
        };
        (start..=end).contains(&date)
    }

    pub fn format(bound: (u32, u32)) -> String {
        format!("{:02}-{:02}", bound.0, bound.1)
    }

    /// Parses `MM-DD`.
    pub fn parse_bound(value: &str) -> Option<(u32, u32)> {
        let (m, d) = value.split_once('-')?;
        let (m, d) = (m.parse().ok()?, d.parse().ok()?);
        // 2024 is a leap year, so 02-29 is accepted.
        Date::from_ymd_opt(2024, m, d).map(|_| (m, d))
    }
}

/// The effective policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub preset: &'static str,
    pub unit_report_window: Window,
    pub member_report_window: Window,
    /// S3: members report with an introduction letter from their unit org.
    pub letter_required: bool,
    /// A relocated member reports again within this many days (S2, S4: one month).
    pub relocation_days: u32,
    pub min_posts_claimed: u32,
    pub max_posts_claimed: u32,
    pub base_points: u32,
    pub max_adjustment: u32,
    pub project_points_cap: u32,
    pub points_per_star: u32,
    pub max_stars: u32,
    pub member_min_services_per_year: u32,
    pub member_min_pledge_items: u32,
    pub member_min_activities_per_year: u32,
    pub unit_min_activities_per_month: u32,
    pub unit_min_meetings_per_quarter: u32,
    pub unit_min_theme_days_per_half_year: u32,
    pub unit_min_projects_per_year: u32,
    pub spot_check_percent: u32,
}

const S4: Policy = Policy {
    preset: "S4",
    // S4 §3.1.1: units at the start of the year; §3.1.2: members in March.
    unit_report_window: Window::new((1, 1), (3, 31)),
    member_report_window: Window::new((3, 1), (3, 31)),
    letter_required: false,
    relocation_days: 30,
    min_posts_claimed: 1,
    max_posts_claimed: 3,
    // §3.5.1–3.5.5
    base_points: 5,
    max_adjustment: 3,
    project_points_cap: 30,
    points_per_star: 10,
    max_stars: 10,
    // §4.2: one organisational-life or theme activity in the community.
    member_min_services_per_year: 1,
    member_min_pledge_items: 1,
    member_min_activities_per_year: 1,
    unit_min_activities_per_month: 1,
    unit_min_meetings_per_quarter: 1,
    unit_min_theme_days_per_half_year: 1,
    unit_min_projects_per_year: 1,
    spot_check_percent: 20,
};

/// The four seeds' presets.
pub fn preset(name: &str) -> Option<Policy> {
    match name.to_ascii_uppercase().as_str() {
        "S4" => Some(S4),
        // S1: units and members by the end of June; receipts filed by 7/8.
        "S1" => Some(Policy {
            preset: "S1",
            unit_report_window: Window::new((1, 1), (6, 30)),
            member_report_window: Window::new((1, 1), (6, 30)),
            member_min_services_per_year: 1,
            unit_min_activities_per_month: 0,
            unit_min_meetings_per_quarter: 0,
            unit_min_theme_days_per_half_year: 0,
            ..S4
        }),
        // S2: units by 10/18, members by 10/25 (end of October); two services a year.
        "S2" => Some(Policy {
            preset: "S2",
            unit_report_window: Window::new((1, 1), (10, 18)),
            member_report_window: Window::new((1, 1), (10, 31)),
            max_posts_claimed: 15,
            member_min_services_per_year: 2,
            ..S4
        }),
        // S3: introduction letter; 1–2 posts; 2 pledge items and 6 activities.
        "S3" => Some(Policy {
            preset: "S3",
            unit_report_window: Window::new((1, 1), (12, 31)),
            member_report_window: Window::new((1, 1), (12, 31)),
            letter_required: true,
            max_posts_claimed: 2,
            member_min_services_per_year: 2,
            member_min_pledge_items: 2,
            member_min_activities_per_year: 6,
            ..S4
        }),
        _ => None,
    }
}

/// The `policy` section of a service's settings: a preset and any overrides.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct PolicySettings {
    pub preset: Option<String>,
    pub unit_report_window_start: Option<String>,
    pub unit_report_window_end: Option<String>,
    pub member_report_window_start: Option<String>,
    pub member_report_window_end: Option<String>,
    pub letter_required: Option<bool>,
    pub relocation_days: Option<u32>,
    pub min_posts_claimed: Option<u32>,
    pub max_posts_claimed: Option<u32>,
    pub base_points: Option<u32>,
    pub max_adjustment: Option<u32>,
    pub project_points_cap: Option<u32>,
    pub points_per_star: Option<u32>,
    pub max_stars: Option<u32>,
    pub member_min_services_per_year: Option<u32>,
    pub member_min_pledge_items: Option<u32>,
    pub member_min_activities_per_year: Option<u32>,
    pub unit_min_activities_per_month: Option<u32>,
    pub unit_min_meetings_per_quarter: Option<u32>,
    pub unit_min_theme_days_per_half_year: Option<u32>,
    pub unit_min_projects_per_year: Option<u32>,
    pub spot_check_percent: Option<u32>,
}

impl Policy {
    /// This policy written as settings with every key filled (the `config`
    /// subcommand prints it, so an operator sees the preset resolved).
    pub fn as_settings(&self) -> PolicySettings {
        let bound = |b: (u32, u32)| Some(Window::format(b));
        PolicySettings {
            preset: Some(self.preset.to_owned()),
            unit_report_window_start: bound(self.unit_report_window.start),
            unit_report_window_end: bound(self.unit_report_window.end),
            member_report_window_start: bound(self.member_report_window.start),
            member_report_window_end: bound(self.member_report_window.end),
            letter_required: Some(self.letter_required),
            relocation_days: Some(self.relocation_days),
            min_posts_claimed: Some(self.min_posts_claimed),
            max_posts_claimed: Some(self.max_posts_claimed),
            base_points: Some(self.base_points),
            max_adjustment: Some(self.max_adjustment),
            project_points_cap: Some(self.project_points_cap),
            points_per_star: Some(self.points_per_star),
            max_stars: Some(self.max_stars),
            member_min_services_per_year: Some(self.member_min_services_per_year),
            member_min_pledge_items: Some(self.member_min_pledge_items),
            member_min_activities_per_year: Some(self.member_min_activities_per_year),
            unit_min_activities_per_month: Some(self.unit_min_activities_per_month),
            unit_min_meetings_per_quarter: Some(self.unit_min_meetings_per_quarter),
            unit_min_theme_days_per_half_year: Some(self.unit_min_theme_days_per_half_year),
            unit_min_projects_per_year: Some(self.unit_min_projects_per_year),
            spot_check_percent: Some(self.spot_check_percent),
        }
    }
}

impl PolicySettings {
    /// The preset with every override applied; fails on a bad value.
    pub fn resolve(&self) -> anyhow::Result<Policy> {
        let name = self.preset.as_deref().unwrap_or("S4");
        let mut p =
            preset(name).ok_or_else(|| anyhow::anyhow!("policy.preset {name:?} is not one of S1, S2, S3, S4"))?;
        let bound = |key: &str, value: &Option<String>, current: (u32, u32)| -> anyhow::Result<(u32, u32)> {
            match value {
                None => Ok(current),
                Some(v) => Window::parse_bound(v).ok_or_else(|| anyhow::anyhow!("policy.{key} {v:?} is not MM-DD")),
            }
        };
        p.unit_report_window.start = bound(
            "unit_report_window_start",
            &self.unit_report_window_start,
            p.unit_report_window.start,
        )?;
        p.unit_report_window.end = bound(
            "unit_report_window_end",
            &self.unit_report_window_end,
            p.unit_report_window.end,
        )?;
        p.member_report_window.start = bound(
            "member_report_window_start",
            &self.member_report_window_start,
            p.member_report_window.start,
        )?;
        p.member_report_window.end = bound(
            "member_report_window_end",
            &self.member_report_window_end,
            p.member_report_window.end,
        )?;
        macro_rules! over {
            ($($field:ident),+) => { $( if let Some(v) = self.$field { p.$field = v; } )+ };
        }
        over!(
            letter_required,
            relocation_days,
            min_posts_claimed,
            max_posts_claimed,
            base_points,
            max_adjustment,
            project_points_cap,
            points_per_star,
            max_stars,
            member_min_services_per_year,
            member_min_pledge_items,
            member_min_activities_per_year,
            unit_min_activities_per_month,
            unit_min_meetings_per_quarter,
            unit_min_theme_days_per_half_year,
            unit_min_projects_per_year,
            spot_check_percent
        );
        anyhow::ensure!(
            p.min_posts_claimed <= p.max_posts_claimed,
            "policy: min_posts_claimed exceeds max_posts_claimed"
        );
        anyhow::ensure!(p.points_per_star > 0, "policy.points_per_star must be positive");
        anyhow::ensure!(
            p.spot_check_percent <= 100,
            "policy.spot_check_percent must be at most 100"
        );
        anyhow::ensure!(p.relocation_days > 0, "policy.relocation_days must be positive");
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_overrides() {
        let s4 = PolicySettings::default().resolve().expect("default resolves");
        assert_eq!(s4.preset, "S4");
        assert_eq!(
            (s4.base_points, s4.max_adjustment, s4.points_per_star, s4.max_stars),
            (5, 3, 10, 10)
        );
        let s1 = preset("S1").expect("S1");
        assert_eq!(
            s1.member_report_window,
            Window::new((1, 1), (6, 30)),
            "S1: by the end of June"
        );
        let s2 = preset("S2").expect("S2");
        assert_eq!(s2.unit_report_window.end, (10, 18), "S2: units by 18 October");
        assert_eq!(
            s2.member_report_window.end,
            (10, 31),
            "S2: members by the end of October"
        );
        assert_eq!(s2.member_min_services_per_year, 2);
        assert!(!s1.letter_required && !s2.letter_required && !s4.letter_required);
        assert_eq!(
            s4.member_report_window,
            Window::new((3, 1), (3, 31)),
            "S4: members in March"
        );
        let s3 = PolicySettings {
            preset: Some("s3".into()),
            max_stars: Some(5),
            ..Default::default()
        }
        .resolve()
        .expect("s3 resolves");
        assert!(s3.letter_required);
        assert_eq!(s3.max_stars, 5);
        assert!(
            PolicySettings {
                preset: Some("S9".into()),
                ..Default::default()
            }
            .resolve()
            .is_err()
        );
        assert!(
            PolicySettings {
                member_report_window_start: Some("13-01".into()),
                ..Default::default()
            }
            .resolve()
            .is_err()
        );
        let march = Date::from_ymd_opt(2026, 3, 15).expect("date");
        assert!(s4.member_report_window.contains(2026, march));
        assert!(!s4.member_report_window.contains(2027, march));
    }
}
