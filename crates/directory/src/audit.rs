//! The audit trail (`platform::audit`) for the services that know the tree
//! through the directory: a change is filed under its org's tree path, and an
//! admin reads the subtree of an org it administers.

use dualreport_platform::audit::{self, Change};
use dualreport_platform::failure::{Failure, StorageError};
use dualreport_proto::common::v1::ErrorReason;
use serde_json::Value;
use sqlx::AnyConnection;
use tonic::{Code, Status};

use super::*;

impl Directory {
    /// Records `method`'s change to `kind` `id` by `p`, filed under org `org_id`,
    /// on the change's own connection (its transaction).
    #[allow(clippy::too_many_arguments)]
    pub async fn audit(
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
        let org = self.org(org_id).await?;
        let change = Change {
            method,
            resource_kind: kind,
            resource_id: id,
            org_id,
            org_path: &org.path(),
            before,
            after,
        };
        audit::record(conn, p, change)
            .await
            .map_err(|e| DirectoryError::Storage(StorageError::from(e)))
    }
}

#[tonic::async_trait]
impl audit::Subtrees for Directory {
    async fn readable_subtree(&self, p: &Principal, org_id: &str) -> std::result::Result<String, Status> {
        let status = |e: DirectoryError| match e {
            DirectoryError::NotFound { what, id } => Status::from(Failure::NotFound { what, id }),
            DirectoryError::OutOfScope(m) => Status::from(Failure::OutOfScope(m)),
            DirectoryError::Unavailable(m) => {
                dualreport_platform::error::status(Code::Unavailable, ErrorReason::UpstreamUnavailable, m)
            }
            DirectoryError::Storage(e) => Status::from(Failure::Storage(e)),
            DirectoryError::Internal(e) => Status::from(Failure::Internal(e)),
        };
        let org = self.org(org_id).await.map_err(status)?;
        if !self.admin_covers(p, &org).await.map_err(status)? {
            return Err(Status::from(Failure::OutOfScope(format!(
                "{} may not read the audit trail of org {org_id}",
                p.role.as_str()
            ))));
        }
        Ok(org.path())
    }
}
