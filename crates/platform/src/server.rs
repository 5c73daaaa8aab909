//! gRPC server bootstrap shared by every service.
//!
//! [`serve`] adds `grpc.health.v1` (SERVING per service), server reflection (v1
//! and v1alpha), Prometheus metrics on their own port, and the tower stack —
//! trace context with metrics, load shedding, auth, and
//! tonic's per-request timeout — and shuts down gracefully: on SIGTERM health
//! turns NOT_SERVING, new connections stop, and in-flight requests get
//! `server.drain_timeout_ms` to finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use dualreport_proto::common::v1::ErrorReason;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Code;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::auth::{Authenticate, Authenticator};
use crate::error::status;
use crate::gate::{Gate, GateLayer};
use crate::settings::ServerSettings;
use crate::trace_context::TraceContextLayer;

/// Binds the listener first, so callers (and tests on port 0) know the port.
pub async fn bind(settings: &ServerSettings) -> std::io::Result<TcpListener> {
    TcpListener::bind((settings.host.as_str(), settings.port)).await
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
            Some(port) => Some(TcpListener::bind((settings.host.as_str(), port)).await?),
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
    /// Fully qualified service names reported SERVING by health, e.g.
    /// `dualreport.registry.v1.RegistryService`.
    pub names: Vec<&'static str>,
    pub routes: Routes,
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
    for name in &service.names {
        reporter.set_service_status(*name, ServingStatus::Serving).await;
    }
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(dualreport_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(dualreport_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let routes = service
        .routes
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);

    let names = service.names.clone();
    let (drain_tx, drain_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutdown requested, draining in-flight requests");
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
        .layer(GateLayer::new(LoadShed::new(settings.concurrency_limit)))
        .layer(GateLayer::new(Authenticate::new(authenticator)));
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let mut builder = Server::builder();
    if let Some(tls) = &settings.tls {
        builder = builder.tls_config(crate::tls::server_config(tls)?)?;
        tracing::info!(mutual = tls.client_ca_file.is_some(), "serving gRPC over TLS");
    }
    let server = builder
        .timeout(Duration::from_millis(settings.request_timeout_ms))
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

/// Concurrency limit with load shedding: a request beyond the limit is
/// answered at once with `RESOURCE_EXHAUSTED` instead of queueing.
#[derive(Clone)]
pub struct LoadShed {
    permits: Arc<Semaphore>,
}

impl LoadShed {
    pub fn new(limit: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit.max(1))),
        }
    }
}

impl Gate for LoadShed {
    type Ticket = OwnedSemaphorePermit;

    fn admit<B>(&self, _request: &mut http::Request<B>) -> Result<OwnedSemaphorePermit, tonic::Status> {
        self.permits.clone().try_acquire_owned().map_err(|_| {
            tracing::warn!("concurrency limit reached, shedding request");
            status(
                Code::ResourceExhausted,
                ErrorReason::Overloaded,
                "server is at its concurrency limit, retry with backoff",
            )
        })
    }
}
