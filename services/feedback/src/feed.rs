//! Feedback's background work, beside the server until shutdown:
//!
//! - **ingest**: reads the registry's, volunteering's and scoring's event
//!   journals from stored cursors into the feed (deduplicated by source and
//!   sequence, so replicas and restarts neither lose nor repeat an entry);
//! - **webhook**: POSTs each new event to the configured URL with an
//!   HMAC-SHA256 signature, retrying with backoff; an event that still fails
//!   is recorded as a failed delivery (listable, replayable) and the rest go on;
//! - **corrections**: retries upheld objections' corrections scoring did not take;
//! - **warnings**: evaluates every unit org's warnings on a schedule.

use dualreport_platform::outbox::Delivery;
use dualreport_platform::retry::Backoff;
use std::sync::OnceLock;
use std::time::Duration;

use dualreport_directory::OrgKind;
use dualreport_platform::server::Stopping;
use prometheus::{IntCounter, IntCounterVec, IntGauge};

use crate::app::{CORRECTION_LEASE_MS, Feedback};
use crate::domain::model::Event;
use crate::domain::{Result, now_millis};
use crate::settings::{FeedSettings, Settings, WarningSettings, WebhookSettings};
use crate::storage as db;
use dualreport_webhook::{Deliverer, Outgoing};

struct Metrics {
    ingested: IntCounterVec,
    journal_failures: IntCounterVec,
    journal_read_at: prometheus::IntGaugeVec,
    webhook_backlog: IntGauge,
    corrections_pending: IntGauge,
}

fn metrics() -> &'static Metrics {
    use dualreport_platform::metrics::{counter_vec, gauge, gauge_vec};
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| Metrics {
        ingested: counter_vec(
            "feedback_events_ingested_total",
            "Journal entries read into the feed, by source.",
            &["source"],
        ),
        journal_failures: counter_vec(
            "feedback_journal_failures_total",
            "Journal reads that failed, by source.",
            &["source"],
        ),
        journal_read_at: gauge_vec(
            "feedback_journal_last_read_timestamp_seconds",
            "When each journal was last read successfully (Unix seconds; only the replica holding the ingest lease reads: take the max).",
            &["source"],
        ),
        webhook_backlog: gauge("feedback_webhook_backlog", "Events not yet sent to the webhook."),
        corrections_pending: gauge(
            "feedback_corrections_due",
            "Upheld objections whose correction was due in the last round.",
        ),
    })
}

/// Webhook deliveries as the suite's one outbox policy: up to
/// `webhook.max_attempts` tries per event with `webhook.*_backoff_ms`
/// between them; an event given up on is counted by `reason` (`unreachable`:
/// the cursor waits on it; `refused`: recorded for replay and passed).
pub fn webhook_delivery(settings: &WebhookSettings) -> Delivery {
    use dualreport_platform::metrics::{counter, counter_vec};
    static COUNTERS: OnceLock<(IntCounter, IntCounterVec)> = OnceLock::new();
    let (delivered, failed) = COUNTERS.get_or_init(|| {
        (
            counter("feedback_webhook_delivered_total", "Events the webhook accepted."),
            counter_vec(
                "feedback_webhook_failures_total",
                "Events given up on after every attempt, by reason (see ListFailedDeliveries).",
                &["reason"],
            ),
        )
    });
    let backoff = Backoff::from_unsigned(settings.initial_backoff_ms, settings.max_backoff_ms);
    Delivery::new(backoff, false, delivered.clone(), failed.clone())
}

/// Everything that runs beside the server.
pub struct Background {
    pub app: Feedback,
    pub feed: FeedSettings,
    /// The webhook's delivery round ([`deliverer`]).
    pub deliverer: Deliverer,
    pub warnings: WarningSettings,
    /// This replica's name as a lease holder (ingest and delivery run on one
    /// replica at a time).
    pub holder: String,
}

/// How long a replica holds the ingest or delivery lease past its last round.
const LOOP_LEASE_MS: i64 = 15_000;

