//! Every bad input the issue lists gets a clear error and writes nothing.

use dualreport_proto::volunteering::v1 as pb;
use tonic::Code;

use crate::helpers::*;
use dualreport_testkit::on_both_backends;

fn claim(member: &str, post: &str, year: i32) -> pb::ClaimPostRequest {
    pb::ClaimPostRequest {
        request_id: String::new(),
        member_id: member.into(),
        post_id: post.into(),
        year,
    }
}

async fn claims_beyond_the_bound_or_where_not_registered_are_refused(backend: Backend) {
    // S3: one or two posts.
    let suite = spawn_with(backend, false, |s| s.policy.preset = Some("S3".into())).await;
    let member = suite.registered_member("吴刚", suite.a()).await;
    let mut me = suite.member(&member);
    let list = pb::ListClaimsRequest {
        member_id: member.clone(),
        community_id: String::new(),
        year: suite.year,
        page_size: 0,
        page_token: String::new(),
    };
    let before = me.list_claims(list.clone()).await.expect("claims").into_inner();
    assert!(!before.meets_minimum, "no post claimed yet: below the minimum of one");
    for n in 0..2 {
        let post = suite.standard_post(n).await;
        me.claim_post(claim(&member, &post.id, suite.year))
            .await
            .expect("claim within the bound");
    }
    let third = suite.standard_post(2).await;
    let status = me
        .claim_post(claim(&member, &third.id, suite.year))
        .await
        .expect_err("third post");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_OUT_OF_BOUNDS");
    // Withdrawing one frees a place.
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
        .into_inner()
        .claims;
    assert_eq!(claims.len(), 2);
    me.withdraw_claim(pb::WithdrawClaimRequest {
        claim_id: claims[0].id.clone(),
    })
    .await
    .expect("withdraw");
    me.claim_post(claim(&member, &third.id, suite.year))
        .await
        .expect("claim after withdrawing");

    // S3: a pledge names at least two items.
    let status = me
        .set_pledge(pb::SetPledgeRequest {
            member_id: member.clone(),
            community_id: suite.a().into(),
            year: suite.year,
            items: vec!["楼道清洁".into()],
            services: 6,
            hours: 6,
            way: String::new(),
        })
        .await
        .expect_err("one item under S3");
    assert_invalid(&status, "items");

    let stranger = suite.unreported_member("郑好").await;
    let status = suite
        .member(&stranger)
        .claim_post(claim(&stranger, &third.id, suite.year))
        .await
        .expect_err("not registered");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_REGISTERED");
    // Nor may they sign up for, or walk into, the community's activities.
    let activity = suite.running_activity("只对本社区党员", 5).await;
    let status = suite
        .member(&stranger)
        .sign_up(pb::SignUpRequest {
            request_id: String::new(),
            activity_id: activity.id.clone(),
            member_id: stranger.clone(),
        })
        .await
        .expect_err("sign up where not registered");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_REGISTERED");
    let code = suite.code(&activity.id).await;
    let status = suite
        .check_in(&stranger, &activity.id, &code)
        .await
        .expect_err("walk-in where not registered");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_REGISTERED");
}

async fn check_in_codes_places_and_times_are_enforced(backend: Backend) {
    let suite = spawn_with(backend, false, |s| s.checkin.code_ttl_secs = 1).await;
    let first = suite.registered_member("冯一", suite.a()).await;
    let second = suite.registered_member("冯二", suite.a()).await;
    let activity = suite.running_activity("只有一个名额", 1).await;
    let code = suite.code(&activity.id).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let status = suite
        .check_in(&first, &activity.id, wrong)
        .await
        .expect_err("wrong code");
    assert_invalid(&status, "code");
    suite.check_in(&first, &activity.id, &code).await.expect("right code");
    let status = suite.check_in(&second, &activity.id, &code).await.expect_err("full");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_CAPACITY_FULL");

    let roomy = suite.running_activity("名额充足", 10).await;
    let code = suite.code(&roomy.id).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let status = suite.check_in(&second, &roomy.id, &code).await.expect_err("expired");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_CODE_EXPIRED");

    let finished = suite.activity("已经结束", 10, -180, -60).await;
    let status = suite
        .check_in(&second, &finished.id, "123456")
        .await
        .expect_err("finished");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_ACTIVITY_FINISHED");
    let status = suite
        .member(&second)
        .sign_up(pb::SignUpRequest {
            request_id: String::new(),
            activity_id: finished.id.clone(),
            member_id: second.clone(),
        })
        .await
        .expect_err("sign up after the end");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_ACTIVITY_FINISHED");
}

async fn confirmations_are_bounded_and_happen_once(backend: Backend) {
    let suite = spawn_with(backend, false, |_| {}).await;
    let member = suite.registered_member("陈晨", suite.a()).await;
    let activity = suite.running_activity("敬老院慰问", 5).await;
    let code = suite.code(&activity.id).await;
    let attendance = suite.check_in(&member, &activity.id, &code).await.expect("check in");
    let status = suite.confirm(&attendance.id, 4).await.expect_err("beyond ±3");
    assert_invalid(&status, "adjustment");
    let status = suite.confirm(&attendance.id, -4).await.expect_err("beyond ±3");
    assert_invalid(&status, "adjustment");
    suite.confirm(&attendance.id, 3).await.expect("within the bound");
    let status = suite.confirm(&attendance.id, 3).await.expect_err("twice");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_WRONG_STATE");
}

