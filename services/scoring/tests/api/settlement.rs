//! Settlement, review, publication, versions after corrections, the vanguard
//! board and the registration table.

use dualreport_proto::scoring::v1 as pb;
use tonic::Code;

use crate::helpers::*;
use dualreport_testkit::on_both_backends;

on_both_backends!(
    a_settlement_goes_from_draft_through_review_to_publication,
    an_unfinished_period_cannot_be_settled,
    a_correction_after_publication_yields_a_new_version,
    the_losers_of_a_concurrent_publication_are_told_it_is_published,
);

/// Eight admins publish one reviewed settlement at once (no request_id): one
/// publishes, the others hear that it is published now — not the state they
/// read before the winner committed.
async fn the_losers_of_a_concurrent_publication_are_told_it_is_published(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("钱多", suite.a()).await;
    suite.serve(&member, "p0", 0).await;
    let draft = suite.settle().await;
    suite
        .admin_a()
        .review_settlement(pb::ReviewSettlementRequest {
            request_id: String::new(),
            settlement_id: draft.id.clone(),
            assembly_date: Some(date(suite.today)),
            recorded_by: "王记录".into(),
        })
        .await
        .expect("review");
    let racing = (0..8).map(|_| {
        let mut client = suite.admin_a();
        let request = pb::PublishSettlementRequest {
            request_id: String::new(),
            settlement_id: draft.id.clone(),
        };
        async move { client.publish_settlement(request).await }
    });
    let results = futures::future::join_all(racing).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "published once");
    for lost in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_reason(lost, Code::FailedPrecondition, "ERROR_REASON_WRONG_STATE");
        assert!(lost.message().contains("already published"), "{}", lost.message());
    }
}

async fn a_settlement_goes_from_draft_through_review_to_publication(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("张敏", suite.a()).await;
    for i in 0..3 {
        suite.serve(&member, &format!("a{i}"), 1).await;
    }
    let draft = suite.settle().await;
    assert_eq!((draft.version, draft.status), (1, pb::SettlementStatus::Draft as i32));
    assert_eq!((draft.points_per_star, draft.max_stars), (10, 10));
    let lines = suite.lines(&draft).await;
    assert_eq!((lines[0].points, lines[0].stars), (18, 1));

    let mut admin = suite.admin_a();
    let status = admin
        .publish_settlement(pb::PublishSettlementRequest {
            request_id: String::new(),
            settlement_id: draft.id.clone(),
        })
        .await
        .expect_err("publishing a draft");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_WRONG_STATE");
    let status = admin
        .settle_period(pb::SettlePeriodRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            period: Some(suite.pb_period()),
        })
        .await
        .expect_err("twice without changes");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOTHING_CHANGED");
    let status = admin
        .review_settlement(pb::ReviewSettlementRequest {
            request_id: String::new(),
            settlement_id: draft.id.clone(),
            assembly_date: Some(date(suite.period.last_day())),
            recorded_by: "王记录".into(),
        })
        .await
        .expect_err("assembly before the half-year ended");
    assert_invalid(&status, "assembly_date");

    // Drafts are not public.
    let status = suite
        .member(&member)
        .get_settlement(pb::GetSettlementRequest {
            settlement_id: draft.id.clone(),
        })
        .await
        .expect_err("draft is not public");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");

    let published = suite.review_and_publish(&draft.id).await;
    assert_eq!(published.status, pb::SettlementStatus::Published as i32);
    assert!(published.current);
    assert_eq!(published.reviewed_by, "王记录");
    assert_eq!(published.assembly_date, Some(date(suite.today)));
    let read = suite
        .member(&member)
        .get_settlement(pb::GetSettlementRequest {
            settlement_id: draft.id.clone(),
        })
        .await
        .expect("published is public")
        .into_inner()
        .settlement
        .expect("settlement");
    assert_eq!(read.line_count, 1);

    // A late award dated in the period makes a second settlement possible.
    suite.serve(&member, "late", 0).await;
    let second = suite.settle().await;
    assert_eq!((second.version, suite.lines(&second).await[0].points), (2, 23));
}

async fn an_unfinished_period_cannot_be_settled(backend: Backend) {
    let suite = spawn(backend).await;
    // Scoring's today is the first day of the next half-year.
    let running = scoring::domain::period::Period::of(suite.today);
    let status = suite
        .admin_a()
        .settle_period(pb::SettlePeriodRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            period: Some(scoring_period(running)),
        })
        .await
        .expect_err("not ended");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_PERIOD_NOT_ENDED");
    let status = suite
        .admin_a()
        .settle_period(pb::SettlePeriodRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            period: Some(pb::Period { year: 2026, half: 0 }),
        })
        .await
        .expect_err("no half");
    assert_invalid(&status, "period.half");
}

async fn a_correction_after_publication_yields_a_new_version(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("李娜", suite.a()).await;
    let entry = suite.serve(&member, "a1", 3).await;
    suite.serve(&member, "a2", 3).await;
    let v1 = suite.settle().await;
    suite.review_and_publish(&v1.id).await;

    let response = suite
        .service()
        .record_correction(pb::RecordCorrectionRequest {
            request_id: String::new(),
            source_key: "objection:7".into(),
            corrects_entry_id: entry.id.clone(),
            points: -3,
            reason: "异议成立：服务未完成".into(),
        })
        .await
        .expect("correction from the feedback service")
        .into_inner();
    let v2 = response.new_settlement_version.expect("a new version");
    assert_eq!(
        (v2.version, v2.status, suite.lines(&v2).await[0].points),
        (2, pb::SettlementStatus::Draft as i32, 13)
    );
    assert!(v2.reason.starts_with("correction "), "{}", v2.reason);

    let board = |suite: &Suite| {
        let mut client = suite.member(&member);
        let request = pb::GetBoardRequest {
            org_id: suite.a().into(),
            period: Some(suite.pb_period()),
            subject_kind: pb::SubjectKind::Member as i32,
            ..Default::default()
        };
        async move { client.get_board(request).await.expect("board").into_inner().rows }
    };
    assert_eq!(
        board(&suite).await[0].line.as_ref().expect("line").points,
        16,
        "v1 stays public"
    );
    let old = suite
        .member(&member)
        .get_settlement(pb::GetSettlementRequest {
            settlement_id: v1.id.clone(),
        })
        .await
        .expect("v1 readable")
        .into_inner()
        .settlement
        .expect("v1");
    assert_eq!((old.version, suite.lines(&old).await[0].points), (1, 16));

    suite.review_and_publish(&v2.id).await;
    assert_eq!(
        board(&suite).await[0].line.as_ref().expect("line").points,
        13,
        "v2 replaces it"
    );
    let versions = suite
        .admin_a()
        .list_settlements(pb::ListSettlementsRequest {
            community_id: suite.a().into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .settlements;
    let listed: Vec<(i32, bool)> = versions.iter().map(|s| (s.version, s.current)).collect();
    assert_eq!(listed, [(2, true), (1, false)], "newest first; only v2 is current");
}
