//! What feedback reads from the other three services, over gRPC with each
//! peer's deadline (`timeout_ms`), as the `service` role. A peer that does not
//! answer is [`FeedbackError::Unavailable`] naming it, so callers can mark what
//! is incomplete instead of being silently wrong.

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
fn failed(source: &'static str, status: tonic::Status) -> FeedbackError {
    match status.code() {
        Code::NotFound => FeedbackError::not_found("record", &format!("({source}: {})", status.message())),
        Code::InvalidArgument | Code::FailedPrecondition | Code::PermissionDenied => {
            FeedbackError::internal(anyhow::anyhow!("{source} refused: {}", status.message()))
        }
        _ => FeedbackError::Unavailable(format!("{source} did not answer: {}", status.message())),
    }
}

/// Pages through a list RPC: `call(token) -> (items, next token)`.
async fn all<T, F, Fut>(mut call: F) -> Result<Vec<T>, FeedbackError>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, String), FeedbackError>>,
{
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let (items, next) = call(token).await?;
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
        tokio::time::timeout(deadline, read).await.unwrap_or_else(|_| {
            Err(FeedbackError::Unavailable(format!(
                "{source} did not answer within {deadline:?}"
            )))
        })
    }

    // ── registry ──

    /// The unit org's members (and its sub-orgs').
    pub async fn unit_members(&self, unit_org_id: &str) -> Result<Vec<reg::Member>, FeedbackError> {
        all(|page_token| {
            let mut c = self.registry.clone();
            let request = reg::ListMembersRequest {
                unit_org_id: unit_org_id.to_owned(),
                page_size: 500,
                page_token,
                ..Default::default()
            };
            async move {
                let r = c
                    .list_members(request)
                    .await
                    .map_err(|s| failed("registry", s))?
                    .into_inner();
                Ok((r.members, r.next_page_token))
            }
        })
        .await
    }

    /// Member reports of the unit's members in `year`.
    pub async fn member_reports(&self, unit_org_id: &str, year: i32) -> Result<Vec<reg::MemberReport>, FeedbackError> {
        all(|page_token| {
            let mut c = self.registry.clone();
            let request = reg::ListMemberReportsRequest {
                org_id: unit_org_id.to_owned(),
                year,
                page_size: 500,
                page_token,
                ..Default::default()
            };
            async move {
                let r = c
                    .list_member_reports(request)
                    .await
                    .map_err(|s| failed("registry", s))?
                    .into_inner();
                Ok((r.reports, r.next_page_token))
            }
        })
        .await
    }

    /// Relocations of the unit's members still pending after their due date.
    pub async fn overdue_relocations(
        &self,
        unit_org_id: &str,
        as_of: common::Date,
    ) -> Result<Vec<reg::Relocation>, FeedbackError> {
        all(|page_token| {
            let mut c = self.registry.clone();
            let request = reg::ListRelocationsRequest {
                org_id: unit_org_id.to_owned(),
                overdue_only: true,
                page_size: 500,
                page_token,
                as_of: Some(as_of),
            };
            async move {
                let r = c
                    .list_relocations(request)
                    .await
                    .map_err(|s| failed("registry", s))?
                    .into_inner();
                Ok((r.relocations, r.next_page_token))
            }
        })
        .await
    }

    /// Every resident-unit org the registry holds.
    pub async fn units(&self) -> Result<Vec<reg::Organization>, FeedbackError> {
        let orgs = all(|page_token| {
            let mut c = self.registry.clone();
            let request = reg::ListOrganizationsRequest {
                page_size: 500,
                page_token,
                ..Default::default()
            };
            async move {
                let r = c
                    .list_organizations(request)
                    .await
                    .map_err(|s| failed("registry", s))?
                    .into_inner();
                Ok((r.organizations, r.next_page_token))
            }
        })
        .await?;
        Ok(orgs
            .into_iter()
            .filter(|o| o.r#type >= reg::OrganizationType::Organ as i32)
            .collect())
    }

    // ── scoring ──

    /// Many members' year in the ledger, a thousand per call.
    pub async fn member_totals(
        &self,
        member_ids: &[String],
        year: i32,
    ) -> Result<Vec<sco::MemberTotals>, FeedbackError> {
        let mut out = Vec::with_capacity(member_ids.len());
        for chunk in member_ids.chunks(1000) {
            let request = sco::ListMemberTotalsRequest {
                member_ids: chunk.to_vec(),
                year,
            };
            let reply = self
                .scoring
                .clone()
                .list_member_totals(request)
                .await
                .map_err(|s| failed("scoring", s))?;
            out.extend(reply.into_inner().totals);
        }
        Ok(out)
    }

    pub async fn entry(&self, entry_id: &str) -> Result<sco::Entry, FeedbackError> {
        let request = sco::GetEntryRequest {
            entry_id: entry_id.to_owned(),
        };
        self.scoring
            .clone()
            .get_entry(request)
            .await
            .map_err(|s| failed("scoring", s))?
            .into_inner()
            .entry
            .ok_or_else(|| FeedbackError::internal(anyhow::anyhow!("scoring answered without the entry")))
    }

    /// Sends an upheld objection's correction; `source_key` makes a retry a no-op.
    pub async fn correct(
        &self,
        source_key: &str,
        entry_id: &str,
        points: i32,
        reason: &str,
    ) -> Result<String, tonic::Status> {
        let request = sco::RecordCorrectionRequest {
            request_id: source_key.to_owned(),
            source_key: source_key.to_owned(),
            corrects_entry_id: entry_id.to_owned(),
            points,
            reason: reason.to_owned(),
        };
        let response = self.scoring.clone().record_correction(request).await?.into_inner();
        Ok(response.entry.map(|e| e.id).unwrap_or_default())
    }

    pub async fn registration_table(
        &self,
        member_id: &str,
        community_id: &str,
        year: i32,
        half: i32,
    ) -> Result<sco::RegistrationTable, FeedbackError> {
        let request = sco::GetRegistrationTableRequest {
            member_id: member_id.to_owned(),
            community_id: community_id.to_owned(),
            period: Some(sco::Period { year, half }),
        };
        self.scoring
            .clone()
            .get_registration_table(request)
            .await
            .map_err(|s| failed("scoring", s))?
            .into_inner()
            .table
            .ok_or_else(|| FeedbackError::internal(anyhow::anyhow!("scoring answered without the table")))
    }

    // ── volunteering ──

    pub async fn attendance(&self, member_id: &str, year: i32) -> Result<Vec<vol::Attendance>, FeedbackError> {
        all(|page_token| {
            let mut c = self.volunteering.clone();
            let request = vol::ListAttendanceRequest {
                member_id: member_id.to_owned(),
                year,
                page_size: 500,
                page_token,
                ..Default::default()
            };
            async move {
                let r = c
                    .list_attendance(request)
                    .await
                    .map_err(|s| failed("volunteering", s))?
                    .into_inner();
                Ok((r.attendance, r.next_page_token))
            }
        })
        .await
    }

    pub async fn activity(&self, activity_id: &str) -> Result<vol::Activity, FeedbackError> {
        let request = vol::GetActivityRequest {
            activity_id: activity_id.to_owned(),
        };
        self.volunteering
            .clone()
            .get_activity(request)
            .await
            .map_err(|s| failed("volunteering", s))?
            .into_inner()
            .activity
            .ok_or_else(|| FeedbackError::internal(anyhow::anyhow!("volunteering answered without the activity")))
    }

    /// The member's pledge for the year, if one was made.
    pub async fn pledge(&self, member_id: &str, year: i32) -> Result<Option<vol::Pledge>, FeedbackError> {
        let request = vol::GetPledgeRequest {
            member_id: member_id.to_owned(),
            year,
        };
        match self.volunteering.clone().get_pledge(request).await {
            Ok(r) => Ok(r.into_inner().pledge),
            Err(s) if s.code() == Code::NotFound => Ok(None),
            Err(s) => Err(failed("volunteering", s)),
        }
    }

    pub async fn unit_records(&self, unit_org_id: &str, year: i32) -> Result<Vec<vol::UnitRecord>, FeedbackError> {
        all(|page_token| {
            let mut c = self.volunteering.clone();
            let request = vol::ListUnitRecordsRequest {
                unit_org_id: unit_org_id.to_owned(),
                year,
                page_size: 500,
                page_token,
            };
            async move {
                let r = c
                    .list_unit_records(request)
                    .await
                    .map_err(|s| failed("volunteering", s))?
                    .into_inner();
                Ok((r.records, r.next_page_token))
            }
        })
        .await
    }

    pub async fn agreements(&self, unit_org_id: &str, year: i32) -> Result<Vec<vol::Agreement>, FeedbackError> {
        let request = vol::ListAgreementsRequest {
            unit_org_id: unit_org_id.to_owned(),
            year,
            ..Default::default()
        };
        Ok(self
            .volunteering
            .clone()
            .list_agreements(request)
            .await
            .map_err(|s| failed("volunteering", s))?
            .into_inner()
            .agreements)
    }

    // ── journals ──

    /// The source names whose journals feed the feed.
    pub fn journal_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.journals.iter().map(|(name, _)| *name)
    }

    pub async fn journal(
        &self,
        source: &str,
        after: i64,
        limit: i32,
    ) -> Result<Vec<common::JournalEntry>, tonic::Status> {
        let Some((_, client)) = self.journals.iter().find(|(name, _)| *name == source) else {
            return Ok(Vec::new());
        };
        let request = common::ListJournalRequest {
            after_sequence: after,
            limit,
        };
        Ok(client.clone().list_journal(request).await?.into_inner().entries)
    }
}
