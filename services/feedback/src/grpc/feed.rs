//! The feed and the webhook: parse, call the use case, answer.

use super::*;

pub(super) async fn watch_events(
    api: &FeedbackApi,
    request: Request<pb::WatchEventsRequest>,
) -> R<<FeedbackApi as FeedbackService>::WatchEventsStream> {
    let p = who(&request)?;
    let r = request.into_inner();
    let mut after = parse_cursor(&r.cursor)?;
    let district = api.app.feed_scope(&p).await.map_err(to_status)?;
    let last = api.app.last_sequence().await.map_err(to_status)?;
    if after > last {
        return Err(err::invalid_field(
            "cursor",
            "is beyond the newest event; pass a cursor this feed returned",
        ));
    }
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let app = api.app.clone();
    let poll = api.watch_poll;
    let backlog_only = r.backlog_only;
    tokio::spawn(async move {
        loop {
            // Register for wake-ups before reading, so an append in between is not missed.
            let appended = app.appended().clone();
            let woken = appended.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let events = match app.events_after(after, 100, district.as_deref()).await {
                Ok(events) => events,
                Err(e) => {
                    let _ = tx.send(Err(to_status(e))).await;
                    return;
                }
            };
            let full = events.len() == 100;
            for event in events {
                after = event.sequence;
                let item = pb::WatchEventsResponse {
                    event: Some(event_to_pb(event)),
                };
                if tx.send(Ok(item)).await.is_err() {
                    return;
                }
            }
            if full {
                continue;
            }
            if backlog_only {
                return;
            }
            tokio::select! {
                () = &mut woken => {}
                () = tokio::time::sleep(poll) => {}
                () = tx.closed() => return,
            }
        }
    });
    Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
}

pub(super) async fn set_webhook(
    api: &FeedbackApi,
    request: Request<pb::SetWebhookRequest>,
) -> R<pb::SetWebhookResponse> {
    let p = who(&request)?;
    let r = request.into_inner();
    let (url, secret) = if r.url.is_empty() {
        (String::new(), String::new())
    } else {
        let url = webhook_url(&r.url, api.app.allow_http())?;
        if r.secret.len() < 32 || r.secret.len() > 256 {
            return Err(err::invalid_field("secret", "must be 32 to 256 bytes"));
        }
        (url, r.secret)
    };
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
