//! The delivery round: the backlog after the cursor, sent in order by the
//! replica holding the lease.

use dualreport_platform::outbox::Delivery;
use dualreport_policy::now_millis;
use sqlx::AnyPool;

use crate::store::{advance, get, record_failed, resolve_failed};
use crate::{Outgoing, Poster, WebhookSettings};

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
