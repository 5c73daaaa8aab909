//! Layered settings: built-in defaults → optional file → environment.
//!
//! Environment variables are `DUALREPORT__SECTION__KEY` (for example
//! `DUALREPORT__SERVER__PORT=6000`); they win over the file, which wins over the
//! defaults. Secrets are [`SecretString`]s so that printing the settings never
//! shows them.
//!
//! Loading is strict: a key no settings struct knows (`[server] prot = 6000`)
//! stops the process with the key and where it came from (the file, or the
//! environment variable), instead of starting on a default.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Defaults of the sections every service shares. A service appends its own
/// defaults (port, database file, its own section) after these.
pub const PLATFORM_DEFAULTS: &str = r#"
[server]
host = "0.0.0.0"
request_timeout_ms = 10000
long_request_timeout_ms = 120000
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
key_reload_secs = 10
"#;

/// Where and how the gRPC server listens.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Per-request deadline; a client's shorter `grpc-timeout` wins.
    pub request_timeout_ms: u64,
    /// The deadline of the calls a service names long-running (a
    /// settlement of a whole community's half-year, district statistics).
    pub long_request_timeout_ms: u64,
    /// Requests in flight at once; more are shed with `RESOURCE_EXHAUSTED`.
    /// Unset: four per database connection (at least 16), so an accepted
    /// call waits for a connection behind a few others at most instead of
    /// queueing behind hundreds (see [`Self::concurrency_limit`]).
    #[serde(default)]
    pub concurrency_limit: Option<usize>,
    /// Requests in flight at once from one caller (token subject, role
    /// `service` excepted); unset: a quarter of the concurrency limit.
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

/// Requests admitted per database connection when `server.concurrency_limit` is unset.
pub const ADMITTED_PER_CONNECTION: usize = 4;

impl ServerSettings {
    /// The concurrency limit in front of a pool of `database_connections`.
    pub fn concurrency_limit(&self, database_connections: u32) -> usize {
        self.concurrency_limit
            .unwrap_or_else(|| (ADMITTED_PER_CONNECTION * database_connections as usize).max(16))
            .max(1)
    }

    pub fn per_caller_concurrency_limit(&self, database_connections: u32) -> usize {
        self.per_caller_concurrency_limit
            .unwrap_or(self.concurrency_limit(database_connections) / 4)
            .max(1)
    }
}

/// The store: `sqlite://path?mode=rwc` (embedded default) or `postgres://…`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DatabaseSettings {
    #[serde(serialize_with = "redacted")]
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

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
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
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AuthSettings {
    #[serde(serialize_with = "redacted_option", skip_serializing_if = "Option::is_none")]
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
    /// How often the public key and JWKS files are looked at for a change
    /// (then re-read: key rotation without a restart).
    #[serde(default = "default_key_reload_secs")]
    pub key_reload_secs: u64,
}

fn default_key_reload_secs() -> u64 {
    10
}

/// How a secret is printed by the `config` subcommand.
pub const REDACTED: &str = "[redacted]";

/// Serializes a secret as [`REDACTED`] (for `serialize_with`).
pub fn redacted<S: serde::Serializer>(_: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(REDACTED)
}

/// [`redacted`] for an optional secret.
pub fn redacted_option<S: serde::Serializer>(value: &Option<SecretString>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => serializer.serialize_str(REDACTED),
        None => serializer.serialize_none(),
    }
}

/// [`redacted`] for a map of secrets: the keys (ids) are shown, the values not.
pub fn redacted_map<S: serde::Serializer>(
    value: &std::collections::HashMap<String, SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap as _;
    let mut ids: Vec<&String> = value.keys().collect();
    ids.sort();
    let mut map = serializer.serialize_map(Some(ids.len()))?;
    for id in ids {
        map.serialize_entry(id, REDACTED)?;
    }
    map.end()
}

/// Loads `T` from `PLATFORM_DEFAULTS`, then `service_defaults`, then each
/// file in order (a later one wins), then the environment
/// (`DUALREPORT__SECTION__KEY`). Every key must be one `T` knows: an unknown
/// one fails naming it and its source.
pub fn load<T: DeserializeOwned>(service_defaults: &str, files: &[PathBuf]) -> anyhow::Result<T> {
    load_with_env(service_defaults, files, None)
}

/// [`load`] with the environment given as a map (tests), `None`: the process's.
pub fn load_with_env<T: DeserializeOwned>(
    service_defaults: &str,
    files: &[PathBuf],
    env: Option<config::Map<String, String>>,
) -> anyhow::Result<T> {
    use config::{Config, Environment, File, FileFormat};
    let mut builder = Config::builder()
        .add_source(File::from_str(PLATFORM_DEFAULTS, FileFormat::Toml))
        .add_source(File::from_str(service_defaults, FileFormat::Toml));
    for path in files {
        if !path.exists() {
            anyhow::bail!("config file {} does not exist", path.display());
        }
        builder = builder.add_source(File::from(path.as_path()));
    }
    let env_copy = env.clone();
    let environment = Environment::with_prefix(ENV_PREFIX)
        .prefix_separator(ENV_SEPARATOR)
        .separator(ENV_SEPARATOR)
        .try_parsing(true)
        .source(env);
    let config = builder.add_source(environment).build()?;
    let mut unknown = Vec::new();
    let settings = serde_ignored::deserialize(config.clone(), |path| unknown.push(path.to_string()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if unknown.is_empty() {
        return Ok(settings);
    }
    let named: Vec<String> = unknown
        .iter()
        .map(|key| format!("`{key}` ({})", origin(key, files, env_copy.as_ref())))
        .collect();
    anyhow::bail!(
        "unknown setting{} {}: no such key (a typo, or a key of another service or version); see the service README's config keys",
        if named.len() == 1 { "" } else { "s" },
        named.join(", ")
    )
}

const ENV_PREFIX: &str = "DUALREPORT";
const ENV_SEPARATOR: &str = "__";

/// Where an unknown key came from, for the message: the environment variable
/// when one sets it, else the last file that holds it.
fn origin(key: &str, files: &[PathBuf], env: Option<&config::Map<String, String>>) -> String {
    let var = format!(
        "{ENV_PREFIX}{ENV_SEPARATOR}{}",
        key.replace('.', ENV_SEPARATOR).to_uppercase()
    );
    // The variable itself, or one below it when the unknown key is a whole section.
    let names: Vec<String> = match env {
        Some(map) => map.keys().cloned().collect(),
        None => std::env::vars_os()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect(),
    };
    let below = format!("{var}{ENV_SEPARATOR}");
    if let Some(name) = names.iter().find(|name| {
        let upper = name.to_uppercase();
        upper == var || upper.starts_with(&below)
    }) {
        return format!("environment variable {name}");
    }
    let holder = files.iter().rev().find(|path| {
        config::Config::builder()
            .add_source(config::File::from(path.as_path()))
            .build()
            .is_ok_and(|c| c.get::<config::Value>(key).is_ok())
    });
    match holder {
        Some(path) => format!("file {}", path.display()),
        None => "built-in defaults".to_owned(),
    }
}
