//! Feedback's reads of scoring: members' years in the ledger, one entry, a
//! member's registration table; and the one write, an upheld objection's
//! correction.

use dualreport_proto::scoring::v1 as sco;

use super::{Sources, failed, peer_failure};
use crate::domain::FeedbackError;
use crate::domain::peers::{CardOf, HalfAtCommunity, MemberYear, PeerFailure, ScoredEntry};

impl Sources {
    /// Many members' year in the ledger, a thousand per call.
    pub async fn member_totals(&self, member_ids: &[String], year: i32) -> Result<Vec<MemberYear>, FeedbackError> {
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
            out.extend(reply.into_inner().totals.into_iter().map(|t| {
                MemberYear {
                    member_id: t.member_id,
                    services: i64::from(t.services),
                    halves: t
                        .periods
                        .into_iter()
                        .filter_map(|pp| {
                            let period = pp.period?;
                            Some(HalfAtCommunity {
                                year: period.year,
                                half: period.half,
                                community_id: pp.community_id,
                                earned: i64::from(pp.earned),
                                stars: i64::from(pp.stars),
                            })
                        })
                        .collect(),
                }
            }));
        }
        Ok(out)
    }

    pub async fn entry(&self, entry_id: &str) -> Result<ScoredEntry, FeedbackError> {
        let request = sco::GetEntryRequest {
            entry_id: entry_id.to_owned(),
        };
        let entry = self
            .scoring
            .clone()
            .get_entry(request)
            .await
            .map_err(|s| failed("scoring", s))?
            .into_inner()
            .entry
            .ok_or_else(|| FeedbackError::internal(anyhow::anyhow!("scoring answered without the entry")))?;
        let subject = entry.subject.unwrap_or_default();
        Ok(ScoredEntry {
            id: entry.id,
            community_id: entry.community_id,
            card: if subject.kind == sco::SubjectKind::Member as i32 {
                CardOf::Member(subject.id)
            } else {
                CardOf::Unit(subject.id)
            },
        })
    }

    /// Sends an upheld objection's correction; `source_key` makes a retry a
    /// no-op. Answers the correcting entry's id.
    pub async fn correct(
        &self,
        source_key: &str,
        entry_id: &str,
        points: i32,
        reason: &str,
    ) -> Result<String, PeerFailure> {
        let request = sco::RecordCorrectionRequest {
            request_id: source_key.to_owned(),
            source_key: source_key.to_owned(),
            corrects_entry_id: entry_id.to_owned(),
            points,
            reason: reason.to_owned(),
        };
        let response = self
            .scoring
            .clone()
            .record_correction(request)
            .await
            .map_err(peer_failure)?
            .into_inner();
        Ok(response.entry.map(|e| e.id).unwrap_or_default())
    }

    /// A member's 服务登记表 as scoring builds it. Feedback passes it on as
    /// is (its API answers scoring's message), so this one read keeps
    /// scoring's type.
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
}
