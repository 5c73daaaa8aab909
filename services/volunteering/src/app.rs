//! Volunteering's use cases: who may do what, and in which transaction.
//!
//! Each method takes the authenticated [`Principal`] and validated input, asks
//! the registry (through the [`Directory`]) what it needs *before* it opens a
//! transaction, checks scope, then runs its reads and writes in one
//! transaction, so a refused or failed call leaves nothing behind. A
//! confirmation writes the attendance and its outbox row together; the
//! [`crate::relay`] pays it to scoring later.

use std::sync::Arc;

use bytes::Bytes;
use dualreport_platform::auth::{Principal, Role, Scope};
use dualreport_platform::directory::{Directory, DirectoryError, OrgInfo, OrgKind};
use dualreport_platform::error::FieldError;
use dualreport_platform::paging::PageRequest;
use dualreport_platform::{idempotency, journal, trace_context};
use sqlx::{AnyConnection, AnyPool};

use crate::blob::BlobStore;
use crate::domain::evidence::{self, Limits};
use crate::domain::model::*;
use crate::domain::{
    Date, Result, STANDARD_POSTS, VolunteeringError, china_date, china_today, new_check_in_code, now_millis,
};
use crate::settings::HouseholdSettings;
use crate::storage as db;

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The rules volunteering applies, from `[policy]` and its own sections.
#[derive(Debug, Clone)]
pub struct Rules {
    pub min_posts_claimed: i64,
    pub max_posts_claimed: i64,
    pub max_adjustment: i64,
    pub min_pledge_items: usize,
    pub households: HouseholdSettings,
    pub evidence: Limits,
    pub code_ttl_millis: i64,
}

/// An activity to create, validated field by field.
#[derive(Debug, Clone)]
pub struct NewActivity {
    pub community_id: String,
    pub kind: ActivityKind,
    pub title: String,
    pub content: String,
    pub post_id: String,
    pub place: String,
    pub start_at: i64,
    pub end_at: i64,
    pub capacity: i64,
    pub organiser: String,
    pub contact: String,
    pub team_id: String,
    pub studio_id: String,
    pub agreement_id: String,
}

/// Volunteering's state: the pool, the registry directory, the blob store, the rules.
#[derive(Clone)]
pub struct Volunteering {
    pool: AnyPool,
    directory: Directory,
    blobs: BlobStore,
    rules: Arc<Rules>,
}

/// A page of rows and the token of the next.
pub type Page<T> = (Vec<T>, String);

