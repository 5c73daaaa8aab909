//! The suite's one outbound webhook (推送) to the party-building cloud
//! (党建云), used by feedback (a district's feed) and the city tier (the
//! city's feed): each event POSTed as JSON, signed with HMAC-SHA256 over the
//! body, in feed order, from a stored cursor.
//!
//! - A receiver **out of reach** (network, 5xx, 408, 429) holds the cursor:
//!   the event is listed as a failed delivery and the round pauses, backing
//!   off up to `webhook.max_backoff_ms`, then resumes from the cursor.
//! - A receiver that **refuses** an event (other 4xx) gets it recorded for
//!   replay (`ReplayDelivery`), and the feed moves on.
//! - One replica at a time delivers (a lease); the cursor moves by a
//!   conditional update, so a new webhook set meanwhile starts over cleanly.
//!
//! Each service keeps two tables with the same DDL: `webhook (id, url,
//! secret, delivered_sequence, updated_at)` (one row, `id = 'default'`) and
//! `failed_deliveries (id, event_sequence, attempts, last_error, failed_at)`.
//! The service supplies its events as [`Outgoing`] (its own JSON body, kind
//! and cursor) and its own metrics, so both feeds behave alike and are
//! counted under their own names.

use std::time::Duration;

use dualreport_platform::error::FieldError;
use dualreport_platform::outbox::Delivery;
use dualreport_platform::paging::PageRequest;
use dualreport_policy::now_millis;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AnyPool, Row};

/// `[webhook]`: the outbound webhook to the party-building cloud.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WebhookSettings {
    /// Accept `http://` URLs (development only); otherwise `https://` is required.
    pub allow_http: bool,
    pub timeout_ms: u64,
    /// Attempts per event before it is recorded as a failed delivery.
    pub max_attempts: u32,
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
}

/// The configured webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
    /// The last event delivered (or given up on).
    pub delivered_sequence: i64,
    pub updated_at: i64,
}

/// An event the webhook gave up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub id: String,
    pub event_sequence: i64,
    pub attempts: i64,
    pub last_error: String,
    pub failed_at: i64,
}

/// One event as the webhook sends it: the body is the service's own JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub sequence: i64,
    pub kind: String,
    pub cursor: String,
    pub body: Vec<u8>,
}

/// The signature header value: `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a webhook URL: https, or http where allowed (development).
pub fn url(value: &str, allow_http: bool) -> Result<String, FieldError> {
    let value = value.trim();
    let ok_scheme = value.starts_with("https://") || (allow_http && value.starts_with("http://"));
    if !ok_scheme {
        return Err(FieldError::new(
            "url",
            if allow_http {
                "must be an https:// or http:// URL"
            } else {
                "must be an https:// URL (http is accepted only in development)"
            },
        ));
    }
    let host = value.split_once("://").map(|(_, rest)| rest).unwrap_or_default();
    if host.is_empty() || host.starts_with('/') || value.len() > 2000 || value.chars().any(char::is_whitespace) {
        return Err(FieldError::new("url", "must name a host"));
    }
    Ok(value.to_owned())
}

/// A `SetWebhook` request's (url, secret): both empty turn the webhook off.
pub fn parse_set(url_text: &str, secret: &str, allow_http: bool) -> Result<(String, String), FieldError> {
    if url_text.is_empty() {
        return Ok((String::new(), String::new()));
    }
    let url = url(url_text, allow_http)?;
    if secret.len() < 32 || secret.len() > 256 {
        return Err(FieldError::new("secret", "must be 32 to 256 bytes"));
    }
    Ok((url, secret.to_owned()))
}

