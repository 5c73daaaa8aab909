//! The registry's rules (DOMAIN.md step 1, 报到), in plain Rust: no tonic, no SQL.

pub mod member;
pub mod org;
pub mod report;

pub use dualreport_platform::validate::{Violations, text};
/// The policy presets, shared with the other services.
pub use dualreport_policy as policy;
pub use dualreport_policy::{Date, china_today, now_millis};

use dualreport_platform::error::FieldError;

/// Everything that can go wrong in the registry. The gRPC layer maps each
/// variant to a status with an exhaustive match.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("invalid request: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    OutOfScope(String),
    #[error("moving {0} there would make a cycle in the organisation tree")]
    TreeCycle(String),
    #[error("{0}")]
    InvalidParent(String),
    #[error("{0}")]
    OutsideWindow(String),
    #[error("{0}")]
    WrongState(String),
    #[error("{0}")]
    LetterRequired(String),
    #[error("the member is already registered at community {0}")]
    SameCommunity(String),
    /// A concurrent call changed the object first; retrying reads the outcome.
    #[error("{0}")]
    Conflict(String),
    #[error("request_id was already used for a different request; use a new request_id for a new request")]
    RequestIdReused,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl RegistryError {
    pub fn invalid(field: &str, description: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, description)])
    }

    pub fn not_found(what: &'static str, id: &str) -> Self {
        Self::NotFound {
            what,
            id: id.to_owned(),
        }
    }

    pub fn out_of_scope(what: impl Into<String>) -> Self {
        Self::OutOfScope(what.into())
    }
}

pub type Result<T, E = RegistryError> = std::result::Result<T, E>;
