use dualreport_proto::feedback::v1 as pb;
use dualreport_proto::feedback::v1::feedback_service_client::FeedbackServiceClient;

use crate::helpers::{Backend, assert_invalid, spawn, spawn_at};
use dualreport_testkit::on_both_backends;

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
    // The first quarter is over: no joint meeting was attended in it.
    assert!(
        after
            .warnings
            .iter()
            .any(|w| w.rule == pb::WarningRule::UnitQuarterlyMeetings as i32 && w.evidence.contains("Q1"))
    );
    assert_eq!(
        after.raised, 2,
        "not reported and the quarter's meeting; the unit's months were already warned about on 03-15"
    );

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

    // Judging a day that has not come is refused: year-end warnings cannot
    // be raised before the year is over.
    let status = suite
        .unit_admin()
        .evaluate_warnings(pb::EvaluateWarningsRequest {
            unit_org_id: suite.unit().into(),
            year: suite.year,
            as_of: Some(dualreport_proto::common::v1::Date {
                year: suite.year + 1,
                month: 1,
                day: 15,
            }),
        })
        .await
        .expect_err("a day after today");
    assert_invalid(&status, "as_of");

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

    // The member reports late: re-evaluation withdraws the warning (kept in
    // the history with when and why), and it bars nothing any more.
    dualreport_testkit::registry::report_and_confirm(
        &suite.registry_channel,
        &skipped,
        suite.a(),
        suite.year,
        "第一党支部",
    )
    .await;
    let later = suite.evaluate((suite.year, 4, 3)).await;
    assert_eq!((later.raised, later.withdrawn), (0, 1), "{later:?}");
    let withdrawn = later
        .warnings
        .iter()
        .find(|w| w.rule == pb::WarningRule::NotReported as i32 && w.subject_id == skipped)
        .expect("the warning stays in the history");
    assert!(withdrawn.withdraw_time.is_some());
    assert!(
        withdrawn.withdraw_reason.contains("no longer holds"),
        "{}",
        withdrawn.withdraw_reason
    );
    assert!(
        eligibility(skipped.clone()).await.eligible_for_excellent,
        "only warnings in force bar 优秀"
    );
    suite
        .wait_for_event("warning.withdrawn", |e| {
            e.kind == "warning.withdrawn" && e.member_id == skipped
        })
        .await;
    let again = suite.evaluate((suite.year, 4, 4)).await;
    assert_eq!((again.raised, again.withdrawn), (0, 0), "withdrawn once");
}

/// The yearly service minimum counts every service scoring holds, also the
/// paper records a community enters with RecordService directly.
async fn services_recorded_in_scoring_count_towards_the_minimum(backend: Backend) {
    let year = chrono::Datelike::year(&dualreport_policy::china_today());
    let next_january = dualreport_policy::Date::from_ymd_opt(year + 1, 1, 20).expect("a date");
    let suite = spawn_at(backend, |_| {}, next_january).await;
    let served = suite.registered_member("周勤", suite.a()).await;
    let idle = suite.registered_member("郑闲", suite.a()).await;
    for i in 0..8 {
        suite.award(&served, &format!("paper-{i}"), 0).await;
    }
    let year_end = suite.evaluate((year + 1, 1, 10)).await;
    let below = |member: &str| {
        year_end.warnings.iter().any(|w| {
            w.rule == pb::WarningRule::BelowServiceMinimum as i32 && w.subject_id == member && w.withdraw_time.is_none()
        })
    };
    assert!(!below(&served), "8 services recorded in scoring count: {year_end:?}");
    assert!(below(&idle), "no service at all is below the minimum");
    let warned = year_end
        .warnings
        .iter()
        .find(|w| w.rule == pb::WarningRule::BelowServiceMinimum as i32 && w.subject_id == idle)
        .expect("warning");
    assert!(
        warned.evidence.starts_with("0 confirmed services"),
        "{}",
        warned.evidence
    );
}

/// Three replicas evaluating one unit at once (15 calls): none fails, each
/// warning is stored once and raised once in the feed.
async fn concurrent_evaluations_on_several_replicas_agree(backend: Backend) {
    let suite = spawn(backend).await;
    suite.registered_member("冯到", suite.a()).await;
    let skipped = suite.unreported_member("陈缺").await;
    let channels = [suite.channel.clone(), suite.replica().await, suite.replica().await];
    let token = dualreport_testkit::admin_token(dualreport_platform::auth::Role::UnitAdmin, suite.unit());
    let calls = (0..15).map(|i| {
        let mut client = FeedbackServiceClient::new(dualreport_testkit::authed(channels[i % 3].clone(), &token));
        let request = pb::EvaluateWarningsRequest {
            unit_org_id: suite.unit().into(),
            year: suite.year,
            as_of: Some(dualreport_proto::common::v1::Date {
                year: suite.year,
                month: 4,
                day: 1,
            }),
        };
        async move { client.evaluate_warnings(request).await }
    });
    let results = futures::future::join_all(calls).await;
    let mut raised = 0;
    let mut standing = None;
    for result in results {
        let reply = result.expect("no concurrent evaluation fails").into_inner();
        raised += reply.raised;
        standing = Some(reply.warnings.len());
    }
    let standing = standing.expect("replies");
    assert!(standing >= 2, "the member and the unit's months");
    assert_eq!(raised as usize, standing, "each warning raised by exactly one call");
    let feed = suite.backlog("").await;
    let events = feed.iter().filter(|e| e.kind == "warning.raised").count();
    assert_eq!(events, standing, "one warning.raised per warning");
    assert!(
        feed.iter()
            .any(|e| e.kind == "warning.raised" && e.member_id == skipped)
    );
}

