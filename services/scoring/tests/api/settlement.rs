//! Settlement, review, publication, versions after corrections, the vanguard
//! board and the registration table.

use dualreport_platform::auth::Role;
use dualreport_proto::scoring::v1 as pb;
use tonic::Code;

use crate::helpers::*;
use dualreport_testkit::on_both_backends;

on_both_backends!(
    a_settlement_goes_from_draft_through_review_to_publication,
    an_unfinished_period_cannot_be_settled,
    a_correction_after_publication_yields_a_new_version,
    the_board_lists_only_published_results_in_rank_order,
    the_registration_table_lists_the_half_year_with_csv,
    unit_orgs_are_settled_and_ranked_on_their_own_board,
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

async fn the_board_lists_only_published_results_in_rank_order(backend: Backend) {
    let suite = spawn(backend).await;
    let a = suite.a().to_owned();
    let b = suite.city.community_b.id.clone();
    let top = suite.registered_member("甲", &a).await;
    let tie1 = suite.registered_member("乙", &a).await;
    let tie2 = suite.registered_member("丙", &a).await;
    let low = suite.registered_member("丁", &a).await;
    let hidden = suite.registered_member("戊", &b).await;
    let plan: [(&str, &[i32]); 4] = [
        (&top, &[3, 3, 3]),  // 24 → 2 stars
        (&tie1, &[0, 0, 2]), // 17 → 1 star
        (&tie2, &[1, 1, 0]), // 17 → 1 star
        (&low, &[0]),        // 5 → 0 stars
    ];
    for (member, adjustments) in plan {
        for (i, adjustment) in adjustments.iter().enumerate() {
            suite.serve(member, &format!("{member}:{i}"), *adjustment).await;
        }
    }
    let v1 = suite.settle().await;
    suite.review_and_publish(&v1.id).await;
    // Community B settles its member but does not publish.
    suite
        .community_admin(&b)
        .record_service(pb::RecordServiceRequest {
            community_id: b.clone(),
            ..service_request(&suite, &hidden, "b:1", 3)
        })
        .await
        .expect("B records");
    suite
        .community_admin(&b)
        .settle_period(pb::SettlePeriodRequest {
            request_id: String::new(),
            community_id: b.clone(),
            period: Some(suite.pb_period()),
        })
        .await
        .expect("B settles");

    // The street's board, read by a member, two rows a page.
    let mut reader = suite.member(&low);
    let mut rows = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = reader
            .get_board(pb::GetBoardRequest {
                org_id: suite.city.street.id.clone(),
                period: Some(suite.pb_period()),
                subject_kind: pb::SubjectKind::Member as i32,
                page_size: 2,
                page_token,
            })
            .await
            .expect("board")
            .into_inner();
        rows.extend(page.rows);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let got: Vec<(i32, String, i32, i32)> = rows
        .iter()
        .map(|r| {
            let line = r.line.as_ref().expect("line");
            let subject = line.subject.as_ref().expect("subject");
            (r.rank, subject.id.clone(), line.stars, line.points)
        })
        .collect();
    let (first_tie, second_tie) = if tie1 < tie2 { (&tie1, &tie2) } else { (&tie2, &tie1) };
    assert_eq!(
        got,
        [
            (1, top.clone(), 2, 24),
            (2, first_tie.clone(), 1, 17),
            (2, second_tie.clone(), 1, 17),
            (4, low.clone(), 0, 5),
        ],
        "stars, then points, then id; competition ranks; nothing unpublished"
    );
    assert!(rows.iter().all(|r| r.community_id == a));
    assert_eq!(rows[0].line.as_ref().expect("line").subject_name, "甲");

    // The district and city boards hold the same published rows; units have their own board.
    for org in [suite.city.district.id.clone(), "city".to_owned()] {
        let rows = reader
            .get_board(pb::GetBoardRequest {
                org_id: org,
                period: Some(suite.pb_period()),
                subject_kind: pb::SubjectKind::Member as i32,
                ..Default::default()
            })
            .await
            .expect("board")
            .into_inner()
            .rows;
        assert_eq!(rows.len(), 4);
    }
    let units = reader
        .get_board(pb::GetBoardRequest {
            org_id: a.clone(),
            period: Some(suite.pb_period()),
            subject_kind: pb::SubjectKind::UnitOrg as i32,
            ..Default::default()
        })
        .await
        .expect("unit board")
        .into_inner()
        .rows;
    assert!(units.is_empty());
    let status = reader
        .get_board(pb::GetBoardRequest {
            org_id: suite.city.unit.id.clone(),
            period: Some(suite.pb_period()),
            subject_kind: pb::SubjectKind::Member as i32,
            ..Default::default()
        })
        .await
        .expect_err("a unit has no board");
    assert_invalid(&status, "org_id");
    // Unpublished versions: their community's and the district's admins only.
    let b_versions = suite
        .member(&hidden)
        .list_settlements(pb::ListSettlementsRequest {
            community_id: b.clone(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .settlements;
    assert!(b_versions.is_empty(), "a member sees published versions only");
    let b_versions = suite
        .admin(Role::DistrictAdmin, &suite.city.district.id)
        .list_settlements(pb::ListSettlementsRequest {
            community_id: b,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .settlements;
    assert_eq!(b_versions.len(), 1);
}

async fn the_registration_table_lists_the_half_year_with_csv(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("高洁", suite.a()).await;
    suite.serve(&member, "a1", 2).await;
    suite.serve(&member, "a2", -1).await;
    let response = suite
        .member(&member)
        .get_registration_table(pb::GetRegistrationTableRequest {
            member_id: member.clone(),
            community_id: suite.a().into(),
            period: Some(suite.pb_period()),
        })
        .await
        .expect("table")
        .into_inner();
    let table = response.table.expect("table");
    assert_eq!(table.member_name, "高洁");
    assert_eq!(table.rows.len(), 2);
    assert_eq!((table.rows[0].number, table.rows[0].points), (1, 7));
    assert_eq!((table.total_points, table.stars), (11, 1));
    assert_eq!(table.settlement_status, pb::SettlementStatus::Unspecified as i32);
    let csv = response.csv;
    assert!(csv.starts_with("(半年度)在职党员志愿服务积分评星登记表\r\n"), "{csv}");
    assert!(csv.contains("序号,服务时间,服务内容,积分\r\n"), "{csv}");
    assert!(csv.contains(",社区环境卫生保洁,7\r\n"), "{csv}");
    assert!(csv.contains("半年积分情况,11\r\n半年评定星级情况,1\r\n"), "{csv}");
}

async fn unit_orgs_are_settled_and_ranked_on_their_own_board(backend: Backend) {
    let suite = spawn(backend).await;
    let unit = suite.city.unit.id.clone();
    dualreport_testkit::registry::unit_report_received(&suite.registry_channel, &unit, suite.a(), suite.period.year)
        .await;
    for (key, scorer, points) in [
        ("p1", pb::ProjectScorer::Community, 20),
        ("p2", pb::ProjectScorer::Beneficiaries, 10),
    ] {
        suite
            .admin_a()
            .record_project_score(pb::RecordProjectScoreRequest {
                request_id: String::new(),
                source_key: key.into(),
                unit_org_id: unit.clone(),
                community_id: suite.a().into(),
                project_id: "elevator".into(),
                project_name: "老旧小区加装电梯".into(),
                scorer: scorer as i32,
                points,
                scored_on: Some(suite.served_on(4)),
            })
            .await
            .expect("project score");
    }
    let settlement = suite.settle().await;
    let line = suite.lines(&settlement).await[0].clone();
    assert_eq!(line.subject.expect("subject").kind, pb::SubjectKind::UnitOrg as i32);
    assert_eq!(
        (line.points, line.stars, line.subject_name.as_str()),
        (30, 3, "区卫健委机关党委")
    );
    suite.review_and_publish(&settlement.id).await;

    // The unit's own admin (and its superior committee) read its card.
    for org in [&unit, &suite.city.committee.id] {
        let balance = suite
            .admin(Role::UnitAdmin, org)
            .get_balance(pb::GetBalanceRequest {
                subject: Some(pb::Subject {
                    kind: pb::SubjectKind::UnitOrg as i32,
                    id: unit.clone(),
                }),
            })
            .await
            .expect("unit balance")
            .into_inner();
        assert_eq!(balance.lifetime_earned, 30);
    }
    let rows = suite
        .admin(Role::DistrictAdmin, &suite.city.district.id)
        .get_board(pb::GetBoardRequest {
            org_id: suite.city.district.id.clone(),
            period: Some(suite.pb_period()),
            subject_kind: pb::SubjectKind::UnitOrg as i32,
            ..Default::default()
        })
        .await
        .expect("unit board")
        .into_inner()
        .rows;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].rank, rows[0].line.as_ref().expect("line").stars), (1, 3));
}
