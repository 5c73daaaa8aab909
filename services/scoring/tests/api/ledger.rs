//! The ledger: exact points, source-key idempotency, and every refused award.

use dualreport_proto::scoring::v1 as pb;
use scoring::domain::{Date, china_today};
use tonic::Code;

use crate::helpers::*;
use dualreport_testkit::on_both_backends;

on_both_backends!(
    twenty_mixed_services_give_exactly_the_rules_points_and_stars,
    a_redelivered_award_is_not_counted_twice,
    the_jurisdictions_policy_overrides_the_preset,
    a_member_who_moved_is_served_only_where_registered_on_the_day,
);

/// A member belongs to one community at a time: after moving from A to B
/// today, a service at A dated today, or at B dated before the move, is
/// refused NOT_REGISTERED; A keeps what was earned there before the move.
async fn a_member_who_moved_is_served_only_where_registered_on_the_day(backend: Backend) {
    use dualreport_testkit::registry as fixtures;
    let suite = spawn(backend).await;
    let today = china_today();
    let year = chrono::Datelike::year(&today);
    let (a, b) = (suite.city.community_a.id.clone(), suite.city.community_b.id.clone());
    let member = fixtures::unit_member(&suite.registry_channel, &suite.city, "迁居", &a)
        .await
        .id;
    fixtures::report_and_confirm(&suite.registry_channel, &member, &a, year, "第一党支部").await;
    let before = today.pred_opt().filter(|d| chrono::Datelike::year(d) == year);
    let service = |community: &str, key: &str, on: Date| pb::RecordServiceRequest {
        request_id: String::new(),
        source_key: key.into(),
        member_id: member.clone(),
        community_id: community.into(),
        served_on: Some(date(on)),
        content: "社区环境卫生保洁".into(),
        adjustment: 0,
    };
    if let Some(before) = before {
        suite
            .admin_a()
            .record_service(service(&a, "a-before", before))
            .await
            .expect("served at A before the move");
    }
    fixtures::relocate(&suite.registry_channel, &member, &b).await;
    let moved = fixtures::report_and_confirm(&suite.registry_channel, &member, &b, year, "第二党支部").await;
    assert_eq!(
        moved.registered_from,
        Some(date(today)),
        "B's registration starts on the move"
    );

    let status = suite
        .admin_a()
        .record_service(service(&a, "a-after", today))
        .await
        .expect_err("at A after the move");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_REGISTERED");
    if let Some(before) = before {
        let status = suite
            .community_admin(&b)
            .record_service(service(&b, "b-before", before))
            .await
            .expect_err("at B before the move");
        assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_REGISTERED");
    }
    suite
        .community_admin(&b)
        .record_service(service(&b, "b-after", today))
        .await
        .expect("at B from the move on");
    let balance = suite.balance(&member).await;
    let at = |c: &str| {
        balance
            .accounts
            .iter()
            .find(|x| x.community_id == c)
            .map_or(0, |x| x.earned)
    };
    assert_eq!(at(&b), 5);
    assert_eq!(
        at(&a),
        if before.is_some() { 5 } else { 0 },
        "A keeps what was earned there"
    );
}

/// Points and stars are policy values: a district's `[policy]` overrides reach
/// every award and settlement.
async fn the_jurisdictions_policy_overrides_the_preset(backend: Backend) {
    let suite = spawn_with(backend, |s| {
        s.policy.base_points = Some(4);
        s.policy.max_adjustment = Some(1);
        s.policy.points_per_star = Some(5);
        s.policy.max_stars = Some(3);
    })
    .await;
    let member = suite.registered_member("李娜", suite.a()).await;
    let status = suite
        .admin_a()
        .record_service(service_request(&suite, &member, "k0", 2))
        .await
        .expect_err("beyond the overridden bound of 1");
    assert_invalid(&status, "adjustment");
    for i in 0..6 {
        let entry = suite.serve(&member, &format!("k{i}"), 1).await;
        assert_eq!((entry.base_points, entry.points), (4, 5));
    }
    let settlement = suite.settle().await;
    let line = suite.lines(&settlement).await[0].clone();
    assert_eq!(
        (line.points, line.stars),
        (30, 3),
        "6 stars by 5 points a star, capped at 3"
    );
    let rules = suite
        .member(&member)
        .get_scoring_rules(pb::GetScoringRulesRequest {})
        .await
        .expect("rules")
        .into_inner()
        .rules
        .expect("rules");
    assert_eq!(
        (
            rules.base_points,
            rules.max_adjustment,
            rules.points_per_star,
            rules.max_stars
        ),
        (4, 1, 5, 3)
    );
}

