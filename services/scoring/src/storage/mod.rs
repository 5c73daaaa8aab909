//! Scoring's tables, behind plain async functions on a connection.
//!
//! One SQL text serves both backends through `sqlx::Any` (portable SQL, `$n`
//! placeholders); only the DDL in `migrations/{sqlite,postgres}` differs.
//! Every function takes `&mut AnyConnection`, so the use cases compose them in
//! one transaction. `entries` is only ever inserted into. Caps and balances
//! are enforced by conditional `UPDATE … WHERE <still allowed>` on projection
//! rows, which PostgreSQL re-checks after waiting on the row lock: parallel
//! redemptions can neither overdraw an account nor oversell an item.

use dualreport_platform::paging::PageRequest;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::ledger::{Entry, EntryKind, ProjectScorer, SpecialCategory};
use crate::domain::market::{Item, Redemption, RedemptionStatus};
use crate::domain::period::{Half, Period};
use crate::domain::settlement::{Line, Settlement, SettlementStatus};
use crate::domain::{Date, Result, ScoringError, Subject, SubjectKind};

impl From<dualreport_platform::idempotency::IdempotencyError> for ScoringError {
    fn from(error: dualreport_platform::idempotency::IdempotencyError) -> Self {
        use dualreport_platform::idempotency::IdempotencyError as E;
        match error {
            E::Invalid(e) => ScoringError::Invalid(vec![e]),
            E::Reused => ScoringError::RequestIdReused,
            e @ E::Concurrent(_) => ScoringError::Conflict(e.to_string()),
            E::Database(e) => e.into(),
        }
    }
}

impl From<sqlx::Error> for ScoringError {
    fn from(error: sqlx::Error) -> Self {
        ScoringError::Internal(anyhow::Error::new(error).context("database"))
    }
}

/// True when a storage call failed on a unique constraint.
pub fn is_unique_violation(error: &ScoringError) -> bool {
    matches!(error, ScoringError::Internal(e)
        if e.downcast_ref::<sqlx::Error>().is_some_and(dualreport_platform::db::is_unique_violation))
}

fn corrupt(what: &str, value: &str) -> ScoringError {
    ScoringError::Internal(anyhow::anyhow!("stored {what} {value:?} is not recognised"))
}

fn date(row: &AnyRow, column: &str) -> Result<Date> {
    let text: String = row.try_get(column)?;
    Date::parse_from_str(&text, "%Y-%m-%d").map_err(|_| corrupt(column, &text))
}

fn period(row: &AnyRow, column: &str) -> Result<Period> {
    let text: String = row.try_get(column)?;
    Period::parse_key(&text).ok_or_else(|| corrupt(column, &text))
}

fn subject(row: &AnyRow) -> Result<Subject> {
    let kind: String = row.try_get("subject_kind")?;
    Ok(Subject {
        kind: SubjectKind::parse(&kind).ok_or_else(|| corrupt("subject_kind", &kind))?,
        id: row.try_get("subject_id")?,
    })
}

