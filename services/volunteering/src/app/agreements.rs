//! Co-building agreements (共建协议) between a community and its paired units.

use super::*;

impl Volunteering {
    pub async fn create_agreement(&self, p: &Principal, request_id: &str, agreement: Agreement) -> Result<Agreement> {
        self.require_unit_admin(p, &agreement.unit_org_id).await?;
        self.community("community_id", &agreement.community_id).await?;
        if let Some(id) = idempotency::replayed_by_pooled(&self.pool, p, request_id, "CreateAgreement").await? {
            return self.agreement(&id).await;
        }
        if !self
            .directory
            .unit_registered(&agreement.unit_org_id, &agreement.community_id, agreement.year)
            .await?
        {
            return Err(VolunteeringError::NotPaired(format!(
                "unit org {} has no received report at community {} for {}; report there first",
                agreement.unit_org_id, agreement.community_id, agreement.year
            )));
        }
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "CreateAgreement").await? {
            drop(tx);
            return self.agreement(&id).await;
        }
        match db::insert_agreement(&mut tx, &agreement).await {
            Err(e) if e.is_duplicate() => {
                return Err(VolunteeringError::AlreadyExists(format!(
                    "unit org {} already has an agreement with community {} for {}",
                    agreement.unit_org_id, agreement.community_id, agreement.year
                )));
            }
            other => other?,
        }
        self.directory.audit(&mut tx, p, "CreateAgreement", "agreement", &agreement.id, &agreement.community_id, None, Some(serde_json::json!({"unit_org_id": agreement.unit_org_id, "year": agreement.year, "projects": agreement.projects.len()})))
            .await?;
        idempotency::remember(&mut tx, p, request_id, "CreateAgreement", &agreement.id).await?;
        tx.commit().await?;
        self.agreement(&agreement.id).await
    }

    pub(super) async fn agreement(&self, id: &str) -> Result<Agreement> {
        db::get_agreement(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("agreement", id))
    }

    /// Agreements are public within the community, and to the unit's admins.
    pub(super) async fn require_agreement_reader(&self, p: &Principal, agreement: &Agreement) -> Result<()> {
        if p.role == Role::UnitAdmin && p.org() == Some(agreement.unit_org_id.as_str()) {
            return Ok(());
        }
        if let Scope::Org(_) = &p.scope
            && self
                .directory
                .admin_covers(p, &self.directory.org(&agreement.unit_org_id).await?)
                .await?
        {
            return Ok(());
        }
        self.require_community_reader(p, &agreement.community_id)
            .await
            .map(|_| ())
    }

    pub async fn get_agreement(&self, p: &Principal, id: &str) -> Result<Agreement> {
        let agreement = self.agreement(id).await?;
        self.require_agreement_reader(p, &agreement).await?;
        Ok(agreement)
    }

    pub async fn list_agreements(
        &self,
        p: &Principal,
        community_id: &str,
        unit_org_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<Page<Agreement>> {
        let rows = if unit_org_id.is_empty() {
            self.require_community_reader(p, community_id).await?;
            db::list_agreements(&mut *self.conn().await?, false, community_id, year, page).await?
        } else {
            let unit = self.directory.org(unit_org_id).await?;
            let own = p.role == Role::UnitAdmin && p.org() == Some(unit_org_id);
            if !(own || p.role == Role::Service || self.directory.admin_covers(p, &unit).await?) {
                return Err(VolunteeringError::out_of_scope(format!(
                    "{} may not list the agreements of unit org {unit_org_id}",
                    p.role.as_str()
                )));
            }
            db::list_agreements(&mut *self.conn().await?, true, unit_org_id, year, page).await?
        };
        Ok(page.finish_by(rows, db::agreement_key))
    }

    /// The unit's admin or the community's admin moves a project along.
    pub async fn update_project_status(
        &self,
        p: &Principal,
        agreement_id: &str,
        project_id: &str,
        status: ProjectStatus,
    ) -> Result<Agreement> {
        let agreement = self.agreement(agreement_id).await?;
        if self.require_unit_admin(p, &agreement.unit_org_id).await.is_err() {
            self.require_community_admin(p, &agreement.community_id).await?;
        }
        let mut tx = self.pool.begin().await?;
        if !db::set_project_status(&mut tx, agreement_id, project_id, status).await? {
            return Err(VolunteeringError::not_found("project", project_id));
        }
        let before = agreement
            .projects
            .iter()
            .find(|pr| pr.id == project_id)
            .map(|pr| serde_json::json!({ "project_id": project_id, "status": pr.status.as_str() }));
        let after = serde_json::json!({ "project_id": project_id, "status": status.as_str() });
        self.directory
            .audit(
                &mut tx,
                p,
                "UpdateProjectStatus",
                "agreement",
                agreement_id,
                &agreement.community_id,
                before,
                Some(after),
            )
            .await?;
        tx.commit().await?;
        self.agreement(agreement_id).await
    }
}
