//! Orders (点单/派单/接单): parse, call the use case, answer.

use super::*;

pub(super) async fn place_order(
    api: &VolunteeringApi,
    request: Request<pb::PlaceOrderRequest>,
) -> R<pb::PlaceOrderResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let now = now_millis();
    let order = Order {
        id: new_id(),
        community_id: id("community_id", &req.community_id)?,
        resident_name: name("resident_name", &req.resident_name)?,
        place: text("place", &req.place, 200, false)?,
        content: words("content", &req.content, true)?,
        post_id: optional_id("post_id", &req.post_id)?,
        status: OrderStatus::Open,
        dispatch_note: String::new(),
        member_id: String::new(),
        attendance_id: String::new(),
        evidence_ids: Vec::new(),
        satisfaction: 0,
        resident_comment: String::new(),
        created_at: now,
        updated_at: now,
    };
    let order = api
        .app
        .place_order(&p, &req.request_id, order)
        .await
        .map_err(to_status)?;
    ok(pb::PlaceOrderResponse {
        order: Some(order_to_pb(order)),
    })
}

pub(super) async fn dispatch_order(
    api: &VolunteeringApi,
    request: Request<pb::DispatchOrderRequest>,
) -> R<pb::DispatchOrderResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let order_id = id("order_id", &req.order_id)?;
    let note = words("note", &req.note, false)?;
    let order = api.app.dispatch_order(&p, &order_id, note).await.map_err(to_status)?;
    ok(pb::DispatchOrderResponse {
        order: Some(order_to_pb(order)),
    })
}

pub(super) async fn accept_order(
    api: &VolunteeringApi,
    request: Request<pb::AcceptOrderRequest>,
) -> R<pb::AcceptOrderResponse> {
    let p = principal(&request)?;
    let order_id = id("order_id", &request.get_ref().order_id)?;
    let member_id = id("member_id", &request.get_ref().member_id)?;
    let order = api
        .app
        .accept_order(&p, &order_id, &member_id)
        .await
        .map_err(to_status)?;
    ok(pb::AcceptOrderResponse {
        order: Some(order_to_pb(order)),
    })
}

pub(super) async fn complete_order(
    api: &VolunteeringApi,
    request: Request<pb::CompleteOrderRequest>,
) -> R<pb::CompleteOrderResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let order_id = id("order_id", &req.order_id)?;
    let minutes = minutes("minutes", req.minutes)?;
    let evidence = evidence_ids("evidence_ids", &req.evidence_ids, true)?;
    let order = api
        .app
        .complete_order(&p, &order_id, minutes, evidence)
        .await
        .map_err(to_status)?;
    ok(pb::CompleteOrderResponse {
        order: Some(order_to_pb(order)),
    })
}

pub(super) async fn rate_order(
    api: &VolunteeringApi,
    request: Request<pb::RateOrderRequest>,
) -> R<pb::RateOrderResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let order_id = id("order_id", &req.order_id)?;
    if !(1..=5).contains(&req.satisfaction) {
        return Err(err::invalid_field("satisfaction", "must be between 1 and 5"));
    }
    let comment = words("comment", &req.comment, false)?;
    let order = api
        .app
        .rate_order(&p, &order_id, i64::from(req.satisfaction), comment)
        .await
        .map_err(to_status)?;
    ok(pb::RateOrderResponse {
        order: Some(order_to_pb(order)),
    })
}

pub(super) async fn get_order(api: &VolunteeringApi, request: Request<pb::GetOrderRequest>) -> R<pb::GetOrderResponse> {
    let p = principal(&request)?;
    let order_id = id("order_id", &request.get_ref().order_id)?;
    let order = api.app.get_order(&p, &order_id).await.map_err(to_status)?;
    ok(pb::GetOrderResponse {
        order: Some(order_to_pb(order)),
    })
}

pub(super) async fn list_orders(
    api: &VolunteeringApi,
    request: Request<pb::ListOrdersRequest>,
) -> R<pb::ListOrdersResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let area = area(&req.community_id, &req.org_id)?;
    let status = order_status_from_pb(req.status)?;
    let created = DateWindow::parse("created", req.created.as_ref())?;
    let page = page(req.page_size, &req.page_token)?;
    let (orders, next_page_token) = api
        .app
        .list_orders(&p, &area, status, &created, &page)
        .await
        .map_err(to_status)?;
    ok(pb::ListOrdersResponse {
        orders: orders.into_iter().map(order_to_pb).collect(),
        next_page_token,
    })
}
