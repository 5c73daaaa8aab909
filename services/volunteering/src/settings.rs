//! Volunteering settings: the shared platform sections, its two peers
//! (`[registry]`, `[scoring]`), `[directory]`, `[policy]`, and its own
//! `[checkin]`, `[households]`, `[evidence]`, `[relay]` and `[certificates]`.

use dualreport_directory::DirectorySettings;
use dualreport_platform::client::PeerSettings;
use dualreport_platform::settings::{AuthSettings, DatabaseSettings, ServerSettings, TelemetrySettings};
use dualreport_policy::PolicySettings;
use serde::{Deserialize, Serialize};

/// Built-in defaults of this service, layered over the platform's.
pub const DEFAULTS: &str = r#"
[server]
port = 50052
metrics_port = 9052
max_message_bytes = 8388608

[database]
url = "sqlite://data/volunteering.db?mode=rwc"

[registry]
url = "http://127.0.0.1:50051"
connect_timeout_ms = 2000
timeout_ms = 3000

[scoring]
url = "http://127.0.0.1:50053"
connect_timeout_ms = 2000
timeout_ms = 5000

[directory]
cache_ttl_secs = 60
cache_capacity = 10000

[checkin]
code_ttl_secs = 900

[households]
min = 10
max = 15

[evidence]
store = "file://data/evidence"
max_photo_bytes = 5242880
max_text_chars = 2000

[relay]
poll_interval_ms = 1000
batch_size = 50
initial_backoff_ms = 1000
max_backoff_ms = 300000

[certificates]
number_prefix = "FW"
font_file = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"

[policy]
preset = "S4"
"#;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub telemetry: TelemetrySettings,
    pub auth: AuthSettings,
    /// The registry: members, organisations, who is registered where.
    pub registry: PeerSettings,
    /// Scoring: where confirmed attendance is paid.
    pub scoring: PeerSettings,
    pub directory: DirectorySettings,
    pub checkin: CheckInSettings,
    pub households: HouseholdSettings,
    pub evidence: EvidenceSettings,
    pub relay: RelaySettings,
    pub certificates: CertificateSettings,
    #[serde(default)]
    pub policy: PolicySettings,
}

/// Service-hours certificates (志愿服务证明).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CertificateSettings {
    /// Starts every certificate number: `<prefix>-<year>-<000001>`; the
    /// district's own (e.g. its code) keeps numbers apart across districts.
    pub number_prefix: String,
    /// The CJK font certificates are set in (OpenType/CFF or TrueType, a
    /// `.ttc` collection too): Debian's `fonts-noto-cjk` by default, which the
    /// image carries. Without it `IssueServiceCertificate` answers
    /// FAILED_PRECONDITION naming this key.
    pub font_file: String,
    /// The face of a collection; unset: the Simplified Chinese one.
    #[serde(default)]
    pub font_index: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CheckInSettings {
    /// How long a check-in code the organiser shows stays valid.
    pub code_ttl_secs: u64,
}

/// How many households one member covers (S4 §3.4.5: 10–15).
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
pub struct HouseholdSettings {
    pub min: u32,
    pub max: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EvidenceSettings {
    /// Where photos go: `file://<dir>` (a local directory, the default) or
    /// `s3://<bucket>/<prefix>` (S3-compatible object storage; credentials
    /// from the standard AWS chain: web-identity token file, instance or
    /// container metadata, or `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`).
    pub store: String,
    /// S3-compatible endpoint (e.g. `https://minio.storage:9000`); empty:
    /// AWS itself, or `AWS_ENDPOINT`.
    #[serde(default)]
    pub s3_endpoint: String,
    /// S3 region; empty: `AWS_REGION`.
    #[serde(default)]
    pub s3_region: String,
    pub max_photo_bytes: usize,
    pub max_text_chars: usize,
}

/// The outbox relay that pays confirmed attendance to scoring.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RelaySettings {
    /// How often it looks for due deliveries.
    pub poll_interval_ms: u64,
    /// Deliveries per round.
    pub batch_size: i64,
    /// Backoff after a failed delivery doubles from this up to the maximum.
    pub initial_backoff_ms: i64,
    pub max_backoff_ms: i64,
}

dualreport_platform::service_settings!(Settings);
