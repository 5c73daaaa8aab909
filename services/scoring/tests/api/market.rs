//! The volunteer-service supermarket: exact balances and stock under
//! parallel redemptions, cancellation, and refused redemptions.

use dualreport_proto::scoring::v1 as pb;
use tonic::Code;

use crate::helpers::*;
use dualreport_testkit::on_both_backends;

on_both_backends!(
    two_admins_editing_one_item_do_not_overwrite_each_other,
    fifty_parallel_redemptions_against_a_balance_for_ten_make_exactly_ten,
    parallel_redemptions_never_oversell_stock,
    cancelling_returns_points_and_stock_and_bad_redemptions_are_refused,
    stock_stays_within_its_bound,
    racing_retries_of_a_redemption_agree,
);

/// Eight copies of one redemption (the same `request_id`) sent at once all
/// answer the one redemption; the same id for another quantity is refused.
async fn racing_retries_of_a_redemption_agree(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("孙丽", suite.a()).await;
    for i in 0..2 {
        suite.serve(&member, &format!("a{i}"), 0).await; // 10 points
    }
    let soap = item(&suite, "洗衣皂", 2, 10).await;
    let racing = (0..8).map(|_| {
        let mut client = suite.member(&member);
        let request = redeem(&member, &soap.id, 1, "redeem-race");
        async move { client.redeem(request).await }
    });
    let ids: std::collections::BTreeSet<String> = futures::future::join_all(racing)
        .await
        .into_iter()
        .map(|r| {
            r.expect("every racing retry succeeds")
                .into_inner()
                .redemption
                .expect("redemption")
                .id
        })
        .collect();
    assert_eq!(ids.len(), 1, "one redemption: {ids:?}");
    let account = suite.balance(&member).await.accounts[0].clone();
    assert_eq!(account.spendable, 8, "spent once");
    let status = suite
        .member(&member)
        .redeem(redeem(&member, &soap.id, 2, "redeem-race"))
        .await
        .expect_err("the same request_id for another quantity");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_REQUEST_ID_REUSED");
}

/// Stock is bounded (1,000,000), so no addition can overflow what the
/// contract's int32 shows.
async fn stock_stays_within_its_bound(backend: Backend) {
    let suite = spawn(backend).await;
    let status = suite
        .admin_a()
        .create_item(pb::CreateItemRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            name: "毛巾".into(),
            description: String::new(),
            price_points: 1,
            stock: 2_000_000,
        })
        .await
        .expect_err("above the bound");
    assert_invalid(&status, "stock");
    let towel = item(&suite, "毛巾", 1, 8).await;
    for add_stock in [i32::MAX, 999_993, -9] {
        let status = suite
            .admin_a()
            .update_item(pb::UpdateItemRequest {
                request_id: String::new(),
                item_id: towel.id.clone(),
                add_stock,
                ..Default::default()
            })
            .await
            .expect_err("outside 0 ..= 1,000,000");
        assert_invalid(&status, "add_stock");
    }
    let full = suite
        .admin_a()
        .update_item(pb::UpdateItemRequest {
            request_id: String::new(),
            item_id: towel.id.clone(),
            add_stock: 999_992,
            ..Default::default()
        })
        .await
        .expect("up to the bound")
        .into_inner()
        .item
        .expect("item");
    assert_eq!(full.stock, 1_000_000);
}

