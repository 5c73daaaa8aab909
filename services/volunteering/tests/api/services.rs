//! Orders, wishes, households, teams, studios, agreements and unit records
//! through their whole lives.

use dualreport_proto::volunteering::v1 as pb;

use crate::helpers::*;
use dualreport_testkit::on_both_backends;

async fn an_order_goes_from_resident_to_rating_and_is_paid(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("周强", suite.a()).await;
    let post = suite.standard_post(13).await; // 代理承办服务岗
    let order = suite
        .admin_a()
        .place_order(pb::PlaceOrderRequest {
            request_id: "order-1".into(),
            community_id: suite.a().into(),
            resident_name: "张奶奶".into(),
            place: "5栋2单元".into(),
            content: "代缴水电费".into(),
            post_id: post.id.clone(),
        })
        .await
        .expect("place")
        .into_inner()
        .order
        .expect("order");
    assert_eq!(order.status, pb::OrderStatus::Open as i32);
    let dispatched = suite
        .admin_a()
        .dispatch_order(pb::DispatchOrderRequest {
            order_id: order.id.clone(),
            note: "第一党支部派单".into(),
        })
        .await
        .expect("dispatch")
        .into_inner()
        .order
        .expect("order");
    assert_eq!(dispatched.status, pb::OrderStatus::Dispatched as i32);
    let mut me = suite.member(&member);
    me.accept_order(pb::AcceptOrderRequest {
        order_id: order.id.clone(),
        member_id: member.clone(),
    })
    .await
    .expect("accept");
    let photo = me
        .upload_evidence(pb::UploadEvidenceRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            kind: pb::EvidenceKind::Photo.into(),
            content_type: "image/png".into(),
            data: png(2048),
            text: "缴费回执".into(),
        })
        .await
        .expect("photo")
        .into_inner()
        .evidence
        .expect("evidence");
    assert_eq!(photo.size_bytes, 2048);
    assert_eq!(photo.sha256.len(), 64);
    let done = me
        .complete_order(pb::CompleteOrderRequest {
            order_id: order.id.clone(),
            minutes: 45,
            evidence_ids: vec![photo.id.clone()],
        })
        .await
        .expect("complete")
        .into_inner()
        .order
        .expect("order");
    assert_eq!(done.status, pb::OrderStatus::Completed as i32);
    assert!(!done.attendance_id.is_empty());
    let rated = suite
        .admin_a()
        .rate_order(pb::RateOrderRequest {
            order_id: order.id.clone(),
            satisfaction: 5,
            comment: "很及时".into(),
        })
        .await
        .expect("rate")
        .into_inner()
        .order
        .expect("order");
    assert_eq!((rated.status, rated.satisfaction), (pb::OrderStatus::Rated as i32, 5));
    // The order's service is confirmed like any other and paid.
    suite.confirm(&done.attendance_id, 1).await.expect("confirm");
    suite.wait_paid(&member).await;
    assert_eq!(suite.ledger(&member).await[0].points, 6);
    // The evidence reads back, bytes and all.
    let read = suite
        .admin_a()
        .get_evidence(pb::GetEvidenceRequest {
            evidence_id: photo.id.clone(),
            include_data: true,
        })
        .await
        .expect("evidence")
        .into_inner();
    assert_eq!(read.data, png(2048));

    // An order nobody accepted stays visible as open work.
    suite
        .admin_a()
        .place_order(pb::PlaceOrderRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            resident_name: "刘大爷".into(),
            place: String::new(),
            content: "修理水龙头".into(),
            post_id: String::new(),
        })
        .await
        .expect("place");
    let open = suite
        .admin_a()
        .list_orders(pb::ListOrdersRequest {
            community_id: suite.a().into(),
            status: pb::OrderStatus::Open.into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .orders;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].content, "修理水龙头");
    // The open orders recorded in a range of days: recent ones, none last week.
    let recorded = |back_first: u64, back_last: u64| {
        let today = volunteering::domain::china_today();
        let back = |n| dualreport_platform::wire::date_to_pb(today - chrono::Days::new(n));
        pb::ListOrdersRequest {
            community_id: suite.a().into(),
            status: pb::OrderStatus::Open.into(),
            created: Some(dualreport_proto::common::v1::DateRange {
                first: Some(back(back_first)),
                last: Some(back(back_last)),
            }),
            ..Default::default()
        }
    };
    let recent = suite
        .admin_a()
        .list_orders(recorded(1, 0))
        .await
        .expect("recent")
        .into_inner();
    assert_eq!(recent.orders.len(), 1);
    let last_week = suite
        .admin_a()
        .list_orders(recorded(9, 3))
        .await
        .expect("last week")
        .into_inner();
    assert!(last_week.orders.is_empty(), "{last_week:?}");
    // The district's admin sees the open orders across its communities.
    let across = pb::ListOrdersRequest {
        org_id: suite.city.district.id.clone(),
        status: pb::OrderStatus::Open.into(),
        ..Default::default()
    };
    let mut district_admin = suite.client(&dualreport_testkit::admin_token(
        dualreport_platform::auth::Role::DistrictAdmin,
        &suite.city.district.id,
    ));
    let listed = district_admin
        .list_orders(across.clone())
        .await
        .expect("the district's orders")
        .into_inner();
    assert_eq!(listed.orders.len(), 1);
    let status = suite
        .admin_b()
        .list_orders(across.clone())
        .await
        .expect_err("a community admin is not over the district");
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    let status = district_admin
        .list_orders(pb::ListOrdersRequest {
            community_id: suite.a().into(),
            ..across
        })
        .await
        .expect_err("both a community and an org");
    assert_invalid(&status, "community_id");
}

