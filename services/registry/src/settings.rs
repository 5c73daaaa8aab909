//! Registry settings: the shared platform sections plus `[registry]` and `[policy]`.

use std::collections::HashMap;

use dualreport_platform::client::PeerSettings;
use dualreport_platform::settings::{AuthSettings, DatabaseSettings, ServerSettings, TelemetrySettings};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use dualreport_policy::PolicySettings;

/// Built-in defaults of this service, layered over the platform's.
pub const DEFAULTS: &str = r#"
[server]
port = 50051
metrics_port = 9051

[database]
url = "sqlite://data/registry.db?mode=rwc"

[registry]
city_id = "city"
city_name = "示范市"
number_prefix = "DR"
pii_active_key = ""
city_sync_interval_ms = 2000

[registry.pii_keys]

[policy]
preset = "S4"
"#;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub telemetry: TelemetrySettings,
    pub auth: AuthSettings,
    pub registry: RegistrySettings,
    /// The city tier whose reference data (municipal units) this district
    /// copies (`city_sync`); unset: a district on its own.
    #[serde(default)]
    pub city: Option<PeerSettings>,
    /// The policy preset and overrides, shared by every service (`[policy]`).
    #[serde(default)]
    pub policy: PolicySettings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RegistrySettings {
    /// Id of the root city org, created at start-up (letters, digits and `-`).
    pub city_id: String,
    pub city_name: String,
    /// Prefix of receipt and letter numbers, e.g. the district's code.
    pub number_prefix: String,
    /// Personal-information keys: id → base64 of 32 bytes.
    #[serde(default, serialize_with = "dualreport_platform::settings::redacted_map")]
    pub pii_keys: HashMap<String, SecretString>,
    /// The key id that seals new values.
    pub pii_active_key: String,
    /// How often `city_sync` asks the city tier for changes (when `[city]` is set).
    pub city_sync_interval_ms: u64,
    /// A directory of key files (a mounted Secret): each file's name is a key
    /// id, its content the base64 key. Added to `pii_keys`.
    #[serde(default)]
    pub pii_keys_dir: Option<String>,
}

dualreport_platform::service_settings!(Settings);

impl RegistrySettings {
    /// `pii_keys` plus every key file in `pii_keys_dir` (hidden files, such as
    /// Kubernetes' `..data` links, are skipped).
    pub fn all_pii_keys(&self) -> anyhow::Result<HashMap<String, SecretString>> {
        let mut keys = self.pii_keys.clone();
        if let Some(dir) = &self.pii_keys_dir {
            let entries =
                std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("reading registry.pii_keys_dir {dir}: {e}"))?;
            for entry in entries {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') || !entry.path().is_file() {
                    continue;
                }
                let value = std::fs::read_to_string(entry.path())?;
                keys.insert(name.to_lowercase(), SecretString::from(value.trim().to_owned()));
            }
        }
        Ok(keys)
    }
}
