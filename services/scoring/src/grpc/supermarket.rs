//! The points supermarket: parse, call the use case, answer.

use super::*;

pub(super) async fn create_item(
    api: &ScoringApi,
    request: Request<pb::CreateItemRequest>,
) -> R<pb::CreateItemResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let mut v = Violations::default();
    let community_id = v.check(id("community_id", &req.community_id));
    let name = market::name(&req.name, &mut v);
    let description = market::description(&req.description, &mut v);
    let price = market::price(i64_of(req.price_points), &mut v);
    if !(0..=market::MAX_STOCK).contains(&i64_of(req.stock)) {
        v.add("stock", format!("must be between 0 and {}", market::MAX_STOCK));
    }
    let (Some(community_id), Some(name), Some(description), Some(price_points), true) =
        (community_id, name, description, price, v.is_empty())
    else {
        return Err(err::invalid_fields(&v.0));
    };
    let now = now_millis();
    let item = Item {
        id: dualreport_platform::ids::new_id(),
        community_id,
        name,
        description,
        price_points,
        stock: i64_of(req.stock),
        active: true,
        created_at: now,
        updated_at: now,
    };
    let item = api
        .scoring
        .create_item(&p, &req.request_id, item)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::CreateItemResponse {
        item: Some(item_to_pb(item)),
    }))
}

pub(super) async fn update_item(
    api: &ScoringApi,
    request: Request<pb::UpdateItemRequest>,
) -> R<pb::UpdateItemResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let item_id = field(id("item_id", &req.item_id))?;
    let mut v = Violations::default();
    let change = ItemChange {
        name: req.name.as_deref().and_then(|n| market::name(n, &mut v)),
        description: req.description.as_deref().and_then(|d| market::description(d, &mut v)),
        price_points: req.price_points.and_then(|price| market::price(i64_of(price), &mut v)),
        add_stock: i64_of(req.add_stock),
        active: req.active,
        etag: req.etag.clone(),
    };
    if !v.is_empty() {
        return Err(err::invalid_fields(&v.0));
    }
    let item = api
        .scoring
        .update_item(&p, &req.request_id, &item_id, change)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::UpdateItemResponse {
        item: Some(item_to_pb(item)),
    }))
}

pub(super) async fn list_items(api: &ScoringApi, request: Request<pb::ListItemsRequest>) -> R<pb::ListItemsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let community_id = field(id("community_id", &req.community_id))?;
    let page = page(req.page_size, &req.page_token)?;
    let (items, next_page_token) = api
        .scoring
        .list_items(&p, &community_id, req.include_inactive, &page)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListItemsResponse {
        items: items.into_iter().map(item_to_pb).collect(),
        next_page_token,
    }))
}

pub(super) async fn redeem(api: &ScoringApi, request: Request<pb::RedeemRequest>) -> R<pb::RedeemResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let member_id = field(id("member_id", &req.member_id))?;
    let item_id = field(id("item_id", &req.item_id))?;
    let quantity = market::quantity(i64_of(req.quantity)).map_err(bad)?;
    let redemption = api
        .scoring
        .redeem(&p, &req.request_id, &member_id, &item_id, quantity)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::RedeemResponse {
        redemption: Some(redemption_to_pb(redemption)),
    }))
}

pub(super) async fn cancel_redemption(
    api: &ScoringApi,
    request: Request<pb::CancelRedemptionRequest>,
) -> R<pb::CancelRedemptionResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let redemption_id = field(id("redemption_id", &req.redemption_id))?;
    let reason = content("reason", &req.reason)?;
    let redemption = api
        .scoring
        .cancel_redemption(&p, &req.request_id, &redemption_id, &reason)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::CancelRedemptionResponse {
        redemption: Some(redemption_to_pb(redemption)),
    }))
}

pub(super) async fn list_redemptions(
    api: &ScoringApi,
    request: Request<pb::ListRedemptionsRequest>,
) -> R<pb::ListRedemptionsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    for (name, value) in [("member_id", &req.member_id), ("community_id", &req.community_id)] {
        if !value.is_empty() {
            field(id(name, value))?;
        }
    }
    let page = page(req.page_size, &req.page_token)?;
    let (rows, next_page_token) = api
        .scoring
        .list_redemptions(&p, &req.member_id, &req.community_id, &page)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListRedemptionsResponse {
        redemptions: rows.into_iter().map(redemption_to_pb).collect(),
        next_page_token,
    }))
}
