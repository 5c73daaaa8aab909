use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dualreport_platform::auth::Role;
use dualreport_proto::feedback::v1 as pb;
use dualreport_proto::volunteering::v1 as vpb;
use dualreport_proto::volunteering::v1::volunteering_service_client::VolunteeringServiceClient;
use dualreport_testkit::{admin_token, authed, member_token};
use http_body_util::{BodyExt, Full};
use tonic::Code;

use crate::helpers::{Backend, Suite, assert_invalid, assert_reason, spawn, spawn_with};
use dualreport_testkit::on_both_backends;

fn reports(events: &[pb::Event]) -> Vec<&pb::Event> {
    events.iter().filter(|e| e.kind == "member_report.confirmed").collect()
}

async fn wait_for_reports(suite: &Suite, n: usize) -> Vec<pb::Event> {
    for _ in 0..200 {
        let all = suite.backlog("").await;
        if reports(&all).len() >= n {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} confirmed reports reached the feed");
}

async fn watch_resumes_from_a_cursor_without_gaps_or_repeats(backend: Backend) {
    let suite = spawn(backend).await;
    for name in ["甲", "乙", "丙"] {
        suite.registered_member(name, suite.a()).await;
    }
    let first = wait_for_reports(&suite, 3).await;
    let confirmed = reports(&first);
    assert!(
        confirmed
            .iter()
            .all(|e| e.source == "registry" && e.community_id == suite.a())
    );
    assert!(
        confirmed
            .iter()
            .all(|e| e.district_id == suite.city.district.id && e.unit_org_id == suite.unit())
    );
    let resume_at = first[1].cursor.clone();

    for name in ["丁", "戊"] {
        suite.registered_member(name, suite.a()).await;
    }
    let all = wait_for_reports(&suite, 5).await;
    let resumed = suite.backlog(&resume_at).await;
    assert_eq!(resumed, all[2..].to_vec(), "exactly the events after the cursor");
    let cursors: Vec<&String> = all.iter().map(|e| &e.cursor).collect();
    let mut unique = cursors.clone();
    unique.dedup();
    assert_eq!(unique.len(), cursors.len(), "no event repeated");
    let subjects: std::collections::HashSet<&String> = reports(&all).iter().map(|e| &e.subject_id).collect();
    assert_eq!(subjects.len(), 5, "each confirmation once");

    // A live stream from the newest cursor gets what happens next.
    let last = all.last().expect("events").cursor.clone();
    let mut live = suite
        .cloud()
        .watch_events(pb::WatchEventsRequest {
            cursor: last,
            backlog_only: false,
        })
        .await
        .expect("watch")
        .into_inner();
    let newcomer = suite.registered_member("己", suite.a()).await;
    let next = tokio::time::timeout(Duration::from_secs(20), live.message())
        .await
        .expect("an event within 20 s")
        .expect("stream")
        .expect("item")
        .event
        .expect("event");
    assert_eq!(next.kind, "member_report.confirmed");
    assert_eq!(next.member_id, newcomer);

    // Cursors the feed never issued.
    for cursor in ["garbage", "ev1.-1", "ev1.999999999"] {
        let status = suite
            .cloud()
            .watch_events(pb::WatchEventsRequest {
                cursor: cursor.into(),
                backlog_only: true,
            })
            .await
            .expect_err(cursor);
        assert_invalid(&status, "cursor");
    }
    let status = suite
        .member(&newcomer)
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .expect_err("members do not read the feed");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
}

async fn confirmed_service_reaches_the_feed_with_evidence_and_the_card(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("钱志", suite.a()).await;
    let channel = dualreport_testkit::channel(suite.volunteering.port);
    let mut admin =
        VolunteeringServiceClient::new(authed(channel.clone(), &admin_token(Role::CommunityAdmin, suite.a())));
    let mut as_member = VolunteeringServiceClient::new(authed(channel, &member_token(&member)));
    let now = chrono::Utc::now().timestamp();
    let activity = admin
        .create_activity(vpb::CreateActivityRequest {
            community_id: suite.a().into(),
            kind: vpb::ActivityKind::Regular.into(),
            title: "楼道清洁".into(),
            content: "清理楼道杂物".into(),
            place: "3号楼".into(),
            start_time: Some(prost_types::Timestamp {
                seconds: now - 1800,
                nanos: 0,
            }),
            end_time: Some(prost_types::Timestamp {
                seconds: now + 1800,
                nanos: 0,
            }),
            capacity: 10,
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
    let attendance = as_member
        .check_in(vpb::CheckInRequest {
            activity_id: activity.id.clone(),
            member_id: member.clone(),
            code,
        })
        .await
        .expect("check in")
        .into_inner()
        .attendance
        .expect("attendance");
    let evidence = admin
        .upload_evidence(vpb::UploadEvidenceRequest {
            community_id: suite.a().into(),
            kind: vpb::EvidenceKind::Text.into(),
            text: "楼道杂物已清理完毕，居民满意".into(),
            ..Default::default()
        })
        .await
        .expect("evidence")
        .into_inner()
        .evidence
        .expect("evidence");
    admin
        .confirm_attendance(vpb::ConfirmAttendanceRequest {
            attendance_id: attendance.id.clone(),
            note: "认真负责".into(),
            evidence_ids: vec![evidence.id.clone()],
            ..Default::default()
        })
        .await
        .expect("confirm");

    let event = suite
        .wait_for_event("attendance.confirmed", |e| e.kind == "attendance.confirmed")
        .await;
    assert_eq!(event.source, "volunteering");
    assert_eq!(event.subject_id, attendance.id);
    assert_eq!(event.member_id, member);
    assert_eq!(event.unit_org_id, suite.unit(), "filled in from the registry");
    assert_eq!(event.evidence_ids, [evidence.id]);
    assert!(
        event.text.contains("楼道清洁") && event.text.contains("认真负责"),
        "{}",
        event.text
    );

    let card = suite
        .member(&member)
        .get_performance_card(pb::GetPerformanceCardRequest {
            member_id: member.clone(),
            year: suite.year,
        })
        .await
        .expect("card")
        .into_inner()
        .card
        .expect("card");
    assert_eq!(card.name, "钱志");
    assert_eq!(card.services, 1);
    assert_eq!(card.lines.len(), 1);
    assert_eq!(
        (card.lines[0].activity_kind.as_str(), card.lines[0].way.as_str()),
        ("REGULAR", "activity")
    );
    assert_eq!(card.entries[0].title, "楼道清洁");
}

/// (signature header, cursor header, body) of one accepted POST.
type Delivery = (String, String, Vec<u8>);

/// A webhook receiver: records what it accepts, answers 500 while `failing`
/// is set (out of reach) and 400 while `rejecting` is (refuses the event).
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Delivery>>>,
    failing: Arc<Mutex<bool>>,
    rejecting: Arc<Mutex<bool>>,
}

impl Receiver {
    fn got(&self, member: &str) -> bool {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .any(|(_, _, body)| String::from_utf8_lossy(body).contains(member))
    }
}

async fn serve(receiver: Receiver) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let receiver = receiver.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let receiver = receiver.clone();
                    async move {
                        let header = |name: &str| {
                            request
                                .headers()
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned()
                        };
                        let (signature, cursor) = (header("x-dualreport-signature"), header("x-dualreport-cursor"));
                        let body = request
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes().to_vec())
                            .unwrap_or_default();
                        let failing = *receiver.failing.lock().expect("lock");
                        let rejecting = *receiver.rejecting.lock().expect("lock");
                        let status = if failing {
                            hyper::StatusCode::INTERNAL_SERVER_ERROR
                        } else if rejecting {
                            hyper::StatusCode::BAD_REQUEST
                        } else {
                            receiver.received.lock().expect("lock").push((signature, cursor, body));
                            hyper::StatusCode::OK
                        };
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .status(status)
                                .body(Full::new(bytes_of("ok")))
                                .expect("response"),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    port
}

fn bytes_of(text: &'static str) -> hyper::body::Bytes {
    hyper::body::Bytes::from_static(text.as_bytes())
}

const SECRET: &str = "0123456789abcdef0123456789abcdef";

async fn the_webhook_signs_retries_and_replays(backend: Backend) {
    let suite = spawn_with(backend, |s| s.webhook.allow_http = true).await;
    let receiver = Receiver::default();
    let port = serve(receiver.clone()).await;
    let hook = suite
        .city_admin()
        .set_webhook(pb::SetWebhookRequest {
            url: format!("http://127.0.0.1:{port}/dangjianyun"),
            secret: SECRET.into(),
        })
        .await
        .expect("set webhook")
        .into_inner()
        .webhook
        .expect("webhook");
    assert!(hook.enabled);

    let member = suite.registered_member("冯钩", suite.a()).await;
    let mut delivered = None;
    for _ in 0..200 {
        let got = receiver.received.lock().expect("lock").clone();
        if let Some(found) = got
            .into_iter()
            .find(|(_, _, body)| String::from_utf8_lossy(body).contains(&member))
        {
            delivered = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (signature, cursor, body) = delivered.expect("the webhook got the confirmation");
    assert_eq!(signature, feedback::domain::signature(SECRET.as_bytes(), &body));
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(json["kind"], "member_report.confirmed");
    assert_eq!(json["cursor"], cursor.as_str());

    // The receiver is out of reach: the event is listed as a failed delivery,
    // and delivery resumes from it by itself once the receiver answers.
    *receiver.failing.lock().expect("lock") = true;
    let unlucky = suite.registered_member("褚败", suite.a()).await;
    let failure = wait_for_failed(&suite, &unlucky).await;
    assert!(failure.attempts >= 2, "{failure:?}");
    assert!(failure.last_error.contains("500"), "{}", failure.last_error);
    *receiver.failing.lock().expect("lock") = false;
    eventually(|| receiver.got(&unlucky)).await;
    let late = suite.registered_member("魏迟", suite.a()).await;
    eventually(|| receiver.got(&late)).await;
    assert!(
        failed_of(&suite, &unlucky).await.is_none(),
        "delivered, so no longer failed"
    );

    // The receiver refuses one event (400): it is kept for replay and the feed
    // moves past it; a replay delivers it once the receiver accepts it.
    *receiver.rejecting.lock().expect("lock") = true;
    let refused = suite.registered_member("蒋拒", suite.a()).await;
    let failure = wait_for_failed(&suite, &refused).await;
    assert!(failure.last_error.contains("400"), "{}", failure.last_error);
    *receiver.rejecting.lock().expect("lock") = false;
    let next = suite.registered_member("沈后", suite.a()).await;
    eventually(|| receiver.got(&next)).await;
    assert!(!receiver.got(&refused));
    let replay = suite
        .city_admin()
        .replay_delivery(pb::ReplayDeliveryRequest {
            delivery_id: failure.id.clone(),
        })
        .await
        .expect("replay")
        .into_inner();
    assert!(replay.delivered, "{}", replay.error);
    assert!(failed_of(&suite, &refused).await.is_none());
    assert!(receiver.got(&refused));
}

/// Waits (up to 20 s) until `done` holds.
async fn eventually(done: impl Fn() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("it never happened");
}

async fn failed_of(suite: &Suite, member: &str) -> Option<pb::FailedDelivery> {
    suite
        .city_admin()
        .list_failed_deliveries(pb::ListFailedDeliveriesRequest::default())
        .await
        .expect("list failed")
        .into_inner()
        .deliveries
        .into_iter()
        .find(|d| d.event.as_ref().is_some_and(|e| e.member_id == member))
}

async fn wait_for_failed(suite: &Suite, member: &str) -> pb::FailedDelivery {
    for _ in 0..200 {
        if let Some(failure) = failed_of(suite, member).await {
            return failure;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no failed delivery for {member}");
}

/// Three replicas on one database: each journal fact is ingested once, and
/// the feed's sequence has no gaps (one replica at a time reads the journals),
/// so a cursor-based backlog counts what is really left.
async fn several_replicas_ingest_each_fact_once_without_gaps(backend: Backend) {
    let suite = spawn(backend).await;
    let _second = suite.replica().await;
    let _third = suite.replica().await;
    for i in 0..8 {
        suite.registered_member(&format!("多副本{i}"), suite.a()).await;
    }
    wait_for_reports(&suite, 8).await;
    // A few more rounds of every replica, then the whole feed.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = suite.backlog("").await;
    assert_eq!(reports(&all).len(), 8, "each confirmation once");
    let sequences: Vec<i64> = all
        .iter()
        .map(|e| feedback::domain::parse_cursor(&e.cursor).expect("cursor"))
        .collect();
    let expected: Vec<i64> = (1..=i64::try_from(sequences.len()).expect("len")).collect();
    assert_eq!(sequences, expected, "no gaps in the feed's sequence");
}

/// A webhook set after it was off starts after the newest event: the new
/// receiver gets nothing of what happened before it.
async fn a_new_webhook_starts_after_the_newest_event(backend: Backend) {
    let suite = spawn_with(backend, |s| s.webhook.allow_http = true).await;
    let first = Receiver::default();
    let first_port = serve(first.clone()).await;
    let set = |port: u16| pb::SetWebhookRequest {
        url: if port == 0 {
            String::new()
        } else {
            format!("http://127.0.0.1:{port}/hook")
        },
        secret: SECRET.into(),
    };
    suite.city_admin().set_webhook(set(first_port)).await.expect("set");
    let early = suite.registered_member("韩早", suite.a()).await;
    eventually(|| first.got(&early)).await;
    suite.city_admin().set_webhook(set(0)).await.expect("turn off");
    let mut meanwhile = Vec::new();
    for i in 0..3 {
        meanwhile.push(suite.registered_member(&format!("杨间{i}"), suite.a()).await);
    }
    wait_for_reports(&suite, 4).await;
    let second = Receiver::default();
    let second_port = serve(second.clone()).await;
    suite
        .city_admin()
        .set_webhook(set(second_port))
        .await
        .expect("set again");
    let fresh = suite.registered_member("朱新", suite.a()).await;
    eventually(|| second.got(&fresh)).await;
    let got = second.received.lock().expect("lock").len();
    assert_eq!(got, 1, "only what happened after it was set");
    assert!(!meanwhile.iter().any(|m| second.got(m)) && !second.got(&early));
}

/// A district admin's feed holds its own district's events only; the
/// cloud's holds every district's.
async fn a_district_admin_reads_only_its_districts_events(backend: Backend) {
    use dualreport_proto::registry::v1::OrganizationType as T;
    let suite = spawn(backend).await;
    let mut city = dualreport_testkit::registry::client(&suite.registry_channel, &admin_token(Role::CityAdmin, "city"));
    let create = dualreport_testkit::registry::create_org;
    let other = create(&mut city, "二七区", T::District, "city").await;
    let street = create(&mut city, "淮河路街道", T::Street, &other.id).await;
    let community = create(&mut city, "民主路社区", T::Community, &street.id).await;
    let ours = suite.registered_member("甲", suite.a()).await;
    let theirs = suite.registered_member("乙", &community.id).await;
    let all = wait_for_reports(&suite, 2).await;
    assert!(
        all.iter().any(|e| e.member_id == theirs),
        "the cloud sees the other district"
    );

    let mut stream = suite
        .district_admin()
        .watch_events(pb::WatchEventsRequest {
            cursor: String::new(),
            backlog_only: true,
        })
        .await
        .expect("a district admin watches")
        .into_inner();
    let mut seen = Vec::new();
    while let Some(item) = stream.message().await.expect("stream item") {
        seen.push(item.event.expect("event"));
    }
    assert!(seen.iter().any(|e| e.member_id == ours), "its own district's report");
    assert!(
        seen.iter().all(|e| e.district_id == suite.city.district.id),
        "nothing of another district: {seen:?}"
    );
}

on_both_backends!(
    watch_resumes_from_a_cursor_without_gaps_or_repeats,
    confirmed_service_reaches_the_feed_with_evidence_and_the_card,
    the_webhook_signs_retries_and_replays,
    a_new_webhook_starts_after_the_newest_event,
    several_replicas_ingest_each_fact_once_without_gaps,
    a_district_admin_reads_only_its_districts_events,
);
