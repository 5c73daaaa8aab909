use dualreport_proto::feedback::v1 as pb;
use tonic::Code;

use crate::helpers::{Backend, assert_invalid, assert_reason, spawn};
use dualreport_testkit::on_both_backends;

fn raise(request_id: &str, entry_id: &str) -> pb::RaiseObjectionRequest {
    pb::RaiseObjectionRequest {
        request_id: request_id.into(),
        entry_id: entry_id.into(),
        content: "当天服务两小时，只记了基础分".into(),
    }
}

fn decide(request_id: &str, id: &str, upheld: bool, points: i32) -> pb::DecideObjectionRequest {
    pb::DecideObjectionRequest {
        request_id: request_id.into(),
        objection_id: id.into(),
        upheld,
        correction_points: points,
        reason: "经现场核实，服务时长属实".into(),
    }
}

async fn an_upheld_objection_changes_points_exactly_once(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("陈异", suite.a()).await;
    let entry = suite.award(&member, "test:objection", 0).await;
    assert_eq!(suite.points(&member).await, 5);

    let raised = suite
        .member(&member)
        .raise_objection(raise("r1", &entry.id))
        .await
        .expect("raise")
        .into_inner()
        .objection
        .expect("objection");
    assert_eq!(raised.status, pb::ObjectionStatus::Open as i32);
    assert_eq!(raised.community_id, suite.a());
    let retried = suite
        .member(&member)
        .raise_objection(raise("r1", &entry.id))
        .await
        .expect("retry");
    assert_eq!(retried.into_inner().objection.expect("objection").id, raised.id);

    // The community's queues by stage and by the day raised.
    let today = feedback::domain::china_today();
    let day = |d| dualreport_platform::wire::date_to_pb(d);
    let queue = |status: pb::ObjectionStatus, first: chrono::NaiveDate, last: chrono::NaiveDate| {
        let mut admin = suite.admin_a();
        let request = pb::ListObjectionsRequest {
            org_id: suite.a().into(),
            status: status.into(),
            raised: Some(dualreport_proto::common::v1::DateRange {
                first: Some(day(first)),
                last: Some(day(last)),
            }),
            ..Default::default()
        };
        async move {
            let listed = admin.list_objections(request).await.expect("queue").into_inner();
            listed.objections.into_iter().map(|o| o.id).collect::<Vec<_>>()
        }
    };
    let week_ago = today - chrono::Days::new(7);
    let yesterday = today - chrono::Days::new(1);
    assert_eq!(
        queue(pb::ObjectionStatus::Open, yesterday, today).await,
        std::slice::from_ref(&raised.id)
    );
    assert!(queue(pb::ObjectionStatus::Open, week_ago, week_ago).await.is_empty());
    assert!(queue(pb::ObjectionStatus::Assigned, yesterday, today).await.is_empty());

    suite
        .admin_a()
        .assign_objection(pb::AssignObjectionRequest {
            objection_id: raised.id.clone(),
            department: "社区党委".into(),
        })
        .await
        .expect("assign");
    assert!(queue(pb::ObjectionStatus::Open, yesterday, today).await.is_empty());
    assert_eq!(
        queue(pb::ObjectionStatus::Assigned, yesterday, today).await,
        std::slice::from_ref(&raised.id)
    );
    let note = pb::AddInvestigationNoteRequest {
        objection_id: raised.id.clone(),
        note: "走访服务对象，确认服务两小时".into(),
        evidence_ids: Vec::new(),
        request_id: "note-1".into(),
    };
    let noted = suite
        .admin_a()
        .add_investigation_note(note.clone())
        .await
        .expect("note")
        .into_inner()
        .objection
        .expect("objection");
    let retried = suite
        .admin_a()
        .add_investigation_note(note)
        .await
        .expect("retried note")
        .into_inner()
        .objection
        .expect("objection");
    assert_eq!(
        retried.history.len(),
        noted.history.len(),
        "a retried note is added once"
    );
    let decided = suite
        .admin_a()
        .decide_objection(decide("d1", &raised.id, true, 2))
        .await
        .expect("decide")
        .into_inner()
        .objection
        .expect("objection");
    assert_eq!(decided.status, pb::ObjectionStatus::Upheld as i32);
    assert!(!decided.correction_entry_id.is_empty(), "{decided:?}");
    assert_eq!(suite.points(&member).await, 7);

    // The same decision retried: no second correction.
    let again = suite
        .admin_a()
        .decide_objection(decide("d1", &raised.id, true, 2))
        .await
        .expect("retry")
        .into_inner()
        .objection
        .expect("objection");
    assert_eq!(again.correction_entry_id, decided.correction_entry_id);
    // Another decision: refused.
    for (request, upheld, points) in [("d2", true, 2), ("d3", false, 0)] {
        let status = suite
            .admin_a()
            .decide_objection(decide(request, &raised.id, upheld, points))
            .await
            .expect_err("decided twice");
        assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_WRONG_STATE");
    }
    assert_eq!(suite.points(&member).await, 7, "exactly one correction");

    // Whoever raised it sees the result and the whole history.
    let seen = suite
        .member(&member)
        .get_objection(pb::GetObjectionRequest {
            objection_id: raised.id.clone(),
        })
        .await
        .expect("get")
        .into_inner()
        .objection
        .expect("objection");
    let actions: Vec<&str> = seen.history.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(actions, ["raised", "assigned", "note", "upheld", "corrected"]);
    assert_eq!(seen.result, "经现场核实，服务时长属实");
    assert_eq!(seen.department, "社区党委");
    suite
        .wait_for_event("objection.upheld", |e| {
            e.kind == "objection.upheld" && e.subject_id == raised.id
        })
        .await;

    // The 附录G table.
    let csv = suite
        .admin_a()
        .export_table(pb::ExportTableRequest {
            kind: pb::TableKind::Objections.into(),
            format: pb::ExportFormat::Csv.into(),
            ..Default::default()
        })
        .await
        .expect("export")
        .into_inner();
    // The same file streamed in chunks (DownloadTable), for tables at district size.
    let request = pb::ExportTableRequest {
        kind: pb::TableKind::Objections.into(),
        format: pb::ExportFormat::Xlsx.into(),
        ..Default::default()
    };
    let xlsx = suite
        .admin_a()
        .export_table(request.clone())
        .await
        .expect("xlsx")
        .into_inner();
    let mut stream = suite
        .admin_a()
        .download_table(pb::DownloadTableRequest {
            table: Some(request.clone()),
        })
        .await
        .expect("download")
        .into_inner();
    let mut chunks = Vec::new();
    while let Some(message) = stream.message().await.expect("a chunk") {
        assert!(message.chunk.len() <= 256 * 1024);
        chunks.push(message);
    }
    assert_eq!(chunks[0].file_name, xlsx.file_name);
    assert_eq!(chunks[0].content_type, xlsx.content_type);
    let downloaded: Vec<u8> = chunks.iter().flat_map(|m| m.chunk.clone()).collect();
    assert_eq!(downloaded, xlsx.content, "the same file");
    let status = suite
        .admin_a()
        .download_table(pb::DownloadTableRequest {
            table: Some(pb::ExportTableRequest {
                format: pb::ExportFormat::Unspecified.into(),
                ..request
            }),
        })
        .await
        .expect_err("no format");
    assert_invalid(&status, "table.format");

    let text = String::from_utf8(csv.content).expect("utf-8");
    assert!(
        text.starts_with("\u{feff}序号,提出人,异议内容,执行部门,处理结果"),
        "{text}"
    );
    assert!(text.contains("社区党委,异议成立：经现场核实"), "{text}");
}

