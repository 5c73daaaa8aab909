//! Scoring's use cases: who may do what, and in which transaction.
//!
//! Each method takes the authenticated [`Principal`] and validated input,
//! asks the registry (through the [`Directory`]) what it needs *before* it
//! opens a transaction, checks scope, then runs its reads and writes in one
//! transaction, so a refused or failed call leaves nothing behind.

use std::collections::HashMap;
use std::sync::Arc;

use dualreport_platform::auth::{Principal, Role, Scope};
use dualreport_platform::paging::PageRequest;
use dualreport_platform::{idempotency, journal};
use sqlx::{AnyConnection, AnyPool};

use crate::domain::ledger::{Entry, EntryKind, ProjectScorer, Rules, SpecialCategory};
use crate::domain::market::{self, Item, Redemption, RedemptionStatus};
use crate::domain::period::Period;
use crate::domain::settlement::{self, Line, Settlement, SettlementStatus};
use crate::domain::{Clock, Date, Result, ScoringError, Subject, SubjectKind, now_millis, service_date};
use crate::storage::{self as db, AccountRow, BoardCursor, BoardRow};
use dualreport_platform::directory::{Directory, DirectoryError, MemberInfo, OrgInfo, OrgKind};

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A member's service, validated.
#[derive(Debug, Clone)]
pub struct ServiceAward {
    pub source_key: String,
    pub member_id: String,
    pub community_id: String,
    pub served_on: Option<Date>,
    pub content: String,
    pub adjustment: i64,
}

#[derive(Debug, Clone)]
pub struct SpecialAward {
    pub source_key: String,
    pub member_id: String,
    pub community_id: String,
    pub occurred_on: Option<Date>,
    pub category: SpecialCategory,
    pub points: i64,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct ProjectAward {
    pub source_key: String,
    pub unit_org_id: String,
    pub community_id: String,
    pub project_id: String,
    pub project_name: String,
    pub scorer: ProjectScorer,
    pub points: i64,
    pub scored_on: Option<Date>,
}

#[derive(Debug, Clone)]
pub struct Correction {
    pub source_key: String,
    pub corrects_entry_id: String,
    pub points: i64,
    pub reason: String,
}

/// Changes to an item; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ItemChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price_points: Option<i64>,
    pub add_stock: i64,
    pub active: Option<bool>,
}

/// A subject's balance.
/// One member's year, for bulk readers.
#[derive(Debug, Default)]
pub struct MemberTotals {
    pub member_id: String,
    /// (community, half-year, earned, stars)
    pub periods: Vec<(String, Period, i64, i64)>,
    pub services: i64,
}

#[derive(Debug, Clone)]
pub struct Balance {
    pub accounts: Vec<AccountRow>,
    /// (community, period, earned, stars)
    pub periods: Vec<(String, Period, i64, i64)>,
}

#[derive(Debug, Clone)]
pub struct RegistrationTable {
    pub member: MemberInfo,
    pub community_id: String,
    pub period: Period,
    pub rows: Vec<Entry>,
    pub total_points: i64,
    pub stars: i64,
    pub settlement_status: Option<SettlementStatus>,
}

/// Scoring's state: the pool, the rules, the registry directory.
#[derive(Clone)]
pub struct Scoring {
    pool: AnyPool,
    rules: Arc<Rules>,
    directory: Directory,
    clock: Clock,
}

impl Scoring {
    pub fn new(pool: AnyPool, rules: Rules, directory: Directory, clock: Clock) -> Self {
        Self {
            pool,
            rules: Arc::new(rules),
            directory,
            clock,
        }
    }

