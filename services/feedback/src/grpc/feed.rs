//! The feed and the webhook: parse, call the use case, answer.

use super::*;

pub(super) async fn watch_events(
    api: &FeedbackApi,
    request: Request<pb::WatchEventsRequest>,
) -> R<<FeedbackApi as FeedbackService>::WatchEventsStream> {
    let p = who(&request)?;
    let r = request.into_inner();
    let after = parse_cursor(&r.cursor)?;
    let district = api.app.feed_scope(&p).await.map_err(to_status)?;
    let last = api.app.last_sequence().await.map_err(to_status)?;
    if after > last {
        return Err(err::invalid_field(
            "cursor",
            "is beyond the newest event; pass a cursor this feed returned",
        ));
    }
    let waiting = dualreport_platform::watch::Waiting {
        appended: api.app.appended().clone(),
        poll: api.watch_poll,
        backlog_only: r.backlog_only,
    };
    let app = api.app.clone();
    let stream = dualreport_platform::watch::follow(waiting, after, move |after, limit| {
        let app = app.clone();
        let district = district.clone();
        async move {
            let events = app
                .events_after(after, limit, district.as_deref())
                .await
                .map_err(to_status)?;
            Ok(events
                .into_iter()
                .map(|e| {
                    (
                        e.sequence,
                        pb::WatchEventsResponse {
                            event: Some(event_to_pb(e)),
                        },
                    )
                })
                .collect())
        }
    });
    Ok(Response::new(stream))
}

pub(super) async fn set_webhook(
    api: &FeedbackApi,
    request: Request<pb::SetWebhookRequest>,
) -> R<pb::SetWebhookResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let (url, secret) = dualreport_webhook::parse_set(&r.url, &r.secret, api.app.allow_http())
        .map_err(|e| err::invalid_fields(&[e]))?;
    let (hook, failed) = api.app.set_webhook(&p, url, secret).await.map_err(to_status)?;
    ok(pb::SetWebhookResponse {
        webhook: Some(webhook_to_pb(hook, failed)),
    })
}

pub(super) async fn get_webhook(
    api: &FeedbackApi,
    request: Request<pb::GetWebhookRequest>,
) -> R<pb::GetWebhookResponse> {
    let p = who(&request)?;
    let (hook, failed) = api.app.get_webhook(&p).await.map_err(to_status)?;
    ok(pb::GetWebhookResponse {
        webhook: Some(webhook_to_pb(hook, failed)),
    })
}

pub(super) async fn list_failed_deliveries(
    api: &FeedbackApi,
    request: Request<pb::ListFailedDeliveriesRequest>,
) -> R<pb::ListFailedDeliveriesResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let page = page(r.page_size, &r.page_token)?;
    let (deliveries, next) = api.app.list_failed(&p, &page).await.map_err(to_status)?;
    ok(pb::ListFailedDeliveriesResponse {
        deliveries: deliveries.into_iter().map(failed_to_pb).collect(),
        next_page_token: next,
    })
}

pub(super) async fn replay_delivery(
    api: &FeedbackApi,
    request: Request<pb::ReplayDeliveryRequest>,
) -> R<pb::ReplayDeliveryResponse> {
    let p = who(&request)?;
    let delivery = id("delivery_id", &request.get_ref().delivery_id)?;
    let (delivered, error) = api
        .app
        .replay_delivery(&p, &delivery, &api.poster)
        .await
        .map_err(to_status)?;
    ok(pb::ReplayDeliveryResponse { delivered, error })
}
