//! The audit trail (`dualreport.common.v1.AuditLogService`): who changed
//! what, when, and what it was before.
//!
//! Each data-owning service keeps a table
//! `audit_log (id, at, subject, role, actor_org_id, method, resource_kind,
//! resource_id, org_id, org_path, before_json, after_json)` (its `*_audit`
//! migration, the same DDL in every service). A mutating use case calls
//! [`record`] on the transaction of its change, so the change and its record
//! commit together or not at all. `before`/`after` are JSON objects of the
//! resource's fields as the service chooses to show them, personal data
//! masked. Admins read the records of the resources inside an org's subtree
//! ([`AuditApi`], `org_path` prefix), newest first, filtered and paged.

use dualreport_proto::common::v1 as pb;
use pb::audit_log_service_server::{AuditLogService, AuditLogServiceServer};
use sqlx::{AnyConnection, AnyPool, Row};
use tonic::{Request, Response, Status};

use crate::access::{ADMINS, AccessTable, Rule};
use crate::auth::{Principal, principal};
use crate::paging::{PageRequest, compound_key};

/// The audit service's fully qualified gRPC name.
pub const SERVICE_NAME: &str = "dualreport.common.v1.AuditLogService";

/// Who reads the trail: admins, for the orgs they administer.
pub static ACCESS: AccessTable = AccessTable {
    service: SERVICE_NAME,
    rules: &[Rule {
        rpcs: &["ListAuditRecords", "ExportAuditRecords"],
        roles: ADMINS,
        scope: "admins at or above `org_id`: the changes to resources inside its subtree",
    }],
};

/// One change, as a use case reports it.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// The RPC, e.g. `UpdateMember`.
    pub method: &'a str,
    pub resource_kind: &'a str,
    pub resource_id: &'a str,
    /// The org the resource belongs to, and that org's tree path (what a
    /// subtree read matches by prefix).
    pub org_id: &'a str,
    pub org_path: &'a str,
    /// The fields before (none for a creation) and after (none for a removal).
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Writes `change` by `p` on the change's own transaction.
pub async fn record(conn: &mut AnyConnection, p: &Principal, change: Change<'_>) -> Result<(), sqlx::Error> {
    let json = |v: &Option<serde_json::Value>| v.as_ref().map(ToString::to_string).unwrap_or_default();
    sqlx::query(
        "INSERT INTO audit_log (id, at, subject, role, actor_org_id, method, resource_kind, resource_id, \
         org_id, org_path, before_json, after_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(crate::ids::new_id())
    .bind(dualreport_policy::now_millis())
    .bind(&p.subject)
    .bind(p.role.as_str())
    .bind(p.org().unwrap_or(""))
    .bind(change.method)
    .bind(change.resource_kind)
    .bind(change.resource_id)
    .bind(change.org_id)
    .bind(change.org_path)
    .bind(json(&change.before))
    .bind(json(&change.after))
    .execute(conn)
    .await?;
    Ok(())
}

/// What [`list`] filters by; empty strings and `None` match everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub resource_id: String,
    pub method: String,
    pub subject: String,
    /// Epoch ms: at or after, and before.
    pub start: Option<i64>,
    pub end: Option<i64>,
}

