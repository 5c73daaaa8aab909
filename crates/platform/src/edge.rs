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
//!   bug of ours and nothing else.
//! - **Idle request bodies end.** A request whose body sends nothing for
//!   `server.request_idle_timeout_ms` (an opened client stream with no
//!   message, a slow-loris unary call) ends with `DEADLINE_EXCEEDED`
//!   (`REQUEST_IDLE`), giving back its concurrency permit.
//! - **Open streams end on shutdown.** Once shutdown is requested, a response
//!   stream with nothing more ready to send (`Health/Watch`, the cloud feed)
//!   ends with `UNAVAILABLE` (`SHUTTING_DOWN`), so a rollout waits for
//!   in-flight work, not for the drain deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use dualreport_proto::common::v1::ErrorReason;
use http_body::{Frame, SizeHint};
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
}

impl EdgeLayer {
    /// `stopping` turns `true` when shutdown is requested.
    pub fn new(idle: Duration, stopping: watch::Receiver<bool>) -> Self {
        Self { idle, stopping }
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
        let idle = self.layer.idle;
        let request = request.map(|body| Body::new(IdleBody::new(body, idle)));
        let future = self.inner.call(request);
        let stopping = self.layer.stopping.clone();
        Box::pin(async move {
            let mut response = future.await?;
            rewrite_framework_status(response.headers_mut());
            Ok(response.map(|body| Body::new(StoppableBody::new(body, stopping))))
        })
    }
}

/// Rewrites a trailers-only status that tonic raised on its own (no
/// `grpc-status-details-bin`): see the module docs.
fn rewrite_framework_status(headers: &mut http::HeaderMap) {
    let Some(original) = Status::from_header_map(headers) else {
        return;
    };
    if !original.details().is_empty() {
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
/// handler asks for more).
struct IdleBody {
    inner: Body,
    idle: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
    /// Whether the timer runs: only while we wait for the caller, not while
    /// the handler works on the last message.
    waiting: bool,
}

impl IdleBody {
    fn new(inner: Body, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            timer: Box::pin(tokio::time::sleep(idle)),
            waiting: true,
        }
    }
}

impl http_body::Body for IdleBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
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
