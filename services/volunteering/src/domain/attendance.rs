//! Confirming attendance (确认): the community confirms once, only those who
//! checked in, only once the activity has started, adjusting the award within
//! ±`max_adjustment` (S1 附件6, S4 §3.5.2). Payment follows from the outbox.

use dualreport_platform::error::FieldError;

use super::VolunteeringError;
use super::model::{Activity, Attendance, AttendanceStatus};

/// What the confirming admin adds.
#[derive(Debug, Clone, Default)]
pub struct Confirmation {
    /// Points added to or taken from the award, within the policy's bound.
    pub adjustment: i64,
    /// Replaces the note when not empty.
    pub note: String,
    /// Added to the attendance's evidence, each once.
    pub evidence_ids: Vec<String>,
}

/// The adjustment a confirmation may make: at most `max` either way.
pub fn check_adjustment(adjustment: i64, max: i64) -> Result<i64, FieldError> {
    if adjustment.abs() > max {
        return Err(FieldError::new(
            "adjustment",
            format!("must be between -{max} and {max} (policy)"),
        ));
    }
    Ok(adjustment)
}

impl Attendance {
    /// May this attendance be confirmed now? Only a checked-in one, once,
    /// and not before its activity starts.
    pub fn check_confirmable(&self, activity: &Activity, now: i64) -> Result<(), VolunteeringError> {
        match self.status {
            AttendanceStatus::CheckedIn => {}
            AttendanceStatus::Confirmed => {
                return Err(VolunteeringError::wrong_state(format!(
                    "attendance {} was already confirmed",
                    self.id
                )));
            }
            AttendanceStatus::SignedUp => {
                return Err(VolunteeringError::wrong_state(format!(
                    "attendance {} never checked in; only those present are confirmed",
                    self.id
                )));
            }
        }
        if now < activity.start_at {
            return Err(VolunteeringError::wrong_state(format!(
                "activity {} has not started; confirm attendance once it has",
                activity.id
            )));
        }
        Ok(())
    }

    /// Confirms it: checks [`Self::check_confirmable`], then records who
    /// confirmed, when, the adjustment, the note and the evidence.
    pub fn confirm(
        &mut self,
        activity: &Activity,
        by: &str,
        now: i64,
        confirmation: Confirmation,
    ) -> Result<(), VolunteeringError> {
        self.check_confirmable(activity, now)?;
        self.status = AttendanceStatus::Confirmed;
        self.adjustment = confirmation.adjustment;
        if !confirmation.note.is_empty() {
            self.note = confirmation.note;
        }
        for id in confirmation.evidence_ids {
            if !self.evidence_ids.contains(&id) {
                self.evidence_ids.push(id);
            }
        }
        self.confirmed_by = by.to_owned();
        self.confirmed_at = Some(now);
        Ok(())
    }
}
