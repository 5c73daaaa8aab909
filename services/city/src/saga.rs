//! The relocation saga between districts (docs/city.md): each step is one
//! call to one district, idempotent there on the relocation id, and its
//! outcome one conditional update here, so a crash between any two steps
//! loses nothing and repeats nothing harmful — the next round (on any
//! replica holding the `relocations` lease) takes the step again.
//!
//! 1. `declared` (from the district left's journal): read the transfer
//!    there (where to, by when, the member's profile), then admit the member
//!    in the district moved to → `admitted`.
//! 2. The member reports there; ingest sees its `member_report.confirmed`
//!    → `reported` (in the ingest transaction).
//! 3. `reported`: tell the district left → `fulfilled`.
//!
//! A district that does not answer is retried with backoff; one that
//! refuses a step for good (the community is unknown there, the move is not
//! between districts) makes the relocation `failed`, with its reason, listed
//! for the city.

use std::time::Duration;

use dualreport_platform::retry::{Backoff, is_retryable};
use dualreport_platform::server::Stopping;
use dualreport_proto::registry::v1 as rpb;

use crate::app::City;
use crate::domain::{CityRelocation, RelocationStatus, Result, now_millis};
use crate::storage as db;

/// Steps taken per round.
const BATCH: i64 = 50;

pub struct Saga {
    pub city: City,
    pub holder: String,
    pub every: Duration,
    pub lease_ms: i64,
    pub backoff: Backoff,
}

impl Saga {
    pub async fn run(self, stopping: Stopping) {
        let stop = stopping.wait();
        tokio::pin!(stop);
        loop {
            if let Err(error) = self.round().await {
                tracing::warn!(%error, "relocation saga round failed");
            }
            tokio::select! {
                biased;
                () = &mut stop => return,
                () = tokio::time::sleep(self.every) => {}
            }
        }
    }

    /// Takes every due step once; how many were taken.
    pub async fn round(&self) -> Result<usize> {
        let mut conn = self.city.pool.acquire().await?;
        let held =
            dualreport_platform::lease::try_take(&mut conn, "relocations", &self.holder, now_millis(), self.lease_ms)
                .await?;
        drop(conn);
        if !held {
            return Ok(0);
        }
        let due = db::due_relocations(&self.city.pool, now_millis(), BATCH).await?;
        for r in &due {
            let outcome = match r.status {
                RelocationStatus::Declared => self.admit(r).await,
                RelocationStatus::Reported => self.fulfil(r).await,
                _ => Ok(()),
            };
            if let Err(status) = outcome {
                self.failed(r, &status).await?;
            }
        }
        Ok(due.len())
    }

    /// Step 1: the transfer from the district left, the admission in the new one.
    async fn admit(&self, r: &CityRelocation) -> Result<(), tonic::Status> {
        let from = self.city.districts.get(&r.from_district).ok_or_else(|| {
            tonic::Status::failed_precondition(format!("district {} is not configured", r.from_district))
        })?;
        let transfer = from.relocation_transfer(&r.relocation_id).await?;
        let relocation = transfer.relocation.unwrap_or_default();
        let due = relocation
            .due_on
            .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
            .unwrap_or_default();
        let mut known = r.clone();
        known.to_district = relocation.to_district.clone();
        known.to_community_id = relocation.to_community_id.clone();
        known.due_on = due;
        db::set_destination(&self.city.pool, &known, now_millis())
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        let to = self.city.districts.get(&known.to_district).ok_or_else(|| {
            tonic::Status::failed_precondition(format!("district {:?} is not one of this city's", known.to_district))
        })?;
        let mut profile = transfer.profile.unwrap_or_default();
        profile.residence_community_id = known.to_community_id.clone();
        to.admit_relocated_member(rpb::AdmitRelocatedMemberRequest {
            relocation_id: r.relocation_id.clone(),
            from_district: r.from_district.clone(),
            member_id: transfer.member_id,
            profile: Some(profile),
        })
        .await?;
        let moved = db::advance_relocation(
            &self.city.pool,
            &known,
            RelocationStatus::Declared,
            RelocationStatus::Admitted,
            "",
            now_millis(),
        )
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        if moved {
            tracing::info!(relocation = %r.relocation_id, from = %r.from_district, to = %known.to_district, "relocated member admitted");
        }
        Ok(())
    }

    /// Step 3: the district left hears that the member reported.
    async fn fulfil(&self, r: &CityRelocation) -> Result<(), tonic::Status> {
        let from = self.city.districts.get(&r.from_district).ok_or_else(|| {
            tonic::Status::failed_precondition(format!("district {} is not configured", r.from_district))
        })?;
        from.fulfil_relocation(&r.relocation_id).await?;
        db::advance_relocation(
            &self.city.pool,
            r,
            RelocationStatus::Reported,
            RelocationStatus::Fulfilled,
            "",
            now_millis(),
        )
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        Ok(())
    }

    /// A step that failed: retried later when the district may answer yet,
    /// the relocation `failed` when it refused for good.
    async fn failed(&self, r: &CityRelocation, status: &tonic::Status) -> Result<()> {
        let error = format!("{:?}: {}", status.code(), status.message());
        let now = now_millis();
        if is_retryable(status.code()) {
            let next = now + self.backoff.after(r.attempts + 1);
            tracing::debug!(relocation = %r.relocation_id, %error, "relocation step retried later");
            db::retry_relocation_later(&self.city.pool, r, &error, next, now).await
        } else {
            tracing::warn!(relocation = %r.relocation_id, %error, "relocation refused for good");
            db::advance_relocation(&self.city.pool, r, r.status, RelocationStatus::Failed, &error, now).await?;
            Ok(())
        }
    }
}
