//! Half-year settlement (清算, S4 §3.5.4–3.5.6): freezes each subject's points
//! and stars at a community; the members-and-residents assembly reviews the
//! result and the community publishes it on the vanguard board.

use dualreport_platform::stored_enum;

use super::ledger::Rules;
use super::period::Period;
use super::{Date, Subject};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettlementStatus {
    Draft,
    /// Reviewed by the members-and-residents assembly (党员群众代表大会).
    Reviewed,
    Published,
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
    pub lines: Vec<Line>,
}

/// A subject's earned points in the period, as the ledger sums them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Total {
    pub subject: Subject,
    pub subject_name: String,
    pub points: i64,
}

/// The lines of a settlement: stars by the rule, ordered as the board ranks
/// them (stars, then points, descending; then subject).
pub fn lines(rules: &Rules, totals: Vec<Total>) -> Vec<Line> {
    let mut lines: Vec<Line> = totals
        .into_iter()
        .map(|total| Line {
            stars: rules.stars(total.points),
            subject: total.subject,
            subject_name: total.subject_name,
            points: total.points,
        })
        .collect();
    lines.sort_by(|a, b| {
        b.stars
            .cmp(&a.stars)
            .then(b.points.cmp(&a.points))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    lines
}

/// Whether two results freeze the same points for the same subjects (names
/// and order aside): settling again without a change is refused.
pub fn same_points(a: &[Line], b: &[Line]) -> bool {
    let key = |lines: &[Line]| {
        let mut v: Vec<(Subject, i64)> = lines.iter().map(|l| (l.subject.clone(), l.points)).collect();
        v.sort();
        v
    };
    key(a) == key(b)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_rank_by_stars_then_points() {
        let rules = Rules::from(&dualreport_policy::preset("S4").expect("S4"));
        let total = |id: &str, points| Total {
            subject: Subject::member(id),
            subject_name: id.to_owned(),
            points,
        };
        let lines = lines(
            &rules,
            vec![total("a", 35), total("b", 110), total("c", 39), total("d", 100)],
        );
        let order: Vec<_> = lines.iter().map(|l| (l.subject.id.as_str(), l.stars)).collect();
        assert_eq!(order, [("b", 10), ("d", 10), ("c", 3), ("a", 3)]);
        let mut other = lines.clone();
        other.reverse();
        assert!(same_points(&lines, &other));
        other[0].points += 1;
        assert!(!same_points(&lines, &other));
    }
}
