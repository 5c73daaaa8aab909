use dualreport_proto::feedback::v1 as pb;

use crate::helpers::{Backend, assert_invalid, spawn};
use crate::on_both_backends;

async fn a_member_who_skipped_reporting_is_warned_and_flagged(backend: Backend) {
    let suite = spawn(backend).await;
    let reported = suite.registered_member("孙到", suite.a()).await;
    let skipped = suite.unreported_member("吴缺").await;

    // Before the deadline (S4: members report in March) nobody is warned for it.
    let early = suite.evaluate((suite.year, 3, 15)).await;
    assert!(
        !early
            .warnings
            .iter()
            .any(|w| w.rule == pb::WarningRule::NotReported as i32),
        "{early:?}"
    );

    let after = suite.evaluate((suite.year, 4, 1)).await;
    let warning = after
        .warnings
        .iter()
        .find(|w| w.rule == pb::WarningRule::NotReported as i32)
        .expect("a not-reported warning");
    assert_eq!(warning.subject_id, skipped);
    assert_eq!(warning.subject_name, "吴缺");
    assert_eq!(warning.unit_org_id, suite.unit());
    assert_eq!(
        warning.community_id,
        suite.a(),
        "the community where the member lives must act too"
    );
    assert!(warning.blocks_excellent);
    assert!(warning.evidence.contains("deadline"), "{}", warning.evidence);
    assert!(
        !after
            .warnings
            .iter()
            .any(|w| w.subject_id == reported && w.rule == pb::WarningRule::NotReported as i32)
    );
    // The unit recorded no community service in January–March.
    assert!(
        after
            .warnings
            .iter()
            .any(|w| w.rule == pb::WarningRule::UnitMonthlyActivities as i32)
    );
    assert_eq!(after.raised, 1, "the unit's months were already warned about on 03-15");

    // Evaluating again raises nothing new.
    let again = suite.evaluate((suite.year, 4, 2)).await;
    assert_eq!(again.raised, 0);
    assert_eq!(again.warnings.len(), after.warnings.len());

    let eligibility = |member: String| {
        let client = suite.member(&member);
        let year = suite.year;
        async move {
            client
                .clone()
                .get_eligibility(pb::GetEligibilityRequest {
                    member_id: member,
                    year,
                })
                .await
                .expect("eligibility")
                .into_inner()
        }
    };
    let flagged = eligibility(skipped.clone()).await;
    assert!(!flagged.eligible_for_excellent);
    assert_eq!(flagged.warnings.len(), 1);
    assert!(eligibility(reported.clone()).await.eligible_for_excellent);

    // The community sees the warning too; the cloud is told.
    let community_view = suite
        .admin_a()
        .list_warnings(pb::ListWarningsRequest {
            year: suite.year,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .warnings;
    assert!(community_view.iter().any(|w| w.subject_id == skipped));
    suite
        .wait_for_event("warning.raised", |e| {
            e.kind == "warning.raised" && e.member_id == skipped
        })
        .await;
}

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

on_both_backends!(
    a_member_who_skipped_reporting_is_warned_and_flagged,
    spot_checks_draw_a_reproducible_sample
);
