//! Feedback's use cases: who may do what, and in which transaction.
//!
//! Each method takes the authenticated [`Principal`] and validated input, asks
//! the other services (registry through the [`Directory`], the rest through
//! [`Sources`]) what it needs before it opens a transaction, checks scope, then
//! writes in one transaction — with the feed event it raises — so a refused or
//! failed call leaves nothing behind.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use dualreport_platform::auth::{Principal, Role, Scope};
use dualreport_platform::directory::{Directory, DirectoryError, OrgInfo, OrgKind};
use dualreport_platform::idempotency;
use dualreport_platform::paging::PageRequest;
use dualreport_policy::Policy;
use dualreport_proto::registry::v1 as reg;
use dualreport_proto::volunteering::v1 as vol;
use futures::{StreamExt, stream};
use sqlx::{AnyConnection, AnyPool};
use tokio::sync::Notify;

use crate::domain::model::*;
use crate::domain::warnings::{self, MemberFacts, OverdueRelocation, PledgeState, UnitFacts, YearRecord};
use crate::domain::{Date, FeedbackError, Period, Result, draw, now_millis, sample_size, stars};
use crate::sources::Sources;
use crate::storage::{self as db, Stored, StoredWarning};

/// Calls to a source in flight at once while building a table.
const FAN_OUT: usize = 8;

/// How long a correction attempt owns its objection: the deciding call's own
/// attempt, and each background retry (a lease), so two never send it at once.
pub const CORRECTION_LEASE_MS: i64 = 60_000;

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A page of rows and the token of the next.
pub type Page<T> = (Vec<T>, String);

/// What [`Feedback`] needs besides its stores.
#[derive(Debug, Clone)]
pub struct Rules {
    pub policy: Policy,
    /// `webhook.allow_http`: development only.
    pub allow_http: bool,
    pub correction_backoff_ms: (i64, i64),
    /// Where "today" comes from (fixed in tests of date rules).
    pub clock: dualreport_policy::Clock,
}

/// Feedback's state: the pool, the registry directory, the other sources, the rules.
#[derive(Clone)]
pub struct Feedback {
    pub(crate) pool: AnyPool,
    pub(crate) directory: Directory,
    pub(crate) sources: Sources,
    pub(crate) rules: Arc<Rules>,
    /// Woken whenever this replica appends to the feed.
    pub(crate) appended: Arc<Notify>,
}

/// The district an org lies in (the tree is city → district → …).
fn district_of(org: &OrgInfo) -> String {
    if org.kind == OrgKind::District {
        org.id.clone()
    } else {
        org.ancestor_ids.get(1).cloned().unwrap_or_default()
    }
}

/// The principal's subject, as the history and the tables show it.
fn actor(p: &Principal) -> String {
    p.subject.clone()
}

