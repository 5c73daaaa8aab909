//! The whole suite as it is deployed: the four service binaries as real
//! processes, each with its own database on the backend under test, calling
//! each other over gRPC with the `service` token, the way a district release
//! runs them. End-to-end tests drive it only through the public gRPC APIs.

pub mod browser;
pub mod city;

use dualreport_platform::client::ClientInterceptor;
use dualreport_proto::feedback::v1::feedback_service_client::FeedbackServiceClient;
use dualreport_proto::registry::v1::registry_service_client::RegistryServiceClient;
use dualreport_proto::scoring::v1::scoring_service_client::ScoringServiceClient;
use dualreport_proto::volunteering::v1::volunteering_service_client::VolunteeringServiceClient;
pub use dualreport_testkit::Backend;
use dualreport_testkit::process::ServiceProcess;
use dualreport_testkit::registry::{City, start_registry_with};
use dualreport_testkit::{TestDatabase, authed, channel, service_token};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Authed = InterceptedService<Channel, ClientInterceptor>;
pub type Registry = RegistryServiceClient<Authed>;
pub type Volunteering = VolunteeringServiceClient<Authed>;
pub type Scoring = ScoringServiceClient<Authed>;
pub type Feedback = FeedbackServiceClient<Authed>;

/// Registry, volunteering, scoring and feedback, started in dependency order.
pub struct Suite {
    pub registry: ServiceProcess,
    pub volunteering: ServiceProcess,
    pub scoring: ServiceProcess,
    pub feedback: ServiceProcess,
    /// A district, a street, communities A and B, an organ committee and its unit.
    pub city: City,
    /// Registry's, scoring's, volunteering's and feedback's databases, in that order.
    pub databases: Vec<TestDatabase>,
    _evidence: tempfile::TempDir,
}

impl Suite {
    /// The suite on `backend`; `env` is given to every process (e.g. an OTLP
    /// endpoint), except a key written `<service>:VAR`, given to that service
    /// alone (each service refuses settings it does not know).
    pub async fn start(backend: Backend, env: &[(&str, String)]) -> Self {
        let mut databases = Vec::new();
        for _ in 0..4 {
            databases.push(TestDatabase::new(backend).await);
        }
        let for_service = |service: &str| -> Vec<(&str, String)> {
            env.iter()
                .filter_map(|(key, value)| match key.split_once(':') {
                    Some((only, var)) => (only == service).then(|| (var, value.clone())),
                    None => Some((*key, value.clone())),
                })
                .collect()
        };
        let with = |service: &str, database: &TestDatabase, own: Vec<(&'static str, String)>| -> Vec<(&str, String)> {
            let mut all: Vec<(&str, String)> = vec![("DUALREPORT__DATABASE__URL", database.url.clone())];
            all.extend(own);
            all.extend(for_service(service));
            all
        };
        let registry = start_registry_with(&with("registry", &databases[0], Vec::new()));
        let scoring = ServiceProcess::start(
            "scoring",
            &with(
                "scoring",
                &databases[1],
                vec![("DUALREPORT__REGISTRY__URL", registry.url())],
            ),
        );
        let evidence = tempfile::tempdir().expect("evidence dir");
        let volunteering = ServiceProcess::start(
            "volunteering",
            &with(
                "volunteering",
                &databases[2],
                vec![
                    ("DUALREPORT__REGISTRY__URL", registry.url()),
                    ("DUALREPORT__SCORING__URL", scoring.url()),
                    ("DUALREPORT__RELAY__POLL_INTERVAL_MS", "50".into()),
                    (
                        "DUALREPORT__EVIDENCE__STORE",
                        format!("file://{}", evidence.path().display()),
                    ),
                ],
            ),
        );
        let feedback = ServiceProcess::start(
            "feedback",
            &with(
                "feedback",
                &databases[3],
                vec![
                    ("DUALREPORT__REGISTRY__URL", registry.url()),
                    ("DUALREPORT__VOLUNTEERING__URL", volunteering.url()),
                    ("DUALREPORT__SCORING__URL", scoring.url()),
                    ("DUALREPORT__FEED__POLL_INTERVAL_MS", "50".into()),
                    ("DUALREPORT__CORRECTIONS__INITIAL_BACKOFF_MS", "50".into()),
                    // Feedback judges "not reported" after this day; warnings are
                    // judged as of today, so the deadline must be early in the year.
                    ("DUALREPORT__POLICY__MEMBER_REPORT_WINDOW_START", "01-01".into()),
                    ("DUALREPORT__POLICY__MEMBER_REPORT_WINDOW_END", "01-01".into()),
                ],
            ),
        );
        let city = dualreport_testkit::registry::build_city(&channel(registry.port)).await;
        Self {
            registry,
            volunteering,
            scoring,
            feedback,
            city,
            databases,
            _evidence: evidence,
        }
    }

    pub fn registry(&self, token: &str) -> Registry {
        RegistryServiceClient::new(authed(channel(self.registry.port), token))
    }

    pub fn volunteering(&self, token: &str) -> Volunteering {
        VolunteeringServiceClient::new(authed(channel(self.volunteering.port), token))
    }

    pub fn scoring(&self, token: &str) -> Scoring {
        ScoringServiceClient::new(authed(channel(self.scoring.port), token))
    }

    pub fn feedback(&self, token: &str) -> Feedback {
        FeedbackServiceClient::new(authed(channel(self.feedback.port), token))
    }

    /// Scoring as the other services call it.
    pub fn scoring_as_service(&self) -> Scoring {
        self.scoring(&service_token())
    }
}

/// Polls `check` every 100 ms for up to 20 s until it returns `Some`.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("gave up waiting for {what}");
}