/// `'service', 'special', …` for an SQL `IN` list (constants, not input).
fn earning_kinds() -> String {
    EntryKind::EARNING
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

// ───────────────────────── entries ─────────────────────────

const ENTRY_COLUMNS: &str = "id, subject_kind, subject_id, community_id, kind, points, occurred_on, period, content, \
    source_key, recorded_by, recorded_at, base_points, adjustment, special_category, project_id, project_scorer, \
    corrects_entry_id, redemption_id";

fn entry_from_row(row: &AnyRow) -> Result<Entry> {
    let kind: String = row.try_get("kind")?;
    let special: String = row.try_get("special_category")?;
    let scorer: String = row.try_get("project_scorer")?;
    Ok(Entry {
        id: row.try_get("id")?,
        subject: subject(row)?,
        community_id: row.try_get("community_id")?,
        kind: EntryKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        points: row.try_get("points")?,
        occurred_on: date(row, "occurred_on")?,
        period: period(row, "period")?,
        content: row.try_get("content")?,
        source_key: row.try_get("source_key")?,
        recorded_by: row.try_get("recorded_by")?,
        recorded_at: row.try_get("recorded_at")?,
        base_points: row.try_get("base_points")?,
        adjustment: row.try_get("adjustment")?,
        special_category: match special.as_str() {
            "" => None,
            s => Some(SpecialCategory::parse(s).ok_or_else(|| corrupt("special_category", s))?),
        },
        project_id: row.try_get("project_id")?,
        project_scorer: match scorer.as_str() {
            "" => None,
            s => Some(ProjectScorer::parse(s).ok_or_else(|| corrupt("project_scorer", s))?),
        },
        corrects_entry_id: row.try_get("corrects_entry_id")?,
        redemption_id: row.try_get("redemption_id")?,
    })
}

pub async fn insert_entry(conn: &mut AnyConnection, e: &Entry) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO entries ({ENTRY_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    ))
    .bind(&e.id)
    .bind(e.subject.kind.as_str())
    .bind(&e.subject.id)
    .bind(&e.community_id)
    .bind(e.kind.as_str())
    .bind(e.points)
    .bind(e.occurred_on.to_string())
    .bind(e.period.key())
    .bind(&e.content)
    .bind(&e.source_key)
    .bind(&e.recorded_by)
    .bind(e.recorded_at)
    .bind(e.base_points)
    .bind(e.adjustment)
    .bind(e.special_category.map(SpecialCategory::as_str).unwrap_or_default())
    .bind(&e.project_id)
    .bind(e.project_scorer.map(ProjectScorer::as_str).unwrap_or_default())
    .bind(e.corrects_entry_id.as_deref())
    .bind(&e.redemption_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn entry(conn: &mut AnyConnection, id: &str) -> Result<Option<Entry>> {
    let row = sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(entry_from_row).transpose()
}

pub async fn entry_by_source(conn: &mut AnyConnection, source_key: &str) -> Result<Option<Entry>> {
    let row = sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE source_key = $1"))
        .bind(source_key)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(entry_from_row).transpose()
}

/// Entries on a subject's card, oldest first, optionally at one community or in one period.
pub async fn list_entries(
    conn: &mut AnyConnection,
    subject: &Subject,
    community_id: Option<&str>,
    period: Option<Period>,
    page: &PageRequest,
) -> Result<Vec<Entry>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM entries \
         WHERE subject_kind = $1 AND subject_id = $2 AND ($3 = '' OR community_id = $3) \
           AND ($4 = '' OR period = $4) AND id > $5 \
         ORDER BY id LIMIT $6"
    ))
    .bind(subject.kind.as_str())
    .bind(&subject.id)
    .bind(community_id.unwrap_or_default())
    .bind(period.map(Period::key).unwrap_or_default())
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter().map(entry_from_row).collect()
}

/// A member's earning entries at a community in a period, in service order
/// (the rows of the registration table).
pub async fn period_entries(
    conn: &mut AnyConnection,
    subject: &Subject,
    community_id: &str,
    period: Period,
) -> Result<Vec<Entry>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM entries \
         WHERE subject_kind = $1 AND subject_id = $2 AND community_id = $3 AND period = $4 \
           AND kind IN ({}) \
         ORDER BY occurred_on, id",
        earning_kinds()
    ))
    .bind(subject.kind.as_str())
    .bind(&subject.id)
    .bind(community_id)
    .bind(period.key())
    .fetch_all(conn)
    .await?;
    rows.iter().map(entry_from_row).collect()
}

// ───────────────────────── projections ─────────────────────────

/// Starts tracking an entry's net points (itself plus its corrections).
pub async fn insert_entry_total(conn: &mut AnyConnection, entry_id: &str, net: i64, bounds: (i64, i64)) -> Result<()> {
    sqlx::query("INSERT INTO entry_totals (entry_id, net, floor_points, ceiling_points) VALUES ($1, $2, $3, $4)")
        .bind(entry_id)
        .bind(net)
        .bind(bounds.0)
        .bind(bounds.1)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds a correction to an entry's net points if it stays within its bounds;
/// returns the new net, or `None` when it would leave them.
pub async fn correct_entry_total(conn: &mut AnyConnection, entry_id: &str, delta: i64) -> Result<Option<i64>> {
    let row = sqlx::query(
        "UPDATE entry_totals SET net = net + $2 \
         WHERE entry_id = $1 AND net + $2 >= floor_points AND net + $2 <= ceiling_points \
         RETURNING net",
    )
    .bind(entry_id)
    .bind(delta)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some(row) => Some(row.try_get("net")?),
        None => None,
    })
}

pub async fn entry_total(conn: &mut AnyConnection, entry_id: &str) -> Result<Option<(i64, i64, i64)>> {
    let row = sqlx::query("SELECT net, floor_points, ceiling_points FROM entry_totals WHERE entry_id = $1")
        .bind(entry_id)
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(row) => Some((
            row.try_get("net")?,
            row.try_get("floor_points")?,
            row.try_get("ceiling_points")?,
        )),
        None => None,
    })
}

