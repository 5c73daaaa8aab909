use dualreport_proto::feedback::v1 as pb;
use tonic::Code;

use crate::helpers::{Backend, assert_invalid, assert_reason, period, spawn};
use dualreport_testkit::on_both_backends;

async fn callers_stay_in_their_scope_and_bad_input_names_the_field(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("蒋守", suite.a()).await;
    let other = suite.registered_member("沈旁", suite.a()).await;
    let summary = |community: &str| pb::GetSummaryTableRequest {
        unit_org_id: suite.unit().into(),
        community_id: community.into(),
        period: period(suite.year, 0),
    };

    // No token.
    let status = suite
        .client("")
        .get_summary_table(summary(""))
        .await
        .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
    // Another community: not over the unit, and B's view needs a pairing.
    let status = suite.admin_b().get_summary_table(summary("")).await.expect_err("B");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let status = suite
        .admin_b()
        .get_summary_table(summary(suite.b()))
        .await
        .expect_err("unpaired");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_PAIRED");
    let status = suite
        .member(&member)
        .get_summary_table(summary(""))
        .await
        .expect_err("member");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let status = suite.cloud().get_summary_table(summary("")).await.expect_err("cloud");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    // A member reads only their own card.
    let status = suite
        .member(&other)
        .get_performance_card(pb::GetPerformanceCardRequest {
            member_id: member.clone(),
            year: suite.year,
        })
        .await
        .expect_err("someone else's card");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    // A unit admin comments on nobody; the community comments only on its own members.
    let status = suite
        .unit_admin()
        .comment_on_member(pb::CommentOnMemberRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            member_id: member.clone(),
            period: period(suite.year, 0),
            comment: "好".into(),
        })
        .await
        .expect_err("unit admin");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let status = suite
        .admin_b()
        .comment_on_member(pb::CommentOnMemberRequest {
            request_id: String::new(),
            community_id: suite.b().into(),
            member_id: member.clone(),
            period: period(suite.year, 0),
            comment: "好".into(),
        })
        .await
        .expect_err("not registered at B");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_NOT_REGISTERED");

    // Bad input.
    let mut bad_period = summary("");
    bad_period.period = period(suite.year, 3);
    let status = suite
        .unit_admin()
        .get_summary_table(bad_period)
        .await
        .expect_err("half 3");
    assert_invalid(&status, "period.half");
    let mut no_unit = summary("");
    no_unit.unit_org_id = suite.a().into();
    let status = suite
        .unit_admin()
        .get_summary_table(no_unit)
        .await
        .expect_err("not a unit");
    assert_invalid(&status, "unit_org_id");
    let status = suite
        .unit_admin()
        .export_table(pb::ExportTableRequest {
            kind: pb::TableKind::Summary.into(),
            unit_org_id: suite.unit().into(),
            period: period(suite.year, 0),
            ..Default::default()
        })
        .await
        .expect_err("no format");
    assert_invalid(&status, "format");

    // The webhook: https only outside development, a real secret, admins only.
    let set = |url: &str, secret: &str| pb::SetWebhookRequest {
        url: url.into(),
        secret: secret.into(),
    };
    let status = suite
        .city_admin()
        .set_webhook(set("http://cloud.example.cn/hook", "0123456789abcdef0123456789abcdef"))
        .await
        .expect_err("http");
    assert_invalid(&status, "url");
    let status = suite
        .city_admin()
        .set_webhook(set("https://cloud.example.cn/hook", "short"))
        .await
        .expect_err("secret");
    assert_invalid(&status, "secret");
    let status = suite
        .admin_a()
        .set_webhook(set("https://cloud.example.cn/hook", "0123456789abcdef0123456789abcdef"))
        .await
        .expect_err("community admin");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    // The webhook is the city's single delivery: a district admin may not
    // replace it, nor clear it with an empty URL.
    for url in ["https://district.example.cn/hook", ""] {
        let status = suite
            .district_admin()
            .set_webhook(set(url, "0123456789abcdef0123456789abcdef"))
            .await
            .expect_err("district admin");
        assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    }
    let hook = suite
        .city_admin()
        .set_webhook(set("https://cloud.example.cn/hook", "0123456789abcdef0123456789abcdef"))
        .await
        .expect("https is fine")
        .into_inner()
        .webhook
        .expect("webhook");
    assert!(hook.enabled);
    // Warnings and spot checks belong to the unit and those above it.
    let status = suite
        .admin_b()
        .evaluate_warnings(pb::EvaluateWarningsRequest {
            unit_org_id: suite.unit().into(),
            year: suite.year,
            as_of: None,
        })
        .await
        .expect_err("B");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let status = suite
        .member(&member)
        .draw_spot_check(pb::DrawSpotCheckRequest {
            unit_org_id: suite.unit().into(),
            year: suite.year,
            ..Default::default()
        })
        .await
        .expect_err("member");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
}

on_both_backends!(callers_stay_in_their_scope_and_bad_input_names_the_field);
