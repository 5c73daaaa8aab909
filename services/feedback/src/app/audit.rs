//! Feedback's audit trail (`platform::audit`): each change records who,
//! when, what and the fields before and after, on the change's own
//! transaction, filed under the org it concerns (the community, the unit,
//! or for the webhook the city root).

use dualreport_platform::audit::{self, Change};
use serde_json::Value;
use sqlx::AnyConnection;

use super::*;

impl Feedback {
    /// Records `method`'s change to `kind` `id`, filed under `org` (id, tree path).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn audit(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        method: &str,
        kind: &str,
        id: &str,
        org: (&str, &str),
        before: Option<Value>,
        after: Option<Value>,
    ) -> Result<()> {
        audit::record(
            conn,
            p,
            Change {
                method,
                resource_kind: kind,
                resource_id: id,
                org_id: org.0,
                org_path: org.1,
                before,
                after,
            },
        )
        .await?;
        Ok(())
    }

    /// Where the webhook's changes are filed: under the city root, whoever
    /// made them (a city admin or the cloud, which has no org), so the city's
    /// admins read them in the city's trail.
    pub(super) async fn city_org(&self) -> Result<(String, String)> {
        let root = self.directory.city_root().await?;
        Ok((root.id.clone(), root.path()))
    }
}
