//! Co-building agreements (共建协议) between communities and units.

use super::*;

pub async fn insert_agreement(conn: &mut AnyConnection, a: &Agreement) -> Result<()> {
    sqlx::query(
        "INSERT INTO agreements (id, unit_org_id, community_id, year, resources, needs, pledge_services, \
         pledge_hours, pledge_form, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&a.id)
    .bind(&a.unit_org_id)
    .bind(&a.community_id)
    .bind(i64::from(a.year))
    .bind(list_text(&a.resources))
    .bind(list_text(&a.needs))
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

pub(super) async fn agreement(conn: &mut AnyConnection, row: &AnyRow) -> Result<Agreement> {
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
        year: int32(row, "year")?,
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
/// A unit's or community's agreements (of one year, or all: `year` 0),
/// newest year first; the page key is (`year`, `id`).
pub async fn list_agreements(
    conn: &mut AnyConnection,
    by_unit: bool,
    key: &str,
    year: i32,
    page: &PageRequest,
) -> Result<Vec<Agreement>> {
    let column = if by_unit { "unit_org_id" } else { "community_id" };
    let after = page.after_fields(2)?;
    let (after_year, after_id) = match &after {
        Some(f) => (PageRequest::after_number(f, 0)?, f[1].clone()),
        None => (0, String::new()),
    };
    let rows = sqlx::query(&format!(
        "SELECT * FROM agreements WHERE {column} = $1 AND ($2 = 0 OR year = $2) \
         AND ($3 = 0 OR year < $4 OR (year = $4 AND id > $5)) ORDER BY year DESC, id LIMIT $6"
    ))
    .bind(key)
    .bind(i64::from(year))
    .bind(i64::from(after.is_some()))
    .bind(after_year)
    .bind(after_id)
    .bind(page.fetch_limit())
    .fetch_all(&mut *conn)
    .await?;
    let mut agreements = Vec::with_capacity(rows.len());
    for row in &rows {
        agreements.push(agreement(conn, row).await?);
    }
    Ok(agreements)
}

/// The page key [`list_agreements`] continues after.
pub fn agreement_key(a: &Agreement) -> String {
    compound_key(&[&a.year.to_string(), &a.id])
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
