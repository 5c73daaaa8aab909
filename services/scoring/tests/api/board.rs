//! The vanguard board (先锋榜) and the registration table: published results only, in rank order.

use dualreport_platform::auth::Role;
use dualreport_proto::scoring::v1 as pb;

use crate::helpers::*;

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
    assert!(
        rows.iter().all(|r| r.community_name == "农科路社区"),
        "each row names its community"
    );

    // The portal's public credential reads the notice, headed with the org's
    // name, and how the subjects spread over the star levels.
    let mut public = suite.client(&dualreport_testkit::mint(Role::Public, None, None, 600));
    let board = public
        .get_board(pb::GetBoardRequest {
            org_id: suite.city.street.id.clone(),
            period: Some(suite.pb_period()),
            subject_kind: pb::SubjectKind::Member as i32,
            ..Default::default()
        })
        .await
        .expect("the public reads the board")
        .into_inner();
    assert_eq!(board.org_name, "花园路街道");
    assert_eq!(board.rows.len(), 4);
    let statistics = public
        .get_board_statistics(pb::GetBoardStatisticsRequest {
            org_id: suite.city.street.id.clone(),
            period: Some(suite.pb_period()),
            subject_kind: pb::SubjectKind::Member as i32,
        })
        .await
        .expect("board statistics")
        .into_inner();
    assert_eq!(statistics.org_name, "花园路街道");
    assert_eq!(statistics.subjects, 4);
    let levels: Vec<(i32, i32, i64)> = statistics
        .levels
        .iter()
        .map(|l| (l.stars, l.subjects, l.points))
        .collect();
    let top = levels.first().map(|l| l.0).expect("levels");
    assert!(top >= 2, "from max_stars down");
    assert_eq!(
        levels.iter().map(|l| l.0).collect::<Vec<_>>(),
        (0..=top).rev().collect::<Vec<_>>(),
        "every level down to 0"
    );
    assert_eq!(
        levels.iter().filter(|l| l.1 > 0).copied().collect::<Vec<_>>(),
        [(2, 1, 24), (1, 2, 34), (0, 1, 5)]
    );
    let refused = public
        .list_settlements(pb::ListSettlementsRequest {
            community_id: a.clone(),
            ..Default::default()
        })
        .await
        .expect_err("the public reads boards only");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);

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
    // The district's queue of settlements still to review, across its communities.
    let queue = |status: pb::SettlementStatus| pb::ListSettlementsRequest {
        org_id: suite.city.district.id.clone(),
        status: status.into(),
        ..Default::default()
    };
    let drafts = suite
        .admin(Role::DistrictAdmin, &suite.city.district.id)
        .list_settlements(queue(pb::SettlementStatus::Draft))
        .await
        .expect("drafts")
        .into_inner()
        .settlements;
    assert_eq!(drafts.len(), 1, "{drafts:?}");
    assert_eq!(drafts[0].id, b_versions[0].id);
    let published = suite
        .admin(Role::DistrictAdmin, &suite.city.district.id)
        .list_settlements(queue(pb::SettlementStatus::Published))
        .await
        .expect("published")
        .into_inner()
        .settlements;
    assert!(
        published
            .iter()
            .all(|s| s.status == pb::SettlementStatus::Published as i32)
    );
    assert!(published.iter().all(|s| s.community_id != b_versions[0].community_id));
    let hidden_drafts = suite
        .member(&hidden)
        .list_settlements(queue(pb::SettlementStatus::Draft))
        .await
        .expect("a member's view")
        .into_inner()
        .settlements;
    assert!(hidden_drafts.is_empty(), "drafts are not a member's: {hidden_drafts:?}");
    let status = suite
        .admin(Role::DistrictAdmin, &suite.city.district.id)
        .list_settlements(pb::ListSettlementsRequest {
            community_id: suite.a().into(),
            ..queue(pb::SettlementStatus::Unspecified)
        })
        .await
        .expect_err("both");
    assert_invalid(&status, "community_id");
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

dualreport_testkit::on_both_backends!(
    the_board_lists_only_published_results_in_rank_order,
    the_registration_table_lists_the_half_year_with_csv,
    unit_orgs_are_settled_and_ranked_on_their_own_board,
);
