//! Unit reports (单位报到): received with a receipt, and units reporting for their members.

use dualreport_platform::auth::Role;
use dualreport_proto::registry::v1 as pb;
use tonic::Code;

use crate::helpers::*;

pub(crate) fn unit_report(city: &City, request_id: &str) -> pb::SubmitUnitReportRequest {
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

dualreport_testkit::on_both_backends!(
    units_may_report_for_their_members,
    unit_reports_are_received_with_a_receipt,
);
