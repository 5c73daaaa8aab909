//! Activities (活动) and their check-in codes.

use super::*;

pub(super) fn activity(row: &AnyRow) -> Result<Activity> {
    Ok(Activity {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        kind: parsed(row, "kind", ActivityKind::parse)?,
        title: row.try_get("title")?,
        content: row.try_get("content")?,
        post_id: row.try_get("post_id")?,
        place: row.try_get("place")?,
        start_at: row.try_get("start_at")?,
        end_at: row.try_get("end_at")?,
        capacity: row.try_get("capacity")?,
        signed_up: row.try_get("signed_up")?,
        organiser: row.try_get("organiser")?,
        contact: row.try_get("contact")?,
        team_id: row.try_get("team_id")?,
        studio_id: row.try_get("studio_id")?,
        agreement_id: row.try_get("agreement_id")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert_activity(conn: &mut AnyConnection, a: &Activity, created_by: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO activities (id, community_id, kind, title, content, post_id, place, start_at, end_at, capacity, \
         signed_up, organiser, contact, team_id, studio_id, agreement_id, check_in_code, code_expires_at, \
         created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, '', 0, $17, $18)",
    )
    .bind(&a.id)
    .bind(&a.community_id)
    .bind(a.kind.as_str())
    .bind(&a.title)
    .bind(&a.content)
    .bind(&a.post_id)
    .bind(&a.place)
    .bind(a.start_at)
    .bind(a.end_at)
    .bind(a.capacity)
    .bind(a.signed_up)
    .bind(&a.organiser)
    .bind(&a.contact)
    .bind(&a.team_id)
    .bind(&a.studio_id)
    .bind(&a.agreement_id)
    .bind(created_by)
    .bind(a.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_activity(conn: &mut AnyConnection, id: &str) -> Result<Option<Activity>> {
    sqlx::query("SELECT * FROM activities WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(activity)
        .transpose()
}

/// The activity's current check-in code and when it expires.
pub async fn check_in_code(conn: &mut AnyConnection, id: &str) -> Result<(String, i64)> {
    let row = sqlx::query("SELECT check_in_code, code_expires_at FROM activities WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await?;
    Ok((row.try_get("check_in_code")?, row.try_get("code_expires_at")?))
}

pub async fn set_check_in_code(conn: &mut AnyConnection, id: &str, code: &str, expires_at: i64) -> Result<()> {
    sqlx::query("UPDATE activities SET check_in_code = $1, code_expires_at = $2 WHERE id = $3")
        .bind(code)
        .bind(expires_at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn list_activities(
    conn: &mut AnyConnection,
    community_id: &str,
    kind: Option<ActivityKind>,
    page: &PageRequest,
) -> Result<Vec<Activity>> {
    sqlx::query(
        "SELECT * FROM activities WHERE community_id = $1 AND ($2 = '' OR kind = $2) AND id > $3 ORDER BY id LIMIT $4",
    )
    .bind(community_id)
    .bind(kind.map(ActivityKind::as_str).unwrap_or(""))
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?
    .iter()
    .map(activity)
    .collect()
}

/// Takes a place in the activity unless it is full.
pub async fn take_seat(conn: &mut AnyConnection, activity_id: &str) -> Result<bool> {
    let done = sqlx::query("UPDATE activities SET signed_up = signed_up + 1 WHERE id = $1 AND signed_up < capacity")
        .bind(activity_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
