//! One trace across services. The four binaries export their spans over
//! OTLP/gRPC to a receiver running in this test. A community's summary table
//! in feedback reads the registry and scoring: every span of that call is in
//! one trace rooted at feedback's server span, each with its own service's
//! name and a parent inside the trace, and the services' log lines carry the
//! trace id. A confirmed attendance is paid to scoring later, by the outbox
//! relay: the payment joins the confirmation's trace.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Datelike as _;
use dualreport_platform::auth::Role;
use dualreport_policy::china_today;
use dualreport_proto::feedback::v1 as fpb;
use dualreport_proto::volunteering::v1 as vpb;
use dualreport_testkit::registry::{report_and_confirm, unit_member, unit_report_received};
use dualreport_testkit::{admin_token, member_token};
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

/// The suite (with `env` besides) exporting its spans to a receiver in this test.
async fn exporting_suite(env: &[(&str, String)]) -> (Collector, Suite) {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let mut all = vec![
        ("DUALREPORT__TELEMETRY__OTLP_ENDPOINT", endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
        // Fewer background journal reads: their traces are not these tests'.
        ("feedback:DUALREPORT__FEED__POLL_INTERVAL_MS", "2000".into()),
    ];
    all.extend(env.iter().cloned());
    (collector, Suite::start(Backend::Sqlite, &all).await)
}

/// The suite exporting to a receiver in this test, with a member of the city's
/// unit reported at community A and the unit paired with A.
async fn traced_suite() -> (Collector, Suite, String) {
    let (collector, suite) = exporting_suite(&[
        // The per-request log line ("request finished", with trace_id).
        (
            "DUALREPORT__TELEMETRY__LOG_LEVEL",
            "info,dualreport_platform::trace_context=debug".into(),
        ),
    ])
    .await;
    let registry = dualreport_testkit::channel(suite.registry.port);
    let year = china_today().year();
    let a = suite.city.community_a.id.clone();
    let member = unit_member(&registry, &suite.city, "周迹", &a).await.id;
    report_and_confirm(&registry, &member, &a, year, "第一党支部").await;
    unit_report_received(&registry, &suite.city.unit.id, &a, year).await;
    (collector, suite, member)
}

/// The trace rooted at `service`'s span `root`, once spans from each of
/// `services` are in it. Each process exports every 100 ms and the root may
/// end before a peer's batch arrives: then a few more rounds for stragglers.
/// Checks that it has that one root and every other span's parent is in it.
async fn trace_of(collector: &Collector, service: &str, root: &str, services: &[&str]) -> (Span, Vec<(String, Span)>) {
    let expected: HashSet<&str> = services.iter().copied().collect();
    let mut found = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let Some(span) = collector.root(service, root) else {
            continue;
        };
        let seen: HashSet<String> = collector.of_trace(&span.trace_id).into_iter().map(|(s, _)| s).collect();
        if expected.iter().all(|s| seen.contains(*s)) {
            tokio::time::sleep(Duration::from_millis(500)).await;
            found = Some(span);
            break;
        }
    }
    let Some(root_span) = found else {
        panic!(
            "no trace under {service} {root} with spans from {services:?}; received:\n{}",
            collector.dump()
        );
    };
    let trace = collector.of_trace(&root_span.trace_id);
    let seen: HashSet<&str> = trace.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(seen, expected, "received:\n{}", collector.dump());
    let roots: Vec<&(String, Span)> = trace.iter().filter(|(_, s)| s.parent_span_id.is_empty()).collect();
    assert_eq!(roots.len(), 1, "one root; received:\n{}", collector.dump());
    assert_eq!((roots[0].0.as_str(), roots[0].1.name.as_str()), (service, root));
    let ids: HashSet<&[u8]> = trace.iter().map(|(_, s)| s.span_id.as_slice()).collect();
    for (service, span) in &trace {
        assert!(
            span.parent_span_id.is_empty() || ids.contains(span.parent_span_id.as_slice()),
            "{service} {} has a parent outside the trace",
            span.name
        );
    }
    (root_span, trace)
}

