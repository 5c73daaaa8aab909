//! The suite's one outbox: deliveries owed to a peer, written in the same
//! transaction as the change that owes them and sent later by a background
//! loop on whichever replica leases them.
//!
//! Three loops use it: volunteering's payment relay (confirmed attendance →
//! scoring), feedback's score corrections (an upheld objection → scoring) and
//! feedback's webhook (the feed → the party-building cloud). They share
//! - the **policy** ([`Delivery`]): one [`Backoff`], which failures are
//!   retried, the delivered/failed counters;
//! - for the two that keep one row per delivery, the **bookkeeping**
//!   ([`Table`]): lease the due rows with a conditional UPDATE (so two
//!   replicas never send the same row at once), count each attempt, keep the
//!   last error for operators and set the next attempt.
//!
//! The webhook follows the feed's cursor instead of rows, so it uses the
//! policy alone. What "delivered" means beyond the counter (the entry id a
//! payment produced, a correction's step in the objection's history) stays
//! with each service.

use prometheus::{IntCounter, IntCounterVec};
use sqlx::AnyConnection;

use crate::retry::{Backoff, is_retryable};

/// "Never again": the next attempt of a delivery given up on.
pub const NEVER: i64 = i64::MAX;

/// How one kind of delivery is retried and counted.
#[derive(Clone)]
pub struct Delivery {
    backoff: Backoff,
    /// Retry refusals too (the peer's answer may change once an operator
    /// fixes a token or a setting), not only outages.
    retry_refusals: bool,
    delivered: IntCounter,
    failed: IntCounterVec,
}

/// What became of a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `Code: message`, as kept on the row for operators.
    pub error: String,
    /// When to try again (epoch ms), or [`NEVER`].
    pub next_attempt_at: i64,
}

impl Failure {
    pub fn given_up(&self) -> bool {
        self.next_attempt_at == NEVER
    }
}

impl Delivery {
    /// A delivery counted in `delivered` and in `failed` (one label: the
    /// gRPC code, or the kind of failure), both registered by the service
    /// under its own names.
    pub fn new(backoff: Backoff, retry_refusals: bool, delivered: IntCounter, failed: IntCounterVec) -> Self {
        Self {
            backoff,
            retry_refusals,
            delivered,
            failed,
        }
    }

    pub fn backoff(&self) -> Backoff {
        self.backoff
    }

    /// Counts a delivery the peer accepted.
    pub fn record_delivered(&self) {
        self.delivered.inc();
    }

    /// Counts a peer's failed answer (the `attempts`-th failure in a row,
    /// from 1), labelled by its gRPC code, and says when to try again: after
    /// the backoff, or never for a refusal when refusals are final.
    pub fn record_failed(&self, status: &tonic::Status, attempts: i64, now: i64) -> Failure {
        let code = status.code();
        self.record_failure(
            &format!("{code:?}"),
            &format!("{code:?}: {}", status.message()),
            is_retryable(code),
            attempts,
            now,
        )
    }

    /// [`Self::record_failed`] for a delivery that is not a gRPC call: the
    /// counter's label, the error kept, and whether it was an outage.
    pub fn record_failure(&self, label: &str, error: &str, outage: bool, attempts: i64, now: i64) -> Failure {
        self.failed.with_label_values(&[label]).inc();
        Failure {
            error: error.to_owned(),
            next_attempt_at: if outage || self.retry_refusals {
                now.saturating_add(self.backoff.after(attempts))
            } else {
                NEVER
            },
        }
    }
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("backoff", &self.backoff)
            .field("retry_refusals", &self.retry_refusals)
            .finish_non_exhaustive()
    }
}

/// A table with one row per delivery: its key, an attempt counter, the last
/// error and `next_attempt_at` (epoch ms; due when at or before now).
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    pub key: &'static str,
    pub attempts: &'static str,
    pub last_error: &'static str,
    /// An SQL condition true while the row is still owed (the service's own
    /// "delivered" column is still empty).
    pub owed: &'static str,
}

impl Table {
    /// Up to `limit` keys due at `now` (the oldest first), leased to the
    /// caller until `until` in one conditional UPDATE: on PostgreSQL a row
    /// another replica leased meanwhile fails the re-checked condition and is
    /// left out, so no two replicas send the same row at once.
    pub async fn lease_due(
        &self,
        conn: &mut AnyConnection,
        now: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        let Table { name, key, owed, .. } = self;
        let leased: Vec<(String,)> = sqlx::query_as(&format!(
            "UPDATE {name} SET next_attempt_at = $1 WHERE {owed} AND next_attempt_at <= $2 AND {key} IN \
             (SELECT {key} FROM {name} WHERE {owed} AND next_attempt_at <= $2 ORDER BY next_attempt_at, {key} LIMIT $3) \
             RETURNING {key}"
        ))
        .bind(until)
        .bind(now)
        .bind(limit)
        .fetch_all(conn)
        .await?;
        let mut keys: Vec<String> = leased.into_iter().map(|(k,)| k).collect();
        keys.sort();
        Ok(keys)
    }

    /// `$first, $first+1, …` for an `IN (…)` of `n` keys.
    pub fn placeholders(first: usize, n: usize) -> String {
        (first..first + n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Counts an accepted attempt and clears the error; false when the row
    /// was no longer owed (delivered by an earlier attempt). Call it before
    /// the service marks the row delivered, in the same transaction.
    pub async fn delivered(&self, conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
        let Table {
            name,
            key,
            attempts,
            last_error,
            owed,
        } = self;
        let done = sqlx::query(&format!(
            "UPDATE {name} SET {attempts} = {attempts} + 1, {last_error} = '' WHERE {key} = $1 AND {owed}"
        ))
        .bind(id)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Counts a failed attempt, keeps its error and sets the next attempt.
    pub async fn failed(&self, conn: &mut AnyConnection, id: &str, failure: &Failure) -> Result<(), sqlx::Error> {
        let Table {
            name,
            key,
            attempts,
            last_error,
            owed,
        } = self;
        sqlx::query(&format!(
            "UPDATE {name} SET {attempts} = {attempts} + 1, {last_error} = $2, next_attempt_at = $3 \
             WHERE {key} = $1 AND {owed}"
        ))
        .bind(id)
        .bind(&failure.error)
        .bind(failure.next_attempt_at)
        .execute(conn)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(retry_refusals: bool) -> Delivery {
        let delivered = IntCounter::new("t_delivered", "d").unwrap();
        let failed = IntCounterVec::new(prometheus::Opts::new("t_failed", "f"), &["grpc_code"]).unwrap();
        Delivery::new(Backoff::new(1000, 8000), retry_refusals, delivered, failed)
    }

    #[test]
    fn outages_wait_the_backoff_and_refusals_are_final_unless_retried() {
        let d = delivery(false);
        let f = d.record_failed(&tonic::Status::unavailable("down"), 3, 10_000);
        assert_eq!(f.next_attempt_at, 14_000, "third failure waits 4 s");
        assert_eq!(f.error, "Unavailable: down");
        assert!(
            d.record_failed(&tonic::Status::failed_precondition("no"), 1, 0)
                .given_up()
        );
        let token = tonic::Status::unauthenticated("token");
        assert_eq!(delivery(true).record_failed(&token, 9, 0).next_attempt_at, 8000);
        assert!(d.record_failure("refused", "HTTP 400", false, 1, 0).given_up());
        assert_eq!(
            d.record_failure("unreachable", "timeout", true, 1, 0).next_attempt_at,
            1000
        );
        assert_eq!(d.failed.with_label_values(&["Unavailable"]).get(), 1);
    }
}
