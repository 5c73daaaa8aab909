//! A city tier on a fresh database, with no districts configured.

use city::settings::{CitySettings, Settings};
use city::startup::Application;
pub use dualreport_testkit::Backend;
use dualreport_testkit::TestDatabase;
use tonic::transport::Channel;

pub struct App {
    pub channel: Channel,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _database: TestDatabase,
}

pub async fn spawn(backend: Backend) -> App {
    let database = TestDatabase::new(backend).await;
    let settings = Settings {
        server: dualreport_testkit::server_settings(),
        database: database.settings(),
        telemetry: dualreport_testkit::telemetry_settings(),
        auth: dualreport_testkit::auth_settings(),
        city: CitySettings {
            city_id: "city".into(),
            poll_interval_ms: 50,
            batch_size: 100,
            lease_ms: 1_000,
            watch_poll_ms: 50,
            relocation_initial_backoff_ms: 50,
            relocation_max_backoff_ms: 1_000,
            policy_check_interval_ms: 1_000,
        },
        districts: Default::default(),
        webhook: dualreport_webhook::WebhookSettings {
            allow_http: true,
            timeout_ms: 2_000,
            max_attempts: 2,
            initial_backoff_ms: 50,
            max_backoff_ms: 200,
        },
        policy: Default::default(),
    };
    let app = Application::build(settings).await.expect("build city");
    let channel = dualreport_testkit::channel(app.port());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    App {
        channel,
        _shutdown: tx,
        _database: database,
    }
}
