//! Special records, project scores and corrections: bounds, and bad awards leave nothing.

use dualreport_proto::scoring::v1 as pb;
use tonic::Code;

use crate::helpers::*;

async fn bad_awards_are_refused_and_leave_nothing(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("陈静", suite.a()).await;
    let mut admin = suite.admin_a();

    let status = admin
        .record_service(service_request(&suite, &member, "k1", 4))
        .await
        .expect_err("adjustment 4");
    assert_invalid(&status, "adjustment");
    let status = admin
        .record_service(service_request(&suite, &member, "k1", -4))
        .await
        .expect_err("adjustment -4");
    assert_invalid(&status, "adjustment");
    let status = admin
        .record_service(pb::RecordServiceRequest {
            source_key: String::new(),
            ..service_request(&suite, &member, "", 0)
        })
        .await
        .expect_err("no source key");
    assert_invalid(&status, "source_key");
    let status = admin
        .record_service(pb::RecordServiceRequest {
            served_on: Some(date(suite.today.succ_opt().expect("day"))),
            ..service_request(&suite, &member, "k2", 0)
        })
        .await
        .expect_err("future");
    assert_invalid(&status, "served_on");

    for points in [0, -2] {
        let status = admin
            .record_special(special(&suite, &member, "s1", points))
            .await
            .expect_err("non-positive special");
        assert_invalid(&status, "points");
    }

    let status = admin
        .record_service(service_request(&suite, "0000-no-such-member", "k3", 0))
        .await
        .expect_err("unknown member");
    assert_reason(&status, Code::NotFound, "ERROR_REASON_NOT_FOUND");
    let unreported = suite.unreported_member("孙悦").await;
    let status = admin
        .record_service(service_request(&suite, &unreported, "k4", 0))
        .await
        .expect_err("not registered");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_REGISTERED");
    let elsewhere = suite.registered_member("周洋", &suite.city.community_b.id).await;
    let status = admin
        .record_service(service_request(&suite, &elsewhere, "k5", 0))
        .await
        .expect_err("registered at B, served at A");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_REGISTERED");

    let status = admin
        .record_correction(pb::RecordCorrectionRequest {
            request_id: String::new(),
            source_key: "c1".into(),
            corrects_entry_id: "0000-no-such-entry".into(),
            points: -1,
            reason: "复核".into(),
        })
        .await
        .expect_err("unknown entry");
    assert_invalid(&status, "corrects_entry_id");

    for id in [&member, &unreported, &elsewhere] {
        assert_eq!(suite.balance(id).await.lifetime_earned, 0, "nothing was written");
    }
}

fn special(suite: &Suite, member: &str, key: &str, points: i32) -> pb::RecordSpecialRequest {
    pb::RecordSpecialRequest {
        request_id: String::new(),
        source_key: key.into(),
        member_id: member.into(),
        community_id: suite.a().into(),
        occurred_on: Some(suite.served_on(2)),
        category: pb::SpecialCategory::Bravery as i32,
        points,
        reason: "见义勇为，救起落水儿童".into(),
    }
}

fn project(suite: &Suite, key: &str, scorer: pb::ProjectScorer, points: i32) -> pb::RecordProjectScoreRequest {
    pb::RecordProjectScoreRequest {
        request_id: String::new(),
        source_key: key.into(),
        unit_org_id: suite.city.unit.id.clone(),
        community_id: suite.a().into(),
        project_id: "project-1".into(),
        project_name: "老旧小区加装电梯".into(),
        scorer: scorer as i32,
        points,
        scored_on: Some(suite.served_on(3)),
    }
}

