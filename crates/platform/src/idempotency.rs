//! `request_id` idempotency for mutations.
//!
//! Each service keeps a table
//! `idempotency_keys (caller, request_id, operation, resource_id, created_at,
//! fingerprint)` with primary key `(caller, request_id)`. A mutation looks its
//! key up ([`replayed`]) and, when fresh, records it ([`record`]) in the same
//! transaction as its writes, so a retry finds the first call's resource.
//!
//! - **The same id with another request is refused** (`REQUEST_ID_REUSED`, as
//!   Stripe does): the key keeps a fingerprint — the SHA-256 of the request
//!   message's bytes, taken at the server's edge ([`crate::edge`]) — and a
//!   later call under the key with other bytes or another operation is an
//!   error, not a silent replay. Client streams (several messages, one id per
//!   message) carry no fingerprint; their keys only check the operation.
//! - **A retry racing the first call waits for it**: on PostgreSQL
//!   [`replayed`] takes a transaction-scoped advisory lock on the key, so a
//!   use case that calls it right after `BEGIN` blocks until a concurrent
//!   twin commits, then finds its key and answers with its result (instead of
//!   tripping over the state the twin just changed). SQLite has one writer.

use std::sync::{Arc, OnceLock};

use sha2::{Digest as _, Sha256};
use sqlx::{AnyConnection, Row};

use crate::error::FieldError;

/// The longest `request_id` kept (a UUID is 36).
pub const MAX_REQUEST_ID_CHARS: usize = 128;

tokio::task_local! {
    /// The fingerprint of the request being served (set by the edge layer).
    static FINGERPRINT: Arc<OnceLock<String>>;
}

/// Runs `future` (a request's handling) with `slot` as its fingerprint,
/// filled once the request message has been read.
pub(crate) async fn with_fingerprint<F: Future>(slot: Arc<OnceLock<String>>, future: F) -> F::Output {
    FINGERPRINT.scope(slot, future).await
}

/// The hex SHA-256 of a request message, as stored.
pub(crate) fn fingerprint_of(digest: Sha256) -> String {
    digest.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The current request's fingerprint: empty outside a request or for a
/// client stream.
fn current_fingerprint() -> String {
    FINGERPRINT
        .try_with(|slot| slot.get().cloned())
        .ok()
        .flatten()
        .unwrap_or_default()
}

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
    /// The key was used before for another operation or another request body.
    #[error("request_id was already used for a different request; use a new request_id for a new request")]
    Reused,
    /// The same key committed by a concurrent call: roll back; a retry reads its result.
    #[error("request {0} was applied concurrently; retry to read its result")]
    Concurrent(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The advisory lock key of one idempotency key (the first 8 bytes of its
/// SHA-256; a collision only serialises two unrelated calls).
fn lock_key(caller: &str, request_id: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(b"dualreport-idempotency\0")
        .chain_update(caller.as_bytes())
        .chain_update(b"\0")
        .chain_update(request_id.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// The resource an earlier call with this `request_id` produced, if any; an
/// empty `request_id` is never remembered. Inside a transaction on
/// PostgreSQL it first waits for any concurrent call under the same key to
/// finish (see the module docs).
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
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(lock_key(caller, request_id))
            .execute(&mut *conn)
            .await?;
    }
    let row = sqlx::query(
        "SELECT operation, resource_id, fingerprint FROM idempotency_keys WHERE caller = $1 AND request_id = $2",
    )
    .bind(caller)
    .bind(request_id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let stored: String = row.try_get("fingerprint")?;
    let current = current_fingerprint();
    let same_body = stored.is_empty() || current.is_empty() || stored == current;
    if row.try_get::<String, _>("operation")? == operation && same_body {
        Ok(Some(row.try_get("resource_id")?))
    } else {
        Err(IdempotencyError::Reused)
    }
}

/// Records the key (with the request's fingerprint) in the caller's
/// transaction, or says a concurrent call with the same key committed first.
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
        "INSERT INTO idempotency_keys (caller, request_id, operation, resource_id, created_at, fingerprint) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(caller)
    .bind(request_id)
    .bind(operation)
    .bind(resource_id)
    .bind(now_millis)
    .bind(current_fingerprint())
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

/// [`replayed`] for an authenticated caller: the key is the caller's subject
/// and `request_id`. Call it right after `BEGIN` on the use case's
/// transaction so a concurrent twin is waited for (see the module docs).
pub async fn replayed_by(
    conn: &mut AnyConnection,
    p: &crate::auth::Principal,
    request_id: &str,
    operation: &str,
) -> Result<Option<String>, IdempotencyError> {
    replayed(conn, &p.subject, request_id, operation).await
}

/// [`replayed_by`] on a connection of its own, given back before it
/// returns: the cheap early check before a use case reads or opens its
/// transaction.
pub async fn replayed_by_pooled(
    pool: &sqlx::AnyPool,
    p: &crate::auth::Principal,
    request_id: &str,
    operation: &str,
) -> Result<Option<String>, IdempotencyError> {
    let mut conn = pool.acquire().await?;
    replayed(&mut conn, &p.subject, request_id, operation).await
}

/// [`record`] for an authenticated caller, now: in the same transaction as
/// the writes, so a retry finds the resource `id`.
pub async fn remember(
    conn: &mut AnyConnection,
    p: &crate::auth::Principal,
    request_id: &str,
    operation: &str,
    id: &str,
) -> Result<(), IdempotencyError> {
    record(
        conn,
        &p.subject,
        request_id,
        operation,
        id,
        dualreport_policy::now_millis(),
    )
    .await
}
