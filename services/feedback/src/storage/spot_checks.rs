//! Spot checks (抽查) of recorded services.

use super::*;

pub async fn insert_spot_check(conn: &mut AnyConnection, s: &SpotCheck) -> Result<()> {
    sqlx::query(
        "INSERT INTO spot_checks (id, unit_org_id, unit_path, year, sample_percent, seed, population, drawn_by, \
         drawn_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&s.id)
    .bind(&s.unit_org_id)
    .bind(&s.unit_path)
    .bind(i64::from(s.year))
    .bind(s.sample_percent)
    .bind(&s.seed)
    .bind(s.population)
    .bind(&s.drawn_by)
    .bind(s.drawn_at)
    .execute(&mut *conn)
    .await?;
    for (position, item) in s.items.iter().enumerate() {
        sqlx::query(
            "INSERT INTO spot_check_items (spot_check_id, position, member_id, community_id, method, findings, \
             checked_by, checked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&s.id)
        .bind(position as i64)
        .bind(&item.member_id)
        .bind(&item.community_id)
        .bind(item.method.as_str())
        .bind(&item.findings)
        .bind(&item.checked_by)
        .bind(item.checked_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn spot_check(conn: &mut AnyConnection, id: &str) -> Result<Option<SpotCheck>> {
    let Some(r) = sqlx::query(
        "SELECT id, unit_org_id, unit_path, year, sample_percent, seed, population, drawn_by, drawn_at \
         FROM spot_checks WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let items = sqlx::query(
        "SELECT member_id, community_id, method, findings, checked_by, checked_at FROM spot_check_items \
         WHERE spot_check_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    let items = items
        .iter()
        .map(|i| {
            let method: String = i.try_get("method")?;
            Ok(SpotItem {
                member_id: i.try_get("member_id")?,
                community_id: i.try_get("community_id")?,
                method: Method::parse(&method).ok_or_else(|| FeedbackError::corrupt("check method", &method))?,
                findings: i.try_get("findings")?,
                checked_by: i.try_get("checked_by")?,
                checked_at: i.try_get("checked_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(SpotCheck {
        id: r.try_get("id")?,
        unit_org_id: r.try_get("unit_org_id")?,
        unit_path: r.try_get("unit_path")?,
        year: int32(&r, "year")?,
        sample_percent: int(&r, "sample_percent")?,
        seed: r.try_get("seed")?,
        population: int(&r, "population")?,
        drawn_by: r.try_get("drawn_by")?,
        drawn_at: int(&r, "drawn_at")?,
        items,
    }))
}

/// Records one sampled member's outcome; false when the member is not in the sample.
pub async fn record_outcome(
    conn: &mut AnyConnection,
    id: &str,
    member_id: &str,
    method: Method,
    findings: &str,
    by: &str,
    at: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE spot_check_items SET method = $3, findings = $4, checked_by = $5, checked_at = $6 \
         WHERE spot_check_id = $1 AND member_id = $2",
    )
    .bind(id)
    .bind(member_id)
    .bind(method.as_str())
    .bind(findings)
    .bind(by)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
