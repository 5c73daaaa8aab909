//! Unit service records (单位服务记录) a unit back-fills.

use super::*;

pub(super) fn unit_record(row: &AnyRow) -> Result<UnitRecord> {
    let kind: String = row.try_get("kind")?;
    Ok(UnitRecord {
        id: row.try_get("id")?,
        kind: UnitServiceKind::parse(&kind).ok_or_else(|| VolunteeringError::corrupt("unit record kind", &kind))?,
        unit_org_id: row.try_get("unit_org_id")?,
        community_id: row.try_get("community_id")?,
        served_on: date(row, "served_on")?,
        content: row.try_get("content")?,
        minutes: row.try_get("minutes")?,
        agreement_id: row.try_get("agreement_id")?,
        evidence_ids: list(row, "evidence_ids")?,
        recorded_by: row.try_get("recorded_by")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert_unit_record(conn: &mut AnyConnection, r: &UnitRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO unit_records (id, unit_org_id, community_id, served_on, year, content, minutes, agreement_id, \
         evidence_ids, recorded_by, created_at, kind) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&r.id)
    .bind(&r.unit_org_id)
    .bind(&r.community_id)
    .bind(r.served_on.to_string())
    .bind(i64::from(chrono::Datelike::year(&r.served_on)))
    .bind(&r.content)
    .bind(r.minutes)
    .bind(&r.agreement_id)
    .bind(list_text(&r.evidence_ids))
    .bind(&r.recorded_by)
    .bind(r.created_at)
    .bind(r.kind.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_unit_record(conn: &mut AnyConnection, id: &str) -> Result<Option<UnitRecord>> {
    sqlx::query("SELECT * FROM unit_records WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(unit_record)
        .transpose()
}

pub async fn list_unit_records(
    conn: &mut AnyConnection,
    unit_org_id: &str,
    year: i32,
    page: &PageRequest,
) -> Result<Vec<UnitRecord>> {
    year_page(
        conn,
        "SELECT * FROM unit_records WHERE unit_org_id = $1 AND ($2 = 0 OR year = $2) AND id > $3 ORDER BY id LIMIT $4",
        unit_org_id,
        year,
        page,
        unit_record,
    )
    .await
}
