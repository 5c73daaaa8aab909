//! Builds the registry: binds first (so tests on port 0 learn the port),
//! connects and migrates the store, then serves until stopped.

use std::future::Future;
use std::sync::Arc;

use dualreport_platform::auth::Authenticator;
use dualreport_platform::crypto::FieldCipher;
use dualreport_platform::{audit, db, journal, server};
use dualreport_proto::registry::v1::registry_service_server::RegistryServiceServer;

use crate::app::Registry;
use crate::city_sync::CitySync;
use crate::grpc::RegistryApi;
use crate::settings::Settings;
use dualreport_platform::client::ServiceCredentials;

/// Fully qualified gRPC service name, as health reports it.
pub const SERVICE_NAME: &str = "dualreport.registry.v1.RegistryService";

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    db::migrate_command(&settings.database, &SQLITE, &POSTGRES).await
}

pub struct Application {
    listeners: server::Listeners,
    settings: Settings,
    registry: Registry,
    authenticator: Arc<Authenticator>,
    /// The event journal's and the audit trail's readers share the service's pool.
    journal: sqlx::AnyPool,
    /// Import batches of one stream worked on at once: two on PostgreSQL
    /// (one prepared while the other is written), one on SQLite's single
    /// connection, where there is nothing to overlap.
    import_batches_in_flight: usize,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !settings.registry.city_id.is_empty()
                && settings
                    .registry
                    .city_id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "registry.city_id must be letters, digits and '-'"
        );
        let authenticator = Arc::new(Authenticator::from_settings(&settings.auth)?);
        let cipher = FieldCipher::new(&settings.registry.all_pii_keys()?, &settings.registry.pii_active_key)?;
        let policy = settings.policy.resolve()?;
        let database = db::connect(&settings.database).await?;
        db::migrate(&database, &SQLITE, &POSTGRES).await?;
        let journal = database.pool.clone();
        let import_batches_in_flight = match database.backend {
            db::Backend::Postgres => 2,
            db::Backend::Sqlite => 1,
        };
        let registry = Registry::new(database.pool, cipher, policy, &settings.registry.number_prefix);
        registry
            .ensure_city(&settings.registry.city_id, &settings.registry.city_name)
            .await
            .map_err(|e| anyhow::anyhow!("creating the root city: {e}"))?;
        let listeners = server::Listeners::bind(&settings.server).await?;
        Ok(Self {
            listeners,
            settings,
            registry,
            authenticator,
            journal,
            import_batches_in_flight,
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
        let stopping = server::Stopping::new(shutdown);
        let sync = match &self.settings.city {
            Some(peer) => {
                let credentials = Arc::new(ServiceCredentials::from_settings(&self.settings.auth, "registry")?);
                let registry = self.registry.clone();
                let sync = CitySync::new(
                    self.journal.clone(),
                    peer,
                    &credentials,
                    &self.settings.registry.city_id,
                    std::time::Duration::from_millis(self.settings.registry.city_sync_interval_ms.max(10)),
                    Arc::new(move || registry.forget_orgs()),
                )?;
                Some(tokio::spawn(sync.run(stopping.clone())))
            }
            None => None,
        };
        let audit = dualreport_platform::audit::AuditApi::server(
            self.journal.clone(),
            crate::grpc::audit::AuditScope(self.registry.clone()),
        );
        let service = RegistryServiceServer::new(RegistryApi::new(
            self.registry,
            std::time::Duration::from_millis(self.settings.server.request_timeout_ms),
            self.import_batches_in_flight,
        ))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
        tracing::info!(port = self.listeners.grpc_port(), service = SERVICE_NAME, "listening");
        let served = server::serve(
            self.listeners,
            &self.settings.server,
            self.authenticator,
            server::Service {
                database_connections: self.settings.database.max_connections,
                long_running: &["/dualreport.registry.v1.RegistryService/GetReportStatistics"],
                access: vec![&crate::grpc::access::ACCESS, &journal::ACCESS, &audit::ACCESS],
                routes: tonic::service::Routes::new(service)
                    .add_service(journal::JournalApi::server(self.journal))
                    .add_service(audit),
            },
            stopping.wait(),
        )
        .await;
        if let Some(sync) = sync {
            sync.abort();
        }
        served
    }
}
