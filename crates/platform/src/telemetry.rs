//! Logs and traces. One [`init`] per process; keep the returned guard alive
//! until exit so buffered spans are flushed.
//!
//! Spans always carry OpenTelemetry context (so W3C trace context flows through
//! every gRPC hop and logs carry `trace_id`); they are exported over OTLP/gRPC
//! only when `telemetry.otlp_endpoint` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set
//! (the setting wins). The exporter batches: `OTEL_BSP_SCHEDULE_DELAY` (ms)
//! and the other standard `OTEL_BSP_*` variables tune it.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Metadata;
use tracing::subscriber::Interest;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::settings::{LogFormat, TelemetrySettings};

/// Flushes and shuts down the tracer provider when dropped.
#[must_use = "dropping the guard stops trace export"]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("telemetry shutdown failed: {error}");
        }
    }
}

/// Installs the global subscriber, tracer provider and W3C propagator.
pub fn init(service_name: &'static str, settings: &TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let resource = Resource::builder().with_service_name(service_name).build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    let endpoint = settings.otlp_endpoint.clone().filter(|e| !e.is_empty()).or_else(|| {
        std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty())
    });
    if let Some(endpoint) = endpoint {
        use opentelemetry_otlp::WithExportConfig as _;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    let tracer = provider.tracer(service_name);

    // The log level filters log lines only. Request spans stay on whatever the
    // level (so trace context flows and `trace_id` is on every line logged in a
    // request), and traces get every span at INFO and above.
    let log_filter = LogFilter::new(&settings.log_level)?;
    let fmt = match settings.log_format {
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_target(false).boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(fmt.with_filter(log_filter))
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(LevelFilter::INFO),
        )
        .try_init()?;
    Ok(TelemetryGuard { provider })
}

/// Which log lines are written: `RUST_LOG` when set, else `telemetry.log_level`
/// — and the suite's own spans whatever the level, so request spans carry
/// trace context (and their `trace_id` reaches every line logged in them).
///
/// Its callsite interest is always "sometimes", so the filter is asked about
/// every event. With a cached "always", an event skips the per-layer
/// `enabled` check and reuses the state a previous check left behind — and a
/// library that only asks whether a level is on (sqlx asks `log_enabled!`
/// through the `log` bridge after every query it does not log) leaves
/// "disabled" behind: the thread's next line was silently dropped (seen: the
/// "listening" line of a service on PostgreSQL).
pub struct LogFilter(EnvFilter);

impl LogFilter {
    pub fn new(log_level: &str) -> anyhow::Result<Self> {
        let env = match EnvFilter::try_from_default_env() {
            Ok(env) => env,
            Err(_) => EnvFilter::try_new(log_level)?,
        };
        Ok(Self(env))
    }
}

impl<S> Filter<S> for LogFilter
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        (meta.is_span() && meta.target().starts_with("dualreport")) || Filter::enabled(&self.0, meta, cx)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        // The EnvFilter keeps per-callsite state for its span directives.
        let interest = Filter::<S>::callsite_enabled(&self.0, meta);
        if interest.is_never() && !(meta.is_span() && meta.target().starts_with("dualreport")) {
            // Off for good (h2's and hyper's debug lines at `info`): cached,
            // so such a callsite costs nothing on the hot path. Only a
            // callsite that may log is asked each time (see above).
            Interest::never()
        } else {
            Interest::sometimes()
        }
    }

    fn on_new_span(&self, attrs: &tracing::span::Attributes<'_>, id: &tracing::span::Id, cx: Context<'_, S>) {
        Filter::on_new_span(&self.0, attrs, id, cx);
    }

    fn on_record(&self, id: &tracing::span::Id, values: &tracing::span::Record<'_>, cx: Context<'_, S>) {
        Filter::on_record(&self.0, id, values, cx);
    }

    fn on_enter(&self, id: &tracing::span::Id, cx: Context<'_, S>) {
        Filter::on_enter(&self.0, id, cx);
    }

    fn on_exit(&self, id: &tracing::span::Id, cx: Context<'_, S>) {
        Filter::on_exit(&self.0, id, cx);
    }

    fn on_close(&self, id: tracing::span::Id, cx: Context<'_, S>) {
        Filter::on_close(&self.0, id, cx);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_line_after_an_enabled_check_that_logged_nothing_is_written() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(move || writer.clone())
                    .with_filter(LogFilter(EnvFilter::new("info"))),
            )
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::sink)
                    .with_filter(LevelFilter::INFO),
            );
        // Global, as in a service (a scoped default takes another path);
        // nextest runs each test in a process of its own.
        // (with `log` records forwarded, as `try_init` does).
        tracing_subscriber::util::SubscriberInitExt::try_init(subscriber).expect("the only subscriber of this process");
        for n in 0..3 {
            // What sqlx asks after each query it does not log.
            let _ = log::log_enabled!(target: "sqlx::query", log::Level::Debug);
            let _ = tracing::enabled!(target: "sqlx::query", tracing::Level::DEBUG);
            tracing::info!(n, "listening");
        }
        let span = tracing::info_span!(target: "dualreport_platform::x", "grpc.server");
        span.in_scope(|| tracing::warn!("inside"));
        let written = String::from_utf8(buffer.0.lock().expect("lock").clone()).expect("utf-8");
        assert_eq!(written.matches("listening").count(), 3, "{written}");
        assert!(
            written.contains("grpc.server") && written.contains("inside"),
            "{written}"
        );
    }
}
