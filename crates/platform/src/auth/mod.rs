//! Bearer-token authentication.
//!
//! Every RPC but health and reflection needs `authorization: Bearer <JWT>`.
//! The [`Authenticate`] gate verifies the token once per request and puts the caller's
//! [`Principal`] into the request extensions; handlers take it with
//! [`principal`]. Whether the object is inside the principal's scope is the
//! service's question (it knows the tree); this module knows only who is calling.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use dualreport_proto::common::v1::ErrorReason;
use jsonwebtoken::{Algorithm, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tonic::{Code, Status};

use crate::error::status;
use crate::gate::Gate;
use crate::settings::AuthSettings;

mod keys;

use keys::{VerifyingKey, key_file_stamps, load_keys};

/// The roles a token may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[clap(rename_all = "snake_case")]
pub enum Role {
    CityAdmin,
    DistrictAdmin,
    StreetAdmin,
    CommunityAdmin,
    UnitAdmin,
    Member,
    /// Another dualreport service calling on its own behalf.
    Service,
    /// The city's party-building cloud (党建云): reads the feedback event feed only.
    Cloud,
    /// The portal's public pages (公示): read published boards, nothing else.
    /// The token carries no org and no member; it sees what a notice board shows.
    Public,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::CityAdmin => "city_admin",
            Role::DistrictAdmin => "district_admin",
            Role::StreetAdmin => "street_admin",
            Role::CommunityAdmin => "community_admin",
            Role::UnitAdmin => "unit_admin",
            Role::Member => "member",
            Role::Service => "service",
            Role::Cloud => "cloud",
            Role::Public => "public",
        }
    }

    /// Admin roles are scoped to an org and everything below it.
    pub fn is_admin(self) -> bool {
        !matches!(self, Role::Member | Role::Service | Role::Cloud | Role::Public)
    }
}

/// The JWT claims dualreport reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    /// The org an admin role is scoped to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The member a member role is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    pub exp: u64,
    #[serde(default)]
    pub iat: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// What the caller may act as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// An admin role: this org and everything below it.
    Org(String),
    /// A member: only itself.
    Member(String),
    /// Another service of the suite.
    Service,
    /// The party-building cloud: the event feed, nothing else.
    Cloud,
    /// The portal's public pages: published boards, nothing else.
    Public,
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    pub scope: Scope,
}

impl Principal {
    /// The org an admin is scoped to.
    pub fn org(&self) -> Option<&str> {
        match &self.scope {
            Scope::Org(org) => Some(org),
            _ => None,
        }
    }

    /// The member a member token is.
    pub fn member(&self) -> Option<&str> {
        match &self.scope {
            Scope::Member(member) => Some(member),
            _ => None,
        }
    }
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("malformed token")]
    Malformed,
    #[error("token expired")]
    Expired,
    #[error("token signature does not verify")]
    BadSignature,
    #[error("token rejected: {0}")]
    Rejected(String),
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        status(Code::Unauthenticated, ErrorReason::Unauthenticated, error.to_string())
    }
}

/// Verifies tokens with the configured keys and, in development, mints them.
///
/// Key rotation needs no restart: the public key files and the JWKS file (a
/// mounted Secret, which the kubelet updates in place) are looked at again at
/// most every `auth.key_reload_secs`, and re-read when one changed. A file that
/// no longer parses keeps the previous keys (and logs a warning), so a
/// half-written Secret update never locks every caller out.
pub struct Authenticator {
    keys: std::sync::RwLock<Arc<Vec<VerifyingKey>>>,
    settings: AuthSettings,
    /// When the files were last looked at, and what they looked like then.
    checked: std::sync::Mutex<(std::time::Instant, Vec<Option<std::time::SystemTime>>)>,
    signing: Option<EncodingKey>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway_secs: u64,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("keys", &self.current_keys().len())
            .field("development_signing", &self.signing.is_some())
            .finish()
    }
}

impl Authenticator {
    pub fn from_settings(settings: &AuthSettings) -> anyhow::Result<Self> {
        let signing = match &settings.dev_hs256_secret {
            Some(secret) => {
                let secret = secret.expose_secret().as_bytes();
                anyhow::ensure!(secret.len() >= 32, "auth.dev_hs256_secret must be at least 32 bytes");
                Some(EncodingKey::from_secret(secret))
            }
            None => None,
        };
        let keys = load_keys(settings)?;
        Ok(Self {
            keys: std::sync::RwLock::new(Arc::new(keys)),
            checked: std::sync::Mutex::new((std::time::Instant::now(), key_file_stamps(settings))),
            settings: settings.clone(),
            signing,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            leeway_secs: settings.leeway_secs,
        })
    }

