//! The city-level webhook (推送) to the party-building cloud: the city's
//! feed — every district's events, each with its district — POSTed in feed
//! order through the suite's one webhook (`dualreport-webhook`), exactly as
//! feedback does for one district. The city's admins and the cloud manage it.

use std::sync::OnceLock;
use std::time::Duration;

use dualreport_platform::audit;
use dualreport_platform::auth::{Principal, Role};
use dualreport_platform::outbox::Delivery;
use dualreport_platform::paging::PageRequest;
use dualreport_platform::retry::Backoff;
use dualreport_platform::server::Stopping;
use dualreport_webhook::{Deliverer, Outgoing, Poster, Webhook, WebhookSettings};
use prometheus::{IntCounter, IntCounterVec, IntGauge};

use crate::app::City;
use crate::domain::{CityError, Event, Result, cursor, now_millis};
use crate::storage as db;

/// The body POSTed for an event: the feed's fields, its cursor and its district.
#[derive(serde::Serialize)]
struct Body<'a> {
    cursor: String,
    district: &'a str,
    sequence: i64,
    kind: &'a str,
    source: &'a str,
    occur_time: i64,
    subject_id: &'a str,
    district_id: &'a str,
    community_id: &'a str,
    unit_org_id: &'a str,
    member_id: &'a str,
    text: &'a str,
    evidence_ids: &'a [String],
}

/// An event as the webhook sends it.
pub fn outgoing(e: &Event) -> Outgoing {
    let cursor = cursor(e.sequence);
    let body = Body {
        cursor: cursor.clone(),
        district: &e.district,
        sequence: e.sequence,
        kind: &e.kind,
        source: &e.source,
        occur_time: e.occur_time,
        subject_id: &e.subject_id,
        district_id: &e.district_id,
        community_id: &e.community_id,
        unit_org_id: &e.unit_org_id,
        member_id: &e.member_id,
        text: &e.text,
        evidence_ids: &e.evidence_ids,
    };
    Outgoing {
        sequence: e.sequence,
        kind: e.kind.clone(),
        body: serde_json::to_vec(&body).unwrap_or_default(),
        cursor,
    }
}

/// The delivery round of this replica, counted as `city_webhook_*`.
pub fn deliverer(city: &City, poster: Poster, settings: &WebhookSettings, holder: &str, lease_ms: i64) -> Deliverer {
    static METRICS: OnceLock<(IntCounter, IntCounterVec, IntGauge)> = OnceLock::new();
    let (delivered, failed, backlog) = METRICS.get_or_init(|| {
        use dualreport_platform::metrics::{counter, counter_vec, gauge};
        (
            counter("city_webhook_delivered_total", "City feed events the webhook accepted."),
            counter_vec(
                "city_webhook_failures_total",
                "City feed events given up on after every attempt, by reason (see ListFailedDeliveries).",
                &["reason"],
            ),
            gauge("city_webhook_backlog", "City feed events not yet sent to the webhook."),
        )
    });
    let backoff = Backoff::from_unsigned(settings.initial_backoff_ms, settings.max_backoff_ms);
    Deliverer::new(
        city.pool.clone(),
        poster,
        settings.clone(),
        Delivery::new(backoff, false, delivered.clone(), failed.clone()),
        backlog.clone(),
        ("webhook.delivery".into(), holder.to_owned(), lease_ms),
    )
}