/// The records under `path`, newest first; the page key is (`at`, `id`).
pub async fn list(
    conn: &mut AnyConnection,
    path: &str,
    filter: &Filter,
    page: &PageRequest,
) -> Result<(Vec<pb::AuditRecord>, String), Status> {
    let after = page.after_fields(2).map_err(|e| crate::error::invalid_fields(&[e]))?;
    let (after_at, after_id) = match &after {
        Some(f) => (
            PageRequest::after_number(f, 0).map_err(|e| crate::error::invalid_fields(&[e]))?,
            f[1].clone(),
        ),
        None => (0, String::new()),
    };
    let rows = sqlx::query(
        "SELECT * FROM audit_log WHERE org_path LIKE $1 || '%' \
         AND ($2 = '' OR resource_id = $2) AND ($3 = '' OR method = $3) AND ($4 = '' OR subject = $4) \
         AND at >= $5 AND at < $6 AND ($7 = 0 OR at < $8 OR (at = $8 AND id < $9)) \
         ORDER BY at DESC, id DESC LIMIT $10",
    )
    .bind(path)
    .bind(&filter.resource_id)
    .bind(&filter.method)
    .bind(&filter.subject)
    .bind(filter.start.unwrap_or(i64::MIN))
    .bind(filter.end.unwrap_or(i64::MAX))
    .bind(i64::from(after.is_some()))
    .bind(after_at)
    .bind(after_id)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await
    .map_err(db_status)?;
    let mut records = Vec::with_capacity(rows.len());
    for row in &rows {
        records.push(record_from_row(row).map_err(db_status)?);
    }
    Ok(page.finish_by(records, |r| {
        let at = r.time.as_ref().map_or(0, crate::wire::millis_of);
        compound_key(&[&at.to_string(), &r.id])
    }))
}

/// A database failure as the suite maps it (`UNAVAILABLE` when out of reach).
fn db_status(e: sqlx::Error) -> Status {
    Status::from(crate::failure::Failure::from(e))
}

fn record_from_row(row: &sqlx::any::AnyRow) -> Result<pb::AuditRecord, sqlx::Error> {
    Ok(pb::AuditRecord {
        id: row.try_get("id")?,
        time: Some(crate::wire::timestamp(row.try_get("at")?)),
        subject: row.try_get("subject")?,
        role: row.try_get("role")?,
        actor_org_id: row.try_get("actor_org_id")?,
        method: row.try_get("method")?,
        resource_kind: row.try_get("resource_kind")?,
        resource_id: row.try_get("resource_id")?,
        org_id: row.try_get("org_id")?,
        before: row.try_get("before_json")?,
        after: row.try_get("after_json")?,
    })
}

/// How the audit service learns which subtree a caller may read: the
/// service knows its org tree, platform does not.
#[tonic::async_trait]
pub trait Subtrees: Send + Sync + 'static {
    /// The tree path of `org_id` when `p` administers it (at or above it);
    /// otherwise the refusal (`NOT_FOUND`, `PERMISSION_DENIED`, …).
    async fn readable_subtree(&self, p: &Principal, org_id: &str) -> Result<String, Status>;
}

/// The audit trail's gRPC service over a service's pool.
pub struct AuditApi<S> {
    pool: AnyPool,
    subtrees: S,
}

impl<S: Subtrees> AuditApi<S> {
    pub fn server(pool: AnyPool, subtrees: S) -> AuditLogServiceServer<Self> {
        AuditLogServiceServer::new(Self { pool, subtrees })
    }
}

impl<S: Subtrees> AuditApi<S> {
    /// What a list or an export reads: the caller's readable subtree, the
    /// filters (an instant's nanos must be in range) and the page.
    async fn query(
        &self,
        p: &Principal,
        r: &pb::ListAuditRecordsRequest,
        page_size: i32,
    ) -> Result<(String, Filter, PageRequest), Status> {
        let org_id = crate::validate::id("org_id", &r.org_id).map_err(|e| crate::error::invalid_fields(&[e]))?;
        let millis = |field: &str, ts: Option<&prost_types::Timestamp>| -> Result<Option<i64>, Status> {
            match ts {
                None => Ok(None),
                Some(t) if (0..1_000_000_000).contains(&t.nanos) => Ok(Some(crate::wire::millis_of(t))),
                Some(_) => Err(crate::error::invalid_field(
                    field,
                    "nanos must be between 0 and 999,999,999",
                )),
            }
        };
        let filter = Filter {
            resource_id: r.resource_id.chars().take(128).collect(),
            method: r.method.chars().take(128).collect(),
            subject: r.subject.chars().take(128).collect(),
            start: millis("start_time", r.start_time.as_ref())?,
            end: millis("end_time", r.end_time.as_ref())?,
        };
        let page = crate::wire::page(page_size, &r.page_token)?;
        let path = self.subtrees.readable_subtree(p, &org_id).await?;
        Ok((path, filter, page))
    }
}

