//! A small city as it is deployed: several district suites (each its four
//! binaries on its own databases, `crate::Suite`) and the city tier's
//! binary reading them all, every one a real process on this machine.

use chrono::Datelike as _;
use dualreport_platform::auth::Role;
use dualreport_platform::client::ClientInterceptor;
use dualreport_proto::city::v1::city_service_client::CityServiceClient;
use dualreport_proto::common::v1::Date;
use dualreport_proto::scoring::v1 as spb;
use dualreport_testkit::process::ServiceProcess;
use dualreport_testkit::registry::{report_and_confirm, unit_member};
use dualreport_testkit::{Backend, TestDatabase, admin_token, authed, channel};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::Suite;

pub type CityClient = CityServiceClient<InterceptedService<Channel, ClientInterceptor>>;

/// Districts by name, and the city tier over them.
pub struct CityTier {
    pub districts: Vec<(String, Suite)>,
    pub city: ServiceProcess,
    pub database: TestDatabase,
}

impl CityTier {
    /// One district suite per name on `backend`, then the city tier reading
    /// them every 50 ms, `batch_size` facts a read.
    pub async fn start(backend: Backend, names: &[&str], batch_size: i32) -> Self {
        Self::start_with(backend, names, batch_size, |_| Vec::new()).await
    }

