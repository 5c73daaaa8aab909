//! The suite's services as the portal calls them: with the visitor's
//! credential (the portal's `public` token) or with a signed-in admin's own.

use std::sync::Arc;
use std::time::Duration;

use dualreport_platform::auth::Role;
use dualreport_platform::client::{ClientInterceptor, PeerSettings, ServiceCredentials, channel};
use dualreport_proto::city::v1::city_service_client::CityServiceClient;
use dualreport_proto::feedback::v1::feedback_service_client::FeedbackServiceClient;
use dualreport_proto::registry::v1::registry_service_client::RegistryServiceClient;
use dualreport_proto::scoring::v1::scoring_service_client::ScoringServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::settings::Settings;

type Authed = InterceptedService<Channel, ClientInterceptor>;

/// One lazily connected channel per service.
#[derive(Clone)]
pub struct Upstream {
    registry: Peer,
    volunteering: Peer,
    scoring: Peer,
    feedback: Peer,
    city: Option<Peer>,
    public: Arc<ServiceCredentials>,
}

#[derive(Clone)]
struct Peer {
    channel: Channel,
    timeout: Duration,
}

impl Peer {
    fn new(settings: &PeerSettings) -> anyhow::Result<Self> {
        Ok(Self {
            channel: channel(settings)?,
            timeout: Duration::from_millis(settings.timeout_ms),
        })
    }

    fn with(&self, credential: &Credential) -> Authed {
        let interceptor = match credential {
            Credential::Public(credentials) => ClientInterceptor::with_credentials(credentials.clone()),
            // A token is checked when the session is read; one that cannot
            // be a header value never gets here.
            Credential::Admin(token) => ClientInterceptor::with_token(token).unwrap_or_default(),
        };
        InterceptedService::new(self.channel.clone(), interceptor.with_timeout(self.timeout))
    }
}

/// Whose credential a call carries.
#[derive(Clone)]
pub enum Credential {
    /// The portal's `public` token: published boards only.
    Public(Arc<ServiceCredentials>),
    /// A signed-in admin's own token.
    Admin(String),
}

impl Upstream {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let public = ServiceCredentials::for_role(
            &settings.auth,
            "portal",
            Role::Public,
            ("portal.public_token_file", settings.portal.public_token_file.as_deref()),
        )?;
        Ok(Self {
            registry: Peer::new(&settings.registry)?,
            volunteering: Peer::new(&settings.volunteering)?,
            scoring: Peer::new(&settings.scoring)?,
            feedback: Peer::new(&settings.feedback)?,
            city: settings.city.as_ref().map(Peer::new).transpose()?,
            public: Arc::new(public),
        })
    }

    pub fn public(&self) -> Credential {
        Credential::Public(self.public.clone())
    }

    pub fn registry(&self, credential: &Credential) -> RegistryServiceClient<Authed> {
        RegistryServiceClient::new(self.registry.with(credential))
    }

    pub fn scoring(&self, credential: &Credential) -> ScoringServiceClient<Authed> {
        ScoringServiceClient::new(self.scoring.with(credential))
    }

    pub fn feedback(&self, credential: &Credential) -> FeedbackServiceClient<Authed> {
        FeedbackServiceClient::new(self.feedback.with(credential))
    }

    pub fn city(&self, credential: &Credential) -> Option<CityServiceClient<Authed>> {
        self.city
            .as_ref()
            .map(|peer| CityServiceClient::new(peer.with(credential)))
    }

    /// Each service of the suite with a channel for its health check.
    pub fn services(&self) -> Vec<(&'static str, Channel)> {
        let mut out = vec![
            ("registry", self.registry.channel.clone()),
            ("volunteering", self.volunteering.channel.clone()),
            ("scoring", self.scoring.channel.clone()),
            ("feedback", self.feedback.channel.clone()),
        ];
        if let Some(city) = &self.city {
            out.push(("city", city.channel.clone()));
        }
        out
    }
}
