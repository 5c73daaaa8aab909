//! Each district's compliance warnings (预警), as their latest fact left them,
//! and the counts of those in force.

use super::*;

/// The warning as `w`'s fact leaves it, unless a later fact of the same
/// warning was applied already.
pub async fn upsert_warning(conn: &mut AnyConnection, w: &CityWarning) -> Result<()> {
    sqlx::query(
        "INSERT INTO warnings (district, warning_id, rule, year, unit_org_id, community_id, member_id, in_force, \
         source_sequence) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (district, warning_id) DO UPDATE SET rule = excluded.rule, year = excluded.year, \
         unit_org_id = excluded.unit_org_id, community_id = excluded.community_id, member_id = excluded.member_id, \
         in_force = excluded.in_force, source_sequence = excluded.source_sequence \
         WHERE warnings.source_sequence < excluded.source_sequence",
    )
    .bind(&w.district)
    .bind(&w.warning_id)
    .bind(&w.rule)
    .bind(i64::from(w.year))
    .bind(&w.unit_org_id)
    .bind(&w.community_id)
    .bind(&w.member_id)
    .bind(dualreport_platform::rows::flag(w.in_force))
    .bind(w.source_sequence)
    .execute(conn)
    .await?;
    Ok(())
}

/// Per district and rule: the warnings in force for `year`.
pub async fn warning_counts(pool: &AnyPool, year: i32) -> Result<Vec<(String, String, i64)>> {
    let rows = sqlx::query(
        "SELECT district, rule, COUNT(*) AS n FROM warnings WHERE year = $1 AND in_force = 1 \
         GROUP BY district, rule ORDER BY district, rule",
    )
    .bind(i64::from(year))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("district")?, r.try_get("rule")?, r.try_get("n")?)))
        .collect()
}

/// Per municipal org of `units` and district: the warnings in force for `year`
/// whose unit it is (the unit's own, and its members').
pub async fn unit_warning_counts(pool: &AnyPool, units: &[String], year: i32) -> Result<Vec<(String, String, i64)>> {
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (2..units.len() + 2).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT unit_org_id, district, COUNT(*) AS n FROM warnings WHERE year = $1 AND in_force = 1 \
         AND unit_org_id IN ({}) GROUP BY unit_org_id, district ORDER BY unit_org_id, district",
        marks.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(i64::from(year));
    for unit in units {
        query = query.bind(unit);
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("unit_org_id")?, r.try_get("district")?, r.try_get("n")?)))
        .collect()
}