impl Feedback {
    pub fn new(pool: AnyPool, directory: Directory, sources: Sources, rules: Rules) -> Self {
        Self {
            pool,
            directory,
            sources,
            rules: Arc::new(rules),
            appended: Arc::new(Notify::new()),
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.rules.policy
    }

    /// Today in China Standard Time (or the fixed day of a test).
    pub fn today(&self) -> Date {
        self.rules.clock.today()
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn allow_http(&self) -> bool {
        self.rules.allow_http
    }

    pub fn appended(&self) -> &Arc<Notify> {
        &self.appended
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.pool.acquire().await?)
    }

    async fn replayed(&self, p: &Principal, request_id: &str, operation: &str) -> Result<Option<String>> {
        let mut conn = self.conn().await?;
        Ok(idempotency::replayed(&mut conn, &p.subject, request_id, operation).await?)
    }

    /// The same check inside the use case's transaction, right after BEGIN:
    /// on PostgreSQL it waits for a concurrent call under the same key to
    /// commit and then finds its result, so racing retries agree.
    async fn replayed_in(
        tx: &mut AnyConnection,
        p: &Principal,
        request_id: &str,
        operation: &str,
    ) -> Result<Option<String>> {
        Ok(idempotency::replayed(tx, &p.subject, request_id, operation).await?)
    }

    async fn remember(
        conn: &mut AnyConnection,
        p: &Principal,
        request_id: &str,
        operation: &str,
        id: &str,
    ) -> Result<()> {
        Ok(idempotency::record(conn, &p.subject, request_id, operation, id, now_millis()).await?)
    }

    // ───────────── scope ─────────────

    /// The org named in a call, which must be of `kind`.
    async fn org_of_kind(&self, field: &str, id: &str, kind: OrgKind) -> Result<OrgInfo> {
        let org = match self.directory.org(id).await {
            Err(DirectoryError::NotFound { .. }) => {
                return Err(FeedbackError::invalid(field, format!("no organization {id}")));
            }
            other => other?,
        };
        if org.kind != kind {
            let what = match kind {
                OrgKind::Community => "a community",
                OrgKind::Unit => "a resident-unit org",
                _ => "an org of the right type",
            };
            return Err(FeedbackError::invalid(field, format!("{id} is not {what}")));
        }
        Ok(org)
    }

    async fn require_admin_over(&self, p: &Principal, org: &OrgInfo) -> Result<()> {
        if self.directory.admin_covers(p, org).await? {
            return Ok(());
        }
        Err(FeedbackError::out_of_scope(format!(
            "{} may not act for org {}",
            p.role.as_str(),
            org.id
        )))
    }

    /// Exactly the community's own admin (notices, ratings and comments are the community's voice).
    async fn require_community_admin(&self, p: &Principal, community: &OrgInfo) -> Result<()> {
        if p.role == Role::CommunityAdmin
            && p.org() == Some(community.id.as_str())
            && self.directory.admin_org(p).await?.is_some()
        {
            return Ok(());
        }
        Err(FeedbackError::out_of_scope(format!(
            "only community {}'s admin may do this; the caller is {}",
            community.id,
            p.role.as_str()
        )))
    }

    async fn require_paired(&self, unit: &OrgInfo, community: &OrgInfo, year: i32) -> Result<()> {
        if self.directory.unit_registered(&unit.id, &community.id, year).await? {
            return Ok(());
        }
        Err(FeedbackError::NotPaired(format!(
            "unit org {} has no received report at community {} for {year}",
            unit.id, community.id
        )))
    }

    /// The org a list is read under: the one named, or the caller's own.
    async fn list_root(&self, p: &Principal, org_id: &str) -> Result<OrgInfo> {
        if org_id.is_empty() {
            return self
                .directory
                .admin_org(p)
                .await?
                .ok_or_else(|| FeedbackError::out_of_scope(format!("{} has no org to list under", p.role.as_str())));
        }
        let org = match self.directory.org(org_id).await {
            Err(DirectoryError::NotFound { .. }) => {
                return Err(FeedbackError::invalid("org_id", format!("no organization {org_id}")));
            }
            other => other?,
        };
        self.require_admin_over(p, &org).await?;
        Ok(org)
    }

    /// The member themself, or an admin over the member's unit or home community.
    async fn require_member_reader(&self, p: &Principal, member_id: &str) -> Result<()> {
        let allowed = match &p.scope {
            Scope::Member(me) => me == member_id,
            Scope::Service => true,
            Scope::Cloud => false,
            Scope::Org(_) => {
                let member = self.directory.member(member_id).await?;
                let unit = self.directory.org(&member.unit_org_id).await?;
                let home = self.directory.org(&member.residence_community_id).await?;
                self.directory.admin_covers(p, &unit).await? || self.directory.admin_covers(p, &home).await?
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(FeedbackError::out_of_scope(format!(
                "{} may not read member {member_id}",
                p.role.as_str()
            )))
        }
    }

    // ───────────── summary tables (附录F) ─────────────

    /// The table for a unit org: its admins and those above it; or the admin
    /// of a community the unit is paired with, for that community's view.
    pub async fn summary_table(
        &self,
        p: &Principal,
        unit_org_id: &str,
        community_id: &str,
        period: Period,
    ) -> Result<SummaryTable> {
        let unit = self.org_of_kind("unit_org_id", unit_org_id, OrgKind::Unit).await?;
        if community_id.is_empty() {
            self.require_admin_over(p, &unit).await?;
        } else {
            let community = self
                .org_of_kind("community_id", community_id, OrgKind::Community)
                .await?;
            if !self.directory.admin_covers(p, &unit).await? {
                self.require_admin_over(p, &community).await?;
                self.require_paired(&unit, &community, period.year).await?;
            }
        }
        self.build_summary(&unit, community_id, period).await
    }

    /// Reads members from the registry (which must answer: without it there
    /// are no rows), reports and points with deadlines; a row whose reports or
    /// points did not come back names the missing source.
    pub async fn build_summary(&self, unit: &OrgInfo, community_id: &str, period: Period) -> Result<SummaryTable> {
        let members = self
            .sources
            .within("registry", self.sources.unit_members(&unit.id))
            .await?;
        let mut missing_sources = Vec::new();
        let reports = match self
            .sources
            .within("registry", self.sources.member_reports(&unit.id, period.year))
            .await
        {
            Ok(reports) => Some(reports),
            Err(FeedbackError::Unavailable(message)) => {
                tracing::warn!(%message, "summary without registry reports");
                missing_sources.push("registry".to_owned());
                None
            }
            Err(other) => return Err(other),
        };
        // member → community reported to (confirmed, or ended after confirmation).
        let mut reported: HashMap<String, String> = HashMap::new();
        for r in reports.iter().flatten() {
            let counted = matches!(
                reg::MemberReportStatus::try_from(r.status),
                Ok(reg::MemberReportStatus::Confirmed | reg::MemberReportStatus::Ended)
            ) && r.confirm_time.is_some();
            if counted && (community_id.is_empty() || r.community_id == community_id) {
                reported.insert(r.member_id.clone(), r.community_id.clone());
            }
        }
        let members: Vec<reg::Member> = members
            .into_iter()
            .filter(|m| {
                community_id.is_empty()
                    || reported.contains_key(&m.id)
                    || m.profile
                        .as_ref()
                        .is_some_and(|pr| pr.residence_community_id == community_id)
            })
            .collect();
        // One batched read of the points, within scoring's one deadline.
        let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
        let totals = match self
            .sources
            .within("scoring", self.sources.member_totals(&ids, period.year))
            .await
        {
            Ok(totals) => Some(
                totals
                    .into_iter()
                    .map(|t| (t.member_id.clone(), t))
                    .collect::<HashMap<_, _>>(),
            ),
            Err(FeedbackError::Unavailable(message)) => {
                tracing::warn!(%message, "summary without scoring's points");
                None
            }
            Err(other) => return Err(other),
        };
        let mut conn = self.conn().await?;
        let mut comments: HashMap<String, Vec<String>> = HashMap::new();
        for c in db::comments(&mut conn, period, community_id).await? {
            comments.entry(c.member_id).or_default().push(c.comment);
        }
        drop(conn);
        let (per_star, max_stars) = (
            i64::from(self.rules.policy.points_per_star),
            i64::from(self.rules.policy.max_stars),
        );
        let mut rows = Vec::with_capacity(members.len());
        let mut scoring_missing = false;
        for (i, member) in members.iter().enumerate() {
            let mut missing = Vec::new();
            if reports.is_none() {
                missing.push("registry".to_owned());
            }
            let (points, stars_earned) = match totals.as_ref().and_then(|t| t.get(&member.id)) {
                Some(t) => {
                    let mut points = 0i64;
                    let mut stars_earned = 0i64;
                    for pp in &t.periods {
                        let Some(bp) = &pp.period else { continue };
                        if period.covers(bp.year, bp.half)
                            && (community_id.is_empty() || pp.community_id == community_id)
                        {
                            points += i64::from(pp.earned);
                            stars_earned += stars(i64::from(pp.earned), per_star, max_stars);
                        }
                    }
                    (points, stars_earned.min(max_stars))
                }
                None => {
                    scoring_missing = true;
                    missing.push("scoring".to_owned());
                    (0, 0)
                }
            };
            let reported_at = reported.get(&member.id).cloned().unwrap_or_default();
            rows.push(SummaryRow {
                number: i32::try_from(i + 1).unwrap_or(i32::MAX),
                member_id: member.id.clone(),
                name: member.profile.as_ref().map(|pr| pr.name.clone()).unwrap_or_default(),
                reported: !reported_at.is_empty(),
                reported_community_id: reported_at,
                points,
                stars: stars_earned,
                comment: comments.remove(&member.id).unwrap_or_default().join("；"),
                missing,
            });
        }
        if scoring_missing {
            missing_sources.push("scoring".to_owned());
        }
        Ok(SummaryTable {
            unit_org_id: unit.id.clone(),
            unit_name: unit.name.clone(),
            community_id: community_id.to_owned(),
            period,
            rows,
            missing_sources,
            built_at: now_millis(),
        })
    }

    pub async fn comment_on_member(
        &self,
        p: &Principal,
        community_id: &str,
        member_id: &str,
        period: Period,
        comment: String,
    ) -> Result<MemberComment> {
        let community = self
            .org_of_kind("community_id", community_id, OrgKind::Community)
            .await?;
        self.require_community_admin(p, &community).await?;
        if !self
            .directory
            .member_registered(member_id, community_id, period.year)
            .await?
        {
            return Err(FeedbackError::NotRegistered(format!(
                "member {member_id} has no confirmed report at community {community_id} for {}",
                period.year
            )));
        }
        let c = MemberComment {
            community_id: community_id.to_owned(),
            member_id: member_id.to_owned(),
            period,
            comment,
            author: actor(p),
            updated_at: now_millis(),
        };
        let mut conn = self.conn().await?;
        db::upsert_comment(&mut conn, &c).await?;
        Ok(c)
    }

    // ───────────── notices (附录E) ─────────────

    #[allow(clippy::too_many_arguments)]
    pub async fn send_notice(
        &self,
        p: &Principal,
        request_id: &str,
        community_id: &str,
        unit_org_id: &str,
        period: Period,
        title: String,
        body: String,
        urgent: bool,
    ) -> Result<Notice> {
        if let Some(id) = self.replayed(p, request_id, "SendNotice").await? {
            return self.notice_by_id(&id).await;
        }
        let community = self
            .org_of_kind("community_id", community_id, OrgKind::Community)
            .await?;
        let unit = self.org_of_kind("unit_org_id", unit_org_id, OrgKind::Unit).await?;
        self.require_community_admin(p, &community).await?;
        self.require_paired(&unit, &community, period.year).await?;
        let summary = self.build_summary(&unit, community_id, period).await?;
        let now = now_millis();
        let notice = Notice {
            id: new_id(),
            community_id: community.id.clone(),
            community_path: community.path(),
            unit_org_id: unit.id.clone(),
            unit_path: unit.path(),
            district_id: district_of(&community),
            period,
            title,
            body,
            urgent,
            summary: Some(summary),
            status: NoticeStatus::Sent,
            sent_by: actor(p),
            sent_at: now,
            acknowledged_by: String::new(),
            acknowledged_at: None,
        };
        let mut tx = self.pool.begin().await?;
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "SendNotice").await? {
            drop(tx);
            return self.notice_by_id(&id).await;
        }
        db::insert_notice(&mut tx, &notice).await?;
        let kind = if urgent { "notice.sent.urgent" } else { "notice.sent" };
        let event = Event {
            source: "feedback".into(),
            kind: kind.into(),
            occur_time: now,
            subject_id: notice.id.clone(),
            district_id: notice.district_id.clone(),
            community_id: notice.community_id.clone(),
            unit_org_id: notice.unit_org_id.clone(),
            text: notice.title.clone(),
            ..Default::default()
        };
        db::append_event(&mut tx, &event, None).await?;
        Self::remember(&mut tx, p, request_id, "SendNotice", &notice.id).await?;
        tx.commit().await?;
        self.appended.notify_waiters();
        Ok(notice)
    }

    async fn notice_by_id(&self, id: &str) -> Result<Notice> {
        let mut conn = self.conn().await?;
        db::notice(&mut conn, id)
            .await?
            .ok_or_else(|| FeedbackError::not_found("notice", id))
    }

    /// Both ends read it, and the district it is routed through (and above).
    async fn require_notice_reader(&self, p: &Principal, n: &Notice) -> Result<()> {
        let community = self.directory.org(&n.community_id).await?;
        let unit = self.directory.org(&n.unit_org_id).await?;
        if self.directory.admin_covers(p, &community).await? || self.directory.admin_covers(p, &unit).await? {
            return Ok(());
        }
        Err(FeedbackError::out_of_scope(format!(
            "{} may not read notice {}",
            p.role.as_str(),
            n.id
        )))
    }

    pub async fn get_notice(&self, p: &Principal, id: &str) -> Result<Notice> {
        let notice = self.notice_by_id(id).await?;
        self.require_notice_reader(p, &notice).await?;
        Ok(notice)
    }

    pub async fn list_notices(
        &self,
        p: &Principal,
        org_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<Page<Notice>> {
        let root = self.list_root(p, org_id).await?;
        let mut conn = self.conn().await?;
        let rows = db::list_notices(&mut conn, &root.path(), year, page).await?;
        Ok(page.finish(rows, |n| &n.id))
    }

    /// The unit acknowledges receipt (once; later calls return it as it is).
    pub async fn acknowledge_notice(&self, p: &Principal, id: &str) -> Result<Notice> {
        let notice = self.notice_by_id(id).await?;
        let allowed = p.role == Role::UnitAdmin
            && p.org() == Some(notice.unit_org_id.as_str())
            && self.directory.admin_org(p).await?.is_some();
        if !allowed {
            return Err(FeedbackError::out_of_scope(format!(
                "only unit org {}'s admin may acknowledge notice {id}",
                notice.unit_org_id
            )));
        }
        let mut conn = self.conn().await?;
        db::acknowledge(&mut conn, id, &actor(p), now_millis()).await?;
        db::notice(&mut conn, id)
            .await?
            .ok_or_else(|| FeedbackError::not_found("notice", id))
    }

    // ───────────── ratings (S1 附件3) ─────────────

    pub async fn rate_unit(
        &self,
        p: &Principal,
        community_id: &str,
        unit_org_id: &str,
        year: i32,
        grade: Grade,
        comment: String,
    ) -> Result<UnitRating> {
        let community = self
            .org_of_kind("community_id", community_id, OrgKind::Community)
            .await?;
        let unit = self.org_of_kind("unit_org_id", unit_org_id, OrgKind::Unit).await?;
        self.require_community_admin(p, &community).await?;
        self.require_paired(&unit, &community, year).await?;
        let rating = UnitRating {
            community_id: community.id.clone(),
            community_path: community.path(),
            unit_org_id: unit.id.clone(),
            unit_path: unit.path(),
            year,
            grade,
            comment,
            rated_by: actor(p),
            updated_at: now_millis(),
        };
        let mut conn = self.conn().await?;
        db::upsert_rating(&mut conn, &rating).await?;
        Ok(rating)
    }

    pub async fn list_ratings(
        &self,
        p: &Principal,
        org_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<Page<UnitRating>> {
        let root = self.list_root(p, org_id).await?;
        let mut conn = self.conn().await?;
        let rows = db::list_ratings(&mut conn, &root.path(), year, page).await?;
        // Ratings have a composite key; page on it.
        let keyed: Vec<(String, UnitRating)> = rows.into_iter().map(|r| (db::rating_key(&r), r)).collect();
        let (keyed, next) = page.finish(keyed, |(key, _)| key);
        Ok((keyed.into_iter().map(|(_, r)| r).collect(), next))
    }

    // ───────────── performance cards (S3 附件5) ─────────────

    pub async fn performance_card(&self, p: &Principal, member_id: &str, year: i32) -> Result<Card> {
        self.require_member_reader(p, member_id).await?;
        let member = self.directory.member(member_id).await?;
        let attendance: Vec<vol::Attendance> = self
            .sources
            .attendance(member_id, year)
            .await?
            .into_iter()
            .filter(|a| a.status == vol::AttendanceStatus::Confirmed as i32)
            .collect();
        let ids: Vec<String> = attendance
            .iter()
            .map(|a| a.activity_id.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let sources = self.sources.clone();
        let fetched: Vec<Result<vol::Activity>> = stream::iter(ids)
            .map(move |id| {
                let sources = sources.clone();
                async move { sources.activity(&id).await }
            })
            .buffered(FAN_OUT)
            .collect()
            .await;
        let mut activities = HashMap::new();
        for a in fetched {
            let a = a?;
            activities.insert(a.id.clone(), a);
        }
        let mut lines: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
        let mut entries = Vec::new();
        for a in &attendance {
            let activity = activities.get(&a.activity_id);
            let kind = activity
                .and_then(|x| vol::ActivityKind::try_from(x.kind).ok())
                .map(|k| k.as_str_name().trim_start_matches("ACTIVITY_KIND_").to_owned())
                .unwrap_or_else(|| "UNSPECIFIED".into());
            let way = match kind.as_str() {
                "ORDER" => "order",
                "WISH" => "wish",
                "VISIT" => "visit",
                _ => "activity",
            };
            let minutes = i64::from(a.minutes);
            let line = lines.entry((kind.clone(), way.to_owned())).or_default();
            line.0 += 1;
            line.1 += minutes;
            entries.push(CardEntry {
                attendance_id: a.id.clone(),
                activity_id: a.activity_id.clone(),
                title: activity.map(|x| x.title.clone()).unwrap_or_default(),
                activity_kind: kind,
                community_id: a.community_id.clone(),
                minutes,
                confirmed_at: a.confirm_time.as_ref().map(|t| t.seconds * 1000),
            });
        }
        Ok(Card {
            member_id: member.id,
            name: member.name,
            year,
            lines: lines
                .into_iter()
                .map(|((activity_kind, way), (services, minutes))| CardLine {
                    activity_kind,
                    way,
                    services,
                    minutes,
                })
                .collect(),
            entries,
        })
    }

    // ───────────── objections (附录G) ─────────────

    /// A member disputes an entry on their own card; a unit admin one on the unit's.
    pub async fn raise_objection(
        &self,
        p: &Principal,
        request_id: &str,
        entry_id: &str,
        content: String,
    ) -> Result<Objection> {
        if let Some(id) = self.replayed(p, request_id, "RaiseObjection").await? {
            return self.objection_by_id(&id).await;
        }
        let entry = match self.sources.entry(entry_id).await {
            Err(FeedbackError::NotFound { .. }) => {
                return Err(FeedbackError::invalid(
                    "entry_id",
                    format!("no scoring entry {entry_id}"),
                ));
            }
            other => other?,
        };
        let subject = entry.subject.clone().unwrap_or_default();
        let member_card = subject.kind == dualreport_proto::scoring::v1::SubjectKind::Member as i32;
        let own = if member_card {
            p.member() == Some(subject.id.as_str())
        } else {
            p.role == Role::UnitAdmin
                && p.org() == Some(subject.id.as_str())
                && self.directory.admin_org(p).await?.is_some()
        };
        if !own {
            return Err(FeedbackError::out_of_scope(format!(
                "entry {entry_id} is not on the caller's card; only its member (or unit) may object to it"
            )));
        }
        let community = self.directory.org(&entry.community_id).await?;
        let now = now_millis();
        let objection = Objection {
            id: new_id(),
            raised_by: actor(p),
            subject_kind: if member_card {
                "member".into()
            } else {
                "unit_org".into()
            },
            subject_id: subject.id,
            entry_id: entry.id,
            community_id: community.id.clone(),
            community_path: community.path(),
            district_id: district_of(&community),
            content: content.clone(),
            department: String::new(),
            status: ObjectionStatus::Open,
            result: String::new(),
            correction_points: 0,
            correction_entry_id: String::new(),
            correction_error: String::new(),
            correction_attempts: 0,
            raised_at: now,
            decided_at: None,
            history: Vec::new(),
        };
        let mut tx = self.pool.begin().await?;
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "RaiseObjection").await? {
            drop(tx);
            return self.objection_by_id(&id).await;
        }
        db::insert_objection(&mut tx, &objection).await?;
        db::add_step(&mut tx, &objection.id, &step("raised", p, content, Vec::new(), now)).await?;
        Self::remember(&mut tx, p, request_id, "RaiseObjection", &objection.id).await?;
        tx.commit().await?;
        self.objection_by_id(&objection.id).await
    }

    async fn objection_by_id(&self, id: &str) -> Result<Objection> {
        let mut conn = self.conn().await?;
        db::objection(&mut conn, id)
            .await?
            .ok_or_else(|| FeedbackError::not_found("objection", id))
    }

    /// Admins over the community where the disputed entry was recorded handle it.
    async fn require_handler(&self, p: &Principal, o: &Objection) -> Result<()> {
        let community = self.directory.org(&o.community_id).await?;
        if self.directory.admin_covers(p, &community).await? {
            return Ok(());
        }
        Err(FeedbackError::out_of_scope(format!(
            "{} may not handle objection {} (community {})",
            p.role.as_str(),
            o.id,
            o.community_id
        )))
    }

    fn raised_by_caller(&self, p: &Principal, o: &Objection) -> bool {
        match o.subject_kind.as_str() {
            "member" => p.member() == Some(o.subject_id.as_str()),
            _ => p.role == Role::UnitAdmin && p.org() == Some(o.subject_id.as_str()),
        }
    }

    pub async fn get_objection(&self, p: &Principal, id: &str) -> Result<Objection> {
        let o = self.objection_by_id(id).await?;
        if !self.raised_by_caller(p, &o) {
            self.require_handler(p, &o).await?;
        }
        Ok(o)
    }

    pub async fn assign_objection(&self, p: &Principal, id: &str, department: String) -> Result<Objection> {
        let o = self.objection_by_id(id).await?;
        self.require_handler(p, &o).await?;
        let mut tx = self.pool.begin().await?;
        if !db::assign(&mut tx, id, &department).await? {
            return Err(FeedbackError::WrongState(format!("objection {id} is already decided")));
        }
        db::add_step(&mut tx, id, &step("assigned", p, department, Vec::new(), now_millis())).await?;
        tx.commit().await?;
        self.objection_by_id(id).await
    }

    pub async fn add_note(
        &self,
        p: &Principal,
        request_id: &str,
        id: &str,
        note: String,
        evidence_ids: Vec<String>,
    ) -> Result<Objection> {
        let o = self.objection_by_id(id).await?;
        self.require_handler(p, &o).await?;
        let mut tx = self.pool.begin().await?;
        if Self::replayed_in(&mut tx, p, request_id, "AddInvestigationNote")
            .await?
            .is_some()
        {
            drop(tx);
            return self.objection_by_id(id).await;
        }
        if o.status.decided() {
            return Err(FeedbackError::WrongState(format!(
                "objection {id} is already {}; its investigation is closed",
                o.status.as_str()
            )));
        }
        db::add_step(&mut tx, id, &step("note", p, note, evidence_ids, now_millis())).await?;
        Self::remember(&mut tx, p, request_id, "AddInvestigationNote", id).await?;
        tx.commit().await?;
        self.objection_by_id(id).await
    }

    /// Decides once. Upheld: the correction is sent to scoring now (source key
    /// `objection:<id>`, so a retry cannot pay twice) and, if scoring does not
    /// take it, retried in the background until it does.
    pub async fn decide_objection(
        &self,
        p: &Principal,
        request_id: &str,
        id: &str,
        upheld: bool,
        points: i64,
        reason: String,
    ) -> Result<Objection> {
        if let Some(id) = self.replayed(p, request_id, "DecideObjection").await? {
            return self.objection_by_id(&id).await;
        }
        let o = self.objection_by_id(id).await?;
        self.require_handler(p, &o).await?;
        if o.status.decided() {
            return Err(FeedbackError::WrongState(format!(
                "objection {id} was already decided ({})",
                o.status.as_str()
            )));
        }
        let status = if upheld {
            ObjectionStatus::Upheld
        } else {
            ObjectionStatus::Rejected
        };
        let now = now_millis();
        let mut tx = self.pool.begin().await?;
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "DecideObjection").await? {
            drop(tx);
            return self.objection_by_id(&id).await;
        }
        let points = if upheld { points } else { 0 };
        if !db::decide(&mut tx, id, status, &reason, points, now, now + CORRECTION_LEASE_MS).await? {
            return Err(FeedbackError::WrongState(format!("objection {id} was already decided")));
        }
        db::add_step(&mut tx, id, &step(status.as_str(), p, reason.clone(), Vec::new(), now)).await?;
        let member_id = if o.subject_kind == "member" {
            o.subject_id.clone()
        } else {
            String::new()
        };
        let unit_org_id = if o.subject_kind == "member" {
            String::new()
        } else {
            o.subject_id.clone()
        };
        let event = Event {
            source: "feedback".into(),
            kind: format!("objection.{}", status.as_str()),
            occur_time: now,
            subject_id: o.id.clone(),
            district_id: o.district_id.clone(),
            community_id: o.community_id.clone(),
            unit_org_id,
            member_id,
            text: reason,
            ..Default::default()
        };
        db::append_event(&mut tx, &event, None).await?;
        Self::remember(&mut tx, p, request_id, "DecideObjection", id).await?;
        tx.commit().await?;
        self.appended.notify_waiters();
        if upheld {
            let decided = self.objection_by_id(id).await?;
            self.send_correction(&decided).await?;
        }
        self.objection_by_id(id).await
    }

    /// One attempt at an upheld objection's correction.
    pub async fn send_correction(&self, o: &Objection) -> Result<()> {
        let key = format!("objection:{}", o.id);
        let points = i32::try_from(o.correction_points).unwrap_or(0);
        let outcome = self.sources.correct(&key, &o.entry_id, points, &o.result).await;
        let mut tx = self.pool.begin().await?;
        match outcome {
            Ok(entry_id) => {
                if db::corrected(&mut tx, &o.id, &entry_id).await? {
                    let text = format!("correction {points:+} recorded as entry {entry_id}");
                    db::add_step(
                        &mut tx,
                        &o.id,
                        &Step {
                            action: "corrected".into(),
                            actor: "scoring".into(),
                            text,
                            evidence_ids: Vec::new(),
                            at: now_millis(),
                        },
                    )
                    .await?;
                }
                tracing::info!(objection = %o.id, entry = %entry_id, "correction recorded");
            }
            Err(status) => {
                use tonic::Code;
                let transient = matches!(
                    status.code(),
                    Code::Unavailable
                        | Code::DeadlineExceeded
                        | Code::Unknown
                        | Code::Internal
                        | Code::Aborted
                        | Code::ResourceExhausted
                        | Code::Cancelled
                );
                let error = format!("{:?}: {}", status.code(), status.message());
                let (initial, max) = self.rules.correction_backoff_ms;
                let exp = u32::try_from(o.correction_attempts.clamp(0, 20)).unwrap_or(20);
                let delay = initial.saturating_mul(1i64 << exp).min(max);
                // A refusal (the points break the entry's rules) is not retried; it stays visible.
                let next = if transient { now_millis() + delay } else { i64::MAX };
                db::correction_failed(&mut tx, &o.id, &error, next).await?;
                tracing::warn!(objection = %o.id, %error, transient, "correction not recorded");
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A member's or unit admin's own objections; or those at communities under an org.
    pub async fn list_objections(&self, p: &Principal, org_id: &str, page: &PageRequest) -> Result<Page<Objection>> {
        // Either the raiser's own card (subject) or everything at communities under an org (path).
        let (subject, path) = match (org_id.is_empty(), &p.scope, p.role) {
            (true, Scope::Member(me), _) => (me.clone(), String::new()),
            (true, Scope::Org(org), Role::UnitAdmin) => (org.clone(), String::new()),
            _ => (String::new(), self.list_root(p, org_id).await?.path()),
        };
        let mut conn = self.conn().await?;
        let rows = db::list_objections(&mut conn, &subject, &path, page).await?;
        Ok(page.finish(rows, |o| &o.id))
    }

    /// Every objection [`Self::list_objections`] would page through (for exports).
    pub async fn all_objections(&self, p: &Principal, org_id: &str) -> Result<Vec<Objection>> {
        let mut out = Vec::new();
        let mut page = PageRequest {
            size: dualreport_platform::paging::MAX_PAGE_SIZE,
            after: String::new(),
        };
        loop {
            let (rows, next) = self.list_objections(p, org_id, &page).await?;
            let last = rows.last().map(|o| o.id.clone());
            out.extend(rows);
            match (next.is_empty(), last) {
                (false, Some(last)) => page.after = last,
                _ => return Ok(out),
            }
        }
    }

    /// The member's 服务登记表 from scoring, for the member or an admin over
    /// the community or the member's unit.
    pub async fn registration_table(
        &self,
        p: &Principal,
        member_id: &str,
        community_id: &str,
        period: Period,
    ) -> Result<dualreport_proto::scoring::v1::RegistrationTable> {
        let community = self
            .org_of_kind("community_id", community_id, OrgKind::Community)
            .await?;
        if p.member() != Some(member_id) && !self.directory.admin_covers(p, &community).await? {
            self.require_member_reader(p, member_id).await?;
        }
        self.sources
            .registration_table(member_id, community_id, period.year, period.half)
            .await
    }

    // ───────────── spot checks (S2 保障(三)) ─────────────

    pub async fn draw_spot_check(
        &self,
        p: &Principal,
        request_id: &str,
        unit_org_id: &str,
        year: i32,
        percent: u32,
        seed: String,
    ) -> Result<SpotCheck> {
        if let Some(id) = self.replayed(p, request_id, "DrawSpotCheck").await? {
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
            let counted = matches!(
                reg::MemberReportStatus::try_from(r.status),
                Ok(reg::MemberReportStatus::Confirmed | reg::MemberReportStatus::Ended)
            );
            if counted {
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
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "DrawSpotCheck").await? {
            drop(tx);
            return self.spot_check_by_id(&id).await;
        }
        db::insert_spot_check(&mut tx, &check).await?;
        Self::remember(&mut tx, p, request_id, "DrawSpotCheck", &check.id).await?;
        tx.commit().await?;
        Ok(check)
    }

    async fn spot_check_by_id(&self, id: &str) -> Result<SpotCheck> {
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
        let mut conn = self.conn().await?;
        if !db::record_outcome(
            &mut conn,
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
        drop(conn);
        self.spot_check_by_id(id).await
    }

    // ───────────── compliance warnings ─────────────

    pub async fn evaluate_warnings(
        &self,
        p: &Principal,
        unit_org_id: &str,
        year: i32,
        as_of: Date,
    ) -> Result<Evaluation> {
        let unit = self.org_of_kind("unit_org_id", unit_org_id, OrgKind::Unit).await?;
        self.require_admin_over(p, &unit).await?;
        self.evaluate(&unit, year, as_of).await
    }

    /// Gathers the facts, applies the rules, stores new warnings with their
    /// feed events in one transaction. Any source that does not answer stops
    /// it (UNAVAILABLE): a warning is never raised from half the facts.
    pub async fn evaluate(&self, unit: &OrgInfo, year: i32, as_of: Date) -> Result<Evaluation> {
        let members = self.sources.unit_members(&unit.id).await?;
        let reports = self.sources.member_reports(&unit.id, year).await?;
        let relocations = self
            .sources
            .overdue_relocations(&unit.id, dualreport_platform::wire::date_to_pb(as_of))
            .await?;
        let year_over = warnings::year_over(year, as_of);
        let mut reported: HashMap<&str, &str> = HashMap::new();
        for r in &reports {
            if matches!(
                reg::MemberReportStatus::try_from(r.status),
                Ok(reg::MemberReportStatus::Confirmed | reg::MemberReportStatus::Ended)
            ) {
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
                services.insert(t.member_id, i64::from(t.services));
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
            let profile = m.profile.clone().unwrap_or_default();
            let community = reported
                .get(m.id.as_str())
                .map(|c| (*c).to_owned())
                .unwrap_or(profile.residence_community_id);
            facts.push(MemberFacts {
                id: m.id.clone(),
                name: profile.name,
                community_id: community,
                reported: reported.contains_key(m.id.as_str()),
                overdue_relocations: relocations
                    .iter()
                    .filter(|r| r.member_id == m.id)
                    .map(|r| OverdueRelocation {
                        to_community_id: r.to_community_id.clone(),
                        due_on: r
                            .due_on
                            .as_ref()
                            .and_then(dualreport_platform::wire::date_from_pb)
                            .unwrap_or(as_of),
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
            let Some(d) = r.served_on.as_ref().and_then(dualreport_platform::wire::date_from_pb) else {
                continue;
            };
            let month0 = chrono::Datelike::month0(&d) as usize;
            match vol::UnitServiceKind::try_from(r.kind).unwrap_or(vol::UnitServiceKind::Unspecified) {
                vol::UnitServiceKind::Unspecified | vol::UnitServiceKind::CommunityActivity => per_month[month0] += 1,
                vol::UnitServiceKind::JointMeeting => per_quarter[month0 / 3] += 1,
                vol::UnitServiceKind::ThemePartyDay => per_half[month0 / 6] += 1,
            }
        }
        let completed_projects = if year_over {
            let agreements = self.sources.agreements(&unit.id, year).await?;
            Some(
                agreements
                    .iter()
                    .flat_map(|a| &a.projects)
                    .filter(|pr| pr.status == vol::ProjectStatus::Completed as i32)
                    .count() as i64,
            )
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
        let findings = warnings::evaluate(&self.rules.policy, year, as_of, &unit_facts, &facts);
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
                    &warning_event("warning.raised", id, f, district, text, now),
                    None,
                )
                .await?;
            }
        }
        // A warning of a rule judged now, about a subject judged now, that was
        // not found again no longer holds: withdraw it (kept, with when and why).
        let judged = warnings::judged_rules(&self.rules.policy, year, as_of);
        let subjects: HashSet<&str> = facts.iter().map(|m| m.id.as_str()).chain([unit.id.as_str()]).collect();
        let reason = warnings::withdrawal_reason(as_of);
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
                    &warning_event("warning.withdrawn", w.id.clone(), f, district, text, now),
                    None,
                )
                .await?;
            }
        }
        let standing = db::unit_warnings(&mut tx, &unit.id, year).await?;
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

    // ───────────── the feed ─────────────

    /// The cloud role and city admins read every event; a district admin
    /// reads its district's (`Some(district_id)`). Anyone else is refused.
    pub async fn feed_scope(&self, p: &Principal) -> Result<Option<String>> {
        match p.role {
            Role::Cloud => return Ok(None),
            Role::CityAdmin | Role::DistrictAdmin => {
                if let Some(org) = self.directory.admin_org(p).await? {
                    return Ok((p.role == Role::DistrictAdmin).then_some(org.id));
                }
            }
            _ => {}
        }
        Err(FeedbackError::out_of_scope(format!(
            "{} may not read the event feed (cloud, city_admin and district_admin may)",
            p.role.as_str()
        )))
    }

    /// Events after `after`, oldest first; only `district`'s when given.
    pub async fn events_after(&self, after: i64, limit: i64, district: Option<&str>) -> Result<Vec<Event>> {
        db::events_after(&self.pool, after, limit, district.unwrap_or_default()).await
    }

    pub async fn last_sequence(&self) -> Result<i64> {
        db::last_sequence(&self.pool).await
    }

    /// The webhook is the city's single delivery to the cloud: city admins
    /// (and the cloud itself) manage it.
    async fn require_webhook_admin(&self, p: &Principal) -> Result<()> {
        let allowed = match p.role {
            Role::Cloud => true,
            Role::CityAdmin => self.directory.admin_org(p).await?.is_some(),
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(FeedbackError::out_of_scope(format!(
                "{} may not manage the webhook (city_admin and cloud may)",
                p.role.as_str()
            )))
        }
    }

    pub async fn set_webhook(&self, p: &Principal, url: String, secret: String) -> Result<(Option<Webhook>, i64)> {
        self.require_webhook_admin(p).await?;
        let last = self.last_sequence().await?;
        let mut conn = self.conn().await?;
        db::set_webhook(&mut conn, &url, &secret, last, now_millis()).await?;
        let failed = db::count_failed(&mut conn).await?;
        Ok((db::webhook(&mut conn).await?, failed))
    }

    pub async fn get_webhook(&self, p: &Principal) -> Result<(Option<Webhook>, i64)> {
        self.require_webhook_admin(p).await?;
        let mut conn = self.conn().await?;
        let failed = db::count_failed(&mut conn).await?;
        Ok((db::webhook(&mut conn).await?, failed))
    }

    pub async fn list_failed(&self, p: &Principal, page: &PageRequest) -> Result<Page<FailedDelivery>> {
        self.require_webhook_admin(p).await?;
        let mut conn = self.conn().await?;
        let rows = db::list_failed(&mut conn, page).await?;
        Ok(page.finish(rows, |d| &d.id))
    }

    /// Sends a failed delivery again now; removed from the list when accepted.
    pub async fn replay_delivery(&self, p: &Principal, id: &str, post: &crate::feed::Poster) -> Result<(bool, String)> {
        self.require_webhook_admin(p).await?;
        let mut conn = self.conn().await?;
        let delivery = db::failed(&mut conn, id)
            .await?
            .ok_or_else(|| FeedbackError::not_found("failed delivery", id))?;
        let hook = db::webhook(&mut conn)
            .await?
            .filter(|h| !h.url.is_empty())
            .ok_or_else(|| FeedbackError::WrongState("no webhook is set".into()))?;
        drop(conn);
        let outcome = post.send(&hook, &delivery.event).await;
        let mut conn = self.conn().await?;
        let (delivered, error) = match outcome {
            Ok(()) => (true, String::new()),
            Err(e) => (false, e.message),
        };
        db::replay_result(&mut conn, id, delivered, &error).await?;
        Ok((delivered, error))
    }
}

/// A member's year once it is over: `services` from scoring's ledger (the
/// authority on what was served), activities attended and the pledge from
/// volunteering.
async fn year_record(
    sources: &Sources,
    member_id: &str,
    year: i32,
    year_over: bool,
    services: i64,
) -> Result<Option<YearRecord>> {
    if !year_over {
        return Ok(None);
    }
    let attendance = sources.attendance(member_id, year).await?;
    let confirmed: Vec<&vol::Attendance> = attendance
        .iter()
        .filter(|a| a.status == vol::AttendanceStatus::Confirmed as i32)
        .collect();
    let activities = confirmed.iter().map(|a| &a.activity_id).collect::<HashSet<_>>().len();
    let pledge = match sources.pledge(member_id, year).await? {
        None => PledgeState::Missing,
        Some(pl) => {
            let progress = pl.progress.unwrap_or_default();
            if progress.fulfilled {
                PledgeState::Fulfilled
            } else {
                PledgeState::Unmet {
                    services_done: i64::from(progress.services_done),
                    services_promised: i64::from(pl.services),
                }
            }
        }
    };
    Ok(Some(YearRecord {
        services,
        activities: activities as i64,
        pledge,
    }))
}

fn step(action: &str, p: &Principal, text: String, evidence_ids: Vec<String>, at: i64) -> Step {
    Step {
        action: action.to_owned(),
        actor: actor(p),
        text,
        evidence_ids,
        at,
    }
}

/// What one evaluation of a unit's warnings did.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// Every warning of the unit and year, in force or withdrawn.
    pub warnings: Vec<StoredWarning>,
    pub raised: usize,
    pub withdrawn: usize,
}

/// The feed event of a warning raised or withdrawn.
fn warning_event(kind: &str, id: String, f: &warnings::Finding, district: String, text: String, now: i64) -> Event {
    Event {
        source: "feedback".into(),
        kind: kind.into(),
        occur_time: now,
        subject_id: id,
        district_id: district,
        community_id: f.community_id.clone(),
        unit_org_id: f.unit_org_id.clone(),
        member_id: if f.subject_kind == "member" {
            f.subject_id.clone()
        } else {
            String::new()
        },
        text,
        ..Default::default()
    }
}
