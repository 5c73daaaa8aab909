//! Small wishes (微心愿) of residents, claimed and fulfilled.

use super::*;

pub(super) fn wish(row: &AnyRow) -> Result<Wish> {
    Ok(Wish {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        beneficiary: row.try_get("beneficiary")?,
        content: row.try_get("content")?,
        status: parsed(row, "status", WishStatus::parse)?,
        member_id: row.try_get("member_id")?,
        unit_org_id: row.try_get("unit_org_id")?,
        evidence_ids: list(row, "evidence_ids")?,
        attendance_id: row.try_get("attendance_id")?,
        unit_record_id: row.try_get("unit_record_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert_wish(conn: &mut AnyConnection, w: &Wish) -> Result<()> {
    sqlx::query(
        "INSERT INTO wishes (id, community_id, beneficiary, content, status, member_id, unit_org_id, evidence_ids, \
         attendance_id, unit_record_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&w.id)
    .bind(&w.community_id)
    .bind(&w.beneficiary)
    .bind(&w.content)
    .bind(w.status.as_str())
    .bind(&w.member_id)
    .bind(&w.unit_org_id)
    .bind(list_text(&w.evidence_ids))
    .bind(&w.attendance_id)
    .bind(&w.unit_record_id)
    .bind(w.created_at)
    .bind(w.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn advance_wish(conn: &mut AnyConnection, w: &Wish, from: WishStatus) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE wishes SET status = $1, member_id = $2, unit_org_id = $3, evidence_ids = $4, attendance_id = $5, \
         unit_record_id = $6, updated_at = $7 WHERE id = $8 AND status = $9",
    )
    .bind(w.status.as_str())
    .bind(&w.member_id)
    .bind(&w.unit_org_id)
    .bind(list_text(&w.evidence_ids))
    .bind(&w.attendance_id)
    .bind(&w.unit_record_id)
    .bind(w.updated_at)
    .bind(&w.id)
    .bind(from.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get_wish(conn: &mut AnyConnection, id: &str) -> Result<Option<Wish>> {
    sqlx::query("SELECT * FROM wishes WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(wish)
        .transpose()
}

/// The wishes at `communities` in a status, recorded in `created`, by id.
pub async fn list_wishes(
    conn: &mut AnyConnection,
    communities: &[String],
    status: Option<WishStatus>,
    created: &DateWindow,
    page: &PageRequest,
) -> Result<Vec<Wish>> {
    let stage = status.map_or("", WishStatus::as_str);
    staged_rows(conn, "wishes", communities, stage, created, page, wish).await
}
