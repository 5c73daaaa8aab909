use dualreport_proto::feedback::v1 as pb;
use tonic::Code;

use crate::helpers::{Backend, assert_invalid, assert_reason, period, spawn, spawn_with};
use dualreport_testkit::on_both_backends;

fn row<'a>(table: &'a pb::SummaryTable, member: &str) -> &'a pb::SummaryRow {
    table
        .rows
        .iter()
        .find(|r| r.member_id == member)
        .unwrap_or_else(|| panic!("no row for {member}"))
}

async fn summary_matches_sources_and_marks_rows_incomplete_without_scoring(backend: Backend) {
    let mut suite = spawn(backend).await;
    suite.pair_unit_with_a().await;
    let busy = suite.registered_member("李勤", suite.a()).await;
    let light = suite.registered_member("王轻", suite.a()).await;
    let absent = suite.unreported_member("赵缺").await;
    suite.award(&busy, "test:1", 2).await;
    suite.award(&busy, "test:2", 0).await;
    suite.award(&light, "test:3", -1).await;
    suite
        .admin_a()
        .comment_on_member(pb::CommentOnMemberRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            member_id: busy.clone(),
            period: period(suite.year, 0),
            comment: "服务积极，表现突出".into(),
        })
        .await
        .expect("comment");

    let table = suite
        .unit_admin()
        .get_summary_table(pb::GetSummaryTableRequest {
            unit_org_id: suite.unit().into(),
            community_id: String::new(),
            period: period(suite.year, 0),
        })
        .await
        .expect("summary")
        .into_inner()
        .table
        .expect("table");
    assert!(table.complete, "{table:?}");
    assert_eq!(table.rows.len(), 3);
    let b = row(&table, &busy);
    assert!(b.reported && !b.incomplete);
    assert_eq!((b.points, b.stars), (12, 1), "7 + 5 points, one star per 10");
    assert_eq!(b.comment, "服务积极，表现突出");
    assert_eq!(b.reported_community_id, suite.a());
    let l = row(&table, &light);
    assert_eq!((l.reported, l.points, l.stars), (true, 4, 0));
    let a = row(&table, &absent);
    assert_eq!((a.reported, a.points), (false, 0));
    // Numbered 1..n.
    let mut numbers: Vec<i32> = table.rows.iter().map(|r| r.number).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2, 3]);

    // The community's own view of the paired unit is the same for its members.
    let community_view = suite
        .admin_a()
        .get_summary_table(pb::GetSummaryTableRequest {
            unit_org_id: suite.unit().into(),
            community_id: suite.a().into(),
            period: period(suite.year, 0),
        })
        .await
        .expect("community view")
        .into_inner()
        .table
        .expect("table");
    assert_eq!(row(&community_view, &busy).points, 12);

    // Exports carry the template's headers.
    let csv = suite
        .unit_admin()
        .export_table(pb::ExportTableRequest {
            kind: pb::TableKind::Summary.into(),
            format: pb::ExportFormat::Csv.into(),
            unit_org_id: suite.unit().into(),
            period: period(suite.year, 0),
            ..Default::default()
        })
        .await
        .expect("csv")
        .into_inner();
    let text = String::from_utf8(csv.content).expect("utf-8");
    assert!(
        text.starts_with("\u{feff}序号,姓名,是否报到,积分,星级,社区评价,备注\r\n"),
        "{text}"
    );
    assert!(text.contains("李勤,是,12,1,服务积极，表现突出,"), "{text}");
    assert!(csv.file_name.ends_with(".csv") && !csv.incomplete);
    let xlsx = suite
        .unit_admin()
        .export_table(pb::ExportTableRequest {
            kind: pb::TableKind::Summary.into(),
            format: pb::ExportFormat::Xlsx.into(),
            unit_org_id: suite.unit().into(),
            period: period(suite.year, 0),
            ..Default::default()
        })
        .await
        .expect("xlsx")
        .into_inner();
    assert_eq!(&xlsx.content[..4], b"PK\x03\x04");
    let rows = dualreport_tables::read(&xlsx.content).expect("a workbook the library reads");
    assert_eq!(rows[0][..4], ["序号", "姓名", "是否报到", "积分"]);
    let line = rows.iter().find(|r| r[1] == "李勤").expect("李勤's row");
    assert_eq!(line[2..5], ["是", "12", "1"], "{line:?}");

    // Scoring stops: the table still comes back, and says which rows lack points.
    suite.scoring = None;
    let table = suite
        .unit_admin()
        .get_summary_table(pb::GetSummaryTableRequest {
            unit_org_id: suite.unit().into(),
            community_id: String::new(),
            period: period(suite.year, 0),
        })
        .await
        .expect("summary without scoring")
        .into_inner()
        .table
        .expect("table");
    assert!(!table.complete);
    assert_eq!(table.missing_sources, ["scoring"]);
    for r in &table.rows {
        assert!(r.incomplete, "{r:?}");
        assert_eq!(r.missing, ["scoring"]);
    }
    assert!(row(&table, &busy).reported, "registry data is still there");
    let csv = suite
        .unit_admin()
        .export_table(pb::ExportTableRequest {
            kind: pb::TableKind::Summary.into(),
            format: pb::ExportFormat::Csv.into(),
            unit_org_id: suite.unit().into(),
            period: period(suite.year, 0),
            ..Default::default()
        })
        .await
        .expect("csv")
        .into_inner();
    assert!(csv.incomplete);
    assert!(String::from_utf8(csv.content).expect("utf-8").contains("数据不完整"));
}

