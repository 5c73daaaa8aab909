use dualreport_directory::DirectorySettings;
use dualreport_platform::auth::Role;
use dualreport_platform::client::ClientInterceptor;
use dualreport_platform::client::PeerSettings;
use dualreport_policy::PolicySettings;
use dualreport_proto::common::v1::Date as PbDate;
use dualreport_proto::scoring::v1 as pb;
use dualreport_proto::scoring::v1::scoring_service_client::ScoringServiceClient;
pub use dualreport_testkit::Backend;
use dualreport_testkit::process::ServiceProcess;
use dualreport_testkit::registry::{self as fixtures, City};
use dualreport_testkit::tls::TestPki;
use dualreport_testkit::{TestDatabase, admin_token, authed, member_token, service_token};
pub use dualreport_testkit::{assert_invalid, assert_reason};
use scoring::domain::period::Period;
use scoring::domain::{Clock, Date, china_today};
use scoring::settings::Settings;
use scoring::startup::Application;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Client = ScoringServiceClient<InterceptedService<Channel, ClientInterceptor>>;

/// A real registry process with a small city, and scoring in-process on the
/// backend under test. Scoring's "today" is the first day of the next
/// half-year, so the current half-year (in which the registry accepts this
/// year's reports) has ended and can be settled.
pub struct Suite {
    pub registry: ServiceProcess,
    pub registry_channel: Channel,
    pub channel: Channel,
    pub city: City,
    /// The half-year the tests serve and settle in.
    pub period: Period,
    /// Scoring's today.
    pub today: Date,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    database: TestDatabase,
}

impl Drop for Suite {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn spawn(backend: Backend) -> Suite {
    spawn_with(backend, |_| {}).await
}

pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Suite {
    start(backend, &[], None, adjust).await
}

/// A suite whose registry serves mutual TLS only; scoring calls it with its
/// client certificate.
pub async fn spawn_with_mutual_tls(backend: Backend, pki: &TestPki) -> Suite {
    start(backend, &pki.server_env(), Some(pki), |_| {}).await
}

async fn start(
    backend: Backend,
    registry_env: &[(&str, String)],
    pki: Option<&TestPki>,
    adjust: impl FnOnce(&mut Settings),
) -> Suite {
    let registry = fixtures::start_registry_with(registry_env);
    let (scheme, registry_channel) = match pki {
        Some(pki) => (
            "https",
            tonic::transport::Endpoint::from_shared(format!("https://127.0.0.1:{}", registry.port))
                .expect("uri")
                .tls_config(dualreport_platform::tls::client_config(&pki.client(true)).expect("tls"))
                .expect("tls config")
                .connect_lazy(),
        ),
        None => ("http", dualreport_testkit::channel(registry.port)),
    };
    let city = fixtures::build_city(&registry_channel).await;
    let database = TestDatabase::new(backend).await;
    let mut settings = Settings {
        server: dualreport_testkit::server_settings(),
        database: database.settings(),
        telemetry: dualreport_testkit::telemetry_settings(),
        auth: dualreport_testkit::auth_settings(),
        registry: PeerSettings {
            url: format!("{scheme}://127.0.0.1:{}", registry.port),
            connect_timeout_ms: 2_000,
            timeout_ms: 5_000,
            tls: pki.map(|pki| pki.client(true)),
        },
        directory: DirectorySettings {
            cache_ttl_secs: 60,
            cache_capacity: 1_000,
        },
        policy: PolicySettings::default(),
    };
    adjust(&mut settings);
    let period = Period::of(china_today());
    let today = period.last_day().succ_opt().expect("a next day");
    let app = Application::build_with_clock(settings, Clock::Fixed(today))
        .await
        .expect("build scoring");
    let port = app.port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    Suite {
        registry,
        registry_channel,
        channel: dualreport_testkit::channel(port),
        city,
        period,
        today,
        shutdown: Some(tx),
        database,
    }
}

impl Suite {
    pub fn client(&self, token: &str) -> Client {
        ScoringServiceClient::new(authed(self.channel.clone(), token))
    }

    pub fn community_admin(&self, community: &str) -> Client {
        self.client(&admin_token(Role::CommunityAdmin, community))
    }

    /// The admin of community A.
    pub fn admin_a(&self) -> Client {
        self.community_admin(&self.city.community_a.id)
    }

    pub fn admin(&self, role: Role, org: &str) -> Client {
        self.client(&admin_token(role, org))
    }

    pub fn member(&self, member_id: &str) -> Client {
        self.client(&member_token(member_id))
    }

    pub fn service(&self) -> Client {
        self.client(&service_token())
    }

    /// Scoring's own database (scale tests seed their history there).
    pub fn database_url(&self) -> &str {
        &self.database.url
    }

    pub fn a(&self) -> &str {
        &self.city.community_a.id
    }

    pub fn pb_period(&self) -> pb::Period {
        scoring_period(self.period)
    }