/// The lease TTL of the loops polling every `poll_interval_ms`.
fn loop_lease_ms(poll_interval_ms: u64) -> i64 {
    LOOP_LEASE_MS.max(i64::try_from(poll_interval_ms).unwrap_or(0) * 20)
}

/// The webhook's delivery round of this replica: the suite's one webhook,
/// counted under feedback's metric names, one replica at a time.
pub fn deliverer(app: &Feedback, poster: dualreport_webhook::Poster, settings: &Settings, holder: &str) -> Deliverer {
    Deliverer::new(
        app.pool.clone(),
        poster,
        settings.webhook.clone(),
        webhook_delivery(&settings.webhook),
        metrics().webhook_backlog.clone(),
        (
            "webhook.delivery".into(),
            holder.to_owned(),
            loop_lease_ms(settings.feed.poll_interval_ms),
        ),
    )
}

/// The body POSTed for an event: its cursor and its fields.
#[derive(serde::Serialize)]
struct Body<'a> {
    cursor: String,
    #[serde(flatten)]
    event: &'a Event,
}

/// An event as the webhook sends it.
pub fn outgoing(event: &Event) -> Outgoing {
    let cursor = crate::domain::cursor(event.sequence);
    Outgoing {
        sequence: event.sequence,
        kind: event.kind.clone(),
        body: serde_json::to_vec(&Body {
            cursor: cursor.clone(),
            event,
        })
        .unwrap_or_default(),
        cursor,
    }
}

impl Background {
    /// Runs every loop until shutdown.
    pub async fn run(self, stopping: Stopping) {
        let every = Duration::from_millis(self.feed.poll_interval_ms.max(10));
        let schedule = self.warnings.schedule_secs;
        let warnings = {
            let app = self.app.clone();
            let stopping = stopping.clone();
            async move {
                if schedule == 0 {
                    return;
                }
                let stop = stopping.wait();
                tokio::pin!(stop);
                let holder = dualreport_platform::lease::holder_id();
                // A little less than the period, so the holder's next round finds it free.
                let period_ms = i64::try_from(schedule.saturating_mul(1000)).unwrap_or(i64::MAX) * 9 / 10;
                loop {
                    tokio::select! {
                        () = &mut stop => return,
                        () = tokio::time::sleep(Duration::from_secs(schedule)) => {}
                    }
                    if let Err(error) = scheduled_warnings(&app, &holder, period_ms).await {
                        tracing::warn!(%error, "scheduled warnings failed");
                    }
                }
            }
        };
        let rounds = async move {
            let stop = stopping.wait();
            tokio::pin!(stop);
            loop {
                if let Err(error) = self.ingest().await {
                    tracing::warn!(%error, "feed ingest failed");
                }
                if let Err(error) = self.deliver().await {
                    tracing::warn!(%error, "webhook round failed");
                }
                if let Err(error) = self.corrections().await {
                    tracing::warn!(%error, "corrections round failed");
                }
                tokio::select! {
                    () = &mut stop => return,
                    () = tokio::time::sleep(every) => {}
                }
            }
        };
        tokio::join!(warnings, rounds);
    }

