//! Report statistics (报到统计): reported and not reported, by unit and by community.

use super::*;

impl Registry {
    pub async fn record_non_report_reason(
        &self,
        p: &Principal,
        member_id: &str,
        year: i32,
        reason: &str,
    ) -> Result<()> {
        if !valid_year(year) {
            return Err(RegistryError::invalid("year", "must be between 2000 and 2100"));
        }
        let mut tx = self.pool.begin().await?;
        let member = db::require_member(&mut tx, member_id).await?;
        let unit = self.require_org(&mut tx, &member.unit_org_id).await?;
        self.require_admin_over(&mut tx, p, &unit.path, &format!("member {member_id}'s unit"))
            .await?;
        db::upsert_non_report_reason(&mut tx, member_id, year, reason, &p.subject, now_millis()).await?;
        let after = serde_json::json!({ "year": year, "reason": reason });
        self.audit(
            &mut tx,
            p,
            "RecordNonReportReason",
            "member",
            member_id,
            &unit.id,
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn statistics(
        &self,
        p: &Principal,
        org_id: &str,
        year: i32,
    ) -> Result<(Vec<UnitStats>, Vec<CommunityStats>)> {
        if !valid_year(year) {
            return Err(RegistryError::invalid("year", "must be between 2000 and 2100"));
        }
        let mut conn = self.pool.acquire().await?;
        let org = self.scoped_org(&mut conn, p, org_id).await?;
        let mut counts: HashMap<String, (i64, i64)> = db::unit_member_counts_under(&mut conn, &org.path, year)
            .await?
            .into_iter()
            .map(|(unit, registered, reported)| (unit, (registered, reported)))
            .collect();
        let reported_units: HashSet<String> = db::units_reported_under(&mut conn, &org.path, year)
            .await?
            .into_iter()
            .collect();
        let (units, communities): (Vec<Org>, Vec<Org>) = db::orgs_under(&mut conn, &org.path)
            .await?
            .into_iter()
            .filter(|o| o.org_type.is_unit() || o.org_type == OrgType::Community)
            .partition(|o| o.org_type.is_unit());
        let units = units
            .into_iter()
            .map(|unit| {
                let (registered, reported) = counts.remove(&unit.id).unwrap_or_default();
                UnitStats {
                    registered,
                    reported,
                    unit_reported: reported_units.contains(&unit.id),
                    unit,
                }
            })
            .collect();
        let mut counts: HashMap<String, (i64, i64)> = db::community_counts_under(&mut conn, &org.path, year)
            .await?
            .into_iter()
            .map(|(id, units, members)| (id, (units, members)))
            .collect();
        let communities = communities
            .into_iter()
            .map(|community| {
                let (units_reported, members_reported) = counts.remove(&community.id).unwrap_or_default();
                CommunityStats {
                    community,
                    units_reported,
                    members_reported,
                }
            })
            .collect();
        Ok((units, communities))
    }

    /// One page of the members inside `org_id` who have not reported in `year`.
    pub async fn not_reported(
        &self,
        p: &Principal,
        org_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<(Vec<db::UnitMemberStatus>, String)> {
        if !valid_year(year) {
            return Err(RegistryError::invalid("year", "must be between 2000 and 2100"));
        }
        let mut conn = self.pool.acquire().await?;
        let org = self.scoped_org(&mut conn, p, org_id).await?;
        let rows = db::not_reported_under(&mut conn, &org.path, year, page).await?;
        Ok(page.finish(rows, |m| &m.member_id))
    }
}
