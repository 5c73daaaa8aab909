//! The registry's use cases: who may do what, and in which transaction.
//!
//! Each method takes the authenticated [`Principal`] and validated domain
//! input, checks scope, and runs its reads and writes on one connection or
//! transaction, so a refused or failed call leaves nothing behind.

mod audit;

use audit::{member_fields, org_fields};
mod keys;
mod member_reports;
mod members;
mod orgs;
mod relocations;
mod scope;
mod statistics;
mod unit_reports;

use dualreport_platform::ids::new_id;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use dualreport_platform::auth::{Principal, Role, Scope};
use dualreport_platform::crypto::FieldCipher;
use dualreport_platform::error::FieldError;
use dualreport_platform::etag;
use dualreport_platform::idempotency;
use dualreport_platform::journal;
use dualreport_platform::paging::PageRequest;
use sqlx::{AnyConnection, AnyPool};

use crate::domain::member::{Profile, mask_address, mask_phone};
use crate::domain::org::{Org, OrgDetails, OrgInput, OrgType, check_parent, district_under};
use crate::domain::policy::Policy;
use crate::domain::report::{
    Assignment, Letter, MemberReport, MemberReportFilter, MemberReportStatus, Receipt, ReceiptKind, Relocation,
    RelocationFilter, RelocationStatus, UnitReport, UnitReportFilter, UnitReportStatus, letter_number, receipt_number,
    relocation_due, valid_year,
};
use crate::domain::{RegistryError, Result, china_today, now_millis};
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

/// One page of the statistics table: units by id, then communities by id.
#[derive(Debug, Clone, Default)]
pub struct StatisticsPage {
    pub units: Vec<UnitStats>,
    pub communities: Vec<CommunityStats>,
    pub next_page_token: String,
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
    /// Forgets the cached org tree (the city's reference data changed it).
    pub fn forget_orgs(&self) {
        self.orgs.clear();
    }

    pub async fn ensure_city(&self, id: &str, name: &str) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        match db::org(&mut conn, id).await? {
            Some(org) if org.org_type == OrgType::City => return Ok(()),
            Some(org) => {
                return Err(RegistryError::internal(anyhow::anyhow!(
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
            city_owned: false,
        };
        match db::insert_org(&mut conn, &city).await {
            Ok(()) => {
                tracing::info!(city = id, "created the root city");
                Ok(())
            }
            Err(e) if e.is_duplicate() => Ok(()),
            Err(other) => Err(other),
        }
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
