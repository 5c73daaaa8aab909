//! One trace across services. The four binaries export their spans over
//! OTLP/gRPC to a receiver running in this test; a community's summary table
//! in feedback reads the registry and scoring, and scoring asks the registry
//! in turn. Every span of that call is in one trace rooted at feedback's
//! server span, each with its own service's name and a parent inside the
//! trace; the services' log lines carry the trace id.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Datelike as _;
use dualreport_platform::auth::Role;
use dualreport_policy::china_today;
use dualreport_proto::feedback::v1 as fpb;
use dualreport_testkit::admin_token;
use dualreport_testkit::registry::{report_and_confirm, unit_member, unit_report_received};
use e2e::{Backend, Suite};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;

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

impl Collector {
    fn of_trace(&self, trace_id: &[u8]) -> Vec<(String, Span)> {
        let spans = self.0.lock().expect("lock");
        spans.iter().filter(|(_, s)| s.trace_id == trace_id).cloned().collect()
    }

    fn root(&self, service: &str, name: &str) -> Option<Span> {
        let spans = self.0.lock().expect("lock");
        spans
            .iter()
            .find(|(s, span)| s == service && span.name == name)
            .map(|(_, span)| span.clone())
    }

    fn dump(&self) -> String {
        let spans = self.0.lock().expect("lock");
        spans
            .iter()
            .map(|(service, s)| {
                format!(
                    "{service} {} trace={} parent={}",
                    s.name,
                    hex(&s.trace_id),
                    hex(&s.parent_span_id)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_summary_table_is_one_trace_across_feedback_registry_and_scoring() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let suite = Suite::start(
        Backend::Sqlite,
        &[
            ("DUALREPORT__TELEMETRY__OTLP_ENDPOINT", endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
            // The per-request log line ("request finished", with trace_id).
            (
                "DUALREPORT__TELEMETRY__LOG_LEVEL",
                "info,dualreport_platform::trace_context=debug".into(),
            ),
            // Fewer background journal reads: their traces are not this test's.
            ("DUALREPORT__FEED__POLL_INTERVAL_MS", "2000".into()),
        ],
    )
    .await;
    let registry = dualreport_testkit::channel(suite.registry.port);
    let year = china_today().year();
    let a = suite.city.community_a.id.clone();
    let member = unit_member(&registry, &suite.city, "周迹", &a).await.id;
    report_and_confirm(&registry, &member, &a, year, "第一党支部").await;
    unit_report_received(&registry, &suite.city.unit.id, &a, year).await;

    suite
        .feedback(&admin_token(Role::CommunityAdmin, &a))
        .get_summary_table(fpb::GetSummaryTableRequest {
            unit_org_id: suite.city.unit.id.clone(),
            community_id: a.clone(),
            period: Some(fpb::Period { year, half: 0 }),
        })
        .await
        .expect("summary");

    let summary = "dualreport.feedback.v1.FeedbackService/GetSummaryTable";
    // Each process exports every 100 ms; the root ends last, but a peer's
    // batch may still be on its way: once the root and both peers' spans are
    // in, give stragglers a few more export rounds.
    let mut trace = Vec::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let Some(root) = collector.root("feedback", summary) else {
            continue;
        };
        let services: HashSet<String> = collector.of_trace(&root.trace_id).into_iter().map(|(s, _)| s).collect();
        if services.len() == 3 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            trace = collector.of_trace(&root.trace_id);
            break;
        }
    }
    assert!(
        !trace.is_empty(),
        "no {summary} span from feedback; received:\n{}",
        collector.dump()
    );
    let services: HashSet<&str> = trace.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        services,
        HashSet::from(["feedback", "registry", "scoring"]),
        "received:\n{}",
        collector.dump()
    );

    // One root: feedback's server span. Every other span's parent is in the trace.
    let roots: Vec<&(String, Span)> = trace.iter().filter(|(_, s)| s.parent_span_id.is_empty()).collect();
    assert_eq!(roots.len(), 1, "received:\n{}", collector.dump());
    let (root_service, root) = roots[0];
    assert_eq!((root_service.as_str(), root.name.as_str()), ("feedback", summary));
    let ids: HashSet<&[u8]> = trace.iter().map(|(_, s)| s.span_id.as_slice()).collect();
    for (service, span) in &trace {
        assert!(
            span.parent_span_id.is_empty() || ids.contains(span.parent_span_id.as_slice()),
            "{service} {} has a parent outside the trace",
            span.name
        );
    }
    // Feedback called both peers directly: their server spans are its children.
    for peer in ["registry", "scoring"] {
        assert!(
            trace.iter().any(|(service, span)| service == peer
                && span.parent_span_id == root.span_id
                && span.name.starts_with(&format!("dualreport.{peer}.v1."))),
            "no {peer} server span under feedback's; received:\n{}",
            collector.dump()
        );
    }

    let trace_id = hex(&root.trace_id);
    for process in [&suite.feedback, &suite.registry, &suite.scoring] {
        assert!(
            process.logs().iter().any(|line| line.contains(&trace_id)),
            "{}'s log lines carry trace id {trace_id}",
            process.name
        );
    }
}
