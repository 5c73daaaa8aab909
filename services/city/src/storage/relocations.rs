//! The relocation saga's rows.

use super::*;

const RELOCATION_COLUMNS: &str = "from_district, relocation_id, member_id, to_district, to_community_id, declared_at, \
     due_on, status, attempts, next_attempt_at, last_error, updated_at";

fn relocation_from_row(r: &AnyRow) -> Result<CityRelocation> {
    Ok(CityRelocation {
        from_district: r.try_get("from_district")?,
        relocation_id: r.try_get("relocation_id")?,
        member_id: r.try_get("member_id")?,
        to_district: r.try_get("to_district")?,
        to_community_id: r.try_get("to_community_id")?,
        declared_at: r.try_get("declared_at")?,
        due_on: r.try_get("due_on")?,
        status: parsed(r, "status", RelocationStatus::parse)?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// A relocation a district journalled, once (a replayed fact is a no-op).
pub async fn insert_relocation(conn: &mut AnyConnection, r: &CityRelocation) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO relocations ({RELOCATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (from_district, relocation_id) DO NOTHING"
    ))
    .bind(&r.from_district)
    .bind(&r.relocation_id)
    .bind(&r.member_id)
    .bind(&r.to_district)
    .bind(&r.to_community_id)
    .bind(r.declared_at)
    .bind(&r.due_on)
    .bind(r.status.as_str())
    .bind(r.attempts)
    .bind(r.next_attempt_at)
    .bind(&r.last_error)
    .bind(r.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The member's report in `district` was confirmed: a relocation of theirs
/// to that district (read, or admitted) is now reported.
pub async fn mark_reported(conn: &mut AnyConnection, member_id: &str, district: &str, now: i64) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE relocations SET status = 'reported', attempts = 0, next_attempt_at = 0, last_error = '', updated_at = $3 \
         WHERE member_id = $1 AND to_district = $2 AND status IN ('declared', 'admitted')",
    )
    .bind(member_id)
    .bind(district)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Relocations whose next step is due: `declared` or `reported`, attempt time passed.
pub async fn due_relocations(pool: &AnyPool, now: i64, limit: i64) -> Result<Vec<CityRelocation>> {
    let rows = sqlx::query(&format!(
        "SELECT {RELOCATION_COLUMNS} FROM relocations WHERE status IN ('declared', 'reported') AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at, declared_at LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(relocation_from_row).collect()
}

/// Records what the transfer said (where to, by when), still `declared`.
pub async fn set_destination(pool: &AnyPool, r: &CityRelocation, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE relocations SET to_district = $3, to_community_id = $4, due_on = $5, updated_at = $6 \
         WHERE from_district = $1 AND relocation_id = $2",
    )
    .bind(&r.from_district)
    .bind(&r.relocation_id)
    .bind(&r.to_district)
    .bind(&r.to_community_id)
    .bind(&r.due_on)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Moves a relocation from `from` to `to` (false: it moved meanwhile, e.g.
/// the member's report arrived first).
pub async fn advance_relocation(
    pool: &AnyPool,
    r: &CityRelocation,
    from: RelocationStatus,
    to: RelocationStatus,
    error: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE relocations SET status = $4, attempts = 0, next_attempt_at = 0, last_error = $5, updated_at = $6 \
         WHERE from_district = $1 AND relocation_id = $2 AND status = $3",
    )
    .bind(&r.from_district)
    .bind(&r.relocation_id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(error)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A failed attempt: the step is retried at `next_attempt_at`.
pub async fn retry_relocation_later(
    pool: &AnyPool,
    r: &CityRelocation,
    error: &str,
    next_attempt_at: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE relocations SET attempts = attempts + 1, next_attempt_at = $4, last_error = $5, updated_at = $6 \
         WHERE from_district = $1 AND relocation_id = $2 AND status = $3",
    )
    .bind(&r.from_district)
    .bind(&r.relocation_id)
    .bind(r.status.as_str())
    .bind(next_attempt_at)
    .bind(error)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Where a relocations page starts: the previous page's last (declared_at, district, id).
pub struct RelocationsAfter {
    pub declared_at: i64,
    pub from_district: String,
    pub relocation_id: String,
}

/// Relocations newest first, in `status` (any when `None`); `overdue_on`
/// keeps those still waiting for the report whose due day is before it.
pub async fn list_relocations(
    pool: &AnyPool,
    status: Option<RelocationStatus>,
    overdue_on: Option<&str>,
    district: Option<&str>,
    after: Option<&RelocationsAfter>,
    limit: i64,
) -> Result<Vec<CityRelocation>> {
    let mut clauses = Vec::new();
    let mut n = 1;
    if status.is_some() {
        clauses.push(format!("status = ${n}"));
        n += 1;
    }
    if district.is_some() {
        clauses.push(format!("(from_district = ${n} OR to_district = ${n})"));
        n += 1;
    }
    if overdue_on.is_some() {
        clauses.push(format!(
            "status IN ('declared', 'admitted') AND due_on <> '' AND due_on < ${n}"
        ));
        n += 1;
    }
    if after.is_some() {
        clauses.push(format!(
            "(declared_at < ${a} OR (declared_at = ${a} AND (from_district, relocation_id) < (${b}, ${c})))",
            a = n,
            b = n + 1,
            c = n + 2
        ));
        n += 3;
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT {RELOCATION_COLUMNS} FROM relocations {filter} \
         ORDER BY declared_at DESC, from_district DESC, relocation_id DESC LIMIT ${n}"
    );
    let mut query = sqlx::query(&sql);
    if let Some(s) = status {
        query = query.bind(s.as_str());
    }
    if let Some(name) = district {
        query = query.bind(name);
    }
    if let Some(day) = overdue_on {
        query = query.bind(day);
    }
    if let Some(a) = after {
        query = query.bind(a.declared_at).bind(&a.from_district).bind(&a.relocation_id);
    }
    let rows = query.bind(limit).fetch_all(pool).await?;
    rows.iter().map(relocation_from_row).collect()
}
