//! The webhook's HTTP client: POSTs one event as JSON to the receiver the
//! cloud (党建云) configured, signed with HMAC-SHA256 over the body, and tells
//! a receiver out of reach from one that refused the event.

use std::time::Duration;

use crate::domain::model::{Event, Webhook};
use crate::domain::{cursor, signature};
use crate::settings::WebhookSettings;

/// The webhook's HTTP client.
#[derive(Debug, Clone)]
pub struct Poster {
    client: reqwest::Client,
}

/// The body POSTed for an event.
#[derive(serde::Serialize)]
struct Body<'a> {
    cursor: String,
    #[serde(flatten)]
    event: &'a Event,
}

impl Poster {
    pub fn new(settings: &WebhookSettings) -> anyhow::Result<Self> {
        // reqwest is built without a bundled crypto provider: use ring, as the rest of the suite does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client })
    }

    /// One attempt; `Err` carries what went wrong.
    pub async fn send(&self, hook: &Webhook, event: &Event) -> std::result::Result<(), SendError> {
        let body = serde_json::to_vec(&Body {
            cursor: cursor(event.sequence),
            event,
        })
        .map_err(|e| SendError::rejected(e.to_string()))?;
        let response = self
            .client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("x-dualreport-event", &event.kind)
            .header("x-dualreport-cursor", cursor(event.sequence))
            .header("x-dualreport-signature", signature(hook.secret.as_bytes(), &body))
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::unreachable(format!("request failed: {e}")))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            Err(SendError::unreachable(format!("webhook answered {status}")))
        } else {
            Err(SendError::rejected(format!("webhook answered {status}")))
        }
    }
}

/// Why a delivery failed: the receiver is out of reach (network, 5xx, 408,
/// 429: the feed waits for it and resumes from its cursor), or it refused
/// this event (other 4xx: recorded for replay, the feed moves on).
#[derive(Debug, Clone)]
pub struct SendError {
    pub message: String,
    pub unreachable: bool,
}

impl SendError {
    fn unreachable(message: String) -> Self {
        Self {
            message,
            unreachable: true,
        }
    }

    fn rejected(message: String) -> Self {
        Self {
            message,
            unreachable: false,
        }
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
