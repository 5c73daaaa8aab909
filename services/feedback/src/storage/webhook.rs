//! Webhook deliveries to the cloud: the suite's webhook tables
//! (`dualreport_webhook`) with feedback's events behind them.

use super::*;

pub use dualreport_webhook::{
    advance as advance_webhook, count_failed, get as webhook, replay_result, set as set_webhook,
};

/// Events after the cursor (the webhook's backlog; sequences may have gaps).
pub async fn count_events_after(pool: &AnyPool, after: i64) -> Result<i64> {
    let row = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM events WHERE sequence > $1")
        .bind(after)
        .fetch_one(pool)
        .await?;
    int(&row, "n")
}

async fn with_event(conn: &mut AnyConnection, f: dualreport_webhook::Failed) -> Result<FailedDelivery> {
    Ok(FailedDelivery {
        event: event(conn, f.event_sequence).await?.unwrap_or_default(),
        id: f.id,
        attempts: f.attempts,
        last_error: f.last_error,
        failed_at: f.failed_at,
    })
}

pub async fn list_failed(conn: &mut AnyConnection, page: &PageRequest) -> Result<Vec<FailedDelivery>> {
    let mut out = Vec::new();
    for f in dualreport_webhook::list_failed(conn, page).await? {
        out.push(with_event(conn, f).await?);
    }
    Ok(out)
}

pub async fn failed(conn: &mut AnyConnection, id: &str) -> Result<Option<FailedDelivery>> {
    match dualreport_webhook::failed(conn, id).await? {
        Some(f) => Ok(Some(with_event(conn, f).await?)),
        None => Ok(None),
    }
}
