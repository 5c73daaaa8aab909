//! The personal-information access log (个人信息查阅记录): one row per full read.

use super::*;

#[derive(Debug, Clone)]
pub struct AccessRow {
    pub id: String,
    pub reader_subject: String,
    pub reader_role: String,
    pub member_id: String,
    pub field: String,
    pub accessed_at: i64,
    pub unit_path: String,
    pub community_path: String,
}

pub async fn insert_access(conn: &mut AnyConnection, a: &AccessRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO pii_accesses (id, reader_subject, reader_role, member_id, field, accessed_at, unit_path, \
         community_path) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&a.id)
    .bind(&a.reader_subject)
    .bind(&a.reader_role)
    .bind(&a.member_id)
    .bind(&a.field)
    .bind(a.accessed_at)
    .bind(&a.unit_path)
    .bind(&a.community_path)
    .execute(conn)
    .await?;
    Ok(())
}

/// Accesses to members whose unit or community lies inside `scope_path`.
pub async fn list_accesses(
    conn: &mut AnyConnection,
    scope_path: &str,
    member_id: Option<&str>,
    page: &PageRequest,
) -> Result<Vec<AccessRow>> {
    let rows = sqlx::query(
        "SELECT id, reader_subject, reader_role, member_id, field, accessed_at, unit_path, community_path \
         FROM pii_accesses WHERE id > $1 AND (unit_path LIKE $2 || '%' OR community_path LIKE $2 || '%') \
         AND ($3 = '' OR member_id = $3) ORDER BY id LIMIT $4",
    )
    .bind(&page.after)
    .bind(scope_path)
    .bind(member_id.unwrap_or(""))
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AccessRow {
                id: row.try_get("id")?,
                reader_subject: row.try_get("reader_subject")?,
                reader_role: row.try_get("reader_role")?,
                member_id: row.try_get("member_id")?,
                field: row.try_get("field")?,
                accessed_at: row.try_get("accessed_at")?,
                unit_path: row.try_get("unit_path")?,
                community_path: row.try_get("community_path")?,
            })
        })
        .collect()
}
