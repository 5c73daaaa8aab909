//! Feedback's SQL: portable queries over `sqlx::Any` (placeholders `$1…`),
//! one function per read or write. Subtree reads compare a stored org path's
//! prefix (`substr(path, 1, length($1)) = $1`), never `LIKE` (ids may hold `_`).

use dualreport_platform::journal::lock_appends;
use dualreport_platform::paging::PageRequest;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use crate::domain::model::*;
use crate::domain::warnings::{Finding, Rule};
use crate::domain::{FeedbackError, Period, Result};

fn corrupt(what: &str, value: &str) -> FeedbackError {
    FeedbackError::Internal(anyhow::anyhow!("stored {what} {value:?} is not valid"))
}

fn ids_to_text(ids: &[String]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

fn ids_from_text(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn int(row: &AnyRow, column: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(column)?)
}

fn stored_year(row: &AnyRow) -> Result<i32> {
    i32::try_from(int(row, "year")?).map_err(|_| corrupt("year", "out of range"))
}

// ───────────── comments ─────────────

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

// ───────────── notices ─────────────

const NOTICE_COLUMNS: &str = "id, community_id, community_path, unit_org_id, unit_path, district_id, year, half, \
     title, body, urgent, summary, status, sent_by, sent_at, acknowledged_by, acknowledged_at";

fn notice_from_row(r: &AnyRow, with_summary: bool) -> Result<Notice> {
    let status: String = r.try_get("status")?;
    let summary = if with_summary {
        let text: String = r.try_get("summary")?;
        Some(serde_json::from_str(&text).map_err(|_| corrupt("summary", "json"))?)
    } else {
        None
    };
    Ok(Notice {
        id: r.try_get("id")?,
        community_id: r.try_get("community_id")?,
        community_path: r.try_get("community_path")?,
        unit_org_id: r.try_get("unit_org_id")?,
        unit_path: r.try_get("unit_path")?,
        district_id: r.try_get("district_id")?,
        period: Period {
            year: stored_year(r)?,
            half: i32::try_from(int(r, "half")?).unwrap_or(0),
        },
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        urgent: int(r, "urgent")? != 0,
        summary,
        status: NoticeStatus::parse(&status).ok_or_else(|| corrupt("notice status", &status))?,
        sent_by: r.try_get("sent_by")?,
        sent_at: int(r, "sent_at")?,
        acknowledged_by: r.try_get("acknowledged_by")?,
        acknowledged_at: r.try_get("acknowledged_at")?,
    })
}

pub async fn insert_notice(conn: &mut AnyConnection, n: &Notice) -> Result<()> {
    let summary = serde_json::to_string(&n.summary).map_err(|e| FeedbackError::Internal(e.into()))?;
    sqlx::query(&format!(
        "INSERT INTO notices ({NOTICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         $15, $16, $17)"
    ))
    .bind(&n.id)
    .bind(&n.community_id)
    .bind(&n.community_path)
    .bind(&n.unit_org_id)
    .bind(&n.unit_path)
    .bind(&n.district_id)
    .bind(i64::from(n.period.year))
    .bind(i64::from(n.period.half))
    .bind(&n.title)
    .bind(&n.body)
    .bind(i64::from(n.urgent))
    .bind(summary)
    .bind(n.status.as_str())
    .bind(&n.sent_by)
    .bind(n.sent_at)
    .bind(&n.acknowledged_by)
    .bind(n.acknowledged_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn notice(conn: &mut AnyConnection, id: &str) -> Result<Option<Notice>> {
    let row = sqlx::query(&format!("SELECT {NOTICE_COLUMNS} FROM notices WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(|r| notice_from_row(&r, true)).transpose()
}

/// Notices from or to orgs under `path` (summaries left out).
pub async fn list_notices(conn: &mut AnyConnection, path: &str, year: i32, page: &PageRequest) -> Result<Vec<Notice>> {
    let rows = sqlx::query(&format!(
        "SELECT {NOTICE_COLUMNS} FROM notices WHERE (substr(community_path, 1, length($1)) = $1 \
         OR substr(unit_path, 1, length($1)) = $1) AND ($2 = 0 OR year = $2) AND id > $3 ORDER BY id LIMIT $4"
    ))
    .bind(path)
    .bind(i64::from(year))
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| notice_from_row(r, false)).collect()
}

/// Marks a sent notice acknowledged; false when it already was.
pub async fn acknowledge(conn: &mut AnyConnection, id: &str, by: &str, at: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE notices SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3 \
         WHERE id = $1 AND status = 'sent'",
    )
    .bind(id)
    .bind(by)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

// ───────────── ratings ─────────────

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
                year: stored_year(r)?,
                grade: Grade::parse(&grade).ok_or_else(|| corrupt("grade", &grade))?,
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

// ───────────── objections ─────────────

const OBJECTION_COLUMNS: &str = "id, raised_by, subject_kind, subject_id, entry_id, community_id, community_path, \
     district_id, content, department, status, result, correction_points, correction_entry_id, correction_error, \
     correction_attempts, raised_at, decided_at";

fn objection_from_row(r: &AnyRow) -> Result<Objection> {
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
        status: ObjectionStatus::parse(&status).ok_or_else(|| corrupt("objection status", &status))?,
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
    .bind(ids_to_text(&step.evidence_ids))
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
        let evidence: String = s.try_get("evidence_ids")?;
        o.history.push(Step {
            action: s.try_get("action")?,
            actor: s.try_get("actor")?,
            text: s.try_get("text")?,
            evidence_ids: ids_from_text(&evidence),
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
    page: &PageRequest,
) -> Result<Vec<Objection>> {
    let rows = sqlx::query(&format!(
        "SELECT {OBJECTION_COLUMNS} FROM objections WHERE ($1 = '' OR subject_id = $1) \
         AND ($2 = '' OR substr(community_path, 1, length($2)) = $2) AND id > $3 ORDER BY id LIMIT $4"
    ))
    .bind(subject_id)
    .bind(path)
    .bind(&page.after)
    .bind(page.fetch_limit())
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

/// Scoring took the correction: no more attempts.
pub async fn corrected(conn: &mut AnyConnection, id: &str, entry_id: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE objections SET correction_entry_id = $2, correction_error = '', next_attempt_at = NULL, \
         correction_attempts = correction_attempts + 1 WHERE id = $1 AND correction_entry_id = ''",
    )
    .bind(id)
    .bind(entry_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Scoring did not take it: try again at `next_at`.
pub async fn correction_failed(conn: &mut AnyConnection, id: &str, error: &str, next_at: i64) -> Result<()> {
    sqlx::query(
        "UPDATE objections SET correction_error = $2, next_attempt_at = $3, \
         correction_attempts = correction_attempts + 1 WHERE id = $1 AND correction_entry_id = ''",
    )
    .bind(id)
    .bind(error)
    .bind(next_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Upheld objections whose correction is due; each is leased until `lease_until`
/// (a conditional UPDATE), so replicas do not send the same one at once.
pub async fn lease_due_corrections(pool: &AnyPool, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Objection>> {
    let mut conn = pool.acquire().await?;
    let rows = sqlx::query(&format!(
        "SELECT {OBJECTION_COLUMNS} FROM objections WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut leased = Vec::new();
    for row in &rows {
        let o = objection_from_row(row)?;
        let done = sqlx::query(
            "UPDATE objections SET next_attempt_at = $3 WHERE id = $1 AND next_attempt_at IS NOT NULL \
             AND next_attempt_at <= $2",
        )
        .bind(&o.id)
        .bind(now)
        .bind(lease_until)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 1 {
            leased.push(o);
        }
    }
    Ok(leased)
}

// ───────────── spot checks ─────────────

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
                method: Method::parse(&method).ok_or_else(|| corrupt("check method", &method))?,
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
        year: stored_year(&r)?,
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

// ───────────── warnings ─────────────

/// A stored warning with its wire-facing fields.
#[derive(Debug, Clone)]
pub struct StoredWarning {
    pub id: String,
    pub finding: Finding,
    pub year: i32,
    pub raised_at: i64,
    /// When and why a re-evaluation withdrew it; `None` while in force.
    pub withdrawn: Option<(i64, String)>,
}

impl StoredWarning {
    pub fn in_force(&self) -> bool {
        self.withdrawn.is_none()
    }
}

const WARNING_COLUMNS: &str = "id, rule, subject_kind, subject_id, subject_name, year, evidence, community_id, \
     unit_org_id, blocks_excellent, raised_at";
const WARNING_READ_COLUMNS: &str = "id, rule, subject_kind, subject_id, subject_name, year, evidence, community_id, \
     unit_org_id, blocks_excellent, raised_at, withdrawn_at, withdrawn_reason";

fn warning_from_row(r: &AnyRow) -> Result<StoredWarning> {
    let rule: String = r.try_get("rule")?;
    let kind: String = r.try_get("subject_kind")?;
    Ok(StoredWarning {
        id: r.try_get("id")?,
        finding: Finding {
            rule: Rule::parse(&rule).ok_or_else(|| corrupt("rule", &rule))?,
            subject_kind: if kind == "unit" { "unit" } else { "member" },
            subject_id: r.try_get("subject_id")?,
            subject_name: r.try_get("subject_name")?,
            evidence: r.try_get("evidence")?,
            community_id: r.try_get("community_id")?,
            unit_org_id: r.try_get("unit_org_id")?,
            blocks_excellent: int(r, "blocks_excellent")? != 0,
        },
        withdrawn: match r.try_get::<Option<i64>, _>("withdrawn_at")? {
            Some(at) => Some((at, r.try_get("withdrawn_reason")?)),
            None => None,
        },
        year: stored_year(r)?,
        raised_at: int(r, "raised_at")?,
    })
}

/// What storing a finding did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// A new warning, or one withdrawn earlier whose condition holds again:
    /// its id (the caller tells the feed).
    Raised(String),
    /// The warning stood already; its evidence is refreshed.
    Standing,
}

/// Stores a finding once per rule, subject and year. Safe with concurrent
/// evaluators: the insert skips an existing key (on PostgreSQL it waits for a
/// concurrent insert of the key to commit), and the re-raise of a withdrawn
/// warning is a conditional update, so exactly one caller sees `Raised`.
pub async fn upsert_warning(
    conn: &mut AnyConnection,
    id: &str,
    f: &Finding,
    year: i32,
    community_path: &str,
    unit_path: &str,
    now: i64,
) -> Result<Stored> {
    let inserted = sqlx::query(&format!(
        "INSERT INTO warnings ({WARNING_COLUMNS}, community_path, unit_path) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (rule, subject_id, year) DO NOTHING"
    ))
    .bind(id)
    .bind(f.rule.as_str())
    .bind(f.subject_kind)
    .bind(&f.subject_id)
    .bind(&f.subject_name)
    .bind(i64::from(year))
    .bind(&f.evidence)
    .bind(&f.community_id)
    .bind(&f.unit_org_id)
    .bind(i64::from(f.blocks_excellent))
    .bind(now)
    .bind(community_path)
    .bind(unit_path)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Stored::Raised(id.to_owned()));
    }
    let reraised = sqlx::query(
        "UPDATE warnings SET evidence = $4, raised_at = $5, withdrawn_at = NULL, withdrawn_reason = '' \
         WHERE rule = $1 AND subject_id = $2 AND year = $3 AND withdrawn_at IS NOT NULL RETURNING id",
    )
    .bind(f.rule.as_str())
    .bind(&f.subject_id)
    .bind(i64::from(year))
    .bind(&f.evidence)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = reraised {
        return Ok(Stored::Raised(row.try_get("id")?));
    }
    sqlx::query("UPDATE warnings SET evidence = $4 WHERE rule = $1 AND subject_id = $2 AND year = $3")
        .bind(f.rule.as_str())
        .bind(&f.subject_id)
        .bind(i64::from(year))
        .bind(&f.evidence)
        .execute(conn)
        .await?;
    Ok(Stored::Standing)
}

/// Withdraws a warning in force; false when it was withdrawn already (by a
/// concurrent evaluation).
pub async fn withdraw_warning(conn: &mut AnyConnection, id: &str, reason: &str, now: i64) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE warnings SET withdrawn_at = $2, withdrawn_reason = $3 WHERE id = $1 AND withdrawn_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Warnings of one member, or under an org path (by unit or community), for a year (0: any).
pub async fn list_warnings(
    conn: &mut AnyConnection,
    member_id: &str,
    path: &str,
    year: i32,
    page: &PageRequest,
) -> Result<Vec<StoredWarning>> {
    let rows = sqlx::query(&format!(
        "SELECT {WARNING_READ_COLUMNS} FROM warnings WHERE ($1 = '' OR subject_id = $1) \
         AND ($2 = '' OR substr(unit_path, 1, length($2)) = $2 OR substr(community_path, 1, length($2)) = $2) \
         AND ($3 = 0 OR year = $3) AND id > $4 ORDER BY id LIMIT $5"
    ))
    .bind(member_id)
    .bind(path)
    .bind(i64::from(year))
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter().map(warning_from_row).collect()
}

/// Every warning of a unit (as subject, or as its members' unit) for a year.
pub async fn unit_warnings(conn: &mut AnyConnection, unit_org_id: &str, year: i32) -> Result<Vec<StoredWarning>> {
    let rows = sqlx::query(&format!(
        "SELECT {WARNING_READ_COLUMNS} FROM warnings WHERE unit_org_id = $1 AND year = $2 ORDER BY id"
    ))
    .bind(unit_org_id)
    .bind(i64::from(year))
    .fetch_all(conn)
    .await?;
    rows.iter().map(warning_from_row).collect()
}

// ───────────── the feed ─────────────

const EVENT_COLUMNS: &str = "sequence, source, kind, occur_time, subject_id, district_id, community_id, unit_org_id, \
     member_id, text, evidence_ids";

fn event_from_row(r: &AnyRow) -> Result<Event> {
    let evidence: String = r.try_get("evidence_ids")?;
    Ok(Event {
        sequence: int(r, "sequence")?,
        source: r.try_get("source")?,
        kind: r.try_get("kind")?,
        occur_time: int(r, "occur_time")?,
        subject_id: r.try_get("subject_id")?,
        district_id: r.try_get("district_id")?,
        community_id: r.try_get("community_id")?,
        unit_org_id: r.try_get("unit_org_id")?,
        member_id: r.try_get("member_id")?,
        text: r.try_get("text")?,
        evidence_ids: ids_from_text(&evidence),
    })
}

/// Appends an event in the caller's transaction; `source_sequence` dedupes
/// entries read from a journal (false: already in the feed).
pub async fn append_event(conn: &mut AnyConnection, e: &Event, source_sequence: Option<i64>) -> Result<bool> {
    lock_appends(conn).await?;
    let done = sqlx::query(
        "INSERT INTO events (source, source_sequence, kind, occur_time, subject_id, district_id, community_id, \
         unit_org_id, member_id, text, evidence_ids) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (source, source_sequence) DO NOTHING",
    )
    .bind(&e.source)
    .bind(source_sequence)
    .bind(&e.kind)
    .bind(e.occur_time)
    .bind(&e.subject_id)
    .bind(&e.district_id)
    .bind(&e.community_id)
    .bind(&e.unit_org_id)
    .bind(&e.member_id)
    .bind(&e.text)
    .bind(ids_to_text(&e.evidence_ids))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Events after `after`, oldest first; only `district`'s unless it is empty.
pub async fn events_after(pool: &AnyPool, after: i64, limit: i64, district: &str) -> Result<Vec<Event>> {
    let rows = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE sequence > $1 AND ($3 = '' OR district_id = $3) \
         ORDER BY sequence LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .bind(district)
    .fetch_all(pool)
    .await?;
    rows.iter().map(event_from_row).collect()
}

pub async fn event(conn: &mut AnyConnection, sequence: i64) -> Result<Option<Event>> {
    let row = sqlx::query(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE sequence = $1"))
        .bind(sequence)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(event_from_row).transpose()
}

pub async fn last_sequence(pool: &AnyPool) -> Result<i64> {
    let row = sqlx::query("SELECT CAST(COALESCE(MAX(sequence), 0) AS BIGINT) AS last FROM events")
        .fetch_one(pool)
        .await?;
    int(&row, "last")
}

pub async fn journal_cursor(conn: &mut AnyConnection, source: &str) -> Result<i64> {
    let row = sqlx::query("SELECT after_sequence FROM journal_cursors WHERE source = $1")
        .bind(source)
        .fetch_optional(conn)
        .await?;
    row.map(|r| int(&r, "after_sequence"))
        .transpose()
        .map(Option::unwrap_or_default)
}

pub async fn set_journal_cursor(conn: &mut AnyConnection, source: &str, after: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO journal_cursors (source, after_sequence) VALUES ($1, $2) ON CONFLICT (source) \
         DO UPDATE SET after_sequence = excluded.after_sequence WHERE journal_cursors.after_sequence < excluded.after_sequence",
    )
    .bind(source)
    .bind(after)
    .execute(conn)
    .await?;
    Ok(())
}

// ───────────── the webhook ─────────────

pub async fn webhook(conn: &mut AnyConnection) -> Result<Option<Webhook>> {
    let row = sqlx::query("SELECT url, secret, delivered_sequence, updated_at FROM webhook WHERE id = 'default'")
        .fetch_optional(conn)
        .await?;
    row.map(|r| {
        Ok(Webhook {
            url: r.try_get("url")?,
            secret: r.try_get("secret")?,
            delivered_sequence: int(&r, "delivered_sequence")?,
            updated_at: int(&r, "updated_at")?,
        })
    })
    .transpose()
}

/// Sets the webhook. A new URL (or one set after the webhook was off) starts
/// after the newest event; the same URL again (a new secret) keeps its cursor.
pub async fn set_webhook(conn: &mut AnyConnection, url: &str, secret: &str, start_after: i64, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook (id, url, secret, delivered_sequence, updated_at) VALUES ('default', $1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, updated_at = excluded.updated_at, \
           delivered_sequence = CASE WHEN webhook.url = excluded.url THEN webhook.delivered_sequence \
             ELSE excluded.delivered_sequence END",
    )
    .bind(url)
    .bind(secret)
    .bind(start_after)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the delivery cursor forward from `from` (a conditional UPDATE: one replica wins).
pub async fn advance_webhook(conn: &mut AnyConnection, from: i64, to: i64) -> Result<bool> {
    let done =
        sqlx::query("UPDATE webhook SET delivered_sequence = $2 WHERE id = 'default' AND delivered_sequence = $1")
            .bind(from)
            .bind(to)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed delivery of the event at `sequence`, once per event: a
/// later failure of the same event updates its attempts and error.
pub async fn record_failed(
    conn: &mut AnyConnection,
    id: &str,
    sequence: i64,
    attempts: i64,
    error: &str,
    at: i64,
) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE failed_deliveries SET attempts = attempts + $2, last_error = $3, failed_at = $4 \
         WHERE event_sequence = $1",
    )
    .bind(sequence)
    .bind(attempts)
    .bind(error)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() > 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO failed_deliveries (id, event_sequence, attempts, last_error, failed_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(sequence)
    .bind(attempts)
    .bind(error)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The event at `sequence` was delivered after all: it is no longer a failed delivery.
pub async fn resolve_failed(conn: &mut AnyConnection, sequence: i64) -> Result<()> {
    sqlx::query("DELETE FROM failed_deliveries WHERE event_sequence = $1")
        .bind(sequence)
        .execute(conn)
        .await?;
    Ok(())
}

/// Events after the cursor (the webhook's backlog; sequences may have gaps).
pub async fn count_events_after(conn: &mut AnyConnection, after: i64) -> Result<i64> {
    let row = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM events WHERE sequence > $1")
        .bind(after)
        .fetch_one(conn)
        .await?;
    int(&row, "n")
}

pub async fn count_failed(conn: &mut AnyConnection) -> Result<i64> {
    let row = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM failed_deliveries")
        .fetch_one(conn)
        .await?;
    int(&row, "n")
}

pub async fn list_failed(conn: &mut AnyConnection, page: &PageRequest) -> Result<Vec<FailedDelivery>> {
    let rows = sqlx::query(
        "SELECT id, event_sequence, attempts, last_error, failed_at FROM failed_deliveries WHERE id > $1 \
         ORDER BY id LIMIT $2",
    )
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let sequence = int(r, "event_sequence")?;
        out.push(FailedDelivery {
            id: r.try_get("id")?,
            event: event(conn, sequence).await?.unwrap_or_default(),
            attempts: int(r, "attempts")?,
            last_error: r.try_get("last_error")?,
            failed_at: int(r, "failed_at")?,
        });
    }
    Ok(out)
}

pub async fn failed(conn: &mut AnyConnection, id: &str) -> Result<Option<FailedDelivery>> {
    let row =
        sqlx::query("SELECT id, event_sequence, attempts, last_error, failed_at FROM failed_deliveries WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(r) = row else { return Ok(None) };
    let sequence = int(&r, "event_sequence")?;
    Ok(Some(FailedDelivery {
        id: r.try_get("id")?,
        event: event(conn, sequence).await?.unwrap_or_default(),
        attempts: int(&r, "attempts")?,
        last_error: r.try_get("last_error")?,
        failed_at: int(&r, "failed_at")?,
    }))
}

pub async fn replay_result(conn: &mut AnyConnection, id: &str, delivered: bool, error: &str) -> Result<()> {
    if delivered {
        sqlx::query("DELETE FROM failed_deliveries WHERE id = $1")
            .bind(id)
            .execute(conn)
            .await?;
    } else {
        sqlx::query("UPDATE failed_deliveries SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
            .bind(id)
            .bind(error)
            .execute(conn)
            .await?;
    }
    Ok(())
}