/// Adds points to a project's total if it stays within `0..=cap`; returns
/// the new total, or `None` when the cap would be exceeded.
pub async fn add_project_points(
    conn: &mut AnyConnection,
    unit_org_id: &str,
    project_id: &str,
    delta: i64,
    cap: i64,
) -> Result<Option<i64>> {
    sqlx::query(
        "INSERT INTO project_totals (unit_org_id, project_id, points) VALUES ($1, $2, 0) \
         ON CONFLICT (unit_org_id, project_id) DO NOTHING",
    )
    .bind(unit_org_id)
    .bind(project_id)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(
        "UPDATE project_totals SET points = points + $3 \
         WHERE unit_org_id = $1 AND project_id = $2 AND points + $3 >= 0 AND points + $3 <= $4 \
         RETURNING points",
    )
    .bind(unit_org_id)
    .bind(project_id)
    .bind(delta)
    .bind(cap)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some(row) => Some(row.try_get("points")?),
        None => None,
    })
}

pub async fn project_points(conn: &mut AnyConnection, unit_org_id: &str, project_id: &str) -> Result<i64> {
    let row = sqlx::query("SELECT points FROM project_totals WHERE unit_org_id = $1 AND project_id = $2")
        .bind(unit_org_id)
        .bind(project_id)
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(row) => row.try_get("points")?,
        None => 0,
    })
}

// ───────────────────────── accounts ─────────────────────────

/// A subject's red account (红色账户) at one community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub community_id: String,
    pub subject_name: String,
    pub earned: i64,
    pub redeemed: i64,
}

/// Adds earned points (which may be negative, for a correction); opens the
/// account on first use. A non-empty name refreshes the stored one.
pub async fn credit_earned(
    conn: &mut AnyConnection,
    subject: &Subject,
    community_id: &str,
    subject_name: &str,
    points: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO accounts (subject_kind, subject_id, community_id, subject_name, earned, redeemed) \
         VALUES ($1, $2, $3, $4, $5, 0) \
         ON CONFLICT (subject_kind, subject_id, community_id) DO UPDATE SET \
           earned = accounts.earned + EXCLUDED.earned, \
           subject_name = CASE WHEN EXCLUDED.subject_name = '' THEN accounts.subject_name \
                               ELSE EXCLUDED.subject_name END",
    )
    .bind(subject.kind.as_str())
    .bind(&subject.id)
    .bind(community_id)
    .bind(subject_name)
    .bind(points)
    .execute(conn)
    .await?;
    Ok(())
}

/// Spends points if the account covers them; false otherwise.
pub async fn spend(conn: &mut AnyConnection, subject: &Subject, community_id: &str, points: i64) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE accounts SET redeemed = redeemed + $4 \
         WHERE subject_kind = $1 AND subject_id = $2 AND community_id = $3 AND earned - redeemed >= $4",
    )
    .bind(subject.kind.as_str())
    .bind(&subject.id)
    .bind(community_id)
    .bind(points)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Returns points of a cancelled redemption.
pub async fn refund(conn: &mut AnyConnection, subject: &Subject, community_id: &str, points: i64) -> Result<()> {
    sqlx::query(
        "UPDATE accounts SET redeemed = redeemed - $4 \
         WHERE subject_kind = $1 AND subject_id = $2 AND community_id = $3",
    )
    .bind(subject.kind.as_str())
    .bind(&subject.id)
    .bind(community_id)
    .bind(points)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn accounts(conn: &mut AnyConnection, subject: &Subject) -> Result<Vec<AccountRow>> {
    let rows = sqlx::query(
        "SELECT community_id, subject_name, earned, redeemed FROM accounts \
         WHERE subject_kind = $1 AND subject_id = $2 ORDER BY community_id",
    )
    .bind(subject.kind.as_str())
    .bind(&subject.id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AccountRow {
                community_id: row.try_get("community_id")?,
                subject_name: row.try_get("subject_name")?,
                earned: row.try_get("earned")?,
                redeemed: row.try_get("redeemed")?,
            })
        })
        .collect()
}

/// Earned points per community and period, periods in order.
pub async fn period_points(conn: &mut AnyConnection, subject: &Subject) -> Result<Vec<(String, Period, i64)>> {
    let rows = sqlx::query(&format!(
        "SELECT community_id, period, CAST(SUM(points) AS BIGINT) AS earned FROM entries \
         WHERE subject_kind = $1 AND subject_id = $2 AND kind IN ({}) \
         GROUP BY community_id, period ORDER BY period, community_id",
        earning_kinds()
    ))
    .bind(subject.kind.as_str())
    .bind(&subject.id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("community_id")?,
                period(row, "period")?,
                row.try_get("earned")?,
            ))
        })
        .collect()
}

