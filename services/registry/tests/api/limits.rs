//! Limits that keep a replica up under load: admission, deadlines, message sizes, idle and open streams.

use dualreport_platform::auth::Role;
use dualreport_proto::registry::v1 as pb;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::*;

async fn requests_beyond_the_concurrency_limit_are_shed(backend: Backend) {
    let app = spawn_with(backend, |s| s.server.concurrency_limit = Some(1)).await;
    let mut city = app.city();
    // An open client stream holds the only permit.
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::ImportMembersRequest>(1);
    let mut importer = city.clone();
    let open = tokio::spawn(async move {
        let mut replies = importer
            .import_members(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await?
            .into_inner();
        while replies.message().await?.is_some() {}
        Ok::<_, tonic::Status>(())
    });
    let mut shed = None;
    for _ in 0..50 {
        match city.get_policy(pb::GetPolicyRequest {}).await {
            Err(status) => {
                shed = Some(status);
                break;
            }
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    let status = shed.expect("a request was shed while the stream was open");
    assert_reason(&status, Code::ResourceExhausted, "ERROR_REASON_OVERLOADED");
    drop(tx);
    open.await.expect("join").expect("import of nothing");
    city.get_policy(pb::GetPolicyRequest {})
        .await
        .expect("served again once the permit is free");
}

async fn an_import_batch_past_the_deadline_is_cut_off_and_leaves_nothing(backend: Backend) {
    // The deadline bounds each batch of an import stream, not the stream.
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let app = app.restart_with(|s| s.server.request_timeout_ms = 1).await;
    let rows: Vec<_> = (0..5_000)
        .map(|i| dualreport_testkit::registry::profile(&format!("成员{i}"), &city.unit.id, &city.community_a.id))
        .collect();
    let mut replies = app
        .city()
        .import_members(tokio_stream::iter(vec![pb::ImportMembersRequest {
            request_id: "slow".into(),
            rows,
        }]))
        .await
        .expect("the stream opens")
        .into_inner();
    let status = replies.message().await.expect_err("cut off");
    assert_reason(&status, Code::DeadlineExceeded, "ERROR_REASON_BATCH_TOO_SLOW");
    let app = app.restart_with(|s| s.server.request_timeout_ms = 10_000).await;
    let listed = app
        .city()
        .list_members(pb::ListMembersRequest {
            unit_org_id: city.unit.id.clone(),
            ..Default::default()
        })
        .await
        .expect("the server carries on")
        .into_inner();
    assert!(listed.members.is_empty(), "nothing of the batch was kept");
}

/// The deadline bounds every call, except the few whose work grows with a
/// district (district statistics), which get the long-request budget.
pub(crate) async fn district_statistics_get_the_long_deadline_and_other_calls_do_not(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let rows: Vec<_> = (0..5_000)
        .map(|i| dualreport_testkit::registry::profile(&format!("成员{i}"), &city.unit.id, &city.community_a.id))
        .collect();
    let replies = dualreport_testkit::registry::import(
        &mut app.city(),
        vec![pb::ImportMembersRequest {
            request_id: "roster".into(),
            rows,
        }],
    )
    .await;
    assert!(replies[0].committed);
    let app = app.restart_with(|s| s.server.request_timeout_ms = 1).await;
    let status = app
        .city()
        .list_not_reported_members(pb::ListNotReportedMembersRequest {
            org_id: city.district.id.clone(),
            year: this_year(),
            page_size: 500,
            page_token: String::new(),
        })
        .await
        .expect_err("past the 1 ms deadline");
    assert_eq!(status.code(), Code::Cancelled, "{status:?}");
    // On SQLite's one connection the cut-off query may still hold it for a
    // moment (the call then answers the retryable UNAVAILABLE): retry that.
    let mut answer = None;
    for _ in 0..5 {
        match app
            .city()
            .get_report_statistics(pb::GetReportStatisticsRequest {
                org_id: city.district.id.clone(),
                year: this_year(),
                ..Default::default()
            })
            .await
        {
            Err(status) if status.code() == Code::Unavailable => continue,
            other => {
                answer = Some(other);
                break;
            }
        }
    }
    let stats = answer
        .expect("answered")
        .expect("long-running: answered within server.long_request_timeout_ms")
        .into_inner();
    assert!(stats.units.iter().any(|u| u.registered_members == 5_000));
}

async fn messages_over_the_limit_are_refused(backend: Backend) {
    let app = spawn(backend).await;
    let status = app
        .city()
        .get_organization(pb::GetOrganizationRequest {
            organization_id: "x".repeat(5 * 1024 * 1024),
        })
        .await
        .expect_err("over 4 MiB");
    assert_reason(&status, Code::ResourceExhausted, "ERROR_REASON_MESSAGE_TOO_LARGE");
    app.city()
        .get_policy(pb::GetPolicyRequest {})
        .await
        .expect("the server carries on");
}

/// An opened client stream that sends nothing gives its permit back after
/// `server.request_idle_timeout_ms`, long before the request timeout.
async fn idle_client_streams_end_early(backend: Backend) {
    let app = spawn_with(backend, |s| {
        s.server.concurrency_limit = Some(1);
        s.server.request_idle_timeout_ms = 300;
    })
    .await;
    let (_tx, rx) = tokio::sync::mpsc::channel::<pb::ImportMembersRequest>(1);
    let started = std::time::Instant::now();
    let status = app
        .city()
        .import_members(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("the stream opens")
        .into_inner()
        .message()
        .await
        .expect_err("idle stream ended");
    assert_reason(&status, Code::DeadlineExceeded, "ERROR_REASON_REQUEST_IDLE");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "ended by the idle timeout"
    );
    app.city()
        .get_policy(pb::GetPolicyRequest {})
        .await
        .expect("the permit is free again");
}

/// One caller holding its share of the limit is shed; others are served, and
/// health is never shed (a busy pod must still pass its probes).
async fn one_caller_cannot_starve_the_others(backend: Backend) {
    let app = spawn_with(backend, |s| {
        s.server.concurrency_limit = Some(2);
        s.server.per_caller_concurrency_limit = Some(1);
    })
    .await;
    let hog = app.city();
    let (_hold, rx) = tokio::sync::mpsc::channel::<pb::ImportMembersRequest>(1);
    let mut importer = hog.clone();
    let _open = tokio::spawn(async move {
        importer
            .import_members(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
    });
    let mut refused = None;
    for _ in 0..50 {
        match hog.clone().get_policy(pb::GetPolicyRequest {}).await {
            Err(status) => {
                refused = Some(status);
                break;
            }
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    let status = refused.expect("the hog's second call is shed");
    assert_reason(&status, Code::ResourceExhausted, "ERROR_REASON_OVERLOADED");
    app.admin(Role::DistrictAdmin, "city")
        .get_policy(pb::GetPolicyRequest {})
        .await
        .expect("another caller is served");

    // A second hog takes the last permit: now health must still answer.
    let (_hold2, rx2) = tokio::sync::mpsc::channel::<pb::ImportMembersRequest>(1);
    let mut second = app.admin(Role::StreetAdmin, "city");
    let _open2 = tokio::spawn(async move {
        second
            .import_members(tokio_stream::wrappers::ReceiverStream::new(rx2))
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut health = HealthClient::new(app.channel.clone());
    for _ in 0..10 {
        let reply = health
            .check(HealthCheckRequest { service: String::new() })
            .await
            .expect("health is not shed");
        assert_eq!(reply.into_inner().status, ServingStatus::Serving as i32);
    }
}

/// SIGTERM ends an open `Health/Watch` stream with `UNAVAILABLE` at once, so
/// the pod exits in well under the drain deadline.
#[tokio::test]
async fn open_streams_end_on_shutdown() {
    let mut registry =
        dualreport_testkit::registry::start_registry_with(&[("DUALREPORT__SERVER__DRAIN_TIMEOUT_MS", "20000".into())]);
    let channel = dualreport_testkit::channel(registry.port);
    let mut watch = HealthClient::new(channel)
        .watch(HealthCheckRequest { service: String::new() })
        .await
        .expect("watch")
        .into_inner();
    let first = watch.message().await.expect("first status").expect("a status");
    assert_eq!(first.status, ServingStatus::Serving as i32);
    let stream = tokio::spawn(async move {
        loop {
            match watch.message().await {
                Ok(Some(_)) => continue,
                Ok(None) => return None,
                Err(status) => return Some(status),
            }
        }
    });
    let (took, clean) = tokio::task::spawn_blocking(move || registry.terminate())
        .await
        .expect("join");
    assert!(clean, "exited cleanly");
    assert!(took < std::time::Duration::from_secs(2), "exited in {took:?}");
    let ended = stream.await.expect("join").expect("the stream ends with a status");
    assert_eq!(ended.code(), Code::Unavailable, "{ended:?}");
}

dualreport_testkit::on_both_backends!(
    idle_client_streams_end_early,
    one_caller_cannot_starve_the_others,
    an_import_batch_past_the_deadline_is_cut_off_and_leaves_nothing,
    messages_over_the_limit_are_refused,
    requests_beyond_the_concurrency_limit_are_shed,
);
