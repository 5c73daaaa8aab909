//! `request_id` idempotency for mutations.
//!
//! Each service keeps a table
//! `idempotency_keys (caller, request_id, operation, resource_id, created_at)`
//! with primary key `(caller, request_id)`. A mutation looks its key up first
//! and, when fresh, records it in the same transaction as its writes: a retry
//! finds the first call's resource; a concurrent duplicate hits the primary key
//! and rolls back.

use sqlx::{AnyConnection, Row};

/// Why a mutation's `request_id` stops it; each service maps these into its
/// own error type (`From`), so use cases just `?` them.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error("request_id was already used for a different operation")]
    OtherOperation,
    /// The same key committed by a concurrent call: roll back; a retry reads its result.
    #[error("request {0} was applied concurrently; retry to read its result")]
    Concurrent(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The resource an earlier call with this `request_id` produced, if any.
pub async fn replayed(
    conn: &mut AnyConnection,
    caller: &str,
    request_id: &str,
    operation: &str,
) -> Result<Option<String>, IdempotencyError> {
    match previous(conn, caller, request_id, operation).await? {
        Previous::None => Ok(None),
        Previous::Done(id) => Ok(Some(id)),
        Previous::OtherOperation => Err(IdempotencyError::OtherOperation),
    }
}

/// Records the key in the caller's transaction, or says a concurrent call won.
pub async fn record(
    conn: &mut AnyConnection,
    caller: &str,
    request_id: &str,
    operation: &str,
    resource_id: &str,
    now_millis: i64,
) -> Result<(), IdempotencyError> {
    if remember(conn, caller, request_id, operation, resource_id, now_millis).await? {
        Ok(())
    } else {
        Err(IdempotencyError::Concurrent(request_id.to_owned()))
    }
}

/// What an earlier call with the same `request_id` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Previous {
    /// No earlier call (or no `request_id`): do the work.
    None,
    /// The same operation ran and produced this resource: answer with it.
    Done(String),
    /// The key was used for a different operation: refuse.
    OtherOperation,
}

/// Looks up `(caller, request_id)`; an empty `request_id` is never remembered.
pub async fn previous(
    conn: &mut AnyConnection,
    caller: &str,
    request_id: &str,
    operation: &str,
) -> Result<Previous, sqlx::Error> {
    if request_id.is_empty() {
        return Ok(Previous::None);
    }
    let row = sqlx::query("SELECT operation, resource_id FROM idempotency_keys WHERE caller = $1 AND request_id = $2")
        .bind(caller)
        .bind(request_id)
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        None => Previous::None,
        Some(row) if row.try_get::<String, _>("operation")? == operation => Previous::Done(row.try_get("resource_id")?),
        Some(_) => Previous::OtherOperation,
    })
}

/// Records the key in the caller's transaction. `Ok(false)` means a concurrent
/// call with the same key committed first: roll back and let the client retry.
pub async fn remember(
    conn: &mut AnyConnection,
    caller: &str,
    request_id: &str,
    operation: &str,
    resource_id: &str,
    now_millis: i64,
) -> Result<bool, sqlx::Error> {
    if request_id.is_empty() {
        return Ok(true);
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
        Ok(_) => Ok(true),
        Err(error) if crate::db::is_unique_violation(&error) => Ok(false),
        Err(error) => Err(error),
    }
}
