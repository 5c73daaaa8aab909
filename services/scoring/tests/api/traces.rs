//! One trace across services: an award in scoring asks the registry over gRPC;
//! both export their spans over OTLP to a receiver running in this test, and
//! the registry's spans are children of scoring's, in one trace, with their own
//! service names. The registry's log lines carry the same trace id.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dualreport_platform::settings::{LogFormat, TelemetrySettings};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;

use crate::helpers::*;

/// (service.name, span) of every span received.
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<(String, Span)>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.0.lock().expect("lock");
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.as_ref())
                .and_then(|v| match &v.value {
                    Some(Value::StringValue(s)) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    spans.push((service.clone(), span));
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// Multi-threaded: flushing the exporter on drop needs the runtime to keep running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_award_is_one_trace_across_scoring_and_the_registry() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    // This process is scoring: its spans go to the receiver too.
    let guard = dualreport_platform::telemetry::init(
        "scoring",
        &TelemetrySettings {
            log_format: LogFormat::Json,
            log_level: "warn".into(),
            otlp_endpoint: Some(endpoint.clone()),
        },
    )
    .expect("telemetry");
    let suite = spawn_with_registry_env(
        Backend::Sqlite,
        &[
            ("DUALREPORT__TELEMETRY__OTLP_ENDPOINT", endpoint.clone()),
            ("DUALREPORT__TELEMETRY__LOG_LEVEL", "info,sqlx::query=debug".into()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
        ],
    )
    .await;
    let member = suite.registered_member("张敏", suite.a()).await;
    suite.serve(&member, "attendance:traced", 1).await;
    // Shutting the provider down flushes scoring's spans; it blocks until the
    // exporter is done, and the exporter's gRPC channel runs on this runtime —
    // so block a blocking-pool thread, not a runtime worker (on a busy
    // two-core CI machine the flush otherwise starved and lost the spans).
    tokio::task::spawn_blocking(move || drop(guard))
        .await
        .expect("telemetry shutdown");

    let award_name = "dualreport.scoring.v1.ScoringService/RecordService";
    let mut found = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let spans = collector.0.lock().expect("lock").clone();
        let Some((_, award)) = spans
            .iter()
            .find(|(service, s)| service == "scoring" && s.name == award_name)
        else {
            continue;
        };
        let children: Vec<Span> = spans
            .iter()
            .filter(|(service, s)| service == "registry" && s.trace_id == award.trace_id)
            .map(|(_, s)| s.clone())
            .collect();
        if children.iter().any(|s| s.name.ends_with("/GetMember")) {
            found = Some((award.clone(), children));
            break;
        }
    }
    let Some((award, children)) = found else {
        let spans = collector.0.lock().expect("lock").clone();
        let seen: Vec<String> = spans
            .iter()
            .map(|(service, s)| {
                format!(
                    "{service} {} trace={} parent={}",
                    s.name,
                    hex(&s.trace_id),
                    hex(&s.parent_span_id)
                )
            })
            .collect();
        panic!(
            "no award span with registry children in one trace; received:\n{}",
            seen.join("\n")
        );
    };
    assert!(award.parent_span_id.is_empty(), "the award is the trace's root");
    for child in &children {
        assert_eq!(
            child.parent_span_id, award.span_id,
            "{} is a child of the award",
            child.name
        );
    }
    let names: Vec<&str> = children.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains(&"dualreport.registry.v1.RegistryService/GetMember"),
        "{names:?}"
    );
    assert!(
        names.contains(&"dualreport.registry.v1.RegistryService/ListMemberReports"),
        "{names:?}"
    );

    let trace_id = hex(&award.trace_id);
    let logged = suite.registry.logs().iter().any(|line| line.contains(&trace_id));
    assert!(logged, "the registry's log lines carry trace id {trace_id}");
}