/// Two admins read the same item; the first edit lands, the second carries a
/// stale etag and is refused without changing anything; a redemption moves
/// the stock but not the version; parallel edits without etags never lose
/// one silently (each lands, or is refused as a conflict).
async fn two_admins_editing_one_item_do_not_overwrite_each_other(backend: Backend) {
    let suite = spawn(backend).await;
    let soap = item(&suite, "洗衣皂", 2, 10).await;
    assert!(!soap.etag.is_empty() && soap.create_time.is_some());
    let edit = |etag: &str, price: i32| pb::UpdateItemRequest {
        item_id: soap.id.clone(),
        price_points: Some(price),
        etag: etag.into(),
        ..Default::default()
    };
    let first = suite
        .admin_a()
        .update_item(edit(&soap.etag, 3))
        .await
        .expect("first edit")
        .into_inner()
        .item
        .expect("item");
    assert_ne!(first.etag, soap.etag, "a new version");
    let status = suite
        .admin_a()
        .update_item(edit(&soap.etag, 4))
        .await
        .expect_err("stale etag");
    assert_reason(&status, Code::Aborted, "ERROR_REASON_CONFLICT");
    let member = suite.registered_member("孙丽", suite.a()).await;
    suite.serve(&member, "e1", 0).await;
    suite
        .member(&member)
        .redeem(redeem(&member, &soap.id, 1, "etag-redeem"))
        .await
        .expect("redeem");
    let listed = suite
        .admin_a()
        .list_items(pb::ListItemsRequest {
            community_id: suite.a().into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .items;
    let now = listed.iter().find(|i| i.id == soap.id).expect("the item");
    assert_eq!((now.price_points, now.stock), (3, 9), "the stale edit changed nothing");
    assert_eq!(now.etag, first.etag, "a redemption is not an edit");

    let racing = (0..6).map(|n| {
        let mut client = suite.admin_a();
        let request = edit("", 10 + n);
        async move { client.update_item(request).await }
    });
    let mut landed = 0;
    for outcome in futures::future::join_all(racing).await {
        match outcome {
            Ok(_) => landed += 1,
            Err(status) => assert_reason(&status, Code::Aborted, "ERROR_REASON_CONFLICT"),
        }
    }
    assert!(landed >= 1, "at least one edit lands");
}

async fn item(suite: &Suite, name: &str, price: i32, stock: i32) -> pb::Item {
    suite
        .admin_a()
        .create_item(pb::CreateItemRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            name: name.into(),
            description: "社区党员志愿服务超市".into(),
            price_points: price,
            stock,
        })
        .await
        .expect("create item")
        .into_inner()
        .item
        .expect("item")
}

fn redeem(member: &str, item: &str, quantity: i32, request_id: &str) -> pb::RedeemRequest {
    pb::RedeemRequest {
        request_id: request_id.into(),
        member_id: member.into(),
        item_id: item.into(),
        quantity,
    }
}

async fn fifty_parallel_redemptions_against_a_balance_for_ten_make_exactly_ten(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("张敏", suite.a()).await;
    for i in 0..10 {
        suite.serve(&member, &format!("a{i}"), 0).await; // 50 points
    }
    let soap = item(&suite, "洗衣皂", 5, 100).await;
    let attempts = (0..50).map(|i| {
        let mut client = suite.member(&member);
        let request = redeem(&member, &soap.id, 1, &format!("r{i}"));
        async move { client.redeem(request).await }
    });
    let results = futures::future::join_all(attempts).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 10, "exactly the balance's worth");
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_reason(refused, Code::FailedPrecondition, "ERROR_REASON_INSUFFICIENT_POINTS");
    }
    let balance = suite.balance(&member).await;
    let account = &balance.accounts[0];
    assert_eq!((account.earned, account.redeemed, account.spendable), (50, 50, 0));
    assert_eq!(balance.periods[0].stars, 5, "shopping never costs a star");
    let items = suite
        .member(&member)
        .list_items(pb::ListItemsRequest {
            community_id: suite.a().into(),
            ..Default::default()
        })
        .await
        .expect("items")
        .into_inner()
        .items;
    assert_eq!(items[0].stock, 90);
}

