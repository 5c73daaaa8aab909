//! The failures every service shares, and their conversions, written once.
//!
//! Each service's error enum holds its own reasons (a tree cycle, a period not
//! ended, a full activity…) plus one `Common(Failure)` variant for the seven
//! every service has: invalid fields, not found, out of scope, wrong state, a
//! concurrent change, a reused `request_id`, and faults (storage or internal).
//! [`service_error!`](crate::service_error) gives a service error the
//! conversions (`?` on sqlx, idempotency, storage and anyhow errors) and the
//! constructors, so no service writes them again.
//!
//! Storage errors are classified where they happen ([`StorageError`], as
//! Quickwit's metastore does): a use case asks `is_duplicate()` instead of
//! digging a unique violation out of an `anyhow` chain.

use dualreport_proto::common::v1::ErrorReason;
use tonic::{Code, Status};

use crate::error::{self as err, FieldError};
use crate::idempotency::IdempotencyError;

/// A database failure, classified at the storage edge.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A unique or primary key was already taken (a concurrent twin, usually).
    #[error("duplicate key")]
    Duplicate(#[source] sqlx::Error),
    /// A stored value this version cannot read: never silently defaulted.
    #[error("stored {what} {value:?} is not recognised")]
    Corrupt { what: String, value: String },
    /// The database is out of reach for now (connection, shutdown, busy); callers retry.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Any other database error: the statement or the schema is wrong.
    #[error("database")]
    Db(#[source] sqlx::Error),
}

impl StorageError {
    /// A stored `value` of `what` (a column, an enum) that does not parse.
    pub fn corrupt(what: &str, value: impl std::fmt::Display) -> Self {
        Self::Corrupt {
            what: what.to_owned(),
            value: value.to_string(),
        }
    }
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        if crate::db::is_unique_violation(&error) {
            Self::Duplicate(error)
        } else if crate::db::is_transient(&error) {
            Self::Unavailable(error)
        } else {
            Self::Db(error)
        }
    }
}

/// The seven failures every service shares.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("invalid request: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    OutOfScope(String),
    #[error("{0}")]
    WrongState(String),
    /// A concurrent call changed the object first; retrying reads the outcome.
    #[error("{0}")]
    Conflict(String),
    #[error("request_id was already used for a different request; use a new request_id for a new request")]
    RequestIdReused,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl Failure {
    /// True for a unique or primary key already taken.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, Self::Storage(StorageError::Duplicate(_)))
    }
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Self::Storage(error.into())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self::Internal(error)
    }
}

impl From<IdempotencyError> for Failure {
    fn from(error: IdempotencyError) -> Self {
        match error {
            IdempotencyError::Invalid(e) => Self::Invalid(vec![e]),
            IdempotencyError::Reused => Self::RequestIdReused,
            e @ IdempotencyError::Concurrent(_) => Self::Conflict(e.to_string()),
            IdempotencyError::Database(e) => e.into(),
        }
    }
}

/// Each failure → status, exhaustively. Faults are logged with their chain
/// and answered without their text; an unreachable database is `UNAVAILABLE`.
impl From<Failure> for Status {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Invalid(fields) => err::invalid_fields(&fields),
            Failure::NotFound { what, id } => err::not_found(what, &id),
            Failure::OutOfScope(m) => err::status(Code::PermissionDenied, ErrorReason::OutOfScope, m),
            Failure::WrongState(m) => err::status(Code::FailedPrecondition, ErrorReason::WrongState, m),
            Failure::Conflict(m) => err::status(Code::Aborted, ErrorReason::Conflict, m),
            e @ Failure::RequestIdReused => {
                err::status(Code::FailedPrecondition, ErrorReason::RequestIdReused, e.to_string())
            }
            Failure::Storage(e) => err::internal(&e),
            Failure::Internal(e) => err::internal(e.as_ref()),
        }
    }
}

/// Gives a service error enum with a `Common(Failure)` variant its
/// conversions and constructors: `?` on `sqlx::Error`, `StorageError`,
/// `IdempotencyError` and `anyhow::Error`, and `invalid`, `not_found`,
/// `out_of_scope`, `wrong_state`, `conflict`, `internal`, `corrupt`,
/// `is_duplicate`.
#[macro_export]
macro_rules! service_error {
    ($error:ident) => {
        impl From<sqlx::Error> for $error {
            fn from(error: sqlx::Error) -> Self {
                Self::Common(error.into())
            }
        }
        impl From<$crate::failure::StorageError> for $error {
            fn from(error: $crate::failure::StorageError) -> Self {
                Self::Common(error.into())
            }
        }
        impl From<$crate::idempotency::IdempotencyError> for $error {
            fn from(error: $crate::idempotency::IdempotencyError) -> Self {
                Self::Common(error.into())
            }
        }
        impl From<$crate::error::FieldError> for $error {
            fn from(error: $crate::error::FieldError) -> Self {
                Self::invalid_fields(vec![error])
            }
        }
        impl From<$crate::validate::Violations> for $error {
            fn from(violations: $crate::validate::Violations) -> Self {
                Self::invalid_fields(violations.0)
            }
        }
        impl From<anyhow::Error> for $error {
            fn from(error: anyhow::Error) -> Self {
                Self::Common($crate::failure::Failure::Internal(error))
            }
        }
        #[allow(dead_code)]
        impl $error {
            pub fn invalid(field: &str, description: impl Into<String>) -> Self {
                Self::invalid_fields(vec![$crate::error::FieldError::new(field, description)])
            }
            pub fn invalid_fields(fields: Vec<$crate::error::FieldError>) -> Self {
                Self::Common($crate::failure::Failure::Invalid(fields))
            }
            pub fn not_found(what: &'static str, id: &str) -> Self {
                Self::Common($crate::failure::Failure::NotFound { what, id: id.to_owned() })
            }
            pub fn out_of_scope(message: impl Into<String>) -> Self {
                Self::Common($crate::failure::Failure::OutOfScope(message.into()))
            }
            pub fn wrong_state(message: impl Into<String>) -> Self {
                Self::Common($crate::failure::Failure::WrongState(message.into()))
            }
            pub fn conflict(message: impl Into<String>) -> Self {
                Self::Common($crate::failure::Failure::Conflict(message.into()))
            }
            pub fn internal(error: anyhow::Error) -> Self {
                Self::Common($crate::failure::Failure::Internal(error))
            }
            /// A stored value that does not parse.
            pub fn corrupt(what: &str, value: impl std::fmt::Display) -> Self {
                Self::Common($crate::failure::StorageError::corrupt(what, value).into())
            }
            /// True for a unique or primary key already taken.
            pub fn is_duplicate(&self) -> bool {
                matches!(self, Self::Common(failure) if failure.is_duplicate())
            }
            /// The fields of an `Invalid` failure, if it is one.
            pub fn invalid_fields_of(&self) -> Option<&[$crate::error::FieldError]> {
                match self {
                    Self::Common($crate::failure::Failure::Invalid(fields)) => Some(fields),
                    _ => None,
                }
            }
        }
    };
}
