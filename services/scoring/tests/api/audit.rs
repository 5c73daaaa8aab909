//! Scoring's audit trail: ledger entries, the settlement's three steps and
//! the supermarket's changes are recorded with who and before/after, filed
//! under their community; a refused change records nothing; only admins over
//! the community read it.

use std::collections::HashSet;

use dualreport_platform::auth::Role;
use dualreport_proto::common::v1 as cpb;
use dualreport_proto::scoring::v1 as pb;
use dualreport_testkit::{admin_token, member_token};
use tonic::Code;

use crate::helpers::*;

async fn records(
    suite: &Suite,
    token: &str,
    request: cpb::ListAuditRecordsRequest,
) -> Result<Vec<cpb::AuditRecord>, tonic::Status> {
    dualreport_testkit::audit::trail(&suite.channel, token, request, 3).await
}

async fn ledger_settlement_and_market_changes_are_audited(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("留痕", suite.a()).await;
    for i in 0..2 {
        suite.serve(&member, &format!("audit-{i}"), 0).await;
    }
    let settlement = suite.settle().await;
    suite.review_and_publish(&settlement.id).await;
    let mut admin = suite.admin_a();
    let item = admin
        .create_item(pb::CreateItemRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            name: "毛巾".into(),
            description: String::new(),
            price_points: 2,
            stock: 5,
        })
        .await
        .expect("item")
        .into_inner()
        .item
        .expect("item");
    admin
        .update_item(pb::UpdateItemRequest {
            request_id: String::new(),
            item_id: item.id.clone(),
            price_points: Some(3),
            ..Default::default()
        })
        .await
        .expect("update item");
    admin
        .update_item(pb::UpdateItemRequest {
            request_id: String::new(),
            item_id: item.id.clone(),
            add_stock: -100,
            ..Default::default()
        })
        .await
        .expect_err("below zero: refused, not recorded");
    let redemption = suite
        .member(&member)
        .redeem(pb::RedeemRequest {
            request_id: "audit-redeem".into(),
            member_id: member.clone(),
            item_id: item.id.clone(),
            quantity: 1,
        })
        .await
        .expect("redeem")
        .into_inner()
        .redemption
        .expect("redemption");
    admin
        .cancel_redemption(pb::CancelRedemptionRequest {
            request_id: String::new(),
            redemption_id: redemption.id.clone(),
            reason: "领错了".into(),
        })
        .await
        .expect("cancel");

    let trail = records(
        &suite,
        &admin_token(Role::CommunityAdmin, suite.a()),
        cpb::ListAuditRecordsRequest {
            org_id: suite.a().into(),
            ..Default::default()
        },
    )
    .await
    .expect("the community's trail");
    let methods: HashSet<&str> = trail.iter().map(|r| r.method.as_str()).collect();
    for method in [
        "RecordService",
        "SettlePeriod",
        "ReviewSettlement",
        "PublishSettlement",
        "CreateItem",
        "UpdateItem",
        "Redeem",
        "CancelRedemption",
    ] {
        assert!(methods.contains(method), "{method} is recorded; found {methods:?}");
    }
    let services: Vec<&cpb::AuditRecord> = trail.iter().filter(|r| r.method == "RecordService").collect();
    assert_eq!(services.len(), 2);
    assert!(
        services
            .iter()
            .all(|r| r.role == "community_admin" && r.actor_org_id == suite.a()),
        "who recorded each service"
    );
    let updates: Vec<&cpb::AuditRecord> = trail.iter().filter(|r| r.method == "UpdateItem").collect();
    assert_eq!(updates.len(), 1, "the refused update left no record");
    let before: serde_json::Value = serde_json::from_str(&updates[0].before).expect("json");
    let after: serde_json::Value = serde_json::from_str(&updates[0].after).expect("json");
    assert_eq!(
        (before["price_points"].as_i64(), after["price_points"].as_i64()),
        (Some(2), Some(3))
    );
    let publish = trail.iter().find(|r| r.method == "PublishSettlement").expect("publish");
    assert!(publish.after.contains("published") && publish.before.contains("reviewed"));

    // The district above sees it too; community B's admin and the member do not.
    let district = records(
        &suite,
        &admin_token(Role::DistrictAdmin, &suite.city.district.id),
        cpb::ListAuditRecordsRequest {
            org_id: suite.a().into(),
            method: "Redeem".into(),
            ..Default::default()
        },
    )
    .await
    .expect("the district's view");
    assert_eq!(district.len(), 1);
    let refused = records(
        &suite,
        &admin_token(Role::CommunityAdmin, &suite.city.community_b.id),
        cpb::ListAuditRecordsRequest {
            org_id: suite.a().into(),
            ..Default::default()
        },
    )
    .await
    .expect_err("another community");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let refused = records(
        &suite,
        &member_token(&member),
        cpb::ListAuditRecordsRequest {
            org_id: suite.a().into(),
            ..Default::default()
        },
    )
    .await
    .expect_err("a member");
    assert_eq!(refused.code(), Code::PermissionDenied);
}

dualreport_testkit::on_both_backends!(ledger_settlement_and_market_changes_are_audited,);
