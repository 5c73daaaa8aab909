//! The webhook (推送): signed, retried, replayed, and a new one starts after the newest event.

use std::time::Duration;

use dualreport_proto::feedback::v1 as pb;
use dualreport_testkit::webhook::{Receiver, SECRET, serve};

use crate::helpers::{Backend, Suite, spawn_with};

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
    assert_eq!(signature, dualreport_webhook::signature(SECRET.as_bytes(), &body));
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

    // Failed deliveries page like every list.
    *receiver.rejecting.lock().expect("lock") = true;
    let mut rejected = Vec::new();
    for n in 0..3 {
        let member = suite.registered_member(&format!("拒收{n}"), suite.a()).await;
        rejected.push(wait_for_failed(&suite, &member).await.id);
    }
    let walked = dualreport_testkit::paging::walk("failed deliveries", |page_size, page_token| {
        let mut c = suite.city_admin();
        let request = pb::ListFailedDeliveriesRequest { page_size, page_token };
        async move {
            let r = c.list_failed_deliveries(request).await.expect("failed").into_inner();
            (r.deliveries.into_iter().map(|d| d.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert!(rejected.iter().all(|id| walked.contains(id)), "{walked:?}");
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
    crate::feed::wait_for_reports(&suite, 4).await;
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

dualreport_testkit::on_both_backends!(
    the_webhook_signs_retries_and_replays,
    a_new_webhook_starts_after_the_newest_event,
);
