//! Spot checks (S2 保障(三)): sampled services re-checked by the district.

use super::*;

impl Feedback {
    pub async fn draw_spot_check(
        &self,
        p: &Principal,
        request_id: &str,
        unit_org_id: &str,
        year: i32,
        percent: u32,
        seed: String,
    ) -> Result<SpotCheck> {
        if let Some(id) = idempotency::replayed_by_pooled(&self.pool, p, request_id, "DrawSpotCheck").await? {
            return self.spot_check_by_id(&id).await;
        }
        let unit = self.org_of_kind("unit_org_id", unit_org_id, OrgKind::Unit).await?;
        self.require_admin_over(p, &unit).await?;
        let minimum = self.rules.policy.spot_check_percent;
        let percent = if percent == 0 { minimum } else { percent };
        if percent < minimum || percent > 100 {
            return Err(FeedbackError::invalid(
                "sample_percent",
                format!("must be between the policy's {minimum}% and 100%"),
            ));
        }
        let seed = if seed.is_empty() {
            format!("{unit_org_id}:{year}")
        } else {
            seed
        };
        let mut population: BTreeMap<String, String> = BTreeMap::new();
        for r in self.sources.member_reports(unit_org_id, year).await? {
            if r.counts {
                population.insert(r.member_id, r.community_id);
            }
        }
        let members: Vec<String> = population.keys().cloned().collect();
        let sample = draw(&seed, &members, sample_size(members.len(), percent));
        let check = SpotCheck {
            id: new_id(),
            unit_org_id: unit.id.clone(),
            unit_path: unit.path(),
            year,
            sample_percent: i64::from(percent),
            seed,
            population: members.len() as i64,
            drawn_by: actor(p),
            drawn_at: now_millis(),
            items: sample
                .into_iter()
                .map(|m| SpotItem {
                    member_id: m.clone(),
                    community_id: population.get(m).cloned().unwrap_or_default(),
                    method: Method::Pending,
                    findings: String::new(),
                    checked_by: String::new(),
                    checked_at: None,
                })
                .collect(),
        };
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "DrawSpotCheck").await? {
            drop(tx);
            return self.spot_check_by_id(&id).await;
        }
        db::insert_spot_check(&mut tx, &check).await?;
        let after = serde_json::json!({
            "year": check.year, "sample_percent": check.sample_percent, "seed": check.seed,
            "population": check.population, "sampled": check.items.len(),
        });
        self.audit(
            &mut tx,
            p,
            "DrawSpotCheck",
            "spot_check",
            &check.id,
            (&check.unit_org_id, &check.unit_path),
            None,
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "DrawSpotCheck", &check.id).await?;
        tx.commit().await?;
        Ok(check)
    }

    pub(super) async fn spot_check_by_id(&self, id: &str) -> Result<SpotCheck> {
        let mut conn = self.conn().await?;
        db::spot_check(&mut conn, id)
            .await?
            .ok_or_else(|| FeedbackError::not_found("spot check", id))
    }

    pub async fn get_spot_check(&self, p: &Principal, id: &str) -> Result<SpotCheck> {
        let check = self.spot_check_by_id(id).await?;
        let unit = self.directory.org(&check.unit_org_id).await?;
        self.require_admin_over(p, &unit).await?;
        Ok(check)
    }

    pub async fn record_outcome(
        &self,
        p: &Principal,
        id: &str,
        member_id: &str,
        method: Method,
        findings: String,
    ) -> Result<SpotCheck> {
        let check = self.get_spot_check(p, id).await?;
        let mut tx = self.pool.begin().await?;
        if !db::record_outcome(
            &mut tx,
            &check.id,
            member_id,
            method,
            &findings,
            &actor(p),
            now_millis(),
        )
        .await?
        {
            return Err(FeedbackError::invalid(
                "member_id",
                format!("member {member_id} is not in spot check {id}'s sample"),
            ));
        }
        let after = serde_json::json!({ "member_id": member_id, "method": method.as_str(), "findings": findings });
        self.audit(
            &mut tx,
            p,
            "RecordSpotCheckOutcome",
            "spot_check",
            id,
            (&check.unit_org_id, &check.unit_path),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        self.spot_check_by_id(id).await
    }
}
