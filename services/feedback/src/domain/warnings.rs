//! Compliance warnings (S2 保障(四), S3 管理办法四): which policy rules a unit
//! org's members and the unit itself break as of a day, from facts the other
//! services hold. Pure: the caller gathers the facts.

use chrono::Datelike;
use dualreport_platform::stored_enum;
use dualreport_policy::{Date, Policy};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    NotReported,
    RelocationNotReported,
    BelowServiceMinimum,
    BelowActivityMinimum,
    PledgeUnmet,
    UnitMonthlyActivities,
    UnitQuarterlyMeetings,
    UnitThemeDays,
    UnitProjects,
}
stored_enum!(Rule {
    NotReported => "not_reported",
    RelocationNotReported => "relocation_not_reported",
    BelowServiceMinimum => "below_service_minimum",
    BelowActivityMinimum => "below_activity_minimum",
    PledgeUnmet => "pledge_unmet",
    UnitMonthlyActivities => "unit_monthly_activities",
    UnitQuarterlyMeetings => "unit_quarterly_meetings",
    UnitThemeDays => "unit_theme_days",
    UnitProjects => "unit_projects",
});

/// A member's pledge at year end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PledgeState {
    Missing,
    Unmet { services_done: i64, services_promised: i64 },
    Fulfilled,
}

/// What the year's service record says (known once the year is over).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearRecord {
    /// Service entries in scoring's ledger, whichever path recorded them.
    pub services: i64,
    /// Distinct community activities attended (confirmed).
    pub activities: i64,
    pub pledge: PledgeState,
}

/// A relocated member whose new report is overdue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueRelocation {
    pub to_community_id: String,
    pub due_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFacts {
    pub id: String,
    pub name: String,
    /// Where the member reported this year, or else lives.
    pub community_id: String,
    pub reported: bool,
    pub overdue_relocations: Vec<OverdueRelocation>,
    /// `None` before the year is over.
    pub year_record: Option<YearRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFacts {
    pub id: String,
    pub name: String,
    /// Unit community activities (S1 附件2) per month, January first.
    pub records_per_month: [i64; 12],
    /// Joint meetings attended (street joint-building meeting or community
    /// joint committee) per quarter.
    pub meetings_per_quarter: [i64; 4],
    /// Joint theme party days held with a community per half-year.
    pub theme_days_per_half: [i64; 2],
    /// Completed joint-building projects this year; `None` before year end.
    pub completed_projects: Option<i64>,
}

/// A warning as the rules find it (stored once per rule, subject and year).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub subject_kind: &'static str,
    pub subject_id: String,
    pub subject_name: String,
    pub evidence: String,
    pub community_id: String,
    pub unit_org_id: String,
    /// Year-end findings about a member bar the 优秀 rating (S2 保障(四)).
    pub blocks_excellent: bool,
}

/// Whether `year` is over as of `as_of`.
pub fn year_over(year: i32, as_of: Date) -> bool {
    as_of.year() > year
}

/// The rules [`evaluate`] judges in `year` as of `as_of`: a warning of
/// another rule was not looked at, so a re-evaluation must not withdraw it.
pub fn judged_rules(policy: &Policy, year: i32, as_of: Date) -> Vec<Rule> {
    let mut rules = vec![Rule::NotReported, Rule::RelocationNotReported];
    if policy.unit_min_activities_per_month > 0 {
        rules.push(Rule::UnitMonthlyActivities);
    }
    if policy.unit_min_meetings_per_quarter > 0 {
        rules.push(Rule::UnitQuarterlyMeetings);
    }
    if policy.unit_min_theme_days_per_half_year > 0 {
        rules.push(Rule::UnitThemeDays);
    }
    if year_over(year, as_of) {
        rules.extend([
            Rule::BelowServiceMinimum,
            Rule::BelowActivityMinimum,
            Rule::PledgeUnmet,
            Rule::UnitProjects,
        ]);
    }
    rules
}

/// Why a standing warning was withdrawn.
pub fn withdrawal_reason(as_of: Date) -> String {
    format!("no longer holds when re-evaluated as of {as_of}")
}