async fn notices_and_ratings_between_paired_orgs(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("周报", suite.a()).await;
    let notice = |urgent: bool| pb::SendNoticeRequest {
        request_id: format!("notice-{urgent}"),
        community_id: suite.a().into(),
        unit_org_id: suite.unit().into(),
        period: period(suite.year, 1),
        title: "上半年在职党员社区表现反馈".into(),
        body: "请查收。\n如有异议请联系社区。".into(),
        urgent,
    };
    let status = suite
        .admin_a()
        .send_notice(notice(false))
        .await
        .expect_err("not paired");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_PAIRED");

    suite.pair_unit_with_a().await;
    let sent = suite
        .admin_a()
        .send_notice(notice(false))
        .await
        .expect("send")
        .into_inner()
        .notice
        .expect("notice");
    assert_eq!(sent.status, pb::NoticeStatus::Sent as i32);
    assert_eq!(sent.district_id, suite.city.district.id);
    let summary = sent.summary.clone().expect("summary");
    assert!(summary.rows.iter().any(|r| r.member_id == member && r.reported));
    // A retry with the same request_id is the same notice.
    let again = suite
        .admin_a()
        .send_notice(notice(false))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(again.notice.expect("notice").id, sent.id);

    // The district it is routed through sees it; another community does not.
    let seen = suite
        .district_admin()
        .get_notice(pb::GetNoticeRequest {
            notice_id: sent.id.clone(),
        })
        .await
        .expect("district reads")
        .into_inner();
    assert_eq!(seen.notice.expect("notice").id, sent.id);
    let status = suite
        .admin_b()
        .get_notice(pb::GetNoticeRequest {
            notice_id: sent.id.clone(),
        })
        .await
        .expect_err("other community");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");

    let listed = suite
        .unit_admin()
        .list_notices(pb::ListNoticesRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.notices.len(), 1);
    let acked = suite
        .unit_admin()
        .acknowledge_notice(pb::AcknowledgeNoticeRequest {
            notice_id: sent.id.clone(),
        })
        .await
        .expect("acknowledge")
        .into_inner()
        .notice
        .expect("notice");
    assert_eq!(acked.status, pb::NoticeStatus::Acknowledged as i32);
    assert!(acked.acknowledge_time.is_some());
    let status = suite
        .admin_a()
        .acknowledge_notice(pb::AcknowledgeNoticeRequest { notice_id: sent.id })
        .await
        .expect_err("only the unit acknowledges");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");

    // Ratings: one of the four grades, only for a paired unit.
    let rate = |grade: i32, community: &str| pb::RateUnitRequest {
        request_id: String::new(),
        community_id: community.into(),
        unit_org_id: suite.unit().into(),
        year: suite.year,
        grade,
        comment: "共建项目完成较好".into(),
    };
    for grade in [0, 5, -1] {
        let status = suite
            .admin_a()
            .rate_unit(rate(grade, suite.a()))
            .await
            .expect_err("grade");
        assert_invalid(&status, "grade");
    }
    let rating = suite
        .admin_a()
        .rate_unit(rate(pb::UnitGrade::Good.into(), suite.a()))
        .await
        .expect("rate")
        .into_inner()
        .rating
        .expect("rating");
    assert_eq!(rating.grade, pb::UnitGrade::Good as i32);
    let status = suite
        .admin_b()
        .rate_unit(rate(pb::UnitGrade::Poor.into(), suite.b()))
        .await
        .expect_err("B is not paired");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_PAIRED");
    let ratings = suite
        .unit_admin()
        .list_unit_ratings(pb::ListUnitRatingsRequest {
            year: suite.year,
            ..Default::default()
        })
        .await
        .expect("ratings")
        .into_inner()
        .ratings;
    assert_eq!(ratings.len(), 1);
    assert_eq!(ratings[0].community_id, suite.a());
}

on_both_backends!(
    a_unit_acknowledges_its_queue_of_notices_in_one_batch,
    summary_matches_sources_and_marks_rows_incomplete_without_scoring,
    a_hung_peer_costs_a_big_table_one_deadline,
    notices_and_ratings_between_paired_orgs
);

