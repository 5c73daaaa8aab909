//! The points ledger (积分卡): entries, their kinds and the rules that bound
//! their points (S4 §3.5.1–3.5.3).

use dualreport_platform::error::FieldError;
use dualreport_platform::stored_enum;
use dualreport_policy::Policy;

use super::period::Period;
use super::{Date, Subject};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A service a member attended: base ± adjustment.
    Service,
    /// 一事一记: one event, one record.
    Special,
    /// A unit org's joint-building project, scored by the community or its beneficiaries.
    Project,
    /// A compensating entry naming the entry it corrects.
    Correction,
    /// Points spent at the supermarket (negative).
    Redemption,
    /// A cancelled redemption's points returned.
    RedemptionReversal,
}

stored_enum!(EntryKind {
    Service => "service",
    Special => "special",
    Project => "project",
    Correction => "correction",
    Redemption => "redemption",
    RedemptionReversal => "redemption_reversal",
});

impl EntryKind {
    /// Whether the entry counts towards earned points (and so stars).
    /// Shopping never costs a star.
    pub fn earns(self) -> bool {
        !matches!(self, EntryKind::Redemption | EntryKind::RedemptionReversal)
    }

    /// The kinds that count towards earned points, for SQL `IN` lists.
    pub const EARNING: [EntryKind; 4] = [
        EntryKind::Service,
        EntryKind::Special,
        EntryKind::Project,
        EntryKind::Correction,
    ];
}

/// What a one-event record (一事一记, S4 §3.5.3) is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialCategory {
    /// 长期扶贫助残
    LongTermHelp,
    /// 急难险重任务
    UrgentTask,
    /// 见义勇为
    Bravery,
}

stored_enum!(SpecialCategory {
    LongTermHelp => "long_term_help",
    UrgentTask => "urgent_task",
    Bravery => "bravery",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectScorer {
    Community,
    Beneficiaries,
}

stored_enum!(ProjectScorer { Community => "community", Beneficiaries => "beneficiaries" });

/// One ledger line. Never updated or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub subject: Subject,
    pub community_id: String,
    pub kind: EntryKind,
    pub points: i64,
    pub occurred_on: Date,
    pub period: Period,
    pub content: String,
    pub source_key: String,
    pub recorded_by: String,
    pub recorded_at: i64,
    pub base_points: i64,
    pub adjustment: i64,
    pub special_category: Option<SpecialCategory>,
    pub project_id: String,
    pub project_scorer: Option<ProjectScorer>,
    pub corrects_entry_id: Option<String>,
    pub redemption_id: String,
}

/// Largest one-event record. The seeds set no bound; this one catches typing
/// slips (a 500 for a 5) and is documented in the service README.
pub const MAX_SPECIAL_POINTS: i64 = 100;

/// The scoring values of the policy preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub preset: &'static str,
    pub base_points: i64,
    pub max_adjustment: i64,
    pub project_points_cap: i64,
    pub points_per_star: i64,
    pub max_stars: i64,
}

impl From<&Policy> for Rules {
    fn from(policy: &Policy) -> Self {
        Self {
            preset: policy.preset,
            base_points: i64::from(policy.base_points),
            max_adjustment: i64::from(policy.max_adjustment),
            project_points_cap: i64::from(policy.project_points_cap),
            // The policy refuses zero points per star.
            points_per_star: i64::from(policy.points_per_star.max(1)),
            max_stars: i64::from(policy.max_stars),
        }
    }
}

impl Rules {
    /// Points of a service: base raised or lowered by at most `max_adjustment`.
    pub fn service_points(&self, adjustment: i64) -> Result<i64, FieldError> {
        if adjustment.abs() > self.max_adjustment {
            return Err(FieldError::new(
                "adjustment",
                format!(
                    "must be within ±{} of the base {} points",
                    self.max_adjustment, self.base_points
                ),
            ));
        }
        Ok(self.base_points + adjustment)
    }

    pub fn special_points(&self, points: i64) -> Result<i64, FieldError> {
        if points <= 0 {
            return Err(FieldError::new("points", "must be positive"));
        }
        if points > MAX_SPECIAL_POINTS {
            return Err(FieldError::new(
                "points",
                format!("must be at most {MAX_SPECIAL_POINTS} for one event"),
            ));
        }
        Ok(points)
    }

    /// One score of a project; the scores of one project add up to at most the cap.
    pub fn project_points(&self, points: i64) -> Result<i64, FieldError> {
        if points < 0 {
            return Err(FieldError::new("points", "must not be negative"));
        }
        if points > self.project_points_cap {
            return Err(FieldError::new(
                "points",
                format!("must be at most {} per project", self.project_points_cap),
            ));
        }
        Ok(points)
    }

    /// The range an entry's net points (itself plus its corrections) must stay in.
    pub fn net_bounds(&self, kind: EntryKind) -> (i64, i64) {
        match kind {
            EntryKind::Service => (0, self.base_points + self.max_adjustment),
            EntryKind::Special => (0, MAX_SPECIAL_POINTS),
            EntryKind::Project => (0, self.project_points_cap),
            // Not correctable: redemptions are cancelled; corrections are corrected via their original.
            EntryKind::Correction | EntryKind::Redemption | EntryKind::RedemptionReversal => (0, 0),
        }
    }

    /// One star per `points_per_star` earned, at most `max_stars` (S4 §3.5.5:
    /// 每 10 分评定一个星级, 超过十星的以十星计算). Negative totals give none.
    pub fn stars(&self, points: i64) -> i64 {
        (points.max(0) / self.points_per_star).min(self.max_stars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s4() -> Rules {
        Rules::from(&dualreport_policy::preset("S4").expect("S4"))
    }

    #[test]
    fn service_points_are_base_plus_bounded_adjustment() {
        let rules = s4();
        assert_eq!(rules.service_points(0), Ok(5));
        assert_eq!(rules.service_points(3), Ok(8));
        assert_eq!(rules.service_points(-3), Ok(2));
        assert!(rules.service_points(4).is_err());
        assert!(rules.service_points(-4).is_err());
    }

    #[test]
    fn one_star_per_ten_points_at_most_ten() {
        let rules = s4();
        assert_eq!(rules.stars(0), 0);
        assert_eq!(rules.stars(9), 0);
        assert_eq!(rules.stars(10), 1);
        assert_eq!(rules.stars(99), 9);
        assert_eq!(rules.stars(100), 10);
        assert_eq!(rules.stars(110), 10, "a 110-point half-year gives 10 stars, not 11");
        assert_eq!(rules.stars(-5), 0);
    }

    #[test]
    fn special_and_project_points_are_bounded() {
        let rules = s4();
        assert!(rules.special_points(0).is_err());
        assert!(rules.special_points(-1).is_err());
        assert_eq!(rules.special_points(20), Ok(20));
        assert_eq!(rules.project_points(30), Ok(30));
        assert!(rules.project_points(31).is_err());
        assert_eq!(rules.net_bounds(EntryKind::Service), (0, 8));
        assert!(EntryKind::Correction.earns() && !EntryKind::Redemption.earns());
    }
}