    /// [`Self::start`], with `extra(name)` given to that district's processes
    /// (as `Suite::start` takes it: `KEY` for all four, `<service>:KEY` for one).
    pub async fn start_with(
        backend: Backend,
        names: &[&str],
        batch_size: i32,
        extra: impl Fn(&str) -> Vec<(&'static str, String)>,
    ) -> Self {
        // The city's port is chosen first: each district registry syncs the
        // city's reference data from it, and the city reads the districts.
        let city_port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut districts = Vec::new();
        for name in names {
            let mut env = vec![
                (
                    "registry:DUALREPORT__CITY__URL",
                    format!("http://127.0.0.1:{city_port}"),
                ),
                ("registry:DUALREPORT__REGISTRY__CITY_SYNC_INTERVAL_MS", "50".to_owned()),
            ];
            env.extend(extra(name));
            districts.push(((*name).to_owned(), Suite::start(backend, &env).await));
        }
        let database = TestDatabase::new(backend).await;
        let city = start_city(&database, &districts, batch_size, city_port);
        Self {
            districts,
            city,
            database,
        }
    }

    pub fn district(&self, name: &str) -> &Suite {
        &self
            .districts
            .iter()
            .find(|(n, _)| n == name)
            .expect("a district of this city")
            .1
    }

    pub fn district_mut(&mut self, name: &str) -> &mut Suite {
        &mut self
            .districts
            .iter_mut()
            .find(|(n, _)| n == name)
            .expect("a district of this city")
            .1
    }

    pub fn client(&self, token: &str) -> CityClient {
        CityServiceClient::new(authed(channel(self.city.port), token))
    }

    /// The city organisation department's admin.
    pub fn city_admin(&self) -> CityClient {
        self.client(&admin_token(Role::CityAdmin, "city"))
    }
}

fn start_city(database: &TestDatabase, districts: &[(String, Suite)], batch_size: i32, port: u16) -> ServiceProcess {
    let mut env: Vec<(String, String)> = vec![
        ("DUALREPORT__SERVER__PORT".into(), port.to_string()),
        ("DUALREPORT__DATABASE__URL".into(), database.url.clone()),
        ("DUALREPORT__CITY__POLL_INTERVAL_MS".into(), "50".into()),
        ("DUALREPORT__CITY__WATCH_POLL_MS".into(), "50".into()),
        // A killed city's streams are free again soon after its restart.
        ("DUALREPORT__CITY__LEASE_MS".into(), "500".into()),
        ("DUALREPORT__CITY__BATCH_SIZE".into(), batch_size.to_string()),
        // The tests' webhook receiver is plain HTTP on this machine, and quick to give up on.
        ("DUALREPORT__WEBHOOK__ALLOW_HTTP".into(), "true".into()),
        ("DUALREPORT__WEBHOOK__MAX_ATTEMPTS".into(), "2".into()),
        ("DUALREPORT__WEBHOOK__INITIAL_BACKOFF_MS".into(), "50".into()),
        ("DUALREPORT__WEBHOOK__MAX_BACKOFF_MS".into(), "200".into()),
    ];
    // The city's policy is the districts' (see `GetCityPolicy`).
    env.extend(
        dualreport_testkit::registry::TEST_POLICY
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    for (name, suite) in districts {
        let upper = name.to_uppercase();
        for (service, process) in [
            ("REGISTRY", &suite.registry),
            ("VOLUNTEERING", &suite.volunteering),
            ("SCORING", &suite.scoring),
            ("FEEDBACK", &suite.feedback),
        ] {
            env.push((format!("DUALREPORT__DISTRICTS__{upper}__{service}__URL"), process.url()));
            env.push((
                format!("DUALREPORT__DISTRICTS__{upper}__{service}__CONNECT_TIMEOUT_MS"),
                "500".into(),
            ));
            env.push((
                format!("DUALREPORT__DISTRICTS__{upper}__{service}__TIMEOUT_MS"),
                "2000".into(),
            ));
        }
    }
    let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    ServiceProcess::start("city", &env)
}

/// The half-year before today's: settled and published settlements are of it.
pub fn last_half() -> spb::Period {
    let today = dualreport_policy::china_today();
    if today.month() <= 6 {
        spb::Period {
            year: today.year() - 1,
            half: spb::Half::Second as i32,
        }
    } else {
        spb::Period {
            year: today.year(),
            half: spb::Half::First as i32,
        }
    }
}

impl Suite {
    /// A member of this district's unit, reported and confirmed at
    /// community A for `period`'s year.
    pub async fn reported_member(&self, name: &str, period: &spb::Period) -> String {
        let registry = channel(self.registry.port);
        let a = &self.city.community_a.id;
        let member = unit_member(&registry, &self.city, name, a).await.id;
        report_and_confirm(&registry, &member, a, period.year, "第一党支部").await;
        member
    }

    /// Community A records `services[i]` services in `period` for each
    /// member, settles the period, reviews and publishes it: the published
    /// settlement.
    pub async fn publish_settlement(&self, period: &spb::Period, services: &[(&str, u32)]) -> spb::Settlement {
        let a = self.city.community_a.id.clone();
        let admin = || self.scoring(&admin_token(Role::CommunityAdmin, &a));
        let first_month = if period.half == spb::Half::First as i32 { 1 } else { 7 };
        for (member, count) in services {
            for n in 0..*count {
                admin()
                    .record_service(spb::RecordServiceRequest {
                        request_id: String::new(),
                        source_key: format!("{member}-{n}"),
                        member_id: (*member).to_owned(),
                        community_id: a.clone(),
                        served_on: Some(Date {
                            year: period.year,
                            month: first_month + i32::try_from(n % 5).unwrap_or(0),
                            day: 10,
                        }),
                        content: "社区环境卫生保洁".into(),
                        adjustment: 0,
                    })
                    .await
                    .unwrap_or_else(|s| panic!("record a service: {s:?}"));
            }
        }
        let settlement = admin()
            .settle_period(spb::SettlePeriodRequest {
                request_id: String::new(),
                community_id: a.clone(),
                period: Some(*period),
            })
            .await
            .expect("settle")
            .into_inner()
            .settlement
            .expect("settlement");
        let today = dualreport_policy::china_today();
        admin()
            .review_settlement(spb::ReviewSettlementRequest {
                request_id: String::new(),
                settlement_id: settlement.id.clone(),
                assembly_date: Some(Date {
                    year: today.year(),
                    month: today.month() as i32,
                    day: today.day() as i32,
                }),
                recorded_by: "王记录".into(),
            })
            .await
            .expect("review");
        admin()
            .publish_settlement(spb::PublishSettlementRequest {
                request_id: String::new(),
                settlement_id: settlement.id,
            })
            .await
            .expect("publish")
            .into_inner()
            .settlement
            .expect("settlement")
    }

    /// Stops all four services (the whole district release goes down).
    pub fn stop_all(&mut self) {
        for process in [
            &mut self.feedback,
            &mut self.volunteering,
            &mut self.scoring,
            &mut self.registry,
        ] {
            process.stop();
        }
    }

    /// Starts them again on their ports and databases.
    pub fn restart_all(&mut self) {
        for process in [
            &mut self.registry,
            &mut self.scoring,
            &mut self.volunteering,
            &mut self.feedback,
        ] {
            process.restart();
        }
    }
}
