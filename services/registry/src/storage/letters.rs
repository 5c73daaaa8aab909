//! Letters of introduction (报到介绍信) a unit issues to its members.

use super::*;

pub async fn insert_letter(conn: &mut AnyConnection, l: &Letter, issued_by: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO letters (id, number, unit_org_id, member_id, community_id, year, issued_at, issued_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&l.id)
    .bind(&l.number)
    .bind(&l.unit_org_id)
    .bind(&l.member_id)
    .bind(&l.community_id)
    .bind(i64::from(l.year))
    .bind(l.issued_at)
    .bind(issued_by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn letter(conn: &mut AnyConnection, id: &str) -> Result<Option<Letter>> {
    let row = sqlx::query(
        "SELECT id, number, unit_org_id, member_id, community_id, year, issued_at FROM letters WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(Letter {
            id: row.try_get("id")?,
            number: row.try_get("number")?,
            unit_org_id: row.try_get("unit_org_id")?,
            member_id: row.try_get("member_id")?,
            community_id: row.try_get("community_id")?,
            year: int32(&row, "year")?,
            issued_at: row.try_get("issued_at")?,
        })
    })
    .transpose()
}