/// Members' earned points per community and half-year of `year`, and their
/// service entries: `(member, community, period, earned, services)`.
pub async fn member_year_totals(
    conn: &mut AnyConnection,
    member_ids: &[String],
    year: i32,
) -> Result<Vec<(String, String, Period, i64, i64)>> {
    if member_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = (0..member_ids.len())
        .map(|i| format!("${}", i + 3))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT subject_id, community_id, period, CAST(SUM(points) AS BIGINT) AS earned, \
           CAST(SUM(CASE WHEN kind = 'service' THEN 1 ELSE 0 END) AS BIGINT) AS services FROM entries \
         WHERE subject_kind = 'member' AND period IN ($1, $2) AND kind IN ({}) AND subject_id IN ({placeholders}) \
         GROUP BY subject_id, community_id, period ORDER BY subject_id, period, community_id",
        earning_kinds()
    );
    let mut query = sqlx::query(&sql)
        .bind(
            Period {
                year,
                half: Half::First,
            }
            .key(),
        )
        .bind(
            Period {
                year,
                half: Half::Second,
            }
            .key(),
        );
    for id in member_ids {
        query = query.bind(id);
    }
    let rows = query.fetch_all(conn).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("subject_id")?,
                row.try_get("community_id")?,
                period(row, "period")?,
                row.try_get("earned")?,
                row.try_get("services")?,
            ))
        })
        .collect()
}

// ───────────────────────── settlements ─────────────────────────

const SETTLEMENT_COLUMNS: &str = "id, community_id, scope_path, period, version, status, reason, is_current, \
    settled_by, settled_at, assembly_date, reviewed_by, reviewed_at, published_by, published_at, \
    points_per_star, max_stars, line_count";

fn settlement_from_row(row: &AnyRow) -> Result<Settlement> {
    let status: String = row.try_get("status")?;
    let assembly: Option<String> = row.try_get("assembly_date")?;
    Ok(Settlement {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        scope_path: row.try_get("scope_path")?,
        period: period(row, "period")?,
        version: row.try_get("version")?,
        status: SettlementStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        reason: row.try_get("reason")?,
        current: row.try_get::<i64, _>("is_current")? == 1,
        settled_by: row.try_get("settled_by")?,
        settled_at: row.try_get("settled_at")?,
        assembly_date: match assembly {
            Some(text) => Some(Date::parse_from_str(&text, "%Y-%m-%d").map_err(|_| corrupt("assembly_date", &text))?),
            None => None,
        },
        reviewed_by: row.try_get("reviewed_by")?,
        reviewed_at: row.try_get("reviewed_at")?,
        published_by: row.try_get("published_by")?,
        published_at: row.try_get("published_at")?,
        points_per_star: row.try_get("points_per_star")?,
        max_stars: row.try_get("max_stars")?,
        line_count: row.try_get("line_count")?,
    })
}

/// Stores a settlement's header; its lines come from [`settle_lines`].
pub async fn insert_settlement(conn: &mut AnyConnection, s: &Settlement) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO settlements ({SETTLEMENT_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
    ))
    .bind(&s.id)
    .bind(&s.community_id)
    .bind(&s.scope_path)
    .bind(s.period.key())
    .bind(s.version)
    .bind(s.status.as_str())
    .bind(&s.reason)
    .bind(i64::from(s.current))
    .bind(&s.settled_by)
    .bind(s.settled_at)
    .bind(s.assembly_date.map(|d| d.to_string()))
    .bind(&s.reviewed_by)
    .bind(s.reviewed_at)
    .bind(&s.published_by)
    .bind(s.published_at)
    .bind(s.points_per_star)
    .bind(s.max_stars)
    .bind(s.line_count)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Freezes the period's totals of the settlement's community as its lines, in
