//! Relocation rows: a move between communities and its deadline.

use super::*;

pub(super) const RELOCATION_COLUMNS: &str = "id, member_id, from_community_id, to_community_id, to_district, reason, declared_at, due_on, status, fulfilled_by_report_id";

pub(super) fn relocation_from_row(row: &AnyRow) -> Result<Relocation> {
    let due: String = row.try_get("due_on")?;
    let status: String = row.try_get("status")?;
    Ok(Relocation {
        id: row.try_get("id")?,
        member_id: row.try_get("member_id")?,
        from_community_id: row.try_get("from_community_id")?,
        to_community_id: row.try_get("to_community_id")?,
        to_district: row.try_get("to_district")?,
        reason: row.try_get("reason")?,
        declared_at: row.try_get("declared_at")?,
        due_on: due.parse().map_err(|_| RegistryError::corrupt("date", &due))?,
        status: RelocationStatus::parse(&status).ok_or_else(|| RegistryError::corrupt("relocation status", &status))?,
        fulfilled_by_report_id: row.try_get("fulfilled_by_report_id")?,
    })
}

pub async fn insert_relocation(conn: &mut AnyConnection, r: &Relocation) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO relocations ({RELOCATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)"
    ))
    .bind(&r.id)
    .bind(&r.member_id)
    .bind(&r.from_community_id)
    .bind(&r.to_community_id)
    .bind(&r.to_district)
    .bind(&r.reason)
    .bind(r.declared_at)
    .bind(r.due_on.to_string())
    .bind(r.status.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn relocation(conn: &mut AnyConnection, id: &str) -> Result<Option<Relocation>> {
    let row = sqlx::query(&format!("SELECT {RELOCATION_COLUMNS} FROM relocations WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(relocation_from_row).transpose()
}

/// Fulfils the member's pending relocations within this district once a
/// report is confirmed here (one to another district is fulfilled there:
/// [`fulfil_relocation_elsewhere`]).
pub async fn fulfil_relocations(conn: &mut AnyConnection, member_id: &str, report_id: &str) -> Result<()> {
    sqlx::query(
        "UPDATE relocations SET status = 'FULFILLED', fulfilled_by_report_id = $2 \
         WHERE member_id = $1 AND status = 'PENDING' AND to_district = ''",
    )
    .bind(member_id)
    .bind(report_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a relocation to another district fulfilled (the member reported
/// there); false when it was not pending.
pub async fn fulfil_relocation_elsewhere(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE relocations SET status = 'FULFILLED' WHERE id = $1 AND status = 'PENDING' AND to_district <> ''",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Relocations whose member's unit or either community lies inside `path`
/// (a community of another district lies in none);
/// `overdue_before` keeps only pending ones due before that date.
pub async fn list_relocations(
    conn: &mut AnyConnection,
    path: &str,
    filter: &RelocationFilter,
    page: &PageRequest,
) -> Result<Vec<Relocation>> {
    let (from, until) = filter.declared.millis();
    let columns = qualified(RELOCATION_COLUMNS, "r");
    let rows = sqlx::query(&format!(
        "SELECT {columns} FROM relocations r JOIN members m ON m.id = r.member_id \
         JOIN organizations u ON u.id = m.unit_org_id \
         JOIN organizations f ON f.id = r.from_community_id LEFT JOIN organizations t ON t.id = r.to_community_id \
         WHERE r.id > $1 AND (u.path LIKE $2 || '%' OR f.path LIKE $2 || '%' OR COALESCE(t.path, '') LIKE $2 || '%') \
           AND ($3 = '' OR (r.status = 'PENDING' AND r.due_on < $3)) \
           AND ($5 = '' OR r.status = $5) AND r.declared_at >= $6 AND r.declared_at < $7 \
         ORDER BY r.id LIMIT $4"
    ))
    .bind(&page.after)
    .bind(path)
    .bind(filter.overdue_on.map(|d| d.to_string()).unwrap_or_default())
    .bind(page.fetch_limit())
    .bind(filter.status.map_or("", RelocationStatus::as_str))
    .bind(from)
    .bind(until)
    .fetch_all(conn)
    .await?;
    rows.iter().map(relocation_from_row).collect()
}
