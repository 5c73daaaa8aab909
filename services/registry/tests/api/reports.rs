use dualreport_platform::auth::Role;
use dualreport_proto::common::v1::Date;
use dualreport_proto::registry::v1 as pb;
use dualreport_testkit::member_token;
use tonic::Code;

use crate::helpers::*;

fn unit_report(city: &City, request_id: &str) -> pb::SubmitUnitReportRequest {
    pb::SubmitUnitReportRequest {
        request_id: request_id.into(),
        unit_org_id: city.unit.id.clone(),
        community_id: city.community_a.id.clone(),
        year: this_year(),
        resources: "场地、医疗志愿者".into(),
        suggestions: "每月一次义诊".into(),
    }
}

async fn unit_reports_are_received_with_a_receipt(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let mut unit_admin = app.admin(Role::UnitAdmin, &city.unit.id);
    let report = unit_admin
        .submit_unit_report(unit_report(&city, "u-1"))
        .await
        .expect("submit")
        .into_inner()
        .report
        .expect("report");
    assert_eq!(report.status, pb::UnitReportStatus::Submitted as i32);
    assert_eq!(report.assignment, pb::Assignment::Chosen as i32);
    assert_eq!(report.org_name, "区卫健委机关党委");
    assert_eq!(report.superior_org_id, city.committee.id);

    let status = unit_admin
        .submit_unit_report(unit_report(&city, "u-2"))
        .await
        .expect_err("second report");
    assert_reason(&status, Code::AlreadyExists, "ERROR_REASON_ALREADY_EXISTS");

    let receive = pb::ReceiveUnitReportRequest {
        request_id: String::new(),
        report_id: report.id.clone(),
    };
    let status = app
        .admin(Role::CommunityAdmin, &city.community_b.id)
        .receive_unit_report(receive.clone())
        .await
        .expect_err("another community");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let status = unit_admin
        .receive_unit_report(receive.clone())
        .await
        .expect_err("the unit itself");
    assert_eq!(status.code(), Code::PermissionDenied);

    let received = app
        .admin(Role::CommunityAdmin, &city.community_a.id)
        .receive_unit_report(receive.clone())
        .await
        .expect("receive")
        .into_inner()
        .report
        .expect("report");
    assert_eq!(received.status, pb::UnitReportStatus::Received as i32);
    let receipt = received.receipt.expect("receipt");
    assert_eq!(receipt.number, format!("T-{}-U-000001", this_year()));
    assert!(receipt.issue_time.is_some());

    // The unit and its superior org fetch the receipt; another unit cannot.
    for mut reader in [unit_admin.clone(), app.admin(Role::UnitAdmin, &city.committee.id)] {
        let fetched = reader
            .get_receipt(pb::GetReceiptRequest {
                number: receipt.number.clone(),
            })
            .await
            .expect("fetch receipt")
            .into_inner()
            .receipt
            .expect("receipt");
        assert_eq!(fetched.report_id, report.id);
    }
    let other = create_org(
        &mut app.city(),
        "另一单位",
        pb::OrganizationType::Enterprise,
        &city.district.id,
    )
    .await;
    let status = app
        .admin(Role::UnitAdmin, &other.id)
        .get_receipt(pb::GetReceiptRequest {
            number: receipt.number.clone(),
        })
        .await
        .expect_err("not theirs");
    assert_eq!(status.code(), Code::PermissionDenied);

    let status = app
        .admin(Role::CommunityAdmin, &city.community_a.id)
        .receive_unit_report(receive)
        .await
        .expect_err("received twice");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_WRONG_STATE");

    // The street assigns the other unit to a community inside it (S2).
    let assigned = app
        .admin(Role::StreetAdmin, &city.street.id)
        .submit_unit_report(pb::SubmitUnitReportRequest {
            unit_org_id: other.id.clone(),
            community_id: city.community_b.id.clone(),
            ..unit_report(&city, "")
        })
        .await
        .expect("street assigns")
        .into_inner()
        .report
        .expect("report");
    assert_eq!(assigned.assignment, pb::Assignment::ByStreet as i32);
    assert_eq!(assigned.assigned_by_org_id, city.street.id);

    // A superior org assigns a community to a unit below it.
    let sibling = create_org(
        &mut app.city(),
        "区教体局机关党委",
        pb::OrganizationType::Organ,
        &city.committee.id,
    )
    .await;
    let by_superior = app
        .admin(Role::UnitAdmin, &city.committee.id)
        .submit_unit_report(pb::SubmitUnitReportRequest {
            unit_org_id: sibling.id.clone(),
            ..unit_report(&city, "")
        })
        .await
        .expect("superior assigns")
        .into_inner()
        .report
        .expect("report");
    assert_eq!(by_superior.assignment, pb::Assignment::BySuperior as i32);
    assert_eq!(by_superior.assigned_by_org_id, city.committee.id);
    // A unit cannot report for its sibling.
    let status = unit_admin
        .submit_unit_report(pb::SubmitUnitReportRequest {
            unit_org_id: sibling.id.clone(),
            ..unit_report(&city, "")
        })
        .await
        .expect_err("not its own unit");
    assert_eq!(status.code(), Code::PermissionDenied);
}