    fn current_keys(&self) -> Arc<Vec<VerifyingKey>> {
        self.keys
            .read()
            .map(|keys| keys.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Re-reads the key files when one changed since the last look (at most
    /// once per `auth.key_reload_secs`).
    fn refresh_keys(&self) {
        let Ok(mut checked) = self.checked.try_lock() else {
            return; // another request is looking right now
        };
        if checked.0.elapsed() < std::time::Duration::from_secs(self.settings.key_reload_secs) {
            return;
        }
        checked.0 = std::time::Instant::now();
        let stamps = key_file_stamps(&self.settings);
        if stamps == checked.1 {
            return;
        }
        match load_keys(&self.settings) {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "token keys re-read after a key file changed");
                if let Ok(mut current) = self.keys.write() {
                    *current = Arc::new(keys);
                }
                checked.1 = stamps;
            }
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "a key file changed but cannot be read; keeping the previous keys")
            }
        }
    }

    /// Verifies a bearer token and returns who is calling.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        self.refresh_keys();
        let keys = self.current_keys();
        let candidates = keys.iter().filter(|key| {
            key.algorithm == header.alg
                && match (&header.kid, &key.kid) {
                    (Some(wanted), Some(kid)) => wanted == kid,
                    _ => true,
                }
        });
        let mut last = AuthError::BadSignature;
        for key in candidates {
            let mut validation = Validation::new(key.algorithm);
            validation.leeway = self.leeway_secs;
            validation.set_required_spec_claims(&["exp", "sub"]);
            match &self.issuer {
                Some(issuer) => validation.set_issuer(&[issuer]),
                None => validation.iss = None,
            }
            match &self.audience {
                Some(audience) => validation.set_audience(&[audience]),
                None => validation.validate_aud = false,
            }
            match jsonwebtoken::decode::<Claims>(token, &key.key, &validation) {
                Ok(data) => return principal_from_claims(data.claims),
                Err(error) => {
                    use jsonwebtoken::errors::ErrorKind;
                    last = match error.kind() {
                        ErrorKind::InvalidSignature => AuthError::BadSignature,
                        ErrorKind::ExpiredSignature => return Err(AuthError::Expired),
                        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                            return Err(AuthError::Malformed);
                        }
                        other => AuthError::Rejected(format!("{other:?}")),
                    };
                }
            }
        }
        Err(last)
    }

    /// Signs a development token; refuses unless a development key is configured.
    pub fn mint(&self, claims: &Claims) -> anyhow::Result<String> {
        let key = self
            .signing
            .as_ref()
            .context("tokens can be minted only with auth.dev_hs256_secret configured (a development key)")?;
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, key)?)
    }
}

fn principal_from_claims(claims: Claims) -> Result<Principal, AuthError> {
    let non_empty = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    let scope = match claims.role {
        Role::Member => Scope::Member(
            non_empty(claims.member).ok_or_else(|| AuthError::Rejected("member role needs a member claim".into()))?,
        ),
        Role::Service => Scope::Service,
        Role::Cloud => Scope::Cloud,
        Role::Public => Scope::Public,
        _ => Scope::Org(
            non_empty(claims.org).ok_or_else(|| AuthError::Rejected("admin role needs an org claim".into()))?,
        ),
    };
    Ok(Principal {
        subject: claims.sub,
        role: claims.role,
        scope,
    })
}

/// Claims for a token valid `ttl_secs` from now.
pub fn claims(subject: &str, role: Role, org: Option<&str>, member: Option<&str>, ttl_secs: u64) -> Claims {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    Claims {
        sub: subject.to_owned(),
        role,
        org: org.map(str::to_owned),
        member: member.map(str::to_owned),
        exp: now + ttl_secs,
        iat: now,
        iss: None,
        aud: None,
    }
}

/// The caller of a request that passed [`AuthLayer`].
pub fn principal<T>(request: &tonic::Request<T>) -> Result<Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| AuthError::Missing.into())
}

/// RPCs that need no token: health checks and reflection.
/// Health and reflection: neither authenticated nor shed.
pub fn is_public(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.") || path.starts_with("/grpc.reflection.")
}

/// The gate that authenticates every RPC but health and reflection; use it
/// as `GateLayer::new(Authenticate::new(authenticator))`.
#[derive(Clone)]
pub struct Authenticate {
    authenticator: Arc<Authenticator>,
}

impl Authenticate {
    pub fn new(authenticator: Arc<Authenticator>) -> Self {
        Self { authenticator }
    }
}

impl Gate for Authenticate {
    type Ticket = ();

    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<(), Status> {
        if is_public(request.uri().path()) {
            return Ok(());
        }
        let principal = bearer(request.headers())
            .ok_or(AuthError::Missing)
            .and_then(|token| self.authenticator.verify(token))
            .map_err(|error| {
                tracing::info!(%error, "request refused");
                Status::from(error)
            })?;
        tracing::Span::current().record("enduser.role", principal.role.as_str());
        request.extensions_mut().insert(principal);
        Ok(())
    }
}

fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}
