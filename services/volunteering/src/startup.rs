//! Builds volunteering: binds first (so tests on port 0 learn the port),
//! connects and migrates the store, prepares the registry and scoring
//! clients and the blob store, then serves while the outbox relay runs beside
//! the server until shutdown.

use std::future::Future;
use std::sync::Arc;

use dualreport_directory::Directory;
use dualreport_platform::auth::Authenticator;
use dualreport_platform::client::ServiceCredentials;
use dualreport_platform::{audit, db, journal, server};
use dualreport_proto::volunteering::v1::volunteering_service_server::VolunteeringServiceServer;

use crate::app::{Rules, Volunteering};
use crate::blob::BlobStore;
use crate::domain::evidence::Limits;
use crate::grpc::VolunteeringApi;
use crate::relay::Relay;
use crate::settings::Settings;

/// Fully qualified gRPC service name, as health reports it.
pub const SERVICE_NAME: &str = "dualreport.volunteering.v1.VolunteeringService";

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    db::migrate_command(&settings.database, &SQLITE, &POSTGRES).await
}

pub struct Application {
    listeners: server::Listeners,
    settings: Settings,
    volunteering: Volunteering,
    relay: Relay,
    authenticator: Arc<Authenticator>,
    /// The event journal's and the audit trail's readers share the service's pool.
    journal: sqlx::AnyPool,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let authenticator = Arc::new(Authenticator::from_settings(&settings.auth)?);
        let credentials = Arc::new(ServiceCredentials::from_settings(&settings.auth, "volunteering")?);
        let directory = Directory::new(&settings.registry, &credentials, &settings.directory)?;
        let policy = settings.policy.resolve()?;
        anyhow::ensure!(
            settings.households.min >= 1 && settings.households.min <= settings.households.max,
            "households.min must be at least 1 and at most households.max"
        );
        let rules = Rules {
            min_posts_claimed: i64::from(policy.min_posts_claimed),
            max_posts_claimed: i64::from(policy.max_posts_claimed),
            max_adjustment: i64::from(policy.max_adjustment),
            min_pledge_items: usize::try_from(policy.member_min_pledge_items).unwrap_or(usize::MAX),
            households: settings.households,
            evidence: Limits {
                max_photo_bytes: settings.evidence.max_photo_bytes,
                max_text_chars: settings.evidence.max_text_chars,
            },
            code_ttl_millis: i64::try_from(settings.checkin.code_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
        };
        let blobs = BlobStore::from_settings(&settings.evidence)?;
        let database = db::connect(&settings.database).await?;
        db::migrate(&database, &SQLITE, &POSTGRES).await?;
        let relay = Relay::new(
            database.pool.clone(),
            &settings.scoring,
            &credentials,
            settings.relay.clone(),
        )?;
        let journal = database.pool.clone();
        let certificates = crate::app::Certificates {
            number_prefix: settings.certificates.number_prefix.clone(),
            font: dualreport_documents::Font::load(&settings.certificates.font_file, settings.certificates.font_index)
                .map_err(|e| {
                    tracing::warn!(error = %e, "no font for service certificates (certificates.font_file)");
                    format!("{e} (certificates.font_file)")
                }),
        };
        anyhow::ensure!(
            dualreport_platform::validate::id("certificates.number_prefix", &settings.certificates.number_prefix)
                .is_ok(),
            "certificates.number_prefix must be letters, digits and '-'"
        );
        let volunteering = Volunteering::new(database.pool, directory, blobs, rules, certificates);
        let listeners = server::Listeners::bind(&settings.server).await?;
        Ok(Self {
            listeners,
            settings,
            volunteering,
            relay,
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
            dualreport_platform::audit::AuditApi::server(self.journal.clone(), self.volunteering.directory().clone());
        let service = VolunteeringServiceServer::new(VolunteeringApi::new(self.volunteering))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let stopping = server::Stopping::new(shutdown);
        let relay = tokio::spawn(self.relay.run(stopping.clone().wait()));
        tracing::info!(port = self.listeners.grpc_port(), service = SERVICE_NAME, "listening");
        let served = server::serve(
            self.listeners,
            &self.settings.server,
            self.authenticator,
            server::Service {
                database_connections: self.settings.database.max_connections,
                long_running: &[],
                access: vec![&crate::grpc::access::ACCESS, &journal::ACCESS, &audit::ACCESS],
                routes: tonic::service::Routes::new(service)
                    .add_service(journal::JournalApi::server(self.journal))
                    .add_service(audit),
            },
            stopping.wait(),
        )
        .await;
        relay.abort();
        served
    }
}