impl Volunteering {
    pub fn new(pool: AnyPool, directory: Directory, blobs: BlobStore, rules: Rules) -> Self {
        Self {
            pool,
            directory,
            blobs,
            rules: Arc::new(rules),
        }
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    // ───────────── scope ─────────────

    /// The community named in a call: it must be a community (or service centre).
    async fn community(&self, field: &str, id: &str) -> Result<OrgInfo> {
        let org = match self.directory.org(id).await {
            Err(DirectoryError::NotFound { .. }) => {
                return Err(VolunteeringError::invalid(field, format!("no organization {id}")));
            }
            other => other?,
        };
        if org.kind != OrgKind::Community {
            return Err(VolunteeringError::invalid(field, format!("{id} is not a community")));
        }
        Ok(org)
    }

    /// Community admins manage their own community.
    async fn require_community_admin(&self, p: &Principal, community_id: &str) -> Result<()> {
        if p.role == Role::CommunityAdmin
            && p.org() == Some(community_id)
            && self.directory.admin_org(p).await?.is_some()
        {
            return Ok(());
        }
        Err(VolunteeringError::out_of_scope(format!(
            "{} may not manage community {community_id}",
            p.role.as_str()
        )))
    }

    /// Members act for themselves only.
    fn require_self(p: &Principal, member_id: &str) -> Result<()> {
        if p.member() == Some(member_id) {
            return Ok(());
        }
        Err(VolunteeringError::out_of_scope(format!(
            "{} may not act for member {member_id}",
            p.role.as_str()
        )))
    }

    /// Unit admins act for their own unit org.
    async fn require_unit_admin(&self, p: &Principal, unit_org_id: &str) -> Result<()> {
        if p.role == Role::UnitAdmin && p.org() == Some(unit_org_id) && self.directory.admin_org(p).await?.is_some() {
            return Ok(());
        }
        Err(VolunteeringError::out_of_scope(format!(
            "{} may not act for unit org {unit_org_id}",
            p.role.as_str()
        )))
    }

    /// Who may read what a community publishes (posts, teams, pledges,
    /// activities, orders, wishes, agreements): admins at or above it, the
    /// `service` role, members registered there this year or last, and unit
    /// orgs paired with it this year or last.
    async fn require_community_reader(&self, p: &Principal, community_id: &str) -> Result<OrgInfo> {
        let org = self.community("community_id", community_id).await?;
        let this_year = chrono::Datelike::year(&china_today());
        let allowed = match &p.scope {
            Scope::Service => true,
            Scope::Cloud => false,
            Scope::Member(member) => {
                self.directory
                    .member_registered(member, community_id, this_year)
                    .await?
                    || self
                        .directory
                        .member_registered(member, community_id, this_year - 1)
                        .await?
            }
            Scope::Org(unit) if p.role == Role::UnitAdmin => {
                self.directory.admin_org(p).await?.is_some()
                    && (self.directory.unit_registered(unit, community_id, this_year).await?
                        || self
                            .directory
                            .unit_registered(unit, community_id, this_year - 1)
                            .await?)
            }
            Scope::Org(_) => self.directory.admin_covers(p, &org).await?,
        };
        if allowed {
            Ok(org)
        } else {
            Err(VolunteeringError::out_of_scope(format!(
                "{} may not read community {community_id}",
                p.role.as_str()
            )))
        }
    }

    /// Who may read a member's own records (claims, pledge, households,
    /// attendance): the member, admins over the member's unit or community of
    /// residence, the `service` role.
    async fn require_member_reader(&self, p: &Principal, member_id: &str) -> Result<()> {
        let allowed = match &p.scope {
            Scope::Service => true,
            Scope::Cloud => false,
            Scope::Member(id) => id == member_id,
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
            Err(VolunteeringError::out_of_scope(format!(
                "{} may not read the records of member {member_id}",
                p.role.as_str()
            )))
        }
    }

    /// The member must be registered at the community on `on` (a member who
    /// moved belongs to the new community from the move on, and no longer to
    /// the old one).
    async fn require_registered_on(&self, member_id: &str, community_id: &str, on: Date) -> Result<()> {
        self.directory.member(member_id).await?;
        if self.directory.member_registered_on(member_id, community_id, on).await? {
            return Ok(());
        }
        Err(VolunteeringError::NotRegistered(format!(
            "member {member_id} is not registered at community {community_id} on {on}"
        )))
    }

    /// A claim is made today for its year: registered today when the year is
    /// this one, registered that year otherwise.
    async fn require_registered_for_claim(&self, member_id: &str, community_id: &str, year: i32) -> Result<()> {
        let today = china_today();
        if chrono::Datelike::year(&today) == year {
            self.require_registered_on(member_id, community_id, today).await
        } else {
            self.require_registered(member_id, community_id, year).await
        }
    }

    /// The member must have a confirmed report at the community for `year`.
    async fn require_registered(&self, member_id: &str, community_id: &str, year: i32) -> Result<()> {
        self.directory.member(member_id).await?;
        if self.directory.member_registered(member_id, community_id, year).await? {
            return Ok(());
        }
        Err(VolunteeringError::NotRegistered(format!(
            "member {member_id} has no confirmed report at community {community_id} for {year}"
        )))
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// The resource an earlier call with this `request_id` produced.
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

    /// Every evidence id must exist and belong to the community.
    async fn check_evidence(conn: &mut AnyConnection, field: &str, ids: &[String], community_id: &str) -> Result<()> {
        for (i, id) in ids.iter().enumerate() {
            match db::get_evidence(conn, id).await? {
                Some(e) if e.community_id == community_id => {}
                Some(_) => {
                    return Err(VolunteeringError::invalid(
                        &format!("{field}[{i}]"),
                        format!("evidence {id} belongs to another community"),
                    ));
                }
                None => {
                    return Err(VolunteeringError::invalid(
                        &format!("{field}[{i}]"),
                        format!("no evidence {id}; upload it first"),
                    ));
                }
            }
        }
        Ok(())
    }

    // ───────────── posts and claims ─────────────

    /// Gives a community the standard catalogue the first time it is used.
    async fn ensure_catalogue(conn: &mut AnyConnection, community_id: &str) -> Result<()> {
        if db::count_posts(conn, community_id).await? > 0 {
            return Ok(());
        }
        let now = now_millis();
        for (name, description) in STANDARD_POSTS {
            let post = Post {
                id: new_id(),
                community_id: community_id.to_owned(),
                name: name.to_owned(),
                description: description.to_owned(),
                standard: true,
                created_at: now,
            };
            db::insert_post_if_absent(conn, &post).await?;
        }
        Ok(())
    }

    pub async fn list_posts(&self, p: &Principal, community_id: &str) -> Result<Vec<Post>> {
        self.require_community_reader(p, community_id).await?;
        let mut tx = self.pool.begin().await?;
        Self::ensure_catalogue(&mut tx, community_id).await?;
        let posts = db::list_posts(&mut tx, community_id).await?;
        tx.commit().await?;
        Ok(posts)
    }

    async fn post(conn: &mut AnyConnection, field: &str, id: &str, community_id: Option<&str>) -> Result<Post> {
        let post = db::get_post(conn, id)
            .await?
            .ok_or_else(|| VolunteeringError::invalid(field, format!("no post {id}")))?;
        if let Some(community) = community_id
            && post.community_id != community
        {
            return Err(VolunteeringError::invalid(
                field,
                format!("post {id} belongs to another community"),
            ));
        }
        Ok(post)
    }

    pub async fn create_post(&self, p: &Principal, request_id: &str, post: Post) -> Result<Post> {
        self.community("community_id", &post.community_id).await?;
        self.require_community_admin(p, &post.community_id).await?;
        if let Some(id) = self.replayed(p, request_id, "CreatePost").await? {
            return db::get_post(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("post", &id));
        }
        let mut tx = self.pool.begin().await?;
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "CreatePost").await? {
            drop(tx);
            return db::get_post(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("post", &id));
        }
        Self::ensure_catalogue(&mut tx, &post.community_id).await?;
        match db::insert_post(&mut tx, &post).await {
            Err(e) if db::is_unique_violation(&e) => {
                return Err(VolunteeringError::AlreadyExists(format!(
                    "community {} already has a post named {}",
                    post.community_id, post.name
                )));
            }
            other => other?,
        }
        Self::remember(&mut tx, p, request_id, "CreatePost", &post.id).await?;
        tx.commit().await?;
        Ok(post)
    }

    pub async fn claim_post(
        &self,
        p: &Principal,
        request_id: &str,
        member_id: &str,
        post_id: &str,
        year: i32,
    ) -> Result<Claim> {
        Self::require_self(p, member_id)?;
        if let Some(id) = self.replayed(p, request_id, "ClaimPost").await? {
            return db::get_claim(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("claim", &id));
        }
        let post = Self::post(&mut *self.conn().await?, "post_id", post_id, None).await?;
        self.require_registered_for_claim(member_id, &post.community_id, year)
            .await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "ClaimPost").await? {
            drop(tx);
            return db::get_claim(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("claim", &id));
        }
        if let Some(existing) = db::claim_of(&mut tx, member_id, post_id, year).await? {
            return Ok(existing);
        }
        if !db::take_claim_slot(&mut tx, member_id, year, self.rules.max_posts_claimed).await? {
            return Err(VolunteeringError::OutOfBounds(format!(
                "member {member_id} already holds {} posts for {year}, the most the policy allows",
                self.rules.max_posts_claimed
            )));
        }
        let claim = Claim {
            id: new_id(),
            member_id: member_id.to_owned(),
            post_id: post.id.clone(),
            post_name: post.name.clone(),
            community_id: post.community_id.clone(),
            year,
            created_at: now_millis(),
        };
        db::insert_claim(&mut tx, &claim).await?;
        Self::remember(&mut tx, p, request_id, "ClaimPost", &claim.id).await?;
        tx.commit().await?;
        Ok(claim)
    }

