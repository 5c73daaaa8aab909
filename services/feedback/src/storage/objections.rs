//! Objections (异议) to a score: raised, investigated, decided, and the correction owed.

use dualreport_platform::outbox;

use super::*;

pub(super) const OBJECTION_COLUMNS: &str = "id, raised_by, subject_kind, subject_id, entry_id, community_id, community_path, \
     district_id, content, department, status, result, correction_points, correction_entry_id, correction_error, \
     correction_attempts, raised_at, decided_at";

pub(super) fn objection_from_row(r: &AnyRow) -> Result<Objection> {
    let status: String = r.try_get("status")?;
    Ok(Objection {
        id: r.try_get("id")?,
        raised_by: r.try_get("raised_by")?,
        subject_kind: r.try_get("subject_kind")?,
        subject_id: r.try_get("subject_id")?,
        entry_id: r.try_get("entry_id")?,
        community_id: r.try_get("community_id")?,
        community_path: r.try_get("community_path")?,
        district_id: r.try_get("district_id")?,
        content: r.try_get("content")?,
        department: r.try_get("department")?,
        status: ObjectionStatus::parse(&status).ok_or_else(|| FeedbackError::corrupt("objection status", &status))?,
        result: r.try_get("result")?,
        correction_points: int(r, "correction_points")?,
        correction_entry_id: r.try_get("correction_entry_id")?,
        correction_error: r.try_get("correction_error")?,
        correction_attempts: int(r, "correction_attempts")?,
        raised_at: int(r, "raised_at")?,
        decided_at: r.try_get("decided_at")?,
        history: Vec::new(),
    })
}

pub async fn insert_objection(conn: &mut AnyConnection, o: &Objection) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO objections ({OBJECTION_COLUMNS}, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12, $13, $14, $15, $16, $17, $18, NULL)"
    ))
    .bind(&o.id)
    .bind(&o.raised_by)
    .bind(&o.subject_kind)
    .bind(&o.subject_id)
    .bind(&o.entry_id)
    .bind(&o.community_id)
    .bind(&o.community_path)
    .bind(&o.district_id)
    .bind(&o.content)
    .bind(&o.department)
    .bind(o.status.as_str())
    .bind(&o.result)
    .bind(o.correction_points)
    .bind(&o.correction_entry_id)
    .bind(&o.correction_error)
    .bind(o.correction_attempts)
    .bind(o.raised_at)
    .bind(o.decided_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn add_step(conn: &mut AnyConnection, objection_id: &str, step: &Step) -> Result<()> {
    sqlx::query(
        "INSERT INTO objection_steps (objection_id, position, action, actor, text, evidence_ids, at) \
         SELECT $1, COALESCE(MAX(position), 0) + 1, $2, $3, $4, $5, $6 FROM objection_steps WHERE objection_id = $1",
    )
    .bind(objection_id)
    .bind(&step.action)
    .bind(&step.actor)
    .bind(&step.text)
    .bind(list_text(&step.evidence_ids))
    .bind(step.at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn objection(conn: &mut AnyConnection, id: &str) -> Result<Option<Objection>> {
    let Some(row) = sqlx::query(&format!("SELECT {OBJECTION_COLUMNS} FROM objections WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let mut o = objection_from_row(&row)?;
    let steps = sqlx::query(
        "SELECT action, actor, text, evidence_ids, at FROM objection_steps WHERE objection_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    for s in &steps {
        o.history.push(Step {
            action: s.try_get("action")?,
            actor: s.try_get("actor")?,
            text: s.try_get("text")?,
            evidence_ids: list(s, "evidence_ids")?,
            at: int(s, "at")?,
        });
    }
    Ok(Some(o))
}

/// Objections raised about one subject's card, or at communities under a path.
pub async fn list_objections(
    conn: &mut AnyConnection,
    subject_id: &str,
    path: &str,
    filter: &ObjectionFilter,
    page: &PageRequest,
) -> Result<Vec<Objection>> {
    let (from, until) = filter.raised.millis();
    // One subject's objections are read by the subject alone (its index even
    // under a generic plan); otherwise the subtree's.
    let (subject, value) = if subject_id.is_empty() {
        ("substr(community_path, 1, length($1)) = $1", path)
    } else {
        ("subject_id = $1", subject_id)
    };
    let rows = sqlx::query(&format!(
        "SELECT {OBJECTION_COLUMNS} FROM objections WHERE {subject} AND ($4 = '' OR status = $4) \
         AND raised_at >= $5 AND raised_at < $6 AND id > $2 ORDER BY id LIMIT $3"
    ))
    .bind(value)
    .bind(&page.after)
    .bind(page.fetch_limit())
    .bind(filter.status.map_or("", ObjectionStatus::as_str))
    .bind(from)
    .bind(until)
    .fetch_all(conn)
    .await?;
    rows.iter().map(objection_from_row).collect()
}

/// Assigns an undecided objection; false when it was decided meanwhile.
pub async fn assign(conn: &mut AnyConnection, id: &str, department: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE objections SET department = $2, status = 'assigned' WHERE id = $1 AND status IN ('open', 'assigned')",
    )
    .bind(id)
    .bind(department)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the decision on an undecided objection; false when another decision
/// came first. An upheld one's correction is left to the deciding call until
/// `retry_at`, when the background retry may take it.
pub async fn decide(
    conn: &mut AnyConnection,
    id: &str,
    status: ObjectionStatus,
    result: &str,
    points: i64,
    at: i64,
    retry_at: i64,
) -> Result<bool> {
    let next = (status == ObjectionStatus::Upheld).then_some(retry_at);
    let done = sqlx::query(
        "UPDATE objections SET status = $2, result = $3, correction_points = $4, decided_at = $5, \
         next_attempt_at = $6 WHERE id = $1 AND status IN ('open', 'assigned')",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(result)
    .bind(points)
    .bind(at)
    .bind(next)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Upheld objections' corrections as [`dualreport_platform::outbox`] keeps
/// them: owed until scoring's correcting entry is on the objection.
pub const CORRECTIONS: outbox::Table = outbox::Table {
    name: "objections",
    key: "id",
    attempts: "correction_attempts",
    last_error: "correction_error",
    owed: "correction_entry_id = ''",
};

/// Scoring took the correction as `entry_id`: no more attempts (false when an
/// earlier attempt already recorded it).
pub async fn corrected(conn: &mut AnyConnection, id: &str, entry_id: &str) -> Result<bool> {
    if !CORRECTIONS.delivered(&mut *conn, id).await? {
        return Ok(false);
    }
    sqlx::query("UPDATE objections SET correction_entry_id = $2, next_attempt_at = NULL WHERE id = $1")
        .bind(id)
        .bind(entry_id)
        .execute(conn)
        .await?;
    Ok(true)
}

/// Upheld objections whose correction is due, each leased until `lease_until`.
pub async fn lease_due_corrections(pool: &AnyPool, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Objection>> {
    let mut conn = pool.acquire().await?;
    let ids = CORRECTIONS.lease_due(&mut conn, now, lease_until, limit).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {OBJECTION_COLUMNS} FROM objections WHERE id IN ({}) ORDER BY decided_at, id",
        outbox::Table::placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in &ids {
        query = query.bind(id);
    }
    query
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(objection_from_row)
        .collect()
}
