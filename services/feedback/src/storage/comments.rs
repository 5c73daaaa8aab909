//! Comments (评价意见) on a member or unit, kept for the summary table.

use super::*;

pub async fn upsert_comment(conn: &mut AnyConnection, c: &MemberComment) -> Result<()> {
    sqlx::query(
        "INSERT INTO member_comments (community_id, member_id, year, half, comment, author, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (community_id, member_id, year, half) \
         DO UPDATE SET comment = excluded.comment, author = excluded.author, updated_at = excluded.updated_at",
    )
    .bind(&c.community_id)
    .bind(&c.member_id)
    .bind(i64::from(c.period.year))
    .bind(i64::from(c.period.half))
    .bind(&c.comment)
    .bind(&c.author)
    .bind(c.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Comments for a period, optionally from one community only.
pub async fn comments(conn: &mut AnyConnection, period: Period, community_id: &str) -> Result<Vec<MemberComment>> {
    let rows = sqlx::query(
        "SELECT community_id, member_id, comment, author, updated_at FROM member_comments \
         WHERE year = $1 AND half = $2 AND ($3 = '' OR community_id = $3) ORDER BY community_id, member_id",
    )
    .bind(i64::from(period.year))
    .bind(i64::from(period.half))
    .bind(community_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MemberComment {
                community_id: r.try_get("community_id")?,
                member_id: r.try_get("member_id")?,
                period,
                comment: r.try_get("comment")?,
                author: r.try_get("author")?,
                updated_at: int(r, "updated_at")?,
            })
        })
        .collect()
}
