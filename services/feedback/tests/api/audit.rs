//! Feedback's audit trail: notices, their acknowledgement, ratings and the
//! webhook are recorded with who and before/after; the webhook's secret never
//! enters the trail; only admins over the org read it.

use std::collections::HashSet;

use dualreport_platform::auth::Role;
use dualreport_proto::common::v1 as cpb;
use dualreport_proto::feedback::v1 as pb;
use dualreport_testkit::admin_token;
use tonic::Code;

use crate::helpers::*;

async fn trail(suite: &Suite, token: &str, org_id: &str) -> Result<Vec<cpb::AuditRecord>, tonic::Status> {
    dualreport_testkit::audit::trail(&suite.channel, token, dualreport_testkit::audit::of_org(org_id), 2).await
}

async fn feedback_changes_are_audited(backend: Backend) {
    let suite = spawn(backend).await;
    suite.pair_unit_with_a().await;
    let sent = suite
        .admin_a()
        .send_notice(pb::SendNoticeRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            unit_org_id: suite.unit().into(),
            period: period(suite.year, 0),
            title: "上半年反馈".into(),
            body: "服务情况良好".into(),
            urgent: false,
        })
        .await
        .expect("notice")
        .into_inner()
        .notice
        .expect("notice");
    suite
        .unit_admin()
        .acknowledge_notice(pb::AcknowledgeNoticeRequest {
            notice_id: sent.id.clone(),
        })
        .await
        .expect("acknowledge");
    suite
        .admin_a()
        .rate_unit(pb::RateUnitRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            unit_org_id: suite.unit().into(),
            year: suite.year,
            grade: 9,
            comment: String::new(),
        })
        .await
        .expect_err("a bad grade records nothing");
    suite
        .admin_a()
        .rate_unit(pb::RateUnitRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            unit_org_id: suite.unit().into(),
            year: suite.year,
            grade: pb::UnitGrade::Good.into(),
            comment: "共建有力".into(),
        })
        .await
        .expect("rate");
    let secret = "s".repeat(40);
    suite
        .city_admin()
        .set_webhook(pb::SetWebhookRequest {
            url: "https://cloud.example.invalid/hook".into(),
            secret: secret.clone(),
        })
        .await
        .expect("webhook");

    let community = trail(&suite, &admin_token(Role::CommunityAdmin, suite.a()), suite.a())
        .await
        .expect("the community's trail");
    let methods: HashSet<&str> = community.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(
        methods,
        HashSet::from(["SendNotice", "RateUnit"]),
        "one record each, none for the refusal"
    );
    let unit = trail(&suite, &admin_token(Role::UnitAdmin, suite.unit()), suite.unit())
        .await
        .expect("the unit's trail");
    let ack = unit
        .iter()
        .find(|r| r.method == "AcknowledgeNotice")
        .expect("acknowledgement");
    assert!(
        ack.before.contains("sent") && ack.after.contains("acknowledged"),
        "{ack:?}"
    );
    // The cloud (a token without an org) changes the webhook too: its record
    // is filed under the city, where the city's admins read it.
    suite
        .cloud()
        .set_webhook(pb::SetWebhookRequest {
            url: "https://cloud.example.invalid/hook2".into(),
            secret: secret.clone(),
        })
        .await
        .expect("the cloud sets its webhook");
    let city = trail(&suite, &admin_token(Role::CityAdmin, "city"), "city")
        .await
        .expect("the city's trail");
    let by_cloud = city
        .iter()
        .find(|r| r.method == "SetWebhook" && r.role == "cloud")
        .expect("the cloud's change is in the city's trail");
    assert!(by_cloud.after.contains("hook2") && by_cloud.before.contains("cloud.example.invalid/hook"));
    let hook = city
        .iter()
        .find(|r| r.method == "SetWebhook" && r.role == "city_admin")
        .expect("webhook");
    assert!(
        hook.after.contains("cloud.example.invalid") && !hook.after.contains(&secret),
        "no secret in the trail"
    );
    assert!(city.len() >= community.len() + unit.len(), "the city sees its subtree");

    let refused = trail(&suite, &admin_token(Role::CommunityAdmin, suite.b()), suite.a())
        .await
        .expect_err("another community");
    assert_eq!(refused.code(), Code::PermissionDenied);
}

dualreport_testkit::on_both_backends!(feedback_changes_are_audited,);