    /// Reads each journal after its cursor into the feed.
    pub async fn ingest(&self) -> Result<usize> {
        let app = &self.app;
        if !self.lease("feed.ingest").await? {
            return Ok(0);
        }
        let mut total = 0;
        for source in app.sources.journal_names().collect::<Vec<_>>() {
            let mut conn = app.pool.acquire().await?;
            let after = db::journal_cursor(&mut conn, source).await?;
            drop(conn);
            let entries = match app.sources.journal(source, after, self.feed.batch_size).await {
                Ok(entries) => {
                    metrics()
                        .journal_read_at
                        .with_label_values(&[source])
                        .set(dualreport_policy::now_millis() / 1000);
                    entries
                }
                Err(failure) => {
                    metrics().journal_failures.with_label_values(&[source]).inc();
                    tracing::debug!(source, code = %failure.code, "journal not read");
                    continue;
                }
            };
            let Some(last) = entries.last().map(|e| e.sequence) else {
                continue;
            };
            let mut events = Vec::with_capacity(entries.len());
            // Roster facts keep the city's roster; they are not events for the cloud.
            for mut event in entries
                .into_iter()
                .filter(|e| !dualreport_platform::journal::is_roster(&e.kind))
            {
                // Fill in where it happened when the source did not say (best effort, cached).
                if event.unit_org_id.is_empty()
                    && !event.member_id.is_empty()
                    && let Ok(m) = app.directory.member(&event.member_id).await
                {
                    event.unit_org_id = m.unit_org_id;
                }
                if event.district_id.is_empty()
                    && !event.community_id.is_empty()
                    && let Ok(org) = app.directory.org(&event.community_id).await
                    && org.kind == OrgKind::Community
                {
                    event.district_id = org.ancestor_ids.get(1).cloned().unwrap_or_default();
                }
                events.push(event);
            }
            let mut tx = app.pool.begin().await?;
            let mut added = 0;
            for event in &events {
                if db::append_event(&mut tx, event, Some(event.sequence)).await? {
                    added += 1;
                }
            }
            db::set_journal_cursor(&mut tx, source, last).await?;
            tx.commit().await?;
            metrics()
                .ingested
                .with_label_values(&[source])
                .inc_by(u64::try_from(added).unwrap_or(0));
            total += added;
        }
        if total > 0 {
            app.appended.notify_waiters();
        }
        Ok(total)
    }

    /// Takes or renews one of the loops' leases: one replica reads the
    /// journals, one posts to the webhook (no event is ingested or posted twice
    /// by racing replicas, and the feed's sequence has no gaps from them).
    async fn lease(&self, name: &str) -> Result<bool> {
        let mut conn = self.app.pool.acquire().await?;
        let ttl = loop_lease_ms(self.feed.poll_interval_ms);
        Ok(dualreport_platform::lease::try_take(&mut conn, name, &self.holder, now_millis(), ttl).await?)
    }

    /// Sends the webhook what it has not had yet, in order (see
    /// `dualreport_webhook`: a receiver out of reach holds the cursor and
    /// pauses the round; an event refused is recorded for replay and passed).
    pub async fn deliver(&self) -> Result<usize> {
        let pool = &self.app.pool;
        self.deliverer
            .round(
                |after| db::count_events_after(pool, after),
                |after, limit| async move {
                    let events = db::events_after(pool, after, limit, "").await?;
                    Ok(events.iter().map(outgoing).collect())
                },
            )
            .await
    }

    /// Retries due corrections of upheld objections.
    pub async fn corrections(&self) -> Result<usize> {
        let now = now_millis();
        let due = db::lease_due_corrections(&self.app.pool, now, now + CORRECTION_LEASE_MS, 50).await?;
        metrics().corrections_pending.set(due.len() as i64);
        for o in &due {
            self.app.send_correction(o).await?;
        }
        Ok(due.len())
    }
}

/// Every unit org's warnings for this year (and, in January, the year just
/// over), by one replica per schedule period: the round takes the
/// `warnings.round` lease for that long, and a replica that cannot skips it.
async fn scheduled_warnings(app: &Feedback, holder: &str, period_ms: i64) -> Result<()> {
    let mut conn = app.pool.acquire().await?;
    let taken =
        dualreport_platform::lease::try_take(&mut conn, "warnings.round", holder, now_millis(), period_ms).await?;
    drop(conn);
    if !taken {
        tracing::debug!("another replica runs this warnings round");
        return Ok(());
    }
    let today = app.today();
    let year = chrono::Datelike::year(&today);
    let mut years = vec![year];
    if chrono::Datelike::month(&today) == 1 {
        years.push(year - 1);
    }
    for unit in app.sources.unit_ids().await? {
        let Ok(info) = app.directory.org(&unit).await else {
            continue;
        };
        for &y in &years {
            if let Err(error) = app.evaluate(&info, y, today, None).await {
                tracing::warn!(%unit, year = y, %error, "warnings not evaluated");
            }
        }
    }
    Ok(())
}