/// The export's columns, in the order of [`csv_lines`].
const CSV_HEADERS: [&str; 11] = [
    "时间",
    "操作者",
    "角色",
    "操作者组织",
    "操作",
    "对象类型",
    "对象",
    "所属组织",
    "记录",
    "变更前",
    "变更后",
];

/// The CSV lines of `records` (RFC 3339 times in UTC).
fn csv_lines(records: &[pb::AuditRecord], out: &mut String) {
    for r in records {
        let at = r.time.as_ref().map_or(0, crate::wire::millis_of);
        let time = chrono::DateTime::from_timestamp_millis(at)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        crate::csv::line(
            [
                time.as_str(),
                &r.subject,
                &r.role,
                &r.actor_org_id,
                &r.method,
                &r.resource_kind,
                &r.resource_id,
                &r.org_id,
                &r.id,
                &r.before,
                &r.after,
            ],
            out,
        );
    }
}

type ExportStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<pb::ExportAuditRecordsResponse, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl<S: Subtrees> AuditLogService for AuditApi<S> {
    async fn list_audit_records(
        &self,
        request: Request<pb::ListAuditRecordsRequest>,
    ) -> Result<Response<pb::ListAuditRecordsResponse>, Status> {
        let p = principal(&request)?;
        let r = request.into_inner();
        let (path, filter, page) = self.query(&p, &r, r.page_size).await?;
        let mut conn = self.pool.acquire().await.map_err(db_status)?;
        let (records, next_page_token) = list(&mut conn, &path, &filter, &page).await?;
        Ok(Response::new(pb::ListAuditRecordsResponse {
            records,
            next_page_token,
        }))
    }

    type ExportAuditRecordsStream = ExportStream;

    /// Pages through the trail as `ListAuditRecords` would, one message per
    /// page, reading the next page only when the client has taken the last.
    async fn export_audit_records(
        &self,
        request: Request<pb::ExportAuditRecordsRequest>,
    ) -> Result<Response<ExportStream>, Status> {
        let p = principal(&request)?;
        let r = request.into_inner().query.unwrap_or_default();
        let size = if r.page_size == 0 {
            i32::try_from(crate::paging::MAX_PAGE_SIZE).unwrap_or(500)
        } else {
            r.page_size
        };
        let (path, filter, page) = self
            .query(&p, &r, size)
            .await
            .map_err(|status| crate::error::nested("query", status))?;
        let org_id = r.org_id.clone();
        let first = r.page_token.is_empty();
        let state = Some((self.pool.clone(), page, first));
        let stream = futures::stream::try_unfold(state, move |state| {
            let (path, filter, org_id) = (path.clone(), filter.clone(), org_id.clone());
            async move {
                let Some((pool, page, first)) = state else {
                    return Ok(None);
                };
                let mut conn = pool.acquire().await.map_err(db_status)?;
                let (records, next_page_token) = list(&mut conn, &path, &filter, &page).await?;
                drop(conn);
                let mut chunk = String::new();
                if first {
                    chunk.push_str(crate::csv::BOM);
                    crate::csv::line(CSV_HEADERS, &mut chunk);
                }
                csv_lines(&records, &mut chunk);
                let message = pb::ExportAuditRecordsResponse {
                    file_name: if first {
                        format!("audit-{org_id}.csv")
                    } else {
                        String::new()
                    },
                    content_type: if first {
                        "text/csv; charset=utf-8".to_owned()
                    } else {
                        String::new()
                    },
                    chunk: chunk.into_bytes(),
                    next_page_token: next_page_token.clone(),
                };
                let next = if next_page_token.is_empty() {
                    None
                } else {
                    let next = crate::wire::page(size, &next_page_token)?;
                    Some((pool, next, false))
                };
                Ok(Some((message, next)))
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}
