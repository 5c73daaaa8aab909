//! Paying points survives a scoring outage: confirmations succeed while
//! scoring is down, and every one is paid exactly once after it starts.

use std::collections::HashSet;

use dualreport_proto::volunteering::v1 as pb;

use crate::helpers::*;
use dualreport_testkit::on_both_backends;

async fn confirmations_while_scoring_is_down_are_paid_exactly_once_later(backend: Backend) {
    let mut suite = spawn_with(backend, false, |_| {}).await;
    let mut members = Vec::new();
    for i in 0..5 {
        members.push(suite.registered_member(&format!("党员{i}"), suite.a()).await);
    }
    // 20 activities × 5 members = 100 confirmations, scoring not running.
    let mut confirmed = Vec::new();
    for n in 0..20 {
        let activity = suite.running_activity(&format!("周末服务{n}"), 10).await;
        let code = suite.code(&activity.id).await;
        for member in &members {
            let attendance = suite.check_in(member, &activity.id, &code).await.expect("check in");
            let attendance = suite
                .confirm(&attendance.id, (n % 3) - 1)
                .await
                .expect("confirm while scoring is down");
            assert_eq!(attendance.payment, pb::PaymentStatus::Pending as i32);
            confirmed.push(attendance.id);
        }
    }
    assert_eq!(confirmed.len(), 100);
    // The relay has been failing meanwhile, and says why.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let pending = suite.attendance_of(&members[0]).await;
    assert!(pending.iter().all(|a| a.payment == pb::PaymentStatus::Pending as i32));
    assert!(
        pending.iter().any(|a| !a.payment_error.is_empty()),
        "the last delivery error is visible: {pending:?}"
    );
    // Operators list the payments that keep failing, across the district.
    let failing = pb::ListAttendanceRequest {
        org_id: suite.city.district.id.clone(),
        payment_failing: true,
        page_size: 500,
        ..Default::default()
    };
    let operator = suite.client(&dualreport_testkit::admin_token(
        dualreport_platform::auth::Role::DistrictAdmin,
        &suite.city.district.id,
    ));
    let stuck = operator
        .clone()
        .list_attendance(failing.clone())
        .await
        .expect("failing payments")
        .into_inner()
        .attendance;
    assert!(!stuck.is_empty(), "the relay has failed on some by now");
    assert!(
        stuck
            .iter()
            .all(|a| a.payment == pb::PaymentStatus::Pending as i32 && !a.payment_error.is_empty()),
        "{stuck:?}"
    );

    suite.scoring = Some(start_scoring(&suite.registry, suite.scoring_port));
    let mut keys = HashSet::new();
    let mut total = 0;
    for member in &members {
        let paid = suite.wait_paid(member).await;
        assert_eq!(paid.len(), 20);
        let ledger = suite.ledger(member).await;
        assert_eq!(ledger.len(), 20, "each confirmation paid once for {member}");
        for entry in &ledger {
            assert!(keys.insert(entry.source_key.clone()), "{} paid twice", entry.source_key);
            total += entry.points;
        }
    }
    assert_eq!(keys.len(), 100);
    let stuck = operator
        .clone()
        .list_attendance(failing)
        .await
        .expect("failing payments")
        .into_inner()
        .attendance;
    assert!(stuck.is_empty(), "every payment went through: {stuck:?}");
    // Adjustments cycle -1, 0, +1 over the activities: 7×4 + 7×5 + 6×6 per member.
    let per_member: i32 = (0..20).map(|n| 5 + (n % 3) - 1).sum();
    assert_eq!(total, per_member * 5);
}

on_both_backends!(confirmations_while_scoring_is_down_are_paid_exactly_once_later);
