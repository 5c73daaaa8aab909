//! `request_id` idempotency for mutations.
//!
//! Each service keeps a table
//! `idempotency_keys (caller, request_id, operation, resource_id, created_at)`
//! with primary key `(caller, request_id)`. A mutation looks its key up first
//! and, when fresh, records it in the same transaction as its writes: a retry
//! finds the first call's resource; a concurrent duplicate hits the primary key
//! and rolls back.

use sqlx::{AnyConnection, Row};

use crate::error::FieldError;

/// The longest `request_id` kept (a UUID is 36).
pub const MAX_REQUEST_ID_CHARS: usize = 128;

/// A `request_id` is at most [`MAX_REQUEST_ID_CHARS`] printable characters.
pub fn check_request_id(request_id: &str) -> Result<(), IdempotencyError> {
    if request_id.chars().count() > MAX_REQUEST_ID_CHARS {
        return Err(IdempotencyError::Invalid(FieldError::new(
            "request_id",
            format!("must be at most {MAX_REQUEST_ID_CHARS} characters"),
        )));
    }
    if request_id.chars().any(char::is_control) {
        return Err(IdempotencyError::Invalid(FieldError::new(
            "request_id",
            "must not contain control characters",
        )));
    }
    Ok(())
}

/// Why a mutation's `request_id` stops it; each service maps these into its
/// own error type (`From`), so use cases just `?` them.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    /// The `request_id` itself is malformed (too long, control characters).
    #[error("{0}")]
    Invalid(FieldError),
    #[error("request_id was already used for a different operation")]
    OtherOperation,
    /// The same key committed by a concurrent call: roll back; a retry reads its result.
    #[error("request {0} was applied concurrently; retry to read its result")]
    Concurrent(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The resource an earlier call with this `request_id` produced, if any; an
/// empty `request_id` is never remembered.
pub async fn replayed(
    conn: &mut AnyConnection,
    caller: &str,
    request_id: &str,
    operation: &str,
) -> Result<Option<String>, IdempotencyError> {
    check_request_id(request_id)?;
    if request_id.is_empty() {
        return Ok(None);
    }
    let row = sqlx::query("SELECT operation, resource_id FROM idempotency_keys WHERE caller = $1 AND request_id = $2")
        .bind(caller)
        .bind(request_id)
        .fetch_optional(conn)
        .await?;
    match row {
        None => Ok(None),
        Some(row) if row.try_get::<String, _>("operation")? == operation => Ok(Some(row.try_get("resource_id")?)),
        Some(_) => Err(IdempotencyError::OtherOperation),
    }
}

/// Records the key in the caller's transaction, or says a concurrent call with
/// the same key committed first.
pub async fn record(
    conn: &mut AnyConnection,
    caller: &str,
    request_id: &str,
    operation: &str,
    resource_id: &str,
    now_millis: i64,
) -> Result<(), IdempotencyError> {
    check_request_id(request_id)?;
    if request_id.is_empty() {
        return Ok(());
    }
    let result = sqlx::query(
        "INSERT INTO idempotency_keys (caller, request_id, operation, resource_id, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(caller)
    .bind(request_id)
    .bind(operation)
    .bind(resource_id)
    .bind(now_millis)
    .execute(conn)
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(error) if crate::db::is_unique_violation(&error) => {
            Err(IdempotencyError::Concurrent(request_id.to_owned()))
        }
        Err(error) => Err(error.into()),
    }
}
