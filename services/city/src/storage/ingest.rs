//! Ingest: the cursor of each (district, journal) and the merged feed.

use super::*;

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

/// Feed events after `after`, oldest first; only `district`'s when given.
pub async fn events_after(pool: &AnyPool, after: i64, limit: i64, district: Option<&str>) -> Result<Vec<Event>> {
    let rows = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE sequence > $1 AND ($3 = '' OR district = $3) \
         ORDER BY sequence LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .bind(district.unwrap_or_default())
    .fetch_all(pool)
    .await?;
    rows.iter().map(event_from_row).collect()
}

/// Remembers that `district` journals facts of district org `org_id` (the
/// first district to name an org keeps it).
pub async fn remember_district_org(conn: &mut AnyConnection, org_id: &str, district: &str) -> Result<()> {
    sqlx::query("INSERT INTO district_orgs (org_id, district) VALUES ($1, $2) ON CONFLICT (org_id) DO NOTHING")
        .bind(org_id)
        .bind(district)
        .execute(conn)
        .await?;
    Ok(())
}

/// The district whose facts name district org `org_id`, if any has yet.
pub async fn district_of_org(pool: &AnyPool, org_id: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT district FROM district_orgs WHERE org_id = $1")
        .bind(org_id)
        .fetch_optional(pool)
        .await?;
    row.map(|r| Ok(r.try_get("district")?)).transpose()
}

/// The feed event at `sequence`, if any.
pub async fn event(conn: &mut AnyConnection, sequence: i64) -> Result<Option<Event>> {
    let row = sqlx::query(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE sequence = $1"))
        .bind(sequence)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(event_from_row).transpose()
}

/// Feed events after `after` (the webhook's backlog; sequences may have gaps).
pub async fn count_events_after(pool: &AnyPool, after: i64) -> Result<i64> {
    let row = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM events WHERE sequence > $1")
        .bind(after)
        .fetch_one(pool)
        .await?;
    Ok(row.try_get("n")?)
}

pub async fn last_sequence(pool: &AnyPool) -> Result<i64> {
    let row = sqlx::query("SELECT CAST(COALESCE(MAX(sequence), 0) AS BIGINT) AS last FROM events")
        .fetch_one(pool)
        .await?;
    Ok(row.try_get("last")?)
}
