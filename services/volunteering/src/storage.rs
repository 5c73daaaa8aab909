//! Volunteering's tables, behind plain async functions on a connection.
//!
//! One SQL text serves both backends through `sqlx::Any` (portable SQL, `$n`
//! placeholders); only the DDL in `migrations/{sqlite,postgres}` differs.
//! Every function takes `&mut AnyConnection`, so the use cases compose them in
//! one transaction. Limits that concurrent calls race for — posts claimed per
//! member and year, places in an activity, the state of an order or a wish or
//! an attendance — are enforced by conditional `UPDATE … WHERE <still
//! allowed>`, which PostgreSQL re-checks after waiting on the row lock.

use dualreport_platform::paging::PageRequest;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::model::*;
use crate::domain::{Date, Result, VolunteeringError};

/// True when a storage call failed on a unique constraint.
pub fn is_unique_violation(error: &VolunteeringError) -> bool {
    matches!(error, VolunteeringError::Internal(e)
        if e.downcast_ref::<sqlx::Error>().is_some_and(dualreport_platform::db::is_unique_violation))
}

fn corrupt(what: &str, value: &str) -> VolunteeringError {
    VolunteeringError::Internal(anyhow::anyhow!("stored {what} {value:?} is not recognised"))
}

fn date(row: &AnyRow, column: &str) -> Result<Date> {
    let text: String = row.try_get(column)?;
    Date::parse_from_str(&text, "%Y-%m-%d").map_err(|_| corrupt(column, &text))
}

fn opt_date(row: &AnyRow, column: &str) -> Result<Option<Date>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| Date::parse_from_str(&t, "%Y-%m-%d").map_err(|_| corrupt(column, &t)))
        .transpose()
}

fn year(row: &AnyRow) -> Result<i32> {
    let year: i64 = row.try_get("year")?;
    i32::try_from(year).map_err(|_| corrupt("year", &year.to_string()))
}

/// A JSON array of strings, as stored.
pub fn json(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

fn list(row: &AnyRow, column: &str) -> Result<Vec<String>> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|_| corrupt(column, &text))
}

fn parsed<T>(row: &AnyRow, column: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| corrupt(column, &text))
}

fn flag(value: bool) -> i64 {
    i64::from(value)
}

// ───────────────────────── posts and claims ─────────────────────────

