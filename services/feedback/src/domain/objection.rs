//! Deciding an objection (异议处理, 附录G): decided once, upheld or rejected;
//! only an upheld one carries a correction, which scoring then records.

use super::FeedbackError;
use super::model::{Objection, ObjectionStatus};

/// The decision a handler reaches.
#[derive(Debug, Clone)]
pub struct Decision {
    pub upheld: bool,
    /// The correction asked for; ignored when the objection is rejected.
    pub points: i64,
    pub reason: String,
}

/// What deciding changes: the new status and the correction owed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub status: ObjectionStatus,
    /// 0 for a rejected objection.
    pub correction_points: i64,
}

impl Objection {
    /// Decides it, once: an objection already upheld or rejected stays so.
    pub fn decide(&self, decision: &Decision) -> Result<Decided, FeedbackError> {
        if self.status.decided() {
            return Err(FeedbackError::wrong_state(format!(
                "objection {} was already decided ({})",
                self.id,
                self.status.as_str()
            )));
        }
        Ok(if decision.upheld {
            Decided {
                status: ObjectionStatus::Upheld,
                correction_points: decision.points,
            }
        } else {
            Decided {
                status: ObjectionStatus::Rejected,
                correction_points: 0,
            }
        })
    }

    /// The member the objection is about, or empty for a unit's.
    pub fn member_id(&self) -> &str {
        if self.subject_kind == "member" {
            &self.subject_id
        } else {
            ""
        }
    }

    /// The unit org the objection is about, or empty for a member's.
    pub fn unit_org_id(&self) -> &str {
        if self.subject_kind == "member" {
            ""
        } else {
            &self.subject_id
        }
    }
}
