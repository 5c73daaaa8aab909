//! The event journal (`dualreport.common.v1.EventJournalService`): facts a
//! data-owning service tells the party-building cloud about, appended in the
//! same transaction as the change they record and read by the feedback
//! service with a cursor.
//!
//! Each service keeps a table
//! `journal (sequence, kind, occur_time, subject_id, district_id, community_id,
//! unit_org_id, member_id, text, evidence_ids, position[, tx])` created by its
//! `0002_journal` and `*_journal_position` migrations (the same DDL in every
//! service). A reader that has seen position *n* must never later find a
//! committed entry below *n*.
//!
//! Appends take no lock: a mutation's transaction inserts its fact and
//! commits alongside every other one (group commit works). The public order
//! is given *after* commit: [`publish`] numbers, in one short transaction
//! under an advisory lock, the unnumbered entries every older transaction has
//! finished with — on PostgreSQL those whose writing transaction
//! (`tx = pg_current_xact_id()`) is below the oldest one still running
//! (`pg_snapshot_xmin`), so an entry of a transaction still in flight holds
//! back the ones after it instead of being overtaken. SQLite has one writer,
//! so every committed entry can be numbered. The reader ([`list`], the
//! `ListJournal` RPC) publishes before it reads, so no background task is
//! needed; a long transaction elsewhere in the cluster delays the feed by its
//! length, never reorders it.

use dualreport_proto::common::v1 as pb;
use pb::event_journal_service_server::{EventJournalService, EventJournalServiceServer};
use sqlx::{AnyConnection, AnyPool, Row};
use tonic::{Code, Request, Response, Status};

use crate::access::{AccessTable, Rule};
use crate::auth::{Role, principal};
use crate::error::status;

/// The journal's fully qualified gRPC service name, as health reports it.
pub const SERVICE_NAME: &str = "dualreport.common.v1.EventJournalService";

/// Who reads a journal: the suite's own services (feedback, the city tier), nothing else.
pub static ACCESS: AccessTable = AccessTable {
    service: SERVICE_NAME,
    rules: &[Rule {
        rpcs: &["ListJournal"],
        roles: &[Role::Service],
        scope: "the suite's feedback service, which feeds the party-building cloud; the city tier, which reads every district",
    }],
};

/// The advisory lock key serialising appends to a table read by sequence
/// (feedback's feed) on PostgreSQL ("DRJ1").
const APPEND_LOCK: i64 = 0x4452_4A31;

/// The advisory lock key serialising [`publish`] on PostgreSQL ("DRJ2").
const PUBLISH_LOCK: i64 = 0x4452_4A32;

/// The most entries one [`publish`] numbers.
const PUBLISH_BATCH: i64 = 10_000;

/// Roster facts (a member joined, or changed unit or community): they keep
/// the city tier's roster of each district, from which it counts report
/// rates. They are not events for the party-building cloud — an imported
/// roster is a hundred thousand of them — so the feeds (feedback's and the
/// city's `WatchEvents`, the webhook) pass over them.
pub const ROSTER_KINDS: [&str; 2] = ["member.created", "member.updated"];

/// True for a [`ROSTER_KINDS`] fact.
pub fn is_roster(kind: &str) -> bool {
    ROSTER_KINDS.contains(&kind)
}

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
    /// The year the fact is about (a report's reporting year); 0 when none.
    pub year: i32,
}

/// Makes the caller's transaction the only one appending until it ends, so
/// sequences commit in order (PostgreSQL; SQLite has one writer anyway).
/// Feedback's feed table, whose writers are few, still orders itself this
/// way; the data services' journals use [`publish`] instead.
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
    append_all(conn, std::slice::from_ref(fact)).await
}

/// Facts per statement in [`append_all`] (10 parameters each).
const FACTS_PER_INSERT: usize = 100;