    pub async fn withdraw_claim(&self, p: &Principal, claim_id: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let claim = db::get_claim(&mut tx, claim_id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("claim", claim_id))?;
        Self::require_self(p, &claim.member_id)?;
        if db::delete_claim(&mut tx, claim_id).await? {
            db::release_claim_slot(&mut tx, &claim.member_id, claim.year).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claims of a member (with whether they meet the minimum) or of a community.
    pub async fn list_claims(
        &self,
        p: &Principal,
        member_id: &str,
        community_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<(Page<Claim>, bool)> {
        let by_member = !member_id.is_empty();
        if by_member {
            self.require_member_reader(p, member_id).await?;
        } else {
            self.require_community_reader(p, community_id).await?;
        }
        let mut conn = self.conn().await?;
        let key = if by_member { member_id } else { community_id };
        let rows = db::list_claims(&mut conn, by_member, key, year, page).await?;
        let meets = by_member && db::count_claims(&mut conn, member_id, year).await? >= self.rules.min_posts_claimed;
        Ok((page.finish(rows, |c| &c.id), meets))
    }

    // ───────────── teams and studios ─────────────

    pub async fn create_team(&self, p: &Principal, request_id: &str, team: Team) -> Result<Team> {
        self.community("community_id", &team.community_id).await?;
        self.require_community_admin(p, &team.community_id).await?;
        if let Some(id) = self.replayed(p, request_id, "CreateTeam").await? {
            return self.team(&id).await;
        }
        let mut tx = self.pool.begin().await?;
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "CreateTeam").await? {
            drop(tx);
            return self.team(&id).await;
        }
        if !team.post_id.is_empty() {
            Self::post(&mut tx, "post_id", &team.post_id, Some(&team.community_id)).await?;
        }
        match db::insert_team(&mut tx, &team).await {
            Err(e) if db::is_unique_violation(&e) => {
                return Err(VolunteeringError::AlreadyExists(format!(
                    "community {} already has a team named {}",
                    team.community_id, team.name
                )));
            }
            other => other?,
        }
        Self::remember(&mut tx, p, request_id, "CreateTeam", &team.id).await?;
        tx.commit().await?;
        Ok(team)
    }

    async fn team(&self, id: &str) -> Result<Team> {
        db::get_team(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("team", id))
    }

    /// A member joins (`join`) or leaves a team of a community where they are registered.
    pub async fn change_team(&self, p: &Principal, team_id: &str, member_id: &str, join: bool) -> Result<Team> {
        Self::require_self(p, member_id)?;
        let team = self.team(team_id).await?;
        let mut conn = if join {
            let year = chrono::Datelike::year(&china_today());
            self.require_registered(member_id, &team.community_id, year).await?;
            let mut conn = self.conn().await?;
            db::join_team(&mut conn, team_id, member_id, now_millis()).await?;
            conn
        } else {
            let mut conn = self.conn().await?;
            db::leave_team(&mut conn, team_id, member_id).await?;
            conn
        };
        db::get_team(&mut conn, team_id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("team", team_id))
    }

    pub async fn list_teams(&self, p: &Principal, community_id: &str) -> Result<Vec<Team>> {
        self.require_community_reader(p, community_id).await?;
        db::list_teams(&mut *self.conn().await?, community_id).await
    }

    pub async fn create_studio(&self, p: &Principal, request_id: &str, studio: Studio) -> Result<Studio> {
        self.community("community_id", &studio.community_id).await?;
        self.require_community_admin(p, &studio.community_id).await?;
        if let Some(id) = self.replayed(p, request_id, "CreateStudio").await? {
            return db::get_studio(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("studio", &id));
        }
        let year = chrono::Datelike::year(&china_today());
        self.require_registered(&studio.member_id, &studio.community_id, year)
            .await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "CreateStudio").await? {
            drop(tx);
            return db::get_studio(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("studio", &id));
        }
        match db::insert_studio(&mut tx, &studio).await {
            Err(e) if db::is_unique_violation(&e) => {
                return Err(VolunteeringError::AlreadyExists(format!(
                    "community {} already has a studio named {}",
                    studio.community_id, studio.name
                )));
            }
            other => other?,
        }
        Self::remember(&mut tx, p, request_id, "CreateStudio", &studio.id).await?;
        tx.commit().await?;
        Ok(studio)
    }

    pub async fn list_studios(&self, p: &Principal, community_id: &str) -> Result<Vec<Studio>> {
        self.require_community_reader(p, community_id).await?;
        db::list_studios(&mut *self.conn().await?, community_id).await
    }

    // ───────────── pledges ─────────────

    pub async fn set_pledge(&self, p: &Principal, pledge: Pledge) -> Result<(Pledge, Progress)> {
        Self::require_self(p, &pledge.member_id)?;
        self.community("community_id", &pledge.community_id).await?;
        if pledge.items.len() < self.rules.min_pledge_items {
            return Err(VolunteeringError::invalid(
                "items",
                format!(
                    "must name at least {} service items (policy)",
                    self.rules.min_pledge_items
                ),
            ));
        }
        self.require_registered(&pledge.member_id, &pledge.community_id, pledge.year)
            .await?;
        let mut conn = self.conn().await?;
        db::upsert_pledge(&mut conn, &pledge).await?;
        let progress = db::member_progress(&mut conn, &pledge.member_id, &pledge.community_id, pledge.year).await?;
        Ok((pledge, progress))
    }

    pub async fn get_pledge(&self, p: &Principal, member_id: &str, year: i32) -> Result<(Pledge, Progress)> {
        let mut conn = self.conn().await?;
        let pledge = db::get_pledge(&mut conn, member_id, year)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("pledge", &format!("{member_id}/{year}")))?;
        drop(conn);
        // Public within the community: its readers may see it, as may the member's admins.
        if self.require_member_reader(p, member_id).await.is_err() {
            self.require_community_reader(p, &pledge.community_id).await?;
        }
        let progress = db::member_progress(&mut *self.conn().await?, member_id, &pledge.community_id, year).await?;
        Ok((pledge, progress))
    }

