//! The registry's use cases: who may do what, and in which transaction.
//!
//! Each method takes the authenticated [`Principal`] and validated domain
//! input, checks scope, and runs its reads and writes on one connection or
//! transaction, so a refused or failed call leaves nothing behind.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use dualreport_platform::auth::{Principal, Role, Scope};
use dualreport_platform::crypto::FieldCipher;
use dualreport_platform::error::FieldError;
use dualreport_platform::idempotency;
use dualreport_platform::journal;
use dualreport_platform::paging::PageRequest;
use sqlx::{AnyConnection, AnyPool};

use crate::domain::member::{Profile, mask_address, mask_phone};
use crate::domain::org::{Org, OrgDetails, OrgInput, OrgType, check_parent, district_under};
use crate::domain::policy::Policy;
use crate::domain::report::{
    Assignment, Letter, MemberReport, MemberReportStatus, Receipt, ReceiptKind, Relocation, RelocationStatus,
    UnitReport, UnitReportStatus, letter_number, receipt_number, relocation_due, valid_year,
};
use crate::domain::{Date, RegistryError, Result, china_today, now_millis};
use crate::org_cache::OrgCache;
use crate::storage::{self as db, MemberRow, OrgFilter};

/// The most rows one `ImportMembers` batch may hold.
pub const MAX_IMPORT_ROWS: usize = 5_000;

/// A member with personal information opened (whole or masked).
#[derive(Debug, Clone)]
pub struct MemberView {
    pub id: String,
    pub profile: Profile,
    pub masked: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One unit's line of the statistics table.
#[derive(Debug, Clone)]
pub struct UnitStats {
    pub unit: Org,
    pub registered: i64,
    pub reported: i64,
    pub unit_reported: bool,
}

#[derive(Debug, Clone)]
pub struct CommunityStats {
    pub community: Org,
    pub units_reported: i64,
    pub members_reported: i64,
}

/// The registry's state: the pool, the personal-information cipher, the policy.
#[derive(Clone)]
pub struct Registry {
    pool: AnyPool,
    cipher: Arc<FieldCipher>,
    policy: Arc<Policy>,
    number_prefix: Arc<str>,
    orgs: Arc<OrgCache>,
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

const PHONE: &str = "PHONE";
const HOME_ADDRESS: &str = "HOME_ADDRESS";

impl Registry {
    pub fn new(pool: AnyPool, cipher: FieldCipher, policy: Policy, number_prefix: &str) -> Self {
        Self {
            pool,
            cipher: Arc::new(cipher),
            policy: Arc::new(policy),
            number_prefix: number_prefix.into(),
            orgs: Arc::default(),
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// An org for a scope or reference check, from the tree cache.
    async fn org(&self, conn: &mut AnyConnection, id: &str) -> Result<Option<Org>> {
        self.orgs.get(conn, id).await
    }

    /// [`Self::org`] or `NotFound` naming it.
    async fn require_org(&self, conn: &mut AnyConnection, id: &str) -> Result<Org> {
        self.org(conn, id)
            .await?
            .ok_or_else(|| RegistryError::not_found("organization", id))
    }

    /// Creates the city at the root of the tree if it does not exist yet.
    /// Replicas starting together may race here: the loser's insert hits the
    /// primary key and finds the winner's city.
    pub async fn ensure_city(&self, id: &str, name: &str) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        match db::org(&mut conn, id).await? {
            Some(org) if org.org_type == OrgType::City => return Ok(()),
            Some(org) => {
                return Err(RegistryError::Internal(anyhow::anyhow!(
                    "registry.city_id {id} names an org of type {}, not a city",
                    org.org_type.as_str()
                )));
            }
            None => {}
        }
        let now = now_millis();
        let city = Org {
            id: id.to_owned(),
            name: name.to_owned(),
            org_type: OrgType::City,
            parent_id: None,
            path: format!("/{id}/"),
            district_id: None,
            details: OrgDetails::default(),
            created_at: now,
            updated_at: now,
        };
        match db::insert_org(&mut conn, &city).await {
            Ok(()) => {
                tracing::info!(city = id, "created the root city");
                Ok(())
            }
            Err(e) if db::is_unique_violation(&e) => Ok(()),
            Err(other) => Err(other),
        }
    }

    // ───────────── scope ─────────────

    /// The org an admin principal acts on; its role must fit the org's type.
    async fn admin_org(&self, conn: &mut AnyConnection, p: &Principal) -> Result<Option<Org>> {
        let Scope::Org(id) = &p.scope else { return Ok(None) };
        let org = self
            .org(conn, id)
            .await?
            .ok_or_else(|| RegistryError::out_of_scope(format!("the token's org {id} is unknown")))?;
        let fits = match p.role {
            Role::CityAdmin => org.org_type == OrgType::City,
            Role::DistrictAdmin => org.org_type == OrgType::District,
            Role::StreetAdmin => org.org_type == OrgType::Street,
            Role::CommunityAdmin => matches!(org.org_type, OrgType::Community | OrgType::ServiceCenter),
            Role::UnitAdmin => org.org_type.is_unit(),
            Role::Member | Role::Service | Role::Cloud => false,
        };
        if !fits {
            return Err(RegistryError::out_of_scope(format!(
                "role {} cannot act for an org of type {}",
                p.role.as_str(),
                org.org_type.as_str()
            )));
        }
        Ok(Some(org))
    }

    /// An admin whose subtree holds `path`; anything else is refused.
    async fn require_admin_over(&self, conn: &mut AnyConnection, p: &Principal, path: &str, what: &str) -> Result<Org> {
        match self.admin_org(conn, p).await? {
            Some(org) if org.covers(path) => Ok(org),
            _ => Err(RegistryError::out_of_scope(format!(
                "{} may not act on {what}",
                p.role.as_str()
            ))),
        }
    }

    /// True when `p` may see or act on the member: the member itself, or an
    /// admin over the member's unit or residence community.
    async fn may_act_on_member(&self, conn: &mut AnyConnection, p: &Principal, m: &MemberRow) -> Result<bool> {
        let paths = match p.scope {
            Scope::Org(_) => self.member_paths(conn, m).await?,
            Scope::Member(_) | Scope::Service | Scope::Cloud => MemberPaths::default(),
        };
        self.may_act_on_member_at(conn, p, &m.id, &paths).await
    }

    /// [`Self::may_act_on_member`] when the member's paths are already known.
    async fn may_act_on_member_at(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        member_id: &str,
        paths: &MemberPaths,
    ) -> Result<bool> {
        Ok(match &p.scope {
            Scope::Member(id) => id == member_id,
            Scope::Service | Scope::Cloud => false,
            Scope::Org(_) => self
                .admin_org(conn, p)
                .await?
                .is_some_and(|org| org.covers(&paths.unit) || org.covers(&paths.community)),
        })
    }

    async fn require_member_access(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        m: &MemberRow,
        read: bool,
    ) -> Result<()> {
        if (read && p.role == Role::Service) || self.may_act_on_member(conn, p, m).await? {
            Ok(())
        } else {
            Err(RegistryError::out_of_scope(format!(
                "{} may not act on member {}",
                p.role.as_str(),
                m.id
            )))
        }
    }

    async fn member_paths(&self, conn: &mut AnyConnection, m: &MemberRow) -> Result<MemberPaths> {
        let unit = self.require_org(conn, &m.unit_org_id).await?;
        let community = self.require_org(conn, &m.residence_community_id).await?;
        Ok(MemberPaths {
            unit: unit.path,
            community: community.path,
        })
    }

    /// The org `p` names as a filter, after checking `p` covers it (service: any).
    async fn scoped_org(&self, conn: &mut AnyConnection, p: &Principal, org_id: &str) -> Result<Org> {
        if org_id.is_empty() {
            return Err(RegistryError::invalid("org_id", "must not be empty"));
        }
        let org = self.require_org(conn, org_id).await?;
        if p.role != Role::Service {
            self.require_admin_over(conn, p, &org.path, &format!("org {org_id}"))
                .await?;
        }
        Ok(org)
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

    // ───────────── organisations ─────────────

    pub async fn create_org(&self, p: &Principal, request_id: &str, input: OrgInput) -> Result<Org> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "CreateOrganization").await? {
            return db::require_org(&mut tx, &id).await;
        }
        if input.org_type == OrgType::City {
            return Err(RegistryError::invalid(
                "organization.type",
                "the city is the root, created at start-up; create districts and below",
            ));
        }
        let parent = db::org(&mut tx, &input.parent_id).await?.ok_or_else(|| {
            RegistryError::invalid("organization.parent_id", format!("unknown org {:?}", input.parent_id))
        })?;
        self.require_admin_over(&mut tx, p, &parent.path, &format!("org {}", parent.id))
            .await?;
        check_parent(input.org_type, &parent)?;
        let id = new_id();
        let now = now_millis();
        let org = Org {
            path: format!("{}{id}/", parent.path),
            // A district lies in itself; everything else in its parent's district.
            district_id: if input.org_type == OrgType::District {
                Some(id.clone())
            } else {
                district_under(&parent)
            },
            id,
            name: input.name,
            org_type: input.org_type,
            parent_id: Some(parent.id),
            details: input.details,
            created_at: now,
            updated_at: now,
        };
        db::insert_org(&mut tx, &org).await?;
        self.remember(&mut tx, p, request_id, "CreateOrganization", &org.id)
            .await?;
        tx.commit().await?;
        Ok(org)
    }

