//! Per-member projections kept beside the ledger: totals by period and category.

use super::*;

/// Starts tracking an entry's net points (itself plus its corrections).
pub async fn insert_entry_total(conn: &mut AnyConnection, entry_id: &str, net: i64, bounds: (i64, i64)) -> Result<()> {
    sqlx::query("INSERT INTO entry_totals (entry_id, net, floor_points, ceiling_points) VALUES ($1, $2, $3, $4)")
        .bind(entry_id)
        .bind(net)
        .bind(bounds.0)
        .bind(bounds.1)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds a correction to an entry's net points if it stays within its bounds;
/// returns the new net, or `None` when it would leave them.
pub async fn correct_entry_total(conn: &mut AnyConnection, entry_id: &str, delta: i64) -> Result<Option<i64>> {
    let row = sqlx::query(
        "UPDATE entry_totals SET net = net + $2 \
         WHERE entry_id = $1 AND net + $2 >= floor_points AND net + $2 <= ceiling_points \
         RETURNING net",
    )
    .bind(entry_id)
    .bind(delta)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some(row) => Some(row.try_get("net")?),
        None => None,
    })
}

pub async fn entry_total(conn: &mut AnyConnection, entry_id: &str) -> Result<Option<(i64, i64, i64)>> {
    let row = sqlx::query("SELECT net, floor_points, ceiling_points FROM entry_totals WHERE entry_id = $1")
        .bind(entry_id)
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(row) => Some((
            row.try_get("net")?,
            row.try_get("floor_points")?,
            row.try_get("ceiling_points")?,
        )),
        None => None,
    })
}

/// Adds points to a project's total if it stays within `0..=cap`; returns
/// the new total, or `None` when the cap would be exceeded.
pub async fn add_project_points(
    conn: &mut AnyConnection,
    unit_org_id: &str,
    project_id: &str,
    delta: i64,
    cap: i64,
) -> Result<Option<i64>> {
    sqlx::query(
        "INSERT INTO project_totals (unit_org_id, project_id, points) VALUES ($1, $2, 0) \
         ON CONFLICT (unit_org_id, project_id) DO NOTHING",
    )
    .bind(unit_org_id)
    .bind(project_id)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(
        "UPDATE project_totals SET points = points + $3 \
         WHERE unit_org_id = $1 AND project_id = $2 AND points + $3 >= 0 AND points + $3 <= $4 \
         RETURNING points",
    )
    .bind(unit_org_id)
    .bind(project_id)
    .bind(delta)
    .bind(cap)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some(row) => Some(row.try_get("points")?),
        None => None,
    })
}

pub async fn project_points(conn: &mut AnyConnection, unit_org_id: &str, project_id: &str) -> Result<i64> {
    let row = sqlx::query("SELECT points FROM project_totals WHERE unit_org_id = $1 AND project_id = $2")
        .bind(unit_org_id)
        .bind(project_id)
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(row) => row.try_get("points")?,
        None => 0,
    })
}