/// one set-based statement, and returns how many there are. Stars follow
/// [`crate::domain::ledger::Rules::stars`] (points ÷ points per star, at
/// least 0, at most the maximum), written here in SQL so no line passes
/// through memory; the conformance test `settled_stars_follow_the_rule` holds
/// the two together.
pub async fn settle_lines(conn: &mut AnyConnection, s: &Settlement) -> Result<i64> {
    let done = sqlx::query(&format!(
        "INSERT INTO settlement_lines (settlement_id, subject_kind, subject_id, subject_name, points, stars) \
         SELECT $1, subject_kind, subject_id, subject_name, points, \
           CASE WHEN points <= 0 THEN 0 WHEN points / $4 > $5 THEN $5 ELSE points / $4 END \
         FROM ( \
           SELECT e.subject_kind, e.subject_id, COALESCE(MAX(a.subject_name), '') AS subject_name, \
                  CAST(SUM(e.points) AS BIGINT) AS points \
           FROM entries e LEFT JOIN accounts a \
             ON a.subject_kind = e.subject_kind AND a.subject_id = e.subject_id AND a.community_id = e.community_id \
           WHERE e.community_id = $2 AND e.period = $3 AND e.kind IN ({}) \
           GROUP BY e.subject_kind, e.subject_id \
         ) totals",
        earning_kinds()
    ))
    .bind(&s.id)
    .bind(&s.community_id)
    .bind(s.period.key())
    .bind(s.points_per_star)
    .bind(s.max_stars)
    .execute(&mut *conn)
    .await?;
    let count = i64::try_from(done.rows_affected()).unwrap_or(i64::MAX);
    sqlx::query("UPDATE settlements SET line_count = $2 WHERE id = $1")
        .bind(&s.id)
        .bind(count)
        .execute(conn)
        .await?;
    Ok(count)
}

/// Whether two settlements freeze the same points for the same subjects.
pub async fn same_points(conn: &mut AnyConnection, a: &Settlement, b: &Settlement) -> Result<bool> {
    if a.line_count != b.line_count {
        return Ok(false);
    }
    let row = sqlx::query(
        "SELECT COUNT(*) AS differing FROM ( \
           SELECT subject_kind, subject_id, points FROM settlement_lines WHERE settlement_id = $1 \
           EXCEPT SELECT subject_kind, subject_id, points FROM settlement_lines WHERE settlement_id = $2 \
         ) d",
    )
    .bind(&a.id)
    .bind(&b.id)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get::<i64, _>("differing")? == 0)
}

/// Where a page of settlement lines resumes: the last line of the page before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineCursor {
    pub stars: i64,
    pub points: i64,
    pub subject_kind: String,
    pub subject_id: String,
}

impl LineCursor {
    pub fn of(line: &Line) -> Self {
        Self {
            stars: line.stars,
            points: line.points,
            subject_kind: line.subject.kind.as_str().to_owned(),
            subject_id: line.subject.id.clone(),
        }
    }

    pub fn encode(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.stars, self.points, self.subject_kind, self.subject_id
        )
    }

    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(4, '|');
        Some(Self {
            stars: parts.next()?.parse().ok()?,
            points: parts.next()?.parse().ok()?,
            subject_kind: parts.next()?.to_owned(),
            subject_id: parts.next()?.to_owned(),
        })
    }
}

