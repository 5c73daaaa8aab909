//! The district releases the city reads, each over gRPC with the city's
//! `service` credentials and each peer's deadline (`timeout_ms`): their
//! journals, and the records a journal fact names but does not carry (a
//! published settlement's lines). A district that does not answer is
//! [`CityError::Unavailable`] naming it; nothing else waits on it.

use std::sync::Arc;

use dualreport_platform::client::{ClientInterceptor, ServiceCredentials, authed_channel, channel};
use dualreport_platform::wire::millis_of;
use dualreport_proto::common::v1 as common;
use dualreport_proto::feedback::v1 as fpb;
use dualreport_proto::registry::v1 as rpb;
use dualreport_proto::scoring::v1 as sco;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::domain::{BoardLine, CityError, Event, Journal, Period, PublishedSettlement, Result, SubjectKind};
use crate::settings::DistrictSettings;

type Ch = InterceptedService<Channel, ClientInterceptor>;
type JournalClient = common::event_journal_service_client::EventJournalServiceClient<Ch>;

/// One district release.
#[derive(Clone)]
pub struct District {
    pub name: String,
    journals: [(Journal, JournalClient); 4],
    scoring: sco::scoring_service_client::ScoringServiceClient<Ch>,
    registry: rpb::registry_service_client::RegistryServiceClient<Ch>,
    /// Registry and feedback as the city's caller (fan-out reads), each
    /// with its deadline.
    registry_as_caller: (Channel, std::time::Duration),
    feedback_as_caller: (Channel, std::time::Duration),
}

impl std::fmt::Debug for District {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("District")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Every configured district, in name order.
#[derive(Debug, Clone, Default)]
pub struct Districts(Arc<Vec<District>>);

impl Districts {
    pub fn new(
        settings: &std::collections::BTreeMap<String, DistrictSettings>,
        credentials: &Arc<ServiceCredentials>,
    ) -> anyhow::Result<Self> {
        let mut all = Vec::with_capacity(settings.len());
        for (name, peers) in settings {
            crate::domain::district_name("districts", name)
                .map_err(|e| anyhow::anyhow!("[districts.{name}]: the name {}", e.description))?;
            let journal =
                |peer| -> anyhow::Result<JournalClient> { Ok(JournalClient::new(authed_channel(peer, credentials)?)) };
            all.push(District {
                name: name.clone(),
                journals: [
                    (Journal::Registry, journal(&peers.registry)?),
                    (Journal::Volunteering, journal(&peers.volunteering)?),
                    (Journal::Scoring, journal(&peers.scoring)?),
                    (Journal::Feedback, journal(&peers.feedback)?),
                ],
                scoring: sco::scoring_service_client::ScoringServiceClient::new(authed_channel(
                    &peers.scoring,
                    credentials,
                )?),
                registry: rpb::registry_service_client::RegistryServiceClient::new(authed_channel(
                    &peers.registry,
                    credentials,
                )?),
                registry_as_caller: (
                    channel(&peers.registry)?,
                    std::time::Duration::from_millis(peers.registry.timeout_ms),
                ),
                feedback_as_caller: (
                    channel(&peers.feedback)?,
                    std::time::Duration::from_millis(peers.feedback.timeout_ms),
                ),
            });
        }
        Ok(Self(Arc::new(all)))
    }

    pub fn iter(&self) -> impl Iterator<Item = &District> {
        self.0.iter()
    }

    pub fn as_slice(&self) -> &[District] {
        &self.0
    }

    pub fn get(&self, name: &str) -> Option<&District> {
        self.0.iter().find(|d| d.name == name)
    }
}

fn unavailable(district: &str, service: &str, status: &tonic::Status) -> CityError {
    CityError::Unavailable(format!(
        "district {district}: {service} did not answer ({:?}: {})",
        status.code(),
        status.message()
    ))
}

impl District {
    /// Up to `limit` entries of `journal` after `after`, as city events of this district.
    pub async fn journal(&self, journal: Journal, after: i64, limit: i32) -> Result<Vec<Event>> {
        let client = &self
            .journals
            .iter()
            .find(|(j, _)| *j == journal)
            .expect("every journal")
            .1;
        let entries = client
            .clone()
            .list_journal(common::ListJournalRequest {
                after_sequence: after,
                limit,
            })
            .await
            .map_err(|s| unavailable(&self.name, journal.as_str(), &s))?
            .into_inner()
            .entries;
        Ok(entries
            .into_iter()
            .map(|e| Event {
                sequence: 0,
                district: self.name.clone(),
                source: journal.as_str().to_owned(),
                source_sequence: e.sequence,
                kind: e.kind,
                occur_time: e.occur_time.as_ref().map_or(0, millis_of),
                subject_id: e.subject_id,
                district_id: e.district_id,
                community_id: e.community_id,
                unit_org_id: e.unit_org_id,
                member_id: e.member_id,
                text: e.text,
                evidence_ids: e.evidence_ids,
                year: e.year,
            })
            .collect())
    }

