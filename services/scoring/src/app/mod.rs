//! Scoring's use cases: who may do what, and in which transaction.
//!
//! Each method takes the authenticated [`Principal`] and validated input,
//! asks the registry (through the [`Directory`]) what it needs *before* it
//! opens a transaction, checks scope, then runs its reads and writes in one
//! transaction, so a refused or failed call leaves nothing behind.

mod audit;
mod ledger;

use audit::{entry_fields, item_fields, redemption_fields, settlement_fields};
mod market;
mod scope;
mod settlement;

use dualreport_platform::ids::new_id;
use std::collections::HashMap;
use std::sync::Arc;

use dualreport_platform::auth::{Principal, Role, Scope};
use dualreport_platform::paging::PageRequest;
use dualreport_platform::{etag, idempotency, journal};
use sqlx::{AnyConnection, AnyPool};

use crate::domain::ledger::{Entry, EntryKind, ProjectScorer, Rules, SpecialCategory};
use crate::domain::market::{Item, Redemption, RedemptionStatus};
use crate::domain::period::Period;
use crate::domain::settlement::{Line, Settlement, SettlementStatus, SettlementsOf};
use crate::domain::{Clock, Date, Result, ScoringError, Subject, SubjectKind, now_millis, service_date};
use crate::storage::{self as db, AccountRow, BoardCursor, BoardRow};
use dualreport_directory::{Directory, DirectoryError, MemberInfo, OrgInfo, OrgKind};

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
    /// The version the caller read (`platform::etag`); empty: no check.
    pub etag: String,
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

/// One page of a vanguard board, with the names a notice shows.
#[derive(Debug)]
pub struct BoardPage {
    pub org_name: String,
    pub rows: Vec<BoardRow>,
    /// Each community on the page by id.
    pub community_names: std::collections::BTreeMap<String, String>,
    pub next: Option<BoardCursor>,
}

/// Subjects per star level of a published board, the highest level first.
#[derive(Debug)]
pub struct BoardStatistics {
    pub org_name: String,
    pub levels: Vec<db::StarCount>,
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
    /// The registry directory, which also files this service's audit records.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

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
}
