//! Small wishes (微心愿): residents' wishes claimed and fulfilled by members.

use super::*;

impl Volunteering {
    pub async fn post_wish(&self, p: &Principal, request_id: &str, wish: Wish) -> Result<Wish> {
        self.community("community_id", &wish.community_id).await?;
        self.require_community_admin(p, &wish.community_id).await?;
        if let Some(id) = idempotency::replayed_by_pooled(&self.pool, p, request_id, "PostWish").await? {
            return self.wish(&id).await;
        }
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "PostWish").await? {
            drop(tx);
            return self.wish(&id).await;
        }
        db::insert_wish(&mut tx, &wish).await?;
        self.directory
            .audit(
                &mut tx,
                p,
                "PostWish",
                "wish",
                &wish.id,
                &wish.community_id,
                None,
                Some(serde_json::json!({"content": wish.content, "status": "open"})),
            )
            .await?;
        idempotency::remember(&mut tx, p, request_id, "PostWish", &wish.id).await?;
        tx.commit().await?;
        Ok(wish)
    }

    pub(super) async fn wish(&self, id: &str) -> Result<Wish> {
        db::get_wish(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("wish", id))
    }

    pub(super) async fn advance_wish(conn: &mut AnyConnection, wish: &Wish, from: WishStatus) -> Result<()> {
        if db::advance_wish(conn, wish, from).await? {
            return Ok(());
        }
        Err(VolunteeringError::AlreadyTaken(format!(
            "wish {} was claimed or fulfilled meanwhile",
            wish.id
        )))
    }

    /// Records a wish's step from `from` in the audit trail.
    async fn audit_wish(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        method: &str,
        wish: &Wish,
        from: WishStatus,
    ) -> Result<()> {
        let before = serde_json::json!({ "status": from.as_str() });
        let after = serde_json::json!({
            "status": wish.status.as_str(), "member_id": wish.member_id, "unit_org_id": wish.unit_org_id,
        });
        self.directory
            .audit(
                conn,
                p,
                method,
                "wish",
                &wish.id,
                &wish.community_id,
                Some(before),
                Some(after),
            )
            .await?;
        Ok(())
    }

    /// A member for themselves, or a unit admin for the unit collectively.
    pub async fn claim_wish(&self, p: &Principal, wish_id: &str, member_id: &str, unit_org_id: &str) -> Result<Wish> {
        let mut wish = self.wish(wish_id).await?;
        let year = chrono::Datelike::year(&china_today());
        if !member_id.is_empty() {
            Self::require_self(p, member_id)?;
        } else {
            self.require_unit_admin(p, unit_org_id).await?;
        }
        if wish.status != WishStatus::Open {
            if wish.member_id == member_id && wish.unit_org_id == unit_org_id {
                return Ok(wish);
            }
            return Err(VolunteeringError::AlreadyTaken(format!(
                "wish {wish_id} is already {}",
                wish.status.as_str()
            )));
        }
        if !member_id.is_empty() {
            self.require_registered(member_id, &wish.community_id, year).await?;
        } else if !self
            .directory
            .unit_registered(unit_org_id, &wish.community_id, year)
            .await?
        {
            return Err(VolunteeringError::NotPaired(format!(
                "unit org {unit_org_id} has no received report at community {} for {year}",
                wish.community_id
            )));
        }
        wish.status = WishStatus::Claimed;
        wish.member_id = member_id.to_owned();
        wish.unit_org_id = unit_org_id.to_owned();
        wish.updated_at = now_millis();
        let mut tx = self.pool.begin().await?;
        Self::advance_wish(&mut tx, &wish, WishStatus::Open).await?;
        self.audit_wish(&mut tx, p, "ClaimWish", &wish, WishStatus::Open)
            .await?;
        tx.commit().await?;
        Ok(wish)
    }

    /// The claimant fulfils the wish with evidence: a member's fulfilment is
    /// an attendance (kind WISH) to confirm; a unit's is a unit record.
    pub async fn fulfil_wish(
        &self,
        p: &Principal,
        wish_id: &str,
        minutes: i64,
        evidence_ids: Vec<String>,
    ) -> Result<Wish> {
        let mut wish = self.wish(wish_id).await?;
        if wish.member_id.is_empty() && wish.unit_org_id.is_empty() {
            return Err(VolunteeringError::wrong_state(format!(
                "wish {wish_id} has not been claimed"
            )));
        }
        if !wish.member_id.is_empty() {
            Self::require_self(p, &wish.member_id)?;
        } else {
            self.require_unit_admin(p, &wish.unit_org_id).await?;
        }
        if wish.status == WishStatus::Fulfilled {
            return Ok(wish);
        }
        let mut tx = self.pool.begin().await?;
        Self::check_evidence(&mut tx, "evidence_ids", &evidence_ids, &wish.community_id).await?;
        let title = format!("微心愿: {}", wish.content);
        if wish.member_id.is_empty() {
            let record = UnitRecord {
                id: new_id(),
                kind: UnitServiceKind::CommunityActivity,
                unit_org_id: wish.unit_org_id.clone(),
                community_id: wish.community_id.clone(),
                served_on: china_today(),
                content: title.chars().take(500).collect(),
                minutes,
                agreement_id: String::new(),
                evidence_ids: evidence_ids.clone(),
                recorded_by: p.subject.clone(),
                created_at: now_millis(),
            };
            db::insert_unit_record(&mut tx, &record).await?;
            wish.unit_record_id = record.id;
        } else {
            let attendance = Self::individual_service(
                &mut tx,
                p,
                &wish.community_id,
                &wish.member_id,
                ActivityKind::Wish,
                &title,
                "",
                minutes,
                &evidence_ids,
            )
            .await?;
            wish.attendance_id = attendance.id;
        }
        wish.status = WishStatus::Fulfilled;
        wish.evidence_ids = evidence_ids;
        wish.updated_at = now_millis();
        Self::advance_wish(&mut tx, &wish, WishStatus::Claimed).await?;
        self.audit_wish(&mut tx, p, "FulfilWish", &wish, WishStatus::Claimed)
            .await?;
        tx.commit().await?;
        Ok(wish)
    }

    pub async fn list_wishes(
        &self,
        p: &Principal,
        area: &Area,
        status: Option<WishStatus>,
        created: &DateWindow,
        page: &PageRequest,
    ) -> Result<Page<Wish>> {
        let communities = self.communities_of(p, area, "wishes").await?;
        let rows = db::list_wishes(&mut *self.conn().await?, &communities, status, created, page).await?;
        Ok(page.finish(rows, |w| &w.id))
    }
}
