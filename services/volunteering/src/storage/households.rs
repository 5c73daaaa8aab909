//! Household pairings (结对帮扶) of members with households in need.

use super::*;

pub(super) fn household(row: &AnyRow) -> Result<Household> {
    Ok(Household {
        id: row.try_get("id")?,
        member_id: row.try_get("member_id")?,
        community_id: row.try_get("community_id")?,
        position: row.try_get("position")?,
        label: row.try_get("label")?,
        visits: row.try_get("visits")?,
        last_visit_at: row.try_get("last_visit_at")?,
    })
}

/// Replaces the member's active households (old ones keep their visits).
pub async fn replace_households(conn: &mut AnyConnection, member_id: &str, households: &[Household]) -> Result<()> {
    sqlx::query("UPDATE households SET active = 0 WHERE member_id = $1")
        .bind(member_id)
        .execute(&mut *conn)
        .await?;
    for h in households {
        sqlx::query(
            "INSERT INTO households (id, member_id, community_id, position, label, active, visits, last_visit_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $7)",
        )
        .bind(&h.id)
        .bind(&h.member_id)
        .bind(&h.community_id)
        .bind(h.position)
        .bind(&h.label)
        .bind(h.visits)
        .bind(h.last_visit_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A member's households in their assigned order; the page key is
/// (`position`, `id`).
pub async fn list_households(conn: &mut AnyConnection, member_id: &str, page: &PageRequest) -> Result<Vec<Household>> {
    let after = page.after_fields(2)?;
    let (position, id) = match &after {
        Some(f) => (PageRequest::after_number(f, 0)?, f[1].clone()),
        None => (0, String::new()),
    };
    sqlx::query(
        "SELECT * FROM households WHERE member_id = $1 AND active = 1 \
         AND ($2 = 0 OR position > $3 OR (position = $3 AND id > $4)) ORDER BY position, id LIMIT $5",
    )
    .bind(member_id)
    .bind(i64::from(after.is_some()))
    .bind(position)
    .bind(id)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?
    .iter()
    .map(household)
    .collect()
}

/// The page key [`list_households`] continues after.
pub fn household_key(h: &Household) -> String {
    compound_key(&[&h.position.to_string(), &h.id])
}

pub async fn get_household(conn: &mut AnyConnection, id: &str) -> Result<Option<(Household, bool)>> {
    let Some(row) = sqlx::query("SELECT * FROM households WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    let active = row.try_get::<i64, _>("active")? != 0;
    Ok(Some((household(&row)?, active)))
}

pub async fn count_visit(conn: &mut AnyConnection, id: &str, at: i64) -> Result<()> {
    sqlx::query("UPDATE households SET visits = visits + 1, last_visit_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
