//! The suite's one outbound webhook (推送) to the party-building cloud
//! (党建云), used by feedback (a district's feed) and the city tier (the
//! city's feed): each event POSTed as JSON, signed with HMAC-SHA256 over the
//! body, in feed order, from a stored cursor.
//!
//! - A receiver **out of reach** (network, 5xx, 408, 429) holds the cursor:
//!   the event is listed as a failed delivery and the round pauses, backing
//!   off up to `webhook.max_backoff_ms`, then resumes from the cursor.
//! - A receiver that **refuses** an event (other 4xx) gets it recorded for
//!   replay (`ReplayDelivery`), and the feed moves on.
//! - One replica at a time delivers (a lease); the cursor moves by a
//!   conditional update, so a new webhook set meanwhile starts over cleanly.
//!
//! Each service keeps two tables with the same DDL: `webhook (id, url,
//! secret, delivered_sequence, updated_at)` (one row, `id = 'default'`) and
//! `failed_deliveries (id, event_sequence, attempts, last_error, failed_at)`.
//! The service supplies its events as [`Outgoing`] (its own JSON body, kind
//! and cursor) and its own metrics, so both feeds behave alike and are
//! counted under their own names.

use dualreport_platform::error::FieldError;
use serde::{Deserialize, Serialize};

mod poster;
mod round;
mod store;

pub use poster::{Poster, SendError};
pub use round::Deliverer;
pub use store::*;

/// `[webhook]`: the outbound webhook to the party-building cloud.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WebhookSettings {
    /// Accept `http://` URLs (development only); otherwise `https://` is required.
    pub allow_http: bool,
    pub timeout_ms: u64,
    /// Attempts per event before it is recorded as a failed delivery.
    pub max_attempts: u32,
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
}

/// The configured webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
    /// The last event delivered (or given up on).
    pub delivered_sequence: i64,
    pub updated_at: i64,
}

/// An event the webhook gave up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub id: String,
    pub event_sequence: i64,
    pub attempts: i64,
    pub last_error: String,
    pub failed_at: i64,
}

/// One event as the webhook sends it: the body is the service's own JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub sequence: i64,
    pub kind: String,
    pub cursor: String,
    pub body: Vec<u8>,
}

/// The signature header value: `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a webhook URL: https, or http where allowed (development).
pub fn url(value: &str, allow_http: bool) -> Result<String, FieldError> {
    let value = value.trim();
    let ok_scheme = value.starts_with("https://") || (allow_http && value.starts_with("http://"));
    if !ok_scheme {
        return Err(FieldError::new(
            "url",
            if allow_http {
                "must be an https:// or http:// URL"
            } else {
                "must be an https:// URL (http is accepted only in development)"
            },
        ));
    }
    let host = value.split_once("://").map(|(_, rest)| rest).unwrap_or_default();
    if host.is_empty() || host.starts_with('/') || value.len() > 2000 || value.chars().any(char::is_whitespace) {
        return Err(FieldError::new("url", "must name a host"));
    }
    Ok(value.to_owned())
}

/// A `SetWebhook` request's (url, secret): both empty turn the webhook off.
pub fn parse_set(url_text: &str, secret: &str, allow_http: bool) -> Result<(String, String), FieldError> {
    if url_text.is_empty() {
        return Ok((String::new(), String::new()));
    }
    let url = url(url_text, allow_http)?;
    if secret.len() < 32 || secret.len() > 256 {
        return Err(FieldError::new("secret", "must be 32 to 256 bytes"));
    }
    Ok((url, secret.to_owned()))
}

/// The webhook as the API shows it (never its secret), with the count of
/// failed deliveries and the service's cursor of the last event delivered.
pub fn to_pb(
    hook: Option<Webhook>,
    failed: i64,
    cursor: impl Fn(i64) -> String,
) -> dualreport_proto::feedback::v1::Webhook {
    let failed_deliveries = i32::try_from(failed).unwrap_or(i32::MAX);
    match hook {
        None => dualreport_proto::feedback::v1::Webhook {
            failed_deliveries,
            ..Default::default()
        },
        Some(h) => dualreport_proto::feedback::v1::Webhook {
            enabled: !h.url.is_empty(),
            url: h.url,
            delivered_cursor: cursor(h.delivered_sequence),
            failed_deliveries,
            update_time: Some(dualreport_platform::wire::timestamp(h.updated_at)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_secrets_and_signatures() {
        assert!(url("https://cloud.example/hook", false).is_ok());
        assert_eq!(url("http://cloud.example/hook", false).unwrap_err().field, "url");
        assert!(url("http://127.0.0.1:9/hook", true).is_ok());
        assert!(url("https:///nohost", false).is_err());
        assert_eq!(parse_set("", "", false).unwrap(), (String::new(), String::new()));
        assert_eq!(
            parse_set("https://cloud.example/hook", "short", false)
                .unwrap_err()
                .field,
            "secret"
        );
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
