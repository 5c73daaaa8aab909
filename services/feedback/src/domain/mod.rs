//! The feedback rules (DOMAIN.md "Feedback", 双向反馈) in plain Rust: no
//! tonic, no SQL.

pub mod model;
pub mod objection;
pub mod peers;
pub mod warnings;

pub use dualreport_policy::{Date, china_today, now_millis};

use dualreport_directory::DirectoryError;
use dualreport_platform::error::FieldError;
pub use dualreport_platform::failure::Failure;
use sha2::{Digest, Sha256};

/// Everything that can go wrong in feedback. The gRPC layer maps each variant
/// to a status with an exhaustive match.
#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    /// The member has no confirmed report at that community for that year.
    #[error("{0}")]
    NotRegistered(String),
    /// The unit org's report to the community was not received that year.
    #[error("{0}")]
    NotPaired(String),
    /// A source service did not answer; nothing was written.
    #[error("{0}")]
    Unavailable(String),
    /// The failures every service shares (invalid, not found, out of scope,
    /// wrong state, conflict, reused request id, storage and internal faults).
    #[error(transparent)]
    Common(#[from] Failure),
}

dualreport_platform::service_error!(FeedbackError);

pub type Result<T, E = FeedbackError> = std::result::Result<T, E>;

impl From<DirectoryError> for FeedbackError {
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

/// A reporting period: a year, or one of its halves (0 = the whole year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Period {
    pub year: i32,
    pub half: i32,
}

impl Period {
    pub fn new(year: i32, half: i32, today: Date) -> Result<Self, FieldError> {
        let this = chrono::Datelike::year(&today);
        if !(2000..=this + 1).contains(&year) {
            return Err(FieldError::new(
                "period.year",
                format!("must be between 2000 and {}", this + 1),
            ));
        }
        if !(0..=2).contains(&half) {
            return Err(FieldError::new("period.half", "must be 0 (the whole year), 1 or 2"));
        }
        Ok(Self { year, half })
    }

    /// Whether scoring's half-year `(year, half)` falls in this period.
    pub fn covers(&self, year: i32, half: i32) -> bool {
        self.year == year && (self.half == 0 || self.half == half)
    }

    /// `2026`, `2026H1`.
    pub fn label(&self) -> String {
        match self.half {
            0 => self.year.to_string(),
            h => format!("{}H{h}", self.year),
        }
    }
}

/// A year within 2000 ..= next year.
pub fn year(field: &str, value: i32, today: Date) -> Result<i32, FieldError> {
    let this = chrono::Datelike::year(&today);
    if (2000..=this + 1).contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(
            field,
            format!("must be a year between 2000 and {}", this + 1),
        ))
    }
}

/// How many of `population` a sample of `percent`% takes: rounded up, so a
/// unit with any reporting member checks at least one.
pub fn sample_size(population: usize, percent: u32) -> usize {
    (population * percent as usize).div_ceil(100)
}

/// The reproducible draw: members ordered by SHA-256(seed ":" id), the first
/// `size` taken. The same seed over the same members gives the same sample.
pub fn draw<'a>(seed: &str, members: &'a [String], size: usize) -> Vec<&'a String> {
    let mut keyed: Vec<([u8; 32], &String)> = members
        .iter()
        .map(|m| {
            let digest: [u8; 32] = Sha256::digest(format!("{seed}:{m}").as_bytes()).into();
            (digest, m)
        })
        .collect();
    keyed.sort();
    keyed.into_iter().take(size).map(|(_, m)| m).collect()
}

/// A feed cursor: opaque to clients, `ev1.<sequence>` inside.
pub fn cursor(sequence: i64) -> String {
    format!("ev1.{sequence}")
}

/// Parses a cursor (empty: the beginning).
pub fn parse_cursor(text: &str) -> Result<i64, FieldError> {
    if text.is_empty() {
        return Ok(0);
    }
    text.strip_prefix("ev1.")
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| FieldError::new("cursor", "is not a cursor this feed issued"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_round_up_and_draws_repeat() {
        assert_eq!(sample_size(0, 20), 0);
        assert_eq!(sample_size(1, 20), 1);
        assert_eq!(sample_size(10, 20), 2);
        assert_eq!(sample_size(11, 20), 3);
        let members: Vec<String> = (0..30).map(|i| format!("m{i}")).collect();
        let a = draw("seed", &members, 6);
        assert_eq!(a, draw("seed", &members, 6));
        assert_ne!(a, draw("other", &members, 6));
        let mut reversed = members.clone();
        reversed.reverse();
        assert_eq!(a, draw("seed", &reversed, 6), "order of input does not matter");
    }

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        assert_eq!(parse_cursor(&cursor(42)), Ok(42));
        assert_eq!(parse_cursor(""), Ok(0));
        for junk in ["42", "ev1.", "ev1.-3", "ev2.5", "ev1.x"] {
            assert!(parse_cursor(junk).is_err(), "{junk}");
        }
    }
}
