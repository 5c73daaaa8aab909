use std::time::Duration;

use dualreport_directory::DirectorySettings;
use dualreport_platform::auth::Role;
use dualreport_platform::client::ClientInterceptor;
use dualreport_platform::client::PeerSettings;
use dualreport_policy::PolicySettings;
use dualreport_proto::feedback::v1 as pb;
use dualreport_proto::feedback::v1::feedback_service_client::FeedbackServiceClient;
use dualreport_proto::scoring::v1 as spb;
use dualreport_proto::scoring::v1::scoring_service_client::ScoringServiceClient;
pub use dualreport_testkit::Backend;
use dualreport_testkit::process::ServiceProcess;
use dualreport_testkit::registry::{self as fixtures, City};
use dualreport_testkit::{TestDatabase, admin_token, authed, member_token, mint, service_token};
pub use dualreport_testkit::{assert_invalid, assert_reason};
use feedback::settings::{CorrectionSettings, FeedSettings, Settings, WarningSettings, WebhookSettings};
use feedback::startup::Application;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Client = FeedbackServiceClient<InterceptedService<Channel, ClientInterceptor>>;
pub type Scoring = ScoringServiceClient<InterceptedService<Channel, ClientInterceptor>>;

/// Real registry, scoring and volunteering processes with a small city, and
/// feedback in-process on the backend under test, reading journals every 50 ms.
pub struct Suite {
    _registry: ServiceProcess,
    pub registry_channel: Channel,
    /// `None` once a test stopped scoring.
    pub scoring: Option<ServiceProcess>,
    pub volunteering: ServiceProcess,
    pub channel: Channel,
    pub city: City,
    pub year: i32,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// Further feedback replicas on the same database, stopped on drop.
    replicas: std::sync::Mutex<Vec<tokio::sync::oneshot::Sender<()>>>,
    settings: Settings,
    today: dualreport_policy::Date,
    _evidence: tempfile::TempDir,
    _database: TestDatabase,
}

impl Drop for Suite {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        for tx in self
            .replicas
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
        {
            let _ = tx.send(());
        }
    }
}

pub async fn spawn(backend: Backend) -> Suite {
    spawn_with(backend, |_| {}).await
}

pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Suite {
    // Feedback's "today" is the last day of this year, so tests that judge
    // warnings on days of this year pass whatever day they run.
    let year_end =
        dualreport_policy::Date::from_ymd_opt(chrono::Datelike::year(&dualreport_policy::china_today()), 12, 31)
            .expect("a date");
    spawn_at(backend, adjust, year_end).await
}

/// The suite with feedback's "today" fixed at `today`.
pub async fn spawn_at(backend: Backend, adjust: impl FnOnce(&mut Settings), today: dualreport_policy::Date) -> Suite {
    let registry = fixtures::start_registry();
    let registry_channel = dualreport_testkit::channel(registry.port);
    let city = fixtures::build_city(&registry_channel).await;
    let scoring = ServiceProcess::start("scoring", &[("DUALREPORT__REGISTRY__URL", registry.url())]);
    let evidence = tempfile::tempdir().expect("evidence dir");
    let volunteering = ServiceProcess::start(
        "volunteering",
        &[
            ("DUALREPORT__REGISTRY__URL", registry.url()),
            ("DUALREPORT__SCORING__URL", scoring.url()),
            ("DUALREPORT__RELAY__POLL_INTERVAL_MS", "50".into()),
            (
                "DUALREPORT__EVIDENCE__STORE",
                format!("file://{}", evidence.path().display()),
            ),
        ],
    );
    let database = TestDatabase::new(backend).await;
    let peer = |port: u16| PeerSettings {
        url: format!("http://127.0.0.1:{port}"),
        connect_timeout_ms: 500,
        timeout_ms: 3_000,
        tls: None,
    };
    let mut settings = Settings {
        server: dualreport_testkit::server_settings(),
        database: database.settings(),
        telemetry: dualreport_testkit::telemetry_settings(),
        auth: dualreport_testkit::auth_settings(),
        registry: peer(registry.port),
        volunteering: peer(volunteering.port),
        scoring: peer(scoring.port),
        directory: DirectorySettings {
            cache_ttl_secs: 60,
            cache_capacity: 1_000,
        },
        feed: FeedSettings {
            poll_interval_ms: 50,
            batch_size: 200,
            watch_poll_ms: 50,
        },
        webhook: WebhookSettings {
            allow_http: false,
            timeout_ms: 2_000,
            max_attempts: 2,
            initial_backoff_ms: 20,
            max_backoff_ms: 100,
        },
        warnings: WarningSettings { schedule_secs: 0 },
        corrections: CorrectionSettings {
            initial_backoff_ms: 50,
            max_backoff_ms: 400,
        },
        policy: PolicySettings::default(),
    };
    adjust(&mut settings);
    let app = Application::build_with_clock(settings.clone(), dualreport_policy::Clock::Fixed(today))
        .await
        .expect("build feedback");
    let port = app.port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    Suite {
        _registry: registry,
        registry_channel,
        scoring: Some(scoring),
        volunteering,
        channel: dualreport_testkit::channel(port),
        city,
        year: chrono::Datelike::year(&dualreport_policy::china_today()),
        shutdown: Some(tx),
        replicas: std::sync::Mutex::default(),
        settings,
        today,
        _evidence: evidence,
        _database: database,
    }
}

