//! Scoring settings: the shared platform sections, `[registry]` (the peer it
//! asks about members and organisations) and `[policy]`.

use dualreport_directory::DirectorySettings;
use dualreport_platform::client::PeerSettings;
use dualreport_platform::settings::{AuthSettings, DatabaseSettings, ServerSettings, TelemetrySettings};
use dualreport_policy::PolicySettings;
use serde::{Deserialize, Serialize};

/// Built-in defaults of this service, layered over the platform's.
pub const DEFAULTS: &str = r#"
[server]
port = 50053
metrics_port = 9053

[database]
url = "sqlite://data/scoring.db?mode=rwc"

[registry]
url = "http://127.0.0.1:50051"
connect_timeout_ms = 2000
timeout_ms = 3000

[directory]
cache_ttl_secs = 60
cache_capacity = 10000

[policy]
preset = "S4"
"#;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub telemetry: TelemetrySettings,
    pub auth: AuthSettings,
    /// The registry service.
    pub registry: PeerSettings,
    pub directory: DirectorySettings,
    #[serde(default)]
    pub policy: PolicySettings,
}

dualreport_platform::service_settings!(Settings);
