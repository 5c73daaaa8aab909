//! Spot checks (抽查): a reproducible sample of a unit's reported members.

use dualreport_proto::feedback::v1 as pb;

use crate::helpers::{Backend, assert_invalid, spawn};

async fn spot_checks_draw_a_reproducible_sample(backend: Backend) {
    let suite = spawn(backend).await;
    let mut members = Vec::new();
    for i in 0..6 {
        members.push(suite.registered_member(&format!("抽查{i}"), suite.a()).await);
    }
    suite.unreported_member("未报到者").await;
    let draw = |request_id: &str, percent: i32, seed: &str| pb::DrawSpotCheckRequest {
        request_id: request_id.into(),
        unit_org_id: suite.unit().into(),
        year: suite.year,
        sample_percent: percent,
        seed: seed.into(),
    };
    let status = suite
        .unit_admin()
        .draw_spot_check(draw("", 10, ""))
        .await
        .expect_err("below the policy's 20%");
    assert_invalid(&status, "sample_percent");

    let first = suite
        .unit_admin()
        .draw_spot_check(draw("s1", 0, ""))
        .await
        .expect("draw")
        .into_inner()
        .spot_check
        .expect("check");
    assert_eq!((first.population, first.sample_percent), (6, 20));
    assert_eq!(first.items.len(), 2, "20% of 6, rounded up");
    let second = suite
        .unit_admin()
        .draw_spot_check(draw("s2", 20, &first.seed))
        .await
        .expect("draw again")
        .into_inner()
        .spot_check
        .expect("check");
    assert_ne!(first.id, second.id);
    let ids = |c: &pb::SpotCheck| c.items.iter().map(|i| i.member_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ids(&second), "same seed, same members: same sample");
    assert!(
        ids(&first).iter().all(|m| members.contains(m)),
        "only reporting members"
    );

    let sampled = first.items[0].member_id.clone();
    let outcome = |member: &str, method: pb::CheckMethod| pb::RecordSpotCheckOutcomeRequest {
        spot_check_id: first.id.clone(),
        member_id: member.into(),
        method: method.into(),
        findings: "电话回访，服务情况属实".into(),
    };
    let recorded = suite
        .unit_admin()
        .record_spot_check_outcome(outcome(&sampled, pb::CheckMethod::Phoned))
        .await
        .expect("outcome")
        .into_inner()
        .spot_check
        .expect("check");
    let item = recorded.items.iter().find(|i| i.member_id == sampled).expect("item");
    assert_eq!(item.method, pb::CheckMethod::Phoned as i32);
    assert!(item.check_time.is_some());
    let outsider = members
        .iter()
        .find(|m| !ids(&first).contains(m))
        .expect("an unsampled member");
    let status = suite
        .unit_admin()
        .record_spot_check_outcome(outcome(outsider, pb::CheckMethod::Visited))
        .await
        .expect_err("not sampled");
    assert_invalid(&status, "member_id");
    let status = suite
        .unit_admin()
        .record_spot_check_outcome(outcome(&sampled, pb::CheckMethod::Unspecified))
        .await
        .expect_err("no method");
    assert_invalid(&status, "method");
}

dualreport_testkit::on_both_backends!(spot_checks_draw_a_reproducible_sample,);
