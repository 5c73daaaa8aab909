//! Reading a service's audit trail (`AuditLogService`) in tests.

use dualreport_proto::common::v1 as cpb;
use dualreport_proto::common::v1::audit_log_service_client::AuditLogServiceClient;
use tonic::transport::Channel;

/// Every record `request` selects, walked `page_size` at a time to the last page.
pub async fn trail(
    channel: &Channel,
    token: &str,
    request: cpb::ListAuditRecordsRequest,
    page_size: i32,
) -> Result<Vec<cpb::AuditRecord>, tonic::Status> {
    let mut client = AuditLogServiceClient::new(crate::authed(channel.clone(), token));
    let mut out = Vec::new();
    let mut page_token = String::new();
    loop {
        let r = client
            .list_audit_records(cpb::ListAuditRecordsRequest {
                page_size,
                page_token: page_token.clone(),
                ..request.clone()
            })
            .await?
            .into_inner();
        assert!(
            r.records.len() <= usize::try_from(page_size).unwrap_or(0),
            "a page holds at most page_size records"
        );
        out.extend(r.records);
        if r.next_page_token.is_empty() {
            return Ok(out);
        }
        page_token = r.next_page_token;
    }
}

/// The records of `org_id`'s subtree.
pub fn of_org(org_id: &str) -> cpb::ListAuditRecordsRequest {
    cpb::ListAuditRecordsRequest {
        org_id: org_id.into(),
        ..Default::default()
    }
}
