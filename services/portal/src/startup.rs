//! Builds the portal: binds first (so tests on port 0 learn the port),
//! prepares its clients of the suite, then serves HTTP until shutdown, with
//! Prometheus metrics on their own port.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use dualreport_platform::auth::Authenticator;
use dualreport_platform::{metrics, server};
use tracing::Instrument as _;

use crate::settings::Settings;
use crate::upstream::Upstream;
use crate::{pages, session};

/// What every handler reads.
#[derive(Clone)]
pub struct Portal {
    pub settings: Arc<Settings>,
    pub upstream: Upstream,
    pub authenticator: Arc<Authenticator>,
    pub http: reqwest::Client,
}

pub struct Application {
    listeners: server::Listeners,
    router: Router,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        if settings.portal.dev_login && settings.auth.dev_hs256_secret.is_none() {
            anyhow::bail!("portal.dev_login needs auth.dev_hs256_secret (development only)");
        }
        if let Some(oidc) = &settings.oidc {
            anyhow::ensure!(
                ["access_token", "id_token"].contains(&oidc.token_field.as_str()),
                "oidc.token_field must be access_token or id_token"
            );
            anyhow::ensure!(
                !settings.portal.public_url.is_empty(),
                "[oidc] needs portal.public_url: the identity provider redirects to <public_url>/auth/callback"
            );
        }
        // reqwest is built without a bundled crypto provider: use ring, as the rest of the suite does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let portal = Portal {
            upstream: Upstream::new(&settings)?,
            authenticator: Arc::new(Authenticator::from_settings(&settings.auth)?),
            settings: Arc::new(settings),
            http,
        };
        let listeners = server::Listeners::bind(&portal.settings.server).await?;
        Ok(Self {
            listeners,
            router: router(portal),
        })
    }

    pub fn port(&self) -> u16 {
        self.listeners.grpc_port()
    }

    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let port = self.port();
        let metrics = self.listeners.metrics.map(|l| tokio::spawn(metrics::serve(l)));
        tracing::info!(port, service = "portal", "listening");
        let served = axum::serve(self.listeners.grpc, self.router)
            .with_graceful_shutdown(shutdown)
            .await;
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        Ok(served?)
    }
}

/// Every page and what it needs.
pub fn router(portal: Portal) -> Router {
    Router::new()
        .route("/", get(pages::index))
        .route("/board", get(pages::board::find))
        .route("/board/{org}", get(pages::board::board))
        .route("/city-board", get(pages::board::city_board))
        .route("/admin", get(pages::dashboard::dashboard))
        .route("/login", get(session::login_page))
        .route("/login/dev", post(session::dev_login))
        .route("/login/oidc", get(session::oidc_start))
        .route("/auth/callback", get(session::oidc_callback))
        .route("/logout", post(session::logout))
        .route("/healthz", get(pages::healthz))
        // After routing, so the span and the metric name the route's pattern.
        .route_layer(axum::middleware::from_fn(observe))
        .fallback(not_found)
        .with_state(portal)
}

async fn not_found(State(portal): State<Portal>) -> Response {
    crate::html::error_page(
        axum::http::StatusCode::NOT_FOUND,
        &portal.settings.portal.title,
        None,
        "页面不存在",
        "请检查地址。",
    )
}

/// One span and one metric per request: the route's pattern, never its values.
async fn observe(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let method = request.method().clone();
    let started = Instant::now();
    let span = tracing::info_span!("http", http.route = %route, http.method = %method);
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16().to_string();
    requests().with_label_values(&[&route, &status]).inc();
    tracing::info!(parent: &span, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
    response
}

fn requests() -> &'static prometheus::IntCounterVec {
    static REQUESTS: std::sync::OnceLock<prometheus::IntCounterVec> = std::sync::OnceLock::new();
    REQUESTS.get_or_init(|| {
        metrics::counter_vec(
            "portal_http_requests_total",
            "Portal HTTP requests by route and status",
            &["route", "status"],
        )
    })
}