/// The webhook as the API shows it (never its secret), with the count of
/// failed deliveries and the service's cursor of the last event delivered.
pub fn to_pb(
    hook: Option<Webhook>,
    failed: i64,
    cursor: impl Fn(i64) -> String,
) -> dualreport_proto::feedback::v1::Webhook {
    let failed_deliveries = i32::try_from(failed).unwrap_or(i32::MAX);
    match hook {
        None => dualreport_proto::feedback::v1::Webhook {
            failed_deliveries,
            ..Default::default()
        },
        Some(h) => dualreport_proto::feedback::v1::Webhook {
            enabled: !h.url.is_empty(),
            url: h.url,
            delivered_cursor: cursor(h.delivered_sequence),
            failed_deliveries,
            update_time: Some(dualreport_platform::wire::timestamp(h.updated_at)),
        },
    }
}

/// The webhook's HTTP client.
#[derive(Debug, Clone)]
pub struct Poster {
    client: reqwest::Client,
}

impl Poster {
    pub fn new(settings: &WebhookSettings) -> anyhow::Result<Self> {
        // reqwest is built without a bundled crypto provider: use ring, as the rest of the suite does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client })
    }

    /// One attempt; `Err` says whether the receiver was out of reach.
    pub async fn send(&self, hook: &Webhook, event: &Outgoing) -> Result<(), SendError> {
        let response = self
            .client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("x-dualreport-event", &event.kind)
            .header("x-dualreport-cursor", &event.cursor)
            .header("x-dualreport-signature", signature(hook.secret.as_bytes(), &event.body))
            .body(event.body.clone())
            .send()
            .await
            .map_err(|e| SendError::unreachable(format!("request failed: {e}")))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            Err(SendError::unreachable(format!("webhook answered {status}")))
        } else {
            Err(SendError::rejected(format!("webhook answered {status}")))
        }
    }
}

/// Why a delivery failed: the receiver is out of reach (network, 5xx, 408,
/// 429: the feed waits for it and resumes from its cursor), or it refused
/// this event (other 4xx: recorded for replay, the feed moves on).
#[derive(Debug, Clone)]
pub struct SendError {
    pub message: String,
    pub unreachable: bool,
}

impl SendError {
    fn unreachable(message: String) -> Self {
        Self {
            message,
            unreachable: true,
        }
    }

