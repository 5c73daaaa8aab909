//! Builds feedback: binds first (so tests on port 0 learn the port), connects
//! and migrates the store, prepares the clients of its three peers, then
//! serves while the background work (journal ingest, webhook, corrections,
//! scheduled warnings) runs beside the server until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use dualreport_directory::Directory;
use dualreport_platform::auth::Authenticator;
use dualreport_platform::client::ServiceCredentials;
use dualreport_platform::{db, server};
use dualreport_proto::feedback::v1::feedback_service_server::FeedbackServiceServer;

use crate::app::{Feedback, Rules};
use crate::feed::Background;
use crate::grpc::FeedbackApi;
use crate::settings::Settings;
use crate::sources::Sources;
use dualreport_webhook::Poster;

/// Fully qualified gRPC service name, as health reports it.
pub const SERVICE_NAME: &str = "dualreport.feedback.v1.FeedbackService";

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    db::migrate_command(&settings.database, &SQLITE, &POSTGRES).await
}

pub struct Application {
    listeners: server::Listeners,
    settings: Settings,
    feedback: Feedback,
    poster: Poster,
    authenticator: Arc<Authenticator>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, dualreport_policy::Clock::System).await
    }

    /// As [`Self::build`], with "today" from `clock` (tests of date rules).
    pub async fn build_with_clock(settings: Settings, clock: dualreport_policy::Clock) -> anyhow::Result<Self> {
        let authenticator = Arc::new(Authenticator::from_settings(&settings.auth)?);
        let credentials = Arc::new(ServiceCredentials::from_settings(&settings.auth, "feedback")?);
        let directory = Directory::new(&settings.registry, &credentials, &settings.directory)?;
        let sources = Sources::new(
            &settings.registry,
            &settings.scoring,
            &settings.volunteering,
            &credentials,
        )?;
        let policy = settings.policy.resolve()?;
        anyhow::ensure!(
            settings.feed.batch_size > 0 && settings.feed.batch_size <= 1000,
            "feed.batch_size must be between 1 and 1000"
        );
        let rules = Rules {
            policy,
            allow_http: settings.webhook.allow_http,
            corrections: crate::app::corrections(dualreport_platform::retry::Backoff::new(
                settings.corrections.initial_backoff_ms,
                settings.corrections.max_backoff_ms,
            )),
            clock,
        };
        let poster = Poster::new(&settings.webhook)?;
        let database = db::connect(&settings.database).await?;
        db::migrate(&database, &SQLITE, &POSTGRES).await?;
        let feedback = Feedback::new(database.pool, directory, sources, rules);
        let listeners = server::Listeners::bind(&settings.server).await?;
        Ok(Self {
            listeners,
            settings,
            feedback,
            poster,
            authenticator,
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
        let api = FeedbackApi::new(
            self.feedback.clone(),
            self.poster.clone(),
            Duration::from_millis(self.settings.feed.watch_poll_ms.max(10)),
        );
        let service = FeedbackServiceServer::new(api)
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let audit = dualreport_platform::audit::AuditApi::server(
            self.feedback.pool().clone(),
            self.feedback.directory().clone(),
        );
        // Feedback's own events, for the city tier (the data services' journals are read into the feed).
        let journal = dualreport_platform::journal::JournalApi::server_with(
            self.feedback.pool().clone(),
            crate::storage::own_journal,
        );
        let stopping = server::Stopping::new(shutdown);
        let holder = dualreport_platform::lease::holder_id();
        let background = Background {
            deliverer: crate::feed::deliverer(&self.feedback, self.poster, &self.settings, &holder),
            app: self.feedback,
            feed: self.settings.feed.clone(),
            warnings: self.settings.warnings.clone(),
            holder,
        };
        let background = tokio::spawn(background.run(stopping.clone()));
        tracing::info!(port = self.listeners.grpc_port(), service = SERVICE_NAME, "listening");
        let served = server::serve(
            self.listeners,
            &self.settings.server,
            self.authenticator,
            server::Service {
                database_connections: self.settings.database.max_connections,
                long_running: &[],
                access: vec![
                    &crate::grpc::access::ACCESS,
                    &dualreport_platform::journal::ACCESS,
                    &dualreport_platform::audit::ACCESS,
                ],
                routes: tonic::service::Routes::new(service)
                    .add_service(journal)
                    .add_service(audit),
            },
            stopping.wait(),
        )
        .await;
        background.abort();
        served
    }
}
