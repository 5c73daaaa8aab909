//! Layered settings: built-in defaults → optional file → environment.
//!
//! Environment variables are `DUALREPORT__SECTION__KEY` (for example
//! `DUALREPORT__SERVER__PORT=6000`); they win over the file, which wins over the
//! defaults. Secrets are [`SecretString`]s so that printing the settings never
//! shows them.

use std::path::Path;

use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Defaults of the sections every service shares. A service appends its own
/// defaults (port, database file, its own section) after these.
pub const PLATFORM_DEFAULTS: &str = r#"
[server]
host = "0.0.0.0"
request_timeout_ms = 10000
concurrency_limit = 256
max_message_bytes = 4194304
drain_timeout_ms = 20000
request_idle_timeout_ms = 5000
max_streams_per_connection = 128

[database]
max_connections = 10
acquire_timeout_ms = 3000

[telemetry]
log_format = "pretty"
log_level = "info"

[auth]
leeway_secs = 30
public_key_files = []
"#;

/// Where and how the gRPC server listens.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Per-request deadline; a client's shorter `grpc-timeout` wins.
    pub request_timeout_ms: u64,
    /// Requests in flight at once; more are shed with `RESOURCE_EXHAUSTED`.
    pub concurrency_limit: usize,
    /// Requests in flight at once from one caller (token subject, role
    /// `service` excepted); unset: a quarter of `concurrency_limit`.
    #[serde(default)]
    pub per_caller_concurrency_limit: Option<usize>,
    /// A request body that sends nothing this long (an opened client stream
    /// without a message) ends with `DEADLINE_EXCEEDED`.
    pub request_idle_timeout_ms: u64,
    /// HTTP/2 streams open at once on one connection.
    pub max_streams_per_connection: u32,
    /// Largest request or response message.
    pub max_message_bytes: usize,
    /// After SIGTERM, how long in-flight requests may take to finish.
    pub drain_timeout_ms: u64,
    /// Where Prometheus scrapes `GET /metrics` (HTTP/1.1); unset: no endpoint.
    #[serde(default)]
    pub metrics_port: Option<u16>,
    /// Serve gRPC over TLS (and require client certificates when a client CA
    /// is set); unset: plaintext, for development and meshes that encrypt.
    #[serde(default)]
    pub tls: Option<crate::tls::ServerTls>,
}

impl ServerSettings {
    pub fn per_caller_concurrency_limit(&self) -> usize {
        self.per_caller_concurrency_limit
            .unwrap_or(self.concurrency_limit / 4)
            .max(1)
    }
}

/// The store: `sqlite://path?mode=rwc` (embedded default) or `postgres://…`.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: SecretString,
    /// A file holding the URL (a mounted Secret); wins over `url` when set.
    #[serde(default)]
    pub url_file: Option<String>,
    pub max_connections: u32,
    /// How long a request waits for a pooled connection before it answers
    /// `UNAVAILABLE` (kept below `server.request_timeout_ms`, so an outage is
    /// reported as one instead of as a cut-off request).
    #[serde(default = "default_acquire_timeout_ms")]
    pub acquire_timeout_ms: u64,
}

fn default_acquire_timeout_ms() -> u64 {
    3000
}

impl DatabaseSettings {
    /// The URL, read from `url_file` when one is set.
    pub fn url(&self) -> anyhow::Result<SecretString> {
        match &self.url_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("reading database.url_file {path}: {e}"))?;
                Ok(SecretString::from(text.trim().to_owned()))
            }
            None => Ok(self.url.clone()),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetrySettings {
    pub log_format: LogFormat,
    /// An `EnvFilter` directive; `RUST_LOG` wins when set.
    pub log_level: String,
    /// OTLP/gRPC collector for traces, e.g. `http://otel-collector:4317`;
    /// unset: `OTEL_EXPORTER_OTLP_ENDPOINT`, else no export.
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
}

/// Keys that verify bearer tokens. Production uses RS256/ES256 public keys
/// (PEM files or a JWKS file); `dev_hs256_secret` is for development only and
/// is the only key the `token` subcommand can sign with.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub dev_hs256_secret: Option<SecretString>,
    #[serde(default)]
    pub public_key_files: Vec<String>,
    pub jwks_file: Option<String>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub leeway_secs: u64,
    /// The token (role `service`) this service sends when it calls its peers;
    /// without it, development tokens are minted with `dev_hs256_secret`.
    pub service_token_file: Option<String>,
}

/// Loads `T` from `PLATFORM_DEFAULTS`, then `service_defaults`, then the
/// optional file, then the environment.
pub fn load<T: DeserializeOwned>(service_defaults: &str, file: Option<&Path>) -> anyhow::Result<T> {
    use config::{Config, Environment, File, FileFormat};
    let mut builder = Config::builder()
        .add_source(File::from_str(PLATFORM_DEFAULTS, FileFormat::Toml))
        .add_source(File::from_str(service_defaults, FileFormat::Toml));
    if let Some(path) = file {
        if !path.exists() {
            anyhow::bail!("config file {} does not exist", path.display());
        }
        builder = builder.add_source(File::from(path));
    }
    let config = builder
        .add_source(
            Environment::with_prefix("DUALREPORT")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        )
        .build()?;
    Ok(config.try_deserialize()?)
}
