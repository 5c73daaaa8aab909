//! One tower layer for every per-request check that may answer on its own:
//! a [`Gate`] either admits a request (returning a ticket held until the
//! response is ready) or refuses it with a `Status`, sent at once as a
//! trailers-only gRPC response. Authentication and load shedding are gates.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::Status;
use tonic::body::Body;

/// A check in front of every RPC.
pub trait Gate: Clone + Send + Sync + 'static {
    /// Held while the request is served (e.g. a concurrency permit).
    type Ticket: Send + 'static;

    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<Self::Ticket, Status>;
}

#[derive(Clone)]
pub struct GateLayer<G> {
    gate: G,
}

impl<G> GateLayer<G> {
    pub fn new(gate: G) -> Self {
        Self { gate }
    }
}

impl<S, G: Clone> tower::Layer<S> for GateLayer<G> {
    type Service = Gated<S, G>;

    fn layer(&self, inner: S) -> Self::Service {
        Gated {
            inner,
            gate: self.gate.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Gated<S, G> {
    inner: S,
    gate: G,
}

impl<S, G, B> tower::Service<http::Request<B>> for Gated<S, G>
where
    S: tower::Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    G: Gate,
    G::Ticket: Unpin,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        match self.gate.admit(&mut request) {
            Ok(ticket) => {
                let future = self.inner.call(request);
                Box::pin(async move {
                    // The ticket lives as long as the response body: a
                    // streaming call (an import, a watch) holds its permit
                    // until its last message, not just until its headers.
                    let response = future.await?;
                    Ok(response.map(|body| {
                        Body::new(Ticketed {
                            inner: body,
                            _ticket: ticket,
                        })
                    }))
                })
            }
            Err(status) => {
                let response = status.into_http();
                Box::pin(async move { Ok(response) })
            }
        }
    }
}

/// A response body holding its gate's ticket until it is dropped.
struct Ticketed<T> {
    inner: Body,
    _ticket: T,
}

impl<T: Send + Unpin + 'static> http_body::Body for Ticketed<T> {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
