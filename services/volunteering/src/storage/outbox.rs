//! The payment outbox: confirmed attendance waiting to be paid to scoring, leased by one relay.

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

/// Confirmed attendance whose payment is due, oldest first.
/// A payment the relay owes scoring.
pub struct DuePayment {
    pub attendance: Attendance,
    pub attempts: i64,
    pub traceparent: String,
}

pub async fn due_payments(conn: &mut AnyConnection, now: i64, limit: i64) -> Result<Vec<DuePayment>> {
    sqlx::query(
        "SELECT a.*, o.attempts, o.traceparent FROM outbox o JOIN attendance a ON a.id = o.attendance_id \
         WHERE o.delivered_at IS NULL AND o.next_attempt_at <= $1 ORDER BY o.next_attempt_at, o.attendance_id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
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

/// Leases a due delivery to this relay until `until` (false: another relay
/// has it, or it was delivered meanwhile).
pub async fn lease_payment(conn: &mut AnyConnection, attendance_id: &str, now: i64, until: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET next_attempt_at = $1 \
         WHERE attendance_id = $2 AND delivered_at IS NULL AND next_attempt_at <= $3",
    )
    .bind(until)
    .bind(attendance_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn payment_delivered(conn: &mut AnyConnection, attendance_id: &str, entry_id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET delivered_at = $1, attempts = attempts + 1, last_error = '' WHERE attendance_id = $2",
    )
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

pub async fn payment_failed(conn: &mut AnyConnection, attendance_id: &str, next_at: i64, error: &str) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 \
         WHERE attendance_id = $3 AND delivered_at IS NULL",
    )
    .bind(next_at)
    .bind(error)
    .bind(attendance_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE attendance SET payment_error = $1 WHERE id = $2")
        .bind(error)
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
