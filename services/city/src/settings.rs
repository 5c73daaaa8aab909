//! City settings: the shared platform sections, `[city]` (its root and how
//! it ingests), `[webhook]` and `[districts.<name>]`, one table per district release with
//! the four services' addresses.

use std::collections::BTreeMap;

use dualreport_platform::client::PeerSettings;
use dualreport_platform::settings::{AuthSettings, DatabaseSettings, ServerSettings, TelemetrySettings};
use dualreport_policy::PolicySettings;
use serde::{Deserialize, Serialize};

/// Built-in defaults of this service, layered over the platform's.
pub const DEFAULTS: &str = r#"
[server]
port = 50060
metrics_port = 9060

[database]
url = "sqlite://data/city.db?mode=rwc"

[city]
city_id = "city"
poll_interval_ms = 1000
batch_size = 200
lease_ms = 5000
watch_poll_ms = 500
relocation_initial_backoff_ms = 1000
relocation_max_backoff_ms = 60000
policy_check_interval_ms = 60000

[webhook]
allow_http = false
timeout_ms = 5000
max_attempts = 5
initial_backoff_ms = 1000
max_backoff_ms = 60000

[policy]
preset = "S4"
"#;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub telemetry: TelemetrySettings,
    pub auth: AuthSettings,
    pub city: CitySettings,
    /// Every district release the city reads, by name (lower-case letters,
    /// digits and `_`, e.g. `jinshui`): the name the city's answers give.
    #[serde(default)]
    pub districts: BTreeMap<String, DistrictSettings>,
    /// The city-level webhook to the party-building cloud (the suite's one).
    pub webhook: dualreport_webhook::WebhookSettings,
    #[serde(default)]
    pub policy: PolicySettings,
}

/// The city tier's own keys.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CitySettings {
    /// The city root org's id, the same as every district registry's
    /// `registry.city_id`: a `city_admin` token names it.
    pub city_id: String,
    /// How often each district journal is read.
    pub poll_interval_ms: u64,
    /// Entries read per journal per round (1 to 1000).
    pub batch_size: i32,
    /// How long a replica holds a stream's lease past its last round: when
    /// a replica dies, another takes its streams after this. Short is safe
    /// (a batch applies only from the cursor it was read after), just busier.
    pub lease_ms: u64,
    /// How often an open `WatchEvents` stream looks for facts ingested by
    /// other replicas (those of this one wake it at once).
    pub watch_poll_ms: u64,
    /// The relocation saga retries a district that did not answer after
    /// this, doubling up to the max.
    pub relocation_initial_backoff_ms: u64,
    pub relocation_max_backoff_ms: u64,
    /// How often every replica compares each district's policy with the
    /// city's (`city_district_policy_matches`).
    pub policy_check_interval_ms: u64,
}

/// One district release: where its services listen. The city calls them
/// with its `service` credentials, under each peer's `timeout_ms`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DistrictSettings {
    pub registry: PeerSettings,
    pub volunteering: PeerSettings,
    pub scoring: PeerSettings,
    pub feedback: PeerSettings,
}

dualreport_platform::service_settings!(Settings);