async fn evidence_must_be_a_small_image(backend: Backend) {
    let suite = spawn_with(backend, false, |_| {}).await;
    let upload = |content_type: &str, data: Vec<u8>| pb::UploadEvidenceRequest {
        request_id: String::new(),
        community_id: suite.a().into(),
        kind: pb::EvidenceKind::Photo.into(),
        content_type: content_type.into(),
        data,
        text: String::new(),
    };
    let mut admin = suite.admin_a();
    // The suite allows 64 KiB photos.
    let status = admin
        .upload_evidence(upload("image/png", png(65 * 1024)))
        .await
        .expect_err("too big");
    assert_invalid(&status, "data");
    let status = admin
        .upload_evidence(upload("image/png", b"%PDF-1.7 not an image".to_vec()))
        .await
        .expect_err("not an image");
    assert_invalid(&status, "data");
    let status = admin
        .upload_evidence(upload("image/jpeg", png(100)))
        .await
        .expect_err("wrong type");
    assert_invalid(&status, "content_type");
    admin
        .upload_evidence(upload("image/png", png(100)))
        .await
        .expect("a small PNG");
}

async fn taken_orders_household_bounds_and_unpaired_agreements(backend: Backend) {
    let suite = spawn_with(backend, false, |_| {}).await;
    let first = suite.registered_member("褚一", suite.a()).await;
    let second = suite.registered_member("褚二", suite.a()).await;
    let order = suite
        .admin_a()
        .place_order(pb::PlaceOrderRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            resident_name: "卫阿姨".into(),
            place: String::new(),
            content: "陪同就医".into(),
            post_id: String::new(),
        })
        .await
        .expect("order")
        .into_inner()
        .order
        .expect("order");
    let accept = |member: &str| pb::AcceptOrderRequest {
        order_id: order.id.clone(),
        member_id: member.into(),
    };
    let status = suite
        .member(&first)
        .accept_order(accept(&first))
        .await
        .expect_err("not dispatched");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_WRONG_STATE");
    suite
        .admin_a()
        .dispatch_order(pb::DispatchOrderRequest {
            order_id: order.id.clone(),
            note: String::new(),
        })
        .await
        .expect("dispatch");
    suite.member(&first).accept_order(accept(&first)).await.expect("accept");
    let status = suite
        .member(&second)
        .accept_order(accept(&second))
        .await
        .expect_err("taken");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_ALREADY_TAKEN");

    for count in [9, 16] {
        let status = suite
            .admin_a()
            .assign_households(pb::AssignHouseholdsRequest {
                request_id: String::new(),
                member_id: first.clone(),
                community_id: suite.a().into(),
                labels: (0..count).map(|n| format!("{n}号")).collect(),
            })
            .await
            .expect_err("outside 10–15");
        assert_invalid_because(&status, "labels", "ERROR_REASON_OUT_OF_BOUNDS");
    }

    let status = suite
        .unit_admin()
        .create_agreement(pb::CreateAgreementRequest {
            request_id: String::new(),
            unit_org_id: suite.city.unit.id.clone(),
            community_id: suite.b().into(),
            year: suite.year,
            resources: vec!["场地".into()],
            needs: Vec::new(),
            projects: Vec::new(),
            pledge: None,
        })
        .await
        .expect_err("not paired with B");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_PAIRED");

    // Nor can the unpaired unit claim one of B's wishes collectively.
    let wish = suite
        .admin_b()
        .post_wish(pb::PostWishRequest {
            request_id: String::new(),
            community_id: suite.b().into(),
            beneficiary: "小红".into(),
            content: "一个书包".into(),
        })
        .await
        .expect("wish")
        .into_inner()
        .wish
        .expect("wish");
    let status = suite
        .unit_admin()
        .claim_wish(pb::ClaimWishRequest {
            wish_id: wish.id,
            member_id: String::new(),
            unit_org_id: suite.city.unit.id.clone(),
        })
        .await
        .expect_err("collective claim by an unpaired unit");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_PAIRED");
}

/// After moving from A to B today, the member claims nothing at A any more;
/// at B, once registered there, it may.
async fn a_member_who_moved_claims_only_at_the_new_community(backend: Backend) {
    use dualreport_testkit::registry as fixtures;
    let suite = spawn_with(backend, false, |_| {}).await;
    let member = suite.registered_member("迁走", suite.a()).await;
    let post = suite.standard_post(0).await;
    fixtures::relocate(&suite.registry_channel, &member, suite.b()).await;
    fixtures::report_and_confirm(&suite.registry_channel, &member, suite.b(), suite.year, "第二党支部").await;
    let status = suite
        .member(&member)
        .claim_post(claim(&member, &post.id, suite.year))
        .await
        .expect_err("a post of the community moved away from");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_REGISTERED");
}

on_both_backends!(
    a_member_who_moved_claims_only_at_the_new_community,
    claims_beyond_the_bound_or_where_not_registered_are_refused,
    check_in_codes_places_and_times_are_enforced,
    confirmations_are_bounded_and_happen_once,
    evidence_must_be_a_small_image,
    taken_orders_household_bounds_and_unpaired_agreements,
);
