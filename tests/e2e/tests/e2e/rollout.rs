//! A rollout with the party-building cloud connected: SIGTERM ends the open
//! `WatchEvents` stream with `UNAVAILABLE` at once (the cloud reconnects and
//! resumes from its last cursor on another replica) and the pod exits well
//! inside the drain deadline.

use dualreport_platform::auth::Role;
use dualreport_proto::feedback::v1 as fpb;
use dualreport_testkit::mint;
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_feed_stream_ends_at_once_on_sigterm() {
    let mut suite = e2e::Suite::start(e2e::Backend::Sqlite, &[]).await;
    let mut stream = suite
        .feedback(&mint(Role::Cloud, None, None, 3600))
        .watch_events(fpb::WatchEventsRequest {
            cursor: String::new(),
            backlog_only: false,
        })
        .await
        .expect("watch")
        .into_inner();
    let reader = tokio::spawn(async move {
        loop {
            match stream.message().await {
                Ok(Some(_)) => continue,
                Ok(None) => return None,
                Err(status) => return Some(status),
            }
        }
    });
    // Let the stream settle into waiting for live events.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (took, clean) = tokio::task::block_in_place(|| suite.feedback.terminate());
    assert!(clean, "feedback exited cleanly");
    assert!(
        took < std::time::Duration::from_secs(2),
        "exited in {took:?} (drain deadline 20 s)"
    );
    let ended = reader.await.expect("join").expect("the stream ends with a status");
    assert_eq!(ended.code(), Code::Unavailable, "{ended:?}");
}
