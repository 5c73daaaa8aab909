//! Member report rows, the community register (报到名册) and its paging.

use super::*;

pub(super) const MEMBER_REPORT_COLUMNS: &str = "id, member_id, community_id, year, status, letter_id, unit_org_id, branch, \
    submitted_at, confirmed_at, ended_at, receipt_number, registered_from, registered_until";

pub(super) fn member_report_select() -> String {
    select_with_receipt("member_reports", MEMBER_REPORT_COLUMNS)
}

pub(super) fn member_report_from_row(row: &AnyRow) -> Result<MemberReport> {
    let status: String = row.try_get("status")?;
    let mut report = MemberReport {
        id: row.try_get("id")?,
        member_id: row.try_get("member_id")?,
        community_id: row.try_get("community_id")?,
        year: int32(row, "year")?,
        status: MemberReportStatus::parse(&status)
            .ok_or_else(|| RegistryError::corrupt("member report status", &status))?,
        letter_id: row.try_get("letter_id")?,
        unit_org_id: row.try_get("unit_org_id")?,
        branch: row.try_get("branch")?,
        submitted_at: row.try_get("submitted_at")?,
        confirmed_at: row.try_get("confirmed_at")?,
        ended_at: row.try_get("ended_at")?,
        receipt: None,
        registered_from: stored_date(row, "registered_from")?,
        registered_until: stored_date(row, "registered_until")?,
    };
    report.receipt = joined_receipt(
        row,
        (
            &report.id,
            report.year,
            &report.community_id,
            &report.unit_org_id,
            Some(&report.member_id),
        ),
    )?;
    Ok(report)
}

pub async fn insert_member_report(conn: &mut AnyConnection, r: &MemberReport) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO member_reports ({MEMBER_REPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, NULL, '', '')"
    ))
    .bind(&r.id)
    .bind(&r.member_id)
    .bind(&r.community_id)
    .bind(i64::from(r.year))
    .bind(r.status.as_str())
    .bind(&r.letter_id)
    .bind(&r.unit_org_id)
    .bind(&r.branch)
    .bind(r.submitted_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn member_report(conn: &mut AnyConnection, id: &str) -> Result<Option<MemberReport>> {
    let row = sqlx::query(&format!("{} WHERE r.id = $1", member_report_select()))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(member_report_from_row).transpose()
}

/// The member's submitted or confirmed report of `year`, if any.
pub async fn active_member_report(
    conn: &mut AnyConnection,
    member_id: &str,
    year: i32,
) -> Result<Option<MemberReport>> {
    let row = sqlx::query(&format!(
        "{} WHERE r.member_id = $1 AND r.year = $2 AND r.status <> 'ENDED'",
        member_report_select()
    ))
    .bind(member_id)
    .bind(i64::from(year))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(member_report_from_row).transpose()
}

/// Confirms a submitted report; false when it no longer is submitted (see
/// [`receive_unit_report`] for why this runs before the receipt).
pub async fn confirm_member_report(conn: &mut AnyConnection, id: &str, branch: &str, now: i64) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE member_reports SET status = 'CONFIRMED', branch = $2, confirmed_at = $3 \
         WHERE id = $1 AND status = 'SUBMITTED'",
    )
    .bind(id)
    .bind(branch)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn attach_member_receipt(conn: &mut AnyConnection, id: &str, receipt_number: &str) -> Result<()> {
    sqlx::query("UPDATE member_reports SET receipt_number = $2 WHERE id = $1")
        .bind(id)
        .bind(receipt_number)
        .execute(conn)
        .await?;
    Ok(())
}

/// An optional `YYYY-MM-DD` column ('' = none).
pub(super) fn stored_date(row: &AnyRow, column: &str) -> Result<Option<Date>> {
    let text: String = row.try_get(column)?;
    if text.is_empty() {
        return Ok(None);
    }
    Date::parse_from_str(&text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| RegistryError::corrupt(column, &text))
}

