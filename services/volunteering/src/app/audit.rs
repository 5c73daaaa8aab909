//! Volunteering's audit trail (`platform::audit`): each change records who,
//! when, what and the fields before and after, on the change's own
//! transaction, filed under its community.

use dualreport_platform::audit::{self, Change};
use serde_json::Value;

use super::*;

impl Volunteering {
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
        if !self.directory.admin_covers(p, &org).await? {
            return Err(VolunteeringError::out_of_scope(format!(
                "{} may not read the audit trail of org {org_id}",
                p.role.as_str()
            )));
        }
        Ok(org.path())
    }
}
