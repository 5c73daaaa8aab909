//! Feedback settings: the shared platform sections, its three peers
//! (`[registry]`, `[scoring]`, `[volunteering]`), `[directory]`, `[policy]`,
//! and its own `[feed]`, `[webhook]`, `[warnings]` and `[corrections]`.

use dualreport_directory::DirectorySettings;
use dualreport_platform::client::PeerSettings;
use dualreport_platform::settings::{AuthSettings, DatabaseSettings, ServerSettings, TelemetrySettings};
use dualreport_policy::PolicySettings;
use serde::{Deserialize, Serialize};

/// Built-in defaults of this service, layered over the platform's.
pub const DEFAULTS: &str = r#"
[server]
port = 50054
metrics_port = 9054

[database]
url = "sqlite://data/feedback.db?mode=rwc"

[registry]
url = "http://127.0.0.1:50051"
connect_timeout_ms = 2000
timeout_ms = 3000

[volunteering]
url = "http://127.0.0.1:50052"
connect_timeout_ms = 2000
timeout_ms = 3000

[scoring]
url = "http://127.0.0.1:50053"
connect_timeout_ms = 2000
timeout_ms = 3000

[directory]
cache_ttl_secs = 60
cache_capacity = 10000

[feed]
poll_interval_ms = 1000
batch_size = 200
watch_poll_ms = 500

[webhook]
allow_http = false
timeout_ms = 5000
max_attempts = 5
initial_backoff_ms = 1000
max_backoff_ms = 60000

[warnings]
schedule_secs = 3600

[corrections]
initial_backoff_ms = 1000
max_backoff_ms = 300000

[policy]
preset = "S4"
"#;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub telemetry: TelemetrySettings,
    pub auth: AuthSettings,
    /// Members, organisations, reports, relocations; its event journal.
    pub registry: PeerSettings,
    /// Attendance, pledges, unit records; its event journal.
    pub volunteering: PeerSettings,
    /// Points and stars, ledger entries, corrections; its event journal.
    pub scoring: PeerSettings,
    pub directory: DirectorySettings,
    pub feed: FeedSettings,
    pub webhook: WebhookSettings,
    pub warnings: WarningSettings,
    pub corrections: CorrectionSettings,
    #[serde(default)]
    pub policy: PolicySettings,
}

/// Reading the other services' journals into the feed.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FeedSettings {
    /// How often each journal is read.
    pub poll_interval_ms: u64,
    /// Entries read per journal per round.
    pub batch_size: i32,
    /// How often an open `WatchEvents` stream looks for new events written by
    /// other replicas (events written by this one wake it at once).
    pub watch_poll_ms: u64,
}

/// The outbound webhook to the party-building cloud (the suite's one, `dualreport-webhook`).
pub use dualreport_webhook::WebhookSettings;

/// Compliance warnings on a schedule.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WarningSettings {
    /// Every unit org's warnings for the current year are evaluated this often; 0 turns it off.
    pub schedule_secs: u64,
}

/// Retrying corrections of upheld objections that scoring did not take at once.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CorrectionSettings {
    pub initial_backoff_ms: i64,
    pub max_backoff_ms: i64,
}

dualreport_platform::service_settings!(Settings);
