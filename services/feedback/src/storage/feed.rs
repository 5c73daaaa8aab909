//! The feed for the party-building cloud (党建云): feedback's own journal.

use super::*;
use dualreport_proto::common::v1::JournalEntry;

pub(super) const EVENT_COLUMNS: &str = "sequence, source, kind, occur_time, subject_id, district_id, community_id, unit_org_id, \
     member_id, text, evidence_ids, year";

pub(super) fn event_from_row(r: &AnyRow) -> Result<Event> {
    Ok(Event {
        sequence: int(r, "sequence")?,
        source: r.try_get("source")?,
        kind: r.try_get("kind")?,
        occur_time: int(r, "occur_time")?,
        subject_id: r.try_get("subject_id")?,
        district_id: r.try_get("district_id")?,
        community_id: r.try_get("community_id")?,
        unit_org_id: r.try_get("unit_org_id")?,
        member_id: r.try_get("member_id")?,
        text: r.try_get("text")?,
        evidence_ids: list(r, "evidence_ids")?,
        year: i32::try_from(int(r, "year")?).unwrap_or(0),
    })
}

/// Appends an event in the caller's transaction; `source_sequence` dedupes
/// entries read from a journal (false: already in the feed).
pub async fn append_event(conn: &mut AnyConnection, e: &Event, source_sequence: Option<i64>) -> Result<bool> {
    lock_appends(conn).await?;
    let done = sqlx::query(
        "INSERT INTO events (source, source_sequence, kind, occur_time, subject_id, district_id, community_id, \
         unit_org_id, member_id, text, evidence_ids, year) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (source, source_sequence) DO NOTHING",
    )
    .bind(&e.source)
    .bind(source_sequence)
    .bind(&e.kind)
    .bind(e.occur_time)
    .bind(&e.subject_id)
    .bind(&e.district_id)
    .bind(&e.community_id)
    .bind(&e.unit_org_id)
    .bind(&e.member_id)
    .bind(&e.text)
    .bind(list_text(&e.evidence_ids))
    .bind(i64::from(e.year))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Events after `after`, oldest first; only `district`'s unless it is empty.
pub async fn events_after(pool: &AnyPool, after: i64, limit: i64, district: &str) -> Result<Vec<Event>> {
    let rows = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE sequence > $1 AND ($3 = '' OR district_id = $3) \
         ORDER BY sequence LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .bind(district)
    .fetch_all(pool)
    .await?;
    rows.iter().map(event_from_row).collect()
}

/// Feedback's own journal (`EventJournalService/ListJournal`): its own
/// events (warnings, notices, objections decided) after `after`, oldest
/// first. Appends are serialised ([`append_event`]), so sequences commit in
/// order and a reader never finds one behind a sequence it has seen.
pub fn own_journal(
    pool: &AnyPool,
    after: i64,
    limit: i64,
) -> futures::future::BoxFuture<'_, std::result::Result<Vec<JournalEntry>, sqlx::Error>> {
    Box::pin(async move {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE source = 'feedback' AND sequence > $1 ORDER BY sequence LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?;
        rows.iter()
            .map(|r| {
                let e = event_from_row(r).map_err(|e| sqlx::Error::Decode(e.to_string().into()))?;
                Ok(JournalEntry {
                    sequence: e.sequence,
                    kind: e.kind,
                    occur_time: Some(dualreport_platform::wire::timestamp(e.occur_time)),
                    subject_id: e.subject_id,
                    district_id: e.district_id,
                    community_id: e.community_id,
                    unit_org_id: e.unit_org_id,
                    member_id: e.member_id,
                    text: e.text,
                    evidence_ids: e.evidence_ids,
                    year: e.year,
                })
            })
            .collect()
    })
}

pub async fn event(conn: &mut AnyConnection, sequence: i64) -> Result<Option<Event>> {
    let row = sqlx::query(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE sequence = $1"))
        .bind(sequence)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(event_from_row).transpose()
}

pub async fn last_sequence(pool: &AnyPool) -> Result<i64> {
    let row = sqlx::query("SELECT CAST(COALESCE(MAX(sequence), 0) AS BIGINT) AS last FROM events")
        .fetch_one(pool)
        .await?;
    int(&row, "last")
}

pub async fn journal_cursor(conn: &mut AnyConnection, source: &str) -> Result<i64> {
    let row = sqlx::query("SELECT after_sequence FROM journal_cursors WHERE source = $1")
        .bind(source)
        .fetch_optional(conn)
        .await?;
    row.map(|r| int(&r, "after_sequence"))
        .transpose()
        .map(Option::unwrap_or_default)
}

pub async fn set_journal_cursor(conn: &mut AnyConnection, source: &str, after: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO journal_cursors (source, after_sequence) VALUES ($1, $2) ON CONFLICT (source) \
         DO UPDATE SET after_sequence = excluded.after_sequence WHERE journal_cursors.after_sequence < excluded.after_sequence",
    )
    .bind(source)
    .bind(after)
    .execute(conn)
    .await?;
    Ok(())
}
