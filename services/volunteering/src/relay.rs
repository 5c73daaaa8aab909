//! The outbox relay: pays confirmed attendance to scoring, exactly once.
//!
//! A confirmation writes the attendance and an `outbox` row in one
//! transaction. This task finds due rows, leases each (a conditional UPDATE
//! pushing `next_attempt_at` forward, so two replicas never deliver the same
//! row at once), and calls scoring's `RecordService` with source key
//! `attendance:<id>`. Scoring answers a redelivered key with the entry it
//! already wrote, so a relay that dies between scoring's answer and its own
//! commit only causes a harmless redelivery. Failures are retried with
//! exponential backoff (`relay.initial_backoff_ms` doubling up to
//! `relay.max_backoff_ms`) until scoring accepts; the last error is kept on
//! the attendance (`payment_error`) for operators.

use std::sync::OnceLock;
use std::time::Duration;

use dualreport_platform::client::ClientInterceptor;
use dualreport_platform::client::{PeerSettings, ServiceCredentials, authed_channel};
use dualreport_platform::outbox::Delivery;
use dualreport_platform::retry::Backoff;
use dualreport_platform::trace_context;
use dualreport_platform::wire::date_to_pb;
use dualreport_proto::scoring::v1 as pb;
use pb::scoring_service_client::ScoringServiceClient;
use prometheus::{IntCounter, IntCounterVec, IntGauge};
use sqlx::AnyPool;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tracing::Instrument as _;

use crate::domain::model::Attendance;
use crate::domain::{Result, now_millis};
use crate::settings::RelaySettings;
use crate::storage as db;

type Client = ScoringServiceClient<InterceptedService<Channel, ClientInterceptor>>;

struct Metrics {
    pending: IntGauge,
    oldest_pending_seconds: IntGauge,
}

fn metrics() -> &'static Metrics {
    use dualreport_platform::metrics::gauge;
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| Metrics {
        pending: gauge(
            "volunteering_payments_pending",
            "Confirmed attendance not yet accepted by scoring.",
        ),
        oldest_pending_seconds: gauge(
            "volunteering_payments_oldest_pending_seconds",
            "Age of the oldest confirmed attendance not yet accepted by scoring; 0 when none waits.",
        ),
    })
}

/// Payments as the suite's one outbox policy: every failure is retried (a
/// refusal usually means a token or setting an operator will fix), counted
/// by gRPC code.
fn payments(backoff: Backoff) -> Delivery {
    use dualreport_platform::metrics::{counter, counter_vec};
    static COUNTERS: OnceLock<(IntCounter, IntCounterVec)> = OnceLock::new();
    let (delivered, failed) = COUNTERS.get_or_init(|| {
        (
            counter(
                "volunteering_payments_delivered_total",
                "Confirmed attendance paid to scoring.",
            ),
            counter_vec(
                "volunteering_payment_failures_total",
                "Deliveries to scoring that failed and will be retried, by gRPC code.",
                &["grpc_code"],
            ),
        )
    });
    Delivery::new(backoff, true, delivered.clone(), failed.clone())
}

#[derive(Clone)]
pub struct Relay {
    pool: AnyPool,
    client: Client,
    settings: RelaySettings,
    /// How long a leased delivery is left alone: longer than a call can take.
    lease_millis: i64,
    delivery: Delivery,
}

impl Relay {
    pub fn new(
        pool: AnyPool,
        scoring: &PeerSettings,
        credentials: &std::sync::Arc<ServiceCredentials>,
        settings: RelaySettings,
    ) -> anyhow::Result<Self> {
        let lease_millis = i64::try_from(scoring.timeout_ms.saturating_mul(2))
            .unwrap_or(i64::MAX)
            .max(1000);
        Ok(Self {
            pool,
            client: ScoringServiceClient::new(authed_channel(scoring, credentials)?),
            delivery: payments(Backoff::new(settings.initial_backoff_ms, settings.max_backoff_ms)),
            settings,
            lease_millis,
        })
    }

    /// Runs rounds until `shutdown` resolves.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let interval = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        loop {
            match self.round().await {
                // A full batch: go again at once.
                Ok(n) if i64::try_from(n).unwrap_or(0) >= self.settings.batch_size => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "relay round failed"),
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// Delivers what is due now; returns how many deliveries it tried.
    pub async fn round(&self) -> Result<usize> {
        let now = now_millis();
        let mut conn = self.pool.acquire().await?;
        let (pending, oldest) = db::pending_payments(&mut conn).await?;
        metrics().pending.set(pending);
        metrics()
            .oldest_pending_seconds
            .set(oldest.map_or(0, |created| (now - created).max(0) / 1000));
        let due = db::PAYMENTS
            .lease_due(&mut conn, now, now + self.lease_millis, self.settings.batch_size)
            .await?;
        let owed = db::owed_payments(&mut conn, &due).await?;
        drop(conn);
        let mut tried = 0;
        for db::DuePayment {
            attendance,
            attempts,
            traceparent,
        } in owed
        {
            tried += 1;
            // A child of the confirmation's span: the payment is part of its trace.
            let span = tracing::info_span!("outbox.pay", attendance = %attendance.id);
            trace_context::continue_trace(&span, &traceparent);
            let outcome = self.deliver(&attendance).instrument(span).await;
            let mut tx = self.pool.begin().await?;
            match outcome {
                Ok(entry_id) => {
                    db::payment_delivered(&mut tx, &attendance.id, &entry_id, now_millis()).await?;
                    self.delivery.record_delivered();
                    tracing::info!(attendance = %attendance.id, entry = %entry_id, "attendance paid");
                }
                Err(status) => {
                    let failure = self.delivery.record_failed(&status, attempts + 1, now_millis());
                    db::payment_failed(&mut tx, &attendance.id, &failure).await?;
                    tracing::warn!(attendance = %attendance.id, attempts = attempts + 1, next_attempt_at = failure.next_attempt_at, error = %failure.error, "payment failed; will retry");
                }
            }
            tx.commit().await?;
        }
        Ok(tried)
    }

    async fn deliver(&self, attendance: &Attendance) -> std::result::Result<String, tonic::Status> {
        let response = self
            .client
            .clone()
            .record_service(pb::RecordServiceRequest {
                request_id: String::new(),
                source_key: attendance.source_key(),
                member_id: attendance.member_id.clone(),
                community_id: attendance.community_id.clone(),
                served_on: Some(date_to_pb(attendance.served_on)),
                content: attendance.content.chars().take(500).collect(),
                adjustment: i32::try_from(attendance.adjustment).unwrap_or(0),
            })
            .await?
            .into_inner();
        Ok(response.entry.map(|e| e.id).unwrap_or_default())
    }
}
