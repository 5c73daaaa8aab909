//! The payment outbox: confirmed attendance waiting to be paid to scoring, leased by one relay.

use dualreport_platform::outbox;

use super::*;

/// Queues the payment of a confirmed attendance, with the confirming call's
/// `traceparent` (its payment joins that trace).
pub async fn enqueue_payment(conn: &mut AnyConnection, attendance_id: &str, now: i64, traceparent: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (attendance_id, attempts, next_attempt_at, delivered_at, last_error, created_at, traceparent) \
         VALUES ($1, 0, $2, NULL, '', $2, $3)",
    )
    .bind(attendance_id)
    .bind(now)
    .bind(traceparent)
    .execute(conn)
    .await?;
    Ok(())
}

/// The payment outbox as [`dualreport_platform::outbox`] keeps it: one row
/// per confirmed attendance, owed until scoring's entry is on it.
pub const PAYMENTS: outbox::Table = outbox::Table {
    name: "outbox",
    key: "attendance_id",
    attempts: "attempts",
    last_error: "last_error",
    owed: "delivered_at IS NULL",
};

/// A payment the relay owes scoring.
pub struct DuePayment {
    pub attendance: Attendance,
    pub attempts: i64,
    pub traceparent: String,
}

/// The payments of these attendances still owed, in one read.
pub async fn owed_payments(conn: &mut AnyConnection, attendance_ids: &[String]) -> Result<Vec<DuePayment>> {
    if attendance_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT a.*, o.attempts, o.traceparent FROM outbox o JOIN attendance a ON a.id = o.attendance_id \
         WHERE o.delivered_at IS NULL AND o.attendance_id IN ({}) ORDER BY o.created_at, o.attendance_id",
        outbox::Table::placeholders(1, attendance_ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in attendance_ids {
        query = query.bind(id);
    }
    query
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| {
            Ok(DuePayment {
                attendance: attendance(row)?,
                attempts: row.try_get("attempts")?,
                traceparent: row.try_get("traceparent")?,
            })
        })
        .collect()
}

/// Scoring took the payment as `entry_id`: the row is delivered and the
/// attendance names its entry.
pub async fn payment_delivered(conn: &mut AnyConnection, attendance_id: &str, entry_id: &str, now: i64) -> Result<()> {
    if !PAYMENTS.delivered(&mut *conn, attendance_id).await? {
        return Ok(());
    }
    sqlx::query("UPDATE outbox SET delivered_at = $1 WHERE attendance_id = $2")
        .bind(now)
        .bind(attendance_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE attendance SET entry_id = $1, payment_error = '' WHERE id = $2")
        .bind(entry_id)
        .bind(attendance_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Scoring did not take it: the row waits for its next attempt and the
/// attendance shows the error.
pub async fn payment_failed(conn: &mut AnyConnection, attendance_id: &str, failure: &outbox::Failure) -> Result<()> {
    PAYMENTS.failed(&mut *conn, attendance_id, failure).await?;
    sqlx::query("UPDATE attendance SET payment_error = $1 WHERE id = $2")
        .bind(&failure.error)
        .bind(attendance_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deliveries not yet accepted by scoring and when the oldest was written
/// (gauges for operators: the backlog and its age).
pub async fn pending_payments(conn: &mut AnyConnection) -> Result<(i64, Option<i64>)> {
    let row = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, MIN(created_at) AS oldest FROM outbox WHERE delivered_at IS NULL",
    )
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("n")?, row.try_get::<Option<i64>, _>("oldest")?))
}