/// The unit rules by kind of unit record (S2 三): a joint meeting attended in
/// the first quarter and a joint theme party day in the first half-year clear
/// those warnings; community activities alone do not.
async fn joint_meetings_and_theme_days_are_counted_by_kind(backend: Backend) {
    use dualreport_proto::volunteering::v1 as vpb;
    use dualreport_proto::volunteering::v1::volunteering_service_client::VolunteeringServiceClient;
    let suite = spawn(backend).await;
    suite.pair_unit_with_a().await;
    let rules = |reply: &pb::EvaluateWarningsResponse, rule: pb::WarningRule| {
        reply
            .warnings
            .iter()
            .any(|w| w.rule == rule as i32 && w.withdraw_time.is_none())
    };
    let mid_year = suite.evaluate((suite.year, 7, 2)).await;
    assert!(rules(&mid_year, pb::WarningRule::UnitQuarterlyMeetings), "{mid_year:?}");
    assert!(rules(&mid_year, pb::WarningRule::UnitThemeDays), "{mid_year:?}");

    let mut community = VolunteeringServiceClient::new(dualreport_testkit::authed(
        dualreport_testkit::channel(suite.volunteering.port),
        &dualreport_testkit::admin_token(dualreport_platform::auth::Role::CommunityAdmin, suite.a()),
    ));
    let record = |kind: vpb::UnitServiceKind, month: i32, content: &str| vpb::RecordUnitServiceRequest {
        request_id: String::new(),
        unit_org_id: suite.unit().into(),
        community_id: suite.a().into(),
        served_on: Some(dualreport_proto::common::v1::Date {
            year: suite.year,
            month,
            day: 1,
        }),
        content: content.into(),
        minutes: 120,
        agreement_id: String::new(),
        evidence_ids: Vec::new(),
        kind: kind.into(),
    };
    // January 1st: a day that has come whenever the test runs.
    for (kind, content) in [
        (vpb::UnitServiceKind::JointMeeting, "参加街道党建联席会议"),
        (vpb::UnitServiceKind::ThemePartyDay, "与社区联合开展主题党日"),
    ] {
        let recorded = community
            .record_unit_service(record(kind, 1, content))
            .await
            .expect("record")
            .into_inner()
            .record
            .expect("record");
        assert_eq!(recorded.kind, kind as i32);
    }
    let after = suite.evaluate((suite.year, 7, 2)).await;
    let meetings = after
        .warnings
        .iter()
        .find(|w| w.rule == pb::WarningRule::UnitQuarterlyMeetings as i32 && w.withdraw_time.is_none())
        .expect("Q2 still had no meeting");
    assert!(
        meetings.evidence.contains("Q2") && !meetings.evidence.contains("Q1"),
        "{}",
        meetings.evidence
    );
    assert!(
        !rules(&after, pb::WarningRule::UnitThemeDays),
        "H1 had its theme day: {after:?}"
    );
}

/// Feedback's own events are a journal of their own (the city tier reads
/// it): warnings raised, with the year they are about, for the suite's
/// services only.
async fn warnings_are_journalled_for_the_city_tier(backend: Backend) {
    use common::event_journal_service_client::EventJournalServiceClient;
    use dualreport_proto::common::v1 as common;
    let suite = spawn(backend).await;
    let skipped = suite.unreported_member("郑缺").await;
    let after = suite.evaluate((suite.year, 4, 1)).await;
    assert!(after.raised > 0, "{after:?}");

    let journal =
        |token: &str| EventJournalServiceClient::new(dualreport_testkit::authed(suite.channel.clone(), token));
    let entries = journal(&dualreport_testkit::service_token())
        .list_journal(common::ListJournalRequest {
            after_sequence: 0,
            limit: 1000,
        })
        .await
        .expect("the service role reads the journal")
        .into_inner()
        .entries;
    let raised: Vec<_> = entries.iter().filter(|e| e.kind == "warning.raised").collect();
    assert_eq!(raised.len(), usize::try_from(after.raised).unwrap(), "{entries:?}");
    assert!(raised.iter().all(|e| e.year == suite.year), "{raised:?}");
    let warned = raised
        .iter()
        .find(|e| e.member_id == skipped)
        .expect("the member's warning is journalled");
    assert!(warned.text.starts_with("not_reported:"), "{}", warned.text);
    assert!(
        entries.windows(2).all(|w| w[0].sequence < w[1].sequence),
        "oldest first"
    );
    assert!(
        entries.iter().all(|e| ["warning.", "notice.", "objection."]
            .iter()
            .any(|k| e.kind.starts_with(k))),
        "only feedback's own events, not those it read from the other journals: {entries:?}"
    );
    let tail = journal(&dualreport_testkit::service_token())
        .list_journal(common::ListJournalRequest {
            after_sequence: entries.last().unwrap().sequence,
            limit: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert!(tail.is_empty(), "{tail:?}");

    let refused = journal(&dualreport_testkit::admin_token(
        dualreport_platform::auth::Role::UnitAdmin,
        suite.unit(),
    ))
    .list_journal(common::ListJournalRequest::default())
    .await
    .expect_err("a unit admin does not read the journal");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
}

on_both_backends!(
    warnings_are_journalled_for_the_city_tier,
    joint_meetings_and_theme_days_are_counted_by_kind,
    concurrent_evaluations_on_several_replicas_agree,
    a_member_who_skipped_reporting_is_warned_and_flagged,
    services_recorded_in_scoring_count_towards_the_minimum,
);
