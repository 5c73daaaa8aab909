//! Unit report rows and their conditional state changes.

use super::*;

pub(super) const UNIT_REPORT_COLUMNS: &str = "id, unit_org_id, community_id, year, status, assignment, assigned_by_org_id, \
    org_name, in_service_member_count, address, postcode, leader, contact_person, contact_phone, superior_org_id, \
    resources, suggestions, submitted_at, receipt_number";

/// `SELECT` of a report table (alias `r`) with its receipts; append joins and `WHERE`.
pub(super) fn select_with_receipt(table: &str, columns: &str) -> String {
    format!(
        "SELECT {}, rc.issued_at AS receipt_issued_at FROM {table} r \
         LEFT JOIN receipts rc ON rc.number = r.receipt_number",
        qualified(columns, "r")
    )
}

pub(super) fn unit_report_select() -> String {
    select_with_receipt("unit_reports", UNIT_REPORT_COLUMNS)
}

pub(super) fn unit_report_from_row(row: &AnyRow) -> Result<UnitReport> {
    let status: String = row.try_get("status")?;
    let assignment: String = row.try_get("assignment")?;
    let mut report = UnitReport {
        id: row.try_get("id")?,
        unit_org_id: row.try_get("unit_org_id")?,
        community_id: row.try_get("community_id")?,
        year: int32(row, "year")?,
        status: UnitReportStatus::parse(&status)
            .ok_or_else(|| RegistryError::corrupt("unit report status", &status))?,
        assignment: Assignment::parse(&assignment).ok_or_else(|| RegistryError::corrupt("assignment", &assignment))?,
        assigned_by_org_id: row.try_get("assigned_by_org_id")?,
        org_name: row.try_get("org_name")?,
        details: OrgDetails {
            address: row.try_get("address")?,
            postcode: row.try_get("postcode")?,
            leader: row.try_get("leader")?,
            contact_person: row.try_get("contact_person")?,
            contact_phone: row.try_get("contact_phone")?,
            in_service_member_count: row.try_get("in_service_member_count")?,
        },
        superior_org_id: row.try_get("superior_org_id")?,
        resources: row.try_get("resources")?,
        suggestions: row.try_get("suggestions")?,
        submitted_at: row.try_get("submitted_at")?,
        receipt: None,
    };
    report.receipt = joined_receipt(
        row,
        (&report.id, report.year, &report.community_id, &report.unit_org_id, None),
    )?;
    Ok(report)
}

pub async fn insert_unit_report(conn: &mut AnyConnection, r: &UnitReport) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO unit_reports ({UNIT_REPORT_COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, NULL)"
    ))
    .bind(&r.id)
    .bind(&r.unit_org_id)
    .bind(&r.community_id)
    .bind(i64::from(r.year))
    .bind(r.status.as_str())
    .bind(r.assignment.as_str())
    .bind(&r.assigned_by_org_id)
    .bind(&r.org_name)
    .bind(r.details.in_service_member_count)
    .bind(&r.details.address)
    .bind(&r.details.postcode)
    .bind(&r.details.leader)
    .bind(&r.details.contact_person)
    .bind(&r.details.contact_phone)
    .bind(&r.superior_org_id)
    .bind(&r.resources)
    .bind(&r.suggestions)
    .bind(r.submitted_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn unit_report(conn: &mut AnyConnection, id: &str) -> Result<Option<UnitReport>> {
    let row = sqlx::query(&format!("{} WHERE r.id = $1", unit_report_select()))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(unit_report_from_row).transpose()
}

pub async fn unit_report_of(conn: &mut AnyConnection, unit_org_id: &str, year: i32) -> Result<Option<UnitReport>> {
    let row = sqlx::query(&format!(
        "{} WHERE r.unit_org_id = $1 AND r.year = $2",
        unit_report_select()
    ))
    .bind(unit_org_id)
    .bind(i64::from(year))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(unit_report_from_row).transpose()
}

/// Marks a submitted report received; false when it no longer is submitted.
/// Runs before the receipt is numbered: on PostgreSQL the row lock makes a
/// concurrent second receipt wait here and then find nothing to change.
pub async fn receive_unit_report(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let result = sqlx::query("UPDATE unit_reports SET status = 'RECEIVED' WHERE id = $1 AND status = 'SUBMITTED'")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn attach_unit_receipt(conn: &mut AnyConnection, id: &str, receipt_number: &str) -> Result<()> {
    sqlx::query("UPDATE unit_reports SET receipt_number = $2 WHERE id = $1")
        .bind(id)
        .bind(receipt_number)
        .execute(conn)
        .await?;
    Ok(())
}

/// Reports whose unit or community lies inside `path`.
pub async fn list_unit_reports(
    conn: &mut AnyConnection,
    path: &str,
    filter: &UnitReportFilter,
    page: &PageRequest,
) -> Result<Vec<UnitReport>> {
    let (from, until) = filter.submitted.millis();
    let rows = sqlx::query(&format!(
        "{} \
         JOIN organizations u ON u.id = r.unit_org_id JOIN organizations c ON c.id = r.community_id \
         WHERE r.id > $1 AND (u.path LIKE $2 || '%' OR c.path LIKE $2 || '%') AND ($3 = 0 OR r.year = $3) \
           AND ($5 = '' OR r.status = $5) AND r.submitted_at >= $6 AND r.submitted_at < $7 \
         ORDER BY r.id LIMIT $4",
        unit_report_select()
    ))
    .bind(&page.after)
    .bind(path)
    .bind(i64::from(filter.year))
    .bind(page.fetch_limit())
    .bind(filter.status.map_or("", UnitReportStatus::as_str))
    .bind(from)
    .bind(until)
    .fetch_all(conn)
    .await?;
    rows.iter().map(unit_report_from_row).collect()
}