    pub async fn get_org(&self, id: &str) -> Result<Org> {
        let mut conn = self.pool.acquire().await?;
        db::require_org(&mut conn, id).await
    }

    /// The organisation directory is readable by every authenticated caller.
    pub async fn list_orgs(&self, filter: &OrgFilter<'_>, page: &PageRequest) -> Result<(Vec<Org>, String)> {
        let mut conn = self.pool.acquire().await?;
        let rows = db::list_orgs(&mut conn, filter, page).await?;
        Ok(page.finish(rows, |o| &o.id))
    }

    /// Applies the masked fields; a new parent is checked for type and cycles.
    pub async fn update_org(
        &self,
        p: &Principal,
        request_id: &str,
        id: &str,
        input: OrgInput,
        mask: &[String],
    ) -> Result<Org> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "UpdateOrganization").await? {
            return db::require_org(&mut tx, &id).await;
        }
        let mut org = db::require_org(&mut tx, id).await?;
        self.require_admin_over(&mut tx, p, &org.path, &format!("org {id}"))
            .await?;
        let mut new_parent = None;
        for path in mask {
            match path.as_str() {
                "name" => org.name = input.name.clone(),
                "address" => org.details.address = input.details.address.clone(),
                "postcode" => org.details.postcode = input.details.postcode.clone(),
                "leader" => org.details.leader = input.details.leader.clone(),
                "contact_person" => org.details.contact_person = input.details.contact_person.clone(),
                "contact_phone" => org.details.contact_phone = input.details.contact_phone.clone(),
                "in_service_member_count" => {
                    org.details.in_service_member_count = input.details.in_service_member_count
                }
                "parent_id" => new_parent = Some(input.parent_id.clone()),
                other => {
                    return Err(RegistryError::invalid(
                        "update_mask",
                        format!("{other:?} cannot be updated"),
                    ));
                }
            }
        }
        org.updated_at = now_millis();
        db::update_org(&mut tx, &org).await?;
        if let Some(parent_id) = new_parent.filter(|p| Some(p) != org.parent_id.as_ref()) {
            let parent = db::org(&mut tx, &parent_id).await?.ok_or_else(|| {
                RegistryError::invalid("organization.parent_id", format!("unknown org {parent_id:?}"))
            })?;
            if org.covers(&parent.path) {
                return Err(RegistryError::TreeCycle(org.id.clone()));
            }
            check_parent(org.org_type, &parent)?;
            self.require_admin_over(&mut tx, p, &parent.path, &format!("org {}", parent.id))
                .await?;
            let new_path = format!("{}{}/", parent.path, org.id);
            db::reparent_org(&mut tx, &org, &parent.id, &new_path, district_under(&parent).as_deref()).await?;
        }
        self.remember(&mut tx, p, request_id, "UpdateOrganization", &org.id)
            .await?;
        let org = db::require_org(&mut tx, id).await?;
        tx.commit().await?;
        self.orgs.clear();
        Ok(org)
    }

