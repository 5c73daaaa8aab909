//! gRPC server bootstrap shared by every service.
//!
//! [`serve`] adds `grpc.health.v1` (SERVING per service), server reflection (v1
//! and v1alpha), Prometheus metrics on their own port, and the tower stack —
//! trace context with metrics, the HTTP/2 edge ([`crate::edge`]), auth, load
//! shedding with per-caller fairness, tonic's per-request timeout and a
//! per-connection stream limit — and shuts down gracefully: on SIGTERM health
//! turns NOT_SERVING, open response streams end with `UNAVAILABLE`, new
//! connections stop, and in-flight requests get `server.drain_timeout_ms` to
//! finish.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dualreport_proto::common::v1::ErrorReason;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Code;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::access::{AccessTable, RoleGate};
use crate::auth::{Authenticate, Authenticator, Principal, Role};
use crate::edge::EdgeLayer;
use crate::error::status;
use crate::gate::{Gate, GateLayer};
use crate::settings::ServerSettings;
use crate::trace_context::TraceContextLayer;

/// Binds the listener first, so callers (and tests on port 0) know the port.
/// A failure names the address and the setting it came from.
pub async fn bind(settings: &ServerSettings) -> std::io::Result<TcpListener> {
    bind_named(&settings.host, settings.port, "gRPC (server.host, server.port)").await
}

async fn bind_named(host: &str, port: u16, what: &str) -> std::io::Result<TcpListener> {
    TcpListener::bind((host, port)).await.map_err(|error| {
        std::io::Error::new(
            error.kind(),
            format!("cannot listen for {what} on {host}:{port}: {error}"),
        )
    })
}

/// The gRPC listener and, when `server.metrics_port` is set, the metrics one.
pub struct Listeners {
    pub grpc: TcpListener,
    pub metrics: Option<TcpListener>,
}

impl Listeners {
    pub async fn bind(settings: &ServerSettings) -> std::io::Result<Self> {
        let grpc = bind(settings).await?;
        let metrics = match settings.metrics_port {
            Some(port) => Some(bind_named(&settings.host, port, "metrics (server.host, server.metrics_port)").await?),
            None => None,
        };
        Ok(Self { grpc, metrics })
    }

    pub fn grpc_port(&self) -> u16 {
        self.grpc.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.port())
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// One shutdown signal shared by the server and a service's background tasks
/// (outbox relays, schedulers): each waits on its own clone.
#[derive(Debug, Clone)]
pub struct Stopping(tokio::sync::watch::Receiver<bool>);

impl Stopping {
    /// Fires every clone when `shutdown` resolves.
    pub fn new(shutdown: impl Future<Output = ()> + Send + 'static) -> Self {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        Self(stopped)
    }

    /// Resolves once shutdown was requested.
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }
}

/// What a service hands to [`serve`].
pub struct Service {
    /// Who may call what, one table per gRPC service served (the journal's
    /// too); their service names are what health reports SERVING.
    pub access: Vec<&'static AccessTable>,
    pub routes: Routes,
    /// The service's pool size (`database.max_connections`): admission is
    /// sized to it unless `server.concurrency_limit` is set.
    pub database_connections: u32,
    /// Full paths of the calls whose work grows with a district's size
    /// (a settlement, district statistics): they get
    /// `server.long_request_timeout_ms` instead of `server.request_timeout_ms`.
    pub long_running: &'static [&'static str],
}

