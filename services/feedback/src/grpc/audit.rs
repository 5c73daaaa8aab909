//! The audit trail's scope for feedback: an admin reads the subtree of
//! an org it administers (`platform::audit::AuditApi` serves the RPC).

use dualreport_platform::auth::Principal;

use super::*;

/// Feedback's view of the tree, as the audit service asks it.
#[derive(Clone)]
pub struct AuditScope(pub Feedback);

#[tonic::async_trait]
impl dualreport_platform::audit::Subtrees for AuditScope {
    async fn readable_subtree(&self, p: &Principal, org_id: &str) -> Result<String, Status> {
        self.0.audit_subtree(p, org_id).await.map_err(to_status)
    }
}