    pub async fn list_pledges(
        &self,
        p: &Principal,
        community_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<Page<(Pledge, Progress)>> {
        self.require_community_reader(p, community_id).await?;
        let mut conn = self.conn().await?;
        let pledges = db::list_pledges(&mut conn, community_id, year, page).await?;
        let (pledges, next) = page.finish(pledges, |p| &p.member_id);
        let mut rows = Vec::with_capacity(pledges.len());
        for pledge in pledges {
            let progress = db::member_progress(&mut conn, &pledge.member_id, community_id, year).await?;
            rows.push((pledge, progress));
        }
        Ok((rows, next))
    }

    // ───────────── agreements ─────────────

    pub async fn create_agreement(&self, p: &Principal, request_id: &str, agreement: Agreement) -> Result<Agreement> {
        self.require_unit_admin(p, &agreement.unit_org_id).await?;
        self.community("community_id", &agreement.community_id).await?;
        if let Some(id) = self.replayed(p, request_id, "CreateAgreement").await? {
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
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "CreateAgreement").await? {
            drop(tx);
            return self.agreement(&id).await;
        }
        match db::insert_agreement(&mut tx, &agreement).await {
            Err(e) if db::is_unique_violation(&e) => {
                return Err(VolunteeringError::AlreadyExists(format!(
                    "unit org {} already has an agreement with community {} for {}",
                    agreement.unit_org_id, agreement.community_id, agreement.year
                )));
            }
            other => other?,
        }
        Self::remember(&mut tx, p, request_id, "CreateAgreement", &agreement.id).await?;
        tx.commit().await?;
        self.agreement(&agreement.id).await
    }

    async fn agreement(&self, id: &str) -> Result<Agreement> {
        db::get_agreement(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("agreement", id))
    }

    /// Agreements are public within the community, and to the unit's admins.
    async fn require_agreement_reader(&self, p: &Principal, agreement: &Agreement) -> Result<()> {
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
    ) -> Result<Vec<Agreement>> {
        if unit_org_id.is_empty() {
            self.require_community_reader(p, community_id).await?;
            db::list_agreements(&mut *self.conn().await?, false, community_id, year).await
        } else {
            let unit = self.directory.org(unit_org_id).await?;
            let own = p.role == Role::UnitAdmin && p.org() == Some(unit_org_id);
            if !(own || p.role == Role::Service || self.directory.admin_covers(p, &unit).await?) {
                return Err(VolunteeringError::out_of_scope(format!(
                    "{} may not list the agreements of unit org {unit_org_id}",
                    p.role.as_str()
                )));
            }
            db::list_agreements(&mut *self.conn().await?, true, unit_org_id, year).await
        }
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
        if !db::set_project_status(&mut *self.conn().await?, agreement_id, project_id, status).await? {
            return Err(VolunteeringError::not_found("project", project_id));
        }
        self.agreement(agreement_id).await
    }

    // ───────────── orders ─────────────

    pub async fn place_order(&self, p: &Principal, request_id: &str, order: Order) -> Result<Order> {
        self.community("community_id", &order.community_id).await?;
        self.require_community_admin(p, &order.community_id).await?;
        if let Some(id) = self.replayed(p, request_id, "PlaceOrder").await? {
            return self.order(&id).await;
        }
        let mut tx = self.pool.begin().await?;
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "PlaceOrder").await? {
            drop(tx);
            return self.order(&id).await;
        }
        if !order.post_id.is_empty() {
            Self::post(&mut tx, "post_id", &order.post_id, Some(&order.community_id)).await?;
        }
        db::insert_order(&mut tx, &order).await?;
        Self::remember(&mut tx, p, request_id, "PlaceOrder", &order.id).await?;
        tx.commit().await?;
        Ok(order)
    }

    async fn order(&self, id: &str) -> Result<Order> {
        db::get_order(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("order", id))
    }

    /// Writes an order's next state unless someone moved it first.
    async fn advance_order(
        &self,
        conn: &mut AnyConnection,
        order: &Order,
        from: OrderStatus,
        action: &str,
    ) -> Result<()> {
        if db::advance_order(conn, order, from).await? {
            return Ok(());
        }
        let now = db::get_order(conn, &order.id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("order", &order.id))?;
        now.status.require(from, action)?;
        Err(VolunteeringError::Conflict(format!(
            "order {} changed meanwhile; retry",
            order.id
        )))
    }

    pub async fn dispatch_order(&self, p: &Principal, order_id: &str, note: String) -> Result<Order> {
        let mut order = self.order(order_id).await?;
        self.require_community_admin(p, &order.community_id).await?;
        if order.status == OrderStatus::Dispatched {
            return Ok(order);
        }
        order.status.require(OrderStatus::Open, "be dispatched")?;
        order.status = OrderStatus::Dispatched;
        order.dispatch_note = note;
        order.updated_at = now_millis();
        self.advance_order(&mut *self.conn().await?, &order, OrderStatus::Open, "be dispatched")
            .await?;
        Ok(order)
    }

    pub async fn accept_order(&self, p: &Principal, order_id: &str, member_id: &str) -> Result<Order> {
        Self::require_self(p, member_id)?;
        let mut order = self.order(order_id).await?;
        if order.member_id == member_id && order.status != OrderStatus::Dispatched {
            return Ok(order);
        }
        order.status.require(OrderStatus::Dispatched, "accept")?;
        self.require_registered_on(member_id, &order.community_id, china_today())
            .await?;
        order.status = OrderStatus::Accepted;
        order.member_id = member_id.to_owned();
        order.updated_at = now_millis();
        self.advance_order(&mut *self.conn().await?, &order, OrderStatus::Dispatched, "accept")
            .await?;
        Ok(order)
    }

    /// The accepting member reports the order done with evidence; an
    /// attendance (kind ORDER) is written, checked in, for the community to confirm.
    pub async fn complete_order(
        &self,
        p: &Principal,
        order_id: &str,
        minutes: i64,
        evidence_ids: Vec<String>,
    ) -> Result<Order> {
        let mut order = self.order(order_id).await?;
        Self::require_self(p, &order.member_id)?;
        if order.status == OrderStatus::Completed || order.status == OrderStatus::Rated {
            return Ok(order);
        }
        order.status.require(OrderStatus::Accepted, "be completed")?;
        let mut tx = self.pool.begin().await?;
        Self::check_evidence(&mut tx, "evidence_ids", &evidence_ids, &order.community_id).await?;
        let attendance = Self::individual_service(
            &mut tx,
            p,
            &order.community_id,
            &order.member_id,
            ActivityKind::Order,
            &format!("三单制: {}", order.content),
            &order.post_id,
            minutes,
            &evidence_ids,
        )
        .await?;
        order.status = OrderStatus::Completed;
        order.attendance_id = attendance.id;
        order.evidence_ids = evidence_ids;
        order.updated_at = now_millis();
        self.advance_order(&mut tx, &order, OrderStatus::Accepted, "be completed")
            .await?;
        tx.commit().await?;
        Ok(order)
    }

    /// The community records the resident's satisfaction (1–5).
    pub async fn rate_order(&self, p: &Principal, order_id: &str, satisfaction: i64, comment: String) -> Result<Order> {
        let mut order = self.order(order_id).await?;
        self.require_community_admin(p, &order.community_id).await?;
        if order.status == OrderStatus::Rated && order.satisfaction == satisfaction {
            return Ok(order);
        }
        order.status.require(OrderStatus::Completed, "be rated")?;
        order.status = OrderStatus::Rated;
        order.satisfaction = satisfaction;
        order.resident_comment = comment;
        order.updated_at = now_millis();
        self.advance_order(&mut *self.conn().await?, &order, OrderStatus::Completed, "be rated")
            .await?;
        Ok(order)
    }

    pub async fn get_order(&self, p: &Principal, order_id: &str) -> Result<Order> {
        let order = self.order(order_id).await?;
        self.require_community_reader(p, &order.community_id).await?;
        Ok(order)
    }

    pub async fn list_orders(
        &self,
        p: &Principal,
        community_id: &str,
        status: Option<OrderStatus>,
        page: &PageRequest,
    ) -> Result<Page<Order>> {
        self.require_community_reader(p, community_id).await?;
        let rows = db::list_orders(&mut *self.conn().await?, community_id, status, page).await?;
        Ok(page.finish(rows, |o| &o.id))
    }

