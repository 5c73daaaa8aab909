//! The event journal (`dualreport.common.v1.EventJournalService`): facts a
//! data-owning service tells the party-building cloud about, appended in the
//! same transaction as the change they record and read by the feedback
//! service with a cursor.
//!
//! Each service keeps a table
//! `journal (sequence, kind, occur_time, subject_id, district_id, community_id,
//! unit_org_id, member_id, text, evidence_ids)` created by its `0002_journal`
//! migrations (the same DDL in every service). A reader that has seen
//! sequence *n* must never later find a committed entry below *n*: on
//! PostgreSQL appends take a transaction-scoped advisory lock, so entries
//! commit in sequence order; SQLite has one writer anyway.

use dualreport_proto::common::v1 as pb;
use pb::event_journal_service_server::{EventJournalService, EventJournalServiceServer};
use sqlx::{AnyConnection, AnyPool, Row};
use tonic::{Code, Request, Response, Status};

use crate::access::{AccessTable, Rule};
use crate::auth::{Role, principal};
use crate::error::status;

/// The journal's fully qualified gRPC service name, as health reports it.
pub const SERVICE_NAME: &str = "dualreport.common.v1.EventJournalService";

/// Who reads a journal: the suite's own services (feedback), nothing else.
pub static ACCESS: AccessTable = AccessTable {
    service: SERVICE_NAME,
    rules: &[Rule {
        rpcs: &["ListJournal"],
        roles: &[Role::Service],
        scope: "the suite's feedback service, which feeds the party-building cloud",
    }],
};

/// The advisory lock key serialising journal appends on PostgreSQL ("DRJ1").
const APPEND_LOCK: i64 = 0x4452_4A31;

/// One fact for the journal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fact {
    pub kind: &'static str,
    pub occur_millis: i64,
    pub subject_id: String,
    pub district_id: String,
    pub community_id: String,
    pub unit_org_id: String,
    pub member_id: String,
    pub text: String,
    pub evidence_ids: Vec<String>,
}

/// Makes the caller's transaction the only one appending until it ends, so
/// sequences commit in order (PostgreSQL; SQLite has one writer anyway). Any
/// table read by sequence with a cursor needs this before its inserts.
pub async fn lock_appends(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(APPEND_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Appends a fact inside the caller's transaction.
pub async fn append(conn: &mut AnyConnection, fact: &Fact) -> Result<(), sqlx::Error> {
    lock_appends(conn).await?;
    sqlx::query(
        "INSERT INTO journal (kind, occur_time, subject_id, district_id, community_id, unit_org_id, member_id, \
         text, evidence_ids) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(fact.kind)
    .bind(fact.occur_millis)
    .bind(&fact.subject_id)
    .bind(&fact.district_id)
    .bind(&fact.community_id)
    .bind(&fact.unit_org_id)
    .bind(&fact.member_id)
    .bind(&fact.text)
    .bind(serde_json::to_string(&fact.evidence_ids).unwrap_or_else(|_| "[]".into()))
    .execute(conn)
    .await?;
    Ok(())
}

/// Entries after `after`, oldest first.
pub async fn list(pool: &AnyPool, after: i64, limit: i64) -> Result<Vec<pb::JournalEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT sequence, kind, occur_time, subject_id, district_id, community_id, unit_org_id, member_id, text, \
         evidence_ids FROM journal WHERE sequence > $1 ORDER BY sequence LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let evidence: String = row.try_get("evidence_ids")?;
            Ok(pb::JournalEntry {
                sequence: row.try_get("sequence")?,
                kind: row.try_get("kind")?,
                occur_time: Some(crate::wire::timestamp(row.try_get("occur_time")?)),
                subject_id: row.try_get("subject_id")?,
                district_id: row.try_get("district_id")?,
                community_id: row.try_get("community_id")?,
                unit_org_id: row.try_get("unit_org_id")?,
                member_id: row.try_get("member_id")?,
                text: row.try_get("text")?,
                evidence_ids: serde_json::from_str(&evidence).unwrap_or_default(),
            })
        })
        .collect()
}

/// The journal's gRPC service over a service's pool; only the `service` role reads it.
#[derive(Debug, Clone)]
pub struct JournalApi {
    pool: AnyPool,
}

impl JournalApi {
    pub fn server(pool: AnyPool) -> EventJournalServiceServer<Self> {
        EventJournalServiceServer::new(Self { pool })
    }
}

#[tonic::async_trait]
impl EventJournalService for JournalApi {
    async fn list_journal(
        &self,
        request: Request<pb::ListJournalRequest>,
    ) -> Result<Response<pb::ListJournalResponse>, Status> {
        let p = principal(&request)?;
        if p.role != Role::Service {
            return Err(status(
                Code::PermissionDenied,
                pb::ErrorReason::OutOfScope,
                "only the suite's services read the event journal",
            ));
        }
        let r = request.into_inner();
        if r.after_sequence < 0 {
            return Err(crate::error::invalid_field("after_sequence", "must not be negative"));
        }
        let limit = match r.limit {
            0 => 100,
            1..=1000 => i64::from(r.limit),
            _ => return Err(crate::error::invalid_field("limit", "must be between 0 and 1000")),
        };
        let entries = list(&self.pool, r.after_sequence, limit)
            .await
            .map_err(|e| crate::error::internal(&e))?;
        Ok(Response::new(pb::ListJournalResponse { entries }))
    }
}