    fn today(&self) -> Date {
        self.clock.today()
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    // ───────────── scope ─────────────

    /// The org of an admin token, after checking the role fits its type.
    async fn admin_org(&self, p: &Principal) -> Result<Option<OrgInfo>> {
        Ok(self.directory.admin_org(p).await?)
    }

    /// Whether `p` is an admin at or above `org`.
    async fn admin_covers(&self, p: &Principal, org: &OrgInfo) -> Result<bool> {
        Ok(self.directory.admin_covers(p, org).await?)
    }

    /// Community admins act for their own community; the `service` role
    /// (the volunteering and feedback services) when `service_may` is true.
    async fn require_community_writer(&self, p: &Principal, community_id: &str, service_may: bool) -> Result<()> {
        if p.role == Role::Service && service_may {
            return Ok(());
        }
        if p.role == Role::CommunityAdmin && p.org() == Some(community_id) && self.admin_org(p).await?.is_some() {
            return Ok(());
        }
        Err(ScoringError::out_of_scope(format!(
            "{} may not write for community {community_id}",
            p.role.as_str()
        )))
    }

    /// The community named in a write: it must be a community (or service centre).
    async fn community(&self, field: &str, id: &str) -> Result<OrgInfo> {
        let org = match self.directory.org(id).await {
            Err(DirectoryError::NotFound { .. }) => {
                return Err(ScoringError::invalid(field, format!("no organization {id}")));
            }
            other => other?,
        };
        if org.kind != OrgKind::Community {
            return Err(ScoringError::invalid(field, format!("{id} is not a community")));
        }
        Ok(org)
    }

    /// Who may read a subject's card: the member itself; admins over the
    /// member's unit or residence community (or over the unit org); admins
    /// over the community the read is limited to; the `service` role.
    async fn require_reader(&self, p: &Principal, subject: &Subject, community_id: Option<&str>) -> Result<()> {
        let allowed = match (&p.scope, subject.kind) {
            (Scope::Service, _) => true,
            (Scope::Cloud, _) => false,
            (Scope::Member(id), SubjectKind::Member) => *id == subject.id,
            (Scope::Member(_), SubjectKind::UnitOrg) => false,
            (Scope::Org(_), kind) => {
                let over_community = match community_id {
                    Some(c) if !c.is_empty() => self.admin_covers(p, &self.directory.org(c).await?).await?,
                    _ => false,
                };
                over_community
                    || match kind {
                        SubjectKind::Member => {
                            let member = self.directory.member(&subject.id).await?;
                            self.admin_covers(p, &self.directory.org(&member.unit_org_id).await?)
                                .await?
                                || self
                                    .admin_covers(p, &self.directory.org(&member.residence_community_id).await?)
                                    .await?
                        }
                        SubjectKind::UnitOrg => self.admin_covers(p, &self.directory.org(&subject.id).await?).await?,
                    }
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(ScoringError::out_of_scope(format!(
                "{} may not read the card of {} {}",
                p.role.as_str(),
                subject.kind.as_str(),
                subject.id
            )))
        }
    }

    // ───────────── idempotency ─────────────

    async fn replayed(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        request_id: &str,
        operation: &str,
    ) -> Result<Option<String>> {
        Ok(idempotency::replayed(conn, &p.subject, request_id, operation).await?)
    }

    async fn remember(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        request_id: &str,
        operation: &str,
        id: &str,
    ) -> Result<()> {
        Ok(idempotency::record(conn, &p.subject, request_id, operation, id, now_millis()).await?)
    }

    // ───────────── ledger ─────────────

    /// The entry a source key already paid, if it pays the same subject and kind.
    async fn delivered(
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
    async fn append_earning(&self, entry: Entry, subject_name: &str, bounds: (i64, i64)) -> Result<Entry> {
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
            Err(e) if db::is_unique_violation(&e) => {
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
        tx.commit().await?;
        tracing::info!(entry = %entry.id, kind = entry.kind.as_str(), points = entry.points, "recorded");
        Ok(entry)
    }

    /// Checks the member exists and was registered at the community on the
    /// day (a member who moved belongs to the new community from the move on).
    async fn registered_member(&self, member_id: &str, community_id: &str, on: Date) -> Result<MemberInfo> {
        let member = self.directory.member(member_id).await?;
        if !self.directory.member_registered_on(member_id, community_id, on).await? {
            return Err(ScoringError::NotRegistered(format!(
                "member {member_id} was not registered at community {community_id} on {on}"
            )));
        }
        Ok(member)
    }

    fn entry(&self, p: &Principal, subject: Subject, community_id: &str, kind: EntryKind, on: Date) -> Entry {
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
        self.append_earning(entry, &member.name, self.rules.net_bounds(EntryKind::Service))
            .await
    }

    async fn existing(&self, source_key: &str, subject: &Subject, kind: EntryKind) -> Result<Option<Entry>> {
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
        self.append_earning(entry, &member.name, self.rules.net_bounds(EntryKind::Special))
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
        self.append_earning(entry, &unit.name, self.rules.net_bounds(EntryKind::Project))
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
                .ok_or_else(|| ScoringError::Internal(anyhow::anyhow!("entry {} has no total", corrected.id)))?;
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
            Err(e) if db::is_unique_violation(&e) => {
                return Err(ScoringError::Conflict(format!(
                    "source key {} was delivered concurrently; retry to read its entry",
                    entry.source_key
                )));
            }
            other => other?,
        }
        db::credit_earned(&mut tx, &entry.subject, &entry.community_id, "", entry.points).await?;
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

    // ───────────── settlement ─────────────

    /// Computes the period's lines and stores them as the next version.
    async fn settle_version(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        community: &OrgInfo,
        period: Period,
        latest: Option<&Settlement>,
        reason: &str,
    ) -> Result<Settlement> {
        let s = Settlement {
            id: new_id(),
            community_id: community.id.clone(),
            scope_path: community.path(),
            period,
            version: latest.map_or(1, |l| l.version + 1),
            status: SettlementStatus::Draft,
            reason: reason.to_owned(),
            current: false,
            settled_by: p.subject.clone(),
            settled_at: now_millis(),
            assembly_date: None,
            reviewed_by: String::new(),
            reviewed_at: None,
            published_by: String::new(),
            published_at: None,
            points_per_star: self.rules.points_per_star,
            max_stars: self.rules.max_stars,
            line_count: 0,
        };
        match db::insert_settlement(conn, &s).await {
            Err(e) if db::is_unique_violation(&e) => {
                return Err(ScoringError::Conflict(format!(
                    "{} was settled concurrently; read the settlements and retry",
                    period.key()
                )));
            }
            other => other?,
        }
        let s = Settlement {
            line_count: db::settle_lines(conn, &s).await?,
            ..s
        };
        // The caller's transaction rolls the new version back with this error.
        if let Some(latest) = latest
            && db::same_points(conn, latest, &s).await?
        {
            return Err(ScoringError::NothingChanged(period.key(), latest.version));
        }
        Ok(s)
    }

    pub async fn settle(
        &self,
        p: &Principal,
        request_id: &str,
        community_id: &str,
        period: Period,
    ) -> Result<Settlement> {
        self.require_community_writer(p, community_id, false).await?;
        let community = self.community("community_id", community_id).await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "SettlePeriod").await? {
            return self.require_settlement(&mut tx, &id).await;
        }
        if !period.has_ended(self.today()) {
            return Err(ScoringError::PeriodNotEnded(period.key()));
        }
        let latest = db::latest_settlement(&mut tx, community_id, period).await?;
        let s = self
            .settle_version(&mut tx, p, &community, period, latest.as_ref(), "settled")
            .await?;
        self.remember(&mut tx, p, request_id, "SettlePeriod", &s.id).await?;
        tx.commit().await?;
        tracing::info!(settlement = %s.id, community = community_id, period = %period, version = s.version, "settled");
        Ok(s)
    }

    async fn require_settlement(&self, conn: &mut AnyConnection, id: &str) -> Result<Settlement> {
        db::settlement(conn, id)
            .await?
            .ok_or_else(|| ScoringError::not_found("settlement", id))
    }

    pub async fn review(
        &self,
        p: &Principal,
        request_id: &str,
        id: &str,
        assembly_date: Option<Date>,
        recorded_by: &str,
    ) -> Result<Settlement> {
        let mut conn = self.pool.acquire().await?;
        if let Some(id) = self.replayed(&mut conn, p, request_id, "ReviewSettlement").await? {
            return self.require_settlement(&mut conn, &id).await;
        }
        let s = self.require_settlement(&mut conn, id).await?;
        drop(conn);
        self.require_community_writer(p, &s.community_id, false).await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "ReviewSettlement").await? {
            return self.require_settlement(&mut tx, &id).await;
        }
        let date = settlement::assembly_date(s.period, assembly_date, self.today())
            .map_err(|why| ScoringError::invalid("assembly_date", why))?;
        if !db::review_settlement(&mut tx, id, date, recorded_by, now_millis()).await? {
            let now = self.require_settlement(&mut tx, id).await?;
            return Err(ScoringError::WrongState(format!(
                "settlement {id} is {}; only a draft can be reviewed",
                now.status.as_str()
            )));
        }
        self.remember(&mut tx, p, request_id, "ReviewSettlement", id).await?;
        let s = self.require_settlement(&mut tx, id).await?;
        tx.commit().await?;
        Ok(s)
    }

    pub async fn publish(&self, p: &Principal, request_id: &str, id: &str) -> Result<Settlement> {
        let mut conn = self.pool.acquire().await?;
        if let Some(id) = self.replayed(&mut conn, p, request_id, "PublishSettlement").await? {
            return self.require_settlement(&mut conn, &id).await;
        }
        let s = self.require_settlement(&mut conn, id).await?;
        drop(conn);
        self.require_community_writer(p, &s.community_id, false).await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "PublishSettlement").await? {
            return self.require_settlement(&mut tx, &id).await;
        }
        if let Some(current) = db::current_version(&mut tx, &s.community_id, s.period).await?
            && current > s.version
        {
            return Err(ScoringError::WrongState(format!(
                "version {current} of this period is already published; version {} is older",
                s.version
            )));
        }
        if !db::publish_settlement(&mut tx, &s, &p.subject, now_millis()).await? {
            // Say what it is now (a concurrent call may have just published it),
            // not what it was when this call read it.
            let now = self.require_settlement(&mut tx, id).await?;
            return Err(ScoringError::WrongState(match now.status {
                SettlementStatus::Draft => format!(
                    "settlement {id} is a draft: the members-and-residents assembly must review it before it is published"
                ),
                SettlementStatus::Published => format!("settlement {id} is already published"),
                SettlementStatus::Reviewed => {
                    format!("settlement {id} changed while it was being published; read it again")
                }
            }));
        }
        self.remember(&mut tx, p, request_id, "PublishSettlement", id).await?;
        let s = self.require_settlement(&mut tx, id).await?;
        journal::append(
            &mut tx,
            &journal::Fact {
                kind: "settlement.published",
                occur_millis: s.published_at.unwrap_or_else(now_millis),
                subject_id: s.id.clone(),
                district_id: s
                    .scope_path
                    .split('/')
                    .filter(|id| !id.is_empty())
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned(),
                community_id: s.community_id.clone(),
                text: format!("{} 积分结算第 {} 版已公示（{} 人）", s.period, s.version, s.line_count),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(settlement = %s.id, version = s.version, "published");
        Ok(s)
    }

    /// Published versions are public; drafts and reviewed ones are for admins
    /// over the community.
    async fn require_settlement_reader(&self, p: &Principal, s: &Settlement) -> Result<()> {
        if s.status == SettlementStatus::Published || p.role == Role::Service {
            return Ok(());
        }
        if self
            .admin_covers(p, &self.directory.org(&s.community_id).await?)
            .await?
        {
            return Ok(());
        }
        Err(ScoringError::out_of_scope(format!(
            "settlement {} is not published; only admins over its community may read it",
            s.id
        )))
    }

    pub async fn get_settlement(&self, p: &Principal, id: &str) -> Result<Settlement> {
        let mut conn = self.pool.acquire().await?;
        let s = self.require_settlement(&mut conn, id).await?;
        drop(conn);
        self.require_settlement_reader(p, &s).await?;
        Ok(s)
    }

    /// A page of a settlement's lines, for whoever may read the settlement.
    pub async fn settlement_lines(
        &self,
        p: &Principal,
        id: &str,
        size: i64,
        after: Option<&db::LineCursor>,
    ) -> Result<(Vec<Line>, Option<db::LineCursor>)> {
        let s = self.get_settlement(p, id).await?;
        let mut conn = self.pool.acquire().await?;
        let mut lines = db::settlement_lines(&mut conn, &s.id, after, size + 1).await?;
        let next = if lines.len() as i64 > size {
            lines.truncate(usize::try_from(size).unwrap_or(usize::MAX));
            lines.last().map(db::LineCursor::of)
        } else {
            None
        };
        Ok((lines, next))
    }

    pub async fn list_settlements(
        &self,
        p: &Principal,
        community_id: &str,
        period: Option<Period>,
        page: &PageRequest,
    ) -> Result<(Vec<Settlement>, String)> {
        let community = self.community("community_id", community_id).await?;
        let privileged = p.role == Role::Service || self.admin_covers(p, &community).await?;
        let mut conn = self.pool.acquire().await?;
        let rows = db::list_settlements(&mut conn, community_id, period, page).await?;
        let (rows, token) = page.finish(rows, |s| &s.id);
        // Others see the published versions of the page only.
        let rows = rows
            .into_iter()
            .filter(|s| privileged || s.status == SettlementStatus::Published)
            .collect();
        Ok((rows, token))
    }

    /// The vanguard board: public to every authenticated caller.
    pub async fn board(
        &self,
        org_id: &str,
        period: Period,
        kind: SubjectKind,
        size: i64,
        after: Option<&BoardCursor>,
    ) -> Result<(Vec<BoardRow>, Option<BoardCursor>)> {
        match self.directory.org(org_id).await {
            Err(DirectoryError::NotFound { .. }) => {
                return Err(ScoringError::invalid("org_id", format!("no organization {org_id}")));
            }
            Ok(org) if org.kind == OrgKind::Unit => {
                return Err(ScoringError::invalid(
                    "org_id",
                    "must be a community, street, district or the city",
                ));
            }
            other => other?,
        };
        let mut conn = self.pool.acquire().await?;
        let mut rows = db::board(&mut conn, org_id, period, kind, after, size + 1).await?;
        let next = if rows.len() as i64 > size {
            rows.truncate(size as usize);
            rows.last().map(|r| BoardCursor {
                stars: r.line.stars,
                points: r.line.points,
                subject_id: r.line.subject.id.clone(),
                community_id: r.community_id.clone(),
            })
        } else {
            None
        };
        Ok((rows, next))
    }

    pub async fn registration_table(
        &self,
        p: &Principal,
        member_id: &str,
        community_id: &str,
        period: Period,
    ) -> Result<RegistrationTable> {
        let subject = Subject::member(member_id);
        self.require_reader(p, &subject, Some(community_id)).await?;
        let member = self.directory.member(member_id).await?;
        let mut conn = self.pool.acquire().await?;
        let rows = db::period_entries(&mut conn, &subject, community_id, period).await?;
        let total_points: i64 = rows.iter().map(|e| e.points).sum();
        let latest = db::latest_settlement(&mut conn, community_id, period).await?;
        Ok(RegistrationTable {
            member,
            community_id: community_id.to_owned(),
            period,
            rows,
            total_points,
            stars: self.rules.stars(total_points),
            settlement_status: latest.map(|s| s.status),
        })
    }

    // ───────────── supermarket ─────────────

    pub async fn create_item(&self, p: &Principal, request_id: &str, item: Item) -> Result<Item> {
        self.require_community_writer(p, &item.community_id, false).await?;
        self.community("community_id", &item.community_id).await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "CreateItem").await? {
            return self.require_item(&mut tx, &id).await;
        }
        db::insert_item(&mut tx, &item).await?;
        self.remember(&mut tx, p, request_id, "CreateItem", &item.id).await?;
        tx.commit().await?;
        Ok(item)
    }

    async fn require_item(&self, conn: &mut AnyConnection, id: &str) -> Result<Item> {
        db::item(conn, id)
            .await?
            .ok_or_else(|| ScoringError::not_found("item", id))
    }

    pub async fn update_item(&self, p: &Principal, request_id: &str, id: &str, change: ItemChange) -> Result<Item> {
        let mut conn = self.pool.acquire().await?;
        if let Some(id) = self.replayed(&mut conn, p, request_id, "UpdateItem").await? {
            return self.require_item(&mut conn, &id).await;
        }
        let mut item = self.require_item(&mut conn, id).await?;
        drop(conn);
        self.require_community_writer(p, &item.community_id, false).await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "UpdateItem").await? {
            return self.require_item(&mut tx, &id).await;
        }
        if let Some(name) = change.name {
            item.name = name;
        }
        if let Some(description) = change.description {
            item.description = description;
        }
        if let Some(price) = change.price_points {
            item.price_points = price;
        }
        if let Some(active) = change.active {
            item.active = active;
        }
        if !db::update_item(&mut tx, &item, change.add_stock, now_millis()).await? {
            return Err(ScoringError::invalid(
                "add_stock",
                format!(
                    "would take the stock of {} below zero or above {}",
                    item.stock,
                    market::MAX_STOCK
                ),
            ));
        }
        self.remember(&mut tx, p, request_id, "UpdateItem", id).await?;
        let item = self.require_item(&mut tx, id).await?;
        tx.commit().await?;
        Ok(item)
    }

    pub async fn list_items(
        &self,
        p: &Principal,
        community_id: &str,
        include_inactive: bool,
        page: &PageRequest,
    ) -> Result<(Vec<Item>, String)> {
        let community = self.community("community_id", community_id).await?;
        if include_inactive && !self.admin_covers(p, &community).await? {
            return Err(ScoringError::out_of_scope(
                "only admins over the community see withdrawn items",
            ));
        }
        let mut conn = self.pool.acquire().await?;
        let rows = db::list_items(&mut conn, community_id, include_inactive, page).await?;
        Ok(page.finish(rows, |i| &i.id))
    }

    /// Spends the member's points at the item's community: stock and balance
    /// are taken by conditional updates in one transaction, so parallel
    /// redemptions never oversell or overdraw.
    pub async fn redeem(
        &self,
        p: &Principal,
        request_id: &str,
        member_id: &str,
        item_id: &str,
        quantity: i64,
    ) -> Result<Redemption> {
        let mut conn = self.pool.acquire().await?;
        if let Some(id) = self.replayed(&mut conn, p, request_id, "Redeem").await? {
            return self.require_redemption(&mut conn, &id).await;
        }
        let item = self.require_item(&mut conn, item_id).await?;
        drop(conn);
        let counter = p.role == Role::CommunityAdmin && p.org() == Some(item.community_id.as_str());
        if p.member() != Some(member_id) && !(counter && self.admin_org(p).await?.is_some()) {
            return Err(ScoringError::out_of_scope(
                "a member redeems for itself, or the item's community admin at the counter",
            ));
        }
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "Redeem").await? {
            return self.require_redemption(&mut tx, &id).await;
        }
        let cost = item.price_points * quantity;
        if !db::take_stock(&mut tx, item_id, quantity).await? {
            return Err(ScoringError::OutOfStock(if item.active {
                format!("item {item_id} has {} left; {quantity} asked", item.stock)
            } else {
                format!("item {item_id} is withdrawn")
            }));
        }
        let subject = Subject::member(member_id);
        if !db::spend(&mut tx, &subject, &item.community_id, cost).await? {
            return Err(ScoringError::InsufficientPoints(format!(
                "member {member_id} cannot spend {cost} points at community {}",
                item.community_id
            )));
        }
        let redemption_id = new_id();
        let today = self.today();
        let entry = Entry {
            points: -cost,
            content: format!("{} × {quantity}", item.name),
            source_key: format!("redemption:{redemption_id}"),
            redemption_id: redemption_id.clone(),
            ..self.entry(p, subject, &item.community_id, EntryKind::Redemption, today)
        };
        db::insert_entry(&mut tx, &entry).await?;
        let redemption = Redemption {
            id: redemption_id,
            member_id: member_id.to_owned(),
            community_id: item.community_id.clone(),
            item_id: item.id.clone(),
            item_name: item.name.clone(),
            quantity,
            points: cost,
            status: RedemptionStatus::Completed,
            entry_id: entry.id.clone(),
            reversal_entry_id: None,
            created_at: now_millis(),
            cancelled_at: None,
            cancel_reason: String::new(),
        };
        db::insert_redemption(&mut tx, &redemption).await?;
        self.remember(&mut tx, p, request_id, "Redeem", &redemption.id).await?;
        tx.commit().await?;
        Ok(redemption)
    }

