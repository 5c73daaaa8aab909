//! The city's tables, behind plain async functions on a connection (one SQL
//! text for both backends through `sqlx::Any`; only the DDL in
//! `migrations/{sqlite,postgres}` differs).
//!
//! Ingest is exactly-once by construction: the facts of one read and the
//! cursor that passes them commit in one transaction, the cursor moves only
//! from the value the batch was read after ([`advance`]), and every fact is
//! unique on `(district, source, source_sequence)`, so a replayed fact is a
//! no-op and a replica that lost its lease cannot move the cursor back.

use dualreport_platform::journal::lock_appends;
use dualreport_platform::rows::{int32, list, list_text, parsed};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use crate::domain::{
    BoardLine, CityRelocation, Cursor, Event, MunicipalOrg, OrgDetails, Period, PublishedSettlement, RelocationStatus,
    Result, SubjectKind,
};

const CURSOR_COLUMNS: &str =
    "district, journal, after_sequence, newest_occur_ms, read_at_ms, caught_up_at_ms, up, error";

fn cursor_from_row(r: &AnyRow) -> Result<Cursor> {
    Ok(Cursor {
        district: r.try_get("district")?,
        journal: r.try_get("journal")?,
        after_sequence: r.try_get("after_sequence")?,
        newest_occur_ms: r.try_get("newest_occur_ms")?,
        read_at_ms: r.try_get("read_at_ms")?,
        caught_up_at_ms: r.try_get("caught_up_at_ms")?,
        up: r.try_get::<i64, _>("up")? != 0,
        error: r.try_get("error")?,
    })
}

/// Every stored cursor, by district and journal.
pub async fn cursors(pool: &AnyPool) -> Result<Vec<Cursor>> {
    let rows = sqlx::query(&format!(
        "SELECT {CURSOR_COLUMNS} FROM cursors ORDER BY district, journal"
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(cursor_from_row).collect()
}

/// The stored state of one (district, journal), if it was ever read.
pub async fn cursor_state(pool: &AnyPool, district: &str, journal: &str) -> Result<Option<Cursor>> {
    let row = sqlx::query(&format!(
        "SELECT {CURSOR_COLUMNS} FROM cursors WHERE district = $1 AND journal = $2"
    ))
    .bind(district)
    .bind(journal)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(cursor_from_row).transpose()
}

/// The last sequence applied from (district, journal); 0 before the first.
pub async fn cursor(conn: &mut AnyConnection, district: &str, journal: &str) -> Result<i64> {
    let row = sqlx::query("SELECT after_sequence FROM cursors WHERE district = $1 AND journal = $2")
        .bind(district)
        .bind(journal)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.try_get("after_sequence")).transpose()?.unwrap_or(0))
}

/// What one read of a journal found.
#[derive(Debug, Clone, Copy)]
pub struct Read {
    /// The cursor the batch was read after, and the one it moves to.
    pub from: i64,
    pub to: i64,
    /// When the newest fact of the batch happened (0: no fact).
    pub newest_occur_ms: i64,
    pub now: i64,
    /// The read reached the journal's end.
    pub caught_up: bool,
}

