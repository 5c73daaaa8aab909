//! Who the demo calls as and how: one channel per service, a token minted
//! per call from the development key, and the refusals a re-run expects.

use std::time::Duration;

use anyhow::Context as _;
use dualreport_platform::auth::{Authenticator, Role, claims};
use dualreport_platform::client::ClientInterceptor;
use dualreport_proto::feedback::v1::feedback_service_client::FeedbackServiceClient;
use dualreport_proto::registry::v1::registry_service_client::RegistryServiceClient;
use dualreport_proto::scoring::v1::scoring_service_client::ScoringServiceClient;
use dualreport_proto::volunteering::v1::volunteering_service_client::VolunteeringServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Authed = InterceptedService<Channel, ClientInterceptor>;
pub type Registry = RegistryServiceClient<Authed>;
pub type Volunteering = VolunteeringServiceClient<Authed>;
pub type Scoring = ScoringServiceClient<Authed>;
pub type Feedback = FeedbackServiceClient<Authed>;

pub struct Demo {
    pub authenticator: Authenticator,
    pub registry: Channel,
    pub volunteering: Channel,
    pub scoring: Channel,
    pub feedback: Channel,
}

/// Who a call is made as: an admin of an org, or a member.
#[derive(Clone, Copy)]
pub enum As<'a> {
    Admin(Role, &'a str),
    Member(&'a str),
}

impl Demo {
    pub fn token(&self, role: Role, org: Option<&str>, member: Option<&str>) -> anyhow::Result<String> {
        let subject = format!("demo-{}@{}", role.as_str(), org.or(member).unwrap_or("suite"));
        self.authenticator.mint(&claims(&subject, role, org, member, 12 * 3600))
    }

    fn authed(&self, channel: &Channel, who: As<'_>) -> anyhow::Result<Authed> {
        let token = match who {
            As::Admin(role, org) => self.token(role, Some(org), None)?,
            As::Member(member) => self.token(Role::Member, None, Some(member))?,
        };
        Ok(InterceptedService::new(
            channel.clone(),
            ClientInterceptor::with_token(&token)?,
        ))
    }

    pub fn registry(&self, who: As<'_>) -> anyhow::Result<Registry> {
        Ok(RegistryServiceClient::new(self.authed(&self.registry, who)?))
    }

    pub fn volunteering(&self, who: As<'_>) -> anyhow::Result<Volunteering> {
        Ok(VolunteeringServiceClient::new(self.authed(&self.volunteering, who)?))
    }

    pub fn scoring(&self, who: As<'_>) -> anyhow::Result<Scoring> {
        Ok(ScoringServiceClient::new(self.authed(&self.scoring, who)?))
    }

    pub fn feedback(&self, who: As<'_>) -> anyhow::Result<Feedback> {
        Ok(FeedbackServiceClient::new(self.authed(&self.feedback, who)?))
    }
}

/// A refusal the seed expects on some days or on a second run (a window
/// closed, a step already taken): `None`; anything else is an error.
pub fn tolerated<T>(result: Result<tonic::Response<T>, tonic::Status>) -> anyhow::Result<Option<T>> {
    match result {
        Ok(response) => Ok(Some(response.into_inner())),
        Err(status) if status.code() == tonic::Code::FailedPrecondition => Ok(None),
        Err(status) => Err(status.into()),
    }
}

pub async fn connect(url: &str, name: &str) -> anyhow::Result<Channel> {
    Channel::from_shared(url.to_owned())?
        .timeout(Duration::from_secs(30))
        .connect()
        .await
        .with_context(|| format!("{name} is not answering at {url}: start the suite with `make run` first"))
}