    // ───────────── members ─────────────

    fn seal_row(&self, id: &str, profile: &Profile, created_at: i64) -> Result<MemberRow> {
        Ok(MemberRow {
            id: id.to_owned(),
            unit_org_id: profile.unit_org_id.clone(),
            residence_community_id: profile.residence_community_id.clone(),
            name: profile.name.clone(),
            gender: profile.gender,
            birth_year: profile.birth_year,
            education: profile.education.clone(),
            joined_party_on: profile.joined_party_on,
            membership_status: profile.membership_status,
            category: profile.category,
            employer: profile.employer.clone(),
            position: profile.position.clone(),
            phone: self.cipher.seal(&profile.phone, &format!("{id}/phone"))?,
            home_address: self.cipher.seal(&profile.home_address, &format!("{id}/home_address"))?,
            skills: profile.skills.clone(),
            service_intentions: profile.service_intentions.clone(),
            available_time_slots: profile.available_time_slots.clone(),
            created_at,
            updated_at: now_millis(),
        })
    }

    fn open_row(&self, row: &MemberRow, whole: bool) -> Result<MemberView> {
        let phone = self.cipher.open(&row.phone, &format!("{}/phone", row.id))?;
        let address = self
            .cipher
            .open(&row.home_address, &format!("{}/home_address", row.id))?;
        Ok(MemberView {
            id: row.id.clone(),
            profile: Profile {
                name: row.name.clone(),
                gender: row.gender,
                birth_year: row.birth_year,
                education: row.education.clone(),
                joined_party_on: row.joined_party_on,
                membership_status: row.membership_status,
                category: row.category,
                employer: row.employer.clone(),
                position: row.position.clone(),
                unit_org_id: row.unit_org_id.clone(),
                home_address: if whole { address } else { mask_address(&address) },
                residence_community_id: row.residence_community_id.clone(),
                phone: if whole { phone } else { mask_phone(&phone) },
                skills: row.skills.clone(),
                service_intentions: row.service_intentions.clone(),
                available_time_slots: row.available_time_slots.clone(),
            },
            masked: !whole,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    /// The unit org and residence community a profile names must exist and be
    /// of the right kind; `field_prefix` names them in errors.
    async fn check_profile_refs(&self, conn: &mut AnyConnection, profile: &Profile, prefix: &str) -> Result<Org> {
        let unit = self.org(conn, &profile.unit_org_id).await?;
        let unit = match unit {
            Some(unit) if unit.org_type.is_unit() => unit,
            Some(_) => {
                return Err(RegistryError::invalid(
                    &format!("{prefix}.unit_org_id"),
                    "is not a resident unit's org",
                ));
            }
            None => {
                return Err(RegistryError::invalid(
                    &format!("{prefix}.unit_org_id"),
                    format!("unknown org {:?}", profile.unit_org_id),
                ));
            }
        };
        match self.org(conn, &profile.residence_community_id).await? {
            Some(c) if c.org_type == OrgType::Community => Ok(unit),
            Some(_) => Err(RegistryError::invalid(
                &format!("{prefix}.residence_community_id"),
                "is not a community",
            )),
            None => Err(RegistryError::invalid(
                &format!("{prefix}.residence_community_id"),
                format!("unknown org {:?}", profile.residence_community_id),
            )),
        }
    }

    pub async fn create_member(&self, p: &Principal, request_id: &str, profile: Profile) -> Result<MemberView> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "CreateMember").await? {
            let row = db::require_member(&mut tx, &id).await?;
            return self.open_row(&row, false);
        }
        let unit = self.check_profile_refs(&mut tx, &profile, "profile").await?;
        self.require_admin_over(&mut tx, p, &unit.path, &format!("unit {}", unit.id))
            .await?;
        let row = self.seal_row(&new_id(), &profile, now_millis())?;
        db::insert_member(&mut tx, &row).await?;
        self.remember(&mut tx, p, request_id, "CreateMember", &row.id).await?;
        tx.commit().await?;
        self.open_row(&row, false)
    }

    /// A member; `whole` opens phone and address for the member or an admin
    /// in scope and logs each field read.
    pub async fn get_member(&self, p: &Principal, id: &str, whole: bool) -> Result<MemberView> {
        if !whole {
            // A masked read writes nothing: one statement, the scope from the tree cache.
            let mut conn = self.pool.acquire().await?;
            let row = db::require_member(&mut conn, id).await?;
            self.require_member_access(&mut conn, p, &row, true).await?;
            return self.open_row(&row, false);
        }
        let mut tx = self.pool.begin().await?;
        let row = db::require_member(&mut tx, id).await?;
        {
            // The paths decide the scope and are written with each access row.
            let paths = self.member_paths(&mut tx, &row).await?;
            if !self.may_act_on_member_at(&mut tx, p, &row.id, &paths).await? {
                return Err(RegistryError::out_of_scope(format!(
                    "{} may not read member {id}'s personal information",
                    p.role.as_str()
                )));
            }
            let now = now_millis();
            for field in [PHONE, HOME_ADDRESS] {
                db::insert_access(
                    &mut tx,
                    &db::AccessRow {
                        id: new_id(),
                        reader_subject: p.subject.clone(),
                        reader_role: p.role.as_str().to_owned(),
                        member_id: row.id.clone(),
                        field: field.to_owned(),
                        accessed_at: now,
                        unit_path: paths.unit.clone(),
                        community_path: paths.community.clone(),
                    },
                )
                .await?;
            }
        }
        let view = self.open_row(&row, whole)?;
        tx.commit().await?;
        Ok(view)
    }

    /// Masked members of a unit subtree or of a residence community.
    pub async fn list_members(
        &self,
        p: &Principal,
        unit_org_id: &str,
        community_id: &str,
        page: &PageRequest,
    ) -> Result<(Vec<MemberView>, String)> {
        let mut conn = self.pool.acquire().await?;
        let (unit_path, community) = match (unit_org_id.is_empty(), community_id.is_empty()) {
            (false, true) => (Some(self.scoped_org(&mut conn, p, unit_org_id).await?.path), None),
            (true, false) => (None, Some(self.scoped_org(&mut conn, p, community_id).await?.id)),
            _ => {
                return Err(RegistryError::invalid(
                    "unit_org_id",
                    "give exactly one of unit_org_id or community_id",
                ));
            }
        };
        let rows = db::list_members(&mut conn, unit_path.as_deref(), community.as_deref(), page).await?;
        let (rows, token) = page.finish(rows, |m| &m.id);
        let views = rows
            .iter()
            .map(|row| self.open_row(row, false))
            .collect::<Result<Vec<_>>>()?;
        Ok((views, token))
    }

    /// Applies the masked profile fields. The member edits its own contact
    /// details; admins over the unit edit everything but the unit.
    pub async fn update_member(
        &self,
        p: &Principal,
        request_id: &str,
        id: &str,
        update: Profile,
        mask: &[String],
    ) -> Result<MemberView> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "UpdateMember").await? {
            let row = db::require_member(&mut tx, &id).await?;
            return self.open_row(&row, false);
        }
        let row = db::require_member(&mut tx, id).await?;
        self.require_member_access(&mut tx, p, &row, false).await?;
        let mut profile = self.open_row(&row, true)?.profile;
        for path in mask {
            match path.as_str() {
                "name" => profile.name = update.name.clone(),
                "gender" => profile.gender = update.gender,
                "birth_year" => profile.birth_year = update.birth_year,
                "education" => profile.education = update.education.clone(),
                "joined_party_on" => profile.joined_party_on = update.joined_party_on,
                "membership_status" => profile.membership_status = update.membership_status,
                "category" => profile.category = update.category,
                "employer" => profile.employer = update.employer.clone(),
                "position" => profile.position = update.position.clone(),
                "home_address" => profile.home_address = update.home_address.clone(),
                "residence_community_id" => profile.residence_community_id = update.residence_community_id.clone(),
                "phone" => profile.phone = update.phone.clone(),
                "skills" => profile.skills = update.skills.clone(),
                "service_intentions" => profile.service_intentions = update.service_intentions.clone(),
                "available_time_slots" => profile.available_time_slots = update.available_time_slots.clone(),
                other => {
                    return Err(RegistryError::invalid(
                        "update_mask",
                        format!("{other:?} cannot be updated"),
                    ));
                }
            }
        }
        self.check_profile_refs(&mut tx, &profile, "profile").await?;
        let row = self.seal_row(&row.id, &profile, row.created_at)?;
        db::update_member(&mut tx, &row).await?;
        self.remember(&mut tx, p, request_id, "UpdateMember", &row.id).await?;
        tx.commit().await?;
        self.open_row(&row, false)
    }

    /// Imports one batch of a roster: every row is checked first; the batch is
    /// written in one transaction only when no row has an error. The orgs a
    /// batch names are looked up once each, and the rows go in with
    /// multi-row INSERTs.
    pub async fn import_batch(
        &self,
        p: &Principal,
        request_id: &str,
        rows: Vec<Result<Profile, Vec<FieldError>>>,
    ) -> Result<ImportOutcome> {
        // Checks and sealing need no transaction: a connection only for the
        // orgs the cache does not hold, so the next batch of a stream is
        // prepared while this one is written.
        let mut conn = self.pool.acquire().await?;
        let admin = self.admin_org(&mut conn, p).await?;
        let mut in_scope: HashMap<String, bool> = HashMap::new();
        let mut errors = Vec::new();
        let mut valid = Vec::new();
        for (i, row) in rows.into_iter().enumerate() {
            match row {
                Err(row_errors) => errors.extend(row_errors.into_iter().map(|e| (i, e))),
                Ok(profile) => match self.check_profile_refs(&mut conn, &profile, "row").await {
                    Err(RegistryError::Invalid(row_errors)) => errors.extend(row_errors.into_iter().map(|e| (i, e))),
                    Err(other) => return Err(other),
                    Ok(unit) => {
                        let covered = *in_scope
                            .entry(unit.id.clone())
                            .or_insert_with(|| admin.as_ref().is_some_and(|a| a.covers(&unit.path)));
                        if covered {
                            valid.push(profile);
                        } else {
                            errors.push((i, FieldError::new("row.unit_org_id", "outside the caller's scope")));
                        }
                    }
                },
            }
        }
        drop(conn);
        let now = now_millis();
        let rows = if errors.is_empty() {
            valid
                .iter()
                .map(|profile| self.seal_row(&new_id(), profile, now))
                .collect::<Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        let mut tx = self.pool.begin().await?;
        if let Some(first) = self.replayed(&mut tx, p, request_id, "ImportMembers").await? {
            return Ok(ImportOutcome::Replayed(
                first.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            ));
        }
        if !errors.is_empty() {
            return Ok(ImportOutcome::Rejected(errors));
        }
        db::insert_members(&mut tx, &rows).await?;
        let ids: Vec<String> = rows.into_iter().map(|row| row.id).collect();
        self.remember(&mut tx, p, request_id, "ImportMembers", &ids.join(","))
            .await?;
        tx.commit().await?;
        Ok(ImportOutcome::Committed(ids))
    }

    pub async fn list_accesses(
        &self,
        p: &Principal,
        member_id: &str,
        page: &PageRequest,
    ) -> Result<(Vec<db::AccessRow>, String)> {
        let mut conn = self.pool.acquire().await?;
        let org = self
            .admin_org(&mut conn, p)
            .await?
            .ok_or_else(|| RegistryError::out_of_scope("only admins read the personal-information access log"))?;
        if !member_id.is_empty() {
            let row = db::require_member(&mut conn, member_id).await?;
            self.require_member_access(&mut conn, p, &row, false).await?;
        }
        let member = (!member_id.is_empty()).then_some(member_id);
        let rows = db::list_accesses(&mut conn, &org.path, member, page).await?;
        Ok(page.finish(rows, |a| &a.id))
    }

    // ───────────── unit reports ─────────────

    fn check_window(&self, window: crate::domain::policy::Window, year: i32, what: &str) -> Result<()> {
        if !valid_year(year) {
            return Err(RegistryError::invalid("year", "must be between 2000 and 2100"));
        }
        let today = china_today();
        if window.contains(year, today) {
            Ok(())
        } else {
            use crate::domain::policy::Window;
            Err(RegistryError::OutsideWindow(format!(
                "{what} for {year} are accepted from {year}-{} to {year}-{} (today is {today})",
                Window::format(window.start),
                Window::format(window.end)
            )))
        }
    }

    async fn community(&self, conn: &mut AnyConnection, id: &str, field: &str) -> Result<Org> {
        match self.org(conn, id).await? {
            Some(org) if org.org_type == OrgType::Community => Ok(org),
            Some(_) => Err(RegistryError::invalid(field, "is not a community")),
            None => Err(RegistryError::invalid(field, format!("unknown org {id:?}"))),
        }
    }

    pub async fn submit_unit_report(
        &self,
        p: &Principal,
        request_id: &str,
        draft: UnitReportDraft,
    ) -> Result<UnitReport> {
        let UnitReportDraft {
            unit_org_id,
            community_id,
            year,
            resources,
            suggestions,
        } = draft;
        let (unit_org_id, community_id) = (unit_org_id.as_str(), community_id.as_str());
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "SubmitUnitReport").await? {
            return db::require_unit_report(&mut tx, &id).await;
        }
        let unit = match self.org(&mut tx, unit_org_id).await? {
            Some(u) if u.org_type.is_unit() => u,
            Some(_) => return Err(RegistryError::invalid("unit_org_id", "is not a resident unit's org")),
            None => {
                return Err(RegistryError::invalid(
                    "unit_org_id",
                    format!("unknown org {unit_org_id:?}"),
                ));
            }
        };
        let community = self.community(&mut tx, community_id, "community_id").await?;
        let actor = self
            .admin_org(&mut tx, p)
            .await?
            .ok_or_else(|| RegistryError::out_of_scope(format!("{} may not submit unit reports", p.role.as_str())))?;
        // The unit chooses; its superior org assigns; a street assigns a community inside it (S2).
        let assignment = if actor.id == unit.id {
            Assignment::Chosen
        } else if actor.covers(&unit.path) {
            Assignment::BySuperior
        } else if actor.org_type == OrgType::Street && actor.covers(&community.path) {
            Assignment::ByStreet
        } else {
            return Err(RegistryError::out_of_scope(format!(
                "{} may not report for unit {}",
                p.role.as_str(),
                unit.id
            )));
        };
        self.check_window(self.policy.unit_report_window, year, "unit reports")?;
        if db::unit_report_of(&mut tx, &unit.id, year).await?.is_some() {
            return Err(RegistryError::AlreadyExists(format!(
                "unit {} has already reported for {year}",
                unit.id
            )));
        }
        let report = UnitReport {
            id: new_id(),
            unit_org_id: unit.id.clone(),
            community_id: community.id.clone(),
            year,
            status: UnitReportStatus::Submitted,
            assignment,
            assigned_by_org_id: (assignment != Assignment::Chosen).then(|| actor.id.clone()),
            org_name: unit.name.clone(),
            details: unit.details.clone(),
            superior_org_id: unit.parent_id.clone(),
            resources,
            suggestions,
            submitted_at: now_millis(),
            receipt: None,
        };
        match db::insert_unit_report(&mut tx, &report).await {
            Err(e) if db::is_unique_violation(&e) => {
                return Err(RegistryError::AlreadyExists(format!(
                    "unit {} has already reported for {year}",
                    unit.id
                )));
            }
            other => other?,
        }
        self.remember(&mut tx, p, request_id, "SubmitUnitReport", &report.id)
            .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Numbers, dates and stores a receipt for `receipt`'s report.
    /// Numbers, dates and stores the receipt of a claimed report, and
    /// attaches it to the report.
    async fn issue_receipt(&self, conn: &mut AnyConnection, report: ReceiptFor<'_>) -> Result<Receipt> {
        let (kind, report_id, year, community_id, unit_org_id, member_id) = match report {
            ReceiptFor::Unit(r) => (ReceiptKind::Unit, &r.id, r.year, &r.community_id, &r.unit_org_id, None),
            ReceiptFor::Member(r) => (
                ReceiptKind::Member,
                &r.id,
                r.year,
                &r.community_id,
                &r.unit_org_id,
                Some(r.member_id.clone()),
            ),
        };
        let counter = match kind {
            ReceiptKind::Unit => format!("receipt-unit-{year}"),
            ReceiptKind::Member => format!("receipt-member-{year}"),
        };
        let sequence = db::next_counter(conn, &counter).await?;
        let receipt = Receipt {
            number: receipt_number(&self.number_prefix, year, kind, sequence),
            issued_at: now_millis(),
            year,
            community_id: community_id.clone(),
            unit_org_id: unit_org_id.clone(),
            member_id,
            report_id: report_id.clone(),
        };
        db::insert_receipt(conn, &receipt).await?;
        match kind {
            ReceiptKind::Unit => db::attach_unit_receipt(conn, report_id, &receipt.number).await?,
            ReceiptKind::Member => db::attach_member_receipt(conn, report_id, &receipt.number).await?,
        }
        Ok(receipt)
    }

    /// The community receives a unit's report and issues the receipt; this
    /// establishes the unit–community pair for the year.
    pub async fn receive_unit_report(&self, p: &Principal, request_id: &str, report_id: &str) -> Result<UnitReport> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "ReceiveUnitReport").await? {
            return db::require_unit_report(&mut tx, &id).await;
        }
        let report = db::require_unit_report(&mut tx, report_id).await?;
        let community = self.require_org(&mut tx, &report.community_id).await?;
        self.require_admin_over(&mut tx, p, &community.path, &format!("community {}", community.id))
            .await?;
        if report.status != UnitReportStatus::Submitted {
            return Err(RegistryError::WrongState(format!(
                "unit report {report_id} is already {}",
                report.status.as_str()
            )));
        }
        // Claim the report first: a concurrent second call waits on the row, then finds it received.
        if !db::receive_unit_report(&mut tx, &report.id).await? {
            return Err(RegistryError::WrongState(format!(
                "report {report_id} was already received"
            )));
        }
        self.issue_receipt(&mut tx, ReceiptFor::Unit(&report)).await?;
        self.remember(&mut tx, p, request_id, "ReceiveUnitReport", &report.id)
            .await?;
        let report = db::require_unit_report(&mut tx, report_id).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Admins over the unit or the community, and services, may read a unit report.
    pub async fn get_unit_report(&self, p: &Principal, id: &str) -> Result<UnitReport> {
        let mut conn = self.pool.acquire().await?;
        let report = db::require_unit_report(&mut conn, id).await?;
        self.require_reader_of(&mut conn, p, &[&report.unit_org_id, &report.community_id], None)
            .await?;
        Ok(report)
    }

    /// Services read everything; a member reads what names it; admins read what
    /// lies in their subtree by any of `org_ids`.
    async fn require_reader_of(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        org_ids: &[&str],
        member_id: Option<&str>,
    ) -> Result<()> {
        match &p.scope {
            Scope::Service => return Ok(()),
            Scope::Member(me) if Some(me.as_str()) == member_id => return Ok(()),
            Scope::Member(_) | Scope::Cloud => {}
            Scope::Org(_) => {
                if let Some(actor) = self.admin_org(conn, p).await? {
                    for id in org_ids {
                        if let Some(org) = self.org(conn, id).await?
                            && actor.covers(&org.path)
                        {
                            return Ok(());
                        }
                    }
                }
            }
        }
        Err(RegistryError::out_of_scope(format!(
            "{} may not read this record",
            p.role.as_str()
        )))
    }

    pub async fn list_unit_reports(
        &self,
        p: &Principal,
        org_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<(Vec<UnitReport>, String)> {
        let mut conn = self.pool.acquire().await?;
        let org = self.scoped_org(&mut conn, p, org_id).await?;
        let rows = db::list_unit_reports(&mut conn, &org.path, year, page).await?;
        Ok(page.finish(rows, |r| &r.id))
    }

    // ───────────── member reports ─────────────

    pub async fn issue_letter(
        &self,
        p: &Principal,
        request_id: &str,
        member_id: &str,
        community_id: &str,
        year: i32,
    ) -> Result<Letter> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "IssueIntroductionLetter").await? {
            return db::require_letter(&mut tx, &id).await;
        }
        if !valid_year(year) {
            return Err(RegistryError::invalid("year", "must be between 2000 and 2100"));
        }
        let member = db::require_member(&mut tx, member_id).await?;
        let unit = self.require_org(&mut tx, &member.unit_org_id).await?;
        self.require_admin_over(&mut tx, p, &unit.path, &format!("member {member_id}'s unit"))
            .await?;
        let community = self.community(&mut tx, community_id, "community_id").await?;
        let sequence = db::next_counter(&mut tx, &format!("letter-{year}")).await?;
        let letter = Letter {
            id: new_id(),
            number: letter_number(&self.number_prefix, year, sequence),
            unit_org_id: unit.id,
            member_id: member.id,
            community_id: community.id,
            year,
            issued_at: now_millis(),
        };
        db::insert_letter(&mut tx, &letter, &p.subject).await?;
        self.remember(&mut tx, p, request_id, "IssueIntroductionLetter", &letter.id)
            .await?;
        tx.commit().await?;
        Ok(letter)
    }

    /// The member reports at a community (itself, through the community's front
    /// desk, or organised by its unit). One active report per member per year.
    pub async fn submit_member_report(
        &self,
        p: &Principal,
        request_id: &str,
        member_id: &str,
        community_id: &str,
        year: i32,
        letter_id: &str,
    ) -> Result<MemberReport> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "SubmitMemberReport").await? {
            return db::require_member_report(&mut tx, &id).await;
        }
        let member = db::require_member(&mut tx, member_id).await?;
        let community = self.community(&mut tx, community_id, "community_id").await?;
        let allowed = match &p.scope {
            Scope::Member(me) => *me == member.id,
            Scope::Service | Scope::Cloud => false,
            Scope::Org(_) => {
                let unit = self.require_org(&mut tx, &member.unit_org_id).await?;
                let actor = self.admin_org(&mut tx, p).await?;
                actor.is_some_and(|a| a.covers(&community.path) || a.covers(&unit.path))
            }
        };
        if !allowed {
            return Err(RegistryError::out_of_scope(format!(
                "{} may not report for member {member_id}",
                p.role.as_str()
            )));
        }
        self.check_window(self.policy.member_report_window, year, "member reports")?;
        let letter = if letter_id.is_empty() {
            None
        } else {
            let letter = db::letter(&mut tx, letter_id)
                .await?
                .ok_or_else(|| RegistryError::invalid("letter_id", format!("unknown letter {letter_id:?}")))?;
            if letter.member_id != member.id || letter.community_id != community.id || letter.year != year {
                return Err(RegistryError::LetterRequired(format!(
                    "letter {} introduces member {} to community {} for {}, not this report",
                    letter.number, letter.member_id, letter.community_id, letter.year
                )));
            }
            Some(letter)
        };
        if self.policy.letter_required && letter.is_none() {
            return Err(RegistryError::LetterRequired(
                "policy requires an introduction letter from the member's unit org".into(),
            ));
        }
        if let Some(existing) = db::active_member_report(&mut tx, &member.id, year).await? {
            return Err(RegistryError::AlreadyExists(format!(
                "member {} already has an active report for {year} ({})",
                member.id, existing.id
            )));
        }
        let report = MemberReport {
            id: new_id(),
            member_id: member.id.clone(),
            community_id: community.id,
            year,
            status: MemberReportStatus::Submitted,
            letter_id: letter.map(|l| l.id),
            unit_org_id: member.unit_org_id.clone(),
            branch: String::new(),
            submitted_at: now_millis(),
            confirmed_at: None,
            ended_at: None,
            receipt: None,
            registered_from: None,
            registered_until: None,
        };
        match db::insert_member_report(&mut tx, &report).await {
            Err(e) if db::is_unique_violation(&e) => {
                return Err(RegistryError::AlreadyExists(format!(
                    "member {} already has an active report for {year}",
                    member.id
                )));
            }
            other => other?,
        }
        self.remember(&mut tx, p, request_id, "SubmitMemberReport", &report.id)
            .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// The community confirms: the member enters its register in `branch`
    /// and a receipt goes back to the unit org.
    pub async fn confirm_member_report(
        &self,
        p: &Principal,
        request_id: &str,
        report_id: &str,
        branch: &str,
    ) -> Result<MemberReport> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = self.replayed(&mut tx, p, request_id, "ConfirmMemberReport").await? {
            return db::require_member_report(&mut tx, &id).await;
        }
        let report = db::require_member_report(&mut tx, report_id).await?;
        let community = self.require_org(&mut tx, &report.community_id).await?;
        self.require_admin_over(&mut tx, p, &community.path, &format!("community {}", community.id))
            .await?;
        if report.status != MemberReportStatus::Submitted {
            return Err(RegistryError::WrongState(format!(
                "member report {report_id} is {}",
                report.status.as_str()
            )));
        }
        // Claim the report first: a concurrent second call waits on the row, then finds it confirmed.
        if !db::confirm_member_report(&mut tx, &report.id, branch, now_millis()).await? {
            return Err(RegistryError::WrongState(format!(
                "report {report_id} was already confirmed"
            )));
        }
        self.issue_receipt(&mut tx, ReceiptFor::Member(&report)).await?;
        // A member belongs to one community at a time: after a move, the new
        // registration starts on the relocation date.
        if let Some(declared_at) = db::pending_relocation_declared_at(&mut tx, &report.member_id).await? {
            let moved_on = dualreport_policy::china_date(declared_at);
            if chrono::Datelike::year(&moved_on) == report.year {
                db::set_registered_from(&mut tx, &report.id, moved_on).await?;
            }
        }
        db::fulfil_relocations(&mut tx, &report.member_id, &report.id).await?;
        self.remember(&mut tx, p, request_id, "ConfirmMemberReport", &report.id)
            .await?;
        let report = db::require_member_report(&mut tx, report_id).await?;
        journal::append(
            &mut tx,
            &journal::Fact {
                kind: "member_report.confirmed",
                occur_millis: report.confirmed_at.unwrap_or_else(now_millis),
                subject_id: report.id.clone(),
                district_id: community.district_id.clone().unwrap_or_default(),
                community_id: report.community_id.clone(),
                unit_org_id: report.unit_org_id.clone(),
                member_id: report.member_id.clone(),
                text: format!("{} 年度报到已确认（{}）", report.year, community.name),
                evidence_ids: Vec::new(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    pub async fn get_member_report(&self, p: &Principal, id: &str) -> Result<MemberReport> {
        let mut conn = self.pool.acquire().await?;
        let report = db::require_member_report(&mut conn, id).await?;
        self.require_reader_of(
            &mut conn,
            p,
            &[&report.unit_org_id, &report.community_id],
            Some(&report.member_id),
        )
        .await?;
        Ok(report)
    }

    pub async fn list_member_reports(
        &self,
        p: &Principal,
        member_id: &str,
        org_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<(Vec<MemberReport>, String)> {
        let mut conn = self.pool.acquire().await?;
        let rows = if !member_id.is_empty() {
            let member = db::require_member(&mut conn, member_id).await?;
            self.require_member_access(&mut conn, p, &member, true).await?;
            db::list_member_reports(&mut conn, Some(member_id), None, year, page).await?
        } else {
            let org = self.scoped_org(&mut conn, p, org_id).await?;
            db::list_member_reports(&mut conn, None, Some(&org.path), year, page).await?
        };
        Ok(page.finish(rows, |r| &r.id))
    }

    pub async fn get_receipt(&self, p: &Principal, number: &str) -> Result<Receipt> {
        let mut conn = self.pool.acquire().await?;
        let receipt = db::receipt(&mut conn, number)
            .await?
            .ok_or_else(|| RegistryError::not_found("receipt", number))?;
        self.require_reader_of(
            &mut conn,
            p,
            &[&receipt.unit_org_id, &receipt.community_id],
            receipt.member_id.as_deref(),
        )
        .await?;
        Ok(receipt)
    }

    pub async fn register(
        &self,
        p: &Principal,
        community_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<(Vec<db::RegisterRow>, String)> {
        let mut conn = self.pool.acquire().await?;
        let community = self.scoped_org(&mut conn, p, community_id).await?;
        let year = if year == 0 {
            chrono::Datelike::year(&china_today())
        } else {
            year
        };
        let rows = db::register(&mut conn, &community.id, year, page).await?;
        Ok(page.finish(rows, |r| &r.report_id))
    }

    // ───────────── relocation ─────────────

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
        if let Some(id) = self.replayed(&mut tx, p, request_id, "DeclareRelocation").await? {
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
                RegistryError::WrongState(format!(
                    "member {member_id} has no active registration in {year} to move from"
                ))
            })?;
        if current.community_id == to.id {
            return Err(RegistryError::SameCommunity(to.id));
        }
        let now = now_millis();
        if !db::end_member_report(&mut tx, &current.id, now, today).await? {
            return Err(RegistryError::WrongState(format!(
                "member {member_id}'s registration has already ended"
            )));
        }
        let mut moved = member.clone();
        moved.residence_community_id = to.id.clone();
        moved.updated_at = now;
        db::update_member(&mut tx, &moved).await?;
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
        self.remember(&mut tx, p, request_id, "DeclareRelocation", &relocation.id)
            .await?;
        tx.commit().await?;
        Ok(relocation)
    }

    /// Relocations in the org's subtree; `overdue_only` keeps those still
    /// pending after their due date as of `as_of`.
    pub async fn list_relocations(
        &self,
        p: &Principal,
        org_id: &str,
        overdue_only: bool,
        as_of: Date,
        page: &PageRequest,
    ) -> Result<(Vec<Relocation>, String)> {
        let mut conn = self.pool.acquire().await?;
        let org = self.scoped_org(&mut conn, p, org_id).await?;
        let rows = db::list_relocations(&mut conn, &org.path, overdue_only.then_some(as_of), page).await?;
        Ok(page.finish(rows, |r| &r.id))
    }

    // ───────────── statistics ─────────────

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
        let mut conn = self.pool.acquire().await?;
        let member = db::require_member(&mut conn, member_id).await?;
        let unit = self.require_org(&mut conn, &member.unit_org_id).await?;
        self.require_admin_over(&mut conn, p, &unit.path, &format!("member {member_id}'s unit"))
            .await?;
        db::upsert_non_report_reason(&mut conn, member_id, year, reason, &p.subject, now_millis()).await
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

/// The report a receipt is issued for.
enum ReceiptFor<'a> {
    Unit(&'a UnitReport),
    Member(&'a MemberReport),
}

/// Materialised paths of a member's unit org and residence community: an
/// admin over either acts on the member.
#[derive(Debug, Default)]
struct MemberPaths {
    unit: String,
    community: String,
}

/// A unit report as submitted (报到单 fields beyond the org's own record).
#[derive(Debug, Clone)]
pub struct UnitReportDraft {
    pub unit_org_id: String,
    pub community_id: String,
    pub year: i32,
    /// 可提供的资源
    pub resources: String,
    /// 意见建议
    pub suggestions: String,
}

/// What happened to one imported batch.
#[derive(Debug)]
pub enum ImportOutcome {
    Committed(Vec<String>),
    /// The same request_id was committed before; these are its members.
    Replayed(Vec<String>),
    /// Nothing was written; (row index, error) for every bad row.
    Rejected(Vec<(usize, FieldError)>),
}
