//! Pledges (承诺): what a member promises for the year.

use super::*;

pub(super) fn pledge(row: &AnyRow) -> Result<Pledge> {
    Ok(Pledge {
        member_id: row.try_get("member_id")?,
        community_id: row.try_get("community_id")?,
        year: int32(row, "year")?,
        items: list(row, "items")?,
        services: row.try_get("services")?,
        hours: row.try_get("hours")?,
        way: row.try_get("way")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn upsert_pledge(conn: &mut AnyConnection, p: &Pledge) -> Result<()> {
    sqlx::query(
        "INSERT INTO pledges (member_id, year, community_id, items, services, hours, way, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (member_id, year) DO UPDATE SET community_id = excluded.community_id, items = excluded.items, \
         services = excluded.services, hours = excluded.hours, way = excluded.way, updated_at = excluded.updated_at",
    )
    .bind(&p.member_id)
    .bind(i64::from(p.year))
    .bind(&p.community_id)
    .bind(list_text(&p.items))
    .bind(p.services)
    .bind(p.hours)
    .bind(&p.way)
    .bind(p.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_pledge(conn: &mut AnyConnection, member_id: &str, year: i32) -> Result<Option<Pledge>> {
    sqlx::query("SELECT * FROM pledges WHERE member_id = $1 AND year = $2")
        .bind(member_id)
        .bind(i64::from(year))
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(pledge)
        .transpose()
}

pub async fn list_pledges(
    conn: &mut AnyConnection,
    community_id: &str,
    year: i32,
    page: &PageRequest,
) -> Result<Vec<Pledge>> {
    year_page(
        conn,
        "SELECT * FROM pledges WHERE community_id = $1 AND year = $2 AND member_id > $3 ORDER BY member_id LIMIT $4",
        community_id,
        year,
        page,
        pledge,
    )
    .await
}

/// Confirmed attendance of a member at a community in a year.
pub async fn member_progress(
    conn: &mut AnyConnection,
    member_id: &str,
    community_id: &str,
    year: i32,
) -> Result<Progress> {
    let row = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS services, CAST(COALESCE(SUM(minutes), 0) AS BIGINT) AS minutes \
         FROM attendance WHERE member_id = $1 AND community_id = $2 AND year = $3 AND status = 'confirmed'",
    )
    .bind(member_id)
    .bind(community_id)
    .bind(i64::from(year))
    .fetch_one(conn)
    .await?;
    Ok(Progress {
        services_done: row.try_get("services")?,
        minutes_done: row.try_get("minutes")?,
    })
}
