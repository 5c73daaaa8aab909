//! The ledger (积分台账): services, special and project awards, corrections, totals and balances.

use super::*;

impl Scoring {
    /// The entry a source key already paid, if it pays the same subject and kind.
    pub(super) async fn delivered(
        conn: &mut AnyConnection,
        source_key: &str,
        subject: &Subject,
        kind: EntryKind,
    ) -> Result<Option<Entry>> {
        match db::entry_by_source(conn, source_key).await? {
            Some(entry) if entry.subject == *subject && entry.kind == kind => Ok(Some(entry)),
            Some(_) => Err(ScoringError::SourceKeyReused(source_key.to_owned())),
            None => Ok(None),
        }
    }

    /// Appends an earning entry, its net-points tracker and its account credit.
    /// A concurrent delivery of the same source key loses on the unique key and
    /// answers with the winner's entry.
    pub(super) async fn append_earning(
        &self,
        p: &Principal,
        entry: Entry,
        subject_name: &str,
        bounds: (i64, i64),
    ) -> Result<Entry> {
        let mut tx = self.pool.begin().await?;
        if let Some(existing) = Self::delivered(&mut tx, &entry.source_key, &entry.subject, entry.kind).await? {
            return Ok(existing);
        }
        if entry.kind == EntryKind::Project
            && db::add_project_points(
                &mut tx,
                &entry.subject.id,
                &entry.project_id,
                entry.points,
                self.rules.project_points_cap,
            )
            .await?
            .is_none()
        {
            let so_far = db::project_points(&mut tx, &entry.subject.id, &entry.project_id).await?;
            return Err(ScoringError::CapExceeded(format!(
                "project {} has {so_far} points; {} more would pass the cap of {}",
                entry.project_id, entry.points, self.rules.project_points_cap
            )));
        }
        match db::insert_entry(&mut tx, &entry).await {
            Err(e) if e.is_duplicate() => {
                drop(tx);
                let mut conn = self.pool.acquire().await?;
                return Self::delivered(&mut conn, &entry.source_key, &entry.subject, entry.kind)
                    .await?
                    .ok_or(e);
            }
            other => other?,
        }
        db::insert_entry_total(&mut tx, &entry.id, entry.points, bounds).await?;
        db::credit_earned(&mut tx, &entry.subject, &entry.community_id, subject_name, entry.points).await?;
        let method = match entry.kind {
            EntryKind::Special => "RecordSpecial",
            EntryKind::Project => "RecordProjectScore",
            _ => "RecordService",
        };
        self.directory
            .audit(
                &mut tx,
                p,
                method,
                "entry",
                &entry.id,
                &entry.community_id,
                None,
                Some(entry_fields(&entry)),
            )
            .await?;
        tx.commit().await?;
        tracing::info!(entry = %entry.id, kind = entry.kind.as_str(), points = entry.points, "recorded");
        Ok(entry)
    }

    /// Checks the member exists and was registered at the community on the
    /// day (a member who moved belongs to the new community from the move on).
    pub(super) async fn registered_member(&self, member_id: &str, community_id: &str, on: Date) -> Result<MemberInfo> {
        let member = self.directory.member(member_id).await?;
        if !self.directory.member_registered_on(member_id, community_id, on).await? {
            return Err(ScoringError::NotRegistered(format!(
                "member {member_id} was not registered at community {community_id} on {on}"
            )));
        }
        Ok(member)
    }

    pub(super) fn entry(
        &self,
        p: &Principal,
        subject: Subject,
        community_id: &str,
        kind: EntryKind,
        on: Date,
    ) -> Entry {
        Entry {
            id: new_id(),
            subject,
            community_id: community_id.to_owned(),
            kind,
            points: 0,
            occurred_on: on,
            period: Period::of(on),
            content: String::new(),
            source_key: String::new(),
            recorded_by: p.subject.clone(),
            recorded_at: now_millis(),
            base_points: 0,
            adjustment: 0,
            special_category: None,
            project_id: String::new(),
            project_scorer: None,
            corrects_entry_id: None,
            redemption_id: String::new(),
        }
    }

    pub async fn record_service(&self, p: &Principal, award: ServiceAward) -> Result<Entry> {
        self.require_community_writer(p, &award.community_id, true).await?;
        let points = self.rules.service_points(award.adjustment)?;
        let served_on = service_date("served_on", award.served_on, self.today())?;
        let subject = Subject::member(&award.member_id);
        // A redelivery answers from the ledger without asking the registry again.
        if let Some(existing) = self.existing(&award.source_key, &subject, EntryKind::Service).await? {
            return Ok(existing);
        }
        self.community("community_id", &award.community_id).await?;
        let member = self
            .registered_member(&award.member_id, &award.community_id, served_on)
            .await?;
        let entry = Entry {
            points,
            content: award.content,
            source_key: award.source_key,
            base_points: self.rules.base_points,
            adjustment: award.adjustment,
            ..self.entry(p, subject, &award.community_id, EntryKind::Service, served_on)
        };
        self.append_earning(p, entry, &member.name, self.rules.net_bounds(EntryKind::Service))
            .await
    }