async fn wishes_are_fulfilled_by_a_member_or_by_a_unit(backend: Backend) {
    let suite = spawn(backend).await;
    suite.pair_unit_with_a().await;
    let member = suite.registered_member("孙丽", suite.a()).await;
    let post_wish = |content: &'static str| {
        let mut admin = suite.admin_a();
        let community = suite.a().to_owned();
        async move {
            admin
                .post_wish(pb::PostWishRequest {
                    request_id: String::new(),
                    community_id: community,
                    beneficiary: "小明".into(),
                    content: content.into(),
                })
                .await
                .expect("wish")
                .into_inner()
                .wish
                .expect("wish")
        }
    };
    let books = post_wish("一套课外书").await;
    let coat = post_wish("一件冬衣").await;
    let mut me = suite.member(&member);
    me.claim_wish(pb::ClaimWishRequest {
        wish_id: books.id.clone(),
        member_id: member.clone(),
        unit_org_id: String::new(),
    })
    .await
    .expect("claim");
    let note = suite.upload_text(&mut me, suite.a(), "已送到小明家").await;
    let fulfilled = me
        .fulfil_wish(pb::FulfilWishRequest {
            wish_id: books.id.clone(),
            minutes: 30,
            evidence_ids: vec![note.id],
        })
        .await
        .expect("fulfil")
        .into_inner()
        .wish
        .expect("wish");
    assert_eq!(fulfilled.status, pb::WishStatus::Fulfilled as i32);
    suite.confirm(&fulfilled.attendance_id, 0).await.expect("confirm");
    suite.wait_paid(&member).await;

    // A unit claims the other collectively; its fulfilment is a unit record.
    let mut unit = suite.unit_admin();
    unit.claim_wish(pb::ClaimWishRequest {
        wish_id: coat.id.clone(),
        member_id: String::new(),
        unit_org_id: suite.city.unit.id.clone(),
    })
    .await
    .expect("unit claim");
    let evidence = suite.upload_text(&mut suite.admin_a(), suite.a(), "单位集体认领").await;
    let done = unit
        .fulfil_wish(pb::FulfilWishRequest {
            wish_id: coat.id.clone(),
            minutes: 60,
            evidence_ids: vec![evidence.id],
        })
        .await
        .expect("unit fulfil")
        .into_inner()
        .wish
        .expect("wish");
    assert!(!done.unit_record_id.is_empty());
    let records = unit
        .list_unit_records(pb::ListUnitRecordsRequest {
            unit_org_id: suite.city.unit.id.clone(),
            year: suite.year,
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .expect("records")
        .into_inner()
        .records;
    assert_eq!(records.len(), 1);
    assert!(records[0].content.contains("一件冬衣"));
}

on_both_backends!(
    an_order_goes_from_resident_to_rating_and_is_paid,
    wishes_are_fulfilled_by_a_member_or_by_a_unit,
);