async fn parallel_redemptions_never_oversell_stock(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("李强", suite.a()).await;
    for i in 0..4 {
        suite.serve(&member, &format!("a{i}"), 3).await; // 32 points
    }
    let haircut = item(&suite, "理发服务", 1, 3).await;
    let attempts = (0..10).map(|i| {
        let mut client = suite.member(&member);
        let request = redeem(&member, &haircut.id, 1, &format!("h{i}"));
        async move { client.redeem(request).await }
    });
    let results = futures::future::join_all(attempts).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3);
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_reason(refused, Code::FailedPrecondition, "ERROR_REASON_OUT_OF_STOCK");
    }
    assert_eq!(suite.balance(&member).await.accounts[0].spendable, 32 - 3);
}

async fn cancelling_returns_points_and_stock_and_bad_redemptions_are_refused(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("王芳", suite.a()).await;
    for i in 0..2 {
        suite.serve(&member, &format!("a{i}"), 0).await; // 10 points
    }
    let rice = item(&suite, "大米", 4, 5).await;
    let mut client = suite.member(&member);

    let status = client
        .redeem(redeem(&member, &rice.id, 3, ""))
        .await
        .expect_err("12 > 10");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_INSUFFICIENT_POINTS");
    let status = client.redeem(redeem(&member, &rice.id, 0, "")).await.expect_err("zero");
    assert_invalid(&status, "quantity");
    let status = client
        .redeem(redeem(&member, &rice.id, 6, ""))
        .await
        .expect_err("6 > stock");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_OUT_OF_STOCK");
    let other = suite.registered_member("赵磊", suite.a()).await;
    let status = client
        .redeem(redeem(&other, &rice.id, 1, ""))
        .await
        .expect_err("someone else's points");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");

    // A retried redemption with the same request_id is one redemption.
    let first = client
        .redeem(redeem(&member, &rice.id, 2, "shop-1"))
        .await
        .expect("redeem")
        .into_inner()
        .redemption
        .expect("redemption");
    let again = client
        .redeem(redeem(&member, &rice.id, 2, "shop-1"))
        .await
        .expect("retry")
        .into_inner()
        .redemption
        .expect("redemption");
    assert_eq!(first.id, again.id);
    assert_eq!(suite.balance(&member).await.accounts[0].spendable, 2);

    let status = client
        .cancel_redemption(pb::CancelRedemptionRequest {
            request_id: String::new(),
            redemption_id: first.id.clone(),
            reason: "库存登记错误".into(),
        })
        .await
        .expect_err("members do not cancel");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let cancel = pb::CancelRedemptionRequest {
        request_id: String::new(),
        redemption_id: first.id.clone(),
        reason: "库存登记错误".into(),
    };
    let cancelled = suite
        .admin_a()
        .cancel_redemption(cancel.clone())
        .await
        .expect("cancel")
        .into_inner()
        .redemption
        .expect("redemption");
    assert_eq!(cancelled.status, pb::RedemptionStatus::Cancelled as i32);
    assert!(!cancelled.reversal_entry_id.is_empty());
    let status = suite.admin_a().cancel_redemption(cancel).await.expect_err("twice");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_WRONG_STATE");
    let account = suite.balance(&member).await.accounts[0].clone();
    assert_eq!((account.earned, account.redeemed, account.spendable), (10, 0, 10));

    // Withdrawn items cannot be bought.
    suite
        .admin_a()
        .update_item(pb::UpdateItemRequest {
            request_id: String::new(),
            item_id: rice.id.clone(),
            active: Some(false),
            ..Default::default()
        })
        .await
        .expect("withdraw");
    let status = client
        .redeem(redeem(&member, &rice.id, 1, ""))
        .await
        .expect_err("withdrawn");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_OUT_OF_STOCK");
    let visible = client
        .list_items(pb::ListItemsRequest {
            community_id: suite.a().into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .items;
    assert!(visible.is_empty(), "withdrawn items are not listed");
    let history = client
        .list_redemptions(pb::ListRedemptionsRequest {
            member_id: member.clone(),
            ..Default::default()
        })
        .await
        .expect("history")
        .into_inner()
        .redemptions;
    assert_eq!(history.len(), 1);
}
