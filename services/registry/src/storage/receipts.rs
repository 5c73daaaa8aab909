//! Receipts (回执): one per confirmed unit or member report.

use super::*;

pub(super) fn receipt_from_row(row: &AnyRow) -> Result<Receipt> {
    Ok(Receipt {
        number: row.try_get("number")?,
        issued_at: row.try_get("issued_at")?,
        year: int32(row, "year")?,
        community_id: row.try_get("community_id")?,
        unit_org_id: row.try_get("unit_org_id")?,
        member_id: row.try_get("member_id")?,
        report_id: row.try_get("report_id")?,
    })
}

pub async fn insert_receipt(conn: &mut AnyConnection, r: &Receipt) -> Result<()> {
    sqlx::query(
        "INSERT INTO receipts (number, report_id, year, community_id, unit_org_id, member_id, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&r.number)
    .bind(&r.report_id)
    .bind(i64::from(r.year))
    .bind(&r.community_id)
    .bind(&r.unit_org_id)
    .bind(&r.member_id)
    .bind(r.issued_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn receipt(conn: &mut AnyConnection, number: &str) -> Result<Option<Receipt>> {
    let row = sqlx::query(
        "SELECT number, report_id, year, community_id, unit_org_id, member_id, issued_at FROM receipts WHERE number = $1",
    )
    .bind(number)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(receipt_from_row).transpose()
}

/// `a.x, a.y, …` for a column list.
pub(super) fn qualified(columns: &str, alias: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The receipt a report row joined (`receipt_number`, `receipt_issued_at`);
/// its other fields are the report's own.
pub(super) fn joined_receipt(row: &AnyRow, report: (&str, i32, &str, &str, Option<&str>)) -> Result<Option<Receipt>> {
    let number: Option<String> = row.try_get("receipt_number")?;
    let (report_id, year, community_id, unit_org_id, member_id) = report;
    number
        .map(|number| {
            Ok(Receipt {
                number,
                issued_at: row.try_get::<Option<i64>, _>("receipt_issued_at")?.unwrap_or_default(),
                year,
                community_id: community_id.to_owned(),
                unit_org_id: unit_org_id.to_owned(),
                member_id: member_id.map(str::to_owned),
                report_id: report_id.to_owned(),
            })
        })
        .transpose()
}
