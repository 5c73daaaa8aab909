//! The national volunteer-service records: confirmed attendance with its
//! activity, and where each record stands with the national system.

use super::*;
use crate::domain::record::RecordStatus;

/// A confirmed service as the record is made from (names are looked up after).
#[derive(Debug, Clone)]
pub struct RecordRow {
    pub attendance_id: String,
    pub member_id: String,
    pub minutes: i64,
    pub served_on: String,
    pub content: String,
    pub title: String,
    pub place: String,
    pub start_at: i64,
    pub end_at: i64,
    pub organiser: String,
    pub status: RecordStatus,
    pub error: String,
}

/// A page of `community_id`'s confirmed services served in `[first, last]`
/// (days), by attendance id after `after`; those marked sent only when `include_sent`.
pub async fn record_rows(
    conn: &mut AnyConnection,
    community_id: &str,
    (first, last): (&str, &str),
    include_sent: bool,
    after: &str,
    limit: i64,
) -> Result<Vec<RecordRow>> {
    let rows = sqlx::query(
        "SELECT a.id, a.member_id, a.minutes, a.served_on, a.content, act.title, act.place, act.start_at, \
         act.end_at, act.organiser, COALESCE(v.status, 'new') AS record_status, COALESCE(v.error, '') AS record_error \
         FROM attendance a JOIN activities act ON act.id = a.activity_id \
         LEFT JOIN volunteer_records v ON v.attendance_id = a.id \
         WHERE a.community_id = $1 AND a.status = 'confirmed' AND a.id > $2 \
         AND a.served_on >= $3 AND a.served_on <= $4 AND ($5 = 1 OR COALESCE(v.status, 'new') <> 'sent') \
         ORDER BY a.id LIMIT $6",
    )
    .bind(community_id)
    .bind(after)
    .bind(first)
    .bind(last)
    .bind(flag(include_sent))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RecordRow {
                attendance_id: r.try_get("id")?,
                member_id: r.try_get("member_id")?,
                minutes: r.try_get::<i64, _>("minutes")?,
                served_on: r.try_get("served_on")?,
                content: r.try_get("content")?,
                title: r.try_get("title")?,
                place: r.try_get("place")?,
                start_at: r.try_get::<i64, _>("start_at")?,
                end_at: r.try_get::<i64, _>("end_at")?,
                organiser: r.try_get("organiser")?,
                status: parsed(r, "record_status", RecordStatus::parse)?,
                error: r.try_get("record_error")?,
            })
        })
        .collect()
}

/// Marks the records of `attendance_ids` that are `community_id`'s confirmed
/// services; how many it marked (an id of another community or not confirmed is passed over).
pub async fn mark_records(
    conn: &mut AnyConnection,
    community_id: &str,
    attendance_ids: &[String],
    status: RecordStatus,
    error: &str,
    now: i64,
) -> Result<u64> {
    if attendance_ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "INSERT INTO volunteer_records (attendance_id, community_id, status, error, updated_at) \
         SELECT a.id, a.community_id, $2, $3, $4 FROM attendance a \
         WHERE a.community_id = $1 AND a.status = 'confirmed' AND a.id IN ({}) \
         ON CONFLICT (attendance_id) DO UPDATE SET status = excluded.status, error = excluded.error, \
         updated_at = excluded.updated_at",
        marks(5, attendance_ids.len())
    );
    let mut query = sqlx::query(&sql)
        .bind(community_id)
        .bind(status.as_str())
        .bind(error)
        .bind(now);
    for id in attendance_ids {
        query = query.bind(id);
    }
    Ok(query.execute(conn).await?.rows_affected())
}
