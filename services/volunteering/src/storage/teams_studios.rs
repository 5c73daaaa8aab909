//! Service teams (服务队) and studios (工作室) and their members.

use super::*;

pub async fn insert_team(conn: &mut AnyConnection, t: &Team) -> Result<()> {
    sqlx::query(
        "INSERT INTO teams (id, community_id, name, kind, post_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&t.id)
    .bind(&t.community_id)
    .bind(&t.name)
    .bind(t.kind.as_str())
    .bind(&t.post_id)
    .bind(t.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn team_members(conn: &mut AnyConnection, team_id: &str) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT member_id FROM team_members WHERE team_id = $1 ORDER BY joined_at, member_id")
            .bind(team_id)
            .fetch_all(conn)
            .await?,
    )
}

pub(super) fn team(row: &AnyRow, member_ids: Vec<String>) -> Result<Team> {
    Ok(Team {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        name: row.try_get("name")?,
        kind: parsed(row, "kind", TeamKind::parse)?,
        post_id: row.try_get("post_id")?,
        member_ids,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn get_team(conn: &mut AnyConnection, id: &str) -> Result<Option<Team>> {
    let Some(row) = sqlx::query("SELECT * FROM teams WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let members = team_members(conn, id).await?;
    Ok(Some(team(&row, members)?))
}

pub async fn list_teams(conn: &mut AnyConnection, community_id: &str, page: &PageRequest) -> Result<Vec<Team>> {
    let rows = sqlx::query("SELECT * FROM teams WHERE community_id = $1 AND id > $2 ORDER BY id LIMIT $3")
        .bind(community_id)
        .bind(&page.after)
        .bind(page.fetch_limit())
        .fetch_all(&mut *conn)
        .await?;
    let mut teams = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: String = row.try_get("id")?;
        let members = team_members(conn, &id).await?;
        teams.push(team(row, members)?);
    }
    Ok(teams)
}

pub async fn join_team(conn: &mut AnyConnection, team_id: &str, member_id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO team_members (team_id, member_id, joined_at) VALUES ($1, $2, $3) \
         ON CONFLICT (team_id, member_id) DO NOTHING",
    )
    .bind(team_id)
    .bind(member_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn leave_team(conn: &mut AnyConnection, team_id: &str, member_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND member_id = $2")
        .bind(team_id)
        .bind(member_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub(super) fn studio(row: &AnyRow) -> Result<Studio> {
    Ok(Studio {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        member_id: row.try_get("member_id")?,
        name: row.try_get("name")?,
        services: list(row, "services")?,
        opening_hours: row.try_get("opening_hours")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert_studio(conn: &mut AnyConnection, s: &Studio) -> Result<()> {
    sqlx::query(
        "INSERT INTO studios (id, community_id, member_id, name, services, opening_hours, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&s.id)
    .bind(&s.community_id)
    .bind(&s.member_id)
    .bind(&s.name)
    .bind(list_text(&s.services))
    .bind(&s.opening_hours)
    .bind(s.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_studio(conn: &mut AnyConnection, id: &str) -> Result<Option<Studio>> {
    sqlx::query("SELECT * FROM studios WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(studio)
        .transpose()
}

pub async fn list_studios(conn: &mut AnyConnection, community_id: &str, page: &PageRequest) -> Result<Vec<Studio>> {
    sqlx::query("SELECT * FROM studios WHERE community_id = $1 AND id > $2 ORDER BY id LIMIT $3")
        .bind(community_id)
        .bind(&page.after)
        .bind(page.fetch_limit())
        .fetch_all(conn)
        .await?
        .iter()
        .map(studio)
        .collect()
}