    async fn require_redemption(&self, conn: &mut AnyConnection, id: &str) -> Result<Redemption> {
        db::redemption(conn, id)
            .await?
            .ok_or_else(|| ScoringError::not_found("redemption", id))
    }

    /// Returns the points and the stock (community admins of the item's community).
    pub async fn cancel_redemption(
        &self,
        p: &Principal,
        request_id: &str,
        id: &str,
        reason: &str,
    ) -> Result<Redemption> {
        let mut conn = self.pool.acquire().await?;
        if let Some(id) = self.replayed(&mut conn, p, request_id, "CancelRedemption").await? {
            return self.require_redemption(&mut conn, &id).await;
        }
        let r = self.require_redemption(&mut conn, id).await?;
        drop(conn);
        self.require_community_writer(p, &r.community_id, false).await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "CancelRedemption").await? {
            return self.require_redemption(&mut tx, &id).await;
        }
        let reversal = Entry {
            points: r.points,
            content: format!("{} × {} (cancelled: {reason})", r.item_name, r.quantity),
            source_key: format!("redemption:{}:cancel", r.id),
            corrects_entry_id: Some(r.entry_id.clone()),
            redemption_id: r.id.clone(),
            ..self.entry(
                p,
                Subject::member(&r.member_id),
                &r.community_id,
                EntryKind::RedemptionReversal,
                self.today(),
            )
        };
        let already = || ScoringError::WrongState(format!("redemption {id} is already cancelled"));
        // The reversal's source key is unique: a concurrent cancel waits here and loses.
        match db::insert_entry(&mut tx, &reversal).await {
            Err(e) if db::is_unique_violation(&e) => return Err(already()),
            other => other?,
        }
        if !db::cancel_redemption(&mut tx, id, &reversal.id, reason, now_millis()).await? {
            return Err(already());
        }
        // Lock order as in `redeem`: the item, then the account.
        db::return_stock(&mut tx, &r.item_id, r.quantity).await?;
        db::refund(&mut tx, &reversal.subject, &r.community_id, r.points).await?;
        self.remember(&mut tx, p, request_id, "CancelRedemption", id).await?;
        let r = self.require_redemption(&mut tx, id).await?;
        tx.commit().await?;
        Ok(r)
    }

    pub async fn list_redemptions(
        &self,
        p: &Principal,
        member_id: &str,
        community_id: &str,
        page: &PageRequest,
    ) -> Result<(Vec<Redemption>, String)> {
        if member_id.is_empty() && community_id.is_empty() {
            return Err(ScoringError::invalid("member_id", "name a member or a community"));
        }
        if !member_id.is_empty() {
            self.require_reader(p, &Subject::member(member_id), Some(community_id))
                .await?;
        } else {
            let community = self.community("community_id", community_id).await?;
            if p.role != Role::Service && !self.admin_covers(p, &community).await? {
                return Err(ScoringError::out_of_scope(format!(
                    "{} may not read the redemptions of community {community_id}",
                    p.role.as_str()
                )));
            }
        }
        let mut conn = self.pool.acquire().await?;
        let rows = db::list_redemptions(
            &mut conn,
            Some(member_id).filter(|m| !m.is_empty()),
            Some(community_id).filter(|c| !c.is_empty()),
            page,
        )
        .await?;
        Ok(page.finish(rows, |r| &r.id))
    }
}