    fn rejected(message: String) -> Self {
        Self {
            message,
            unreachable: false,
        }
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

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

/// The delivery round of one service, run by whichever replica holds its lease.
#[derive(Debug)]
pub struct Deliverer {
    pub pool: AnyPool,
    pub poster: Poster,
    pub settings: WebhookSettings,
    /// The service's counters (`<service>_webhook_delivered_total`, …).
    pub delivery: Delivery,
    /// The service's `<service>_webhook_backlog` gauge.
    pub backlog: prometheus::IntGauge,
    /// The lease (`<name>`, held by `holder` for `lease_ms`).
    pub lease: (String, String, i64),
    /// While the receiver is out of reach: no delivery before this instant,
    /// and how many rounds in a row found it so.
    paused: std::sync::Mutex<(i64, i64)>,
}

impl Deliverer {
    pub fn new(
        pool: AnyPool,
        poster: Poster,
        settings: WebhookSettings,
        delivery: Delivery,
        backlog: prometheus::IntGauge,
        lease: (String, String, i64),
    ) -> Self {
        Self {
            pool,
            poster,
            settings,
            delivery,
            backlog,
            lease,
            paused: std::sync::Mutex::default(),
        }
    }

    /// Sends the webhook what it has not had yet, in order, at most 100
    /// events: `count(after)` is the backlog, `read(after, limit)` the
    /// events after the cursor, both in the service's own error type.
    /// Returns how many were delivered or passed.
    pub async fn round<E, C, CF, R, RF>(&self, count: C, read: R) -> Result<usize, E>
    where
        E: From<sqlx::Error>,
        C: FnOnce(i64) -> CF,
        CF: Future<Output = Result<i64, E>>,
        R: FnOnce(i64, i64) -> RF,
        RF: Future<Output = Result<Vec<Outgoing>, E>>,
    {
        let mut conn = self.pool.acquire().await?;
        let Some(hook) = get(&mut conn).await?.filter(|h| !h.url.is_empty()) else {
            return Ok(0);
        };
        drop(conn);
        let backlog = count(hook.delivered_sequence).await?;
        self.backlog.set(backlog);
        let paused_until = self.paused.lock().map(|p| p.0).unwrap_or_default();
        if backlog == 0 || now_millis() < paused_until || !self.take_lease::<E>().await? {
            return Ok(0);
        }
        let events = read(hook.delivered_sequence, 100).await?;
        let mut from = hook.delivered_sequence;
        let mut sent = 0;
        for event in &events {
            let mut attempt = 0u32;
            let outcome = loop {
                attempt += 1;
                match self.poster.send(&hook, event).await {
                    Ok(()) => break Ok(()),
                    Err(error) if attempt >= self.settings.max_attempts.max(1) => break Err(error),
                    Err(error) => {
                        tracing::debug!(sequence = event.sequence, attempt, %error, "webhook attempt failed");
                        tokio::time::sleep(self.delivery.backoff().duration_after(i64::from(attempt))).await;
                    }
                }
            };
            let mut tx = self.pool.begin().await?;
            match outcome {
                Ok(()) => {
                    if !advance(&mut tx, from, event.sequence).await? {
                        // A new webhook moved the cursor: start over next round.
                        return Ok(sent);
                    }
                    resolve_failed(&mut tx, event.sequence).await?;
                    self.delivery.record_delivered();
                    if let Ok(mut paused) = self.paused.lock() {
                        *paused = (0, 0);
                    }
                }
                Err(error) => {
                    // Refused: recorded for replay and passed. Out of reach: recorded,
                    // and the cursor stays on it until the receiver answers.
                    if !error.unreachable && !advance(&mut tx, from, event.sequence).await? {
                        return Ok(sent);
                    }
                    let reason = if error.unreachable { "unreachable" } else { "refused" };
                    self.delivery.record_failure(
                        reason,
                        &error.message,
                        error.unreachable,
                        i64::from(attempt),
                        now_millis(),
                    );
                    tracing::warn!(sequence = event.sequence, unreachable = error.unreachable, %error, "webhook delivery failed");
                    record_failed(
                        &mut tx,
                        &dualreport_platform::ids::new_id(),
                        event.sequence,
                        i64::from(attempt),
                        &error.message,
                        now_millis(),
                    )
                    .await?;
                    if error.unreachable {
                        tx.commit().await?;
                        self.pause();
                        return Ok(sent);
                    }
                }
            }
            tx.commit().await?;
            from = event.sequence;
            sent += 1;
        }
        Ok(sent)
    }

    async fn take_lease<E: From<sqlx::Error>>(&self) -> Result<bool, E> {
        let mut conn = self.pool.acquire().await?;
        let (name, holder, ttl) = &self.lease;
        Ok(dualreport_platform::lease::try_take(&mut conn, name, holder, now_millis(), *ttl).await?)
    }

    /// After a round that found the receiver out of reach: wait before the
    /// next, twice as long each time up to `webhook.max_backoff_ms`.
    fn pause(&self) {
        if let Ok(mut paused) = self.paused.lock() {
            let failures = paused.1 + 1;
            *paused = (now_millis() + self.delivery.backoff().after(failures), failures);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_secrets_and_signatures() {
        assert!(url("https://cloud.example/hook", false).is_ok());
        assert_eq!(url("http://cloud.example/hook", false).unwrap_err().field, "url");
        assert!(url("http://127.0.0.1:9/hook", true).is_ok());
        assert!(url("https:///nohost", false).is_err());
        assert_eq!(parse_set("", "", false).unwrap(), (String::new(), String::new()));
        assert_eq!(
            parse_set("https://cloud.example/hook", "short", false)
                .unwrap_err()
                .field,
            "secret"
        );
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