pub fn period(year: i32, half: i32) -> Option<pb::Period> {
    Some(pb::Period { year, half })
}

impl Suite {
    /// Starts another feedback replica on the same database (as an HPA
    /// would) and returns a channel to it.
    pub async fn replica(&self) -> Channel {
        let app = Application::build_with_clock(self.settings.clone(), dualreport_policy::Clock::Fixed(self.today))
            .await
            .expect("build a replica");
        let port = app.port();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        self.replicas.lock().expect("replicas").push(tx);
        dualreport_testkit::channel(port)
    }

    pub fn client(&self, token: &str) -> Client {
        FeedbackServiceClient::new(authed(self.channel.clone(), token))
    }

    pub fn admin_a(&self) -> Client {
        self.client(&admin_token(Role::CommunityAdmin, self.a()))
    }

    pub fn admin_b(&self) -> Client {
        self.client(&admin_token(Role::CommunityAdmin, self.b()))
    }

    pub fn unit_admin(&self) -> Client {
        self.client(&admin_token(Role::UnitAdmin, &self.city.unit.id))
    }

    pub fn district_admin(&self) -> Client {
        self.client(&admin_token(Role::DistrictAdmin, &self.city.district.id))
    }

    pub fn city_admin(&self) -> Client {
        self.client(&admin_token(Role::CityAdmin, "city"))
    }

    pub fn cloud(&self) -> Client {
        self.client(&mint(Role::Cloud, None, None, 3600))
    }

    pub fn member(&self, member_id: &str) -> Client {
        self.client(&member_token(member_id))
    }

    pub fn scoring(&self) -> Scoring {
        let port = self.scoring.as_ref().expect("scoring running").port;
        ScoringServiceClient::new(authed(dualreport_testkit::channel(port), &service_token()))
    }

    pub fn a(&self) -> &str {
        &self.city.community_a.id
    }

    pub fn b(&self) -> &str {
        &self.city.community_b.id
    }

    pub fn unit(&self) -> &str {
        &self.city.unit.id
    }

    /// A member of the city's unit living in `community`, reported and confirmed there this year.
    pub async fn registered_member(&self, name: &str, community: &str) -> String {
        let member = fixtures::unit_member(&self.registry_channel, &self.city, name, community).await;
        fixtures::report_and_confirm(&self.registry_channel, &member.id, community, self.year, "第一党支部").await;
        member.id
    }

    /// A member of the unit that reported nowhere.
    pub async fn unreported_member(&self, name: &str) -> String {
        fixtures::unit_member(&self.registry_channel, &self.city, name, self.a())
            .await
            .id
    }

    pub async fn pair_unit_with_a(&self) {
        fixtures::unit_report_received(&self.registry_channel, self.unit(), self.a(), self.year).await;
    }

    /// Scoring pays `member` a service at community A (5 ± adjustment points).
    pub async fn award(&self, member: &str, key: &str, adjustment: i32) -> spb::Entry {
        self.scoring()
            .record_service(spb::RecordServiceRequest {
                request_id: String::new(),
                source_key: key.into(),
                member_id: member.into(),
                community_id: self.a().into(),
                served_on: Some(dualreport_platform::wire::date_to_pb(dualreport_policy::china_today())),
                content: "清理楼道杂物".into(),
                adjustment,
            })
            .await
            .unwrap_or_else(|s| panic!("record service: {s:?}"))
            .into_inner()
            .entry
            .expect("entry")
    }

    /// The member's points in scoring's ledger (all communities, lifetime).
    pub async fn points(&self, member: &str) -> i32 {
        self.scoring()
            .get_balance(spb::GetBalanceRequest {
                subject: Some(spb::Subject {
                    kind: spb::SubjectKind::Member.into(),
                    id: member.into(),
                }),
            })
            .await
            .expect("balance")
            .into_inner()
            .lifetime_earned
    }

    /// Every event in the feed after `cursor` (the backlog only).
    pub async fn backlog(&self, cursor: &str) -> Vec<pb::Event> {
        let mut stream = self
            .cloud()
            .watch_events(pb::WatchEventsRequest {
                cursor: cursor.into(),
                backlog_only: true,
            })
            .await
            .unwrap_or_else(|s| panic!("watch: {s:?}"))
            .into_inner();
        let mut out = Vec::new();
        while let Some(item) = stream.message().await.expect("stream item") {
            out.push(item.event.expect("event"));
        }
        out
    }

    /// Waits (up to 20 s) until the feed holds an event matching `pred`.
    pub async fn wait_for_event(&self, what: &str, pred: impl Fn(&pb::Event) -> bool) -> pb::Event {
        for _ in 0..200 {
            if let Some(e) = self.backlog("").await.into_iter().find(|e| pred(e)) {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no {what} event in the feed");
    }

    pub async fn evaluate(&self, as_of: (i32, u32, u32)) -> pb::EvaluateWarningsResponse {
        self.unit_admin()
            .evaluate_warnings(pb::EvaluateWarningsRequest {
                unit_org_id: self.unit().into(),
                year: self.year,
                as_of: Some(dualreport_proto::common::v1::Date {
                    year: as_of.0,
                    month: i32::try_from(as_of.1).unwrap_or(1),
                    day: i32::try_from(as_of.2).unwrap_or(1),
                }),
            })
            .await
            .unwrap_or_else(|s| panic!("evaluate: {s:?}"))
            .into_inner()
    }
}
