//! Relocations (迁移): a member who moves reports to the new community within the policy window.

use super::*;

impl Registry {
    /// Ends the member's current registration and opens a relocation due
    /// within the policy period at the new community.
    pub async fn declare_relocation(
        &self,
        p: &Principal,
        request_id: &str,
        member_id: &str,
        to_community_id: &str,
        to_district: &str,
        reason: String,
    ) -> Result<Relocation> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "DeclareRelocation").await? {
            return db::require_relocation(&mut tx, &id).await;
        }
        let member = db::require_member(&mut tx, member_id).await?;
        self.require_member_access(&mut tx, p, &member, false).await?;
        if !to_district.is_empty() {
            return self
                .declare_relocation_elsewhere(tx, p, request_id, member, to_community_id, to_district, reason)
                .await;
        }
        let to = self.community(&mut tx, to_community_id, "to_community_id").await?;
        let today = china_today();
        let year = chrono::Datelike::year(&today);
        let current = db::active_member_report(&mut tx, &member.id, year)
            .await?
            .ok_or_else(|| {
                RegistryError::wrong_state(format!(
                    "member {member_id} has no active registration in {year} to move from"
                ))
            })?;
        if current.community_id == to.id {
            return Err(RegistryError::SameCommunity(to.id));
        }
        let now = now_millis();
        if !db::end_member_report(&mut tx, &current.id, now, today).await? {
            return Err(RegistryError::wrong_state(format!(
                "member {member_id}'s registration has already ended"
            )));
        }
        let mut moved = member.clone();
        moved.residence_community_id = to.id.clone();
        moved.updated_at = etag::next_update_time(member.updated_at, now);
        if !db::update_member(&mut tx, &moved, member.updated_at).await? {
            return Err(etag::changed_meanwhile("member", member_id).into());
        }
        let facts = self
            .member_facts(
                &mut tx,
                "member.updated",
                &[(&moved.id, &moved.unit_org_id, &moved.residence_community_id)],
            )
            .await?;
        journal::append_all(&mut tx, &facts).await?;
        let relocation = Relocation {
            id: new_id(),
            member_id: member.id,
            from_community_id: current.community_id,
            to_community_id: to.id,
            to_district: String::new(),
            reason,
            declared_at: now,
            due_on: relocation_due(today, self.policy.relocation_days),
            status: RelocationStatus::Pending,
            fulfilled_by_report_id: None,
        };
        db::insert_relocation(&mut tx, &relocation).await?;
        let before = serde_json::json!({ "residence_community_id": relocation.from_community_id });
        let after = serde_json::json!({
            "residence_community_id": relocation.to_community_id,
            "due_on": relocation.due_on.to_string(),
        });
        self.audit(
            &mut tx,
            p,
            "DeclareRelocation",
            "relocation",
            &relocation.id,
            &moved.unit_org_id,
            Some(before),
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "DeclareRelocation", &relocation.id).await?;
        tx.commit().await?;
        Ok(relocation)
    }

    /// Relocations in the org's subtree; `overdue_only` keeps those still
    /// pending after their due date as of `as_of`.
    pub async fn list_relocations(
        &self,
        p: &Principal,
        org_id: &str,
        filter: &RelocationFilter,
        page: &PageRequest,
    ) -> Result<(Vec<Relocation>, String)> {
        let mut conn = self.pool.acquire().await?;
        let org = self.scoped_org(&mut conn, p, org_id).await?;
        let rows = db::list_relocations(&mut conn, &org.path, filter, page).await?;
        Ok(page.finish(rows, |r| &r.id))
    }

    /// A move to a community of another district. The registration here ends
    /// at the move (so services dated after it are refused here, as within
    /// a district); the member's record stays as it was; the city tier,
    /// told by the journal's `relocation.declared`, admits the member in the
    /// other district. Only members of municipal units (the city's, known in
    /// every district) can move between districts.
    #[allow(clippy::too_many_arguments)]
    async fn declare_relocation_elsewhere(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        p: &Principal,
        request_id: &str,
        member: db::MemberRow,
        to_community_id: &str,
        to_district: &str,
        reason: String,
    ) -> Result<Relocation> {
        if !self.require_org(&mut tx, &member.unit_org_id).await?.city_owned {
            return Err(RegistryError::wrong_state(format!(
                "member {}'s unit {} is this district's own: only members of municipal units (the city's) can move to another district",
                member.id, member.unit_org_id
            )));
        }
        let today = china_today();
        let year = chrono::Datelike::year(&today);
        let current = db::active_member_report(&mut tx, &member.id, year)
            .await?
            .ok_or_else(|| {
                RegistryError::wrong_state(format!(
                    "member {} has no active registration in {year} to move from",
                    member.id
                ))
            })?;
        let now = now_millis();
        if !db::end_member_report(&mut tx, &current.id, now, today).await? {
            return Err(RegistryError::wrong_state(format!(
                "member {}'s registration has already ended",
                member.id
            )));
        }
        let relocation = Relocation {
            id: new_id(),
            member_id: member.id.clone(),
            from_community_id: current.community_id.clone(),
            to_community_id: to_community_id.to_owned(),
            to_district: to_district.to_owned(),
            reason,
            declared_at: now,
            due_on: relocation_due(today, self.policy.relocation_days),
            status: RelocationStatus::Pending,
            fulfilled_by_report_id: None,
        };
        db::insert_relocation(&mut tx, &relocation).await?;
        let from = self.require_org(&mut tx, &current.community_id).await?;
        journal::append(
            &mut tx,
            &journal::Fact {
                kind: "relocation.declared",
                occur_millis: now,
                subject_id: relocation.id.clone(),
                district_id: from.district_id.clone().unwrap_or_default(),
                community_id: relocation.from_community_id.clone(),
                unit_org_id: member.unit_org_id.clone(),
                member_id: member.id.clone(),
                text: format!("迁往{}（到 {} 前报到）", to_district, relocation.due_on),
                evidence_ids: Vec::new(),
                year: 0,
            },
        )
        .await?;
        let after = serde_json::json!({
            "to_district": relocation.to_district,
            "to_community_id": relocation.to_community_id,
            "due_on": relocation.due_on.to_string(),
        });
        self.audit(
            &mut tx,
            p,
            "DeclareRelocation",
            "relocation",
            &relocation.id,
            &member.unit_org_id,
            None,
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "DeclareRelocation", &relocation.id).await?;
        tx.commit().await?;
        Ok(relocation)
    }

    /// A relocation to another district with the member's whole profile, for
    /// the city tier (`service`): a read of personal information, logged.
    pub async fn relocation_transfer(&self, p: &Principal, id: &str) -> Result<(Relocation, MemberView)> {
        let mut tx = self.pool.begin().await?;
        let relocation = db::require_relocation(&mut tx, id).await?;
        if relocation.to_district.is_empty() {
            return Err(RegistryError::wrong_state(format!(
                "relocation {id} is within this district: there is nothing to transfer"
            )));
        }
        let row = db::require_member(&mut tx, &relocation.member_id).await?;
        let paths = self.member_paths(&mut tx, &row).await?;
        self.log_personal_reads(&mut tx, p, &row.id, &paths).await?;
        let view = self.open_row(&row, true)?;
        tx.commit().await?;
        Ok((relocation, view))
    }

    /// Admits a member moving in from another district (the city tier,
    /// `service`): created here with the same id, living in the new
    /// community; a retry (the member exists) returns it.
    pub async fn admit_relocated_member(
        &self,
        p: &Principal,
        relocation_id: &str,
        member_id: &str,
        profile: Profile,
    ) -> Result<MemberView> {
        let mut tx = self.pool.begin().await?;
        if let Some(row) = db::member(&mut tx, member_id).await? {
            return self.open_row(&row, false);
        }
        self.check_profile_refs(&mut tx, &profile, "profile").await?;
        let row = self.seal_row(member_id, &profile, now_millis())?;
        db::insert_member(&mut tx, &row).await?;
        let facts = self
            .member_facts(
                &mut tx,
                "member.created",
                &[(&row.id, &row.unit_org_id, &row.residence_community_id)],
            )
            .await?;
        journal::append_all(&mut tx, &facts).await?;
        let mut after = member_fields(&profile);
        after["relocation_id"] = serde_json::json!(relocation_id);
        self.audit(
            &mut tx,
            p,
            "AdmitRelocatedMember",
            "member",
            &row.id,
            &profile.unit_org_id,
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        self.open_row(&row, false)
    }

    /// The member reported in the district moved to (the city tier says so):
    /// the relocation is fulfilled; a retry finds it so already.
    pub async fn fulfil_relocation(&self, p: &Principal, id: &str) -> Result<Relocation> {
        let mut tx = self.pool.begin().await?;
        let relocation = db::require_relocation(&mut tx, id).await?;
        if relocation.to_district.is_empty() {
            return Err(RegistryError::wrong_state(format!(
                "relocation {id} is within this district: it is fulfilled by the report here"
            )));
        }
        if db::fulfil_relocation_elsewhere(&mut tx, id).await? {
            let member = db::require_member(&mut tx, &relocation.member_id).await?;
            self.audit(
                &mut tx,
                p,
                "FulfilRelocation",
                "relocation",
                id,
                &member.unit_org_id,
                Some(serde_json::json!({ "status": "PENDING" })),
                Some(serde_json::json!({ "status": "FULFILLED" })),
            )
            .await?;
        }
        let relocation = db::require_relocation(&mut tx, id).await?;
        tx.commit().await?;
        Ok(relocation)
    }
}
