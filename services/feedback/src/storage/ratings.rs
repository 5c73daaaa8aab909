//! Unit ratings (评议) by communities.

use super::*;

pub async fn upsert_rating(conn: &mut AnyConnection, r: &UnitRating) -> Result<()> {
    sqlx::query(
        "INSERT INTO unit_ratings (community_id, community_path, unit_org_id, unit_path, year, grade, comment, \
         rated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (community_id, unit_org_id, year) DO UPDATE SET grade = excluded.grade, \
         comment = excluded.comment, rated_by = excluded.rated_by, updated_at = excluded.updated_at",
    )
    .bind(&r.community_id)
    .bind(&r.community_path)
    .bind(&r.unit_org_id)
    .bind(&r.unit_path)
    .bind(i64::from(r.year))
    .bind(r.grade.as_str())
    .bind(&r.comment)
    .bind(&r.rated_by)
    .bind(r.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ratings given or received under `path`; the page key is `unit|community|year`.
pub async fn list_ratings(
    conn: &mut AnyConnection,
    path: &str,
    year: i32,
    page: &PageRequest,
) -> Result<Vec<UnitRating>> {
    let rows = sqlx::query(
        "SELECT community_id, community_path, unit_org_id, unit_path, year, grade, comment, rated_by, updated_at \
         FROM unit_ratings WHERE (substr(community_path, 1, length($1)) = $1 OR substr(unit_path, 1, length($1)) = $1) \
         AND ($2 = 0 OR year = $2) AND (unit_org_id || '|' || community_id || '|' || CAST(year AS TEXT)) > $3 \
         ORDER BY unit_org_id, community_id, year LIMIT $4",
    )
    .bind(path)
    .bind(i64::from(year))
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let grade: String = r.try_get("grade")?;
            Ok(UnitRating {
                community_id: r.try_get("community_id")?,
                community_path: r.try_get("community_path")?,
                unit_org_id: r.try_get("unit_org_id")?,
                unit_path: r.try_get("unit_path")?,
                year: int32(r, "year")?,
                grade: Grade::parse(&grade).ok_or_else(|| FeedbackError::corrupt("grade", &grade))?,
                comment: r.try_get("comment")?,
                rated_by: r.try_get("rated_by")?,
                updated_at: int(r, "updated_at")?,
            })
        })
        .collect()
}

pub fn rating_key(r: &UnitRating) -> String {
    format!("{}|{}|{}", r.unit_org_id, r.community_id, r.year)
}
