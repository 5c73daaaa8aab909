//! An activity a community publishes (活动): what makes one well formed,
//! before it is checked against the community's posts, teams, studios and
//! agreements.

use dualreport_platform::error::FieldError;

use super::model::ActivityKind;

/// The longest an activity may last: it is served, checked in and confirmed
/// as one day's work.
pub const MAX_DURATION_MILLIS: i64 = 24 * 3_600_000;

/// The most members one activity may take.
pub const MAX_CAPACITY: i64 = 10_000;

/// An activity to create, each field already parsed.
#[derive(Debug, Clone)]
pub struct NewActivity {
    pub community_id: String,
    pub kind: ActivityKind,
    pub title: String,
    pub content: String,
    pub post_id: String,
    pub place: String,
    pub start_at: i64,
    pub end_at: i64,
    pub capacity: i64,
    pub organiser: String,
    pub contact: String,
    pub team_id: String,
    pub studio_id: String,
    pub agreement_id: String,
}

impl NewActivity {
    /// The rules of a well-formed activity, naming the field that breaks one:
    /// it is published by hand (order, wish and visit activities are made by
    /// the calls that complete them), ends after it starts and within a day,
    /// has room for 1–10,000, and names what its kind needs — a team service
    /// its team and a contact (S4 §3.3.2), studio hours the studio, project
    /// work its agreement.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.kind.is_individual() {
            return Err(FieldError::new(
                "kind",
                "ORDER, WISH and HOUSEHOLD_VISIT activities are created by CompleteOrder, FulfilWish and LogVisit",
            ));
        }
        if self.end_at <= self.start_at {
            return Err(FieldError::new("end_time", "must be after start_time"));
        }
        if self.end_at - self.start_at > MAX_DURATION_MILLIS {
            return Err(FieldError::new("end_time", "an activity lasts at most a day"));
        }
        if !(1..=MAX_CAPACITY).contains(&self.capacity) {
            return Err(FieldError::new(
                "capacity",
                format!("must be between 1 and {MAX_CAPACITY}"),
            ));
        }
        let missing = match self.kind {
            ActivityKind::TeamService if self.team_id.is_empty() => {
                Some(("team_id", "a team service names its team (S4 §3.3.2)"))
            }
            ActivityKind::TeamService if self.contact.is_empty() => {
                Some(("contact", "a team service publishes a contact (S4 §3.3.2)"))
            }
            ActivityKind::StudioHours if self.studio_id.is_empty() => {
                Some(("studio_id", "studio hours name the studio"))
            }
            ActivityKind::ProjectWork if self.agreement_id.is_empty() => {
                Some(("agreement_id", "project work names its agreement"))
            }
            _ => None,
        };
        match missing {
            Some((field, rule)) => Err(FieldError::new(field, rule)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team_service() -> NewActivity {
        NewActivity {
            community_id: "c1".into(),
            kind: ActivityKind::TeamService,
            title: "义诊".into(),
            content: String::new(),
            post_id: String::new(),
            place: "社区广场".into(),
            start_at: 1_000_000,
            end_at: 1_000_000 + 3_600_000,
            capacity: 20,
            organiser: "王队长".into(),
            contact: "13800000000".into(),
            team_id: "t1".into(),
            studio_id: String::new(),
            agreement_id: String::new(),
        }
    }

    fn refused(a: &NewActivity) -> String {
        a.validate().expect_err("refused").field
    }

    #[test]
    fn a_team_service_names_its_team_and_a_contact() {
        assert!(team_service().validate().is_ok());
        assert_eq!(
            refused(&NewActivity {
                team_id: String::new(),
                ..team_service()
            }),
            "team_id"
        );
        assert_eq!(
            refused(&NewActivity {
                contact: String::new(),
                ..team_service()
            }),
            "contact"
        );
    }

    #[test]
    fn an_activity_ends_after_it_starts_and_within_a_day() {
        let a = team_service();
        assert_eq!(
            refused(&NewActivity {
                end_at: a.start_at,
                ..a.clone()
            }),
            "end_time"
        );
        let a_day_and_a_minute = a.start_at + MAX_DURATION_MILLIS + 60_000;
        assert_eq!(
            refused(&NewActivity {
                end_at: a_day_and_a_minute,
                ..a.clone()
            }),
            "end_time"
        );
        assert!(
            NewActivity {
                end_at: a.start_at + MAX_DURATION_MILLIS,
                ..a
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn capacity_and_kind_are_bounded() {
        assert_eq!(
            refused(&NewActivity {
                capacity: 0,
                ..team_service()
            }),
            "capacity"
        );
        assert_eq!(
            refused(&NewActivity {
                capacity: MAX_CAPACITY + 1,
                ..team_service()
            }),
            "capacity"
        );
        assert_eq!(
            refused(&NewActivity {
                kind: ActivityKind::Order,
                ..team_service()
            }),
            "kind"
        );
        assert_eq!(
            refused(&NewActivity {
                kind: ActivityKind::ProjectWork,
                ..team_service()
            }),
            "agreement_id"
        );
    }
}
