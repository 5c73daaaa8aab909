//! Webhook deliveries to the cloud: leased, retried, marked delivered or failed.

use super::*;

pub async fn webhook(conn: &mut AnyConnection) -> Result<Option<Webhook>> {
    let row = sqlx::query("SELECT url, secret, delivered_sequence, updated_at FROM webhook WHERE id = 'default'")
        .fetch_optional(conn)
        .await?;
    row.map(|r| {
        Ok(Webhook {
            url: r.try_get("url")?,
            secret: r.try_get("secret")?,
            delivered_sequence: int(&r, "delivered_sequence")?,
            updated_at: int(&r, "updated_at")?,
        })
    })
    .transpose()
}

/// Sets the webhook. A new URL (or one set after the webhook was off) starts
/// after the newest event; the same URL again (a new secret) keeps its cursor.
pub async fn set_webhook(conn: &mut AnyConnection, url: &str, secret: &str, start_after: i64, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook (id, url, secret, delivered_sequence, updated_at) VALUES ('default', $1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, updated_at = excluded.updated_at, \
           delivered_sequence = CASE WHEN webhook.url = excluded.url THEN webhook.delivered_sequence \
             ELSE excluded.delivered_sequence END",
    )
    .bind(url)
    .bind(secret)
    .bind(start_after)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the delivery cursor forward from `from` (a conditional UPDATE: one replica wins).
pub async fn advance_webhook(conn: &mut AnyConnection, from: i64, to: i64) -> Result<bool> {
    let done =
        sqlx::query("UPDATE webhook SET delivered_sequence = $2 WHERE id = 'default' AND delivered_sequence = $1")
            .bind(from)
            .bind(to)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed delivery of the event at `sequence`, once per event: a
/// later failure of the same event updates its attempts and error.
pub async fn record_failed(
    conn: &mut AnyConnection,
    id: &str,
    sequence: i64,
    attempts: i64,
    error: &str,
    at: i64,
) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE failed_deliveries SET attempts = attempts + $2, last_error = $3, failed_at = $4 \
         WHERE event_sequence = $1",
    )
    .bind(sequence)
    .bind(attempts)
    .bind(error)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() > 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO failed_deliveries (id, event_sequence, attempts, last_error, failed_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(sequence)
    .bind(attempts)
    .bind(error)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The event at `sequence` was delivered after all: it is no longer a failed delivery.
pub async fn resolve_failed(conn: &mut AnyConnection, sequence: i64) -> Result<()> {
    sqlx::query("DELETE FROM failed_deliveries WHERE event_sequence = $1")
        .bind(sequence)
        .execute(conn)
        .await?;
    Ok(())
}

/// Events after the cursor (the webhook's backlog; sequences may have gaps).
pub async fn count_events_after(conn: &mut AnyConnection, after: i64) -> Result<i64> {
    let row = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM events WHERE sequence > $1")
        .bind(after)
        .fetch_one(conn)
        .await?;
    int(&row, "n")
}

pub async fn count_failed(conn: &mut AnyConnection) -> Result<i64> {
    let row = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM failed_deliveries")
        .fetch_one(conn)
        .await?;
    int(&row, "n")
}

pub async fn list_failed(conn: &mut AnyConnection, page: &PageRequest) -> Result<Vec<FailedDelivery>> {
    let rows = sqlx::query(
        "SELECT id, event_sequence, attempts, last_error, failed_at FROM failed_deliveries WHERE id > $1 \
         ORDER BY id LIMIT $2",
    )
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let sequence = int(r, "event_sequence")?;
        out.push(FailedDelivery {
            id: r.try_get("id")?,
            event: event(conn, sequence).await?.unwrap_or_default(),
            attempts: int(r, "attempts")?,
            last_error: r.try_get("last_error")?,
            failed_at: int(r, "failed_at")?,
        });
    }
    Ok(out)
}

pub async fn failed(conn: &mut AnyConnection, id: &str) -> Result<Option<FailedDelivery>> {
    let row =
        sqlx::query("SELECT id, event_sequence, attempts, last_error, failed_at FROM failed_deliveries WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(r) = row else { return Ok(None) };
    let sequence = int(&r, "event_sequence")?;
    Ok(Some(FailedDelivery {
        id: r.try_get("id")?,
        event: event(conn, sequence).await?.unwrap_or_default(),
        attempts: int(&r, "attempts")?,
        last_error: r.try_get("last_error")?,
        failed_at: int(&r, "failed_at")?,
    }))
}

pub async fn replay_result(conn: &mut AnyConnection, id: &str, delivered: bool, error: &str) -> Result<()> {
    if delivered {
        sqlx::query("DELETE FROM failed_deliveries WHERE id = $1")
            .bind(id)
            .execute(conn)
            .await?;
    } else {
        sqlx::query("UPDATE failed_deliveries SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
            .bind(id)
            .bind(error)
            .execute(conn)
            .await?;
    }
    Ok(())
}