fn post(row: &AnyRow) -> Result<Post> {
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

pub async fn list_posts(conn: &mut AnyConnection, community_id: &str) -> Result<Vec<Post>> {
    sqlx::query("SELECT * FROM posts WHERE community_id = $1 ORDER BY standard DESC, created_at, id")
        .bind(community_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(post)
        .collect()
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

const CLAIM_SELECT: &str = "SELECT c.id, c.member_id, c.post_id, p.name AS post_name, c.community_id, c.year, \
    c.created_at FROM claims c JOIN posts p ON p.id = c.post_id";

fn claim(row: &AnyRow) -> Result<Claim> {
    Ok(Claim {
        id: row.try_get("id")?,
        member_id: row.try_get("member_id")?,
        post_id: row.try_get("post_id")?,
        post_name: row.try_get("post_name")?,
        community_id: row.try_get("community_id")?,
        year: year(row)?,
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
    sqlx::query(&format!(
        "{CLAIM_SELECT} WHERE {column} = $1 AND c.year = $2 AND c.id > $3 ORDER BY c.id LIMIT $4"
    ))
    .bind(key)
    .bind(i64::from(year))
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?
    .iter()
    .map(claim)
    .collect()
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

// ───────────────────────── teams and studios ─────────────────────────

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

async fn team_members(conn: &mut AnyConnection, team_id: &str) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT member_id FROM team_members WHERE team_id = $1 ORDER BY joined_at, member_id")
            .bind(team_id)
            .fetch_all(conn)
            .await?,
    )
}

fn team(row: &AnyRow, member_ids: Vec<String>) -> Result<Team> {
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

pub async fn list_teams(conn: &mut AnyConnection, community_id: &str) -> Result<Vec<Team>> {
    let rows = sqlx::query("SELECT * FROM teams WHERE community_id = $1 ORDER BY id")
        .bind(community_id)
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

fn studio(row: &AnyRow) -> Result<Studio> {
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
    .bind(json(&s.services))
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

pub async fn list_studios(conn: &mut AnyConnection, community_id: &str) -> Result<Vec<Studio>> {
    sqlx::query("SELECT * FROM studios WHERE community_id = $1 ORDER BY id")
        .bind(community_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(studio)
        .collect()
}

// ───────────────────────── pledges ─────────────────────────

fn pledge(row: &AnyRow) -> Result<Pledge> {
    Ok(Pledge {
        member_id: row.try_get("member_id")?,
        community_id: row.try_get("community_id")?,
        year: year(row)?,
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
    .bind(json(&p.items))
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
    sqlx::query(
        "SELECT * FROM pledges WHERE community_id = $1 AND year = $2 AND member_id > $3 ORDER BY member_id LIMIT $4",
    )
    .bind(community_id)
    .bind(i64::from(year))
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?
    .iter()
    .map(pledge)
    .collect()
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

// ───────────────────────── agreements ─────────────────────────

pub async fn insert_agreement(conn: &mut AnyConnection, a: &Agreement) -> Result<()> {
    sqlx::query(
        "INSERT INTO agreements (id, unit_org_id, community_id, year, resources, needs, pledge_services, \
         pledge_hours, pledge_form, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&a.id)
    .bind(&a.unit_org_id)
    .bind(&a.community_id)
    .bind(i64::from(a.year))
    .bind(json(&a.resources))
    .bind(json(&a.needs))
    .bind(a.pledge_services)
    .bind(a.pledge_hours)
    .bind(&a.pledge_form)
    .bind(a.created_at)
    .execute(&mut *conn)
    .await?;
    for (position, p) in a.projects.iter().enumerate() {
        sqlx::query(
            "INSERT INTO projects (id, agreement_id, position, name, goal, expected_effect, deadline, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&p.id)
        .bind(&a.id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(&p.name)
        .bind(&p.goal)
        .bind(&p.expected_effect)
        .bind(p.deadline.map(|d| d.to_string()))
        .bind(p.status.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn agreement(conn: &mut AnyConnection, row: &AnyRow) -> Result<Agreement> {
    let id: String = row.try_get("id")?;
    let projects = sqlx::query("SELECT * FROM projects WHERE agreement_id = $1 ORDER BY position")
        .bind(&id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Project {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                goal: r.try_get("goal")?,
                expected_effect: r.try_get("expected_effect")?,
                deadline: opt_date(r, "deadline")?,
                status: parsed(r, "status", ProjectStatus::parse)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let progress = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS services, CAST(COALESCE(SUM(minutes), 0) AS BIGINT) AS minutes \
         FROM unit_records WHERE agreement_id = $1",
    )
    .bind(&id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Agreement {
        id,
        unit_org_id: row.try_get("unit_org_id")?,
        community_id: row.try_get("community_id")?,
        year: year(row)?,
        resources: list(row, "resources")?,
        needs: list(row, "needs")?,
        projects,
        pledge_services: row.try_get("pledge_services")?,
        pledge_hours: row.try_get("pledge_hours")?,
        pledge_form: row.try_get("pledge_form")?,
        progress: Progress {
            services_done: progress.try_get("services")?,
            minutes_done: progress.try_get("minutes")?,
        },
        created_at: row.try_get("created_at")?,
    })
}

pub async fn get_agreement(conn: &mut AnyConnection, id: &str) -> Result<Option<Agreement>> {
    let row = sqlx::query("SELECT * FROM agreements WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => Ok(Some(agreement(conn, &row).await?)),
        None => Ok(None),
    }
}

pub async fn agreement_of(
    conn: &mut AnyConnection,
    unit_org_id: &str,
    community_id: &str,
    year: i32,
) -> Result<Option<Agreement>> {
    let row = sqlx::query("SELECT * FROM agreements WHERE unit_org_id = $1 AND community_id = $2 AND year = $3")
        .bind(unit_org_id)
        .bind(community_id)
        .bind(i64::from(year))
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => Ok(Some(agreement(conn, &row).await?)),
        None => Ok(None),
    }
}

/// Agreements of a community or of a unit org (`year` 0: every year).
pub async fn list_agreements(conn: &mut AnyConnection, by_unit: bool, key: &str, year: i32) -> Result<Vec<Agreement>> {
    let column = if by_unit { "unit_org_id" } else { "community_id" };
    let rows = sqlx::query(&format!(
        "SELECT * FROM agreements WHERE {column} = $1 AND ($2 = 0 OR year = $2) ORDER BY year DESC, id"
    ))
    .bind(key)
    .bind(i64::from(year))
    .fetch_all(&mut *conn)
    .await?;
    let mut agreements = Vec::with_capacity(rows.len());
    for row in &rows {
        agreements.push(agreement(conn, row).await?);
    }
    Ok(agreements)
}

pub async fn set_project_status(
    conn: &mut AnyConnection,
    agreement_id: &str,
    project_id: &str,
    status: ProjectStatus,
) -> Result<bool> {
    let done = sqlx::query("UPDATE projects SET status = $1 WHERE agreement_id = $2 AND id = $3")
        .bind(status.as_str())
        .bind(agreement_id)
        .bind(project_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

// ───────────────────────── orders ─────────────────────────

fn order(row: &AnyRow) -> Result<Order> {
    Ok(Order {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        resident_name: row.try_get("resident_name")?,
        place: row.try_get("place")?,
        content: row.try_get("content")?,
        post_id: row.try_get("post_id")?,
        status: parsed(row, "status", OrderStatus::parse)?,
        dispatch_note: row.try_get("dispatch_note")?,
        member_id: row.try_get("member_id")?,
        attendance_id: row.try_get("attendance_id")?,
        evidence_ids: list(row, "evidence_ids")?,
        satisfaction: row.try_get("satisfaction")?,
        resident_comment: row.try_get("resident_comment")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert_order(conn: &mut AnyConnection, o: &Order) -> Result<()> {
    sqlx::query(
        "INSERT INTO orders (id, community_id, resident_name, place, content, post_id, status, dispatch_note, \
         member_id, attendance_id, evidence_ids, satisfaction, resident_comment, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&o.id)
    .bind(&o.community_id)
    .bind(&o.resident_name)
    .bind(&o.place)
    .bind(&o.content)
    .bind(&o.post_id)
    .bind(o.status.as_str())
    .bind(&o.dispatch_note)
    .bind(&o.member_id)
    .bind(&o.attendance_id)
    .bind(json(&o.evidence_ids))
    .bind(o.satisfaction)
    .bind(&o.resident_comment)
    .bind(o.created_at)
    .bind(o.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the order's new state if it is still in `from` (false: someone
/// else moved it first).
pub async fn advance_order(conn: &mut AnyConnection, o: &Order, from: OrderStatus) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE orders SET status = $1, dispatch_note = $2, member_id = $3, attendance_id = $4, evidence_ids = $5, \
         satisfaction = $6, resident_comment = $7, updated_at = $8 WHERE id = $9 AND status = $10",
    )
    .bind(o.status.as_str())
    .bind(&o.dispatch_note)
    .bind(&o.member_id)
    .bind(&o.attendance_id)
    .bind(json(&o.evidence_ids))
    .bind(o.satisfaction)
    .bind(&o.resident_comment)
    .bind(o.updated_at)
    .bind(&o.id)
    .bind(from.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get_order(conn: &mut AnyConnection, id: &str) -> Result<Option<Order>> {
    sqlx::query("SELECT * FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(order)
        .transpose()
}

pub async fn list_orders(
    conn: &mut AnyConnection,
    community_id: &str,
    status: Option<OrderStatus>,
    page: &PageRequest,
) -> Result<Vec<Order>> {
    sqlx::query(
        "SELECT * FROM orders WHERE community_id = $1 AND ($2 = '' OR status = $2) AND id > $3 ORDER BY id LIMIT $4",
    )
    .bind(community_id)
    .bind(status.map(OrderStatus::as_str).unwrap_or(""))
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?
    .iter()
    .map(order)
    .collect()
}

// ───────────────────────── wishes ─────────────────────────

fn wish(row: &AnyRow) -> Result<Wish> {
    Ok(Wish {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        beneficiary: row.try_get("beneficiary")?,
        content: row.try_get("content")?,
        status: parsed(row, "status", WishStatus::parse)?,
        member_id: row.try_get("member_id")?,
        unit_org_id: row.try_get("unit_org_id")?,
        evidence_ids: list(row, "evidence_ids")?,
        attendance_id: row.try_get("attendance_id")?,
        unit_record_id: row.try_get("unit_record_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert_wish(conn: &mut AnyConnection, w: &Wish) -> Result<()> {
    sqlx::query(
        "INSERT INTO wishes (id, community_id, beneficiary, content, status, member_id, unit_org_id, evidence_ids, \
         attendance_id, unit_record_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&w.id)
    .bind(&w.community_id)
    .bind(&w.beneficiary)
    .bind(&w.content)
    .bind(w.status.as_str())
    .bind(&w.member_id)
    .bind(&w.unit_org_id)
    .bind(json(&w.evidence_ids))
    .bind(&w.attendance_id)
    .bind(&w.unit_record_id)
    .bind(w.created_at)
    .bind(w.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn advance_wish(conn: &mut AnyConnection, w: &Wish, from: WishStatus) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE wishes SET status = $1, member_id = $2, unit_org_id = $3, evidence_ids = $4, attendance_id = $5, \
         unit_record_id = $6, updated_at = $7 WHERE id = $8 AND status = $9",
    )
    .bind(w.status.as_str())
    .bind(&w.member_id)
    .bind(&w.unit_org_id)
    .bind(json(&w.evidence_ids))
    .bind(&w.attendance_id)
    .bind(&w.unit_record_id)
    .bind(w.updated_at)
    .bind(&w.id)
    .bind(from.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get_wish(conn: &mut AnyConnection, id: &str) -> Result<Option<Wish>> {
    sqlx::query("SELECT * FROM wishes WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(wish)
        .transpose()
}

pub async fn list_wishes(
    conn: &mut AnyConnection,
    community_id: &str,
    status: Option<WishStatus>,
    page: &PageRequest,
) -> Result<Vec<Wish>> {
    sqlx::query(
        "SELECT * FROM wishes WHERE community_id = $1 AND ($2 = '' OR status = $2) AND id > $3 ORDER BY id LIMIT $4",
    )
    .bind(community_id)
    .bind(status.map(WishStatus::as_str).unwrap_or(""))
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?
    .iter()
    .map(wish)
    .collect()
}

// ───────────────────────── households ─────────────────────────

fn household(row: &AnyRow) -> Result<Household> {
    Ok(Household {
        id: row.try_get("id")?,
        member_id: row.try_get("member_id")?,
        community_id: row.try_get("community_id")?,
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
    for (position, h) in households.iter().enumerate() {
        sqlx::query(
            "INSERT INTO households (id, member_id, community_id, position, label, active, visits, last_visit_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $7)",
        )
        .bind(&h.id)
        .bind(&h.member_id)
        .bind(&h.community_id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(&h.label)
        .bind(h.visits)
        .bind(h.last_visit_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn list_households(conn: &mut AnyConnection, member_id: &str) -> Result<Vec<Household>> {
    sqlx::query("SELECT * FROM households WHERE member_id = $1 AND active = 1 ORDER BY position")
        .bind(member_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(household)
        .collect()
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

// ───────────────────────── activities ─────────────────────────

fn activity(row: &AnyRow) -> Result<Activity> {
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

// ───────────────────────── attendance and the outbox ─────────────────────────

fn attendance(row: &AnyRow) -> Result<Attendance> {
    Ok(Attendance {
        id: row.try_get("id")?,
        activity_id: row.try_get("activity_id")?,
        member_id: row.try_get("member_id")?,
        community_id: row.try_get("community_id")?,
        status: parsed(row, "status", AttendanceStatus::parse)?,
        minutes: row.try_get("minutes")?,
        adjustment: row.try_get("adjustment")?,
        note: row.try_get("note")?,
        evidence_ids: list(row, "evidence_ids")?,
        confirmed_by: row.try_get("confirmed_by")?,
        check_in_at: row.try_get("check_in_at")?,
        confirmed_at: row.try_get("confirmed_at")?,
        served_on: date(row, "served_on")?,
        content: row.try_get("content")?,
        entry_id: row.try_get("entry_id")?,
        payment_error: row.try_get("payment_error")?,
    })
}

pub async fn insert_attendance(conn: &mut AnyConnection, a: &Attendance) -> Result<()> {
    sqlx::query(
        "INSERT INTO attendance (id, activity_id, member_id, community_id, status, minutes, adjustment, note, \
         evidence_ids, confirmed_by, check_in_at, confirmed_at, served_on, year, content, entry_id, payment_error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(&a.id)
    .bind(&a.activity_id)
    .bind(&a.member_id)
    .bind(&a.community_id)
    .bind(a.status.as_str())
    .bind(a.minutes)
    .bind(a.adjustment)
    .bind(&a.note)
    .bind(json(&a.evidence_ids))
    .bind(&a.confirmed_by)
    .bind(a.check_in_at)
    .bind(a.confirmed_at)
    .bind(a.served_on.to_string())
    .bind(i64::from(chrono::Datelike::year(&a.served_on)))
    .bind(&a.content)
    .bind(&a.entry_id)
    .bind(&a.payment_error)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_attendance(conn: &mut AnyConnection, id: &str) -> Result<Option<Attendance>> {
    sqlx::query("SELECT * FROM attendance WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(attendance)
        .transpose()
}

pub async fn attendance_of(conn: &mut AnyConnection, activity_id: &str, member_id: &str) -> Result<Option<Attendance>> {
    sqlx::query("SELECT * FROM attendance WHERE activity_id = $1 AND member_id = $2")
        .bind(activity_id)
        .bind(member_id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(attendance)
        .transpose()
}

pub async fn check_in(conn: &mut AnyConnection, id: &str, at: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE attendance SET status = 'checked_in', check_in_at = $1 WHERE id = $2 AND status = 'signed_up'",
    )
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Confirms a checked-in attendance (false: not checked in any more — a
/// concurrent confirmation won).
pub async fn confirm(conn: &mut AnyConnection, a: &Attendance) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE attendance SET status = 'confirmed', adjustment = $1, note = $2, evidence_ids = $3, \
         confirmed_by = $4, confirmed_at = $5 WHERE id = $6 AND status = 'checked_in'",
    )
    .bind(a.adjustment)
    .bind(&a.note)
    .bind(json(&a.evidence_ids))
    .bind(&a.confirmed_by)
    .bind(a.confirmed_at)
    .bind(&a.id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Attendance of an activity, in id order.
pub async fn list_activity_attendance(
    conn: &mut AnyConnection,
    activity_id: &str,
    page: &PageRequest,
) -> Result<Vec<Attendance>> {
    sqlx::query("SELECT * FROM attendance WHERE activity_id = $1 AND id > $2 ORDER BY id LIMIT $3")
        .bind(activity_id)
        .bind(&page.after)
        .bind(page.fetch_limit())
        .fetch_all(conn)
        .await?
        .iter()
        .map(attendance)
        .collect()
}

/// Attendance of a member in a year (0: every year), in id order.
pub async fn list_member_attendance(
    conn: &mut AnyConnection,
    member_id: &str,
    year: i32,
    page: &PageRequest,
) -> Result<Vec<Attendance>> {
    sqlx::query(
        "SELECT * FROM attendance WHERE member_id = $1 AND ($2 = 0 OR year = $2) AND id > $3 ORDER BY id LIMIT $4",
    )
    .bind(member_id)
    .bind(i64::from(year))
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?
    .iter()
    .map(attendance)
    .collect()
}

/// Queues the payment of a confirmed attendance, with the confirming call's
/// `traceparent` (its payment joins that trace).
pub async fn enqueue_payment(conn: &mut AnyConnection, attendance_id: &str, now: i64, traceparent: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (attendance_id, attempts, next_attempt_at, delivered_at, last_error, created_at, traceparent) \
         VALUES ($1, 0, $2, NULL, '', $2, $3)",
    )
    .bind(attendance_id)
    .bind(now)
    .bind(traceparent)
    .execute(conn)
    .await?;
    Ok(())
}

/// Confirmed attendance whose payment is due, oldest first.
/// A payment the relay owes scoring.
pub struct DuePayment {
    pub attendance: Attendance,
    pub attempts: i64,
    pub traceparent: String,
}

pub async fn due_payments(conn: &mut AnyConnection, now: i64, limit: i64) -> Result<Vec<DuePayment>> {
    sqlx::query(
        "SELECT a.*, o.attempts, o.traceparent FROM outbox o JOIN attendance a ON a.id = o.attendance_id \
         WHERE o.delivered_at IS NULL AND o.next_attempt_at <= $1 ORDER BY o.next_attempt_at, o.attendance_id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| {
        Ok(DuePayment {
            attendance: attendance(row)?,
            attempts: row.try_get("attempts")?,
            traceparent: row.try_get("traceparent")?,
        })
    })
    .collect()
}

/// Leases a due delivery to this relay until `until` (false: another relay
/// has it, or it was delivered meanwhile).
pub async fn lease_payment(conn: &mut AnyConnection, attendance_id: &str, now: i64, until: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET next_attempt_at = $1 \
         WHERE attendance_id = $2 AND delivered_at IS NULL AND next_attempt_at <= $3",
    )
    .bind(until)
    .bind(attendance_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn payment_delivered(conn: &mut AnyConnection, attendance_id: &str, entry_id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET delivered_at = $1, attempts = attempts + 1, last_error = '' WHERE attendance_id = $2",
    )
    .bind(now)
    .bind(attendance_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE attendance SET entry_id = $1, payment_error = '' WHERE id = $2")
        .bind(entry_id)
        .bind(attendance_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn payment_failed(conn: &mut AnyConnection, attendance_id: &str, next_at: i64, error: &str) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 \
         WHERE attendance_id = $3 AND delivered_at IS NULL",
    )
    .bind(next_at)
    .bind(error)
    .bind(attendance_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE attendance SET payment_error = $1 WHERE id = $2")
        .bind(error)
        .bind(attendance_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deliveries not yet accepted by scoring and when the oldest was written
/// (gauges for operators: the backlog and its age).
pub async fn pending_payments(conn: &mut AnyConnection) -> Result<(i64, Option<i64>)> {
    let row = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, MIN(created_at) AS oldest FROM outbox WHERE delivered_at IS NULL",
    )
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("n")?, row.try_get::<Option<i64>, _>("oldest")?))
}

// ───────────────────────── evidence ─────────────────────────

fn evidence(row: &AnyRow) -> Result<Evidence> {
    Ok(Evidence {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        kind: parsed(row, "kind", EvidenceKind::parse)?,
        content_type: row.try_get("content_type")?,
        size_bytes: row.try_get("size_bytes")?,
        sha256: row.try_get("sha256")?,
        text: row.try_get("text")?,
        object_key: row.try_get("object_key")?,
        uploaded_by: row.try_get("uploaded_by")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert_evidence(conn: &mut AnyConnection, e: &Evidence) -> Result<()> {
    sqlx::query(
        "INSERT INTO evidence (id, community_id, kind, content_type, size_bytes, sha256, text, object_key, \
         uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&e.id)
    .bind(&e.community_id)
    .bind(e.kind.as_str())
    .bind(&e.content_type)
    .bind(e.size_bytes)
    .bind(&e.sha256)
    .bind(&e.text)
    .bind(&e.object_key)
    .bind(&e.uploaded_by)
    .bind(e.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_evidence(conn: &mut AnyConnection, id: &str) -> Result<Option<Evidence>> {
    sqlx::query("SELECT * FROM evidence WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(evidence)
        .transpose()
}

// ───────────────────────── unit records ─────────────────────────

fn unit_record(row: &AnyRow) -> Result<UnitRecord> {
    let kind: String = row.try_get("kind")?;
    Ok(UnitRecord {
        id: row.try_get("id")?,
        kind: UnitServiceKind::parse(&kind).ok_or_else(|| corrupt("unit record kind", &kind))?,
        unit_org_id: row.try_get("unit_org_id")?,
        community_id: row.try_get("community_id")?,
        served_on: date(row, "served_on")?,
        content: row.try_get("content")?,
        minutes: row.try_get("minutes")?,
        agreement_id: row.try_get("agreement_id")?,
        evidence_ids: list(row, "evidence_ids")?,
        recorded_by: row.try_get("recorded_by")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert_unit_record(conn: &mut AnyConnection, r: &UnitRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO unit_records (id, unit_org_id, community_id, served_on, year, content, minutes, agreement_id, \
         evidence_ids, recorded_by, created_at, kind) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&r.id)
    .bind(&r.unit_org_id)
    .bind(&r.community_id)
    .bind(r.served_on.to_string())
    .bind(i64::from(chrono::Datelike::year(&r.served_on)))
    .bind(&r.content)
    .bind(r.minutes)
    .bind(&r.agreement_id)
    .bind(json(&r.evidence_ids))
    .bind(&r.recorded_by)
    .bind(r.created_at)
    .bind(r.kind.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_unit_record(conn: &mut AnyConnection, id: &str) -> Result<Option<UnitRecord>> {
    sqlx::query("SELECT * FROM unit_records WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(unit_record)
        .transpose()
}

pub async fn list_unit_records(
    conn: &mut AnyConnection,
    unit_org_id: &str,
    year: i32,
    page: &PageRequest,
) -> Result<Vec<UnitRecord>> {
    sqlx::query(
        "SELECT * FROM unit_records WHERE unit_org_id = $1 AND ($2 = 0 OR year = $2) AND id > $3 ORDER BY id LIMIT $4",
    )
    .bind(unit_org_id)
    .bind(i64::from(year))
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?
    .iter()
    .map(unit_record)
    .collect()
}
