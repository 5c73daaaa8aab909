//! Calling another service of the suite: a lazily connected channel with a
//! connect timeout and a per-call deadline, and the caller's own `service`
//! credentials.
//!
//! A service proves itself to its peers with a bearer token of role `service`:
//! in production a token issued by the identity provider and mounted from a
//! Secret (`auth.service_token_file`, re-read every minute so rotation needs no
//! restart); in development one minted with `auth.dev_hs256_secret`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::auth::{Authenticator, Role, claims};
use crate::settings::AuthSettings;

/// Where a peer service listens and how long to wait for it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PeerSettings {
    /// `http://host:port` (or `https://` once TLS is configured).
    pub url: String,
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Deadline of each call, sent to the peer as `grpc-timeout` (or the
    /// caller's remaining deadline when shorter: [`crate::deadline`]).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Call over TLS (`https://` URLs), with a client certificate for mutual TLS.
    #[serde(default)]
    pub tls: Option<crate::tls::ClientTls>,
}

fn default_connect_timeout_ms() -> u64 {
    2_000
}

fn default_timeout_ms() -> u64 {
    3_000
}

/// A channel to `peer`; it connects on first use, so a peer that is down at
/// start-up only fails the calls that need it.
pub fn channel(peer: &PeerSettings) -> anyhow::Result<Channel> {
    let mut endpoint = Endpoint::from_shared(peer.url.clone())
        .with_context(|| format!("peer url {:?}", peer.url))?
        .connect_timeout(Duration::from_millis(peer.connect_timeout_ms))
        .timeout(Duration::from_millis(peer.timeout_ms));
    if let Some(tls) = &peer.tls {
        endpoint = endpoint
            .tls_config(crate::tls::client_config(tls)?)
            .with_context(|| format!("TLS for peer {}", peer.url))?;
    }
    Ok(endpoint.connect_lazy())
}

/// A channel that sends this service's credentials and the trace context.
pub fn authed_channel(
    peer: &PeerSettings,
    credentials: &Arc<ServiceCredentials>,
) -> anyhow::Result<InterceptedService<Channel, ClientInterceptor>> {
    Ok(InterceptedService::new(
        channel(peer)?,
        ClientInterceptor::with_credentials(credentials.clone()).with_timeout(Duration::from_millis(peer.timeout_ms)),
    ))
}

enum Source {
    File(String),
    Minted(Box<Authenticator>),
}

/// The bearer token this service presents to its peers, refreshed before it
/// goes stale.
pub struct ServiceCredentials {
    subject: String,
    /// The role a development token is minted with (`service` for a service).
    role: Role,
    source: Source,
    cached: Mutex<Option<(MetadataValue<Ascii>, Instant)>>,
}

impl std::fmt::Debug for ServiceCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::File(path) => format!("file {path}"),
            Source::Minted(_) => "minted with the development key".to_owned(),
        };
        f.debug_struct("ServiceCredentials")
            .field("subject", &self.subject)
            .field("source", &source)
            .finish()
    }
}

/// Re-read a token file this often; re-mint development tokens this often
/// (they live an hour).
const REFRESH: Duration = Duration::from_secs(60);
const MINTED_TTL_SECS: u64 = 3600;

impl ServiceCredentials {
    /// `subject` names the calling service in the peer's logs, e.g. `scoring`.
    pub fn from_settings(settings: &AuthSettings, subject: &str) -> anyhow::Result<Self> {
        Self::for_role(
            settings,
            subject,
            Role::Service,
            ("auth.service_token_file", settings.service_token_file.as_deref()),
        )
    }

