//! The organisation tree as this replica last read it: scope checks look up
//! the caller's org and the orgs a member or report hangs under on every
//! call, and the tree changes rarely, so they are answered from memory.
//!
//! An entry lives for [`TTL`]; a change made through this replica clears the
//! whole cache at once (a move changes every descendant's path). Another
//! replica's move of an org is seen here within [`TTL`]: that is the bound on
//! how long an admin of the old parent may still act on a moved subtree.
//! Absence is never cached, so an org created on another replica is found
//! at once.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use sqlx::AnyConnection;

use crate::domain::Result;
use crate::domain::org::Org;
use crate::storage as db;

/// How long an org read from the database answers without a re-read.
pub const TTL: Duration = Duration::from_secs(5);

/// The most orgs kept; a district has a few thousand.
const CAPACITY: usize = 50_000;

#[derive(Default)]
pub struct OrgCache {
    entries: RwLock<HashMap<String, (Instant, Org)>>,
}

impl OrgCache {
    /// The org, from memory when fresh, else from the database.
    pub async fn get(&self, conn: &mut AnyConnection, id: &str) -> Result<Option<Org>> {
        if let Some(org) = self.fresh(id) {
            return Ok(Some(org));
        }
        let org = db::org(conn, id).await?;
        if let Some(org) = &org {
            self.put(org.clone());
        }
        Ok(org)
    }

    fn fresh(&self, id: &str) -> Option<Org> {
        let entries = self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(id)
            .filter(|(read_at, _)| read_at.elapsed() < TTL)
            .map(|(_, org)| org.clone())
    }

    fn put(&self, org: Org) {
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.retain(|_, (read_at, _)| read_at.elapsed() < TTL);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(org.id.clone(), (Instant::now(), org));
    }

    /// Forgets everything: called after any change to the tree.
    pub fn clear(&self) {
        self.entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}
