//! The HTTP/2 edge of every server, in one layer ([`EdgeLayer`]) between the
//! request span and the gates:
//!
//! - **tonic's own refusals in our error shape.** A request tonic cannot
//!   decode (bad varint, truncated message, wrong wire type, invalid UTF-8)
//!   answers `INTERNAL` without details, and an oversized one `OUT_OF_RANGE`.
//!   Both are the caller's fault, so they become `INVALID_ARGUMENT`
//!   (`MALFORMED_REQUEST`) and `RESOURCE_EXHAUSTED` (`MESSAGE_TOO_LARGE`) with
//!   an `ErrorInfo`. Our own `INTERNAL` always carries details
//!   ([`crate::error::internal`]), so it is never rewritten: `INTERNAL` means a
//!   bug of ours and nothing else. tonic's bare `UNIMPLEMENTED` for a path it
//!   does not serve gets a message naming the path.
//! - **Idle request bodies end.** A request whose body sends nothing for
//!   `server.request_idle_timeout_ms` (an opened client stream with no
//!   message, a slow-loris unary call) ends with `DEADLINE_EXCEEDED`
//!   (`REQUEST_IDLE`), giving back its concurrency permit.
//! - **Each request is fingerprinted.** The SHA-256 of a one-message request
//!   body is what [`crate::idempotency`] keeps beside a `request_id`, so the
//!   same id with another request is refused.
//! - **Open streams end on shutdown.** Once shutdown is requested, a response
//!   stream with nothing more ready to send (`Health/Watch`, the cloud feed)
//!   ends with `UNAVAILABLE` (`SHUTTING_DOWN`), so a rollout waits for
//!   in-flight work, not for the drain deadline.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf as _, Bytes};
use dualreport_proto::common::v1::ErrorReason;
use http_body::{Frame, SizeHint};
use sha2::{Digest as _, Sha256};
use tokio::sync::watch;
use tonic::body::Body;
use tonic::{Code, Status};

use crate::error::status;

/// The longest prefix of a framework message we pass on.
const MAX_MESSAGE_CHARS: usize = 200;

#[derive(Clone)]
pub struct EdgeLayer {
    idle: Duration,
    stopping: watch::Receiver<bool>,
    /// The deadline of every call but the long-running ones.
    deadline: Duration,
    /// Full paths (`/pkg.Service/Method`) of the calls that answer within
    /// `server.long_request_timeout_ms` instead (tonic's own server timeout).
    long_running: Arc<[&'static str]>,
}

impl EdgeLayer {
    /// `stopping` turns `true` when shutdown is requested.
    pub fn new(
        idle: Duration,
        stopping: watch::Receiver<bool>,
        deadline: Duration,
        long_running: &[&'static str],
    ) -> Self {
        Self {
            idle,
            stopping,
            deadline,
            long_running: long_running.into(),
        }
    }
}

impl<S> tower::Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Edge {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    layer: EdgeLayer,
}

impl<S> tower::Service<http::Request<Body>> for Edge<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let request_path: String = request.uri().path().chars().take(MAX_MESSAGE_CHARS).collect();
        let idle = self.layer.idle;
        let fingerprint = Arc::new(OnceLock::new());
        let slot = fingerprint.clone();
        let request = request.map(|body| Body::new(RequestBody::new(body, idle, slot)));
        let future = crate::idempotency::with_fingerprint(fingerprint, self.inner.call(request));
        let stopping = self.layer.stopping.clone();
        let path = request_path.clone();
        let deadline = (!self.layer.long_running.contains(&request_path.as_str())).then_some(self.layer.deadline);
        Box::pin(async move {
            let mut response = match deadline {
                None => future.await?,
                Some(deadline) => match tokio::time::timeout(deadline, future).await {
                    Ok(response) => response?,
                    // As tonic's own server timeout answers.
                    Err(_) => tonic::Status::cancelled("Timeout expired").into_http(),
                },
            };
            rewrite_framework_status(response.headers_mut(), &path);
            Ok(response.map(|body| Body::new(StoppableBody::new(body, stopping))))
        })
    }
}

/// A status tonic raised while decoding one message of a request stream
/// (which arrives in the stream, not in the response headers) in our error
/// shape, as [`rewrite_framework_status`] does for one-message requests: a
/// message that does not decode is `INVALID_ARGUMENT` (`MALFORMED_REQUEST`),
/// an oversized one `RESOURCE_EXHAUSTED` (`MESSAGE_TOO_LARGE`).
pub fn stream_message_status(original: Status) -> Status {
    if !original.details().is_empty() {
        return original;
    }
    let (code, reason) = match original.code() {
        Code::Internal => (Code::InvalidArgument, ErrorReason::MalformedRequest),
        Code::OutOfRange => (Code::ResourceExhausted, ErrorReason::MessageTooLarge),
        _ => return original,
    };
    let message: String = original.message().chars().take(MAX_MESSAGE_CHARS).collect();
    status(code, reason, format!("malformed or oversized request: {message}"))
}

