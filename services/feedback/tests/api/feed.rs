use std::time::Duration;

use dualreport_platform::auth::Role;
use dualreport_proto::feedback::v1 as pb;
use dualreport_proto::volunteering::v1 as vpb;
use dualreport_proto::volunteering::v1::volunteering_service_client::VolunteeringServiceClient;
use dualreport_testkit::{admin_token, authed, member_token};
use tonic::Code;

use crate::helpers::{Backend, Suite, assert_invalid, assert_reason, spawn};
use dualreport_testkit::on_both_backends;

fn reports(events: &[pb::Event]) -> Vec<&pb::Event> {
    events.iter().filter(|e| e.kind == "member_report.confirmed").collect()
}

pub(crate) async fn wait_for_reports(suite: &Suite, n: usize) -> Vec<pb::Event> {
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
    several_replicas_ingest_each_fact_once_without_gaps,
    a_district_admin_reads_only_its_districts_events,
);
