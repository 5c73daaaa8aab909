//! W3C trace context across gRPC hops: [`TraceContextLayer`] extracts it on the
//! server and opens the request span; [`crate::client::ClientInterceptor`] injects it
//! (and a bearer token) on outgoing calls through [`inject`]. One layer, no code in handlers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt as _;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|key| key.as_str()).collect()
    }
}

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// Server layer: one span per RPC, child of the caller's W3C `traceparent`,
/// and the RPC's metrics (started, handled by code, latency).
#[derive(Clone, Copy, Default)]
pub struct TraceContextLayer;

impl<S> tower::Layer<S> for TraceContextLayer {
    type Service = TraceContext<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceContext { inner }
    }
}

#[derive(Clone)]
pub struct TraceContext<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, ResB> tower::Service<http::Request<B>> for TraceContext<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResB>>,
    S::Future: Send + 'static,
    S::Error: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(request.headers()))
        });
        let path = request.uri().path();
        let metrics = crate::metrics::RequestMetrics::start(path);
        let (service, method) = path.trim_start_matches('/').split_once('/').unwrap_or((path, ""));
        let span = tracing::info_span!(
            "grpc.server",
            otel.name = %path.trim_start_matches('/'),
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = tracing::field::Empty,
            rpc.grpc.timeout_ms = tracing::field::Empty,
            trace_id = tracing::field::Empty,
            enduser.role = tracing::field::Empty,
        );
        // A malformed or absent traceparent leaves a fresh root; never an error.
        let _ = span.set_parent(parent);
        let trace_id = span.context().span().span_context().trace_id();
        span.record("trace_id", tracing::field::display(trace_id));
        // The caller's deadline, passed on to every call the handler makes.
        let deadline = crate::deadline::from_headers(request.headers());
        if let Some(at) = deadline {
            let ms = at.saturating_duration_since(std::time::Instant::now()).as_millis();
            span.record("rpc.grpc.timeout_ms", i64::try_from(ms).unwrap_or(i64::MAX));
        }
        // Entered while the inner layers (auth) run their synchronous part.
        let future = {
            let _entered = span.enter();
            crate::deadline::sync_scope(deadline, || self.inner.call(request))
        };
        let recorded = span.clone();
        let handled = async move {
            let response = future.await;
            // Trailers-only responses (errors) carry the status in headers; a
            // stream that fails after its headers counts as OK here.
            let code = match &response {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("0")
                    .to_owned(),
                Err(_) => "13".to_owned(),
            };
            recorded.record("rpc.grpc.status_code", code.as_str());
            let elapsed_ms = metrics.elapsed().as_millis();
            let grpc_code = metrics.finish(&code);
            // One line per request (inside the span, so with its trace_id):
            // at DEBUG, or WARN when the server failed the call.
            match grpc_code {
                tonic::Code::Unknown | tonic::Code::Internal | tonic::Code::Unavailable | tonic::Code::DataLoss => {
                    tracing::warn!(?grpc_code, elapsed_ms, "request failed");
                }
                _ => tracing::debug!(?grpc_code, elapsed_ms, "request finished"),
            }
            response
        }
        .instrument(span);
        Box::pin(crate::deadline::scope(deadline, handled))
    }
}

/// Writes the current span's trace context into outgoing call metadata
/// (what [`crate::client::ClientInterceptor`] does on every call).
pub fn inject(metadata: &mut MetadataMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut MetadataInjector(metadata))
    });
}

/// The current span's W3C `traceparent` (empty outside a traced span): kept
/// with work done later (an outbox row) so that work joins the same trace.
pub fn current_traceparent() -> String {
    let context = tracing::Span::current().context();
    let mut carrier = std::collections::HashMap::new();
    opentelemetry::global::get_text_map_propagator(|propagator| propagator.inject_context(&context, &mut carrier));
    carrier.remove("traceparent").unwrap_or_default()
}

/// Makes `span` a child of a stored [`current_traceparent`]; a blank or
/// malformed one leaves it a root.
pub fn continue_trace(span: &tracing::Span, traceparent: &str) {
    if traceparent.is_empty() {
        return;
    }
    let carrier = std::collections::HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    let _ = span.set_parent(parent);
}