/// Rewrites a trailers-only status that tonic raised on its own (no
/// `grpc-status-details-bin`): see the module docs.
fn rewrite_framework_status(headers: &mut http::HeaderMap, path: &str) {
    let Some(original) = Status::from_header_map(headers) else {
        return;
    };
    if !original.details().is_empty() {
        return;
    }
    if original.code() == Code::Unimplemented && original.message().is_empty() {
        // tonic's router says nothing about a path it does not serve.
        let named = Status::new(Code::Unimplemented, format!("no such method here: {path}"));
        if named.add_header(headers).is_err() {
            tracing::warn!("cannot rewrite a framework status");
        }
        return;
    }
    let (code, reason) = match original.code() {
        Code::Internal => (Code::InvalidArgument, ErrorReason::MalformedRequest),
        Code::OutOfRange => (Code::ResourceExhausted, ErrorReason::MessageTooLarge),
        _ => return,
    };
    let message: String = original.message().chars().take(MAX_MESSAGE_CHARS).collect();
    let replacement = status(code, reason, format!("malformed or oversized request: {message}"));
    if replacement.add_header(headers).is_err() {
        tracing::warn!("cannot rewrite a framework status");
    }
}

/// A request body that fails with `DEADLINE_EXCEEDED` when no frame arrives
/// within `idle` of our asking (from the request's start, then each time the
/// handler asks for more), and fingerprints a one-message body.
struct RequestBody {
    inner: Body,
    idle: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
    /// Whether the timer runs: only while we wait for the caller, not while
    /// the handler works on the last message.
    waiting: bool,
    frames: MessageFrames,
    fingerprint: Arc<OnceLock<String>>,
}

impl RequestBody {
    fn new(inner: Body, idle: Duration, fingerprint: Arc<OnceLock<String>>) -> Self {
        Self {
            inner,
            idle,
            timer: Box::pin(tokio::time::sleep(idle)),
            waiting: true,
            frames: MessageFrames::default(),
            fingerprint,
        }
    }

    fn observe(&mut self, frame: &Option<Result<Frame<Bytes>, tonic::Status>>) {
        match frame {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    self.frames.feed(data.clone());
                }
            }
            Some(Err(_)) => {}
            None => {
                if let Some(fingerprint) = self.frames.single_message_fingerprint() {
                    let _ = self.fingerprint.set(fingerprint);
                }
            }
        }
    }
}

/// Follows gRPC's length-prefixed framing (1 flag byte, 4 length bytes, the
/// message) across data frames, hashing the messages' bytes.
#[derive(Default)]
struct MessageFrames {
    header: Vec<u8>,
    remaining: usize,
    messages: usize,
    digest: Sha256,
}

impl MessageFrames {
    fn feed(&mut self, mut data: Bytes) {
        while data.has_remaining() {
            if self.remaining == 0 && self.header.len() < 5 {
                let take = (5 - self.header.len()).min(data.remaining());
                self.header.extend_from_slice(&data.split_to(take));
                if self.header.len() == 5 {
                    self.messages += 1;
                    self.digest.update([self.header[0]]);
                    let length = u32::from_be_bytes([self.header[1], self.header[2], self.header[3], self.header[4]]);
                    self.remaining = length as usize;
                    if self.remaining == 0 {
                        self.header.clear();
                    }
                }
                continue;
            }
            let take = self.remaining.min(data.remaining());
            self.digest.update(data.split_to(take));
            self.remaining -= take;
            if self.remaining == 0 {
                self.header.clear();
            }
        }
    }

    /// The fingerprint, when the body was exactly one whole message.
    fn single_message_fingerprint(&mut self) -> Option<String> {
        let complete = self.remaining == 0 && self.header.is_empty();
        (self.messages == 1 && complete).then(|| crate::idempotency::fingerprint_of(std::mem::take(&mut self.digest)))
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
                this.observe(&frame);
                Poll::Ready(frame)
            }
            Poll::Pending => {
                if !this.waiting {
                    this.waiting = true;
                    this.timer.as_mut().reset(tokio::time::Instant::now() + this.idle);
                }
                ready!(this.timer.as_mut().poll(cx));
                Poll::Ready(Some(Err(status(
                    Code::DeadlineExceeded,
                    ErrorReason::RequestIdle,
                    format!("the request sent nothing for {} ms", this.idle.as_millis()),
                ))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that, once shutdown is requested and nothing more is ready
/// to send, ends with `UNAVAILABLE` trailers.
struct StoppableBody {
    inner: Body,
    stopping: Pin<Box<dyn Future<Output = ()> + Send>>,
    ended: bool,
}

impl StoppableBody {
    fn new(inner: Body, mut stopping: watch::Receiver<bool>) -> Self {
        Self {
            inner,
            stopping: Box::pin(async move {
                if stopping.wait_for(|stop| *stop).await.is_err() {
                    // The server is gone without a signal: nothing to wait for.
                    std::future::pending::<()>().await;
                }
            }),
            ended: false,
        }
    }
}

impl http_body::Body for StoppableBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        ready!(self.stopping.as_mut().poll(cx));
        self.ended = true;
        let mut trailers = http::HeaderMap::new();
        let shutting_down = status(Code::Unavailable, ErrorReason::ShuttingDown, "server shutting down");
        if shutting_down.add_header(&mut trailers).is_err() {
            return Poll::Ready(None);
        }
        Poll::Ready(Some(Ok(Frame::trailers(trailers))))
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