/// A page of a settlement's lines as the board ranks them (stars, then
/// points, descending; then subject), after `after`.
pub async fn settlement_lines(
    conn: &mut AnyConnection,
    settlement_id: &str,
    after: Option<&LineCursor>,
    limit: i64,
) -> Result<Vec<Line>> {
    let (stars, points, kind, id) = match after {
        Some(c) => (c.stars, c.points, c.subject_kind.as_str(), c.subject_id.as_str()),
        None => (i64::MAX, i64::MAX, "", ""),
    };
    let rows = sqlx::query(
        "SELECT subject_kind, subject_id, subject_name, points, stars FROM settlement_lines \
         WHERE settlement_id = $1 AND (stars < $2 OR (stars = $2 AND points < $3) \
            OR (stars = $2 AND points = $3 AND (subject_kind > $4 OR (subject_kind = $4 AND subject_id > $5)))) \
         ORDER BY stars DESC, points DESC, subject_kind, subject_id LIMIT $6",
    )
    .bind(settlement_id)
    .bind(stars)
    .bind(points)
    .bind(kind)
    .bind(id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(line_from_row).collect()
}

fn line_from_row(row: &AnyRow) -> Result<Line> {
    Ok(Line {
        subject: subject(row)?,
        subject_name: row.try_get("subject_name")?,
        points: row.try_get("points")?,
        stars: row.try_get("stars")?,
    })
}

pub async fn settlement(conn: &mut AnyConnection, id: &str) -> Result<Option<Settlement>> {
    let row = sqlx::query(&format!("SELECT {SETTLEMENT_COLUMNS} FROM settlements WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(settlement_from_row).transpose()
}

/// The newest version of a community's settlement of a period.
pub async fn latest_settlement(conn: &mut AnyConnection, community_id: &str, p: Period) -> Result<Option<Settlement>> {
    let row = sqlx::query(&format!(
        "SELECT {SETTLEMENT_COLUMNS} FROM settlements WHERE community_id = $1 AND period = $2 \
         ORDER BY version DESC LIMIT 1"
    ))
    .bind(community_id)
    .bind(p.key())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(settlement_from_row).transpose()
}

/// A community's settlements, newest first, without lines.
pub async fn list_settlements(
    conn: &mut AnyConnection,
    community_id: &str,
    p: Option<Period>,
    page: &PageRequest,
) -> Result<Vec<Settlement>> {
    let rows = sqlx::query(&format!(
        "SELECT {SETTLEMENT_COLUMNS} FROM settlements \
         WHERE community_id = $1 AND ($2 = '' OR period = $2) AND ($3 = '' OR id < $3) \
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(community_id)
    .bind(p.map(Period::key).unwrap_or_default())
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter().map(settlement_from_row).collect()
}

/// Records the assembly's review of a draft; false when it is no longer a draft.
pub async fn review_settlement(
    conn: &mut AnyConnection,
    id: &str,
    assembly_date: Date,
    reviewed_by: &str,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE settlements SET status = $2, assembly_date = $3, reviewed_by = $4, reviewed_at = $5 \
         WHERE id = $1 AND status = $6",
    )
    .bind(id)
    .bind(SettlementStatus::Reviewed.as_str())
    .bind(assembly_date.to_string())
    .bind(reviewed_by)
    .bind(now)
    .bind(SettlementStatus::Draft.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Publishes a reviewed version and makes it the one the board shows.
pub async fn publish_settlement(conn: &mut AnyConnection, s: &Settlement, by: &str, now: i64) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE settlements SET status = $2, published_by = $3, published_at = $4, is_current = 1 \
         WHERE id = $1 AND status = $5",
    )
    .bind(&s.id)
    .bind(SettlementStatus::Published.as_str())
    .bind(by)
    .bind(now)
    .bind(SettlementStatus::Reviewed.as_str())
    .execute(&mut *conn)
    .await?;
    if result.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("UPDATE settlements SET is_current = 0 WHERE community_id = $1 AND period = $2 AND id <> $3")
        .bind(&s.community_id)
        .bind(s.period.key())
        .bind(&s.id)
        .execute(&mut *conn)
        .await?;
    show_on_board(conn, s).await?;
    Ok(true)
}

/// Replaces the community's lines of the period on the board with `s`'s, once
/// under each org of its scope path (community, street, district, city).
async fn show_on_board(conn: &mut AnyConnection, s: &Settlement) -> Result<()> {
    sqlx::query("DELETE FROM board WHERE community_id = $1 AND period = $2")
        .bind(&s.community_id)
        .bind(s.period.key())
        .execute(&mut *conn)
        .await?;
    for scope in s.scope_path.split('/').filter(|id| !id.is_empty()) {
        sqlx::query(
            "INSERT INTO board (scope_id, period, subject_kind, stars, points, subject_id, community_id, subject_name) \
             SELECT $1, $2, subject_kind, stars, points, subject_id, $3, subject_name \
             FROM settlement_lines WHERE settlement_id = $4",
        )
        .bind(scope)
        .bind(s.period.key())
        .bind(&s.community_id)
        .bind(&s.id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The version the board shows for a community's period, if any.
pub async fn current_version(conn: &mut AnyConnection, community_id: &str, p: Period) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT version FROM settlements WHERE community_id = $1 AND period = $2 AND is_current = 1")
        .bind(community_id)
        .bind(p.key())
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get("version")?),
        None => None,
    })
}

/// A row of the vanguard board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardRow {
    pub rank: i64,
    pub line: Line,
    pub community_id: String,
}

/// Where the previous board page ended: `stars|points|subject_id|community_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardCursor {
    pub stars: i64,
    pub points: i64,
    pub subject_id: String,
    pub community_id: String,
}

impl BoardCursor {
    pub fn encode(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.stars, self.points, self.subject_id, self.community_id
        )
    }

    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(4, '|');
        Some(Self {
            stars: parts.next()?.parse().ok()?,
            points: parts.next()?.parse().ok()?,
            subject_id: parts.next()?.to_owned(),
            community_id: parts.next()?.to_owned(),
        })
    }
}

