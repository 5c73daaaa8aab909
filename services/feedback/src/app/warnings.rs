//! Compliance warnings (预警): laggards found at year end, per unit and member.

use super::*;

impl Feedback {
    pub async fn evaluate_warnings(
        &self,
        p: &Principal,
        unit_org_id: &str,
        year: i32,
        as_of: Date,
    ) -> Result<Evaluation> {
        let unit = self.org_of_kind("unit_org_id", unit_org_id, OrgKind::Unit).await?;
        self.require_admin_over(p, &unit).await?;
        self.evaluate(&unit, year, as_of, Some(p)).await
    }

    /// Gathers the facts, applies the rules, stores new warnings with their
    /// feed events in one transaction. Any source that does not answer stops
    /// it (UNAVAILABLE): a warning is never raised from half the facts.
    /// `by`: the caller of `EvaluateWarnings`, recorded in the audit trail
    /// (the scheduled rounds are the service's own and are not).
    pub async fn evaluate(&self, unit: &OrgInfo, year: i32, as_of: Date, by: Option<&Principal>) -> Result<Evaluation> {
        let members = self.sources.unit_members(&unit.id).await?;
        let reports = self.sources.member_reports(&unit.id, year).await?;
        let relocations = self.sources.overdue_relocations(&unit.id, as_of).await?;
        let year_over = crate::domain::warnings::year_over(year, as_of);
        let mut reported: HashMap<&str, &str> = HashMap::new();
        for r in &reports {
            if r.counts {
                reported.insert(&r.member_id, &r.community_id);
            }
        }
        // Services counted from scoring's ledger, whichever path recorded them
        // (paid attendance or paper records), in one batched read.
        let mut services: HashMap<String, i64> = HashMap::new();
        if year_over {
            let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
            for t in self
                .sources
                .within("scoring", self.sources.member_totals(&ids, year))
                .await?
            {
                services.insert(t.member_id, t.services);
            }
        }
        let sources = self.sources.clone();
        let records: Vec<Result<Option<YearRecord>>> = stream::iter(
            members
                .iter()
                .map(|m| (m.id.clone(), services.get(&m.id).copied().unwrap_or(0)))
                .collect::<Vec<_>>(),
        )
        .map(move |(member_id, services)| {
            let sources = sources.clone();
            async move { year_record(&sources, &member_id, year, year_over, services).await }
        })
        .buffered(FAN_OUT)
        .collect()
        .await;
        let mut facts = Vec::with_capacity(members.len());
        for (m, record) in members.iter().zip(records) {
            let community = reported
                .get(m.id.as_str())
                .map_or_else(|| m.residence_community_id.clone(), |c| (*c).to_owned());
            facts.push(MemberFacts {
                id: m.id.clone(),
                name: m.name.clone(),
                community_id: community,
                reported: reported.contains_key(m.id.as_str()),
                overdue_relocations: relocations
                    .iter()
                    .filter(|r| r.member_id == m.id)
                    .map(|r| OverdueRelocation {
                        to_community_id: r.to_community_id.clone(),
                        due_on: r.due_on.unwrap_or(as_of),
                    })
                    .collect(),
                year_record: record?,
            });
        }
        // The unit's records by kind: community activities per month, joint
        // meetings per quarter, joint theme party days per half-year (S2 三).
        let mut per_month = [0i64; 12];
        let mut per_quarter = [0i64; 4];
        let mut per_half = [0i64; 2];
        for r in self.sources.unit_records(&unit.id, year).await? {
            let Some(d) = r.served_on else {
                continue;
            };
            let month0 = chrono::Datelike::month0(&d) as usize;
            match r.kind {
                UnitServiceKind::CommunityActivity => per_month[month0] += 1,
                UnitServiceKind::JointMeeting => per_quarter[month0 / 3] += 1,
                UnitServiceKind::ThemePartyDay => per_half[month0 / 6] += 1,
            }
        }
        let completed_projects = if year_over {
            Some(self.sources.completed_projects(&unit.id, year).await?)
        } else {
            None
        };
        let unit_facts = UnitFacts {
            id: unit.id.clone(),
            name: unit.name.clone(),
            records_per_month: per_month,
            meetings_per_quarter: per_quarter,
            theme_days_per_half: per_half,
            completed_projects,
        };
        let findings = crate::domain::warnings::evaluate(&self.rules.policy, year, as_of, &unit_facts, &facts);
        // Paths for subtree reads, asked before the transaction.
        let mut community_paths: HashMap<String, (String, String)> = HashMap::new();
        for f in &findings {
            if !f.community_id.is_empty() && !community_paths.contains_key(&f.community_id) {
                let org = self.directory.org(&f.community_id).await?;
                community_paths.insert(f.community_id.clone(), (org.path(), district_of(&org)));
            }
        }
        let now = now_millis();
        let mut outcome = Evaluation::default();
        let mut tx = self.pool.begin().await?;
        let mut found = HashSet::new();
        for f in &findings {
            found.insert((f.rule, f.subject_id.as_str()));
            let (community_path, district) = community_paths
                .get(&f.community_id)
                .cloned()
                .unwrap_or_else(|| (String::new(), district_of(unit)));
            if let Stored::Raised(id) =
                db::upsert_warning(&mut tx, &new_id(), f, year, &community_path, &unit.path(), now).await?
            {
                outcome.raised += 1;
                let text = format!("{}: {}", f.rule.as_str(), f.evidence);
                db::append_event(
                    &mut tx,
                    &warning_event("warning.raised", id, f, year, district, text, now),
                    None,
                )
                .await?;
            }
        }
        // A warning of a rule judged now, about a subject judged now, that was
        // not found again no longer holds: withdraw it (kept, with when and why).
        let judged = crate::domain::warnings::judged_rules(&self.rules.policy, year, as_of);
        let subjects: HashSet<&str> = facts.iter().map(|m| m.id.as_str()).chain([unit.id.as_str()]).collect();
        let reason = crate::domain::warnings::withdrawal_reason(as_of);
        for w in db::unit_warnings(&mut tx, &unit.id, year).await? {
            let f = &w.finding;
            let stale = w.in_force()
                && judged.contains(&f.rule)
                && subjects.contains(f.subject_id.as_str())
                && !found.contains(&(f.rule, f.subject_id.as_str()));
            if stale && db::withdraw_warning(&mut tx, &w.id, &reason, now).await? {
                outcome.withdrawn += 1;
                let district = community_paths
                    .get(&f.community_id)
                    .map(|(_, d)| d.clone())
                    .unwrap_or_else(|| district_of(unit));
                let text = format!("{}: {reason}", f.rule.as_str());
                db::append_event(
                    &mut tx,
                    &warning_event("warning.withdrawn", w.id.clone(), f, year, district, text, now),
                    None,
                )
                .await?;
            }
        }
        let standing = db::unit_warnings(&mut tx, &unit.id, year).await?;
        if let Some(p) = by {
            let after = serde_json::json!({
                "year": year, "as_of": as_of.to_string(),
                "raised": outcome.raised, "withdrawn": outcome.withdrawn,
            });
            self.audit(
                &mut tx,
                p,
                "EvaluateWarnings",
                "warnings",
                &format!("{}/{year}", unit.id),
                (&unit.id, &unit.path()),
                None,
                Some(after),
            )
            .await?;
        }
        tx.commit().await?;
        if outcome.raised + outcome.withdrawn > 0 {
            self.appended.notify_waiters();
            tracing::info!(unit = %unit.id, year, raised = outcome.raised, withdrawn = outcome.withdrawn, "warnings evaluated");
        }
        outcome.warnings = standing;
        Ok(outcome)
    }

    pub async fn list_warnings(
        &self,
        p: &Principal,
        org_id: &str,
        member_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<Page<StoredWarning>> {
        let path = if !member_id.is_empty() {
            self.require_member_reader(p, member_id).await?;
            String::new()
        } else {
            self.list_root(p, org_id).await?.path()
        };
        let mut conn = self.conn().await?;
        let rows = db::list_warnings(&mut conn, member_id, &path, year, page).await?;
        Ok(page.finish(rows, |w| &w.id))
    }

    /// Not eligible for 优秀 while a warning that bars it is in force for the
    /// year (withdrawn ones are listed, but bar nothing).
    pub async fn eligibility(&self, p: &Principal, member_id: &str, year: i32) -> Result<(bool, Vec<StoredWarning>)> {
        self.require_member_reader(p, member_id).await?;
        let mut conn = self.conn().await?;
        let page = PageRequest {
            size: dualreport_platform::paging::MAX_PAGE_SIZE,
            after: String::new(),
        };
        let warnings = db::list_warnings(&mut conn, member_id, "", year, &page).await?;
        let eligible = !warnings.iter().any(|w| w.in_force() && w.finding.blocks_excellent);
        Ok((eligible, warnings))
    }
}