/// Moves the cursor of (district, journal) from `read.from` to `read.to`
/// and marks the district up, in the caller's transaction; false when the
/// cursor is no longer at `read.from` (another replica applied the batch).
pub async fn advance(conn: &mut AnyConnection, district: &str, journal: &str, read: Read) -> Result<bool> {
    sqlx::query("INSERT INTO cursors (district, journal) VALUES ($1, $2) ON CONFLICT (district, journal) DO NOTHING")
        .bind(district)
        .bind(journal)
        .execute(&mut *conn)
        .await?;
    let moved = sqlx::query(
        "UPDATE cursors SET after_sequence = $4, \
         newest_occur_ms = CASE WHEN $5 > newest_occur_ms THEN $5 ELSE newest_occur_ms END, \
         read_at_ms = $6, caught_up_at_ms = CASE WHEN $7 = 1 THEN $6 ELSE caught_up_at_ms END, up = 1, error = '' \
         WHERE district = $1 AND journal = $2 AND after_sequence = $3",
    )
    .bind(district)
    .bind(journal)
    .bind(read.from)
    .bind(read.to)
    .bind(read.newest_occur_ms)
    .bind(read.now)
    .bind(i64::from(read.caught_up))
    .execute(conn)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// Marks (district, journal) down after a failed read, with why.
pub async fn mark_down(pool: &AnyPool, district: &str, journal: &str, error: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO cursors (district, journal, up, error) VALUES ($1, $2, 0, $3) \
         ON CONFLICT (district, journal) DO UPDATE SET up = 0, error = excluded.error",
    )
    .bind(district)
    .bind(journal)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

const EVENT_COLUMNS: &str = "sequence, district, source, source_sequence, kind, occur_time, subject_id, district_id, \
     community_id, unit_org_id, member_id, text, evidence_ids";

fn event_from_row(r: &AnyRow) -> Result<Event> {
    Ok(Event {
        sequence: r.try_get("sequence")?,
        district: r.try_get("district")?,
        source: r.try_get("source")?,
        source_sequence: r.try_get("source_sequence")?,
        kind: r.try_get("kind")?,
        occur_time: r.try_get("occur_time")?,
        subject_id: r.try_get("subject_id")?,
        district_id: r.try_get("district_id")?,
        community_id: r.try_get("community_id")?,
        unit_org_id: r.try_get("unit_org_id")?,
        member_id: r.try_get("member_id")?,
        text: r.try_get("text")?,
        evidence_ids: list(r, "evidence_ids")?,
        year: 0,
    })
}

/// Appends an ingested fact to the merged feed in the caller's transaction;
/// false when it is there already. Appends are serialised (PostgreSQL), so
/// the feed's sequences commit in order and a reader never skips one.
pub async fn append_event(conn: &mut AnyConnection, e: &Event) -> Result<bool> {
    lock_appends(conn).await?;
    let done = sqlx::query(
        "INSERT INTO events (district, source, source_sequence, kind, occur_time, subject_id, district_id, \
         community_id, unit_org_id, member_id, text, evidence_ids) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (district, source, source_sequence) DO NOTHING",
    )
    .bind(&e.district)
    .bind(&e.source)
    .bind(e.source_sequence)
    .bind(&e.kind)
    .bind(e.occur_time)
    .bind(&e.subject_id)
    .bind(&e.district_id)
    .bind(&e.community_id)
    .bind(&e.unit_org_id)
    .bind(&e.member_id)
    .bind(&e.text)
    .bind(list_text(&e.evidence_ids))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Feed events after `after`, oldest first.
pub async fn events_after(pool: &AnyPool, after: i64, limit: i64) -> Result<Vec<Event>> {
    let rows = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE sequence > $1 ORDER BY sequence LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(event_from_row).collect()
}

pub async fn last_sequence(pool: &AnyPool) -> Result<i64> {
    let row = sqlx::query("SELECT CAST(COALESCE(MAX(sequence), 0) AS BIGINT) AS last FROM events")
        .fetch_one(pool)
        .await?;
    Ok(row.try_get("last")?)
}

/// Lines inserted per statement (13 parameters each, well under SQLite's limit).
const LINES_PER_INSERT: usize = 50;

/// Makes `s` the board's settlement of its community and half-year, with
/// its lines, unless the board holds that version or a later one already
/// (a replayed or out-of-order fact); true when the board changed.
pub async fn replace_board(conn: &mut AnyConnection, s: &PublishedSettlement) -> Result<bool> {
    let taken = sqlx::query(
        "INSERT INTO board_settlements (district, community_id, year, half, settlement_id, version) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (district, community_id, year, half) DO UPDATE \
         SET settlement_id = excluded.settlement_id, version = excluded.version \
         WHERE board_settlements.version < excluded.version",
    )
    .bind(&s.district)
    .bind(&s.community_id)
    .bind(i64::from(s.period.year))
    .bind(i64::from(s.period.half))
    .bind(&s.settlement_id)
    .bind(i64::from(s.version))
    .execute(&mut *conn)
    .await?;
    if taken.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM board_lines WHERE district = $1 AND community_id = $2 AND year = $3 AND half = $4")
        .bind(&s.district)
        .bind(&s.community_id)
        .bind(i64::from(s.period.year))
        .bind(i64::from(s.period.half))
        .execute(&mut *conn)
        .await?;
    for chunk in s.lines.chunks(LINES_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let marks: Vec<String> = (1..=13).map(|c| format!("${}", i * 13 + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO board_lines (district, community_id, year, half, settlement_id, version, subject_kind, \
             subject_id, subject_name, points, stars, rank_stars, rank_points) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for line in chunk {
            query = query
                .bind(&s.district)
                .bind(&s.community_id)
                .bind(i64::from(s.period.year))
                .bind(i64::from(s.period.half))
                .bind(&s.settlement_id)
                .bind(i64::from(s.version))
                .bind(line.subject_kind.as_str())
                .bind(&line.subject_id)
                .bind(&line.subject_name)
                .bind(i64::from(line.points))
                .bind(i64::from(line.stars))
                .bind(-i64::from(line.stars))
                .bind(-i64::from(line.points));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(true)
}

/// Where a board page starts: the previous page's last line's key fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardAfter {
    pub rank_stars: i64,
    pub rank_points: i64,
    pub district: String,
    pub community_id: String,
    pub subject_kind: String,
    pub subject_id: String,
}

/// One page of the city board for `period` (one district's when given), in
/// rank order, after `after`.
pub async fn board_page(
    pool: &AnyPool,
    period: Period,
    district: Option<&str>,
    after: Option<&BoardAfter>,
    limit: i64,
) -> Result<Vec<BoardLine>> {
    // The district, when given, is its own clause (an index prefix), never `($n = '' OR …)`.
    let (subject, first) = match district {
        Some(_) => ("district = $1 AND year = $2 AND half = $3", 4),
        None => ("year = $1 AND half = $2", 3),
    };
    let keyset = if after.is_some() {
        let m: Vec<String> = (first + 1..first + 7).map(|i| format!("${i}")).collect();
        format!(
            " AND (rank_stars, rank_points, district, community_id, subject_kind, subject_id) > ({})",
            m.join(", ")
        )
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT district, community_id, settlement_id, version, subject_kind, subject_id, subject_name, points, stars \
         FROM board_lines WHERE {subject}{keyset} \
         ORDER BY rank_stars, rank_points, district, community_id, subject_kind, subject_id LIMIT ${first}"
    );
    let mut query = sqlx::query(&sql);
    if let Some(d) = district {
        query = query.bind(d);
    }
    query = query
        .bind(i64::from(period.year))
        .bind(i64::from(period.half))
        .bind(limit);
    if let Some(a) = after {
        query = query
            .bind(a.rank_stars)
            .bind(a.rank_points)
            .bind(&a.district)
            .bind(&a.community_id)
            .bind(&a.subject_kind)
            .bind(&a.subject_id);
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            Ok(BoardLine {
                district: r.try_get("district")?,
                community_id: r.try_get("community_id")?,
                settlement_id: r.try_get("settlement_id")?,
                version: int32(r, "version")?,
                subject_kind: parsed(r, "subject_kind", SubjectKind::parse)?,
                subject_id: r.try_get("subject_id")?,
                subject_name: r.try_get("subject_name")?,
                points: int32(r, "points")?,
                stars: int32(r, "stars")?,
            })
        })
        .collect()
}

const ORG_COLUMNS: &str = "id, sequence, name, org_type, parent_id, path, address, postcode, leader, contact_person, \
     contact_phone, in_service_member_count, created_at, updated_at";

fn municipal_org_from_row(r: &AnyRow) -> Result<MunicipalOrg> {
    Ok(MunicipalOrg {
        id: r.try_get("id")?,
        sequence: r.try_get("sequence")?,
        name: r.try_get("name")?,
        org_type: r.try_get("org_type")?,
        parent_id: r.try_get("parent_id")?,
        path: r.try_get("path")?,
        details: OrgDetails {
            address: r.try_get("address")?,
            postcode: r.try_get("postcode")?,
            leader: r.try_get("leader")?,
            contact_person: r.try_get("contact_person")?,
            contact_phone: r.try_get("contact_phone")?,
            in_service_member_count: r.try_get("in_service_member_count")?,
        },
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The next reference-journal sequence, in the caller's transaction. Writers
/// are serialised (PostgreSQL: an advisory lock to the end of the
/// transaction; SQLite has one writer), so sequences commit in order and a
/// district that has read up to *n* never later finds a change below *n*.
pub async fn next_reference_sequence(conn: &mut AnyConnection) -> Result<i64> {
    lock_appends(conn).await?;
    let row = sqlx::query("SELECT CAST(COALESCE(MAX(sequence), 0) + 1 AS BIGINT) AS next FROM municipal_orgs")
        .fetch_one(conn)
        .await?;
    Ok(row.try_get("next")?)
}

pub async fn insert_municipal_org(conn: &mut AnyConnection, o: &MunicipalOrg) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO municipal_orgs ({ORG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(&o.id)
    .bind(o.sequence)
    .bind(&o.name)
    .bind(&o.org_type)
    .bind(&o.parent_id)
    .bind(&o.path)
    .bind(&o.details.address)
    .bind(&o.details.postcode)
    .bind(&o.details.leader)
    .bind(&o.details.contact_person)
    .bind(&o.details.contact_phone)
    .bind(o.details.in_service_member_count)
    .bind(o.created_at)
    .bind(o.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn municipal_org(conn: &mut AnyConnection, id: &str) -> Result<Option<MunicipalOrg>> {
    let row = sqlx::query(&format!("SELECT {ORG_COLUMNS} FROM municipal_orgs WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(municipal_org_from_row).transpose()
}

/// Municipal orgs by id after `after`.
pub async fn municipal_orgs(pool: &AnyPool, after: &str, limit: i64) -> Result<Vec<MunicipalOrg>> {
    let rows = sqlx::query(&format!(
        "SELECT {ORG_COLUMNS} FROM municipal_orgs WHERE id > $1 ORDER BY id LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(municipal_org_from_row).collect()
}

/// Municipal orgs changed after sequence `after`, in change order.
pub async fn reference_changes(pool: &AnyPool, after: i64, limit: i64) -> Result<Vec<MunicipalOrg>> {
    let rows = sqlx::query(&format!(
        "SELECT {ORG_COLUMNS} FROM municipal_orgs WHERE sequence > $1 ORDER BY sequence LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(municipal_org_from_row).collect()
}

const RELOCATION_COLUMNS: &str = "from_district, relocation_id, member_id, to_district, to_community_id, declared_at, \
     due_on, status, attempts, next_attempt_at, last_error, updated_at";

fn relocation_from_row(r: &AnyRow) -> Result<CityRelocation> {
    Ok(CityRelocation {
        from_district: r.try_get("from_district")?,
        relocation_id: r.try_get("relocation_id")?,
        member_id: r.try_get("member_id")?,
        to_district: r.try_get("to_district")?,
        to_community_id: r.try_get("to_community_id")?,
        declared_at: r.try_get("declared_at")?,
        due_on: r.try_get("due_on")?,
        status: parsed(r, "status", RelocationStatus::parse)?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// A relocation a district journalled, once (a replayed fact is a no-op).
pub async fn insert_relocation(conn: &mut AnyConnection, r: &CityRelocation) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO relocations ({RELOCATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (from_district, relocation_id) DO NOTHING"
    ))
    .bind(&r.from_district)
    .bind(&r.relocation_id)
    .bind(&r.member_id)
    .bind(&r.to_district)
    .bind(&r.to_community_id)
    .bind(r.declared_at)
    .bind(&r.due_on)
    .bind(r.status.as_str())
    .bind(r.attempts)
    .bind(r.next_attempt_at)
    .bind(&r.last_error)
    .bind(r.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The member's report in `district` was confirmed: a relocation of theirs
/// to that district (read, or admitted) is now reported.
pub async fn mark_reported(conn: &mut AnyConnection, member_id: &str, district: &str, now: i64) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE relocations SET status = 'reported', attempts = 0, next_attempt_at = 0, last_error = '', updated_at = $3 \
         WHERE member_id = $1 AND to_district = $2 AND status IN ('declared', 'admitted')",
    )
    .bind(member_id)
    .bind(district)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Relocations whose next step is due: `declared` or `reported`, attempt time passed.
pub async fn due_relocations(pool: &AnyPool, now: i64, limit: i64) -> Result<Vec<CityRelocation>> {
    let rows = sqlx::query(&format!(
        "SELECT {RELOCATION_COLUMNS} FROM relocations WHERE status IN ('declared', 'reported') AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at, declared_at LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(relocation_from_row).collect()
}

/// Records what the transfer said (where to, by when), still `declared`.
pub async fn set_destination(pool: &AnyPool, r: &CityRelocation, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE relocations SET to_district = $3, to_community_id = $4, due_on = $5, updated_at = $6 \
         WHERE from_district = $1 AND relocation_id = $2",
    )
    .bind(&r.from_district)
    .bind(&r.relocation_id)
    .bind(&r.to_district)
    .bind(&r.to_community_id)
    .bind(&r.due_on)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Moves a relocation from `from` to `to` (false: it moved meanwhile, e.g.
/// the member's report arrived first).
pub async fn advance_relocation(
    pool: &AnyPool,
    r: &CityRelocation,
    from: RelocationStatus,
    to: RelocationStatus,
    error: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE relocations SET status = $4, attempts = 0, next_attempt_at = 0, last_error = $5, updated_at = $6 \
         WHERE from_district = $1 AND relocation_id = $2 AND status = $3",
    )
    .bind(&r.from_district)
    .bind(&r.relocation_id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(error)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A failed attempt: the step is retried at `next_attempt_at`.
pub async fn retry_relocation_later(
    pool: &AnyPool,
    r: &CityRelocation,
    error: &str,
    next_attempt_at: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE relocations SET attempts = attempts + 1, next_attempt_at = $4, last_error = $5, updated_at = $6 \
         WHERE from_district = $1 AND relocation_id = $2 AND status = $3",
    )
    .bind(&r.from_district)
    .bind(&r.relocation_id)
    .bind(r.status.as_str())
    .bind(next_attempt_at)
    .bind(error)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Where a relocations page starts: the previous page's last (declared_at, district, id).
pub struct RelocationsAfter {
    pub declared_at: i64,
    pub from_district: String,
    pub relocation_id: String,
}

/// Relocations newest first, in `status` (any when `None`); `overdue_on`
/// keeps those still waiting for the report whose due day is before it.
pub async fn list_relocations(
    pool: &AnyPool,
    status: Option<RelocationStatus>,
    overdue_on: Option<&str>,
    after: Option<&RelocationsAfter>,
    limit: i64,
) -> Result<Vec<CityRelocation>> {
    let mut clauses = Vec::new();
    let mut n = 1;
    if status.is_some() {
        clauses.push(format!("status = ${n}"));
        n += 1;
    }
    if overdue_on.is_some() {
        clauses.push(format!(
            "status IN ('declared', 'admitted') AND due_on <> '' AND due_on < ${n}"
        ));
        n += 1;
    }
    if after.is_some() {
        clauses.push(format!(
            "(declared_at < ${a} OR (declared_at = ${a} AND (from_district, relocation_id) < (${b}, ${c})))",
            a = n,
            b = n + 1,
            c = n + 2
        ));
        n += 3;
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT {RELOCATION_COLUMNS} FROM relocations {filter} \
         ORDER BY declared_at DESC, from_district DESC, relocation_id DESC LIMIT ${n}"
    );
    let mut query = sqlx::query(&sql);
    if let Some(s) = status {
        query = query.bind(s.as_str());
    }
    if let Some(day) = overdue_on {
        query = query.bind(day);
    }
    if let Some(a) = after {
        query = query.bind(a.declared_at).bind(&a.from_district).bind(&a.relocation_id);
    }
    let rows = query.bind(limit).fetch_all(pool).await?;
    rows.iter().map(relocation_from_row).collect()
}

/// A member on a district's roster (created, or moved to another unit or community).
pub async fn upsert_member(conn: &mut AnyConnection, district: &str, e: &Event) -> Result<()> {
    sqlx::query(
        "INSERT INTO members (district, member_id, unit_org_id, community_id, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (district, member_id) DO UPDATE SET unit_org_id = excluded.unit_org_id, \
         community_id = excluded.community_id, updated_at = excluded.updated_at \
         WHERE members.updated_at <= excluded.updated_at",
    )
    .bind(district)
    .bind(&e.member_id)
    .bind(&e.unit_org_id)
    .bind(&e.community_id)
    .bind(e.occur_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// The member left the district (moved to another one): off its roster.
pub async fn remove_member(conn: &mut AnyConnection, district: &str, member_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM members WHERE district = $1 AND member_id = $2")
        .bind(district)
        .bind(member_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A member's report for `year` confirmed in `district` (once).
pub async fn insert_report(conn: &mut AnyConnection, district: &str, member_id: &str, year: i32) -> Result<()> {
    sqlx::query(
        "INSERT INTO reports (district, member_id, year) VALUES ($1, $2, $3) \
         ON CONFLICT (district, year, member_id) DO NOTHING",
    )
    .bind(district)
    .bind(member_id)
    .bind(i64::from(year))
    .execute(conn)
    .await?;
    Ok(())
}

/// Per district: members on the roster, and those reported for `year`.
pub async fn report_counts(pool: &AnyPool, year: i32) -> Result<Vec<(String, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT m.district, COUNT(*) AS members, COUNT(r.member_id) AS reported FROM members m \
         LEFT JOIN reports r ON r.district = m.district AND r.year = $1 AND r.member_id = m.member_id \
         GROUP BY m.district ORDER BY m.district",
    )
    .bind(i64::from(year))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("district")?, r.try_get("members")?, r.try_get("reported")?)))
        .collect()
}

/// Per district and star count: the board lines of `period`, and their points.
pub async fn star_counts(pool: &AnyPool, period: Period) -> Result<Vec<(String, i32, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT district, stars, COUNT(*) AS lines, CAST(SUM(points) AS BIGINT) AS points FROM board_lines \
         WHERE year = $1 AND half = $2 GROUP BY district, stars ORDER BY district, stars",
    )
    .bind(i64::from(period.year))
    .bind(i64::from(period.half))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("district")?,
                int32(r, "stars")?,
                r.try_get("lines")?,
                r.try_get::<Option<i64>, _>("points")?.unwrap_or(0),
            ))
        })
        .collect()
}

/// Per municipal org of `units` and district: its own members, and those reported for `year`.
pub async fn unit_report_counts(
    pool: &AnyPool,
    units: &[String],
    year: i32,
) -> Result<Vec<(String, String, i64, i64)>> {
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (2..units.len() + 2).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT m.unit_org_id, m.district, COUNT(*) AS members, COUNT(r.member_id) AS reported FROM members m \
         LEFT JOIN reports r ON r.district = m.district AND r.year = $1 AND r.member_id = m.member_id \
         WHERE m.unit_org_id IN ({}) GROUP BY m.unit_org_id, m.district ORDER BY m.unit_org_id, m.district",
        marks.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(i64::from(year));
    for unit in units {
        query = query.bind(unit);
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("unit_org_id")?,
                r.try_get("district")?,
                r.try_get("members")?,
                r.try_get("reported")?,
            ))
        })
        .collect()
}
