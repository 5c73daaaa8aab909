//! Volunteering's use cases: who may do what, and in which transaction.
//!
//! Each method takes the authenticated [`Principal`] and validated input, asks
//! the registry (through the [`Directory`]) what it needs *before* it opens a
//! transaction, checks scope, then runs its reads and writes in one
//! transaction, so a refused or failed call leaves nothing behind. A
//! confirmation writes the attendance and its outbox row together; the
//! [`crate::relay`] pays it to scoring later.

mod activities;
mod agreements;
mod attendance;
mod certificates;
mod evidence;
mod households;
mod orders;
mod pledges;
mod posts;
mod scope;
mod teams_studios;
mod unit_records;
mod volunteer_records;
pub use volunteer_records::RECORDS_PER_PAGE;
mod wishes;

use dualreport_platform::ids::new_id;
use std::sync::Arc;

use bytes::Bytes;
use dualreport_directory::{Directory, DirectoryError, OrgInfo, OrgKind};
use dualreport_platform::auth::{Principal, Role, Scope};
use dualreport_platform::error::FieldError;
use dualreport_platform::filter::DateWindow;
use dualreport_platform::paging::PageRequest;
use dualreport_platform::{idempotency, journal, trace_context};
use sqlx::{AnyConnection, AnyPool};

use crate::blob::BlobStore;
use crate::domain::evidence::Limits;
use crate::domain::model::*;
use crate::domain::{
    Date, Result, STANDARD_POSTS, VolunteeringError, china_date, china_today, new_check_in_code, now_millis,
};
use crate::settings::HouseholdSettings;
use crate::storage as db;

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

pub use crate::domain::activity::NewActivity;
pub use certificates::Certificates;

/// Volunteering's state: the pool, the registry directory, the blob store, the rules.
#[derive(Clone)]
pub struct Volunteering {
    pool: AnyPool,
    directory: Directory,
    blobs: BlobStore,
    rules: Arc<Rules>,
    certificates: Arc<Certificates>,
}

/// A page of rows and the token of the next.
pub type Page<T> = (Vec<T>, String);

impl Volunteering {
    /// The registry directory, which also files this service's audit records.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    pub fn new(
        pool: AnyPool,
        directory: Directory,
        blobs: BlobStore,
        rules: Rules,
        certificates: Certificates,
    ) -> Self {
        Self {
            pool,
            directory,
            blobs,
            rules: Arc::new(rules),
            certificates: Arc::new(certificates),
        }
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }
}
