//! The city-level webhook: parse, call the use case, answer.

use super::*;

fn webhook_to_pb(hook: Option<dualreport_webhook::Webhook>, failed: i64) -> fpb::Webhook {
    dualreport_webhook::to_pb(hook, failed, cursor)
}

pub(super) async fn set_webhook(api: &CityApi, request: Request<pb::SetWebhookRequest>) -> R<pb::SetWebhookResponse> {
    let p = principal(&request)?;
    let r = request.into_inner();
    let (url, secret) = dualreport_webhook::parse_set(&r.url, &r.secret, api.webhook.1).map_err(bad)?;
    let (hook, failed) = api.city.set_webhook(&p, &url, &secret).await.map_err(to_status)?;
    Ok(Response::new(pb::SetWebhookResponse {
        webhook: Some(webhook_to_pb(hook, failed)),
    }))
}

pub(super) async fn get_webhook(api: &CityApi, request: Request<pb::GetWebhookRequest>) -> R<pb::GetWebhookResponse> {
    let p = principal(&request)?;
    let (hook, failed) = api.city.get_webhook(&p).await.map_err(to_status)?;
    Ok(Response::new(pb::GetWebhookResponse {
        webhook: Some(webhook_to_pb(hook, failed)),
    }))
}

pub(super) async fn list_failed_deliveries(
    api: &CityApi,
    request: Request<pb::ListFailedDeliveriesRequest>,
) -> R<pb::ListFailedDeliveriesResponse> {
    let p = principal(&request)?;
    let r = request.into_inner();
    let page = page(r.page_size, &r.page_token)?;
    let (rows, next) = api.city.list_failed_deliveries(&p, &page).await.map_err(to_status)?;
    Ok(Response::new(pb::ListFailedDeliveriesResponse {
        deliveries: rows
            .into_iter()
            .map(|d| pb::FailedDelivery {
                id: d.failed.id,
                event: d.event.map(event_to_pb),
                attempts: i32::try_from(d.failed.attempts).unwrap_or(i32::MAX),
                last_error: d.failed.last_error,
                fail_time: Some(timestamp(d.failed.failed_at)),
            })
            .collect(),
        next_page_token: next,
    }))
}

pub(super) async fn replay_delivery(
    api: &CityApi,
    request: Request<pb::ReplayDeliveryRequest>,
) -> R<pb::ReplayDeliveryResponse> {
    let p = principal(&request)?;
    let id = dualreport_platform::validate::id("delivery_id", &request.get_ref().delivery_id).map_err(bad)?;
    let (delivered, error) = api
        .city
        .replay_delivery(&p, &id, &api.webhook.0)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ReplayDeliveryResponse { delivered, error }))
}