    /// Credentials of another `role` (the portal's `public` pages): the
    /// token in the file the setting named `token_file.0` gives, or in
    /// development one minted with that role.
    pub fn for_role(
        settings: &AuthSettings,
        subject: &str,
        role: Role,
        (setting, token_file): (&str, Option<&str>),
    ) -> anyhow::Result<Self> {
        let source = if let Some(path) = token_file {
            Source::File(path.to_owned())
        } else if settings.dev_hs256_secret.is_some() {
            Source::Minted(Box::new(Authenticator::from_settings(settings)?))
        } else {
            anyhow::bail!(
                "{subject} calls other services but has no credentials: set {setting} \
                 (a token of role `{}`) or, in development, auth.dev_hs256_secret",
                role.as_str()
            );
        };
        let credentials = Self {
            subject: subject.to_owned(),
            role,
            source,
            cached: Mutex::new(None),
        };
        // Fail at start-up, not on the first call.
        credentials.bearer()?;
        Ok(credentials)
    }

    /// `Bearer <token>`, from the cache while fresh.
    pub fn bearer(&self) -> anyhow::Result<MetadataValue<Ascii>> {
        let mut cached = self.cached.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((value, at)) = cached.as_ref()
            && at.elapsed() < REFRESH
        {
            return Ok(value.clone());
        }
        let token: SecretString = match &self.source {
            Source::File(path) => std::fs::read_to_string(path)
                .with_context(|| format!("reading the token file {path}"))?
                .trim()
                .to_owned()
                .into(),
            Source::Minted(authenticator) => authenticator
                .mint(&claims(&self.subject, self.role, None, None, MINTED_TTL_SECS))?
                .into(),
        };
        let value = MetadataValue::try_from(format!("Bearer {}", token.expose_secret()))
            .context("the service token is not ASCII")?;
        *cached = Some((value.clone(), Instant::now()));
        Ok(value)
    }
}

/// Client interceptor: injects the current span's trace context and, when
/// given, `authorization: Bearer <token>`.
#[derive(Clone, Default)]
pub struct ClientInterceptor {
    bearer: Bearer,
    /// The peer's own timeout (`timeout_ms`), sent as `grpc-timeout` unless
    /// the caller's remaining deadline is shorter.
    timeout: Option<Duration>,
}

#[derive(Clone, Default)]
enum Bearer {
    #[default]
    None,
    Fixed(tonic::metadata::MetadataValue<tonic::metadata::Ascii>),
    Service(Arc<ServiceCredentials>),
}

impl ClientInterceptor {
    /// An interceptor that also sends `token` as the bearer credential.
    pub fn with_token(token: &str) -> Result<Self, tonic::metadata::errors::InvalidMetadataValue> {
        Ok(Self {
            bearer: Bearer::Fixed(tonic::metadata::MetadataValue::try_from(format!("Bearer {token}"))?),
            timeout: None,
        })
    }

    /// An interceptor that sends this service's own (refreshed) credentials.
    pub fn with_credentials(credentials: Arc<ServiceCredentials>) -> Self {
        Self {
            bearer: Bearer::Service(credentials),
            timeout: None,
        }
    }

    /// Sends `timeout` as each call's `grpc-timeout`, or the caller's
    /// remaining deadline when that is shorter ([`crate::deadline`]).
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self {
            timeout: Some(timeout),
            ..self
        }
    }
}

impl tonic::service::Interceptor for ClientInterceptor {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        crate::trace_context::inject(request.metadata_mut());
        let timeout = match (self.timeout, crate::deadline::remaining()) {
            (Some(own), Some(left)) => Some(own.min(left)),
            (own, left) => own.or(left),
        };
        if let Some(timeout) = timeout {
            if timeout.is_zero() {
                return Err(tonic::Status::deadline_exceeded(
                    "the caller's deadline passed before this call to a peer",
                ));
            }
            request.set_timeout(timeout);
        }
        let bearer = match &self.bearer {
            Bearer::None => None,
            Bearer::Fixed(value) => Some(value.clone()),
            Bearer::Service(credentials) => Some(credentials.bearer().map_err(|error| {
                tracing::error!(error = %format!("{error:#}"), "no credentials for an outgoing call");
                tonic::Status::unauthenticated("this service has no valid credentials for its peers")
            })?),
        };
        if let Some(bearer) = bearer {
            request.metadata_mut().insert("authorization", bearer);
        }
        Ok(request)
    }
}