/// Every rule broken by the unit and its members in `year`, as of `as_of`.
pub fn evaluate(policy: &Policy, year: i32, as_of: Date, unit: &UnitFacts, members: &[MemberFacts]) -> Vec<Finding> {
    let mut found = Vec::new();
    let deadline = Date::from_ymd_opt(
        year,
        policy.member_report_window.end.0,
        policy.member_report_window.end.1,
    )
    .unwrap_or_else(|| Date::from_ymd_opt(year, 12, 31).unwrap_or(as_of));
    let member = |m: &MemberFacts, rule, evidence: String, community: &str, blocks| Finding {
        rule,
        subject_kind: "member",
        subject_id: m.id.clone(),
        subject_name: m.name.clone(),
        evidence,
        community_id: community.to_owned(),
        unit_org_id: unit.id.clone(),
        blocks_excellent: blocks,
    };
    for m in members {
        if !m.reported && as_of > deadline {
            found.push(member(
                m,
                Rule::NotReported,
                format!("no confirmed report for {year} by the deadline {deadline}"),
                &m.community_id,
                true,
            ));
        }
        for r in &m.overdue_relocations {
            found.push(member(
                m,
                Rule::RelocationNotReported,
                format!(
                    "relocated; not reported to community {} by {}",
                    r.to_community_id, r.due_on
                ),
                &r.to_community_id,
                false,
            ));
        }
        let Some(record) = &m.year_record else { continue };
        let min_services = i64::from(policy.member_min_services_per_year);
        if record.services < min_services {
            found.push(member(
                m,
                Rule::BelowServiceMinimum,
                format!(
                    "{} confirmed services in {year}; the minimum is {min_services}",
                    record.services
                ),
                &m.community_id,
                true,
            ));
        }
        let min_activities = i64::from(policy.member_min_activities_per_year);
        if record.activities < min_activities {
            found.push(member(
                m,
                Rule::BelowActivityMinimum,
                format!(
                    "{} community activities in {year}; the minimum is {min_activities}",
                    record.activities
                ),
                &m.community_id,
                true,
            ));
        }
        match &record.pledge {
            PledgeState::Fulfilled => {}
            PledgeState::Missing => found.push(member(
                m,
                Rule::PledgeUnmet,
                format!("no pledge made for {year}"),
                &m.community_id,
                true,
            )),
            PledgeState::Unmet {
                services_done,
                services_promised,
            } => found.push(member(
                m,
                Rule::PledgeUnmet,
                format!("pledged {services_promised} services in {year}, did {services_done}"),
                &m.community_id,
                true,
            )),
        }
    }

    let unit_finding = |rule, evidence: String| Finding {
        rule,
        subject_kind: "unit",
        subject_id: unit.id.clone(),
        subject_name: unit.name.clone(),
        evidence,
        community_id: String::new(),
        unit_org_id: unit.id.clone(),
        blocks_excellent: false,
    };
    let min_monthly = i64::from(policy.unit_min_activities_per_month);
    if min_monthly > 0 {
        let short: Vec<String> = (1..=12u32)
            .filter(|&month| month_over(year, month, as_of))
            .filter(|&month| unit.records_per_month[(month - 1) as usize] < min_monthly)
            .map(|month| format!("{year}-{month:02}"))
            .collect();
        if !short.is_empty() {
            found.push(unit_finding(
                Rule::UnitMonthlyActivities,
                format!(
                    "fewer than {min_monthly} community services recorded in {}",
                    short.join(", ")
                ),
            ));
        }
    }
    let min_meetings = i64::from(policy.unit_min_meetings_per_quarter);
    if min_meetings > 0 {
        let short: Vec<String> = (1..=4u32)
            .filter(|&q| month_over(year, q * 3, as_of))
            .filter(|&q| unit.meetings_per_quarter[(q - 1) as usize] < min_meetings)
            .map(|q| format!("{year}Q{q}"))
            .collect();
        if !short.is_empty() {
            found.push(unit_finding(
                Rule::UnitQuarterlyMeetings,
                format!(
                    "fewer than {min_meetings} joint meetings (street joint-building meeting or community joint committee) attended in {}",
                    short.join(", ")
                ),
            ));
        }
    }
    let min_theme_days = i64::from(policy.unit_min_theme_days_per_half_year);
    if min_theme_days > 0 {
        let short: Vec<String> = (1..=2u32)
            .filter(|&h| month_over(year, h * 6, as_of))
            .filter(|&h| unit.theme_days_per_half[(h - 1) as usize] < min_theme_days)
            .map(|h| format!("{year}H{h}"))
            .collect();
        if !short.is_empty() {
            found.push(unit_finding(
                Rule::UnitThemeDays,
                format!(
                    "fewer than {min_theme_days} joint theme party days held with a community in {}",
                    short.join(", ")
                ),
            ));
        }
    }
    if let Some(done) = unit.completed_projects {
        let min = i64::from(policy.unit_min_projects_per_year);
        if done < min {
            found.push(unit_finding(
                Rule::UnitProjects,
                format!("{done} joint-building projects completed in {year}; the minimum is {min}"),
            ));
        }
    }
    found
}

