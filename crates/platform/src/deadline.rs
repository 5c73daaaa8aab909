//! The caller's deadline, passed on: a call never outlives its caller.
//!
//! The server's trace-context layer reads the request's `grpc-timeout` and
//! runs the handler inside [`scope`], so every outgoing call the handler
//! makes through [`crate::client::ClientInterceptor`] carries the smaller of
//! its own peer timeout (`timeout_ms`) and the caller's [`remaining`] time as
//! its `grpc-timeout`. tonic's channel enforces that header on the client side
//! too, and the peer's server does on its side, so a 300 ms caller deadline
//! bounds every hop below it. Work without a caller (background loops) keeps
//! the peer timeout alone.

use std::future::Future;
use std::time::{Duration, Instant};

tokio::task_local! {
    static DEADLINE: Option<Instant>;
}

/// A `grpc-timeout` header's value (gRPC over HTTP/2: at most 8 digits and
/// one of `H M S m u n`); `None` when malformed.
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// The instant a request's `grpc-timeout` header puts its deadline at.
pub fn from_headers(headers: &http::HeaderMap) -> Option<Instant> {
    let timeout = parse_grpc_timeout(headers.get("grpc-timeout")?.to_str().ok()?)?;
    Instant::now().checked_add(timeout)
}

/// Runs `future` (a request's handling) under `deadline`.
pub fn scope<F: Future>(deadline: Option<Instant>, future: F) -> impl Future<Output = F::Output> {
    DEADLINE.scope(deadline, future)
}

/// Runs `f` (a handler's synchronous part) under `deadline`.
pub fn sync_scope<R>(deadline: Option<Instant>, f: impl FnOnce() -> R) -> R {
    DEADLINE.sync_scope(deadline, f)
}

/// Time left before the caller's deadline; `None` when the caller set none
/// (or outside a request).
pub fn remaining() -> Option<Duration> {
    DEADLINE
        .try_with(|deadline| deadline.map(|at| at.saturating_duration_since(Instant::now())))
        .ok()
        .flatten()
}

/// `own` (a peer timeout, a whole read's budget) bounded by the caller's
/// remaining time.
pub fn bounded(own: Duration) -> Duration {
    remaining().map_or(own, |left| left.min(own))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_in_every_unit_and_refuse_the_rest() {
        assert_eq!(parse_grpc_timeout("300m"), Some(Duration::from_millis(300)));
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("5u"), Some(Duration::from_micros(5)));
        for bad in ["", "m", "123456789m", "-1m", "10x", "1.5S"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn the_callers_deadline_bounds_the_peer_timeout_only_inside_its_scope() {
        let own = Duration::from_secs(5);
        assert_eq!(bounded(own), own, "no caller: the peer timeout");
        let at = Instant::now() + Duration::from_millis(300);
        scope(Some(at), async {
            assert!(bounded(own) <= Duration::from_millis(300));
            assert!(sync_scope(None, remaining).is_none(), "an inner scope replaces it");
        })
        .await;
        scope(Some(Instant::now()), async {
            assert_eq!(bounded(own), Duration::ZERO, "a passed deadline leaves nothing");
        })
        .await;
    }
}
