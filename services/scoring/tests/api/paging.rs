//! Every List pages (AIP-158): the ledger, the supermarket's items and
//! redemptions walked two at a time give each item exactly once, in the
//! order one big page gives them.

use dualreport_proto::scoring::v1 as pb;
use dualreport_testkit::paging::walk;

use crate::helpers::*;

async fn the_ledger_and_the_supermarket_page(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("翻页", suite.a()).await;
    for n in 0..5 {
        suite.serve(&member, &format!("page:{n}"), 0).await;
    }
    let mut items = Vec::new();
    for n in 0..5 {
        let item = suite
            .admin_a()
            .create_item(pb::CreateItemRequest {
                request_id: format!("item-{n}"),
                community_id: suite.a().into(),
                name: format!("物品{n}"),
                description: String::new(),
                price_points: 1,
                stock: 10,
            })
            .await
            .expect("item")
            .into_inner()
            .item
            .expect("item");
        items.push(item.id);
    }
    for (n, item) in items.iter().enumerate() {
        suite
            .member(&member)
            .redeem(pb::RedeemRequest {
                request_id: format!("redeem-{n}"),
                member_id: member.clone(),
                item_id: item.clone(),
                quantity: 1,
            })
            .await
            .expect("redeem");
    }
    let entries = walk("entries", |page_size, page_token| {
        let mut c = suite.member(&member);
        let request = pb::ListEntriesRequest {
            subject: Some(member_subject(&member)),
            page_size,
            page_token,
            ..Default::default()
        };
        async move {
            let r = c.list_entries(request).await.expect("entries").into_inner();
            (r.entries.into_iter().map(|e| e.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert!(
        entries.len() >= 5,
        "five services (and the redemptions' debits): {entries:?}"
    );
    let listed = walk("items", |page_size, page_token| {
        let mut c = suite.admin_a();
        let request = pb::ListItemsRequest {
            community_id: suite.a().into(),
            page_size,
            page_token,
            ..Default::default()
        };
        async move {
            let r = c.list_items(request).await.expect("items").into_inner();
            (r.items.into_iter().map(|i| i.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert_eq!(listed.len(), 5);
    for by in ["member", "community"] {
        let redemptions = walk(by, |page_size, page_token| {
            let mut c = suite.admin_a();
            let mut request = pb::ListRedemptionsRequest {
                page_size,
                page_token,
                ..Default::default()
            };
            if by == "member" {
                request.member_id = member.clone();
            } else {
                request.community_id = suite.a().into();
            }
            async move {
                let r = c.list_redemptions(request).await.expect("redemptions").into_inner();
                (r.redemptions.into_iter().map(|x| x.id).collect(), r.next_page_token)
            }
        })
        .await;
        assert_eq!(redemptions.len(), 5, "{by}");
    }
}

dualreport_testkit::on_both_backends!(the_ledger_and_the_supermarket_page,);
