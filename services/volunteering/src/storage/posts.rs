//! Posts (岗位) and claims (认岗): what a community offers and who took it.

use super::*;

pub(super) fn post(row: &AnyRow) -> Result<Post> {
    Ok(Post {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        standard: row.try_get::<i64, _>("standard")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert_post(conn: &mut AnyConnection, p: &Post) -> Result<()> {
    sqlx::query(
        "INSERT INTO posts (id, community_id, name, description, standard, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&p.id)
    .bind(&p.community_id)
    .bind(&p.name)
    .bind(&p.description)
    .bind(flag(p.standard))
    .bind(p.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts a post unless the community has one of that name.
pub async fn insert_post_if_absent(conn: &mut AnyConnection, p: &Post) -> Result<()> {
    sqlx::query(
        "INSERT INTO posts (id, community_id, name, description, standard, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (community_id, name) DO NOTHING",
    )
    .bind(&p.id)
    .bind(&p.community_id)
    .bind(&p.name)
    .bind(&p.description)
    .bind(flag(p.standard))
    .bind(p.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn count_posts(conn: &mut AnyConnection, community_id: &str) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM posts WHERE community_id = $1")
            .bind(community_id)
            .fetch_one(conn)
            .await?,
    )
}

/// A community's posts, the standard catalogue first, then by creation; the
/// page key is (`standard`, `created_at`, `id`).
pub async fn list_posts(conn: &mut AnyConnection, community_id: &str, page: &PageRequest) -> Result<Vec<Post>> {
    let after = page.after_fields(3)?;
    let (standard, created_at, id) = match &after {
        Some(f) => (
            PageRequest::after_number(f, 0)?,
            PageRequest::after_number(f, 1)?,
            f[2].clone(),
        ),
        None => (0, 0, String::new()),
    };
    sqlx::query(
        "SELECT * FROM posts WHERE community_id = $1 AND ($2 = 0 OR standard < $3 \
         OR (standard = $3 AND (created_at > $4 OR (created_at = $4 AND id > $5)))) \
         ORDER BY standard DESC, created_at, id LIMIT $6",
    )
    .bind(community_id)
    .bind(i64::from(after.is_some()))
    .bind(standard)
    .bind(created_at)
    .bind(id)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?
    .iter()
    .map(post)
    .collect()
}

/// The page key [`list_posts`] continues after.
pub fn post_key(p: &Post) -> String {
    compound_key(&[&i64::from(p.standard).to_string(), &p.created_at.to_string(), &p.id])
}

pub async fn get_post(conn: &mut AnyConnection, id: &str) -> Result<Option<Post>> {
    sqlx::query("SELECT * FROM posts WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(post)
        .transpose()
}

/// Counts one more claim for the member's year unless that passes `max`.
pub async fn take_claim_slot(conn: &mut AnyConnection, member_id: &str, year: i32, max: i64) -> Result<bool> {
    sqlx::query(
        "INSERT INTO claim_totals (member_id, year, claimed) VALUES ($1, $2, 0) \
         ON CONFLICT (member_id, year) DO NOTHING",
    )
    .bind(member_id)
    .bind(i64::from(year))
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query(
        "UPDATE claim_totals SET claimed = claimed + 1 WHERE member_id = $1 AND year = $2 AND claimed < $3",
    )
    .bind(member_id)
    .bind(i64::from(year))
    .bind(max)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn release_claim_slot(conn: &mut AnyConnection, member_id: &str, year: i32) -> Result<()> {
    sqlx::query("UPDATE claim_totals SET claimed = claimed - 1 WHERE member_id = $1 AND year = $2 AND claimed > 0")
        .bind(member_id)
        .bind(i64::from(year))
        .execute(conn)
        .await?;
    Ok(())
}

pub(super) const CLAIM_SELECT: &str = "SELECT c.id, c.member_id, c.post_id, p.name AS post_name, c.community_id, c.year, \
    c.created_at FROM claims c JOIN posts p ON p.id = c.post_id";

pub(super) fn claim(row: &AnyRow) -> Result<Claim> {
    Ok(Claim {
        id: row.try_get("id")?,
        member_id: row.try_get("member_id")?,
        post_id: row.try_get("post_id")?,
        post_name: row.try_get("post_name")?,
        community_id: row.try_get("community_id")?,
        year: int32(row, "year")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert_claim(conn: &mut AnyConnection, c: &Claim) -> Result<()> {
    sqlx::query(
        "INSERT INTO claims (id, member_id, post_id, community_id, year, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&c.id)
    .bind(&c.member_id)
    .bind(&c.post_id)
    .bind(&c.community_id)
    .bind(i64::from(c.year))
    .bind(c.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_claim(conn: &mut AnyConnection, id: &str) -> Result<Option<Claim>> {
    sqlx::query(&format!("{CLAIM_SELECT} WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(claim)
        .transpose()
}

pub async fn claim_of(conn: &mut AnyConnection, member_id: &str, post_id: &str, year: i32) -> Result<Option<Claim>> {
    sqlx::query(&format!(
        "{CLAIM_SELECT} WHERE c.member_id = $1 AND c.post_id = $2 AND c.year = $3"
    ))
    .bind(member_id)
    .bind(post_id)
    .bind(i64::from(year))
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(claim)
    .transpose()
}

pub async fn delete_claim(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM claims WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Claims by member or by community (`column` is a constant), in id order.
pub async fn list_claims(
    conn: &mut AnyConnection,
    by_member: bool,
    key: &str,
    year: i32,
    page: &PageRequest,
) -> Result<Vec<Claim>> {
    let column = if by_member { "c.member_id" } else { "c.community_id" };
    year_page(
        conn,
        &format!("{CLAIM_SELECT} WHERE {column} = $1 AND c.year = $2 AND c.id > $3 ORDER BY c.id LIMIT $4"),
        key,
        year,
        page,
        claim,
    )
    .await
}

pub async fn count_claims(conn: &mut AnyConnection, member_id: &str, year: i32) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM claims WHERE member_id = $1 AND year = $2")
            .bind(member_id)
            .bind(i64::from(year))
            .fetch_one(conn)
            .await?,
    )
}
