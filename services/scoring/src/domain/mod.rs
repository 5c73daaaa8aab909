//! The scoring rules (DOMAIN.md steps 5–6, 评星 · 激励), in plain Rust: no tonic, no SQL.

pub mod ledger;
pub mod market;
pub mod period;
pub mod settlement;

pub use dualreport_platform::validate::{Violations, id, text};
pub use dualreport_policy::{Clock, Date, china_today, now_millis};

use dualreport_directory::DirectoryError;
use dualreport_platform::error::FieldError;
pub use dualreport_platform::failure::Failure;
use dualreport_platform::stored_enum;

/// Everything that can go wrong in scoring. The gRPC layer maps each variant
/// to a status with an exhaustive match.
#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    /// The member (or unit) has no report at that community for that year.
    #[error("{0}")]
    NotRegistered(String),
    #[error("period {0} has not ended yet; it can be settled from the day after it ends")]
    PeriodNotEnded(String),
    #[error("nothing changed in {0} since settlement version {1}")]
    NothingChanged(String, i64),
    #[error("{0}")]
    InsufficientPoints(String),
    #[error("{0}")]
    OutOfStock(String),
    #[error("{0}")]
    CapExceeded(String),
    #[error("source key {0} was delivered before for a different subject or kind")]
    SourceKeyReused(String),
    /// A dependency (the registry) did not answer in time.
    #[error("{0}")]
    Unavailable(String),
    /// The failures every service shares (invalid, not found, out of scope,
    /// wrong state, conflict, reused request id, storage and internal faults).
    #[error(transparent)]
    Common(#[from] Failure),
}

dualreport_platform::service_error!(ScoringError);

impl From<DirectoryError> for ScoringError {
    fn from(error: DirectoryError) -> Self {
        match error {
            DirectoryError::NotFound { what, id } => Self::Common(Failure::NotFound { what, id }),
            DirectoryError::OutOfScope(message) => Self::out_of_scope(message),
            DirectoryError::Unavailable(message) => Self::Unavailable(message),
            DirectoryError::Storage(error) => Self::Common(Failure::Storage(error)),
            DirectoryError::Internal(error) => Self::internal(error),
        }
    }
}

pub type Result<T, E = ScoringError> = std::result::Result<T, E>;

/// Whose card an entry is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectKind {
    /// 在职党员
    Member,
    /// 驻地单位党组织
    UnitOrg,
}

stored_enum!(SubjectKind { Member => "member", UnitOrg => "unit_org" });

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject {
    pub kind: SubjectKind,
    pub id: String,
}

impl Subject {
    pub fn member(id: &str) -> Self {
        Self {
            kind: SubjectKind::Member,
            id: id.to_owned(),
        }
    }

    pub fn unit_org(id: &str) -> Self {
        Self {
            kind: SubjectKind::UnitOrg,
            id: id.to_owned(),
        }
    }
}

/// A day of service: a real date, not in the future, not before 2000.
pub fn service_date(field: &str, date: Option<Date>, today: Date) -> std::result::Result<Date, FieldError> {
    let date = date.ok_or_else(|| FieldError::new(field, "must be a calendar date"))?;
    if date > today {
        return Err(FieldError::new(field, format!("must not be after today ({today})")));
    }
    if date.year_ce().1 < 2000 {
        return Err(FieldError::new(field, "must not be before 2000"));
    }
    Ok(date)
}

use chrono::Datelike as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_ascii() {
        assert!(id("member_id", "0194f3c2-7b1e-7c00-8000-000000000001").is_ok());
        assert!(id("member_id", "").is_err());
        assert!(id("org_id", "a%b").is_err(), "LIKE wildcards are refused");
        assert!(id("org_id", "a/b").is_err());
    }

    #[test]
    fn service_dates_are_past_days() {
        let today = Date::from_ymd_opt(2026, 11, 21).expect("date");
        assert!(service_date("served_on", Some(today), today).is_ok());
        assert!(service_date("served_on", today.succ_opt(), today).is_err());
        assert!(service_date("served_on", None, today).is_err());
        assert!(service_date("served_on", Date::from_ymd_opt(1999, 12, 31), today).is_err());
    }
}