/// Published results under `org_id` (community, street, district or city),
/// ranked by stars then points with competition ranks (1, 1, 3…).
pub async fn board(
    conn: &mut AnyConnection,
    org_id: &str,
    p: Period,
    kind: SubjectKind,
    after: Option<&BoardCursor>,
    limit: i64,
) -> Result<Vec<BoardRow>> {
    let (stars, points, subject_id, community_id) = match after {
        Some(c) => (c.stars, c.points, c.subject_id.as_str(), c.community_id.as_str()),
        None => (i64::MAX, i64::MAX, "", ""),
    };
    let rows = sqlx::query(
        "SELECT subject_kind, subject_id, subject_name, points, stars, community_id FROM board \
         WHERE scope_id = $1 AND period = $2 AND subject_kind = $3 \
           AND (stars < $4 OR (stars = $4 AND points < $5) \
            OR (stars = $4 AND points = $5 AND (subject_id > $6 OR (subject_id = $6 AND community_id > $7)))) \
         ORDER BY stars DESC, points DESC, subject_id, community_id LIMIT $8",
    )
    .bind(org_id)
    .bind(p.key())
    .bind(kind.as_str())
    .bind(stars)
    .bind(points)
    .bind(subject_id)
    .bind(community_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    // Rank as SQL's RANK(): 1 + the lines strictly better. The first page
    // needs no count; a later one counts for its first line only, as three
    // range counts on the board index (each bounded by the rows above it).
    let (better, before) = if after.is_none() {
        (0, 0)
    } else {
        let (first_stars, first_points): (i64, i64) = (first.try_get("stars")?, first.try_get("points")?);
        let first_subject: String = first.try_get("subject_id")?;
        let first_community: String = first.try_get("community_id")?;
        let scope = "scope_id = $1 AND period = $2 AND subject_kind = $3";
        let counts = sqlx::query(&format!(
            "SELECT (SELECT COUNT(*) FROM board WHERE {scope} AND stars > $4) AS above, \
                    (SELECT COUNT(*) FROM board WHERE {scope} AND stars = $4 AND points > $5) AS level, \
                    (SELECT COUNT(*) FROM board WHERE {scope} AND stars = $4 AND points = $5 \
                       AND (subject_id < $6 OR (subject_id = $6 AND community_id < $7))) AS tied"
        ))
        .bind(org_id)
        .bind(p.key())
        .bind(kind.as_str())
        .bind(first_stars)
        .bind(first_points)
        .bind(&first_subject)
        .bind(&first_community)
        .fetch_one(&mut *conn)
        .await?;
        let better = counts.try_get::<i64, _>("above")? + counts.try_get::<i64, _>("level")?;
        (better, better + counts.try_get::<i64, _>("tied")?)
    };
    let mut out: Vec<BoardRow> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let line = line_from_row(row)?;
        let rank = match out.last() {
            None => better + 1,
            Some(prev) if (prev.line.stars, prev.line.points) == (line.stars, line.points) => prev.rank,
            Some(_) => before + i64::try_from(i).unwrap_or(i64::MAX) + 1,
        };
        out.push(BoardRow {
            rank,
            line,
            community_id: row.try_get("community_id")?,
        });
    }
    Ok(out)
}

// ───────────────────────── supermarket ─────────────────────────

const ITEM_COLUMNS: &str = "id, community_id, name, description, price_points, stock, active, created_at, updated_at";