/// Whether the whole month is behind `as_of`.
fn month_over(year: i32, month: u32, as_of: Date) -> bool {
    (as_of.year(), as_of.month()) > (year, month)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        dualreport_policy::preset("S4").expect("S4")
    }

    fn date(y: i32, m: u32, d: u32) -> Date {
        Date::from_ymd_opt(y, m, d).expect("date")
    }

    fn member(reported: bool, record: Option<YearRecord>) -> MemberFacts {
        MemberFacts {
            id: "m1".into(),
            name: "张三".into(),
            community_id: "c1".into(),
            reported,
            overdue_relocations: Vec::new(),
            year_record: record,
        }
    }

    fn unit(per_month: i64, projects: Option<i64>) -> UnitFacts {
        UnitFacts {
            id: "u1".into(),
            name: "单位".into(),
            records_per_month: [per_month; 12],
            meetings_per_quarter: [per_month; 4],
            theme_days_per_half: [per_month; 2],
            completed_projects: projects,
        }
    }

    #[test]
    fn not_reported_only_after_the_deadline() {
        let before = evaluate(
            &policy(),
            2026,
            date(2026, 3, 31),
            &unit(1, None),
            &[member(false, None)],
        );
        assert!(before.is_empty());
        let after = evaluate(
            &policy(),
            2026,
            date(2026, 4, 1),
            &unit(1, None),
            &[member(false, None)],
        );
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].rule, Rule::NotReported);
        assert!(after[0].blocks_excellent);
    }

    #[test]
    fn year_end_rules() {
        let record = YearRecord {
            services: 0,
            activities: 0,
            pledge: PledgeState::Unmet {
                services_done: 0,
                services_promised: 2,
            },
        };
        let found = evaluate(
            &policy(),
            2025,
            date(2026, 1, 5),
            &unit(1, Some(0)),
            &[member(true, Some(record))],
        );
        let rules: Vec<Rule> = found.iter().map(|f| f.rule).collect();
        assert_eq!(
            rules,
            [
                Rule::BelowServiceMinimum,
                Rule::BelowActivityMinimum,
                Rule::PledgeUnmet,
                Rule::UnitProjects
            ]
        );
    }

    #[test]
    fn an_overdue_relocation_is_warned_at_the_new_community() {
        let mut m = member(true, None);
        m.overdue_relocations.push(OverdueRelocation {
            to_community_id: "c2".into(),
            due_on: date(2026, 5, 1),
        });
        let found = evaluate(&policy(), 2026, date(2026, 5, 2), &unit(1, None), &[m]);
        let relocation: Vec<&Finding> = found.iter().filter(|f| f.rule == Rule::RelocationNotReported).collect();
        assert_eq!(relocation.len(), 1, "{found:?}");
        assert_eq!(relocation[0].community_id, "c2", "the new community must act");
        assert!(!relocation[0].blocks_excellent);
    }

    #[test]
    fn unit_months_counted_only_once_over() {
        let mut u = unit(1, None);
        u.records_per_month[0] = 0;
        u.records_per_month[5] = 0;
        let found = evaluate(&policy(), 2026, date(2026, 6, 15), &u, &[]);
        assert_eq!(found.len(), 1);
        assert!(found[0].evidence.contains("2026-01"), "{}", found[0].evidence);
        assert!(!found[0].evidence.contains("2026-06"), "June is not over");
    }

    #[test]
    fn joint_meetings_by_quarter_and_theme_days_by_half_year() {
        let mut u = unit(1, None);
        u.meetings_per_quarter = [0, 1, 0, 0];
        u.theme_days_per_half = [0, 0];
        // As of August 1st: Q1 and Q2 are over (Q1 missed), H1 is over (missed).
        let found = evaluate(&policy(), 2026, date(2026, 8, 1), &u, &[]);
        let meetings = found
            .iter()
            .find(|f| f.rule == Rule::UnitQuarterlyMeetings)
            .expect("meetings");
        assert!(meetings.evidence.contains("2026Q1"), "{}", meetings.evidence);
        assert!(!meetings.evidence.contains("2026Q2") && !meetings.evidence.contains("2026Q3"));
        let theme = found
            .iter()
            .find(|f| f.rule == Rule::UnitThemeDays)
            .expect("theme days");
        assert!(theme.evidence.contains("2026H1") && !theme.evidence.contains("2026H2"));
        // Held in time: nothing to warn about.
        u.meetings_per_quarter = [1, 1, 0, 0];
        u.theme_days_per_half = [1, 0];
        let found = evaluate(&policy(), 2026, date(2026, 8, 1), &u, &[]);
        assert!(found.is_empty(), "{found:?}");
    }
}
