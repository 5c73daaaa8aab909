//! What feedback reads from the other three services, over gRPC with each
//! peer's deadline (`timeout_ms`), as the `service` role, answered in
//! feedback's own types ([`crate::domain::peers`]): one file per peer
//! (`registry.rs`, `scoring.rs`, `volunteering.rs`) and the journals
//! (`journals.rs`). A peer that does not answer is
//! [`FeedbackError::Unavailable`] naming it, so callers can mark what is
//! incomplete instead of being silently wrong.

mod journals;
mod registry;
mod scoring;
mod volunteering;

use std::sync::Arc;

use dualreport_platform::client::ClientInterceptor;
use dualreport_platform::client::{PeerSettings, ServiceCredentials, authed_channel};
use dualreport_proto::common::v1 as common;
use dualreport_proto::registry::v1 as reg;
use dualreport_proto::scoring::v1 as sco;
use dualreport_proto::volunteering::v1 as vol;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::domain::FeedbackError;
use crate::domain::peers::PeerFailure;

type Ch = InterceptedService<Channel, ClientInterceptor>;

/// The three peers.
#[derive(Clone)]
pub struct Sources {
    registry: reg::registry_service_client::RegistryServiceClient<Ch>,
    scoring: sco::scoring_service_client::ScoringServiceClient<Ch>,
    volunteering: vol::volunteering_service_client::VolunteeringServiceClient<Ch>,
    journals: Vec<(
        &'static str,
        common::event_journal_service_client::EventJournalServiceClient<Ch>,
    )>,
    /// Each peer's deadline (`timeout_ms`), also for a whole multi-call read.
    deadlines: [(&'static str, std::time::Duration); 3],
}

/// A failed call → the error naming the peer.
pub(crate) fn failed(source: &'static str, status: tonic::Status) -> FeedbackError {
    match status.code() {
        Code::NotFound => FeedbackError::not_found("record", &format!("({source}: {})", status.message())),
        Code::InvalidArgument | Code::FailedPrecondition | Code::PermissionDenied => {
            FeedbackError::internal(anyhow::anyhow!("{source} refused: {}", status.message()))
        }
        _ => FeedbackError::Unavailable(format!("{source} did not answer: {}", status.message())),
    }
}

/// A failed call as the outbox retries it: the code's name, the message,
/// and whether it was an outage.
pub(crate) fn peer_failure(status: tonic::Status) -> PeerFailure {
    PeerFailure {
        code: format!("{:?}", status.code()),
        message: status.message().to_owned(),
        outage: dualreport_platform::retry::is_retryable(status.code()),
    }
}

/// Pages through a list RPC of `source`: `call(token)` asks for one page,
/// `take` splits a reply into its items and the next page's token.
pub(crate) async fn pages<Reply, T, Fut>(
    source: &'static str,
    mut call: impl FnMut(String) -> Fut,
    take: impl Fn(Reply) -> (Vec<T>, String),
) -> Result<Vec<T>, FeedbackError>
where
    Fut: std::future::Future<Output = Result<tonic::Response<Reply>, tonic::Status>>,
{
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let reply = call(token).await.map_err(|s| failed(source, s))?.into_inner();
        let (items, next) = take(reply);
        out.extend(items);
        if next.is_empty() {
            return Ok(out);
        }
        token = next;
    }
}

impl Sources {
    pub fn new(
        registry: &PeerSettings,
        scoring: &PeerSettings,
        volunteering: &PeerSettings,
        credentials: &Arc<ServiceCredentials>,
    ) -> anyhow::Result<Self> {
        let journal = |peer| -> anyhow::Result<_> {
            Ok(common::event_journal_service_client::EventJournalServiceClient::new(
                authed_channel(peer, credentials)?,
            ))
        };
        Ok(Self {
            registry: reg::registry_service_client::RegistryServiceClient::new(authed_channel(registry, credentials)?),
            scoring: sco::scoring_service_client::ScoringServiceClient::new(authed_channel(scoring, credentials)?),
            volunteering: vol::volunteering_service_client::VolunteeringServiceClient::new(authed_channel(
                volunteering,
                credentials,
            )?),
            journals: vec![
                ("registry", journal(registry)?),
                ("volunteering", journal(volunteering)?),
                ("scoring", journal(scoring)?),
            ],
            deadlines: [
                ("registry", std::time::Duration::from_millis(registry.timeout_ms)),
                ("scoring", std::time::Duration::from_millis(scoring.timeout_ms)),
                (
                    "volunteering",
                    std::time::Duration::from_millis(volunteering.timeout_ms),
                ),
            ],
        })
    }

    /// Runs a whole read from `source` (however many pages or batches it
    /// takes) within that peer's one deadline: a peer that hangs costs a call
    /// one deadline, not one per page or member.
    pub async fn within<T>(
        &self,
        source: &'static str,
        read: impl std::future::Future<Output = Result<T, FeedbackError>>,
    ) -> Result<T, FeedbackError> {
        let deadline = self
            .deadlines
            .iter()
            .find(|(name, _)| *name == source)
            .map_or(std::time::Duration::from_secs(5), |(_, d)| *d);
        // Never longer than the caller has left.
        let deadline = dualreport_platform::deadline::bounded(deadline);
        tokio::time::timeout(deadline, read).await.unwrap_or_else(|_| {
            Err(FeedbackError::Unavailable(format!(
                "{source} did not answer within {deadline:?}"
            )))
        })
    }
}
