//! Unit ratings (S1 附件3): communities rate the units paired with them.

use super::*;

impl Feedback {
    pub async fn rate_unit(
        &self,
        p: &Principal,
        community_id: &str,
        unit_org_id: &str,
        year: i32,
        grade: Grade,
        comment: String,
    ) -> Result<UnitRating> {
        let community = self
            .org_of_kind("community_id", community_id, OrgKind::Community)
            .await?;
        let unit = self.org_of_kind("unit_org_id", unit_org_id, OrgKind::Unit).await?;
        self.require_community_admin(p, &community).await?;
        self.require_paired(&unit, &community, year).await?;
        let rating = UnitRating {
            community_id: community.id.clone(),
            community_path: community.path(),
            unit_org_id: unit.id.clone(),
            unit_path: unit.path(),
            year,
            grade,
            comment,
            rated_by: actor(p),
            updated_at: now_millis(),
        };
        let mut tx = self.pool.begin().await?;
        db::upsert_rating(&mut tx, &rating).await?;
        let id = format!("{}/{}/{year}", rating.community_id, rating.unit_org_id);
        let after = serde_json::json!({
            "unit_org_id": rating.unit_org_id, "year": year,
            "grade": rating.grade.as_str(), "comment": rating.comment,
        });
        self.audit(
            &mut tx,
            p,
            "RateUnit",
            "rating",
            &id,
            (&rating.community_id, &rating.community_path),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        Ok(rating)
    }

    pub async fn list_ratings(
        &self,
        p: &Principal,
        org_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<Page<UnitRating>> {
        let root = self.list_root(p, org_id).await?;
        let mut conn = self.conn().await?;
        let rows = db::list_ratings(&mut conn, &root.path(), year, page).await?;
        // Ratings have a composite key; page on it.
        let keyed: Vec<(String, UnitRating)> = rows.into_iter().map(|r| (db::rating_key(&r), r)).collect();
        let (keyed, next) = page.finish(keyed, |(key, _)| key);
        Ok((keyed.into_iter().map(|(_, r)| r).collect(), next))
    }
}
