//! Compliance warnings (预警) per unit and member.

use super::*;

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

pub(super) const WARNING_COLUMNS: &str = "id, rule, subject_kind, subject_id, subject_name, year, evidence, community_id, \
     unit_org_id, blocks_excellent, raised_at";
pub(super) const WARNING_READ_COLUMNS: &str = "id, rule, subject_kind, subject_id, subject_name, year, evidence, community_id, \
     unit_org_id, blocks_excellent, raised_at, withdrawn_at, withdrawn_reason";

pub(super) fn warning_from_row(r: &AnyRow) -> Result<StoredWarning> {
    let rule: String = r.try_get("rule")?;
    let kind: String = r.try_get("subject_kind")?;
    Ok(StoredWarning {
        id: r.try_get("id")?,
        finding: Finding {
            rule: Rule::parse(&rule).ok_or_else(|| FeedbackError::corrupt("rule", &rule))?,
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
        year: int32(r, "year")?,
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
    // A member's warnings are read by the subject alone (its index even under
    // a generic plan, which cannot see through `$1 = '' OR …`); otherwise the
    // subtree's.
    let (subject, value) = if member_id.is_empty() {
        (
            "(substr(unit_path, 1, length($1)) = $1 OR substr(community_path, 1, length($1)) = $1)",
            path,
        )
    } else {
        ("subject_id = $1", member_id)
    };
    let rows = sqlx::query(&format!(
        "SELECT {WARNING_READ_COLUMNS} FROM warnings WHERE {subject} \
         AND ($2 = 0 OR year = $2) AND id > $3 ORDER BY id LIMIT $4"
    ))
    .bind(value)
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