    pub(super) async fn existing(&self, source_key: &str, subject: &Subject, kind: EntryKind) -> Result<Option<Entry>> {
        let mut conn = self.pool.acquire().await?;
        Self::delivered(&mut conn, source_key, subject, kind).await
    }

    pub async fn record_special(&self, p: &Principal, award: SpecialAward) -> Result<Entry> {
        // Approved by a community admin, whose subject is kept as the approver.
        self.require_community_writer(p, &award.community_id, false).await?;
        let points = self.rules.special_points(award.points)?;
        let occurred_on = service_date("occurred_on", award.occurred_on, self.today())?;
        let subject = Subject::member(&award.member_id);
        if let Some(existing) = self.existing(&award.source_key, &subject, EntryKind::Special).await? {
            return Ok(existing);
        }
        self.community("community_id", &award.community_id).await?;
        let member = self
            .registered_member(&award.member_id, &award.community_id, occurred_on)
            .await?;
        let entry = Entry {
            points,
            content: award.reason,
            source_key: award.source_key,
            special_category: Some(award.category),
            ..self.entry(p, subject, &award.community_id, EntryKind::Special, occurred_on)
        };
        self.append_earning(p, entry, &member.name, self.rules.net_bounds(EntryKind::Special))
            .await
    }

    pub async fn record_project(&self, p: &Principal, award: ProjectAward) -> Result<Entry> {
        self.require_community_writer(p, &award.community_id, true).await?;
        let points = self.rules.project_points(award.points)?;
        let scored_on = service_date("scored_on", award.scored_on, self.today())?;
        let subject = Subject::unit_org(&award.unit_org_id);
        if let Some(existing) = self.existing(&award.source_key, &subject, EntryKind::Project).await? {
            return Ok(existing);
        }
        self.community("community_id", &award.community_id).await?;
        let unit = match self.directory.org(&award.unit_org_id).await {
            Err(DirectoryError::NotFound { .. }) => {
                return Err(ScoringError::not_found("unit org", &award.unit_org_id));
            }
            other => other?,
        };
        if unit.kind != OrgKind::Unit {
            return Err(ScoringError::invalid(
                "unit_org_id",
                format!("{} is not a resident-unit org", award.unit_org_id),
            ));
        }
        let year = chrono::Datelike::year(&scored_on);
        if !self
            .directory
            .unit_registered(&award.unit_org_id, &award.community_id, year)
            .await?
        {
            return Err(ScoringError::NotRegistered(format!(
                "unit org {} has no received report at community {} for {year}",
                award.unit_org_id, award.community_id
            )));
        }
        let entry = Entry {
            points,
            content: award.project_name,
            source_key: award.source_key,
            project_id: award.project_id,
            project_scorer: Some(award.scorer),
            ..self.entry(p, subject, &award.community_id, EntryKind::Project, scored_on)
        };
        self.append_earning(p, entry, &unit.name, self.rules.net_bounds(EntryKind::Project))
            .await
    }

