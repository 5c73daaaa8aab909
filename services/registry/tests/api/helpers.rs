use dualreport_platform::auth::Role;
use dualreport_platform::client::ClientInterceptor;
use dualreport_proto::registry::v1 as pb;
use dualreport_proto::registry::v1::registry_service_client::RegistryServiceClient;
pub use dualreport_testkit::Backend;
pub use dualreport_testkit::registry::{create_member, create_org, org_input, profile};
use dualreport_testkit::{TestDatabase, admin_token, authed};
pub use dualreport_testkit::{assert_invalid, assert_reason};
use registry::domain::policy::PolicySettings;
use registry::settings::{RegistrySettings, Settings};
use registry::startup::Application;
use tonic::transport::Channel;

pub type Client = RegistryServiceClient<tonic::service::interceptor::InterceptedService<Channel, ClientInterceptor>>;

pub struct TestApp {
    pub channel: Channel,
    pub port: u16,
    pub metrics_port: Option<u16>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    settings: Settings,
    database: Option<TestDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Policy for tests: reporting open all year, so tests pass on any date.
pub fn open_policy() -> PolicySettings {
    PolicySettings {
        unit_report_window_start: Some("01-01".into()),
        unit_report_window_end: Some("12-31".into()),
        member_report_window_start: Some("01-01".into()),
        member_report_window_end: Some("12-31".into()),
        ..PolicySettings::default()
    }
}

pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, |_| {}).await
}

pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::new(backend).await;
    let mut settings = Settings {
        server: dualreport_testkit::server_settings(),
        database: database.settings(),
        telemetry: dualreport_testkit::telemetry_settings(),
        auth: dualreport_testkit::auth_settings(),
        registry: RegistrySettings {
            city_id: "city".into(),
            city_name: "测试市".into(),
            number_prefix: "T".into(),
            pii_keys: dualreport_testkit::pii_keys(),
            pii_active_key: "test".into(),
            pii_keys_dir: None,
            city_sync_interval_ms: 2_000,
        },
        city: None,
        policy: open_policy(),
    };
    adjust(&mut settings);
    start(database, settings).await
}

async fn start(database: TestDatabase, settings: Settings) -> TestApp {
    let app = Application::build(settings.clone()).await.expect("build registry");
    let port = app.port();
    let metrics_port = app.metrics_port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    TestApp {
        channel: dualreport_testkit::channel(port),
        port,
        metrics_port,
        shutdown: Some(tx),
        settings,
        database: Some(database),
    }
}

impl TestApp {
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn database_url(&self) -> &str {
        &self.database.as_ref().expect("database").url
    }

    /// Stops this server and starts a new one on the same database with
    /// adjusted settings (e.g. rotated keys).
    pub async fn restart_with(mut self, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let mut settings = self.settings.clone();
        adjust(&mut settings);
        let database = self.database.take().expect("database");
        start(database, settings).await
    }

    pub fn client(&self, token: &str) -> Client {
        RegistryServiceClient::new(authed(self.channel.clone(), token))
    }

    pub fn admin(&self, role: Role, org: &str) -> Client {
        self.client(&admin_token(role, org))
    }

    pub fn city(&self) -> Client {
        self.admin(Role::CityAdmin, "city")
    }
}

pub fn this_year() -> i32 {
    chrono::Datelike::year(&registry::domain::china_today())
}

pub use dualreport_testkit::registry::City;

/// A district with one street, two communities and two units (one under an
/// organ committee), created by the city admin.
pub async fn build_city(app: &TestApp) -> City {
    dualreport_testkit::registry::build_city(&app.channel).await
}

/// A member of the city's unit living in community A, registered by the unit admin.
pub async fn unit_member(app: &TestApp, city: &City, name: &str) -> pb::Member {
    create_member(
        &mut app.admin(Role::UnitAdmin, &city.unit.id),
        profile(name, &city.unit.id, &city.community_a.id),
    )
    .await
}

/// The member reports at `community` this year and that community's admin confirms it.
pub async fn report_and_confirm(app: &TestApp, member_id: &str, community_id: &str, branch: &str) -> pb::MemberReport {
    dualreport_testkit::registry::report_and_confirm(&app.channel, member_id, community_id, this_year(), branch).await
}