fn item_from_row(row: &AnyRow) -> Result<Item> {
    Ok(Item {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        price_points: row.try_get("price_points")?,
        stock: row.try_get("stock")?,
        active: row.try_get::<i64, _>("active")? == 1,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert_item(conn: &mut AnyConnection, item: &Item) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO items ({ITEM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&item.id)
    .bind(&item.community_id)
    .bind(&item.name)
    .bind(&item.description)
    .bind(item.price_points)
    .bind(item.stock)
    .bind(i64::from(item.active))
    .bind(item.created_at)
    .bind(item.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn item(conn: &mut AnyConnection, id: &str) -> Result<Option<Item>> {
    let row = sqlx::query(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(item_from_row).transpose()
}

/// Writes name, description, price and active; adds `add_stock` unless the
/// stock would leave 0 ..= `MAX_STOCK` (false then).
pub async fn update_item(conn: &mut AnyConnection, item: &Item, add_stock: i64, now: i64) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE items SET name = $2, description = $3, price_points = $4, active = $5, \
           stock = stock + $6, updated_at = $7 \
         WHERE id = $1 AND stock + $6 >= 0 AND stock + $6 <= $8",
    )
    .bind(&item.id)
    .bind(&item.name)
    .bind(&item.description)
    .bind(item.price_points)
    .bind(i64::from(item.active))
    .bind(add_stock)
    .bind(now)
    .bind(crate::domain::market::MAX_STOCK)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Takes `quantity` from an active item's stock if there is enough; false otherwise.
pub async fn take_stock(conn: &mut AnyConnection, item_id: &str, quantity: i64) -> Result<bool> {
    let result = sqlx::query("UPDATE items SET stock = stock - $2 WHERE id = $1 AND active = 1 AND stock >= $2")
        .bind(item_id)
        .bind(quantity)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn return_stock(conn: &mut AnyConnection, item_id: &str, quantity: i64) -> Result<()> {
    sqlx::query("UPDATE items SET stock = stock + $2 WHERE id = $1")
        .bind(item_id)
        .bind(quantity)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn list_items(
    conn: &mut AnyConnection,
    community_id: &str,
    include_inactive: bool,
    page: &PageRequest,
) -> Result<Vec<Item>> {
    let rows = sqlx::query(&format!(
        "SELECT {ITEM_COLUMNS} FROM items WHERE community_id = $1 AND (active = 1 OR $2 = 1) AND id > $3 \
         ORDER BY id LIMIT $4"
    ))
    .bind(community_id)
    .bind(i64::from(include_inactive))
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter().map(item_from_row).collect()
}

const REDEMPTION_COLUMNS: &str = "id, member_id, community_id, item_id, item_name, quantity, points, status, \
    entry_id, reversal_entry_id, created_at, cancelled_at, cancel_reason";

fn redemption_from_row(row: &AnyRow) -> Result<Redemption> {
    let status: String = row.try_get("status")?;
    Ok(Redemption {
        id: row.try_get("id")?,
        member_id: row.try_get("member_id")?,
        community_id: row.try_get("community_id")?,
        item_id: row.try_get("item_id")?,
        item_name: row.try_get("item_name")?,
        quantity: row.try_get("quantity")?,
        points: row.try_get("points")?,
        status: RedemptionStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        entry_id: row.try_get("entry_id")?,
        reversal_entry_id: row.try_get("reversal_entry_id")?,
        created_at: row.try_get("created_at")?,
        cancelled_at: row.try_get("cancelled_at")?,
        cancel_reason: row.try_get("cancel_reason")?,
    })
}

pub async fn insert_redemption(conn: &mut AnyConnection, r: &Redemption) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO redemptions ({REDEMPTION_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(&r.id)
    .bind(&r.member_id)
    .bind(&r.community_id)
    .bind(&r.item_id)
    .bind(&r.item_name)
    .bind(r.quantity)
    .bind(r.points)
    .bind(r.status.as_str())
    .bind(&r.entry_id)
    .bind(r.reversal_entry_id.as_deref())
    .bind(r.created_at)
    .bind(r.cancelled_at)
    .bind(&r.cancel_reason)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn redemption(conn: &mut AnyConnection, id: &str) -> Result<Option<Redemption>> {
    let row = sqlx::query(&format!("SELECT {REDEMPTION_COLUMNS} FROM redemptions WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(redemption_from_row).transpose()
}

/// Marks a completed redemption cancelled; false when it no longer is completed.
pub async fn cancel_redemption(
    conn: &mut AnyConnection,
    id: &str,
    reversal_entry_id: &str,
    reason: &str,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE redemptions SET status = $2, reversal_entry_id = $3, cancel_reason = $4, cancelled_at = $5 \
         WHERE id = $1 AND status = $6",
    )
    .bind(id)
    .bind(RedemptionStatus::Cancelled.as_str())
    .bind(reversal_entry_id)
    .bind(reason)
    .bind(now)
    .bind(RedemptionStatus::Completed.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn list_redemptions(
    conn: &mut AnyConnection,
    member_id: Option<&str>,
    community_id: Option<&str>,
    page: &PageRequest,
) -> Result<Vec<Redemption>> {
    let rows = sqlx::query(&format!(
        "SELECT {REDEMPTION_COLUMNS} FROM redemptions \
         WHERE ($1 = '' OR member_id = $1) AND ($2 = '' OR community_id = $2) AND id > $3 \
         ORDER BY id LIMIT $4"
    ))
    .bind(member_id.unwrap_or_default())
    .bind(community_id.unwrap_or_default())
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter().map(redemption_from_row).collect()
}