/// Appends many facts inside the caller's transaction, a hundred per
/// statement (an import batch's members).
pub async fn append_all(conn: &mut AnyConnection, facts: &[Fact]) -> Result<(), sqlx::Error> {
    for chunk in facts.chunks(FACTS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let marks: Vec<String> = (1..=10).map(|c| format!("${}", i * 10 + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO journal (kind, occur_time, subject_id, district_id, community_id, unit_org_id, member_id, \
             text, evidence_ids, year) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for fact in chunk {
            query = query
                .bind(fact.kind)
                .bind(fact.occur_millis)
                .bind(&fact.subject_id)
                .bind(&fact.district_id)
                .bind(&fact.community_id)
                .bind(&fact.unit_org_id)
                .bind(&fact.member_id)
                .bind(&fact.text)
                .bind(serde_json::to_string(&fact.evidence_ids).unwrap_or_else(|_| "[]".into()))
                .bind(i64::from(fact.year));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Numbers the entries that can no longer be overtaken (see the module
/// docs), at most [`PUBLISH_BATCH`] at a time; returns how many.
pub async fn publish(pool: &AnyPool) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let postgres = tx.backend_name().eq_ignore_ascii_case("postgresql");
    let numbered = if postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PUBLISH_LOCK)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "WITH base AS (SELECT COALESCE(MAX(position), 0) AS b FROM journal), \
             next AS ( \
               SELECT sequence, row_number() OVER (ORDER BY sequence) AS n FROM journal \
               WHERE position IS NULL AND tx < pg_snapshot_xmin(pg_current_snapshot()) \
               ORDER BY sequence LIMIT $1 \
             ) \
             UPDATE journal j SET position = base.b + next.n FROM base, next WHERE j.sequence = next.sequence",
        )
        .bind(PUBLISH_BATCH)
        .execute(&mut *tx)
        .await?
        .rows_affected()
    } else {
        sqlx::query(
            "UPDATE journal SET position = sequence WHERE sequence IN \
             (SELECT sequence FROM journal WHERE position IS NULL ORDER BY sequence LIMIT $1)",
        )
        .bind(PUBLISH_BATCH)
        .execute(&mut *tx)
        .await?
        .rows_affected()
    };
    tx.commit().await?;
    Ok(numbered)
}

/// Entries after position `after`, oldest first, publishing first.
pub async fn list(pool: &AnyPool, after: i64, limit: i64) -> Result<Vec<pb::JournalEntry>, sqlx::Error> {
    publish(pool).await?;
    let rows = sqlx::query(
        "SELECT position, kind, occur_time, subject_id, district_id, community_id, unit_org_id, member_id, text, \
         evidence_ids, year FROM journal WHERE position > $1 ORDER BY position LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let evidence: String = row.try_get("evidence_ids")?;
            Ok(pb::JournalEntry {
                sequence: row.try_get("position")?,
                kind: row.try_get("kind")?,
                occur_time: Some(crate::wire::timestamp(row.try_get("occur_time")?)),
                subject_id: row.try_get("subject_id")?,
                district_id: row.try_get("district_id")?,
                community_id: row.try_get("community_id")?,
                unit_org_id: row.try_get("unit_org_id")?,
                member_id: row.try_get("member_id")?,
                text: row.try_get("text")?,
                evidence_ids: serde_json::from_str(&evidence).unwrap_or_default(),
                year: i32::try_from(row.try_get::<i64, _>("year")?).unwrap_or(0),
            })
        })
        .collect()
}

/// How a journal is read: the entries after a sequence, at most a limit.
pub type Reader =
    for<'a> fn(&'a AnyPool, i64, i64) -> futures::future::BoxFuture<'a, Result<Vec<pb::JournalEntry>, sqlx::Error>>;

/// The journal's gRPC service over a service's pool; only the `service` role reads it.
#[derive(Clone)]
pub struct JournalApi {
    pool: AnyPool,
    read: Reader,
}

impl std::fmt::Debug for JournalApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalApi").finish_non_exhaustive()
    }
}

impl JournalApi {
    /// The `journal` table of the data services, read with [`list`].
    pub fn server(pool: AnyPool) -> EventJournalServiceServer<Self> {
        Self::server_with(pool, |pool, after, limit| Box::pin(list(pool, after, limit)))
    }

    /// A journal kept elsewhere (feedback's own events in its feed table),
    /// with the same access rule and argument checks.
    pub fn server_with(pool: AnyPool, read: Reader) -> EventJournalServiceServer<Self> {
        EventJournalServiceServer::new(Self { pool, read })
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
        let entries = (self.read)(&self.pool, r.after_sequence, limit)
            .await
            .map_err(|e| crate::error::internal(&e))?;
        Ok(Response::new(pb::ListJournalResponse { entries }))
    }
}