/// The first span of `service` named `name` whose parent is `parent`.
fn child<'a>(trace: &'a [(String, Span)], parent: &Span, service: &str, name: &str) -> Option<&'a Span> {
    trace
        .iter()
        .find(|(s, span)| s == service && span.parent_span_id == parent.span_id && span.name.starts_with(name))
        .map(|(_, span)| span)
}

#[tokio::test]
async fn a_summary_table_is_one_trace_across_feedback_registry_and_scoring() {
    let (collector, suite, _) = traced_suite().await;
    let year = china_today().year();
    let a = suite.city.community_a.id.clone();
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
    let (root, trace) = trace_of(&collector, "feedback", summary, &["feedback", "registry", "scoring"]).await;
    // Feedback called both peers directly: their server spans are its children.
    for peer in ["registry", "scoring"] {
        assert!(
            child(&trace, &root, peer, &format!("dualreport.{peer}.v1.")).is_some(),
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

#[tokio::test]
async fn a_confirmation_and_its_payment_by_the_outbox_are_one_trace() {
    let (collector, suite, member) = traced_suite().await;
    let a = suite.city.community_a.id.clone();
    let mut admin = suite.volunteering(&admin_token(Role::CommunityAdmin, &a));
    let now = chrono::Utc::now().timestamp();
    let activity = admin
        .create_activity(vpb::CreateActivityRequest {
            community_id: a.clone(),
            kind: vpb::ActivityKind::Regular.into(),
            title: "义诊".into(),
            content: "测量血压".into(),
            place: "社区卫生站".into(),
            start_time: Some(prost_types::Timestamp {
                seconds: now - 600,
                nanos: 0,
            }),
            end_time: Some(prost_types::Timestamp {
                seconds: now + 3600,
                nanos: 0,
            }),
            capacity: 5,
            organiser: "第一党支部".into(),
            ..Default::default()
        })
        .await
        .expect("activity")
        .into_inner()
        .activity
        .expect("activity");
    let code = admin
        .issue_check_in_code(vpb::IssueCheckInCodeRequest {
            activity_id: activity.id.clone(),
        })
        .await
        .expect("code")
        .into_inner()
        .code;
    let attendance = suite
        .volunteering(&member_token(&member))
        .check_in(vpb::CheckInRequest {
            activity_id: activity.id,
            member_id: member.clone(),
            code,
        })
        .await
        .expect("check in")
        .into_inner()
        .attendance
        .expect("attendance");
    admin
        .confirm_attendance(vpb::ConfirmAttendanceRequest {
            attendance_id: attendance.id,
            ..Default::default()
        })
        .await
        .expect("confirm");

    let confirm = "dualreport.volunteering.v1.VolunteeringService/ConfirmAttendance";
    let (root, trace) = trace_of(
        &collector,
        "volunteering",
        confirm,
        &["volunteering", "scoring", "registry"],
    )
    .await;
    let pay = child(&trace, &root, "volunteering", "outbox.pay")
        .unwrap_or_else(|| panic!("no outbox.pay under the confirmation; received:\n{}", collector.dump()));
    let award = child(
        &trace,
        pay,
        "scoring",
        "dualreport.scoring.v1.ScoringService/RecordService",
    )
    .unwrap_or_else(|| panic!("no RecordService under outbox.pay; received:\n{}", collector.dump()));
    assert!(
        child(&trace, award, "registry", "dualreport.registry.v1.").is_some(),
        "scoring's registry lookups are under its award; received:\n{}",
        collector.dump()
    );
}

/// The `rpc.grpc.timeout_ms` a server span recorded: the deadline the call
/// arrived with.
fn timeout_ms(span: &Span) -> Option<i64> {
    span.attributes
        .iter()
        .find(|a| a.key == "rpc.grpc.timeout_ms")
        .and_then(|a| a.value.as_ref())
        .and_then(|v| match &v.value {
            Some(Value::IntValue(ms)) => Some(*ms),
            _ => None,
        })
}

/// A member's registration table asked of feedback goes feedback → scoring
/// → registry. With a 300 ms deadline from the caller and peer timeouts of
/// 30 s, each hop arrives with what the caller has left, never the peer
/// timeout: scoring's call is bounded by feedback's caller, registry's by
/// scoring's. (A call that does not finish in 300 ms on a busy machine is
/// asked again with a fresh trace; the assertion is on the deadlines carried.)
#[tokio::test]
async fn a_callers_deadline_bounds_every_hop_below_it() {
    let (collector, suite) = exporting_suite(&[
        ("feedback:DUALREPORT__SCORING__TIMEOUT_MS", "30000".into()),
        ("scoring:DUALREPORT__REGISTRY__TIMEOUT_MS", "30000".into()),
        // Every call asks the registry (no cached member), so the third hop happens.
        ("scoring:DUALREPORT__DIRECTORY__CACHE_TTL_SECS", "0".into()),
    ])
    .await;
    let registry = dualreport_testkit::channel(suite.registry.port);
    let year = china_today().year();
    let a = suite.city.community_a.id.clone();
    let member = unit_member(&registry, &suite.city, "限时", &a).await.id;
    report_and_confirm(&registry, &member, &a, year, "第一党支部").await;
    let half = if china_today().month() <= 6 { 1 } else { 2 };
    let ask = |trace: u128| {
        let mut request = tonic::Request::new(fpb::ExportTableRequest {
            kind: fpb::TableKind::Registration.into(),
            format: fpb::ExportFormat::Csv.into(),
            member_id: member.clone(),
            community_id: a.clone(),
            period: Some(fpb::Period { year, half }),
            ..Default::default()
        });
        request.set_timeout(Duration::from_millis(300));
        let traceparent = format!("00-{trace:032x}-{:016x}-01", 0x1234_5678_u64);
        request
            .metadata_mut()
            .insert("traceparent", traceparent.parse().expect("ascii"));
        let mut client = suite.feedback(&member_token(&member));
        async move { client.export_table(request).await }
    };
    // Warm the connections, then ask within 300 ms.
    let _ = ask(1).await;
    let mut answered = None;
    for attempt in 0..5u128 {
        let trace = 0xdead_0000_0000_0000_0000_0000_0000_0000 + attempt;
        match ask(trace).await {
            Ok(_) => {
                answered = Some(trace.to_be_bytes().to_vec());
                break;
            }
            Err(status) => assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}"),
        }
    }
    let trace_id = answered.expect("one of five calls finished within 300 ms");
    let mut spans = Vec::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        spans = collector.of_trace(&trace_id);
        let services: HashSet<&str> = spans.iter().map(|(s, _)| s.as_str()).collect();
        if ["feedback", "scoring", "registry"].iter().all(|s| services.contains(s)) {
            break;
        }
    }
    let server = |service: &str, path: &str| -> Span {
        spans
            .iter()
            .find(|(s, span)| s == service && span.name.starts_with(path))
            .map(|(_, span)| span.clone())
            .unwrap_or_else(|| panic!("no {service} {path} span; received:\n{}", collector.dump()))
    };
    let feedback = server("feedback", "dualreport.feedback.v1.FeedbackService/ExportTable");
    let scoring = server("scoring", "dualreport.scoring.v1.ScoringService/GetRegistrationTable");
    let registry = server("registry", "dualreport.registry.v1.");
    let (f, s, r) = (timeout_ms(&feedback), timeout_ms(&scoring), timeout_ms(&registry));
    assert!(
        f.is_some_and(|f| f <= 300),
        "feedback arrived with {f:?} ms; its span's attributes: {:?}",
        feedback.attributes
    );
    assert!(
        s.is_some_and(|s| s <= f.unwrap_or(0)),
        "scoring arrived with {s:?} ms, not more than feedback's {f:?} (its own peer timeout is 30 s)"
    );
    assert!(
        r.is_some_and(|r| r <= s.unwrap_or(0)),
        "registry arrived with {r:?} ms, not more than scoring's {s:?}"
    );
}
