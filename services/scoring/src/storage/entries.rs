//! Ledger entries (积分台账): append-only, idempotent on their source, with keyset listings.

use super::*;

pub(super) const ENTRY_COLUMNS: &str = "id, subject_kind, subject_id, community_id, kind, points, occurred_on, period, content, \
    source_key, recorded_by, recorded_at, base_points, adjustment, special_category, project_id, project_scorer, \
    corrects_entry_id, redemption_id";

pub(super) fn entry_from_row(row: &AnyRow) -> Result<Entry> {
    let kind: String = row.try_get("kind")?;
    let special: String = row.try_get("special_category")?;
    let scorer: String = row.try_get("project_scorer")?;
    Ok(Entry {
        id: row.try_get("id")?,
        subject: subject(row)?,
        community_id: row.try_get("community_id")?,
        kind: EntryKind::parse(&kind).ok_or_else(|| ScoringError::corrupt("kind", &kind))?,
        points: row.try_get("points")?,
        occurred_on: date(row, "occurred_on")?,
        period: period(row, "period")?,
        content: row.try_get("content")?,
        source_key: row.try_get("source_key")?,
        recorded_by: row.try_get("recorded_by")?,
        recorded_at: row.try_get("recorded_at")?,
        base_points: row.try_get("base_points")?,
        adjustment: row.try_get("adjustment")?,
        special_category: match special.as_str() {
            "" => None,
            s => Some(SpecialCategory::parse(s).ok_or_else(|| ScoringError::corrupt("special_category", s))?),
        },
        project_id: row.try_get("project_id")?,
        project_scorer: match scorer.as_str() {
            "" => None,
            s => Some(ProjectScorer::parse(s).ok_or_else(|| ScoringError::corrupt("project_scorer", s))?),
        },
        corrects_entry_id: row.try_get("corrects_entry_id")?,
        redemption_id: row.try_get("redemption_id")?,
    })
}

pub async fn insert_entry(conn: &mut AnyConnection, e: &Entry) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO entries ({ENTRY_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    ))
    .bind(&e.id)
    .bind(e.subject.kind.as_str())
    .bind(&e.subject.id)
    .bind(&e.community_id)
    .bind(e.kind.as_str())
    .bind(e.points)
    .bind(e.occurred_on.to_string())
    .bind(e.period.key())
    .bind(&e.content)
    .bind(&e.source_key)
    .bind(&e.recorded_by)
    .bind(e.recorded_at)
    .bind(e.base_points)
    .bind(e.adjustment)
    .bind(e.special_category.map(SpecialCategory::as_str).unwrap_or_default())
    .bind(&e.project_id)
    .bind(e.project_scorer.map(ProjectScorer::as_str).unwrap_or_default())
    .bind(e.corrects_entry_id.as_deref())
    .bind(&e.redemption_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn entry(conn: &mut AnyConnection, id: &str) -> Result<Option<Entry>> {
    let row = sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(entry_from_row).transpose()
}

pub async fn entry_by_source(conn: &mut AnyConnection, source_key: &str) -> Result<Option<Entry>> {
    let row = sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE source_key = $1"))
        .bind(source_key)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(entry_from_row).transpose()
}

/// Entries on a subject's card, oldest first, optionally at one community or in one period.
pub async fn list_entries(
    conn: &mut AnyConnection,
    subject: &Subject,
    community_id: Option<&str>,
    period: Option<Period>,
    page: &PageRequest,
) -> Result<Vec<Entry>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM entries \
         WHERE subject_kind = $1 AND subject_id = $2 AND ($3 = '' OR community_id = $3) \
           AND ($4 = '' OR period = $4) AND id > $5 \
         ORDER BY id LIMIT $6"
    ))
    .bind(subject.kind.as_str())
    .bind(&subject.id)
    .bind(community_id.unwrap_or_default())
    .bind(period.map(Period::key).unwrap_or_default())
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter().map(entry_from_row).collect()
}

/// A member's earning entries at a community in a period, in service order
/// (the rows of the registration table).
pub async fn period_entries(
    conn: &mut AnyConnection,
    subject: &Subject,
    community_id: &str,
    period: Period,
) -> Result<Vec<Entry>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM entries \
         WHERE subject_kind = $1 AND subject_id = $2 AND community_id = $3 AND period = $4 \
           AND kind IN ({}) \
         ORDER BY occurred_on, id",
        earning_kinds()
    ))
    .bind(subject.kind.as_str())
    .bind(&subject.id)
    .bind(community_id)
    .bind(period.key())
    .fetch_all(conn)
    .await?;
    rows.iter().map(entry_from_row).collect()
}
