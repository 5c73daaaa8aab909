//! Feedback's use cases: who may do what, and in which transaction.
//!
//! Each method takes the authenticated [`Principal`] and validated input, asks
//! the other services (registry through the [`Directory`], the rest through
//! [`Sources`]) what it needs before it opens a transaction, checks scope, then
//! writes in one transaction — with the feed event it raises — so a refused or
//! failed call leaves nothing behind.

mod audit;
mod cards;
mod feed;
mod notices;
mod objections;
mod ratings;
mod scope;
mod spot_checks;
mod summary;
mod warnings;

pub use dualreport_platform::ids::new_id;
pub use objections::corrections;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use dualreport_directory::{Directory, DirectoryError, OrgInfo, OrgKind};
use dualreport_platform::auth::{Principal, Role, Scope};
use dualreport_platform::idempotency;
use dualreport_platform::outbox::Delivery;
use dualreport_platform::paging::PageRequest;
use dualreport_policy::Policy;
use futures::{StreamExt, stream};
use sqlx::AnyPool;
use tokio::sync::Notify;

use crate::domain::model::*;
use crate::domain::peers::{ActivityOf, CardOf, UnitMember, UnitServiceKind};
use crate::domain::warnings::{MemberFacts, OverdueRelocation, UnitFacts, YearRecord};
use crate::domain::{Date, Failure, FeedbackError, Period, Result, draw, now_millis, sample_size};
use crate::sources::Sources;
use crate::storage::{self as db, Stored, StoredWarning};

/// Calls to a source in flight at once while building a table.
const FAN_OUT: usize = 8;

/// How long a correction attempt owns its objection: the deciding call's own
/// attempt, and each background retry (a lease), so two never send it at once.
pub const CORRECTION_LEASE_MS: i64 = 60_000;

/// A page of rows and the token of the next.
pub type Page<T> = (Vec<T>, String);

/// What [`Feedback`] needs besides its stores.
#[derive(Debug, Clone)]
pub struct Rules {
    pub policy: Policy,
    /// `webhook.allow_http`: development only.
    pub allow_http: bool,
    /// How an upheld objection's correction is retried (`corrections.*_backoff_ms`).
    pub corrections: Delivery,
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
    /// The registry directory, which also files this service's audit records.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

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
    let served = sources.served(member_id, year).await?;
    let activities = served.iter().map(|a| &a.activity_id).collect::<HashSet<_>>().len();
    let pledge = sources.pledge(member_id, year).await?;
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
fn warning_event(
    kind: &str,
    id: String,
    f: &crate::domain::warnings::Finding,
    year: i32,
    district: String,
    text: String,
    now: i64,
) -> Event {
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
        year,
        ..Default::default()
    }
}