async fn special_records_project_scores_and_corrections_follow_their_bounds(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("刘洋", suite.a()).await;
    let mut admin = suite.admin_a();

    let entry = admin
        .record_special(special(&suite, &member, "s1", 20))
        .await
        .expect("special")
        .into_inner()
        .entry
        .expect("entry");
    assert_eq!(entry.kind, pb::EntryKind::Special as i32);
    assert_eq!(entry.special_category, pb::SpecialCategory::Bravery as i32);
    assert_eq!(entry.recorded_by, "test-community_admin", "the approving admin");

    // A unit must have reported to the community before its project is scored there.
    let status = admin
        .record_project_score(project(&suite, "p0", pb::ProjectScorer::Community, 10))
        .await
        .expect_err("unit not reported");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_REGISTERED");
    dualreport_testkit::registry::unit_report_received(
        &suite.registry_channel,
        &suite.city.unit.id,
        suite.a(),
        suite.period.year,
    )
    .await;
    let status = admin
        .record_project_score(project(&suite, "p1", pb::ProjectScorer::Community, 31))
        .await
        .expect_err("above the cap");
    assert_invalid(&status, "points");
    admin
        .record_project_score(project(&suite, "p1", pb::ProjectScorer::Community, 20))
        .await
        .expect("community scores 20");
    admin
        .record_project_score(project(&suite, "p2", pb::ProjectScorer::Beneficiaries, 10))
        .await
        .expect("beneficiaries score 10");
    let status = admin
        .record_project_score(project(&suite, "p3", pb::ProjectScorer::Beneficiaries, 1))
        .await
        .expect_err("project total above 30");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_CAP_EXCEEDED");

    // Corrections: the corrected service must stay within 0..=8.
    let service = suite.serve(&member, "a1", 3).await;
    let correct = |key: &str, points: i32| pb::RecordCorrectionRequest {
        request_id: String::new(),
        source_key: key.into(),
        corrects_entry_id: service.id.clone(),
        points,
        reason: "异议复核：服务时长不足".into(),
    };
    let status = admin.record_correction(correct("c0", 1)).await.expect_err("above 8");
    assert_invalid(&status, "points");
    let status = admin.record_correction(correct("c0", -9)).await.expect_err("below 0");
    assert_invalid(&status, "points");
    let correction = admin
        .record_correction(correct("c1", -4))
        .await
        .expect("correction")
        .into_inner();
    let entry = correction.entry.expect("entry");
    assert_eq!(
        (entry.corrects_entry_id.as_str(), entry.points, entry.occurred_on),
        (service.id.as_str(), -4, service.occurred_on),
        "dated on the entry it corrects"
    );
    assert!(
        correction.new_settlement_version.is_none(),
        "the period was not settled"
    );
    let again = admin
        .record_correction(correct("c1", -4))
        .await
        .expect("redelivered correction")
        .into_inner()
        .entry
        .expect("entry");
    assert_eq!(again.id, entry.id, "a redelivered correction is the same entry");
    assert_eq!(suite.balance(&member).await.lifetime_earned, 20 + 8 - 4);

    // Listing a card: every entry, oldest first.
    let entries = suite
        .member(&member)
        .list_entries(pb::ListEntriesRequest {
            subject: Some(member_subject(&member)),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .entries;
    let kinds: Vec<i32> = entries.iter().map(|e| e.kind).collect();
    use pb::EntryKind as K;
    assert_eq!(kinds, [K::Special as i32, K::Service as i32, K::Correction as i32]);
}

dualreport_testkit::on_both_backends!(
    back_filled_services_are_recorded_in_one_batch,
    bad_awards_are_refused_and_leave_nothing,
    special_records_project_scores_and_corrections_follow_their_bounds,
);

/// A community back-fills its paper records in one batch: each good item is
/// an entry, a bad adjustment and a service at another community are
/// refused item by item, and the batch retried records nothing twice.
async fn back_filled_services_are_recorded_in_one_batch(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("补录", suite.a()).await;
    let requests = vec![
        service_request(&suite, &member, "paper:1", 0),
        service_request(&suite, &member, "paper:2", 9),
        pb::RecordServiceRequest {
            community_id: suite.city.community_b.id.clone(),
            ..service_request(&suite, &member, "paper:3", 0)
        },
        service_request(&suite, &member, "paper:4", 1),
    ];
    let batch = pb::BatchRecordServicesRequest { requests };
    let results = suite
        .admin_a()
        .batch_record_services(batch.clone())
        .await
        .expect("batch")
        .into_inner()
        .results;
    assert_eq!(results.len(), 4, "one result per item, in order");
    let bad = results[1].error.as_ref().expect("adjustment 9");
    assert_eq!(bad.code, Code::InvalidArgument as i32);
    assert_eq!(bad.fields, ["requests[1].adjustment"]);
    assert_eq!(
        results[2].error.as_ref().map(|e| e.code),
        Some(Code::PermissionDenied as i32),
        "another community's service"
    );
    let entries: Vec<&str> = results
        .iter()
        .filter_map(|r| r.entry.as_ref())
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(suite.balance(&member).await.lifetime_earned, 5 + 6);

    let again = suite
        .admin_a()
        .batch_record_services(batch)
        .await
        .expect("retried")
        .into_inner()
        .results;
    let same: Vec<&str> = again
        .iter()
        .filter_map(|r| r.entry.as_ref())
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(same, entries, "the source keys hold: nothing recorded twice");
    assert_eq!(suite.balance(&member).await.lifetime_earned, 11);
    // Members may not back-fill their own services.
    let status = suite
        .member(&member)
        .batch_record_services(pb::BatchRecordServicesRequest {
            requests: vec![service_request(&suite, &member, "paper:5", 0)],
        })
        .await
        .expect_err("a member");
    assert_eq!(status.code(), Code::PermissionDenied);
    let too_many = (0..201)
        .map(|i| service_request(&suite, &member, &format!("paper:x{i}"), 0))
        .collect();
    let status = suite
        .admin_a()
        .batch_record_services(pb::BatchRecordServicesRequest { requests: too_many })
        .await
        .expect_err("201 items");
    assert_invalid(&status, "requests");
}