    /// The district's effective policy, as its registry reports it.
    pub async fn policy(&self) -> Result<rpb::Policy, tonic::Status> {
        self.registry
            .clone()
            .get_policy(rpb::GetPolicyRequest {})
            .await?
            .into_inner()
            .policy
            .ok_or_else(|| tonic::Status::internal("the registry sent no policy"))
    }

    /// A relocation to another district with the member's whole profile
    /// (the district logs the read), from the district left.
    pub async fn relocation_transfer(
        &self,
        relocation_id: &str,
    ) -> Result<rpb::GetRelocationTransferResponse, tonic::Status> {
        Ok(self
            .registry
            .clone()
            .get_relocation_transfer(rpb::GetRelocationTransferRequest {
                relocation_id: relocation_id.to_owned(),
            })
            .await?
            .into_inner())
    }

    /// Admits the member moving in, in the district moved to.
    pub async fn admit_relocated_member(&self, request: rpb::AdmitRelocatedMemberRequest) -> Result<(), tonic::Status> {
        self.registry.clone().admit_relocated_member(request).await?;
        Ok(())
    }

    /// Tells the district left that the member reported in the new district.
    pub async fn fulfil_relocation(&self, relocation_id: &str) -> Result<(), tonic::Status> {
        self.registry
            .clone()
            .fulfil_relocation(rpb::FulfilRelocationRequest {
                relocation_id: relocation_id.to_owned(),
            })
            .await?;
        Ok(())
    }

    /// `(channel, deadline)` called with the caller's `token` (the district
    /// checks the caller's scope itself) under the district's deadline, or
    /// the caller's when that is shorter (the server's request timeout).
    fn as_caller(
        (channel, timeout): &(Channel, std::time::Duration),
        token: &str,
    ) -> Result<InterceptedService<Channel, ClientInterceptor>, tonic::Status> {
        let interceptor = ClientInterceptor::with_token(token)
            .map_err(|_| tonic::Status::unauthenticated("the caller's token is not ASCII"))?
            .with_timeout(*timeout);
        Ok(InterceptedService::new(channel.clone(), interceptor))
    }

    fn feedback(&self, token: &str) -> Result<fpb::feedback_service_client::FeedbackServiceClient<Ch>, tonic::Status> {
        Ok(fpb::feedback_service_client::FeedbackServiceClient::new(
            Self::as_caller(&self.feedback_as_caller, token)?,
        ))
    }

    fn registry(&self, token: &str) -> Result<rpb::registry_service_client::RegistryServiceClient<Ch>, tonic::Status> {
        Ok(rpb::registry_service_client::RegistryServiceClient::new(
            Self::as_caller(&self.registry_as_caller, token)?,
        ))
    }

    /// The district's summary table (附录F) of `unit`, as the caller.
    pub async fn summary_table(
        &self,
        token: &str,
        unit_org_id: &str,
        period: common::Period,
    ) -> Result<fpb::SummaryTable, tonic::Status> {
        self.feedback(token)?
            .get_summary_table(fpb::GetSummaryTableRequest {
                unit_org_id: unit_org_id.to_owned(),
                community_id: String::new(),
                period: Some(period),
            })
            .await?
            .into_inner()
            .table
            .ok_or_else(|| tonic::Status::internal("feedback sent no table"))
    }