    /// One member's completed service outside a scheduled activity (an order,
    /// a wish, a household visit): an activity of that kind and a checked-in
    /// attendance, both dated today, for the community to confirm.
    #[allow(clippy::too_many_arguments)]
    async fn individual_service(
        conn: &mut AnyConnection,
        p: &Principal,
        community_id: &str,
        member_id: &str,
        kind: ActivityKind,
        title: &str,
        post_id: &str,
        minutes: i64,
        evidence_ids: &[String],
    ) -> Result<Attendance> {
        let now = now_millis();
        let activity = Activity {
            id: new_id(),
            community_id: community_id.to_owned(),
            kind,
            title: title.chars().take(200).collect(),
            content: String::new(),
            post_id: post_id.to_owned(),
            place: String::new(),
            start_at: now - minutes * 60_000,
            end_at: now,
            capacity: 1,
            signed_up: 1,
            organiser: member_id.to_owned(),
            contact: String::new(),
            team_id: String::new(),
            studio_id: String::new(),
            agreement_id: String::new(),
            created_at: now,
        };
        db::insert_activity(conn, &activity, &p.subject).await?;
        let attendance = Attendance {
            id: new_id(),
            activity_id: activity.id,
            member_id: member_id.to_owned(),
            community_id: community_id.to_owned(),
            status: AttendanceStatus::CheckedIn,
            minutes,
            adjustment: 0,
            note: String::new(),
            evidence_ids: evidence_ids.to_vec(),
            confirmed_by: String::new(),
            check_in_at: Some(now),
            confirmed_at: None,
            served_on: china_date(now),
            content: activity.title,
            entry_id: String::new(),
            payment_error: String::new(),
        };
        db::insert_attendance(conn, &attendance).await?;
        Ok(attendance)
    }

    // ───────────── wishes ─────────────

