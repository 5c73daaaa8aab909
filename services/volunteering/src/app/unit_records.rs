//! Unit service records (单位服务记录): what a unit back-fills for its members.

use super::*;

impl Volunteering {
    pub async fn record_unit_service(&self, p: &Principal, request_id: &str, record: UnitRecord) -> Result<UnitRecord> {
        self.community("community_id", &record.community_id).await?;
        self.require_community_admin(p, &record.community_id).await?;
        if let Some(id) = idempotency::replayed_by_pooled(&self.pool, p, request_id, "RecordUnitService").await? {
            return db::get_unit_record(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("unit record", &id));
        }
        let year = chrono::Datelike::year(&record.served_on);
        if !self
            .directory
            .unit_registered(&record.unit_org_id, &record.community_id, year)
            .await?
        {
            return Err(VolunteeringError::NotPaired(format!(
                "unit org {} has no received report at community {} for {year}",
                record.unit_org_id, record.community_id
            )));
        }
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "RecordUnitService").await? {
            drop(tx);
            return db::get_unit_record(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("unit record", &id));
        }
        if !record.agreement_id.is_empty() {
            match db::get_agreement(&mut tx, &record.agreement_id).await? {
                Some(a) if a.unit_org_id == record.unit_org_id && a.community_id == record.community_id => {}
                _ => {
                    return Err(VolunteeringError::invalid(
                        "agreement_id",
                        "no agreement between this unit and this community",
                    ));
                }
            }
        }
        Self::check_evidence(&mut tx, "evidence_ids", &record.evidence_ids, &record.community_id).await?;
        db::insert_unit_record(&mut tx, &record).await?;
        self.directory.audit(&mut tx, p, "RecordUnitService", "unit_record", &record.id, &record.community_id, None, Some(serde_json::json!({"unit_org_id": record.unit_org_id, "minutes": record.minutes, "content": record.content})))
            .await?;
        idempotency::remember(&mut tx, p, request_id, "RecordUnitService", &record.id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// A unit's records: its admins, admins above it, and the `service` role.
    pub async fn list_unit_records(
        &self,
        p: &Principal,
        unit_org_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<Page<UnitRecord>> {
        let unit = match self.directory.org(unit_org_id).await {
            Err(DirectoryError::NotFound { .. }) => return Err(VolunteeringError::not_found("unit org", unit_org_id)),
            other => other?,
        };
        if !(p.role == Role::Service || self.directory.admin_covers(p, &unit).await?) {
            return Err(VolunteeringError::out_of_scope(format!(
                "{} may not list the records of unit org {unit_org_id}",
                p.role.as_str()
            )));
        }
        let rows = db::list_unit_records(&mut *self.conn().await?, unit_org_id, year, page).await?;
        Ok(page.finish(rows, |r| &r.id))
    }
}