    /// The registry's statistics lines of `unit`'s subtree for `year`, every
    /// page (a unit's subtree is a handful of orgs), as the caller.
    pub async fn unit_statistics(
        &self,
        token: &str,
        unit_org_id: &str,
        year: i32,
    ) -> Result<Vec<rpb::UnitStatistics>, tonic::Status> {
        let mut registry = self.registry(token)?;
        let (mut lines, mut page_token) = (Vec::new(), String::new());
        loop {
            let page = registry
                .get_report_statistics(rpb::GetReportStatisticsRequest {
                    org_id: unit_org_id.to_owned(),
                    year,
                    page_size: 500,
                    page_token,
                })
                .await?
                .into_inner();
            lines.extend(page.units);
            if page.next_page_token.is_empty() {
                return Ok(lines);
            }
            page_token = page.next_page_token;
        }
    }

    /// A page of `unit`'s members who did not report for `year`, as the caller.
    pub async fn not_reported(
        &self,
        token: &str,
        unit_org_id: &str,
        year: i32,
        page: (i32, String),
    ) -> Result<(Vec<rpb::NotReportedMember>, String), tonic::Status> {
        let r = self
            .registry(token)?
            .list_not_reported_members(rpb::ListNotReportedMembersRequest {
                org_id: unit_org_id.to_owned(),
                year,
                page_size: page.0,
                page_token: page.1,
            })
            .await?
            .into_inner();
        Ok((r.members, r.next_page_token))
    }

    /// A page of the ratings `unit`'s subtree received for `year`, as the caller.
    pub async fn unit_ratings(
        &self,
        token: &str,
        unit_org_id: &str,
        year: i32,
        page: (i32, String),
    ) -> Result<(Vec<fpb::UnitRating>, String), tonic::Status> {
        let r = self
            .feedback(token)?
            .list_unit_ratings(fpb::ListUnitRatingsRequest {
                org_id: unit_org_id.to_owned(),
                year,
                page_size: page.0,
                page_token: page.1,
            })
            .await?
            .into_inner();
        Ok((r.ratings, r.next_page_token))
    }

    /// A page of the warnings of `unit`'s subtree for `year`, as the caller.
    pub async fn warnings(
        &self,
        token: &str,
        unit_org_id: &str,
        year: i32,
        page: (i32, String),
    ) -> Result<(Vec<fpb::Warning>, String), tonic::Status> {
        let r = self
            .feedback(token)?
            .list_warnings(fpb::ListWarningsRequest {
                org_id: unit_org_id.to_owned(),
                member_id: String::new(),
                year,
                page_size: page.0,
                page_token: page.1,
            })
            .await?
            .into_inner();
        Ok((r.warnings, r.next_page_token))
    }

    /// A published settlement with all its lines, paged from scoring.
    pub async fn published_settlement(&self, settlement_id: &str) -> Result<PublishedSettlement> {
        let mut scoring = self.scoring.clone();
        let failed = |s: tonic::Status| unavailable(&self.name, "scoring", &s);
        let settlement = scoring
            .get_settlement(sco::GetSettlementRequest {
                settlement_id: settlement_id.to_owned(),
            })
            .await
            .map_err(failed)?
            .into_inner()
            .settlement
            .ok_or_else(|| CityError::Unavailable(format!("district {}: scoring sent no settlement", self.name)))?;
        let period = settlement.period.unwrap_or_default();
        let mut lines = Vec::with_capacity(usize::try_from(settlement.line_count).unwrap_or(0));
        let mut token = String::new();
        loop {
            let page = scoring
                .list_settlement_lines(sco::ListSettlementLinesRequest {
                    settlement_id: settlement_id.to_owned(),
                    page_size: 500,
                    page_token: std::mem::take(&mut token),
                })
                .await
                .map_err(failed)?
                .into_inner();
            for line in page.lines {
                let subject = line.subject.unwrap_or_default();
                let subject_kind = match sco::SubjectKind::try_from(subject.kind) {
                    Ok(sco::SubjectKind::UnitOrg) => SubjectKind::UnitOrg,
                    _ => SubjectKind::Member,
                };
                lines.push(BoardLine {
                    district: self.name.clone(),
                    community_id: settlement.community_id.clone(),
                    settlement_id: settlement.id.clone(),
                    version: settlement.version,
                    subject_kind,
                    subject_id: subject.id,
                    subject_name: line.subject_name,
                    points: line.points,
                    stars: line.stars,
                });
            }
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        Ok(PublishedSettlement {
            district: self.name.clone(),
            community_id: settlement.community_id,
            period: Period {
                year: period.year,
                half: period.half,
            },
            settlement_id: settlement.id,
            version: settlement.version,
            lines,
        })
    }
}
