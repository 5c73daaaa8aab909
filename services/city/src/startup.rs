//! Builds the city tier: binds first (so tests on port 0 learn the port),
//! connects and migrates its store, prepares a client per district service,
//! then serves while one ingest task per (district, journal) runs beside the
//! server until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use dualreport_platform::auth::Authenticator;
use dualreport_platform::client::ServiceCredentials;
use dualreport_platform::{db, server};
use dualreport_proto::city::v1::city_service_server::CityServiceServer;

use crate::app::City;
use crate::districts::Districts;
use crate::grpc::CityApi;
use crate::settings::Settings;

/// Fully qualified gRPC service name, as health reports it.
pub const SERVICE_NAME: &str = "dualreport.city.v1.CityService";

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    db::migrate_command(&settings.database, &SQLITE, &POSTGRES).await
}

pub struct Application {
    listeners: server::Listeners,
    settings: Settings,
    city: City,
    authenticator: Arc<Authenticator>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        anyhow::ensure!(
            dualreport_platform::validate::id("city.city_id", &settings.city.city_id).is_ok(),
            "city.city_id must be the city root's id (letters, digits and '-'), as in every district's registry.city_id"
        );
        anyhow::ensure!(
            (1..=1000).contains(&settings.city.batch_size),
            "city.batch_size must be between 1 and 1000"
        );
        anyhow::ensure!(
            settings.city.lease_ms >= settings.city.poll_interval_ms.saturating_mul(2),
            "city.lease_ms must be at least twice city.poll_interval_ms, or the holder loses its streams between rounds"
        );
        let authenticator = Arc::new(Authenticator::from_settings(&settings.auth)?);
        let credentials = Arc::new(ServiceCredentials::from_settings(&settings.auth, "city")?);
        let districts = Districts::new(&settings.districts, &credentials)?;
        if settings.districts.is_empty() {
            tracing::warn!("no [districts.<name>] configured: the city has nothing to read");
        }
        let database = db::connect(&settings.database).await?;
        db::migrate(&database, &SQLITE, &POSTGRES).await?;
        let policy = settings.policy.resolve()?;
        let city = City::new(database.pool, districts, &settings.city.city_id, policy);
        let listeners = server::Listeners::bind(&settings.server).await?;
        Ok(Self {
            listeners,
            settings,
            city,
            authenticator,
        })
    }

    pub fn port(&self) -> u16 {
        self.listeners.grpc_port()
    }

    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let max = self.settings.server.max_message_bytes;
        let poster = dualreport_webhook::Poster::new(&self.settings.webhook)?;
        let api = CityApi::new(
            self.city.clone(),
            Duration::from_millis(self.settings.city.watch_poll_ms.max(10)),
            (poster.clone(), self.settings.webhook.allow_http),
        );
        let service = CityServiceServer::new(api)
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let audit = dualreport_platform::audit::AuditApi::server(
            self.city.pool.clone(),
            crate::reference::AuditScope(self.city.clone()),
        );
        let stopping = server::Stopping::new(shutdown);
        let saga = crate::saga::Saga {
            city: self.city.clone(),
            holder: dualreport_platform::lease::holder_id(),
            every: Duration::from_millis(self.settings.city.poll_interval_ms.max(10)),
            lease_ms: i64::try_from(self.settings.city.lease_ms).unwrap_or(i64::MAX),
            backoff: dualreport_platform::retry::Backoff::from_unsigned(
                self.settings.city.relocation_initial_backoff_ms,
                self.settings.city.relocation_max_backoff_ms,
            ),
        };
        let saga = tokio::spawn(saga.run(stopping.clone()));
        let every = Duration::from_millis(self.settings.city.poll_interval_ms.max(10));
        let deliverer = crate::webhook::deliverer(
            &self.city,
            poster,
            &self.settings.webhook,
            &dualreport_platform::lease::holder_id(),
            // A round may wait on a slow receiver: hold the lease well past it.
            i64::try_from(self.settings.city.lease_ms.max(15_000)).unwrap_or(i64::MAX),
        );
        let webhook = tokio::spawn(crate::webhook::run(
            self.city.clone(),
            deliverer,
            every,
            stopping.clone(),
        ));
        let policy_check = tokio::spawn(crate::policy::run(
            self.city.clone(),
            Duration::from_millis(self.settings.city.policy_check_interval_ms.max(10)),
            stopping.clone(),
        ));
        let ingest = tokio::spawn(crate::ingest::run(
            self.city,
            self.settings.city.clone(),
            stopping.clone(),
        ));
        tracing::info!(
            port = self.listeners.grpc_port(),
            service = SERVICE_NAME,
            districts = self.settings.districts.len(),
            "listening"
        );
        let served = server::serve(
            self.listeners,
            &self.settings.server,
            self.authenticator,
            server::Service {
                database_connections: self.settings.database.max_connections,
                long_running: &[],
                access: vec![&crate::grpc::access::ACCESS, &dualreport_platform::audit::ACCESS],
                routes: tonic::service::Routes::new(service).add_service(audit),
            },
            stopping.wait(),
        )
        .await;
        saga.abort();
        webhook.abort();
        policy_check.abort();
        // Ingest stops at the end of its rounds and gives up its leases.
        if tokio::time::timeout(Duration::from_secs(5), ingest).await.is_err() {
            tracing::warn!("ingest did not stop within 5 s");
        }
        served
    }
}