    /// A compensating entry, dated on the entry it corrects. The corrected
    /// entry's net points must stay within its kind's bounds. When the date
    /// falls in a settled period, the settlement gets a new version in the
    /// same transaction.
    pub async fn record_correction(&self, p: &Principal, c: Correction) -> Result<(Entry, Option<Settlement>)> {
        let mut conn = self.pool.acquire().await?;
        let corrected = db::entry(&mut conn, &c.corrects_entry_id).await?.ok_or_else(|| {
            ScoringError::invalid(
                "corrects_entry_id",
                format!("no entry {} in the ledger", c.corrects_entry_id),
            )
        })?;
        drop(conn);
        self.require_community_writer(p, &corrected.community_id, true).await?;
        if !matches!(
            corrected.kind,
            EntryKind::Service | EntryKind::Special | EntryKind::Project
        ) {
            return Err(ScoringError::invalid(
                "corrects_entry_id",
                format!(
                    "a {} entry cannot be corrected; correct the original award (or cancel the redemption)",
                    corrected.kind.as_str()
                ),
            ));
        }
        let community = self.directory.org(&corrected.community_id).await?;
        let entry = Entry {
            points: c.points,
            content: c.reason,
            source_key: c.source_key,
            corrects_entry_id: Some(corrected.id.clone()),
            project_id: corrected.project_id.clone(),
            ..self.entry(
                p,
                corrected.subject.clone(),
                &corrected.community_id,
                EntryKind::Correction,
                corrected.occurred_on,
            )
        };
        let mut tx = self.pool.begin().await?;
        if let Some(existing) = Self::delivered(&mut tx, &entry.source_key, &entry.subject, entry.kind).await? {
            return Ok((existing, None));
        }
        if db::correct_entry_total(&mut tx, &corrected.id, c.points)
            .await?
            .is_none()
        {
            let (net, floor, ceiling) = db::entry_total(&mut tx, &corrected.id)
                .await?
                .ok_or_else(|| ScoringError::internal(anyhow::anyhow!("entry {} has no total", corrected.id)))?;
            return Err(ScoringError::invalid(
                "points",
                format!(
                    "entry {} stands at {net}; corrected it must stay within {floor}..={ceiling}",
                    corrected.id
                ),
            ));
        }
        if corrected.kind == EntryKind::Project
            && db::add_project_points(
                &mut tx,
                &corrected.subject.id,
                &corrected.project_id,
                c.points,
                self.rules.project_points_cap,
            )
            .await?
            .is_none()
        {
            return Err(ScoringError::CapExceeded(format!(
                "the correction would take project {} above the cap of {}",
                corrected.project_id, self.rules.project_points_cap
            )));
        }
        match db::insert_entry(&mut tx, &entry).await {
            Err(e) if e.is_duplicate() => {
                return Err(ScoringError::conflict(format!(
                    "source key {} was delivered concurrently; retry to read its entry",
                    entry.source_key
                )));
            }
            other => other?,
        }
        db::credit_earned(&mut tx, &entry.subject, &entry.community_id, "", entry.points).await?;
        let after = entry_fields(&entry);
        self.directory
            .audit(
                &mut tx,
                p,
                "RecordCorrection",
                "entry",
                &entry.id,
                &entry.community_id,
                None,
                Some(after),
            )
            .await?;
        let new_version = match db::latest_settlement(&mut tx, &entry.community_id, entry.period).await? {
            Some(latest) => Some(
                self.settle_version(
                    &mut tx,
                    p,
                    &community,
                    entry.period,
                    Some(&latest),
                    &format!("correction {}", entry.id),
                )
                .await?,
            ),
            None => None,
        };
        tx.commit().await?;
        tracing::info!(entry = %entry.id, corrects = %corrected.id, points = entry.points, "correction recorded");
        Ok((entry, new_version))
    }

    pub async fn get_entry(&self, p: &Principal, id: &str) -> Result<Entry> {
        let mut conn = self.pool.acquire().await?;
        let entry = db::entry(&mut conn, id)
            .await?
            .ok_or_else(|| ScoringError::not_found("entry", id))?;
        drop(conn);
        self.require_reader(p, &entry.subject, Some(&entry.community_id))
            .await?;
        Ok(entry)
    }

    pub async fn list_entries(
        &self,
        p: &Principal,
        subject: &Subject,
        community_id: Option<&str>,
        period: Option<Period>,
        page: &PageRequest,
    ) -> Result<(Vec<Entry>, String)> {
        self.require_reader(p, subject, community_id).await?;
        // An admin who reads only through a community sees only that community's lines.
        let mut conn = self.pool.acquire().await?;
        let rows = db::list_entries(&mut conn, subject, community_id, period, page).await?;
        Ok(page.finish(rows, |e| &e.id))
    }

    pub async fn balance(&self, p: &Principal, subject: &Subject) -> Result<Balance> {
        self.require_reader(p, subject, None).await?;
        let mut conn = self.pool.acquire().await?;
        let accounts = db::accounts(&mut conn, subject).await?;
        let periods = db::period_points(&mut conn, subject)
            .await?
            .into_iter()
            .map(|(community, period, earned)| (community, period, earned, self.rules.stars(earned)))
            .collect();
        Ok(Balance { accounts, periods })
    }

    /// Many members' year: points and stars per community and half-year, and
    /// their service entries (the suite's services only: one call per
    /// thousand members for summary tables and warnings).
    pub async fn member_totals(&self, p: &Principal, member_ids: &[String], year: i32) -> Result<Vec<MemberTotals>> {
        if p.role != Role::Service {
            return Err(ScoringError::out_of_scope(
                "only the suite's services read totals in bulk",
            ));
        }
        let mut conn = self.pool.acquire().await?;
        let rows = db::member_year_totals(&mut conn, member_ids, year).await?;
        let mut by_member: HashMap<&str, MemberTotals> = HashMap::new();
        for (member, community, period, earned, services) in &rows {
            let totals = by_member.entry(member.as_str()).or_default();
            totals.services += services;
            totals
                .periods
                .push((community.clone(), *period, *earned, self.rules.stars(*earned)));
        }
        Ok(member_ids
            .iter()
            .map(|id| {
                let mut totals = by_member.remove(id.as_str()).unwrap_or_default();
                totals.member_id = id.clone();
                totals
            })
            .collect())
    }
}
