//! The webhook's HTTP client: one signed POST, and what a failure means.

use std::time::Duration;

use crate::{Outgoing, Webhook, WebhookSettings, signature};

/// The webhook's HTTP client.
#[derive(Debug, Clone)]
pub struct Poster {
    client: reqwest::Client,
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

    /// One attempt; `Err` says whether the receiver was out of reach.
    pub async fn send(&self, hook: &Webhook, event: &Outgoing) -> Result<(), SendError> {
        let response = self
            .client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("x-dualreport-event", &event.kind)
            .header("x-dualreport-cursor", &event.cursor)
            .header("x-dualreport-signature", signature(hook.secret.as_bytes(), &event.body))
            .body(event.body.clone())
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
