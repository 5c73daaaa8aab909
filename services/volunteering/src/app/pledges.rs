//! Pledges (承诺): a reported member promises services for the year.

use super::*;

/// A pledge as the audit trail shows it.
fn pledge_fields(p: &Pledge) -> serde_json::Value {
    serde_json::json!({ "community_id": p.community_id, "year": p.year, "items": p.items })
}

impl Volunteering {
    pub async fn set_pledge(&self, p: &Principal, pledge: Pledge) -> Result<(Pledge, Progress)> {
        Self::require_self(p, &pledge.member_id)?;
        self.community("community_id", &pledge.community_id).await?;
        if pledge.items.len() < self.rules.min_pledge_items {
            return Err(VolunteeringError::invalid(
                "items",
                format!(
                    "must name at least {} service items (policy)",
                    self.rules.min_pledge_items
                ),
            ));
        }
        self.require_registered(&pledge.member_id, &pledge.community_id, pledge.year)
            .await?;
        let mut tx = self.pool.begin().await?;
        let before = db::get_pledge(&mut tx, &pledge.member_id, pledge.year)
            .await?
            .map(|old| pledge_fields(&old));
        db::upsert_pledge(&mut tx, &pledge).await?;
        let id = format!("{}/{}", pledge.member_id, pledge.year);
        let after = pledge_fields(&pledge);
        self.directory
            .audit(
                &mut tx,
                p,
                "SetPledge",
                "pledge",
                &id,
                &pledge.community_id,
                before,
                Some(after),
            )
            .await?;
        tx.commit().await?;
        let progress = db::member_progress(
            &mut *self.conn().await?,
            &pledge.member_id,
            &pledge.community_id,
            pledge.year,
        )
        .await?;
        Ok((pledge, progress))
    }

    pub async fn get_pledge(&self, p: &Principal, member_id: &str, year: i32) -> Result<(Pledge, Progress)> {
        let mut conn = self.conn().await?;
        let pledge = db::get_pledge(&mut conn, member_id, year)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("pledge", &format!("{member_id}/{year}")))?;
        drop(conn);
        // Public within the community: its readers may see it, as may the member's admins.
        if self.require_member_reader(p, member_id).await.is_err() {
            self.require_community_reader(p, &pledge.community_id).await?;
        }
        let progress = db::member_progress(&mut *self.conn().await?, member_id, &pledge.community_id, year).await?;
        Ok((pledge, progress))
    }

    pub async fn list_pledges(
        &self,
        p: &Principal,
        community_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<Page<(Pledge, Progress)>> {
        self.require_community_reader(p, community_id).await?;
        let mut conn = self.conn().await?;
        let pledges = db::list_pledges(&mut conn, community_id, year, page).await?;
        let (pledges, next) = page.finish(pledges, |p| &p.member_id);
        let mut rows = Vec::with_capacity(pledges.len());
        for pledge in pledges {
            let progress = db::member_progress(&mut conn, &pledge.member_id, community_id, year).await?;
            rows.push((pledge, progress));
        }
        Ok((rows, next))
    }
}
