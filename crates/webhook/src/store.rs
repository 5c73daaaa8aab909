//! The webhook's tables: the one `webhook` row and its delivery cursor, and
//! the deliveries given up on.

use dualreport_platform::paging::PageRequest;
use sqlx::{AnyConnection, Row};

use crate::{Failed, Webhook};

fn int(row: &sqlx::any::AnyRow, column: &str) -> Result<i64, sqlx::Error> {
    row.try_get::<i64, _>(column)
}

/// The webhook, when one was ever set.
pub async fn get(conn: &mut AnyConnection) -> Result<Option<Webhook>, sqlx::Error> {
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
pub async fn set(
    conn: &mut AnyConnection,
    url: &str,
    secret: &str,
    start_after: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
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
pub async fn advance(conn: &mut AnyConnection, from: i64, to: i64) -> Result<bool, sqlx::Error> {
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
) -> Result<(), sqlx::Error> {
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
pub async fn resolve_failed(conn: &mut AnyConnection, sequence: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM failed_deliveries WHERE event_sequence = $1")
        .bind(sequence)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn count_failed(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM failed_deliveries")
        .fetch_one(conn)
        .await?;
    int(&row, "n")
}

fn failed_from_row(r: &sqlx::any::AnyRow) -> Result<Failed, sqlx::Error> {
    Ok(Failed {
        id: r.try_get("id")?,
        event_sequence: int(r, "event_sequence")?,
        attempts: int(r, "attempts")?,
        last_error: r.try_get("last_error")?,
        failed_at: int(r, "failed_at")?,
    })
}

/// A page of failed deliveries by id (one more than the page: see [`PageRequest::finish`]).
pub async fn list_failed(conn: &mut AnyConnection, page: &PageRequest) -> Result<Vec<Failed>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, event_sequence, attempts, last_error, failed_at FROM failed_deliveries WHERE id > $1 \
         ORDER BY id LIMIT $2",
    )
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter().map(failed_from_row).collect()
}

pub async fn failed(conn: &mut AnyConnection, id: &str) -> Result<Option<Failed>, sqlx::Error> {
    let row =
        sqlx::query("SELECT id, event_sequence, attempts, last_error, failed_at FROM failed_deliveries WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    row.as_ref().map(failed_from_row).transpose()
}

/// A replay's outcome: accepted removes the record, refused counts an attempt.
pub async fn replay_result(
    conn: &mut AnyConnection,
    id: &str,
    delivered: bool,
    error: &str,
) -> Result<(), sqlx::Error> {
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
