//! Settlements (评星结算): frozen per community and half-year, reviewed, then published.

use super::*;

pub(super) const SETTLEMENT_COLUMNS: &str = "id, community_id, scope_path, period, version, status, reason, is_current, \
    settled_by, settled_at, assembly_date, reviewed_by, reviewed_at, published_by, published_at, \
    points_per_star, max_stars, line_count";

pub(super) fn settlement_from_row(row: &AnyRow) -> Result<Settlement> {
    let status: String = row.try_get("status")?;
    let assembly: Option<String> = row.try_get("assembly_date")?;
    Ok(Settlement {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        scope_path: row.try_get("scope_path")?,
        period: period(row, "period")?,
        version: row.try_get("version")?,
        status: SettlementStatus::parse(&status).ok_or_else(|| ScoringError::corrupt("status", &status))?,
        reason: row.try_get("reason")?,
        current: row.try_get::<i64, _>("is_current")? == 1,
        settled_by: row.try_get("settled_by")?,
        settled_at: row.try_get("settled_at")?,
        assembly_date: match assembly {
            Some(text) => Some(
                Date::parse_from_str(&text, "%Y-%m-%d").map_err(|_| ScoringError::corrupt("assembly_date", &text))?,
            ),
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
    of: &SettlementsOf,
    p: Option<Period>,
    status: Option<SettlementStatus>,
    page: &PageRequest,
) -> Result<Vec<Settlement>> {
    let (community_id, path) = match of {
        SettlementsOf::Community(id) => (id.as_str(), ""),
        SettlementsOf::Subtree(path) => ("", path.as_str()),
    };
    let rows = sqlx::query(&format!(
        "SELECT {SETTLEMENT_COLUMNS} FROM settlements \
         WHERE ($1 = '' OR community_id = $1) AND ($5 = '' OR substr(scope_path, 1, length($5)) = $5) \
           AND ($2 = '' OR period = $2) AND ($6 = '' OR status = $6) AND ($3 = '' OR id < $3) \
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(community_id)
    .bind(p.map(Period::key).unwrap_or_default())
    .bind(&page.after)
    .bind(page.fetch_limit())
    .bind(path)
    .bind(status.map_or("", SettlementStatus::as_str))
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
pub(super) async fn show_on_board(conn: &mut AnyConnection, s: &Settlement) -> Result<()> {
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
