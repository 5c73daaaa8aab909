//! What scoring's audit trail shows of each resource. Each ledger entry,
//! settlement step and supermarket change is recorded through
//! `Directory::audit` (who, when, what, before and after) on the change's own
//! transaction, filed under its community.

use serde_json::{Value, json};

use super::*;

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
