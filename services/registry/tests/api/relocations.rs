//! Relocations (迁移): the old registration ends and the new report is tracked.

use dualreport_platform::auth::Role;
use dualreport_proto::common::v1::Date;
use dualreport_proto::registry::v1 as pb;
use dualreport_testkit::member_token;
use tonic::Code;

use crate::helpers::*;

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
        to_district: String::new(),
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

dualreport_testkit::on_both_backends!(relocation_ends_the_old_registration_and_tracks_the_new_report,);
