//! A webhook receiver for tests of the suite's webhook (feedback's and the
//! city's): a real HTTP server on a free port that records what it accepts.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};

/// (signature header, cursor header, body) of one accepted POST.
pub type Delivery = (String, String, Vec<u8>);

/// A webhook secret of the minimum length.
pub const SECRET: &str = "0123456789abcdef0123456789abcdef";

/// A webhook receiver: records what it accepts, answers 500 while `failing`
/// is set (out of reach) and 400 while `rejecting` is (refuses the event).
#[derive(Debug, Clone, Default)]
pub struct Receiver {
    pub received: Arc<Mutex<Vec<Delivery>>>,
    pub failing: Arc<Mutex<bool>>,
    pub rejecting: Arc<Mutex<bool>>,
}

impl Receiver {
    pub fn got(&self, member: &str) -> bool {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .any(|(_, _, body)| String::from_utf8_lossy(body).contains(member))
    }
}

/// Serves `receiver` on a free local port, until the test ends; the port.
pub async fn serve(receiver: Receiver) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let receiver = receiver.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let receiver = receiver.clone();
                    async move {
                        let header = |name: &str| {
                            request
                                .headers()
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned()
                        };
                        let (signature, cursor) = (header("x-dualreport-signature"), header("x-dualreport-cursor"));
                        let body = request
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes().to_vec())
                            .unwrap_or_default();
                        let failing = *receiver.failing.lock().expect("lock");
                        let rejecting = *receiver.rejecting.lock().expect("lock");
                        let status = if failing {
                            hyper::StatusCode::INTERNAL_SERVER_ERROR
                        } else if rejecting {
                            hyper::StatusCode::BAD_REQUEST
                        } else {
                            receiver.received.lock().expect("lock").push((signature, cursor, body));
                            hyper::StatusCode::OK
                        };
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .status(status)
                                .body(Full::new(bytes_of("ok")))
                                .expect("response"),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    port
}

fn bytes_of(text: &'static str) -> hyper::body::Bytes {
    hyper::body::Bytes::from_static(text.as_bytes())
}