    /// A day inside the tests' half-year, not after the real today.
    pub fn served_on(&self, nth: u32) -> PbDate {
        let first = self.period.first_day();
        let real_today = china_today();
        let day = first
            .checked_add_days(chrono::Days::new(u64::from(nth)))
            .filter(|d| *d <= real_today)
            .unwrap_or(real_today);
        date(day)
    }

    /// A member of the city's unit living in `community`, reported and confirmed there.
    pub async fn registered_member(&self, name: &str, community: &str) -> String {
        let member = fixtures::unit_member(&self.registry_channel, &self.city, name, community).await;
        fixtures::report_and_confirm(
            &self.registry_channel,
            &member.id,
            community,
            self.period.year,
            "第一党支部",
        )
        .await;
        member.id
    }

    /// A member that exists but reported nowhere.
    pub async fn unreported_member(&self, name: &str) -> String {
        fixtures::unit_member(&self.registry_channel, &self.city, name, self.a())
            .await
            .id
    }

    /// Records one service for `member` at community A.
    pub async fn serve(&self, member: &str, key: &str, adjustment: i32) -> pb::Entry {
        self.admin_a()
            .record_service(service_request(self, member, key, adjustment))
            .await
            .unwrap_or_else(|s| panic!("record service {key}: {s:?}"))
            .into_inner()
            .entry
            .expect("entry")
    }

    pub async fn settle(&self) -> pb::Settlement {
        self.admin_a()
            .settle_period(pb::SettlePeriodRequest {
                request_id: String::new(),
                community_id: self.a().into(),
                period: Some(self.pb_period()),
            })
            .await
            .expect("settle")
            .into_inner()
            .settlement
            .expect("settlement")
    }

    /// Every line of a settlement, walked two to a page through
    /// `ListSettlementLines`. Checks on the way that the pages hold each line
    /// once, in board order, as many as `line_count`, and that every line's
    /// stars follow the rule the settlement names (the SQL that freezes them
    /// mirrors `Rules::stars`).
    pub async fn lines(&self, settlement: &pb::Settlement) -> Vec<pb::SettlementLine> {
        let mut all: Vec<pb::SettlementLine> = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .admin_a()
                .list_settlement_lines(pb::ListSettlementLinesRequest {
                    settlement_id: settlement.id.clone(),
                    page_size: 2,
                    page_token: token,
                })
                .await
                .expect("lines")
                .into_inner();
            all.extend(page.lines);
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        assert_eq!(all.len(), settlement.line_count as usize, "line_count");
        for pair in all.windows(2) {
            assert!(
                (pair[0].stars, pair[0].points) >= (pair[1].stars, pair[1].points),
                "board order"
            );
        }
        for line in &all {
            let stars = (line.points.max(0) / settlement.points_per_star).min(settlement.max_stars);
            assert_eq!(line.stars, stars, "stars of {} points", line.points);
        }
        all
    }

    /// Reviews (assembly on scoring's today) and publishes a settlement.
    pub async fn review_and_publish(&self, settlement_id: &str) -> pb::Settlement {
        self.admin_a()
            .review_settlement(pb::ReviewSettlementRequest {
                request_id: String::new(),
                settlement_id: settlement_id.into(),
                assembly_date: Some(date(self.today)),
                recorded_by: "王记录".into(),
            })
            .await
            .expect("review");
        self.admin_a()
            .publish_settlement(pb::PublishSettlementRequest {
                request_id: String::new(),
                settlement_id: settlement_id.into(),
            })
            .await
            .expect("publish")
            .into_inner()
            .settlement
            .expect("settlement")
    }

    pub async fn balance(&self, member: &str) -> pb::GetBalanceResponse {
        self.member(member)
            .get_balance(pb::GetBalanceRequest {
                subject: Some(member_subject(member)),
            })
            .await
            .expect("balance")
            .into_inner()
    }
}

pub fn service_request(suite: &Suite, member: &str, key: &str, adjustment: i32) -> pb::RecordServiceRequest {
    pb::RecordServiceRequest {
        request_id: String::new(),
        source_key: key.into(),
        member_id: member.into(),
        community_id: suite.a().into(),
        served_on: Some(suite.served_on(1)),
        content: "社区环境卫生保洁".into(),
        adjustment,
    }
}

pub fn member_subject(id: &str) -> pb::Subject {
    pb::Subject {
        kind: pb::SubjectKind::Member as i32,
        id: id.into(),
    }
}

pub fn date(d: Date) -> PbDate {
    dualreport_platform::wire::date_to_pb(d)
}

pub fn scoring_period(p: Period) -> pb::Period {
    use scoring::domain::period::Half;
    pb::Period {
        year: p.year,
        half: match p.half {
            Half::First => pb::Half::First,
            Half::Second => pb::Half::Second,
        } as i32,
    }
}
