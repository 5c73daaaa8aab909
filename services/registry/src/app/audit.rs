//! The registry's audit trail (`platform::audit`): each change records who,
//! when, what and the fields before and after, on the change's own
//! transaction. Phone and home address appear masked.

use dualreport_platform::audit::{self, Change};
use serde_json::{Value, json};

use super::*;

impl Registry {
    /// Records `method`'s change to `kind` `id`, filed under `org_id`'s subtree.
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
        let org = self.require_org(conn, org_id).await?;
        audit::record(
            conn,
            p,
            Change {
                method,
                resource_kind: kind,
                resource_id: id,
                org_id,
                org_path: &org.path,
                before,
                after,
            },
        )
        .await?;
        Ok(())
    }

    /// The path of `org_id` when `p` administers it: the subtree of the
    /// trail `p` may read.
    pub async fn audit_subtree(&self, p: &Principal, org_id: &str) -> Result<String> {
        let mut conn = self.pool.acquire().await?;
        let org = self.require_org(&mut conn, org_id).await?;
        self.require_admin_over(&mut conn, p, &org.path, &format!("the audit trail of org {org_id}"))
            .await?;
        Ok(org.path)
    }
}

/// A member's profile as the trail shows it: personal information masked.
pub(super) fn member_fields(p: &Profile) -> Value {
    json!({
        "name": p.name,
        "gender": format!("{:?}", p.gender),
        "birth_year": p.birth_year,
        "education": p.education,
        "joined_party_on": p.joined_party_on.to_string(),
        "membership_status": format!("{:?}", p.membership_status),
        "category": format!("{:?}", p.category),
        "employer": p.employer,
        "position": p.position,
        "unit_org_id": p.unit_org_id,
        "residence_community_id": p.residence_community_id,
        "phone": mask_phone(&p.phone),
        "home_address": mask_address(&p.home_address),
        "skills": p.skills,
        "service_intentions": p.service_intentions,
        "available_time_slots": p.available_time_slots,
    })
}

/// An org's fields as the trail shows them.
pub(super) fn org_fields(o: &Org) -> Value {
    json!({
        "name": o.name,
        "type": o.org_type.as_str(),
        "parent_id": o.parent_id,
        "address": o.details.address,
        "postcode": o.details.postcode,
        "leader": o.details.leader,
        "contact_person": o.details.contact_person,
        "contact_phone": mask_phone(&o.details.contact_phone),
        "in_service_member_count": o.details.in_service_member_count,
    })
}
