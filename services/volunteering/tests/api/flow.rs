//! Post → claim → pledge → activity → check-in → confirm → points, end to end.

use dualreport_proto::volunteering::v1 as pb;
use tonic::Code;

use crate::helpers::*;
use dualreport_testkit::on_both_backends;

async fn a_confirmed_service_is_paid_once_and_counts_towards_the_pledge(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("李青", suite.a()).await;
    let mut me = suite.member(&member);

    // 认岗: the community starts with the S2 catalogue; the member claims a post.
    let posts = suite
        .admin_a()
        .list_posts(pb::ListPostsRequest {
            community_id: suite.a().into(),
            ..Default::default()
        })
        .await
        .expect("posts")
        .into_inner()
        .posts;
    assert_eq!(posts.len(), 15, "14 standard posts and 其他");
    assert!(posts.iter().all(|p| p.standard));
    let post = &posts[3];
    assert_eq!(post.name, "环境卫生保洁岗");
    let claim = me
        .claim_post(pb::ClaimPostRequest {
            request_id: "claim-1".into(),
            member_id: member.clone(),
            post_id: post.id.clone(),
            year: suite.year,
        })
        .await
        .expect("claim")
        .into_inner()
        .claim
        .expect("claim");
    assert_eq!(claim.post_name, "环境卫生保洁岗");
    let claims = me
        .list_claims(pb::ListClaimsRequest {
            member_id: member.clone(),
            community_id: String::new(),
            year: suite.year,
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .expect("claims")
        .into_inner();
    assert_eq!(claims.claims.len(), 1);
    assert!(claims.meets_minimum);

    // 承诺: two services, two hours.
    let pledge = me
        .set_pledge(pb::SetPledgeRequest {
            member_id: member.clone(),
            community_id: suite.a().into(),
            year: suite.year,
            items: vec!["楼道清洁".into(), "垃圾分类督导".into()],
            services: 2,
            hours: 2,
            way: "周末到社区".into(),
        })
        .await
        .expect("pledge")
        .into_inner()
        .pledge
        .expect("pledge");
    assert_eq!(pledge.progress.expect("progress").services_done, 0);

    // 践诺: a two-hour activity, checked in with the organiser's code, confirmed +2.
    let activity = suite.running_activity("楼道清洁日", 10).await;
    let signed = me
        .sign_up(pb::SignUpRequest {
            request_id: String::new(),
            activity_id: activity.id.clone(),
            member_id: member.clone(),
        })
        .await
        .expect("sign up")
        .into_inner()
        .attendance
        .expect("attendance");
    assert_eq!(signed.status, pb::AttendanceStatus::SignedUp as i32);
    let code = suite.code(&activity.id).await;
    let attendance = suite.check_in(&member, &activity.id, &code).await.expect("check in");
    assert_eq!(attendance.status, pb::AttendanceStatus::CheckedIn as i32);
    assert_eq!(attendance.minutes, 120);
    let confirmed = suite.confirm(&attendance.id, 2).await.expect("confirm");
    assert_eq!(confirmed.status, pb::AttendanceStatus::Confirmed as i32);
    assert_eq!(confirmed.payment, pb::PaymentStatus::Pending as i32);

    // The relay pays it to scoring: 5 + 2 points, keyed by the attendance.
    let paid = suite.wait_paid(&member).await;
    let ledger = suite.ledger(&member).await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].points, 7);
    assert_eq!(ledger[0].source_key, format!("attendance:{}", attendance.id));
    assert_eq!(paid[0].entry_id, ledger[0].id);

    // Progress is computed from confirmed service: one of two services, two of two hours.
    let progress = me
        .get_pledge(pb::GetPledgeRequest {
            member_id: member.clone(),
            year: suite.year,
        })
        .await
        .expect("pledge")
        .into_inner()
        .pledge
        .expect("pledge")
        .progress
        .expect("progress");
    assert_eq!(
        (progress.services_done, progress.hours_done, progress.fulfilled),
        (1, 2, false)
    );

    // A second confirmed service fulfils the pledge; it is public within the community.
    let second = suite.running_activity("垃圾分类宣传", 10).await;
    let code = suite.code(&second.id).await;
    let attendance = suite
        .check_in(&member, &second.id, &code)
        .await
        .expect("walk-in check in");
    suite.confirm(&attendance.id, 0).await.expect("confirm");
    suite.wait_paid(&member).await;
    let neighbour = suite.registered_member("王芳", suite.a()).await;
    let listed = suite
        .member(&neighbour)
        .list_pledges(pb::ListPledgesRequest {
            community_id: suite.a().into(),
            year: suite.year,
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .expect("pledges")
        .into_inner()
        .pledges;
    assert_eq!(listed.len(), 1);
    let progress = listed[0].progress.expect("progress");
    assert_eq!((progress.services_done, progress.fulfilled), (2, true));
    let ledger = suite.ledger(&member).await;
    assert_eq!(ledger.iter().map(|e| e.points).sum::<i32>(), 12);
}

async fn retried_mutations_do_not_duplicate(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("赵敏", suite.a()).await;
    let request = pb::CreatePostRequest {
        request_id: "post-1".into(),
        community_id: suite.a().into(),
        name: "楼栋长岗".into(),
        description: "联系楼栋居民".into(),
    };
    let first = suite
        .admin_a()
        .create_post(request.clone())
        .await
        .expect("post")
        .into_inner();
    let again = suite.admin_a().create_post(request).await.expect("retry").into_inner();
    assert_eq!(first.post.expect("post").id, again.post.expect("post").id);

    let activity = suite.running_activity("义诊", 5).await;
    let code = suite.code(&activity.id).await;
    let attendance = suite.check_in(&member, &activity.id, &code).await.expect("check in");
    let confirm = pb::ConfirmAttendanceRequest {
        request_id: "confirm-1".into(),
        attendance_id: attendance.id.clone(),
        adjustment: 1,
        note: String::new(),
        evidence_ids: Vec::new(),
    };
    suite
        .admin_a()
        .confirm_attendance(confirm.clone())
        .await
        .expect("confirm");
    let retried = suite
        .admin_a()
        .confirm_attendance(confirm)
        .await
        .expect("retry answers the same");
    assert_eq!(retried.into_inner().attendance.expect("attendance").id, attendance.id);
    suite.wait_paid(&member).await;
    assert_eq!(suite.ledger(&member).await.len(), 1, "one confirmation, one entry");
}

/// Retries racing the first call (the same `request_id`, at once) all get
/// the first call's result — never ABORTED or "already confirmed" — and the
/// same id with another request is refused.
async fn racing_retries_agree_and_a_reused_id_is_refused(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("钱进", suite.a()).await;
    let activity = suite.running_activity("义诊", 5).await;
    let code = suite.code(&activity.id).await;
    let attendance = suite.check_in(&member, &activity.id, &code).await.expect("check in");
    let confirm = pb::ConfirmAttendanceRequest {
        request_id: "confirm-race".into(),
        attendance_id: attendance.id.clone(),
        adjustment: 1,
        note: String::new(),
        evidence_ids: Vec::new(),
    };
    let racing = (0..8).map(|_| {
        let mut client = suite.admin_a();
        let request = confirm.clone();
        async move { client.confirm_attendance(request).await }
    });
    for result in futures::future::join_all(racing).await {
        let confirmed = result
            .expect("every racing retry answers the first result")
            .into_inner();
        let confirmed = confirmed.attendance.expect("attendance");
        assert_eq!(confirmed.status, pb::AttendanceStatus::Confirmed as i32);
    }
    suite.wait_paid(&member).await;
    assert_eq!(suite.ledger(&member).await.len(), 1, "confirmed and paid once");

    let create = pb::CreateActivityRequest {
        request_id: "activity-race".into(),
        ..suite.activity_request("清洁家园", 10, 60, 120)
    };
    let racing = (0..8).map(|_| {
        let mut client = suite.admin_a();
        let request = create.clone();
        async move { client.create_activity(request).await }
    });
    let ids: std::collections::BTreeSet<String> = futures::future::join_all(racing)
        .await
        .into_iter()
        .map(|r| {
            r.expect("every racing retry succeeds")
                .into_inner()
                .activity
                .expect("activity")
                .id
        })
        .collect();
    assert_eq!(ids.len(), 1, "one activity: {ids:?}");

    let status = suite
        .admin_a()
        .create_activity(pb::CreateActivityRequest {
            title: "另一个活动".into(),
            ..create
        })
        .await
        .expect_err("the same request_id with another request");
    assert_reason(
        &status,
        tonic::Code::FailedPrecondition,
        "ERROR_REASON_REQUEST_ID_REUSED",
    );
}

on_both_backends!(
    a_batch_confirms_the_good_items_and_reports_the_bad,
    a_confirmed_service_is_paid_once_and_counts_towards_the_pledge,
    retried_mutations_do_not_duplicate,
    racing_retries_agree_and_a_reused_id_is_refused,
);

/// "Mark everyone attended": three checked-in members confirmed in one call
/// beside an unknown attendance and a bad adjustment, which are reported per
/// item without stopping the others; retrying the batch with the same
/// request ids confirms nothing twice; an oversized batch is refused whole.
async fn a_batch_confirms_the_good_items_and_reports_the_bad(backend: Backend) {
    let suite = spawn(backend).await;
    let activity = suite.running_activity("批量确认", 10).await;
    let code = suite.code(&activity.id).await;
    let mut attendances = Vec::new();
    for name in ["批一", "批二", "批三"] {
        let member = suite.registered_member(name, suite.a()).await;
        attendances.push(suite.check_in(&member, &activity.id, &code).await.expect("check in").id);
    }
    let item = |attendance_id: &str, adjustment: i32, request_id: &str| pb::ConfirmAttendanceRequest {
        request_id: request_id.into(),
        attendance_id: attendance_id.into(),
        adjustment,
        note: String::new(),
        evidence_ids: Vec::new(),
    };
    let batch = pb::BatchConfirmAttendanceRequest {
        requests: vec![
            item(&attendances[0], 0, "b-0"),
            item("no-such-attendance", 0, "b-1"),
            item(&attendances[1], 99, "b-2"),
            item(&attendances[1], 1, "b-3"),
            item(&attendances[2], 0, "b-4"),
        ],
    };
    let results = suite
        .admin_a()
        .batch_confirm_attendance(batch.clone())
        .await
        .expect("batch")
        .into_inner()
        .results;
    assert_eq!(results.len(), 5, "one result per item, in order");
    let confirmed: Vec<&str> = results
        .iter()
        .filter_map(|r| r.attendance.as_ref())
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(confirmed, [&attendances[0], &attendances[1], &attendances[2]]);
    let missing = results[1].error.as_ref().expect("unknown attendance");
    assert_eq!(missing.code, Code::NotFound as i32);
    let bad = results[2].error.as_ref().expect("bad adjustment");
    assert_eq!(bad.code, Code::InvalidArgument as i32);
    assert_eq!(bad.fields, ["requests[2].adjustment"]);
    assert!(
        results[3]
            .attendance
            .as_ref()
            .is_some_and(|a| a.status == pb::AttendanceStatus::Confirmed as i32)
    );

    // The same batch again: the same answers, nothing confirmed or paid twice.
    let again = suite
        .admin_a()
        .batch_confirm_attendance(batch)
        .await
        .expect("retried batch")
        .into_inner()
        .results;
    let again_ids: Vec<Option<&str>> = again
        .iter()
        .map(|r| r.attendance.as_ref().map(|a| a.id.as_str()))
        .collect();
    let first_ids: Vec<Option<&str>> = results
        .iter()
        .map(|r| r.attendance.as_ref().map(|a| a.id.as_str()))
        .collect();
    assert_eq!(again_ids, first_ids);

    let too_many = pb::BatchConfirmAttendanceRequest {
        requests: (0..201).map(|i| item(&attendances[0], 0, &format!("x-{i}"))).collect(),
    };
    let status = suite
        .admin_a()
        .batch_confirm_attendance(too_many)
        .await
        .expect_err("more than 200");
    assert_invalid(&status, "requests");
}
