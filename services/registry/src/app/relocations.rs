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
        reason: String,
    ) -> Result<Relocation> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "DeclareRelocation").await? {
            return db::require_relocation(&mut tx, &id).await;
        }
        let member = db::require_member(&mut tx, member_id).await?;
        self.require_member_access(&mut tx, p, &member, false).await?;
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
        let relocation = Relocation {
            id: new_id(),
            member_id: member.id,
            from_community_id: current.community_id,
            to_community_id: to.id,
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
}