/// Scoring accepts connections but never answers: a 1,000-member unit's
/// table still comes back, marked incomplete, after one scoring deadline —
/// not one per member, and not cut off at the request timeout.
async fn a_hung_peer_costs_a_big_table_one_deadline(backend: Backend) {
    use dualreport_proto::registry::v1 as reg;
    let hung = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hung_port = hung.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hung.accept().await {
            held.push(socket);
        }
    });
    let suite = spawn_with(backend, |s| {
        s.scoring.url = format!("http://127.0.0.1:{hung_port}");
        s.scoring.timeout_ms = 1_000;
    })
    .await;
    let mut registry = dualreport_testkit::registry::client(
        &suite.registry_channel,
        &dualreport_testkit::admin_token(dualreport_platform::auth::Role::UnitAdmin, suite.unit()),
    );
    let batches = (0..4).map(|b| reg::ImportMembersRequest {
        request_id: format!("big-unit-{b}"),
        rows: (0..250)
            .map(|i| dualreport_testkit::registry::profile(&format!("成员{b}-{i}"), suite.unit(), suite.a()))
            .collect(),
    });
    let imported = dualreport_testkit::registry::import(&mut registry, batches.collect()).await;
    let created: usize = imported.iter().map(|r| r.member_ids.len()).sum();
    assert_eq!(created, 1_000, "{:?}", imported.iter().find(|r| !r.committed));

    let started = std::time::Instant::now();
    let table = suite
        .unit_admin()
        .get_summary_table(pb::GetSummaryTableRequest {
            unit_org_id: suite.unit().into(),
            community_id: String::new(),
            period: period(suite.year, 0),
        })
        .await
        .expect("the table comes back")
        .into_inner()
        .table
        .expect("table");
    let took = started.elapsed();
    assert_eq!(table.rows.len(), 1_000);
    assert!(!table.complete);
    assert_eq!(table.missing_sources, ["scoring"]);
    assert!(table.rows.iter().all(|r| r.incomplete && r.missing == ["scoring"]));
    // One 1 s deadline for scoring, well inside the 10 s request timeout.
    assert!(took < std::time::Duration::from_secs(8), "took {took:?}");
}

/// A unit lists the notices waiting for its receipt and acknowledges them in
/// one batch: an unknown id is refused on its own, acknowledging again
/// changes nothing, and a community's admin may not acknowledge for the unit.
async fn a_unit_acknowledges_its_queue_of_notices_in_one_batch(backend: Backend) {
    let suite = spawn(backend).await;
    suite.registered_member("回执", suite.a()).await;
    suite.pair_unit_with_a().await;
    let mut sent = Vec::new();
    for half in [1, 2] {
        let notice = suite
            .admin_a()
            .send_notice(pb::SendNoticeRequest {
                request_id: format!("half-{half}"),
                community_id: suite.a().into(),
                unit_org_id: suite.unit().into(),
                period: period(suite.year, half),
                title: format!("第{half}半年反馈"),
                body: "请查收。".into(),
                urgent: false,
            })
            .await
            .expect("send")
            .into_inner()
            .notice
            .expect("notice");
        sent.push(notice.id);
    }
    let queue = |status: pb::NoticeStatus| pb::ListNoticesRequest {
        org_id: suite.unit().into(),
        status: status.into(),
        ..Default::default()
    };
    let ids = |listed: pb::ListNoticesResponse| {
        let mut ids: Vec<String> = listed.notices.into_iter().map(|n| n.id).collect();
        ids.sort();
        ids
    };
    let mut expected = sent.clone();
    expected.sort();
    let waiting = suite
        .unit_admin()
        .list_notices(queue(pb::NoticeStatus::Sent))
        .await
        .expect("queue")
        .into_inner();
    assert_eq!(ids(waiting), expected);

    let item = |id: &str| pb::AcknowledgeNoticeRequest { notice_id: id.into() };
    let status = suite
        .admin_a()
        .batch_acknowledge_notices(pb::BatchAcknowledgeNoticesRequest {
            requests: vec![item(&sent[0])],
        })
        .await
        .expect_err("only the unit acknowledges");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let results = suite
        .unit_admin()
        .batch_acknowledge_notices(pb::BatchAcknowledgeNoticesRequest {
            requests: vec![item(&sent[0]), item("no-such-notice"), item(&sent[1]), item(&sent[0])],
        })
        .await
        .expect("batch")
        .into_inner()
        .results;
    assert_eq!(results.len(), 4);
    assert_eq!(results[1].error.as_ref().map(|e| e.code), Some(Code::NotFound as i32));
    for i in [0, 2, 3] {
        let notice = results[i]
            .notice
            .as_ref()
            .unwrap_or_else(|| panic!("item {i}: {results:?}"));
        assert_eq!(notice.status, pb::NoticeStatus::Acknowledged as i32);
    }
    assert_eq!(
        results[0].notice.as_ref().map(|n| n.acknowledge_time),
        results[3].notice.as_ref().map(|n| n.acknowledge_time),
        "acknowledged once"
    );
    let left = suite
        .unit_admin()
        .list_notices(queue(pb::NoticeStatus::Sent))
        .await
        .expect("queue")
        .into_inner();
    assert!(left.notices.is_empty(), "{left:?}");
    let done = suite
        .unit_admin()
        .list_notices(queue(pb::NoticeStatus::Acknowledged))
        .await
        .expect("done")
        .into_inner();
    assert_eq!(ids(done), expected);
}