/// Serves `service` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listeners: Listeners,
    settings: &ServerSettings,
    authenticator: Arc<Authenticator>,
    service: Service,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_service_status("", ServingStatus::Serving).await;
    let names: Vec<&'static str> = service.access.iter().map(|table| table.service).collect();
    for name in &names {
        reporter.set_service_status(*name, ServingStatus::Serving).await;
    }
    // Reflection lists only what this port serves (its services, health,
    // reflection) and still resolves every type, google.rpc's error details too.
    let reflection = || {
        let mut builder = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(dualreport_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(dualreport_proto::ERROR_DETAILS_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name("grpc.health.v1.Health");
        for name in &names {
            builder = builder.with_service_name(*name);
        }
        builder
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;

    let routes = service
        .routes
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);

    let role_gate = RoleGate::new(&service.access);
    let (drain_tx, drain_rx) = tokio::sync::oneshot::channel::<()>();
    let (stopping_tx, stopping) = tokio::sync::watch::channel(false);
    let signal = async move {
        shutdown.await;
        tracing::info!("shutdown requested, draining in-flight requests");
        // Open response streams end now, with UNAVAILABLE (see `edge`).
        let _ = stopping_tx.send(true);
        reporter.set_service_status("", ServingStatus::NotServing).await;
        for name in names {
            reporter.set_service_status(name, ServingStatus::NotServing).await;
        }
        let _ = drain_tx.send(());
    };
    let metrics = listeners.metrics.map(|listener| {
        if let Ok(address) = listener.local_addr() {
            tracing::info!(port = address.port(), "metrics at /metrics");
        }
        tokio::spawn(crate::metrics::serve(listener))
    });
    let listener = listeners.grpc;
    let stack = tower::ServiceBuilder::new()
        .layer(TraceContextLayer)
        .layer(EdgeLayer::new(
            Duration::from_millis(settings.request_idle_timeout_ms),
            stopping,
            Duration::from_millis(settings.request_timeout_ms),
            service.long_running,
        ))
        .layer(GateLayer::new(Authenticate::new(authenticator)))
        .layer(GateLayer::new(role_gate))
        .layer(GateLayer::new(LoadShed::new(
            settings.concurrency_limit(service.database_connections),
            settings.per_caller_concurrency_limit(service.database_connections),
        )));
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let mut builder = Server::builder();
    if let Some(tls) = &settings.tls {
        builder = builder.tls_config(crate::tls::server_config(tls)?)?;
        tracing::info!(mutual = tls.client_ca_file.is_some(), "serving gRPC over TLS");
    }
    let server = builder
        .timeout(Duration::from_millis(
            settings.long_request_timeout_ms.max(settings.request_timeout_ms),
        ))
        .max_concurrent_streams(Some(settings.max_streams_per_connection))
        .layer(stack)
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, signal);
    let drain = Duration::from_millis(settings.drain_timeout_ms);
    let deadline = async move {
        match drain_rx.await {
            Ok(()) => tokio::time::sleep(drain).await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        result = server => result?,
        () = deadline => tracing::warn!(?drain, "drain deadline passed, dropping in-flight requests"),
    }
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    tracing::info!("server stopped");
    Ok(())
}

/// Requests in flight per caller subject.
type InFlight = Arc<Mutex<HashMap<String, usize>>>;

/// Concurrency limit with load shedding and per-caller fairness: a request
/// beyond the limit, or beyond one caller's share of it, is answered at once
/// with `RESOURCE_EXHAUSTED` instead of queueing. Health and reflection are
/// never shed (a busy pod must still pass its probes), and other services of
/// the suite (role `service`) draw only on the overall limit, since one
/// subject there speaks for many users.
#[derive(Clone)]
pub struct LoadShed {
    permits: Arc<Semaphore>,
    per_caller: usize,
    callers: InFlight,
}

impl LoadShed {
    pub fn new(limit: usize, per_caller: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit.max(1))),
            per_caller: per_caller.max(1),
            callers: Arc::default(),
        }
    }

    fn overloaded(message: &'static str) -> tonic::Status {
        tracing::warn!(message, "shedding request");
        status(Code::ResourceExhausted, ErrorReason::Overloaded, message)
    }
}

/// What an admitted request holds until its response is ready.
pub struct Admission {
    _permit: OwnedSemaphorePermit,
    caller: Option<(String, InFlight)>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some((subject, callers)) = self.caller.take() {
            let mut callers = callers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(count) = callers.get_mut(&subject) {
                *count -= 1;
                if *count == 0 {
                    callers.remove(&subject);
                }
            }
        }
    }
}

impl Gate for LoadShed {
    type Ticket = Option<Admission>;

    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<Option<Admission>, tonic::Status> {
        if crate::auth::is_public(request.uri().path()) {
            return Ok(None);
        }
        // Authentication runs first, so every other request has a principal.
        let subject = request
            .extensions()
            .get::<Principal>()
            .filter(|p| p.role != Role::Service)
            .map(|p| p.subject.clone());
        let permit = self
            .permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| Self::overloaded("server is at its concurrency limit, retry with backoff"))?;
        let caller = match subject {
            None => None,
            Some(subject) => {
                let mut callers = self.callers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let count = callers.entry(subject.clone()).or_default();
                if *count >= self.per_caller {
                    return Err(Self::overloaded(
                        "this caller has its share of the concurrency limit in flight, retry with backoff",
                    ));
                }
                *count += 1;
                Some((subject, self.callers.clone()))
            }
        };
        Ok(Some(Admission {
            _permit: permit,
            caller,
        }))
    }
}