/// Ends an active report, its registration stopping on `moved_on` (the
/// relocation date); false when it had already ended (a concurrent relocation).
pub async fn end_member_report(conn: &mut AnyConnection, id: &str, now: i64, moved_on: Date) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE member_reports SET status = 'ENDED', ended_at = $2, registered_until = $3 \
         WHERE id = $1 AND status <> 'ENDED'",
    )
    .bind(id)
    .bind(now)
    .bind(moved_on.format("%Y-%m-%d").to_string())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// When the member's pending relocation (the one a report now confirmed
/// fulfils) was declared.
pub async fn pending_relocation_declared_at(conn: &mut AnyConnection, member_id: &str) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT CAST(MAX(declared_at) AS BIGINT) AS declared_at FROM relocations WHERE member_id = $1 AND status = 'PENDING'",
    )
    .bind(member_id)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get("declared_at")?)
}

/// The registration of a report that fulfils a relocation starts on its date.
pub async fn set_registered_from(conn: &mut AnyConnection, id: &str, from: Date) -> Result<()> {
    sqlx::query("UPDATE member_reports SET registered_from = $2 WHERE id = $1")
        .bind(id)
        .bind(from.format("%Y-%m-%d").to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Reports of one member, or at communities / of units inside `path`.
pub async fn list_member_reports(
    conn: &mut AnyConnection,
    member_id: Option<&str>,
    path: Option<&str>,
    filter: &MemberReportFilter,
    page: &PageRequest,
) -> Result<Vec<MemberReport>> {
    let (from, until) = filter.submitted.millis();
    // The subject stands alone as the first clause, so the database answers it
    // from its index (`member_reports_by_member`, or the org tree's path) even
    // under a generic plan, which cannot see through `$n = '' OR …`.
    let (subject, value) = match (member_id, path) {
        (Some(member), _) => ("r.member_id = $1", member),
        (None, path) => ("(u.path LIKE $1 || '%' OR c.path LIKE $1 || '%')", path.unwrap_or("")),
    };
    let rows = sqlx::query(&format!(
        "{} \
         JOIN organizations u ON u.id = r.unit_org_id JOIN organizations c ON c.id = r.community_id \
         WHERE {subject} AND r.id > $2 AND ($3 = 0 OR r.year = $3) \
           AND ($5 = '' OR r.status = $5) AND r.submitted_at >= $6 AND r.submitted_at < $7 \
         ORDER BY r.id LIMIT $4",
        member_report_select()
    ))
    .bind(value)
    .bind(&page.after)
    .bind(i64::from(filter.year))
    .bind(page.fetch_limit())
    .bind(filter.status.map_or("", MemberReportStatus::as_str))
    .bind(from)
    .bind(until)
    .fetch_all(conn)
    .await?;
    rows.iter().map(member_report_from_row).collect()
}

/// One line of a community register.
#[derive(Debug, Clone)]
pub struct RegisterRow {
    pub report_id: String,
    pub member_id: String,
    pub member_name: String,
    pub unit_org_id: String,
    pub branch: String,
    pub year: i32,
    pub since: i64,
}

/// The register: confirmed, active reports at a community in a year, keyed by report id.
pub async fn register(
    conn: &mut AnyConnection,
    community_id: &str,
    year: i32,
    page: &PageRequest,
) -> Result<Vec<RegisterRow>> {
    let rows = sqlx::query(
        "SELECT r.id, r.member_id, m.name, r.unit_org_id, r.branch, r.year, r.confirmed_at \
         FROM member_reports r JOIN members m ON m.id = r.member_id \
         WHERE r.id > $1 AND r.community_id = $2 AND r.year = $3 AND r.status = 'CONFIRMED' ORDER BY r.id LIMIT $4",
    )
    .bind(&page.after)
    .bind(community_id)
    .bind(i64::from(year))
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(RegisterRow {
                report_id: row.try_get("id")?,
                member_id: row.try_get("member_id")?,
                member_name: row.try_get("name")?,
                unit_org_id: row.try_get("unit_org_id")?,
                branch: row.try_get("branch")?,
                year: int32(row, "year")?,
                since: row.try_get::<Option<i64>, _>("confirmed_at")?.unwrap_or_default(),
            })
        })
        .collect()
}