/// Delivers every `every` (at once while there is a backlog) until shutdown.
pub async fn run(city: City, deliverer: Deliverer, every: Duration, stopping: Stopping) {
    let stop = stopping.wait();
    tokio::pin!(stop);
    loop {
        let pool = &city.pool;
        let sent = deliverer
            .round(
                |after| db::count_events_after(pool, after),
                |after, limit| async move {
                    let events = db::events_after(pool, after, limit, None).await?;
                    Ok::<_, CityError>(events.iter().map(outgoing).collect())
                },
            )
            .await;
        let pause = match sent {
            Ok(n) if n > 0 => Duration::ZERO,
            Ok(_) => every,
            Err(error) => {
                tracing::warn!(%error, "webhook round failed");
                every
            }
        };
        tokio::select! {
            biased;
            () = &mut stop => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// A failed delivery with its event.
#[derive(Debug, Clone)]
pub struct FailedDelivery {
    pub failed: dualreport_webhook::Failed,
    pub event: Option<Event>,
}

impl City {
    /// The webhook is the city's delivery to the cloud: the city's admins and the cloud manage it.
    fn require_webhook_admin(&self, p: &Principal) -> Result<()> {
        if p.role == Role::Cloud {
            return Ok(());
        }
        self.require_city_admin(p, "the city's webhook")
    }

    /// Sets (or, with an empty URL, turns off) the webhook; audited, never its secret.
    pub async fn set_webhook(&self, p: &Principal, url: &str, secret: &str) -> Result<(Option<Webhook>, i64)> {
        self.require_webhook_admin(p)?;
        let last = db::last_sequence(&self.pool).await?;
        let mut tx = self.pool.begin().await?;
        let before = dualreport_webhook::get(&mut tx)
            .await?
            .map(|h| serde_json::json!({ "url": h.url }));
        dualreport_webhook::set(&mut tx, url, secret, last, now_millis()).await?;
        let root = format!("/{}/", self.city_id());
        audit::record(
            &mut tx,
            p,
            audit::Change {
                method: "SetWebhook",
                resource_kind: "webhook",
                resource_id: "webhook",
                org_id: self.city_id(),
                org_path: &root,
                before,
                after: Some(serde_json::json!({ "url": url, "from_sequence": last })),
            },
        )
        .await?;
        tx.commit().await?;
        self.webhook_state().await
    }

    pub async fn get_webhook(&self, p: &Principal) -> Result<(Option<Webhook>, i64)> {
        self.require_webhook_admin(p)?;
        self.webhook_state().await
    }

    async fn webhook_state(&self) -> Result<(Option<Webhook>, i64)> {
        let mut conn = self.pool.acquire().await?;
        let failed = dualreport_webhook::count_failed(&mut conn).await?;
        Ok((dualreport_webhook::get(&mut conn).await?, failed))
    }

    pub async fn list_failed_deliveries(
        &self,
        p: &Principal,
        page: &PageRequest,
    ) -> Result<(Vec<FailedDelivery>, String)> {
        self.require_webhook_admin(p)?;
        let mut conn = self.pool.acquire().await?;
        let rows = dualreport_webhook::list_failed(&mut conn, page).await?;
        let (rows, next) = page.finish(rows, |f| &f.id);
        let mut out = Vec::with_capacity(rows.len());
        for failed in rows {
            let event = db::event(&mut conn, failed.event_sequence).await?;
            out.push(FailedDelivery { failed, event });
        }
        Ok((out, next))
    }

    /// Sends a failed delivery again now; removed from the list when accepted.
    pub async fn replay_delivery(&self, p: &Principal, id: &str, poster: &Poster) -> Result<(bool, String)> {
        self.require_webhook_admin(p)?;
        let mut conn = self.pool.acquire().await?;
        let failed = dualreport_webhook::failed(&mut conn, id)
            .await?
            .ok_or_else(|| CityError::not_found("failed delivery", id))?;
        let hook = dualreport_webhook::get(&mut conn)
            .await?
            .filter(|h| !h.url.is_empty())
            .ok_or_else(|| CityError::wrong_state("no webhook is set"))?;
        let event = db::event(&mut conn, failed.event_sequence)
            .await?
            .ok_or_else(|| CityError::not_found("feed event", &failed.event_sequence.to_string()))?;
        drop(conn);
        let (delivered, error) = match poster.send(&hook, &outgoing(&event)).await {
            Ok(()) => (true, String::new()),
            Err(e) => (false, e.message),
        };
        let root = format!("/{}/", self.city_id());
        let mut tx = self.pool.begin().await?;
        dualreport_webhook::replay_result(&mut tx, id, delivered, &error).await?;
        audit::record(
            &mut tx,
            p,
            audit::Change {
                method: "ReplayDelivery",
                resource_kind: "failed_delivery",
                resource_id: id,
                org_id: self.city_id(),
                org_path: &root,
                before: None,
                after: Some(serde_json::json!({
                    "event_sequence": failed.event_sequence, "delivered": delivered, "error": error,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((delivered, error))
    }
}