/// S3: the unit org may organise its members' reporting; another unit may not.
async fn units_may_report_for_their_members(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let member = unit_member(&app, &city, "王芳").await;
    let request = pb::SubmitMemberReportRequest {
        request_id: String::new(),
        member_id: member.id.clone(),
        community_id: city.community_a.id.clone(),
        year: this_year(),
        letter_id: String::new(),
    };
    let other = create_org(
        &mut app.city(),
        "另一单位",
        pb::OrganizationType::Enterprise,
        &city.district.id,
    )
    .await;
    let status = app
        .admin(Role::UnitAdmin, &other.id)
        .submit_member_report(request.clone())
        .await
        .expect_err("another unit");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let report = app
        .admin(Role::UnitAdmin, &city.unit.id)
        .submit_member_report(request)
        .await
        .expect("the member's own unit")
        .into_inner()
        .report
        .expect("report");
    assert_eq!(report.unit_org_id, city.unit.id);
}

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
        .submit_unit_report(unit_report(&city, ""))
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

async fn relocation_ends_the_old_registration_and_tracks_the_new_report(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let member = unit_member(&app, &city, "王芳").await;
    let mut me = app.client(&member_token(&member.id));
    let first = report_and_confirm(&app, &member.id, &city.community_a.id, "一支部").await;

    let relocate = |to: &str| pb::DeclareRelocationRequest {
        request_id: String::new(),
        member_id: member.id.clone(),
        to_community_id: to.into(),
        reason: "搬家".into(),
    };
    let status = me
        .declare_relocation(relocate(&city.community_a.id))
        .await
        .expect_err("same community");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_SAME_COMMUNITY");
    let relocation = me
        .declare_relocation(relocate(&city.community_b.id))
        .await
        .expect("relocate")
        .into_inner()
        .relocation
        .expect("relocation");
    assert_eq!(relocation.status, pb::RelocationStatus::Pending as i32);
    assert!(!relocation.overdue);
    let old = me
        .get_member_report(pb::GetMemberReportRequest {
            report_id: first.id.clone(),
        })
        .await
        .expect("old report")
        .into_inner()
        .report
        .expect("report");
    assert_eq!(old.status, pb::MemberReportStatus::Ended as i32);
    let moved = me
        .get_member(pb::GetMemberRequest {
            member_id: member.id.clone(),
            view: pb::MemberView::Masked as i32,
        })
        .await
        .expect("member")
        .into_inner()
        .member
        .expect("member");
    assert_eq!(
        moved.profile.expect("profile").residence_community_id,
        city.community_b.id,
        "the member moved"
    );

    let today = registry::domain::china_today();
    let later = today + chrono::Days::new(31);
    let as_of = Date {
        year: chrono::Datelike::year(&later),
        month: chrono::Datelike::month(&later) as i32,
        day: chrono::Datelike::day(&later) as i32,
    };
    let mut district = app.admin(Role::DistrictAdmin, &city.district.id);
    let overdue = |as_of: Option<Date>| pb::ListRelocationsRequest {
        org_id: city.district.id.clone(),
        overdue_only: true,
        as_of,
        ..Default::default()
    };
    assert!(
        district
            .list_relocations(overdue(None))
            .await
            .expect("list")
            .into_inner()
            .relocations
            .is_empty()
    );
    let late = district
        .list_relocations(overdue(Some(as_of)))
        .await
        .expect("list")
        .into_inner()
        .relocations;
    assert_eq!(late.len(), 1, "a month without a new report is overdue");
    assert!(late[0].overdue);

    let second = report_and_confirm(&app, &member.id, &city.community_b.id, "二支部").await;
    assert!(
        district
            .list_relocations(overdue(Some(as_of)))
            .await
            .expect("list")
            .into_inner()
            .relocations
            .is_empty()
    );
    let all = district
        .list_relocations(pb::ListRelocationsRequest {
            org_id: city.district.id.clone(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .relocations;
    assert_eq!(all[0].status, pb::RelocationStatus::Fulfilled as i32);
    assert_eq!(all[0].fulfilled_by_report_id, second.id);
}

dualreport_testkit::on_both_backends!(
    units_may_report_for_their_members,
    parallel_reports_and_confirmations_do_not_duplicate,
    unit_reports_are_received_with_a_receipt,
    members_report_with_a_letter_and_are_confirmed,
    reports_outside_the_window_are_refused,
    relocation_ends_the_old_registration_and_tracks_the_new_report,
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
