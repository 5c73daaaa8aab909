use dualreport_platform::auth::Role;
use dualreport_proto::registry::v1 as pb;
use dualreport_testkit::member_token;
use tonic::Code;

use crate::helpers::*;

async fn members_report_with_a_letter_and_are_confirmed(backend: Backend) {
    let app = spawn_with(backend, |s| s.policy.letter_required = Some(true)).await;
    let city = build_city(&app).await;
    let mut unit_admin = app.admin(Role::UnitAdmin, &city.unit.id);
    let member = create_member(&mut unit_admin, profile("王芳", &city.unit.id, &city.community_a.id)).await;
    let absent = create_member(&mut unit_admin, profile("赵六", &city.unit.id, &city.community_a.id)).await;
    // Retired members are not in the in-service statistics.
    create_member(
        &mut unit_admin,
        pb::MemberProfile {
            category: pb::MemberCategory::Retired as i32,
            ..profile("退休老党员", &city.unit.id, &city.community_a.id)
        },
    )
    .await;
    let mut me = app.client(&member_token(&member.id));
    let submit = |letter_id: &str| pb::SubmitMemberReportRequest {
        request_id: String::new(),
        member_id: member.id.clone(),
        community_id: city.community_a.id.clone(),
        year: this_year(),
        letter_id: letter_id.into(),
    };
    let status = me.submit_member_report(submit("")).await.expect_err("letter required");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_LETTER_REQUIRED");

    let letter = unit_admin
        .issue_introduction_letter(pb::IssueIntroductionLetterRequest {
            request_id: String::new(),
            member_id: member.id.clone(),
            community_id: city.community_a.id.clone(),
            year: this_year(),
        })
        .await
        .expect("letter")
        .into_inner()
        .letter
        .expect("letter");
    assert_eq!(letter.number, format!("T-{}-L-000001", this_year()));
    let report = me
        .submit_member_report(submit(&letter.id))
        .await
        .expect("report")
        .into_inner()
        .report
        .expect("report");
    assert_eq!(report.status, pb::MemberReportStatus::Submitted as i32);
    let status = me
        .submit_member_report(submit(&letter.id))
        .await
        .expect_err("second report");
    assert_reason(&status, Code::AlreadyExists, "ERROR_REASON_ALREADY_EXISTS");

    let confirm = pb::ConfirmMemberReportRequest {
        request_id: "c-1".into(),
        report_id: report.id.clone(),
        branch: "第一党支部".into(),
    };
    let status = app
        .admin(Role::CommunityAdmin, &city.community_b.id)
        .confirm_member_report(confirm.clone())
        .await
        .expect_err("another community's admin");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let mut community = app.admin(Role::CommunityAdmin, &city.community_a.id);
    let confirmed = community
        .confirm_member_report(confirm.clone())
        .await
        .expect("confirm")
        .into_inner()
        .report
        .expect("report");
    assert_eq!(confirmed.status, pb::MemberReportStatus::Confirmed as i32);
    assert_eq!(confirmed.branch, "第一党支部");
    let receipt = confirmed.receipt.expect("receipt");
    assert_eq!(
        receipt.unit_org_id, city.unit.id,
        "the receipt goes back to the unit org"
    );
    // A retry answers the same; a second confirmation is refused.
    let retried = community
        .confirm_member_report(confirm.clone())
        .await
        .expect("retry")
        .into_inner()
        .report
        .expect("report");
    assert_eq!(retried.receipt.expect("receipt").number, receipt.number);
    let status = community
        .confirm_member_report(pb::ConfirmMemberReportRequest {
            request_id: "c-2".into(),
            ..confirm
        })
        .await
        .expect_err("confirmed twice");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_WRONG_STATE");

    for mut reader in [unit_admin.clone(), me.clone()] {
        reader
            .get_receipt(pb::GetReceiptRequest {
                number: receipt.number.clone(),
            })
            .await
            .expect("receipt readable");
    }
    let register = community
        .list_register(pb::ListRegisterRequest {
            community_id: city.community_a.id.clone(),
            ..Default::default()
        })
        .await
        .expect("register")
        .into_inner();
    assert_eq!(register.entries.len(), 1);
    assert_eq!(register.entries[0].member_name, "王芳");
    assert_eq!(register.entries[0].branch, "第一党支部");

    unit_admin
        .record_non_report_reason(pb::RecordNonReportReasonRequest {
            request_id: String::new(),
            member_id: absent.id.clone(),
            year: this_year(),
            reason: "长期外派援疆".into(),
        })
        .await
        .expect("reason");
    let stats = app
        .admin(Role::DistrictAdmin, &city.district.id)
        .get_report_statistics(pb::GetReportStatisticsRequest {
            org_id: city.district.id.clone(),
            year: this_year(),
            ..Default::default()
        })
        .await
        .expect("statistics")
        .into_inner();
    let unit = stats
        .units
        .iter()
        .find(|u| u.unit_org_id == city.unit.id)
        .expect("unit line");
    assert_eq!(
        (
            unit.in_service_member_count,
            unit.registered_members,
            unit.reported_members
        ),
        (3, 2, 1)
    );
    let not_reported = city_admin_not_reported(&app, &city.district.id).await;
    let theirs: Vec<_> = not_reported.iter().filter(|m| m.unit_org_id == city.unit.id).collect();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].reason, "长期外派援疆");
    let community_line = stats
        .communities
        .iter()
        .find(|c| c.community_id == city.community_a.id)
        .expect("community line");
    assert_eq!(community_line.members_reported, 1);
    let status = app
        .admin(Role::CommunityAdmin, &city.community_a.id)
        .get_report_statistics(pb::GetReportStatisticsRequest {
            org_id: city.district.id.clone(),
            year: this_year(),
            ..Default::default()
        })
        .await
        .expect_err("a community does not read the district's statistics");
    assert_eq!(status.code(), Code::PermissionDenied);
}

