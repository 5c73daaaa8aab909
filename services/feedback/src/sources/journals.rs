//! Feedback's reads of the registry's, volunteering's and scoring's event
//! journals (`EventJournalService`), as feed events.

use dualreport_platform::wire::millis_of;
use dualreport_proto::common::v1 as common;

use super::{Sources, peer_failure};
use crate::domain::model::Event;
use crate::domain::peers::PeerFailure;

impl Sources {
    /// The source names whose journals feed the feed.
    pub fn journal_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.journals.iter().map(|(name, _)| *name)
    }

    /// Up to `limit` entries of `source`'s journal after sequence `after`, as
    /// events of that source (same sequence; where it happened as far as
    /// the source said).
    pub async fn journal(&self, source: &str, after: i64, limit: i32) -> Result<Vec<Event>, PeerFailure> {
        let Some((name, client)) = self.journals.iter().find(|(name, _)| *name == source) else {
            return Ok(Vec::new());
        };
        let request = common::ListJournalRequest {
            after_sequence: after,
            limit,
        };
        let entries = client
            .clone()
            .list_journal(request)
            .await
            .map_err(peer_failure)?
            .into_inner()
            .entries;
        Ok(entries
            .into_iter()
            .map(|e| Event {
                sequence: e.sequence,
                source: (*name).to_owned(),
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
}
