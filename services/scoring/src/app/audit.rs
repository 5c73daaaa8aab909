//! Scoring's audit trail (`platform::audit`): each ledger entry, settlement
//! step and supermarket change records who, when, what and the fields before
//! and after, on the change's own transaction, filed under its community.

use dualreport_platform::audit::{self, Change};
use serde_json::{Value, json};

use super::*;

impl Scoring {
    /// Records `method`'s change to `kind` `id`, filed under community (or org) `org_id`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn audit(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        method: &str,
        kind: &str,
        id: &str,
        org_id: &str,
        before: Option<Value>,
        after: Option<Value>,
    ) -> Result<()> {
        let org = self.directory.org(org_id).await?;
        audit::record(
            conn,
            p,
            Change {
                method,
                resource_kind: kind,
                resource_id: id,
                org_id,
                org_path: &org.path(),
                before,
                after,
            },
        )
        .await?;
        Ok(())
    }

    /// The path of `org_id` when `p` is an admin at or above it.
    pub async fn audit_subtree(&self, p: &Principal, org_id: &str) -> Result<String> {
        let org = self.directory.org(org_id).await?;
        if !self.admin_covers(p, &org).await? {
            return Err(ScoringError::out_of_scope(format!(
                "{} may not read the audit trail of org {org_id}",
                p.role.as_str()
            )));
        }
        Ok(org.path())
    }
}

/// A ledger entry as the trail shows it.
pub(super) fn entry_fields(e: &Entry) -> Value {
    json!({
        "kind": e.kind.as_str(),
        "subject": e.subject.id,
        "community_id": e.community_id,
        "points": e.points,
        "occurred_on": e.occurred_on.to_string(),
        "content": e.content,
        "source_key": e.source_key,
        "corrects_entry_id": e.corrects_entry_id,
    })
}

/// A settlement's state as the trail shows it.
pub(super) fn settlement_fields(s: &Settlement) -> Value {
    json!({
        "period": s.period.to_string(),
        "version": s.version,
        "status": s.status.as_str(),
        "assembly_date": s.assembly_date.map(|d| d.to_string()),
    })
}

/// A supermarket item as the trail shows it.
pub(super) fn item_fields(i: &Item) -> Value {
    json!({
        "name": i.name,
        "description": i.description,
        "price_points": i.price_points,
        "stock": i.stock,
        "active": i.active,
    })
}

/// A redemption as the trail shows it.
pub(super) fn redemption_fields(r: &Redemption) -> Value {
    json!({
        "member_id": r.member_id,
        "item_id": r.item_id,
        "quantity": r.quantity,
        "points": r.points,
        "status": r.status.as_str(),
        "cancel_reason": r.cancel_reason,
    })
}