    pub async fn post_wish(&self, p: &Principal, request_id: &str, wish: Wish) -> Result<Wish> {
        self.community("community_id", &wish.community_id).await?;
        self.require_community_admin(p, &wish.community_id).await?;
        if let Some(id) = self.replayed(p, request_id, "PostWish").await? {
            return self.wish(&id).await;
        }
        let mut tx = self.pool.begin().await?;
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "PostWish").await? {
            drop(tx);
            return self.wish(&id).await;
        }
        db::insert_wish(&mut tx, &wish).await?;
        Self::remember(&mut tx, p, request_id, "PostWish", &wish.id).await?;
        tx.commit().await?;
        Ok(wish)
    }

    async fn wish(&self, id: &str) -> Result<Wish> {
        db::get_wish(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("wish", id))
    }

    async fn advance_wish(conn: &mut AnyConnection, wish: &Wish, from: WishStatus) -> Result<()> {
        if db::advance_wish(conn, wish, from).await? {
            return Ok(());
        }
        Err(VolunteeringError::AlreadyTaken(format!(
            "wish {} was claimed or fulfilled meanwhile",
            wish.id
        )))
    }

    /// A member for themselves, or a unit admin for the unit collectively.
    pub async fn claim_wish(&self, p: &Principal, wish_id: &str, member_id: &str, unit_org_id: &str) -> Result<Wish> {
        let mut wish = self.wish(wish_id).await?;
        let year = chrono::Datelike::year(&china_today());
        if !member_id.is_empty() {
            Self::require_self(p, member_id)?;
        } else {
            self.require_unit_admin(p, unit_org_id).await?;
        }
        if wish.status != WishStatus::Open {
            if wish.member_id == member_id && wish.unit_org_id == unit_org_id {
                return Ok(wish);
            }
            return Err(VolunteeringError::AlreadyTaken(format!(
                "wish {wish_id} is already {}",
                wish.status.as_str()
            )));
        }
        if !member_id.is_empty() {
            self.require_registered(member_id, &wish.community_id, year).await?;
        } else if !self
            .directory
            .unit_registered(unit_org_id, &wish.community_id, year)
            .await?
        {
            return Err(VolunteeringError::NotPaired(format!(
                "unit org {unit_org_id} has no received report at community {} for {year}",
                wish.community_id
            )));
        }
        wish.status = WishStatus::Claimed;
        wish.member_id = member_id.to_owned();
        wish.unit_org_id = unit_org_id.to_owned();
        wish.updated_at = now_millis();
        Self::advance_wish(&mut *self.conn().await?, &wish, WishStatus::Open).await?;
        Ok(wish)
    }

    /// The claimant fulfils the wish with evidence: a member's fulfilment is
    /// an attendance (kind WISH) to confirm; a unit's is a unit record.
    pub async fn fulfil_wish(
        &self,
        p: &Principal,
        wish_id: &str,
        minutes: i64,
        evidence_ids: Vec<String>,
    ) -> Result<Wish> {
        let mut wish = self.wish(wish_id).await?;
        if wish.member_id.is_empty() && wish.unit_org_id.is_empty() {
            return Err(VolunteeringError::WrongState(format!(
                "wish {wish_id} has not been claimed"
            )));
        }
        if !wish.member_id.is_empty() {
            Self::require_self(p, &wish.member_id)?;
        } else {
            self.require_unit_admin(p, &wish.unit_org_id).await?;
        }
        if wish.status == WishStatus::Fulfilled {
            return Ok(wish);
        }
        let mut tx = self.pool.begin().await?;
        Self::check_evidence(&mut tx, "evidence_ids", &evidence_ids, &wish.community_id).await?;
        let title = format!("微心愿: {}", wish.content);
        if wish.member_id.is_empty() {
            let record = UnitRecord {
                id: new_id(),
                kind: UnitServiceKind::CommunityActivity,
                unit_org_id: wish.unit_org_id.clone(),
                community_id: wish.community_id.clone(),
                served_on: china_today(),
                content: title.chars().take(500).collect(),
                minutes,
                agreement_id: String::new(),
                evidence_ids: evidence_ids.clone(),
                recorded_by: p.subject.clone(),
                created_at: now_millis(),
            };
            db::insert_unit_record(&mut tx, &record).await?;
            wish.unit_record_id = record.id;
        } else {
            let attendance = Self::individual_service(
                &mut tx,
                p,
                &wish.community_id,
                &wish.member_id,
                ActivityKind::Wish,
                &title,
                "",
                minutes,
                &evidence_ids,
            )
            .await?;
            wish.attendance_id = attendance.id;
        }
        wish.status = WishStatus::Fulfilled;
        wish.evidence_ids = evidence_ids;
        wish.updated_at = now_millis();
        Self::advance_wish(&mut tx, &wish, WishStatus::Claimed).await?;
        tx.commit().await?;
        Ok(wish)
    }

    pub async fn list_wishes(
        &self,
        p: &Principal,
        community_id: &str,
        status: Option<WishStatus>,
        page: &PageRequest,
    ) -> Result<Page<Wish>> {
        self.require_community_reader(p, community_id).await?;
        let rows = db::list_wishes(&mut *self.conn().await?, community_id, status, page).await?;
        Ok(page.finish(rows, |w| &w.id))
    }

    // ───────────── households ─────────────

    pub async fn assign_households(
        &self,
        p: &Principal,
        request_id: &str,
        member_id: &str,
        community_id: &str,
        labels: Vec<String>,
    ) -> Result<Vec<Household>> {
        self.community("community_id", community_id).await?;
        self.require_community_admin(p, community_id).await?;
        let HouseholdSettings { min, max } = self.rules.households;
        let count = labels.len();
        if count < min as usize || count > max as usize {
            return Err(VolunteeringError::CountOutOfBounds(FieldError::new(
                "labels",
                format!("a member covers {min} to {max} households; {count} were given"),
            )));
        }
        if self.replayed(p, request_id, "AssignHouseholds").await?.is_some() {
            return db::list_households(&mut *self.conn().await?, member_id).await;
        }
        self.require_registered_on(member_id, community_id, china_today())
            .await?;
        let households: Vec<Household> = labels
            .into_iter()
            .map(|label| Household {
                id: new_id(),
                member_id: member_id.to_owned(),
                community_id: community_id.to_owned(),
                label,
                visits: 0,
                last_visit_at: None,
            })
            .collect();
        let mut tx = self.pool.begin().await?;
        if Self::replayed_in(&mut tx, p, request_id, "AssignHouseholds")
            .await?
            .is_some()
        {
            drop(tx);
            return db::list_households(&mut *self.conn().await?, member_id).await;
        }
        db::replace_households(&mut tx, member_id, &households).await?;
        Self::remember(&mut tx, p, request_id, "AssignHouseholds", member_id).await?;
        tx.commit().await?;
        Ok(households)
    }

    pub async fn list_households(&self, p: &Principal, member_id: &str) -> Result<Vec<Household>> {
        self.require_member_reader(p, member_id).await?;
        db::list_households(&mut *self.conn().await?, member_id).await
    }

    /// The member logs a visit to one of their households.
    pub async fn log_visit(
        &self,
        p: &Principal,
        request_id: &str,
        household_id: &str,
        minutes: i64,
        note: String,
        evidence_ids: Vec<String>,
    ) -> Result<(Household, Attendance)> {
        let mut conn = self.conn().await?;
        let (household, active) = db::get_household(&mut conn, household_id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("household", household_id))?;
        Self::require_self(p, &household.member_id)?;
        if !active {
            return Err(VolunteeringError::WrongState(format!(
                "household {household_id} is no longer assigned to the member"
            )));
        }
        drop(conn);
        let mut tx = self.pool.begin().await?;
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "LogVisit").await? {
            let attendance = db::get_attendance(&mut tx, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("attendance", &id))?;
            let (household, _) = db::get_household(&mut tx, household_id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("household", household_id))?;
            return Ok((household, attendance));
        }
        Self::check_evidence(&mut tx, "evidence_ids", &evidence_ids, &household.community_id).await?;
        let title = if note.is_empty() {
            format!("入户走访: {}", household.label)
        } else {
            format!("入户走访: {} — {note}", household.label)
        };
        let attendance = Self::individual_service(
            &mut tx,
            p,
            &household.community_id,
            &household.member_id,
            ActivityKind::HouseholdVisit,
            &title,
            "",
            minutes,
            &evidence_ids,
        )
        .await?;
        db::count_visit(&mut tx, household_id, now_millis()).await?;
        Self::remember(&mut tx, p, request_id, "LogVisit", &attendance.id).await?;
        let (household, _) = db::get_household(&mut tx, household_id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("household", household_id))?;
        tx.commit().await?;
        Ok((household, attendance))
    }

    // ───────────── activities ─────────────

    pub async fn create_activity(&self, p: &Principal, request_id: &str, new: NewActivity) -> Result<Activity> {
        self.community("community_id", &new.community_id).await?;
        self.require_community_admin(p, &new.community_id).await?;
        if let Some(id) = self.replayed(p, request_id, "CreateActivity").await? {
            return self.activity(&id).await;
        }
        let mut tx = self.pool.begin().await?;
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "CreateActivity").await? {
            drop(tx);
            return self.activity(&id).await;
        }
        if !new.post_id.is_empty() {
            Self::post(&mut tx, "post_id", &new.post_id, Some(&new.community_id)).await?;
        }
        if !new.team_id.is_empty() {
            match db::get_team(&mut tx, &new.team_id).await? {
                Some(team) if team.community_id == new.community_id => {}
                _ => return Err(VolunteeringError::invalid("team_id", "no such team in this community")),
            }
        }
        if !new.studio_id.is_empty() {
            match db::get_studio(&mut tx, &new.studio_id).await? {
                Some(studio) if studio.community_id == new.community_id => {}
                _ => {
                    return Err(VolunteeringError::invalid(
                        "studio_id",
                        "no such studio in this community",
                    ));
                }
            }
        }
        if !new.agreement_id.is_empty() {
            match db::get_agreement(&mut tx, &new.agreement_id).await? {
                Some(agreement) if agreement.community_id == new.community_id => {}
                _ => {
                    return Err(VolunteeringError::invalid(
                        "agreement_id",
                        "no such agreement with this community",
                    ));
                }
            }
        }
        let now = now_millis();
        let activity = Activity {
            id: new_id(),
            community_id: new.community_id,
            kind: new.kind,
            title: new.title,
            content: new.content,
            post_id: new.post_id,
            place: new.place,
            start_at: new.start_at,
            end_at: new.end_at,
            capacity: new.capacity,
            signed_up: 0,
            organiser: new.organiser,
            contact: new.contact,
            team_id: new.team_id,
            studio_id: new.studio_id,
            agreement_id: new.agreement_id,
            created_at: now,
        };
        db::insert_activity(&mut tx, &activity, &p.subject).await?;
        Self::remember(&mut tx, p, request_id, "CreateActivity", &activity.id).await?;
        tx.commit().await?;
        Ok(activity)
    }

    async fn attendance(&self, id: &str) -> Result<Attendance> {
        db::get_attendance(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("attendance", id))
    }

    async fn activity(&self, id: &str) -> Result<Activity> {
        db::get_activity(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("activity", id))
    }

    pub async fn get_activity(&self, p: &Principal, id: &str) -> Result<Activity> {
        let activity = self.activity(id).await?;
        self.require_community_reader(p, &activity.community_id).await?;
        Ok(activity)
    }

    pub async fn list_activities(
        &self,
        p: &Principal,
        community_id: &str,
        kind: Option<ActivityKind>,
        page: &PageRequest,
    ) -> Result<Page<Activity>> {
        self.require_community_reader(p, community_id).await?;
        let rows = db::list_activities(&mut *self.conn().await?, community_id, kind, page).await?;
        Ok(page.finish(rows, |a| &a.id))
    }

    /// A fresh six-digit code, valid for `checkin.code_ttl_secs` (never past the end).
    pub async fn issue_check_in_code(&self, p: &Principal, activity_id: &str) -> Result<(String, i64)> {
        let activity = self.activity(activity_id).await?;
        self.require_community_admin(p, &activity.community_id).await?;
        let now = now_millis();
        if activity.finished(now) {
            return Err(VolunteeringError::ActivityFinished(format!(
                "activity {activity_id} has ended"
            )));
        }
        let code = new_check_in_code();
        let expires_at = (now + self.rules.code_ttl_millis).min(activity.end_at);
        db::set_check_in_code(&mut *self.conn().await?, activity_id, &code, expires_at).await?;
        Ok((code, expires_at))
    }

    /// A member signs up for a scheduled activity at a community where they are registered.
    pub async fn sign_up(
        &self,
        p: &Principal,
        request_id: &str,
        activity_id: &str,
        member_id: &str,
    ) -> Result<Attendance> {
        Self::require_self(p, member_id)?;
        let activity = self.activity(activity_id).await?;
        if let Some(existing) = db::attendance_of(&mut *self.conn().await?, activity_id, member_id).await? {
            return Ok(existing);
        }
        if activity.kind.is_individual() {
            return Err(VolunteeringError::WrongState(format!(
                "activity {activity_id} records one member's work; it takes no sign-ups"
            )));
        }
        if activity.finished(now_millis()) {
            return Err(VolunteeringError::ActivityFinished(format!(
                "activity {activity_id} has ended"
            )));
        }
        self.require_registered_on(member_id, &activity.community_id, china_date(activity.start_at))
            .await?;
        let mut tx = self.pool.begin().await?;
        let attendance = Self::seat(&mut tx, &activity, member_id, AttendanceStatus::SignedUp).await?;
        Self::remember(&mut tx, p, request_id, "SignUp", &attendance.id).await?;
        tx.commit().await?;
        Ok(attendance)
    }

    /// Takes a place and writes the attendance; a concurrent sign-up of the
    /// same member loses on the unique key.
    async fn seat(
        conn: &mut AnyConnection,
        activity: &Activity,
        member_id: &str,
        status: AttendanceStatus,
    ) -> Result<Attendance> {
        if !db::take_seat(conn, &activity.id).await? {
            return Err(VolunteeringError::CapacityFull(format!(
                "activity {} has all {} places taken",
                activity.id, activity.capacity
            )));
        }
        let now = now_millis();
        let attendance = Attendance {
            id: new_id(),
            activity_id: activity.id.clone(),
            member_id: member_id.to_owned(),
            community_id: activity.community_id.clone(),
            status,
            minutes: activity.minutes(),
            adjustment: 0,
            note: String::new(),
            evidence_ids: Vec::new(),
            confirmed_by: String::new(),
            check_in_at: (status == AttendanceStatus::CheckedIn).then_some(now),
            confirmed_at: None,
            served_on: china_date(activity.start_at),
            content: activity.title.clone(),
            entry_id: String::new(),
            payment_error: String::new(),
        };
        match db::insert_attendance(conn, &attendance).await {
            Err(e) if db::is_unique_violation(&e) => Err(VolunteeringError::Conflict(format!(
                "member {member_id} signed up for activity {} concurrently; retry",
                activity.id
            ))),
            other => other.map(|()| attendance),
        }
    }

    /// Checks in with the code the organiser shows, from an hour before the
    /// start to the end. A member who did not sign up takes a free place.
    pub async fn check_in(&self, p: &Principal, activity_id: &str, member_id: &str, code: &str) -> Result<Attendance> {
        Self::require_self(p, member_id)?;
        let activity = self.activity(activity_id).await?;
        let now = now_millis();
        let mut conn = self.conn().await?;
        let existing = db::attendance_of(&mut conn, activity_id, member_id).await?;
        if let Some(a) = &existing
            && a.status != AttendanceStatus::SignedUp
        {
            return Ok(a.clone());
        }
        if activity.finished(now) {
            return Err(VolunteeringError::ActivityFinished(format!(
                "activity {activity_id} has ended"
            )));
        }
        if now < activity.start_at - 3_600_000 {
            return Err(VolunteeringError::WrongState(format!(
                "check-in for activity {activity_id} opens an hour before it starts"
            )));
        }
        let (current, expires_at) = db::check_in_code(&mut conn, activity_id).await?;
        if current.is_empty() || !crate::domain::code_matches(code, &current) {
            return Err(VolunteeringError::invalid(
                "code",
                "does not match the code the organiser shows",
            ));
        }
        if now > expires_at {
            return Err(VolunteeringError::CodeExpired(
                "the check-in code expired; ask the organiser for a new one".into(),
            ));
        }
        drop(conn);
        match existing {
            Some(attendance) => {
                let mut conn = self.conn().await?;
                db::check_in(&mut conn, &attendance.id, now).await?;
                db::get_attendance(&mut conn, &attendance.id)
                    .await?
                    .ok_or_else(|| VolunteeringError::not_found("attendance", &attendance.id))
            }
            None => {
                self.require_registered_on(member_id, &activity.community_id, china_date(activity.start_at))
                    .await?;
                let mut tx = self.pool.begin().await?;
                let attendance = Self::seat(&mut tx, &activity, member_id, AttendanceStatus::CheckedIn).await?;
                tx.commit().await?;
                Ok(attendance)
            }
        }
    }

    /// The community admin confirms a checked-in attendance with a quality
    /// adjustment; the attendance and its outbox row are written together.
    pub async fn confirm_attendance(
        &self,
        p: &Principal,
        request_id: &str,
        attendance_id: &str,
        adjustment: i64,
        note: String,
        evidence_ids: Vec<String>,
    ) -> Result<Attendance> {
        let max = self.rules.max_adjustment;
        if adjustment.abs() > max {
            return Err(VolunteeringError::invalid(
                "adjustment",
                format!("must be between -{max} and {max} (policy)"),
            ));
        }
        let mut conn = self.conn().await?;
        let mut attendance = db::get_attendance(&mut conn, attendance_id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("attendance", attendance_id))?;
        drop(conn);
        self.require_community_admin(p, &attendance.community_id).await?;
        if self.replayed(p, request_id, "ConfirmAttendance").await?.is_some() {
            return self.attendance(attendance_id).await;
        }
        match attendance.status {
            AttendanceStatus::CheckedIn => {}
            AttendanceStatus::Confirmed => {
                return Err(VolunteeringError::WrongState(format!(
                    "attendance {attendance_id} was already confirmed"
                )));
            }
            AttendanceStatus::SignedUp => {
                return Err(VolunteeringError::WrongState(format!(
                    "attendance {attendance_id} never checked in; only those present are confirmed"
                )));
            }
        }
        let activity = self.activity(&attendance.activity_id).await?;
        let now = now_millis();
        if now < activity.start_at {
            return Err(VolunteeringError::WrongState(format!(
                "activity {} has not started; confirm attendance once it has",
                activity.id
            )));
        }
        let mut tx = self.pool.begin().await?;
        if Self::replayed_in(&mut tx, p, request_id, "ConfirmAttendance")
            .await?
            .is_some()
        {
            drop(tx);
            return self.attendance(attendance_id).await;
        }
        Self::check_evidence(&mut tx, "evidence_ids", &evidence_ids, &attendance.community_id).await?;
        attendance.status = AttendanceStatus::Confirmed;
        attendance.adjustment = adjustment;
        if !note.is_empty() {
            attendance.note = note;
        }
        for id in evidence_ids {
            if !attendance.evidence_ids.contains(&id) {
                attendance.evidence_ids.push(id);
            }
        }
        attendance.confirmed_by = p.subject.clone();
        attendance.confirmed_at = Some(now);
        if !db::confirm(&mut tx, &attendance).await? {
            return Err(VolunteeringError::WrongState(format!(
                "attendance {attendance_id} was already confirmed"
            )));
        }
        db::enqueue_payment(&mut tx, attendance_id, now, &trace_context::current_traceparent()).await?;
        Self::remember(&mut tx, p, request_id, "ConfirmAttendance", attendance_id).await?;
        let mut text = format!("{}：{}", activity.title, activity.content);
        if !attendance.note.is_empty() {
            text.push('；');
            text.push_str(&attendance.note);
        }
        journal::append(
            &mut tx,
            &journal::Fact {
                kind: "attendance.confirmed",
                occur_millis: now,
                subject_id: attendance.id.clone(),
                community_id: attendance.community_id.clone(),
                member_id: attendance.member_id.clone(),
                text,
                evidence_ids: attendance.evidence_ids.clone(),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            attendance = attendance_id,
            adjustment,
            "attendance confirmed; payment queued"
        );
        Ok(attendance)
    }

    pub async fn list_attendance(
        &self,
        p: &Principal,
        activity_id: &str,
        member_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<Page<Attendance>> {
        if activity_id.is_empty() {
            self.require_member_reader(p, member_id).await?;
        } else {
            let activity = self.activity(activity_id).await?;
            let org = self.community("community_id", &activity.community_id).await?;
            if !(p.role == Role::Service || self.directory.admin_covers(p, &org).await?) {
                return Err(VolunteeringError::out_of_scope(format!(
                    "{} may not list the attendance of activity {activity_id}",
                    p.role.as_str()
                )));
            }
        }
        let mut conn = self.conn().await?;
        let rows = if activity_id.is_empty() {
            db::list_member_attendance(&mut conn, member_id, year, page).await?
        } else {
            db::list_activity_attendance(&mut conn, activity_id, page).await?
        };
        Ok(page.finish(rows, |a| &a.id))
    }

    // ───────────── evidence ─────────────

    /// Stores a photo (bytes to the blob store, named by hash) or a text.
    /// Community admins upload for their community; members for communities
    /// where they are registered this year.
    #[allow(clippy::too_many_arguments)]
    pub async fn upload_evidence(
        &self,
        p: &Principal,
        request_id: &str,
        community_id: &str,
        kind: EvidenceKind,
        content_type: &str,
        data: Bytes,
        text: String,
    ) -> Result<Evidence> {
        self.community("community_id", community_id).await?;
        match &p.scope {
            Scope::Member(member) => {
                self.require_registered_on(member, community_id, china_today()).await?;
            }
            _ => self.require_community_admin(p, community_id).await?,
        }
        if let Some(id) = self.replayed(p, request_id, "UploadEvidence").await? {
            return db::get_evidence(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("evidence", &id));
        }
        let limits = self.rules.evidence;
        let (content_type, size, sha256, object_key) = match kind {
            EvidenceKind::Photo => {
                let content_type = evidence::photo(content_type, &data, limits)?;
                let sha256 = evidence::sha256(&data);
                let key = format!("{community_id}/{sha256}");
                let size = i64::try_from(data.len()).unwrap_or(i64::MAX);
                self.blobs.put(&key, data).await?;
                (content_type.to_owned(), size, sha256, key)
            }
            EvidenceKind::Text => {
                if !data.is_empty() {
                    return Err(VolunteeringError::invalid("data", "a text evidence carries no bytes"));
                }
                if text.is_empty() {
                    return Err(VolunteeringError::invalid("text", "must not be empty"));
                }
                let size = i64::try_from(text.len()).unwrap_or(i64::MAX);
                (
                    "text/plain".to_owned(),
                    size,
                    evidence::sha256(text.as_bytes()),
                    String::new(),
                )
            }
        };
        let record = Evidence {
            id: new_id(),
            community_id: community_id.to_owned(),
            kind,
            content_type,
            size_bytes: size,
            sha256,
            text,
            object_key,
            uploaded_by: p.subject.clone(),
            created_at: now_millis(),
        };
        let mut tx = self.pool.begin().await?;
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "UploadEvidence").await? {
            drop(tx);
            return db::get_evidence(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("evidence", &id));
        }
        db::insert_evidence(&mut tx, &record).await?;
        Self::remember(&mut tx, p, request_id, "UploadEvidence", &record.id).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn get_evidence(&self, p: &Principal, id: &str, include_data: bool) -> Result<(Evidence, Bytes)> {
        let record = db::get_evidence(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("evidence", id))?;
        self.require_community_reader(p, &record.community_id).await?;
        let data = if include_data && record.kind == EvidenceKind::Photo {
            self.blobs.get(&record.object_key).await?
        } else {
            Bytes::new()
        };
        Ok((record, data))
    }

    // ───────────── unit records ─────────────

    pub async fn record_unit_service(&self, p: &Principal, request_id: &str, record: UnitRecord) -> Result<UnitRecord> {
        self.community("community_id", &record.community_id).await?;
        self.require_community_admin(p, &record.community_id).await?;
        if let Some(id) = self.replayed(p, request_id, "RecordUnitService").await? {
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
        if let Some(id) = Self::replayed_in(&mut tx, p, request_id, "RecordUnitService").await? {
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
        Self::remember(&mut tx, p, request_id, "RecordUnitService", &record.id).await?;
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
