//! Work queues over attendance: a community's services checked in but not
//! confirmed, filtered by status, payment and the day served.

use dualreport_platform::wire::date_to_pb;
use dualreport_proto::common::v1::DateRange;
use dualreport_proto::volunteering::v1 as pb;
use dualreport_testkit::on_both_backends;
use tonic::Code;
use volunteering::domain::china_today;

use crate::helpers::*;

fn days(back_first: u64, back_last: u64) -> DateRange {
    let today = china_today();
    let back = |n| date_to_pb(today - chrono::Days::new(n));
    DateRange {
        first: Some(back(back_first)),
        last: Some(back(back_last)),
    }
}

async fn a_community_lists_what_waits_for_its_confirmation(backend: Backend) {
    let suite = spawn(backend).await;
    let activity = suite.running_activity("队列", 10).await;
    let code = suite.code(&activity.id).await;
    let mut checked_in = Vec::new();
    for name in ["列一", "列二", "列三"] {
        let member = suite.registered_member(name, suite.a()).await;
        checked_in.push(suite.check_in(&member, &activity.id, &code).await.expect("check in").id);
    }
    suite.confirm(&checked_in[0], 0).await.expect("confirm one");
    let queue = |status: pb::AttendanceStatus, served: Option<DateRange>| pb::ListAttendanceRequest {
        community_id: suite.a().into(),
        status: status.into(),
        served,
        page_size: 500,
        ..Default::default()
    };
    let admin = suite.admin_a();
    let ids = |request: pb::ListAttendanceRequest| {
        let mut client = admin.clone();
        async move {
            client
                .list_attendance(request)
                .await
                .expect("queue")
                .into_inner()
                .attendance
                .into_iter()
                .map(|a| a.id)
                .collect::<Vec<_>>()
        }
    };
    let mut waiting = checked_in[1..].to_vec();
    waiting.sort();
    assert_eq!(ids(queue(pb::AttendanceStatus::CheckedIn, None)).await, waiting);
    // The activity runs now: served today (or yesterday, just after midnight).
    assert_eq!(
        ids(queue(pb::AttendanceStatus::CheckedIn, Some(days(1, 0)))).await,
        waiting
    );
    assert!(
        ids(queue(pb::AttendanceStatus::CheckedIn, Some(days(9, 3))))
            .await
            .is_empty()
    );
    assert_eq!(
        ids(queue(pb::AttendanceStatus::Confirmed, None)).await,
        [checked_in[0].clone()]
    );
    // The district sees the same queue across its communities; B's admin does not.
    let district = |status: pb::AttendanceStatus| pb::ListAttendanceRequest {
        org_id: suite.city.district.id.clone(),
        status: status.into(),
        page_size: 500,
        ..Default::default()
    };
    let mut district_admin = suite.client(&dualreport_testkit::admin_token(
        dualreport_platform::auth::Role::DistrictAdmin,
        &suite.city.district.id,
    ));
    let across: Vec<String> = district_admin
        .list_attendance(district(pb::AttendanceStatus::CheckedIn))
        .await
        .expect("the district's queue")
        .into_inner()
        .attendance
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(across, waiting);
    let status = suite
        .admin_b()
        .list_attendance(district(pb::AttendanceStatus::CheckedIn))
        .await
        .expect_err("a community admin is not over the district");
    assert_eq!(status.code(), Code::PermissionDenied);
    let owed = pb::ListAttendanceRequest {
        payment: pb::PaymentStatus::None.into(),
        ..queue(pb::AttendanceStatus::Unspecified, None)
    };
    assert_eq!(ids(owed).await, waiting, "nothing to pay before confirmation");

    // "Mark everyone attended": the queue feeds the batch, and empties.
    let requests = waiting
        .iter()
        .map(|id| pb::ConfirmAttendanceRequest {
            request_id: format!("queue-{id}"),
            attendance_id: id.clone(),
            ..Default::default()
        })
        .collect();
    let results = suite
        .admin_a()
        .batch_confirm_attendance(pb::BatchConfirmAttendanceRequest { requests })
        .await
        .expect("batch")
        .into_inner()
        .results;
    assert!(results.iter().all(|r| r.error.is_none()), "{results:?}");
    assert!(ids(queue(pb::AttendanceStatus::CheckedIn, None)).await.is_empty());

    // Another community's admin, and a member, may not read A's queue.
    for mut outsider in [
        suite.admin_b(),
        suite.member(&suite.registered_member("旁人", suite.a()).await),
    ] {
        let status = outsider
            .list_attendance(queue(pb::AttendanceStatus::CheckedIn, None))
            .await
            .expect_err("not theirs");
        assert_eq!(status.code(), Code::PermissionDenied);
    }
    // Exactly one of activity, member and community; a valid range.
    let status = suite
        .admin_a()
        .list_attendance(pb::ListAttendanceRequest {
            activity_id: activity.id.clone(),
            ..queue(pb::AttendanceStatus::Unspecified, None)
        })
        .await
        .expect_err("two subjects");
    assert_invalid(&status, "activity_id");
    let status = suite
        .admin_a()
        .list_attendance(queue(pb::AttendanceStatus::Unspecified, Some(days(0, 1))))
        .await
        .expect_err("backwards");
    assert_invalid(&status, "served");
}

on_both_backends!(a_community_lists_what_waits_for_its_confirmation);
