//! Prometheus metrics: per gRPC method, requests started and handled (by
//! status code) and a latency histogram, recorded per request by
//! [`RequestMetrics`] (from the trace-context layer); any
//! service-specific metric registered in [`registry`] (an outbox backlog, say);
//! and a plain HTTP/1.1 endpoint serving them at `/metrics` on
//! `server.metrics_port`.
//!
//! Label values are bounded: a path that is not a method of the suite's
//! contracts (or health and reflection) is counted as `unknown`, so a client
//! cannot grow the series by inventing paths.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::OnceLock;
use std::time::Instant;

use http_body_util::Full;
use hyper::body::Bytes;
use prometheus::{Encoder as _, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};
use tokio::net::TcpListener;

/// The registry every metric of this process lives in.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::new)
}

struct GrpcMetrics {
    started: IntCounterVec,
    handled: IntCounterVec,
    seconds: HistogramVec,
    known: HashSet<String>,
}

fn grpc_metrics() -> &'static GrpcMetrics {
    static METRICS: OnceLock<GrpcMetrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let labels = ["grpc_service", "grpc_method"];
        let started = IntCounterVec::new(
            Opts::new("grpc_server_started_total", "RPCs started on the server."),
            &labels,
        )
        .expect("valid metric");
        let handled = IntCounterVec::new(
            Opts::new(
                "grpc_server_handled_total",
                "RPCs completed on the server, by gRPC status code.",
            ),
            &["grpc_service", "grpc_method", "grpc_code"],
        )
        .expect("valid metric");
        let seconds = HistogramVec::new(
            HistogramOpts::new(
                "grpc_server_handling_seconds",
                "Time from the request's arrival to its response headers.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &labels,
        )
        .expect("valid metric");
        for collector in [
            Box::new(started.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(handled.clone()),
            Box::new(seconds.clone()),
        ] {
            // Registered once per process; a second registration cannot happen here.
            let _ = registry().register(collector);
        }
        GrpcMetrics {
            started,
            handled,
            seconds,
            known: known_methods(),
        }
    })
}

/// `/package.Service/Method` of every contract in the descriptor set, plus
/// health and reflection.
fn known_methods() -> HashSet<String> {
    let mut known: HashSet<String> = [
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    if let Ok(set) = <prost_types::FileDescriptorSet as prost::Message>::decode(dualreport_proto::FILE_DESCRIPTOR_SET) {
        for file in set.file {
            let package = file.package.unwrap_or_default();
            for service in file.service {
                let name = service.name.unwrap_or_default();
                for method in service.method {
                    known.insert(format!("/{package}.{name}/{}", method.name.unwrap_or_default()));
                }
            }
        }
    }
    known
}

/// `(service, method)` labels of a request path; `unknown` for anything else.
fn labels(path: &str) -> (String, String) {
    if grpc_metrics().known.contains(path)
        && let Some((service, method)) = path.trim_start_matches('/').split_once('/')
    {
        return (service.to_owned(), method.to_owned());
    }
    ("unknown".to_owned(), "unknown".to_owned())
}

/// A numeric `grpc-status`; anything unreadable is UNKNOWN.
fn grpc_code(code: &str) -> tonic::Code {
    tonic::Code::from_i32(code.parse::<i32>().unwrap_or(2))
}

/// One request being measured: counted as started when created, as handled
/// (with its status code) and timed by [`RequestMetrics::finish`]. The
/// [`crate::trace_context::TraceContextLayer`] drives it for every request.
pub struct RequestMetrics {
    service: String,
    method: String,
    start: Instant,
}

impl RequestMetrics {
    pub fn start(path: &str) -> Self {
        let (service, method) = labels(path);
        grpc_metrics().started.with_label_values(&[&service, &method]).inc();
        Self {
            service,
            method,
            start: Instant::now(),
        }
    }

    /// Time since the request arrived.
    pub fn elapsed(&self) -> std::time::Duration {
        self.start.elapsed()
    }

    /// `code` is the numeric `grpc-status` ("0" for OK); returns it as a
    /// [`tonic::Code`] (labelled by name, as grpc-ecosystem exporters do).
    pub fn finish(self, code: &str) -> tonic::Code {
        let metrics = grpc_metrics();
        let code = grpc_code(code);
        metrics
            .handled
            .with_label_values(&[&self.service, &self.method, &format!("{code:?}")])
            .inc();
        metrics
            .seconds
            .with_label_values(&[&self.service, &self.method])
            .observe(self.start.elapsed().as_secs_f64());
        code
    }
}

/// The text exposition of every registered metric.
pub fn render() -> String {
    // Make sure the gRPC families exist (with no samples) before the first request.
    let _ = grpc_metrics();
    let mut buffer = Vec::new();
    if let Err(error) = TextEncoder::new().encode(&registry().gather(), &mut buffer) {
        tracing::error!(%error, "encoding metrics");
    }
    String::from_utf8(buffer).unwrap_or_default()
}

/// Serves `GET /metrics` (anything else: 404) until the task is aborted.
pub async fn serve(listener: TcpListener) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "metrics listener");
                continue;
            }
        };
        tokio::spawn(async move {
            let service = hyper::service::service_fn(|request: hyper::Request<hyper::body::Incoming>| async move {
                let response = if request.uri().path() == "/metrics" {
                    hyper::Response::builder()
                        .header("content-type", "text/plain; version=0.0.4; charset=utf-8")
                        .body(Full::new(Bytes::from(render())))
                } else {
                    hyper::Response::builder().status(404).body(Full::new(Bytes::new()))
                };
                Ok::<_, Infallible>(response.unwrap_or_default())
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(error) = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await
            {
                tracing::debug!(%error, "metrics connection");
            }
        });
    }
}

/// Registers `collector` in [`registry`] and returns it. A name registered
/// twice (tests build several apps in one process) keeps the first.
fn registered<C: prometheus::core::Collector + Clone + 'static>(collector: C) -> C {
    let _ = registry().register(Box::new(collector.clone()));
    collector
}

/// A counter in [`registry`]; `name` and `help` are fixed text, so a bad one is a bug.
pub fn counter(name: &str, help: &str) -> prometheus::IntCounter {
    registered(prometheus::IntCounter::new(name, help).expect("valid metric name"))
}

/// A counter with labels in [`registry`].
pub fn counter_vec(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    registered(IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric name"))
}

/// A gauge in [`registry`].
pub fn gauge(name: &str, help: &str) -> prometheus::IntGauge {
    registered(prometheus::IntGauge::new(name, help).expect("valid metric name"))
}

/// A gauge with labels in [`registry`].
pub fn gauge_vec(name: &str, help: &str, labels: &[&str]) -> prometheus::IntGaugeVec {
    registered(prometheus::IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric name"))
}