async fn objections_only_about_ones_own_record_and_rejections_keep_points(backend: Backend) {
    let suite = spawn(backend).await;
    let owner = suite.registered_member("林本", suite.a()).await;
    let other = suite.registered_member("郑他", suite.a()).await;
    let entry = suite.award(&owner, "test:own", 1).await;

    let status = suite
        .member(&other)
        .raise_objection(raise("", &entry.id))
        .await
        .expect_err("not the raiser's record");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let status = suite
        .member(&owner)
        .raise_objection(raise("", "no-such-entry"))
        .await
        .expect_err("no entry");
    assert_invalid(&status, "entry_id");

    let raised = suite
        .member(&owner)
        .raise_objection(raise("", &entry.id))
        .await
        .expect("raise")
        .into_inner()
        .objection
        .expect("objection");
    // Another community's admin may not handle it; a zero correction is not a decision.
    let status = suite
        .admin_b()
        .decide_objection(decide("", &raised.id, false, 0))
        .await
        .expect_err("other community");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let status = suite
        .admin_a()
        .decide_objection(decide("", &raised.id, true, 0))
        .await
        .expect_err("zero points");
    assert_invalid(&status, "correction_points");

    let rejected = suite
        .admin_a()
        .decide_objection(decide("", &raised.id, false, 0))
        .await
        .expect("reject")
        .into_inner()
        .objection
        .expect("objection");
    assert_eq!(rejected.status, pb::ObjectionStatus::Rejected as i32);
    assert!(rejected.correction_entry_id.is_empty());
    assert_eq!(suite.points(&owner).await, 6, "a rejection changes nothing");
    let status = suite
        .admin_a()
        .add_investigation_note(pb::AddInvestigationNoteRequest {
            objection_id: raised.id.clone(),
            note: "补充".into(),
            evidence_ids: Vec::new(),
            request_id: String::new(),
        })
        .await
        .expect_err("closed");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_WRONG_STATE");
    let mine = suite
        .member(&owner)
        .list_objections(pb::ListObjectionsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .objections;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].result, "经现场核实，服务时长属实");
    let theirs = suite
        .member(&other)
        .list_objections(pb::ListObjectionsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .objections;
    assert!(theirs.is_empty());
}

on_both_backends!(
    an_upheld_objection_changes_points_exactly_once,
    objections_only_about_ones_own_record_and_rejections_keep_points
);
