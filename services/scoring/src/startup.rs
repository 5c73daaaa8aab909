//! Builds scoring: binds first (so tests on port 0 learn the port), connects
//! and migrates the store, prepares the registry client, then serves.

use std::future::Future;
use std::sync::Arc;

use dualreport_directory::Directory;
use dualreport_platform::auth::Authenticator;
use dualreport_platform::client::ServiceCredentials;
use dualreport_platform::{audit, db, journal, server};
use dualreport_proto::scoring::v1::scoring_service_server::ScoringServiceServer;

use crate::app::Scoring;
use crate::domain::Clock;
use crate::domain::ledger::Rules;
use crate::grpc::ScoringApi;
use crate::settings::Settings;

/// Fully qualified gRPC service name, as health reports it.
pub const SERVICE_NAME: &str = "dualreport.scoring.v1.ScoringService";

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    db::migrate_command(&settings.database, &SQLITE, &POSTGRES).await
}

pub struct Application {
    listeners: server::Listeners,
    settings: Settings,
    scoring: Scoring,
    authenticator: Arc<Authenticator>,
    /// The event journal's and the audit trail's readers share the service's pool.
    journal: sqlx::AnyPool,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::System).await
    }

    /// As [`Self::build`], with "today" fixed (tests of settlement).
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let authenticator = Arc::new(Authenticator::from_settings(&settings.auth)?);
        let credentials = Arc::new(ServiceCredentials::from_settings(&settings.auth, "scoring")?);
        let directory = Directory::new(&settings.registry, &credentials, &settings.directory)?;
        let rules = Rules::from(&settings.policy.resolve()?);
        let database = db::connect(&settings.database).await?;
        db::migrate(&database, &SQLITE, &POSTGRES).await?;
        let journal = database.pool.clone();
        let scoring = Scoring::new(database.pool, rules, directory, clock);
        let listeners = server::Listeners::bind(&settings.server).await?;
        Ok(Self {
            listeners,
            settings,
            scoring,
            authenticator,
            journal,
        })
    }

    pub fn port(&self) -> u16 {
        self.listeners.grpc_port()
    }

    /// The Prometheus endpoint's port, when `server.metrics_port` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.listeners.metrics_port()
    }

    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let max = self.settings.server.max_message_bytes;
        let audit =
            dualreport_platform::audit::AuditApi::server(self.journal.clone(), self.scoring.directory().clone());
        let service = ScoringServiceServer::new(ScoringApi::new(self.scoring))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        tracing::info!(port = self.listeners.grpc_port(), service = SERVICE_NAME, "listening");
        server::serve(
            self.listeners,
            &self.settings.server,
            self.authenticator,
            server::Service {
                database_connections: self.settings.database.max_connections,
                long_running: &[
                    "/dualreport.scoring.v1.ScoringService/SettlePeriod",
                    "/dualreport.scoring.v1.ScoringService/PublishSettlement",
                    "/dualreport.scoring.v1.ScoringService/RecordCorrection",
                ],
                access: vec![&crate::grpc::access::ACCESS, &journal::ACCESS, &audit::ACCESS],
                routes: tonic::service::Routes::new(service)
                    .add_service(journal::JournalApi::server(self.journal))
                    .add_service(audit),
            },
            shutdown,
        )
        .await
    }
}
