//! Errors → `tonic::Status` with `google.rpc` details.
//!
//! Every status carries an `ErrorInfo` whose reason is a
//! `dualreport.common.v1.ErrorReason` name; invalid arguments also carry a
//! `BadRequest` naming each offending field. Internal faults are logged with
//! their whole chain and answered with a generic message (no SQL text leaks).

use std::collections::HashMap;

use dualreport_proto::common::v1::ErrorReason;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// `ErrorInfo.domain` of every dualreport error.
pub const ERROR_DOMAIN: &str = "dualreport";

/// A field that failed validation, in plain Rust so domain code can name it
/// without knowing about gRPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The request field path, e.g. `profile.phone` or `rows[3].skills`.
    pub field: String,
    pub description: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }

    /// The same error one level deeper, e.g. `phone` → `profile.phone`.
    pub fn within(mut self, parent: &str) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

/// A status with an `ErrorInfo` reason.
pub fn status(code: Code, reason: ErrorReason, message: impl Into<String>) -> Status {
    let details = ErrorDetails::with_error_info(reason.as_str_name(), ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(code, message, details)
}

/// `INVALID_ARGUMENT` with a `BadRequest` listing every field error.
pub fn invalid_fields(errors: &[FieldError]) -> Status {
    invalid_fields_because(ErrorReason::InvalidField, errors)
}

/// `INVALID_ARGUMENT` naming the fields, with a more precise reason (e.g.
/// `OUT_OF_BOUNDS` for a list longer or shorter than the policy allows).
pub fn invalid_fields_because(reason: ErrorReason, errors: &[FieldError]) -> Status {
    let violations = errors
        .iter()
        .map(|error| FieldViolation::new(error.field.clone(), error.description.clone()))
        .collect::<Vec<_>>();
    let mut details = ErrorDetails::with_bad_request(violations);
    details.set_error_info(reason.as_str_name(), ERROR_DOMAIN, HashMap::new());
    let message = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    Status::with_error_details(Code::InvalidArgument, message, details)
}

/// `status` of a request nested in another (`DownloadTableRequest.table`):
/// an `INVALID_ARGUMENT`'s field paths gain `prefix.`, so they name the
/// field as the caller sent it; any other status is unchanged.
pub fn nested(prefix: &str, status: Status) -> Status {
    if status.code() != Code::InvalidArgument {
        return status;
    }
    let details = status.get_error_details();
    let Some(bad) = details.bad_request() else {
        return status;
    };
    let reason = details
        .error_info()
        .and_then(|info| ErrorReason::from_str_name(&info.reason))
        .unwrap_or(ErrorReason::InvalidField);
    let errors: Vec<FieldError> = bad
        .field_violations
        .iter()
        .map(|v| FieldError::new(format!("{prefix}.{}", v.field), v.description.clone()))
        .collect();
    invalid_fields_because(reason, &errors)
}

/// One bad field is `INVALID_ARGUMENT` naming it, so gRPC layers can `?` a
/// validator's result.
impl From<FieldError> for Status {
    fn from(error: FieldError) -> Self {
        invalid_fields(&[error])
    }
}

/// At most a short prefix of a caller's value, for an error message: a
/// megabyte id must not come back as a megabyte of trailers.
pub fn quote(value: &str) -> String {
    const MAX_CHARS: usize = 64;
    if value.chars().count() <= MAX_CHARS {
        value.to_owned()
    } else {
        let prefix: String = value.chars().take(MAX_CHARS).collect();
        format!("{prefix}…")
    }
}

/// `NOT_FOUND` naming what was looked for (the id quoted, see [`quote`]).
pub fn not_found(what: &str, id: &str) -> Status {
    status(
        Code::NotFound,
        ErrorReason::NotFound,
        format!("{what} {} not found", quote(id)),
    )
}

/// `INVALID_ARGUMENT` for one field.
pub fn invalid_field(field: impl Into<String>, description: impl Into<String>) -> Status {
    invalid_fields(&[FieldError::new(field, description)])
}

/// Logs the whole error chain and returns a generic `INTERNAL` — or, when the
/// cause is the database being out of reach (connection lost, pool timeout,
/// PostgreSQL shutting down or out of connections, SQLite busy),
/// `UNAVAILABLE` (`UPSTREAM_UNAVAILABLE`), which callers retry. Either way
/// the transaction was not committed, so nothing was half written.
pub fn internal(error: &(dyn std::error::Error + 'static)) -> Status {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    if database_unavailable(error) {
        tracing::warn!(error = %chain, "database unavailable");
        return status(
            Code::Unavailable,
            ErrorReason::UpstreamUnavailable,
            "the database is unavailable, retry with backoff",
        );
    }
    tracing::error!(error = %chain, "internal error");
    status(Code::Internal, ErrorReason::Internal, "internal error")
}

fn database_unavailable(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(database) = error.downcast_ref::<sqlx::Error>() {
            return crate::db::is_transient(database);
        }
        next = error.source();
    }
    false
}
