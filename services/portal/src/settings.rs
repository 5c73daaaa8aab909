//! Portal settings: the shared `[server]`, `[telemetry]` and `[auth]`
//! sections, `[portal]` (its own keys), the suite's services it reads and,
//! optionally, the city tier and the city's identity provider (`[oidc]`).

use std::collections::BTreeMap;

use dualreport_platform::client::PeerSettings;
use dualreport_platform::settings::{AuthSettings, ServerSettings, TelemetrySettings};
use serde::{Deserialize, Serialize};

/// Built-in defaults, layered over the platform's.
pub const DEFAULTS: &str = r#"
[server]
port = 8080
metrics_port = 9080

[portal]
title = "在职党员双报到"
secure_cookies = true
dev_login = false
home_org_id = ""
public_url = ""

[registry]
url = "http://127.0.0.1:50051"

[volunteering]
url = "http://127.0.0.1:50052"

[scoring]
url = "http://127.0.0.1:50053"

[feedback]
url = "http://127.0.0.1:50054"
"#;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    /// `server.port` is the portal's HTTP port (not gRPC).
    pub server: ServerSettings,
    pub telemetry: TelemetrySettings,
    pub auth: AuthSettings,
    pub portal: PortalSettings,
    pub registry: PeerSettings,
    pub volunteering: PeerSettings,
    pub scoring: PeerSettings,
    pub feedback: PeerSettings,
    /// The city tier, for the city-wide board; unset: no city board.
    #[serde(default)]
    pub city: Option<PeerSettings>,
    /// The city's identity provider (OIDC authorization code flow with PKCE);
    /// unset: admins sign in with the development login (if enabled) only.
    #[serde(default)]
    pub oidc: Option<OidcSettings>,
    /// The platform's shared defaults carry a `[database]` section; the
    /// portal keeps no database and reads none of it.
    #[serde(default, rename = "database", skip_serializing)]
    pub unused_database: Option<serde_json::Value>,
    /// Every service of a release is given the jurisdiction's `[policy]`;
    /// the portal judges nothing and reads none of it.
    #[serde(default, rename = "policy", skip_serializing)]
    pub unused_policy: Option<serde_json::Value>,
}

/// The portal's own keys.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PortalSettings {
    /// The heading of every page.
    pub title: String,
    /// The portal's address as visitors reach it, e.g. `https://dangjian.example.gov.cn`:
    /// the QR codes point there and the identity provider redirects back to
    /// `<public_url>/auth/callback`. Empty (development): the request's `Host`.
    pub public_url: String,
    /// The org whose board `/` shows (the district); empty: `/` asks for one.
    pub home_org_id: String,
    /// The token (role `public`) the public pages read with, a mounted
    /// Secret re-read every minute; unset, in development, one is minted with
    /// `auth.dev_hs256_secret`.
    #[serde(default)]
    pub public_token_file: Option<String>,
    /// Cookies only over HTTPS. Turn off for plain-HTTP development only.
    pub secure_cookies: bool,
    /// A sign-in form that mints a token for any role and org with
    /// `auth.dev_hs256_secret`: development only, refused without that key.
    pub dev_login: bool,
    /// Each service's Prometheus endpoint by service name (`volunteering =
    /// "http://…:9052/metrics"`), for the dashboard's outbox and feed health.
    #[serde(default)]
    pub metrics_urls: BTreeMap<String, String>,
}

/// The city identity provider's OIDC client registration.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OidcSettings {
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub client_id: String,
    /// A file holding the client secret (a mounted Secret); unset: a public client (PKCE only).
    #[serde(default)]
    pub client_secret_file: Option<String>,
    #[serde(default = "default_scopes")]
    pub scopes: String,
    /// Which token of the token response the suite's services accept:
    /// `access_token` (default) or `id_token`. It must carry dualreport's
    /// claims (`role`, `org`) and verify with `[auth]`'s keys.
    #[serde(default = "default_token_field")]
    pub token_field: String,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_scopes() -> String {
    "openid".into()
}

fn default_token_field() -> String {
    "access_token".into()
}

fn default_timeout_ms() -> u64 {
    5000
}

impl dualreport_platform::cli::ServiceSettings for Settings {
    fn auth(&self) -> &AuthSettings {
        &self.auth
    }
    fn telemetry(&self) -> &TelemetrySettings {
        &self.telemetry
    }
    fn server(&self) -> &ServerSettings {
        &self.server
    }
}
