//! The city's use cases over its read model: who may read what, the
//! districts' ingest state, the merged feed and the city board.

use std::sync::Arc;

use dualreport_platform::auth::{Principal, Role};
use dualreport_platform::paging::PageRequest;
use sqlx::AnyPool;
use tokio::sync::Notify;

use crate::districts::Districts;
use crate::domain::{BoardLine, CityError, CityRelocation, Cursor, Event, Journal, Period, RelocationStatus, Result};
use crate::storage::{self as db, BoardAfter, RelocationsAfter};

/// The city tier: its store, the district releases it reads, and its root.
#[derive(Clone)]
pub struct City {
    pub pool: AnyPool,
    pub districts: Districts,
    city_id: Arc<str>,
    /// The city's policy (its `[policy]`), which every district should run.
    pub policy: Arc<dualreport_policy::Policy>,
    /// Woken whenever this replica appends to the feed.
    pub appended: Arc<Notify>,
}

impl City {
    pub fn new(pool: AnyPool, districts: Districts, city_id: &str, policy: dualreport_policy::Policy) -> Self {
        Self {
            pool,
            districts,
            city_id: city_id.into(),
            policy: Arc::new(policy),
            appended: Arc::new(Notify::new()),
        }
    }

    /// The city root's id (`city.city_id`).
    pub fn city_id(&self) -> &str {
        &self.city_id
    }

    /// The city organisation department: `city_admin` of this city's root.
    pub(crate) fn require_city_admin(&self, p: &Principal, what: &str) -> Result<()> {
        if p.role == Role::CityAdmin && p.org() == Some(&*self.city_id) {
            return Ok(());
        }
        Err(CityError::out_of_scope(format!(
            "{what} is for the city's admins (city_admin of org {}); a {} token is not",
            self.city_id,
            p.role.as_str()
        )))
    }

    /// Whose city answers `p` reads: the whole city (the city's admins), or
    /// one district (`Some(name)`: that district's admins, whose token names
    /// the district org the district's facts carry). Anyone else is refused.
    pub async fn reader_scope(&self, p: &Principal, what: &str) -> Result<Option<String>> {
        if p.role == Role::DistrictAdmin
            && let Some(org) = p.org()
        {
            return match db::district_of_org(&self.pool, org).await? {
                Some(district) => Ok(Some(district)),
                None => Err(CityError::out_of_scope(format!(
                    "{what}: district org {org} is not one the city has read facts of"
                ))),
            };
        }
        self.require_city_admin(p, what).map(|()| None)
    }

    /// Every configured (district, journal) with its ingest state, or only
    /// the caller's district's; a stream never read yet is listed at
    /// sequence 0 and down.
    pub async fn list_districts(&self, p: &Principal) -> Result<Vec<Cursor>> {
        let only = self.reader_scope(p, "the districts' ingest state").await?;
        let stored = db::cursors(&self.pool).await?;
        let mut out = Vec::new();
        for district in self.districts.iter() {
            if only.as_ref().is_some_and(|name| *name != district.name) {
                continue;
            }
            for journal in Journal::ALL {
                let found = stored
                    .iter()
                    .find(|c| c.district == district.name && c.journal == journal.as_str());
                out.push(found.cloned().unwrap_or_else(|| Cursor {
                    district: district.name.clone(),
                    journal: journal.as_str().to_owned(),
                    after_sequence: 0,
                    newest_occur_ms: 0,
                    read_at_ms: 0,
                    caught_up_at_ms: 0,
                    up: false,
                    error: "not read yet".into(),
                }));
            }
        }
        Ok(out)
    }

    /// Who may read the merged feed, and which part: the party-building
    /// cloud and the city's admins all of it, a district's admins their
    /// district's events (`Some(name)`).
    pub async fn watch_scope(&self, p: &Principal) -> Result<Option<String>> {
        if p.role == Role::Cloud {
            return Ok(None);
        }
        self.reader_scope(p, "the city's feed").await
    }

    pub async fn events_after(&self, after: i64, limit: i64, district: Option<&str>) -> Result<Vec<Event>> {
        db::events_after(&self.pool, after, limit, district).await
    }

    pub async fn last_sequence(&self) -> Result<i64> {
        db::last_sequence(&self.pool).await
    }

    /// One page of the city board. The board is a public notice (公示) of
    /// published settlements only, so everyone in the suite may read it.
    pub async fn board(
        &self,
        period: Period,
        district: Option<&str>,
        page: &PageRequest,
    ) -> Result<(Vec<BoardLine>, String)> {
        if let Some(name) = district
            && self.districts.get(name).is_none()
        {
            return Err(CityError::not_found("district", name));
        }
        let after = page
            .after_fields(6)?
            .map(|f| -> Result<BoardAfter> {
                Ok(BoardAfter {
                    rank_stars: PageRequest::after_number(&f, 0)?,
                    rank_points: PageRequest::after_number(&f, 1)?,
                    district: f[2].clone(),
                    community_id: f[3].clone(),
                    subject_kind: f[4].clone(),
                    subject_id: f[5].clone(),
                })
            })
            .transpose()?;
        let lines = db::board_page(&self.pool, period, district, after.as_ref(), page.fetch_limit()).await?;
        Ok(page.finish_by(lines, BoardLine::key))
    }

    /// Relocations between districts, newest first (the city's admins).
    pub async fn list_relocations(
        &self,
        p: &Principal,
        status: Option<RelocationStatus>,
        overdue_on: Option<&str>,
        page: &PageRequest,
    ) -> Result<(Vec<CityRelocation>, String)> {
        let only = self.reader_scope(p, "the relocations between districts").await?;
        let after = page
            .after_fields(3)?
            .map(|f| -> Result<RelocationsAfter> {
                Ok(RelocationsAfter {
                    declared_at: PageRequest::after_number(&f, 0)?,
                    from_district: f[1].clone(),
                    relocation_id: f[2].clone(),
                })
            })
            .transpose()?;
        let rows = db::list_relocations(
            &self.pool,
            status,
            overdue_on,
            only.as_deref(),
            after.as_ref(),
            page.fetch_limit(),
        )
        .await?;
        Ok(page.finish_by(rows, |r| {
            dualreport_platform::paging::compound_key(&[&r.declared_at.to_string(), &r.from_district, &r.relocation_id])
        }))
    }
}
