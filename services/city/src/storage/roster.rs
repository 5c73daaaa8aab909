//! Each district's roster and confirmed reports, and the counts of them.

use super::*;

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