async fn twenty_mixed_services_give_exactly_the_rules_points_and_stars(backend: Backend) {
    let suite = spawn(backend).await;
    let mixed = suite.registered_member("张敏", suite.a()).await;
    let steady = suite.registered_member("李强", suite.a()).await;
    let adjustments = [-3, -2, -1, 0, 1, 2, 3];
    let mut expected = 0;
    for i in 0..20 {
        let adjustment = adjustments[i % adjustments.len()];
        let entry = suite.serve(&mixed, &format!("attendance:m{i}"), adjustment).await;
        assert_eq!(
            (entry.base_points, entry.adjustment, entry.points),
            (5, adjustment, 5 + adjustment)
        );
        expected += 5 + adjustment;
    }
    // 20 services: three full ±3 cycles (sum 0) and -3 -2 -1 0 1 2 → 100 - 3 = 97.
    assert_eq!(expected, 97);
    for i in 0..22 {
        suite.serve(&steady, &format!("attendance:s{i}"), 0).await;
    }
    let balance = suite.balance(&mixed).await;
    assert_eq!(balance.lifetime_earned, 97);
    assert_eq!(balance.accounts[0].spendable, 97);
    assert_eq!((balance.periods[0].earned, balance.periods[0].stars), (97, 9));

    let settlement = suite.settle().await;
    let lines = suite.lines(&settlement).await;
    let line = |id: &str| {
        lines
            .iter()
            .find(|l| l.subject.as_ref().is_some_and(|s| s.id == id))
            .cloned()
            .expect("line")
    };
    assert_eq!((line(&mixed).points, line(&mixed).stars), (97, 9));
    assert_eq!(
        (line(&steady).points, line(&steady).stars),
        (110, 10),
        "a 110-point half-year gives 10 stars, not 11"
    );
    assert_eq!(line(&mixed).subject_name, "张敏");
    assert_eq!(
        lines[0].subject.as_ref().expect("subject").id,
        steady,
        "ranked by stars"
    );
}

async fn a_redelivered_award_is_not_counted_twice(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("王芳", suite.a()).await;
    let first = suite.serve(&member, "attendance:42", 2).await;
    let again = suite.serve(&member, "attendance:42", 2).await;
    assert_eq!(first.id, again.id);
    // The volunteering service's relay delivers the same key many times at once.
    let deliveries = (0..8).map(|_| {
        let mut client = suite.service();
        let request = service_request(&suite, &member, "attendance:43", 0);
        async move { client.record_service(request).await }
    });
    let ids: std::collections::HashSet<String> = futures::future::join_all(deliveries)
        .await
        .into_iter()
        .map(|r| r.expect("delivered").into_inner().entry.expect("entry").id)
        .collect();
    assert_eq!(ids.len(), 1, "every delivery answers with the one entry");
    assert_eq!(suite.balance(&member).await.lifetime_earned, 7 + 5);

    // The same key for someone else is a caller's bug, not a second award.
    let other = suite.registered_member("赵磊", suite.a()).await;
    let status = suite
        .admin_a()
        .record_service(service_request(&suite, &other, "attendance:42", 0))
        .await
        .expect_err("reused key");
    assert_reason(&status, Code::AlreadyExists, "ERROR_REASON_SOURCE_KEY_REUSED");
    assert_eq!(suite.balance(&other).await.lifetime_earned, 0);
}
