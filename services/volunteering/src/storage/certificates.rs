//! Service-hours certificates (志愿服务证明): a member's confirmed services at
//! a community, the numbers handed out, and what each certificate printed.

use super::*;

/// Each confirmed service's minutes, with its activity's start and end (Unix milliseconds).
pub async fn member_service_minutes(
    conn: &mut AnyConnection,
    community_id: &str,
    member_id: &str,
    (first, last): (&str, &str),
) -> Result<Vec<(i64, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT a.minutes, act.start_at, act.end_at FROM attendance a JOIN activities act ON act.id = a.activity_id \
         WHERE a.member_id = $1 AND a.community_id = $2 AND a.status = 'confirmed' \
         AND a.served_on >= $3 AND a.served_on <= $4",
    )
    .bind(member_id)
    .bind(community_id)
    .bind(first)
    .bind(last)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("minutes")?, r.try_get("start_at")?, r.try_get("end_at")?)))
        .collect()
}

/// The next certificate number of `year` (1, 2, …): one conditional update
/// per number, so concurrent issuers never share one.
pub async fn next_certificate_number(conn: &mut AnyConnection, year: i32) -> Result<i64> {
    sqlx::query("INSERT INTO certificate_counters (year, next_number) VALUES ($1, 1) ON CONFLICT (year) DO NOTHING")
        .bind(year)
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query(
        "UPDATE certificate_counters SET next_number = next_number + 1 WHERE year = $1 RETURNING next_number - 1 AS taken",
    )
    .bind(year)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("taken")?)
}

/// An issued certificate as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRow {
    pub number: String,
    pub community_id: String,
    pub community_name: String,
    pub member_id: String,
    pub member_name: String,
    pub first_day: String,
    pub last_day: String,
    pub services: i64,
    pub hundredths: i64,
    pub issued_by: String,
    pub issued_on: String,
    pub issued_at: i64,
}

pub async fn insert_certificate(conn: &mut AnyConnection, c: &CertificateRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO service_certificates (number, community_id, community_name, member_id, member_name, first_day, \
         last_day, services, hundredths, issued_by, issued_on, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&c.number)
    .bind(&c.community_id)
    .bind(&c.community_name)
    .bind(&c.member_id)
    .bind(&c.member_name)
    .bind(&c.first_day)
    .bind(&c.last_day)
    .bind(c.services)
    .bind(c.hundredths)
    .bind(&c.issued_by)
    .bind(&c.issued_on)
    .bind(c.issued_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_certificate(conn: &mut AnyConnection, number: &str) -> Result<Option<CertificateRow>> {
    let row = sqlx::query(
        "SELECT number, community_id, community_name, member_id, member_name, first_day, last_day, services, \
         hundredths, issued_by, issued_on, issued_at FROM service_certificates WHERE number = $1",
    )
    .bind(number)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(CertificateRow {
            number: r.try_get("number")?,
            community_id: r.try_get("community_id")?,
            community_name: r.try_get("community_name")?,
            member_id: r.try_get("member_id")?,
            member_name: r.try_get("member_name")?,
            first_day: r.try_get("first_day")?,
            last_day: r.try_get("last_day")?,
            services: r.try_get("services")?,
            hundredths: r.try_get("hundredths")?,
            issued_by: r.try_get("issued_by")?,
            issued_on: r.try_get("issued_on")?,
            issued_at: r.try_get("issued_at")?,
        })
    })
    .transpose()
}
