//! The six steps (六步工作法) and the feedback loop, across the four real
//! services, on each backend: report → claim a post → pledge → serve (paid to
//! scoring through volunteering's outbox) → stars → redeem; then the
//! community's summary table and notice to the unit, an upheld objection
//! corrected in scoring, a laggard warned, and all of it on the cloud's feed.

use chrono::Datelike as _;
use dualreport_platform::auth::Role;
use dualreport_policy::china_today;
use dualreport_proto::feedback::v1 as fpb;
use dualreport_proto::registry::v1 as rpb;
use dualreport_proto::scoring::v1 as spb;
use dualreport_proto::volunteering::v1 as vpb;
use dualreport_testkit::registry::{report_and_confirm, unit_member, unit_report_received};
use dualreport_testkit::{admin_token, assert_reason, channel, member_token, mint};
use e2e::{Backend, Suite, eventually};
use tonic::Code;

dualreport_testkit::on_both_backends!(the_six_steps_and_the_feedback_loop_across_four_services);

fn timestamp(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

async fn the_six_steps_and_the_feedback_loop_across_four_services(backend: Backend) {
    let suite = Suite::start(backend, &[]).await;
    let registry = channel(suite.registry.port);
    let today = china_today();
    let year = today.year();
    let half = if today.month() <= 6 { 1 } else { 2 };
    let a = suite.city.community_a.id.clone();
    let unit = suite.city.unit.id.clone();
    let community = admin_token(Role::CommunityAdmin, &a);
    let other_community = admin_token(Role::CommunityAdmin, &suite.city.community_b.id);
    let unit_admin = admin_token(Role::UnitAdmin, &unit);

    // ── 1. 报到: the unit reports to community A and gets a receipt; a member
    //       reports and is confirmed into a branch; a colleague never reports.
    let unit_report = unit_report_received(&registry, &unit, &a, year).await;
    assert_eq!(unit_report.status, rpb::UnitReportStatus::Received as i32);
    assert!(!unit_report.receipt.expect("receipt").number.is_empty());
    let member = unit_member(&registry, &suite.city, "李志愿", &a).await.id;
    let confirmed = report_and_confirm(&registry, &member, &a, year, "第一党支部").await;
    assert_eq!(confirmed.status, rpb::MemberReportStatus::Confirmed as i32);
    let laggard = unit_member(&registry, &suite.city, "赵未到", &a).await.id;
    let as_member = member_token(&member);

    // ── 2. 认岗: community A sets a post; the member claims it, the laggard may not.
    let post = suite
        .volunteering(&community)
        .create_post(vpb::CreatePostRequest {
            request_id: "post-1".into(),
            community_id: a.clone(),
            name: "楼道清洁岗".into(),
            description: "楼道与绿地保洁".into(),
        })
        .await
        .expect("create post")
        .into_inner()
        .post
        .expect("post");
    let claim = suite
        .volunteering(&as_member)
        .claim_post(vpb::ClaimPostRequest {
            request_id: "claim-1".into(),
            member_id: member.clone(),
            post_id: post.id.clone(),
            year,
        })
        .await
        .expect("claim")
        .into_inner()
        .claim
        .expect("claim");
    assert_eq!(claim.post_name, "楼道清洁岗");
    let refused = suite
        .volunteering(&member_token(&laggard))
        .claim_post(vpb::ClaimPostRequest {
            request_id: "claim-2".into(),
            member_id: laggard.clone(),
            post_id: post.id.clone(),
            year,
        })
        .await
        .expect_err("an unreported member claims nothing");
    assert_reason(&refused, Code::FailedPrecondition, "ERROR_REASON_NOT_REGISTERED");

    // ── 3. 承诺: the member pledges two services for the year.
    suite
        .volunteering(&as_member)
        .set_pledge(vpb::SetPledgeRequest {
            member_id: member.clone(),
            community_id: a.clone(),
            year,
            items: vec!["环境卫生保洁".into()],
            services: 2,
            hours: 4,
            way: "activity".into(),
        })
        .await
        .expect("pledge");

    // ── 4. 践诺: two activities; the member checks in with the code, the
    //       community confirms with evidence; the outbox pays scoring.
    let now = chrono::Utc::now().timestamp();
    for (n, adjustment) in [(1, 1), (2, 0)] {
        let mut admin = suite.volunteering(&community);
        let activity = admin
            .create_activity(vpb::CreateActivityRequest {
                request_id: format!("activity-{n}"),
                community_id: a.clone(),
                kind: vpb::ActivityKind::Regular.into(),
                title: format!("楼道清洁第{n}次"),
                content: "清理楼道杂物".into(),
                post_id: post.id.clone(),
                place: "3号楼".into(),
                start_time: timestamp(now - 1800),
                end_time: timestamp(now + 1800),
                capacity: 10,
                organiser: "第一党支部".into(),
                ..Default::default()
            })
            .await
            .expect("activity")
            .into_inner()
            .activity
            .expect("activity");
        let code = admin
            .issue_check_in_code(vpb::IssueCheckInCodeRequest {
                activity_id: activity.id.clone(),
            })
            .await
            .expect("code")
            .into_inner()
            .code;
        let attendance = suite
            .volunteering(&as_member)
            .check_in(vpb::CheckInRequest {
                activity_id: activity.id.clone(),
                member_id: member.clone(),
                code,
            })
            .await
            .expect("check in")
            .into_inner()
            .attendance
            .expect("attendance");
        let evidence = admin
            .upload_evidence(vpb::UploadEvidenceRequest {
                community_id: a.clone(),
                kind: vpb::EvidenceKind::Text.into(),
                text: "楼道杂物已清理，居民满意".into(),
                ..Default::default()
            })
            .await
            .expect("evidence")
            .into_inner()
            .evidence
            .expect("evidence");
        // Another community may not confirm A's attendance.
        let status = suite
            .volunteering(&other_community)
            .confirm_attendance(vpb::ConfirmAttendanceRequest {
                attendance_id: attendance.id.clone(),
                ..Default::default()
            })
            .await
            .expect_err("out of scope");
        assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
        admin
            .confirm_attendance(vpb::ConfirmAttendanceRequest {
                request_id: format!("confirm-{n}"),
                attendance_id: attendance.id.clone(),
                adjustment,
                note: "认真负责".into(),
                evidence_ids: vec![evidence.id],
            })
            .await
            .expect("confirm");
    }
    let balance = || {
        let mut scoring = suite.scoring(&as_member);
        let member = member.clone();
        async move {
            scoring
                .get_balance(spb::GetBalanceRequest {
                    subject: Some(spb::Subject {
                        kind: spb::SubjectKind::Member.into(),
                        id: member,
                    }),
                })
                .await
                .expect("balance")
                .into_inner()
        }
    };
    // 5 + 1 and 5 + 0 base points, paid asynchronously by volunteering's relay.
    let paid = eventually("both services paid", || async {
        let b = balance().await;
        (b.lifetime_earned == 11).then_some(b)
    })
    .await;

    // ── 5. 评星: 11 points this half-year are one star (one per 10).
    let period = paid
        .periods
        .iter()
        .find(|p| p.community_id == a)
        .expect("points at community A");
    assert_eq!((period.earned, period.stars), (11, 1), "{:?}", paid.periods);
    let status = suite
        .scoring(&community)
        .settle_period(spb::SettlePeriodRequest {
            request_id: "settle-now".into(),
            community_id: a.clone(),
            period: Some(spb::Period { year, half }),
        })
        .await
        .expect_err("the half-year is not over");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_PERIOD_NOT_ENDED");

    // ── 6. 激励: the member exchanges points at A's supermarket.
    let item = suite
        .scoring(&community)
        .create_item(spb::CreateItemRequest {
            request_id: "item-1".into(),
            community_id: a.clone(),
            name: "洗衣液".into(),
            description: "党员志愿服务超市".into(),
            price_points: 4,
            stock: 10,
        })
        .await
        .expect("item")
        .into_inner()
        .item
        .expect("item");
    suite
        .scoring(&as_member)
        .redeem(spb::RedeemRequest {
            request_id: "redeem-1".into(),
            member_id: member.clone(),
            item_id: item.id,
            quantity: 1,
        })
        .await
        .expect("redeem");
    let after = balance().await;
    let account = after.accounts.iter().find(|x| x.community_id == a).expect("account");
    assert_eq!((account.earned, account.spendable), (11, 7));

    // ── 反馈: the community's summary table for the unit reads registry and scoring.
    let feedback = |token: &str| suite.feedback(token);
    let table = feedback(&community)
        .get_summary_table(fpb::GetSummaryTableRequest {
            unit_org_id: unit.clone(),
            community_id: a.clone(),
            period: Some(fpb::Period { year, half }),
        })
        .await
        .expect("summary")
        .into_inner()
        .table
        .expect("table");
    assert!(table.complete, "{table:?}");
    let row = |id: &str| table.rows.iter().find(|r| r.member_id == id).expect("row");
    assert_eq!(
        (row(&member).reported, row(&member).points, row(&member).stars),
        (true, 11, 1)
    );
    assert_eq!((row(&laggard).reported, row(&laggard).points), (false, 0));

    // The notice (附录E) to the paired unit, acknowledged by it; community B is not paired.
    let notice = |token: &str, community_id: &str| {
        let mut client = feedback(token);
        let request = fpb::SendNoticeRequest {
            request_id: format!("notice-{community_id}"),
            community_id: community_id.into(),
            unit_org_id: unit.clone(),
            period: Some(fpb::Period { year, half }),
            title: "上半年在职党员报到服务情况反馈".into(),
            body: "请督促未报到党员尽快报到".into(),
            urgent: false,
        };
        async move { client.send_notice(request).await }
    };
    let status = notice(&other_community, &suite.city.community_b.id)
        .await
        .expect_err("B is not paired with the unit");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_PAIRED");
    let sent = notice(&community, &a)
        .await
        .expect("notice")
        .into_inner()
        .notice
        .expect("notice");
    let acked = feedback(&unit_admin)
        .acknowledge_notice(fpb::AcknowledgeNoticeRequest {
            notice_id: sent.id.clone(),
        })
        .await
        .expect("acknowledge")
        .into_inner()
        .notice
        .expect("notice");
    assert_eq!(acked.status, fpb::NoticeStatus::Acknowledged as i32);

    // The member objects to the second service's score (附录G); upheld: +2 in scoring.
    let entries = suite
        .scoring(&as_member)
        .list_entries(spb::ListEntriesRequest {
            subject: Some(spb::Subject {
                kind: spb::SubjectKind::Member.into(),
                id: member.clone(),
            }),
            ..Default::default()
        })
        .await
        .expect("entries")
        .into_inner()
        .entries;
    let disputed = entries
        .iter()
        .find(|e| e.kind == spb::EntryKind::Service as i32 && e.points == 5)
        .expect("the 5-point service");
    let objection = feedback(&as_member)
        .raise_objection(fpb::RaiseObjectionRequest {
            request_id: "objection-1".into(),
            entry_id: disputed.id.clone(),
            content: "服务两小时仅记基础分".into(),
        })
        .await
        .expect("raise")
        .into_inner()
        .objection
        .expect("objection");
    feedback(&community)
        .assign_objection(fpb::AssignObjectionRequest {
            objection_id: objection.id.clone(),
            department: "社区党委".into(),
        })
        .await
        .expect("assign");
    let decided = feedback(&community)
        .decide_objection(fpb::DecideObjectionRequest {
            request_id: "decide-1".into(),
            objection_id: objection.id.clone(),
            upheld: true,
            correction_points: 2,
            reason: "经现场核实，服务质量突出".into(),
        })
        .await
        .expect("decide")
        .into_inner()
        .objection
        .expect("objection");
    assert_eq!(decided.status, fpb::ObjectionStatus::Upheld as i32);
    assert_eq!(balance().await.lifetime_earned, 13);

    // The laggard is warned after the reporting deadline (feedback's policy
    // here: January 1st), judged as of today, and cannot be rated 优秀.
    let evaluated = feedback(&unit_admin)
        .evaluate_warnings(fpb::EvaluateWarningsRequest {
            unit_org_id: unit.clone(),
            year,
            as_of: None,
        })
        .await
        .expect("evaluate")
        .into_inner();
    let not_reported: Vec<&str> = evaluated
        .warnings
        .iter()
        .filter(|w| w.rule == fpb::WarningRule::NotReported as i32)
        .map(|w| w.subject_id.as_str())
        .collect();
    let today = dualreport_policy::china_today();
    if (chrono::Datelike::month(&today), chrono::Datelike::day(&today)) == (1, 1) {
        // On the deadline itself nobody is late yet, and nothing else below holds.
        assert!(not_reported.is_empty(), "{not_reported:?}");
        return;
    }
    assert_eq!(not_reported, [laggard.as_str()]);
    let eligibility = feedback(&member_token(&laggard))
        .get_eligibility(fpb::GetEligibilityRequest {
            member_id: laggard.clone(),
            year,
        })
        .await
        .expect("eligibility")
        .into_inner();
    assert!(!eligibility.eligible_for_excellent);

    // The party-building cloud's feed carries every step, each once.
    let cloud = mint(Role::Cloud, None, None, 3600);
    let kinds = eventually("the feed to carry the loop", || {
        let mut client = feedback(&cloud);
        async move {
            let mut stream = client
                .watch_events(fpb::WatchEventsRequest {
                    cursor: String::new(),
                    backlog_only: true,
                })
                .await
                .expect("watch")
                .into_inner();
            let mut kinds = Vec::new();
            while let Some(item) = stream.message().await.expect("event") {
                kinds.push(item.event.expect("event").kind);
            }
            let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
            (count("member_report.confirmed") == 1 && count("attendance.confirmed") == 2).then_some(kinds)
        }
    })
    .await;
    for kind in ["notice.sent", "objection.upheld", "warning.raised"] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    let card = feedback(&as_member)
        .get_performance_card(fpb::GetPerformanceCardRequest {
            member_id: member.clone(),
            year,
        })
        .await
        .expect("card")
        .into_inner()
        .card
        .expect("card");
    assert_eq!(card.services, 2, "{card:?}");
}