async fn reports_outside_the_window_are_refused(backend: Backend) {
    let today = registry::domain::china_today();
    let closed = if chrono::Datelike::ordinal(&today) == 1 {
        "01-02"
    } else {
        "01-01"
    };
    let app = spawn_with(backend, |s| {
        s.policy.member_report_window_start = Some(closed.into());
        s.policy.member_report_window_end = Some(closed.into());
        s.policy.unit_report_window_start = Some(closed.into());
        s.policy.unit_report_window_end = Some(closed.into());
    })
    .await;
    let city = build_city(&app).await;
    let mut unit_admin = app.admin(Role::UnitAdmin, &city.unit.id);
    let member = create_member(&mut unit_admin, profile("王芳", &city.unit.id, &city.community_a.id)).await;
    let status = app
        .client(&member_token(&member.id))
        .submit_member_report(pb::SubmitMemberReportRequest {
            request_id: String::new(),
            member_id: member.id.clone(),
            community_id: city.community_a.id.clone(),
            year: this_year(),
            letter_id: String::new(),
        })
        .await
        .expect_err("outside the window");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_OUTSIDE_WINDOW");
    let status = unit_admin
        .submit_unit_report(crate::unit_reports::unit_report(&city, ""))
        .await
        .expect_err("outside the window");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_OUTSIDE_WINDOW");
    let reports = unit_admin
        .list_member_reports(pb::ListMemberReportsRequest {
            member_id: member.id.clone(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert!(reports.reports.is_empty(), "nothing was written");
}

dualreport_testkit::on_both_backends!(
    a_unit_issues_letters_for_its_roster_in_one_batch,
    a_community_confirms_its_queue_in_one_batch,
    parallel_reports_and_confirmations_do_not_duplicate,
    members_report_with_a_letter_and_are_confirmed,
    reports_outside_the_window_are_refused,
);

/// Parallel submissions and confirmations never produce two active reports
/// or two receipts; the losers get a clear error, never INTERNAL.
async fn parallel_reports_and_confirmations_do_not_duplicate(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let member = unit_member(&app, &city, "王芳").await;
    let me = app.client(&member_token(&member.id));
    let submissions = (0..8).map(|i| {
        let mut client = me.clone();
        let request = pb::SubmitMemberReportRequest {
            request_id: format!("parallel-{i}"),
            member_id: member.id.clone(),
            community_id: city.community_a.id.clone(),
            year: this_year(),
            letter_id: String::new(),
        };
        tokio::spawn(async move { client.submit_member_report(request).await })
    });
    let mut accepted = Vec::new();
    for outcome in futures::future::join_all(submissions).await {
        match outcome.expect("join") {
            Ok(response) => accepted.push(response.into_inner().report.expect("report")),
            Err(status) => assert!(
                matches!(status.code(), Code::AlreadyExists | Code::Aborted),
                "losers are told why: {status:?}"
            ),
        }
    }
    assert_eq!(accepted.len(), 1, "exactly one active report");

    let community = app.admin(Role::CommunityAdmin, &city.community_a.id);
    let confirmations = (0..8).map(|i| {
        let mut client = community.clone();
        let request = pb::ConfirmMemberReportRequest {
            request_id: format!("confirm-{i}"),
            report_id: accepted[0].id.clone(),
            branch: "第一党支部".into(),
        };
        tokio::spawn(async move { client.confirm_member_report(request).await })
    });
    let mut confirmed = 0;
    for outcome in futures::future::join_all(confirmations).await {
        match outcome.expect("join") {
            Ok(_) => confirmed += 1,
            Err(status) => assert!(
                matches!(status.code(), Code::FailedPrecondition | Code::Aborted),
                "losers are told why: {status:?}"
            ),
        }
    }
    assert_eq!(confirmed, 1, "one confirmation, one receipt");
    let stats = app
        .city()
        .get_report_statistics(pb::GetReportStatisticsRequest {
            org_id: city.district.id.clone(),
            year: this_year(),
            ..Default::default()
        })
        .await
        .expect("statistics")
        .into_inner();
    let line = stats
        .communities
        .iter()
        .find(|c| c.community_id == city.community_a.id)
        .expect("line");
    assert_eq!(line.members_reported, 1);
}

/// Every page of the district's not-reported members.
async fn city_admin_not_reported(app: &TestApp, org_id: &str) -> Vec<pb::NotReportedMember> {
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .city()
            .list_not_reported_members(pb::ListNotReportedMembersRequest {
                org_id: org_id.into(),
                year: this_year(),
                page_size: 1,
                page_token: token,
            })
            .await
            .expect("not reported")
            .into_inner();
        all.extend(page.members);
        if page.next_page_token.is_empty() {
            return all;
        }
        token = page.next_page_token;
    }
}

/// A community's queue of reports awaiting its confirmation, confirmed in
/// one batch: the good items go through, a report of another community and
/// an unknown id are refused item by item, and the queue is empty after.
async fn a_community_confirms_its_queue_in_one_batch(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let a = city.community_a.id.clone();
    let submit = |member: String, community: String| {
        let mut me = app.client(&member_token(&member));
        async move {
            me.submit_member_report(pb::SubmitMemberReportRequest {
                request_id: String::new(),
                member_id: member.clone(),
                community_id: community,
                year: this_year(),
                letter_id: String::new(),
            })
            .await
            .expect("report")
            .into_inner()
            .report
            .expect("report")
            .id
        }
    };
    let mut waiting = Vec::new();
    for name in ["队一", "队二", "队三"] {
        let member = unit_member(&app, &city, name).await;
        waiting.push(submit(member.id, a.clone()).await);
    }
    let elsewhere = submit(unit_member(&app, &city, "别处").await.id, city.community_b.id.clone()).await;
    let mut admin_a = app.admin(Role::CommunityAdmin, &a);
    let queue = |status: pb::MemberReportStatus| pb::ListMemberReportsRequest {
        org_id: a.clone(),
        year: this_year(),
        status: status.into(),
        page_size: 500,
        ..Default::default()
    };
    let pending: Vec<String> = admin_a
        .list_member_reports(queue(pb::MemberReportStatus::Submitted))
        .await
        .expect("queue")
        .into_inner()
        .reports
        .into_iter()
        .map(|r| r.id)
        .collect();
    let mut expected = waiting.clone();
    expected.sort();
    assert_eq!(pending, expected, "the three reports at A wait; B's is not A's");

    let item = |report_id: &str| pb::ConfirmMemberReportRequest {
        request_id: format!("confirm-{report_id}"),
        report_id: report_id.into(),
        branch: "第一党支部".into(),
    };
    let mut requests: Vec<_> = waiting.iter().map(|id| item(id)).collect();
    requests.insert(1, item(&elsewhere));
    requests.push(item("no-such-report"));
    let results = admin_a
        .batch_confirm_member_reports(pb::BatchConfirmMemberReportsRequest { requests })
        .await
        .expect("batch")
        .into_inner()
        .results;
    assert_eq!(results.len(), 5);
    assert_eq!(
        results[1].error.as_ref().map(|e| e.code),
        Some(Code::PermissionDenied as i32)
    );
    assert_eq!(results[4].error.as_ref().map(|e| e.code), Some(Code::NotFound as i32));
    let confirmed: Vec<&str> = results
        .iter()
        .filter_map(|r| r.report.as_ref())
        .filter(|r| r.status == pb::MemberReportStatus::Confirmed as i32)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(confirmed.len(), 3);
    let still = admin_a
        .list_member_reports(queue(pb::MemberReportStatus::Submitted))
        .await
        .expect("queue")
        .into_inner()
        .reports;
    assert!(still.is_empty(), "the queue is empty: {still:?}");
    let done = admin_a
        .list_member_reports(queue(pb::MemberReportStatus::Confirmed))
        .await
        .expect("confirmed")
        .into_inner()
        .reports;
    assert_eq!(done.len(), 3);
}

/// A unit admin walks its roster and issues every letter in one batch: the
/// unit's members get theirs, another unit's member and a bad item are
/// refused item by item, and the batch retried issues nothing twice.
async fn a_unit_issues_letters_for_its_roster_in_one_batch(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let mut unit_admin = app.admin(Role::UnitAdmin, &city.unit.id);
    for name in ["函一", "函二", "函三"] {
        unit_member(&app, &city, name).await;
    }
    let outsider = dualreport_testkit::registry::create_member(
        &mut app.admin(Role::UnitAdmin, &city.committee.id),
        dualreport_testkit::registry::profile("外单位", &city.committee.id, &city.community_a.id),
    )
    .await;
    let roster: Vec<String> = unit_admin
        .list_members(pb::ListMembersRequest {
            unit_org_id: city.unit.id.clone(),
            page_size: 200,
            ..Default::default()
        })
        .await
        .expect("roster")
        .into_inner()
        .members
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(roster.len(), 3);
    let letter = |member_id: &str, community_id: &str| pb::IssueIntroductionLetterRequest {
        request_id: format!("letter-{member_id}"),
        member_id: member_id.into(),
        community_id: community_id.into(),
        year: this_year(),
    };
    let mut requests: Vec<_> = roster.iter().map(|id| letter(id, &city.community_a.id)).collect();
    requests.insert(1, letter(&outsider.id, &city.community_a.id));
    requests.push(letter(&roster[0], ""));
    let batch = pb::BatchIssueIntroductionLettersRequest { requests };
    let results = unit_admin
        .batch_issue_introduction_letters(batch.clone())
        .await
        .expect("batch")
        .into_inner()
        .results;
    assert_eq!(results.len(), 5, "one result per item, in order");
    assert_eq!(
        results[1].error.as_ref().map(|e| e.code),
        Some(Code::PermissionDenied as i32),
        "another unit's member"
    );
    let bad = results[4].error.as_ref().expect("no community");
    assert_eq!(bad.code, Code::InvalidArgument as i32);
    assert_eq!(bad.fields, ["requests[4].community_id"]);
    let issued: Vec<String> = results
        .iter()
        .filter_map(|r| r.letter.as_ref())
        .map(|l| l.number.clone())
        .collect();
    assert_eq!(issued.len(), 3);

    let again = unit_admin
        .batch_issue_introduction_letters(batch)
        .await
        .expect("retried batch")
        .into_inner()
        .results;
    let reissued: Vec<String> = again
        .iter()
        .filter_map(|r| r.letter.as_ref())
        .map(|l| l.number.clone())
        .collect();
    assert_eq!(reissued, issued, "the same letters, none twice");
    let status = unit_admin
        .batch_issue_introduction_letters(pb::BatchIssueIntroductionLettersRequest { requests: Vec::new() })
        .await
        .expect_err("empty batch");
    assert_invalid(&status, "requests");
}
