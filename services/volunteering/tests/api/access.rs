//! Every caller stays inside its scope; refusals say so.

use dualreport_proto::volunteering::v1 as pb;
use tonic::Code;

use crate::helpers::*;
use dualreport_testkit::on_both_backends;

async fn callers_outside_their_scope_are_refused(backend: Backend) {
    let suite = spawn_with(backend, false, |_| {}).await;
    let member = suite.registered_member("蒋一", suite.a()).await;
    let other = suite.registered_member("蒋二", suite.b()).await;
    let post = suite.standard_post(0).await;

    // A member claims only for themselves.
    let status = suite
        .member(&other)
        .claim_post(pb::ClaimPostRequest {
            request_id: String::new(),
            member_id: member.clone(),
            post_id: post.id.clone(),
            year: suite.year,
        })
        .await
        .expect_err("for someone else");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");

    // What community A publishes is not community B's members' to read.
    let status = suite
        .member(&other)
        .list_pledges(pb::ListPledgesRequest {
            community_id: suite.a().into(),
            year: suite.year,
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .expect_err("another community");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");

    // B's admin neither creates A's activities nor confirms A's attendance.
    let activity = suite.running_activity("A的活动", 5).await;
    let code = suite.code(&activity.id).await;
    let attendance = suite.check_in(&member, &activity.id, &code).await.expect("check in");
    let status = suite
        .admin_b()
        .confirm_attendance(pb::ConfirmAttendanceRequest {
            request_id: String::new(),
            attendance_id: attendance.id.clone(),
            adjustment: 0,
            note: String::new(),
            evidence_ids: Vec::new(),
        })
        .await
        .expect_err("another community's attendance");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let status = suite
        .admin_b()
        .issue_check_in_code(pb::IssueCheckInCodeRequest {
            activity_id: activity.id.clone(),
        })
        .await
        .expect_err("another community's activity");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");

    // A member cannot confirm their own attendance, nor read another's records.
    let status = suite
        .member(&member)
        .confirm_attendance(pb::ConfirmAttendanceRequest {
            request_id: String::new(),
            attendance_id: attendance.id.clone(),
            adjustment: 3,
            note: String::new(),
            evidence_ids: Vec::new(),
        })
        .await
        .expect_err("self-confirmation");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let status = suite
        .member(&other)
        .list_attendance(pb::ListAttendanceRequest {
            activity_id: String::new(),
            member_id: member.clone(),
            ..Default::default()
        })
        .await
        .expect_err("someone else's attendance");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");

    // A member cannot act for a unit; no token, no answer.
    let status = suite
        .member(&member)
        .create_agreement(pb::CreateAgreementRequest {
            request_id: String::new(),
            unit_org_id: suite.city.unit.id.clone(),
            community_id: suite.a().into(),
            year: suite.year,
            resources: Vec::new(),
            needs: Vec::new(),
            projects: Vec::new(),
            pledge: None,
        })
        .await
        .expect_err("member as unit");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let mut anonymous = dualreport_proto::volunteering::v1::volunteering_service_client::VolunteeringServiceClient::new(
        suite.channel.clone(),
    );
    let status = anonymous
        .list_posts(pb::ListPostsRequest {
            community_id: suite.a().into(),
            ..Default::default()
        })
        .await
        .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
}

on_both_backends!(callers_outside_their_scope_are_refused);
