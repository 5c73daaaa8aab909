//! The registry's tables, behind plain async functions on a connection.
//!
//! One SQL text serves both backends through `sqlx::Any` (portable SQL,
//! `$n` placeholders); only the DDL in `migrations/{sqlite,postgres}` differs.
//! Every function takes `&mut AnyConnection`, so callers compose them inside
//! one transaction (`&mut *tx`) or on a pooled connection. The conformance
//! suite in `tests/api` runs against both backends.

use dualreport_platform::crypto::Sealed;
use dualreport_platform::paging::PageRequest;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::member::{Category, Gender, MembershipStatus};
use crate::domain::org::{Org, OrgDetails, OrgType};
use crate::domain::report::{
    Assignment, Letter, MemberReport, MemberReportStatus, Receipt, Relocation, RelocationStatus, UnitReport,
    UnitReportStatus,
};
use crate::domain::{Date, RegistryError, Result};

impl From<dualreport_platform::idempotency::IdempotencyError> for RegistryError {
    fn from(error: dualreport_platform::idempotency::IdempotencyError) -> Self {
        use dualreport_platform::idempotency::IdempotencyError as E;
        match error {
            E::Invalid(e) => RegistryError::Invalid(vec![e]),
            E::Reused => RegistryError::RequestIdReused,
            e @ E::Concurrent(_) => RegistryError::Conflict(e.to_string()),
            E::Database(e) => e.into(),
        }
    }
}

impl From<sqlx::Error> for RegistryError {
    fn from(error: sqlx::Error) -> Self {
        RegistryError::Internal(anyhow::Error::new(error).context("database"))
    }
}

/// True when a storage call failed on a unique constraint (a concurrent or
/// repeated write), which callers turn into a domain answer.
pub fn is_unique_violation(error: &RegistryError) -> bool {
    matches!(error, RegistryError::Internal(e)
        if e.downcast_ref::<sqlx::Error>().is_some_and(dualreport_platform::db::is_unique_violation))
}

fn corrupt(what: &str, value: &str) -> RegistryError {
    RegistryError::Internal(anyhow::anyhow!("stored {what} {value:?} is not recognised"))
}

fn int(row: &AnyRow, column: &str) -> Result<i32> {
    let value: i64 = row.try_get(column)?;
    i32::try_from(value).map_err(|_| corrupt(column, &value.to_string()))
}

// ───────────────────────── organisations ─────────────────────────

const ORG_COLUMNS: &str = "id, name, org_type, parent_id, path, district_id, address, postcode, leader, \
    contact_person, contact_phone, in_service_member_count, created_at, updated_at";

fn org_from_row(row: &AnyRow) -> Result<Org> {
    let org_type: String = row.try_get("org_type")?;
    Ok(Org {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        org_type: OrgType::parse(&org_type).ok_or_else(|| corrupt("org type", &org_type))?,
        parent_id: row.try_get("parent_id")?,
        path: row.try_get("path")?,
        district_id: row.try_get("district_id")?,
        details: OrgDetails {
            address: row.try_get("address")?,
            postcode: row.try_get("postcode")?,
            leader: row.try_get("leader")?,
            contact_person: row.try_get("contact_person")?,
            contact_phone: row.try_get("contact_phone")?,
            in_service_member_count: row.try_get("in_service_member_count")?,
        },
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert_org(conn: &mut AnyConnection, org: &Org) -> Result<()> {
    sqlx::query(
        "INSERT INTO organizations (id, name, org_type, parent_id, path, district_id, address, postcode, leader, \
         contact_person, contact_phone, in_service_member_count, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&org.id)
    .bind(&org.name)
    .bind(org.org_type.as_str())
    .bind(&org.parent_id)
    .bind(&org.path)
    .bind(&org.district_id)
    .bind(&org.details.address)
    .bind(&org.details.postcode)
    .bind(&org.details.leader)
    .bind(&org.details.contact_person)
    .bind(&org.details.contact_phone)
    .bind(org.details.in_service_member_count)
    .bind(org.created_at)
    .bind(org.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn org(conn: &mut AnyConnection, id: &str) -> Result<Option<Org>> {
    let row = sqlx::query(&format!("SELECT {ORG_COLUMNS} FROM organizations WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(org_from_row).transpose()
}

/// The org or `NotFound` naming it.
pub async fn require_org(conn: &mut AnyConnection, id: &str) -> Result<Org> {
    org(conn, id)
        .await?
        .ok_or_else(|| RegistryError::not_found("organization", id))
}

#[derive(Debug, Default)]
pub struct OrgFilter<'a> {
    pub parent_id: Option<&'a str>,
    pub org_type: Option<OrgType>,
    pub district_id: Option<&'a str>,
}

pub async fn list_orgs(conn: &mut AnyConnection, filter: &OrgFilter<'_>, page: &PageRequest) -> Result<Vec<Org>> {
    let rows = sqlx::query(&format!(
        "SELECT {ORG_COLUMNS} FROM organizations \
         WHERE id > $1 AND ($2 = '' OR parent_id = $2) AND ($3 = '' OR org_type = $3) \
           AND ($4 = '' OR district_id = $4 OR id = $4) \
         ORDER BY id LIMIT $5"
    ))
    .bind(&page.after)
    .bind(filter.parent_id.unwrap_or(""))
    .bind(filter.org_type.map(OrgType::as_str).unwrap_or(""))
    .bind(filter.district_id.unwrap_or(""))
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter().map(org_from_row).collect()
}

/// Every org inside `path`'s subtree, by name.
pub async fn orgs_under(conn: &mut AnyConnection, path: &str) -> Result<Vec<Org>> {
    let rows = sqlx::query(&format!(
        "SELECT {ORG_COLUMNS} FROM organizations WHERE path LIKE $1 || '%' ORDER BY name, id"
    ))
    .bind(path)
    .fetch_all(conn)
    .await?;
    rows.iter().map(org_from_row).collect()
}

pub async fn update_org(conn: &mut AnyConnection, org: &Org) -> Result<()> {
    sqlx::query(
        "UPDATE organizations SET name = $2, address = $3, postcode = $4, leader = $5, contact_person = $6, \
         contact_phone = $7, in_service_member_count = $8, updated_at = $9 WHERE id = $1",
    )
    .bind(&org.id)
    .bind(&org.name)
    .bind(&org.details.address)
    .bind(&org.details.postcode)
    .bind(&org.details.leader)
    .bind(&org.details.contact_person)
    .bind(&org.details.contact_phone)
    .bind(org.details.in_service_member_count)
    .bind(org.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves `org` (and its subtree) under a new parent: rewrites every path
/// below it and the district of the moved subtree.
pub async fn reparent_org(
    conn: &mut AnyConnection,
    org: &Org,
    new_parent_id: &str,
    new_path: &str,
    new_district: Option<&str>,
) -> Result<()> {
    sqlx::query("UPDATE organizations SET parent_id = $2 WHERE id = $1")
        .bind(&org.id)
        .bind(new_parent_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE organizations SET path = $2 || substr(path, length($1) + 1) WHERE path LIKE $1 || '%'")
        .bind(&org.path)
        .bind(new_path)
        .execute(&mut *conn)
        .await?;
    // Districts themselves keep their id as district; everything else follows the move.
    if org.org_type != OrgType::District {
        sqlx::query("UPDATE organizations SET district_id = $2 WHERE path LIKE $1 || '%' AND org_type <> 'DISTRICT'")
            .bind(new_path)
            .bind(new_district)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

// ───────────────────────── members ─────────────────────────

/// A member as stored: personal information sealed.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub id: String,
    pub unit_org_id: String,
    pub residence_community_id: String,
    pub name: String,
    pub gender: Gender,
    pub birth_year: i32,
    pub education: String,
    pub joined_party_on: Date,
    pub membership_status: MembershipStatus,
    pub category: Category,
    pub employer: String,
    pub position: String,
    pub phone: Sealed,
    pub home_address: Sealed,
    pub skills: Vec<String>,
    pub service_intentions: Vec<String>,
    pub available_time_slots: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const MEMBER_COLUMNS: &str = "id, unit_org_id, residence_community_id, name, gender, birth_year, education, \
    joined_party_on, membership_status, category, employer, position, phone_cipher, phone_key_id, \
    home_address_cipher, home_address_key_id, skills, service_intentions, available_time_slots, created_at, updated_at";

fn json_list(row: &AnyRow, column: &str) -> Result<Vec<String>> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|_| corrupt(column, &text))
}

/// A sealed column pair `<field>_cipher` / `<field>_key_id`.
fn sealed(row: &AnyRow, field: &str) -> Result<Sealed> {
    Ok(Sealed {
        key_id: row.try_get(format!("{field}_key_id").as_str())?,
        bytes: row.try_get(format!("{field}_cipher").as_str())?,
    })
}

/// Sealed personal information of one member, for re-sealing under a new key.
#[derive(Debug, Clone)]
pub struct SealedFields {
    pub id: String,
    pub phone: Sealed,
    pub home_address: Sealed,
}

/// Up to `limit` members after `after_id` (by id) with a field sealed under a
/// key other than `active`: what `reseal` still has to do.
pub async fn sealed_under_other_keys(
    conn: &mut AnyConnection,
    active: &str,
    after_id: &str,
    limit: i64,
) -> Result<Vec<SealedFields>> {
    let rows = sqlx::query(
        "SELECT id, phone_cipher, phone_key_id, home_address_cipher, home_address_key_id FROM members \
         WHERE id > $1 AND (phone_key_id <> $2 OR home_address_key_id <> $2) ORDER BY id LIMIT $3",
    )
    .bind(after_id)
    .bind(active)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SealedFields {
                id: row.try_get("id")?,
                phone: sealed(row, "phone")?,
                home_address: sealed(row, "home_address")?,
            })
        })
        .collect()
}

/// Replaces a member's sealed fields if they are still the ones `old` read
/// (a concurrent update, already sealed under the active key, wins).
pub async fn replace_sealed(conn: &mut AnyConnection, old: &SealedFields, new: &SealedFields) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE members SET phone_cipher = $1, phone_key_id = $2, home_address_cipher = $3, home_address_key_id = $4 \
         WHERE id = $5 AND phone_key_id = $6 AND phone_cipher = $7 AND home_address_key_id = $8 AND home_address_cipher = $9",
    )
    .bind(&new.phone.bytes)
    .bind(&new.phone.key_id)
    .bind(&new.home_address.bytes)
    .bind(&new.home_address.key_id)
    .bind(&old.id)
    .bind(&old.phone.key_id)
    .bind(&old.phone.bytes)
    .bind(&old.home_address.key_id)
    .bind(&old.home_address.bytes)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn member_from_row(row: &AnyRow) -> Result<MemberRow> {
    let gender: String = row.try_get("gender")?;
    let status: String = row.try_get("membership_status")?;
    let category: String = row.try_get("category")?;
    let joined: String = row.try_get("joined_party_on")?;
    Ok(MemberRow {
        id: row.try_get("id")?,
        unit_org_id: row.try_get("unit_org_id")?,
        residence_community_id: row.try_get("residence_community_id")?,
        name: row.try_get("name")?,
        gender: Gender::parse(&gender).ok_or_else(|| corrupt("gender", &gender))?,
        birth_year: int(row, "birth_year")?,
        education: row.try_get("education")?,
        joined_party_on: joined.parse().map_err(|_| corrupt("date", &joined))?,
        membership_status: MembershipStatus::parse(&status).ok_or_else(|| corrupt("membership status", &status))?,
        category: Category::parse(&category).ok_or_else(|| corrupt("category", &category))?,
        employer: row.try_get("employer")?,
        position: row.try_get("position")?,
        phone: sealed(row, "phone")?,
        home_address: sealed(row, "home_address")?,
        skills: json_list(row, "skills")?,
        service_intentions: json_list(row, "service_intentions")?,
        available_time_slots: json_list(row, "available_time_slots")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

pub async fn insert_member(conn: &mut AnyConnection, m: &MemberRow) -> Result<()> {
    insert_members(conn, std::slice::from_ref(m)).await
}

/// Rows per multi-row INSERT: 21 parameters each stays far below both
/// databases' bound-parameter limits (SQLite 32,766; PostgreSQL 65,535).
const INSERT_CHUNK: usize = 500;

/// Inserts many members with one multi-row INSERT per [`INSERT_CHUNK`] rows.
pub async fn insert_members(conn: &mut AnyConnection, rows: &[MemberRow]) -> Result<()> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut sql = format!("INSERT INTO members ({MEMBER_COLUMNS}) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            let base = i * 21;
            sql.push('(');
            for c in 1..=21 {
                if c > 1 {
                    sql.push(',');
                }
                sql.push('$');
                sql.push_str(&(base + c).to_string());
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql);
        for m in chunk {
            query = query
                .bind(&m.id)
                .bind(&m.unit_org_id)
                .bind(&m.residence_community_id)
                .bind(&m.name)
                .bind(m.gender.as_str())
                .bind(i64::from(m.birth_year))
                .bind(&m.education)
                .bind(m.joined_party_on.to_string())
                .bind(m.membership_status.as_str())
                .bind(m.category.as_str())
                .bind(&m.employer)
                .bind(&m.position)
                .bind(&m.phone.bytes)
                .bind(&m.phone.key_id)
                .bind(&m.home_address.bytes)
                .bind(&m.home_address.key_id)
                .bind(json(&m.skills))
                .bind(json(&m.service_intentions))
                .bind(json(&m.available_time_slots))
                .bind(m.created_at)
                .bind(m.updated_at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn update_member(conn: &mut AnyConnection, m: &MemberRow) -> Result<()> {
    sqlx::query(
        "UPDATE members SET residence_community_id = $2, name = $3, gender = $4, birth_year = $5, education = $6, \
         joined_party_on = $7, membership_status = $8, category = $9, employer = $10, position = $11, \
         phone_cipher = $12, phone_key_id = $13, home_address_cipher = $14, home_address_key_id = $15, skills = $16, \
         service_intentions = $17, available_time_slots = $18, updated_at = $19 WHERE id = $1",
    )
    .bind(&m.id)
    .bind(&m.residence_community_id)
    .bind(&m.name)
    .bind(m.gender.as_str())
    .bind(i64::from(m.birth_year))
    .bind(&m.education)
    .bind(m.joined_party_on.to_string())
    .bind(m.membership_status.as_str())
    .bind(m.category.as_str())
    .bind(&m.employer)
    .bind(&m.position)
    .bind(&m.phone.bytes)
    .bind(&m.phone.key_id)
    .bind(&m.home_address.bytes)
    .bind(&m.home_address.key_id)
    .bind(json(&m.skills))
    .bind(json(&m.service_intentions))
    .bind(json(&m.available_time_slots))
    .bind(m.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn member(conn: &mut AnyConnection, id: &str) -> Result<Option<MemberRow>> {
    let row = sqlx::query(&format!("SELECT {MEMBER_COLUMNS} FROM members WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(member_from_row).transpose()
}

pub async fn require_member(conn: &mut AnyConnection, id: &str) -> Result<MemberRow> {
    member(conn, id)
        .await?
        .ok_or_else(|| RegistryError::not_found("member", id))
}

/// Members of units inside `unit_path`, or living in `community_id`.
pub async fn list_members(
    conn: &mut AnyConnection,
    unit_path: Option<&str>,
    community_id: Option<&str>,
    page: &PageRequest,
) -> Result<Vec<MemberRow>> {
    // The subtree's orgs first (a small set), then members by the unit index.
    let rows = sqlx::query(&format!(
        "SELECT {MEMBER_COLUMNS} FROM members \
         WHERE id > $1 AND ($2 = '' OR unit_org_id IN (SELECT id FROM organizations WHERE path LIKE $2 || '%')) \
           AND ($3 = '' OR residence_community_id = $3) \
         ORDER BY id LIMIT $4"
    ))
    .bind(&page.after)
    .bind(unit_path.unwrap_or(""))
    .bind(community_id.unwrap_or(""))
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter().map(member_from_row).collect()
}

// ───────────────────────── personal-information access log ─────────────────────────

#[derive(Debug, Clone)]
pub struct AccessRow {
    pub id: String,
    pub reader_subject: String,
    pub reader_role: String,
    pub member_id: String,
    pub field: String,
    pub accessed_at: i64,
    pub unit_path: String,
    pub community_path: String,
}

pub async fn insert_access(conn: &mut AnyConnection, a: &AccessRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO pii_accesses (id, reader_subject, reader_role, member_id, field, accessed_at, unit_path, \
         community_path) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&a.id)
    .bind(&a.reader_subject)
    .bind(&a.reader_role)
    .bind(&a.member_id)
    .bind(&a.field)
    .bind(a.accessed_at)
    .bind(&a.unit_path)
    .bind(&a.community_path)
    .execute(conn)
    .await?;
    Ok(())
}

/// Accesses to members whose unit or community lies inside `scope_path`.
pub async fn list_accesses(
    conn: &mut AnyConnection,
    scope_path: &str,
    member_id: Option<&str>,
    page: &PageRequest,
) -> Result<Vec<AccessRow>> {
    let rows = sqlx::query(
        "SELECT id, reader_subject, reader_role, member_id, field, accessed_at, unit_path, community_path \
         FROM pii_accesses WHERE id > $1 AND (unit_path LIKE $2 || '%' OR community_path LIKE $2 || '%') \
         AND ($3 = '' OR member_id = $3) ORDER BY id LIMIT $4",
    )
    .bind(&page.after)
    .bind(scope_path)
    .bind(member_id.unwrap_or(""))
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AccessRow {
                id: row.try_get("id")?,
                reader_subject: row.try_get("reader_subject")?,
                reader_role: row.try_get("reader_role")?,
                member_id: row.try_get("member_id")?,
                field: row.try_get("field")?,
                accessed_at: row.try_get("accessed_at")?,
                unit_path: row.try_get("unit_path")?,
                community_path: row.try_get("community_path")?,
            })
        })
        .collect()
}

// ───────────────────────── idempotency and counters ─────────────────────────

/// The next value of a named sequence (receipt and letter numbers). Run it
/// inside the transaction that uses the number: the row lock (PostgreSQL) or
/// the single writer (SQLite) keeps numbers unique and gap-free.
pub async fn next_counter(conn: &mut AnyConnection, name: &str) -> Result<i64> {
    sqlx::query("INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query("UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value")
        .bind(name)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get("value")?)
}

// ───────────────────────── receipts ─────────────────────────

fn receipt_from_row(row: &AnyRow) -> Result<Receipt> {
    Ok(Receipt {
        number: row.try_get("number")?,
        issued_at: row.try_get("issued_at")?,
        year: int(row, "year")?,
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
fn qualified(columns: &str, alias: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The receipt a report row joined (`receipt_number`, `receipt_issued_at`);
/// its other fields are the report's own.
fn joined_receipt(row: &AnyRow, report: (&str, i32, &str, &str, Option<&str>)) -> Result<Option<Receipt>> {
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

// ───────────────────────── unit reports ─────────────────────────

const UNIT_REPORT_COLUMNS: &str = "id, unit_org_id, community_id, year, status, assignment, assigned_by_org_id, \
    org_name, in_service_member_count, address, postcode, leader, contact_person, contact_phone, superior_org_id, \
    resources, suggestions, submitted_at, receipt_number";

/// `SELECT` of a report table (alias `r`) with its receipts; append joins and `WHERE`.
fn select_with_receipt(table: &str, columns: &str) -> String {
    format!(
        "SELECT {}, rc.issued_at AS receipt_issued_at FROM {table} r \
         LEFT JOIN receipts rc ON rc.number = r.receipt_number",
        qualified(columns, "r")
    )
}

fn unit_report_select() -> String {
    select_with_receipt("unit_reports", UNIT_REPORT_COLUMNS)
}

fn unit_report_from_row(row: &AnyRow) -> Result<UnitReport> {
    let status: String = row.try_get("status")?;
    let assignment: String = row.try_get("assignment")?;
    let mut report = UnitReport {
        id: row.try_get("id")?,
        unit_org_id: row.try_get("unit_org_id")?,
        community_id: row.try_get("community_id")?,
        year: int(row, "year")?,
        status: UnitReportStatus::parse(&status).ok_or_else(|| corrupt("unit report status", &status))?,
        assignment: Assignment::parse(&assignment).ok_or_else(|| corrupt("assignment", &assignment))?,
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
    year: i32,
    page: &PageRequest,
) -> Result<Vec<UnitReport>> {
    let rows = sqlx::query(&format!(
        "{} \
         JOIN organizations u ON u.id = r.unit_org_id JOIN organizations c ON c.id = r.community_id \
         WHERE r.id > $1 AND (u.path LIKE $2 || '%' OR c.path LIKE $2 || '%') AND ($3 = 0 OR r.year = $3) \
         ORDER BY r.id LIMIT $4",
        unit_report_select()
    ))
    .bind(&page.after)
    .bind(path)
    .bind(i64::from(year))
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter().map(unit_report_from_row).collect()
}

// ───────────────────────── letters ─────────────────────────

pub async fn insert_letter(conn: &mut AnyConnection, l: &Letter, issued_by: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO letters (id, number, unit_org_id, member_id, community_id, year, issued_at, issued_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&l.id)
    .bind(&l.number)
    .bind(&l.unit_org_id)
    .bind(&l.member_id)
    .bind(&l.community_id)
    .bind(i64::from(l.year))
    .bind(l.issued_at)
    .bind(issued_by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn letter(conn: &mut AnyConnection, id: &str) -> Result<Option<Letter>> {
    let row = sqlx::query(
        "SELECT id, number, unit_org_id, member_id, community_id, year, issued_at FROM letters WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(Letter {
            id: row.try_get("id")?,
            number: row.try_get("number")?,
            unit_org_id: row.try_get("unit_org_id")?,
            member_id: row.try_get("member_id")?,
            community_id: row.try_get("community_id")?,
            year: int(&row, "year")?,
            issued_at: row.try_get("issued_at")?,
        })
    })
    .transpose()
}

// ───────────────────────── member reports ─────────────────────────

const MEMBER_REPORT_COLUMNS: &str = "id, member_id, community_id, year, status, letter_id, unit_org_id, branch, \
    submitted_at, confirmed_at, ended_at, receipt_number, registered_from, registered_until";

fn member_report_select() -> String {
    select_with_receipt("member_reports", MEMBER_REPORT_COLUMNS)
}

fn member_report_from_row(row: &AnyRow) -> Result<MemberReport> {
    let status: String = row.try_get("status")?;
    let mut report = MemberReport {
        id: row.try_get("id")?,
        member_id: row.try_get("member_id")?,
        community_id: row.try_get("community_id")?,
        year: int(row, "year")?,
        status: MemberReportStatus::parse(&status).ok_or_else(|| corrupt("member report status", &status))?,
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
fn stored_date(row: &AnyRow, column: &str) -> Result<Option<Date>> {
    let text: String = row.try_get(column)?;
    if text.is_empty() {
        return Ok(None);
    }
    Date::parse_from_str(&text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| corrupt(column, &text))
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
    year: i32,
    page: &PageRequest,
) -> Result<Vec<MemberReport>> {
    let rows = sqlx::query(&format!(
        "{} \
         JOIN organizations u ON u.id = r.unit_org_id JOIN organizations c ON c.id = r.community_id \
         WHERE r.id > $1 AND ($2 = '' OR r.member_id = $2) \
           AND ($3 = '' OR u.path LIKE $3 || '%' OR c.path LIKE $3 || '%') AND ($4 = 0 OR r.year = $4) \
         ORDER BY r.id LIMIT $5",
        member_report_select()
    ))
    .bind(&page.after)
    .bind(member_id.unwrap_or(""))
    .bind(path.unwrap_or(""))
    .bind(i64::from(year))
    .bind(page.fetch_limit())
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
                year: int(row, "year")?,
                since: row.try_get::<Option<i64>, _>("confirmed_at")?.unwrap_or_default(),
            })
        })
        .collect()
}

// ───────────────────────── relocations ─────────────────────────

const RELOCATION_COLUMNS: &str =
    "id, member_id, from_community_id, to_community_id, reason, declared_at, due_on, status, fulfilled_by_report_id";

fn relocation_from_row(row: &AnyRow) -> Result<Relocation> {
    let due: String = row.try_get("due_on")?;
    let status: String = row.try_get("status")?;
    Ok(Relocation {
        id: row.try_get("id")?,
        member_id: row.try_get("member_id")?,
        from_community_id: row.try_get("from_community_id")?,
        to_community_id: row.try_get("to_community_id")?,
        reason: row.try_get("reason")?,
        declared_at: row.try_get("declared_at")?,
        due_on: due.parse().map_err(|_| corrupt("date", &due))?,
        status: RelocationStatus::parse(&status).ok_or_else(|| corrupt("relocation status", &status))?,
        fulfilled_by_report_id: row.try_get("fulfilled_by_report_id")?,
    })
}

pub async fn insert_relocation(conn: &mut AnyConnection, r: &Relocation) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO relocations ({RELOCATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)"
    ))
    .bind(&r.id)
    .bind(&r.member_id)
    .bind(&r.from_community_id)
    .bind(&r.to_community_id)
    .bind(&r.reason)
    .bind(r.declared_at)
    .bind(r.due_on.to_string())
    .bind(r.status.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn relocation(conn: &mut AnyConnection, id: &str) -> Result<Option<Relocation>> {
    let row = sqlx::query(&format!("SELECT {RELOCATION_COLUMNS} FROM relocations WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(relocation_from_row).transpose()
}

/// Fulfils the member's pending relocations once a report is confirmed.
pub async fn fulfil_relocations(conn: &mut AnyConnection, member_id: &str, report_id: &str) -> Result<()> {
    sqlx::query(
        "UPDATE relocations SET status = 'FULFILLED', fulfilled_by_report_id = $2 WHERE member_id = $1 AND status = 'PENDING'",
    )
    .bind(member_id)
    .bind(report_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Relocations whose member's unit or either community lies inside `path`;
/// `overdue_before` keeps only pending ones due before that date.
pub async fn list_relocations(
    conn: &mut AnyConnection,
    path: &str,
    overdue_before: Option<Date>,
    page: &PageRequest,
) -> Result<Vec<Relocation>> {
    let columns = qualified(RELOCATION_COLUMNS, "r");
    let rows = sqlx::query(&format!(
        "SELECT {columns} FROM relocations r JOIN members m ON m.id = r.member_id \
         JOIN organizations u ON u.id = m.unit_org_id \
         JOIN organizations f ON f.id = r.from_community_id JOIN organizations t ON t.id = r.to_community_id \
         WHERE r.id > $1 AND (u.path LIKE $2 || '%' OR f.path LIKE $2 || '%' OR t.path LIKE $2 || '%') \
           AND ($3 = '' OR (r.status = 'PENDING' AND r.due_on < $3)) ORDER BY r.id LIMIT $4"
    ))
    .bind(&page.after)
    .bind(path)
    .bind(overdue_before.map(|d| d.to_string()).unwrap_or_default())
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter().map(relocation_from_row).collect()
}

// ───────────────────────── statistics ─────────────────────────

pub async fn upsert_non_report_reason(
    conn: &mut AnyConnection,
    member_id: &str,
    year: i32,
    reason: &str,
    recorded_by: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO non_report_reasons (member_id, year, reason, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (member_id, year) DO UPDATE SET reason = excluded.reason, recorded_by = excluded.recorded_by, \
         recorded_at = excluded.recorded_at",
    )
    .bind(member_id)
    .bind(i64::from(year))
    .bind(reason)
    .bind(recorded_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// One in-service member of a unit and whether it reported in the year.
#[derive(Debug, Clone)]
pub struct UnitMemberStatus {
    pub unit_org_id: String,
    pub member_id: String,
    pub name: String,
    pub reported: bool,
    pub reason: Option<String>,
}

/// Per unit inside `path`: (unit id, in-service members, those with a
/// confirmed report in `year`), counted by the database.
pub async fn unit_member_counts_under(
    conn: &mut AnyConnection,
    path: &str,
    year: i32,
) -> Result<Vec<(String, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT m.unit_org_id, COUNT(*) AS registered, \
           SUM(CASE WHEN EXISTS (SELECT 1 FROM member_reports r \
              WHERE r.member_id = m.id AND r.year = $2 AND r.confirmed_at IS NOT NULL) THEN 1 ELSE 0 END) AS reported \
         FROM members m JOIN organizations u ON u.id = m.unit_org_id \
         WHERE u.path LIKE $1 || '%' AND m.category = 'IN_SERVICE' GROUP BY m.unit_org_id",
    )
    .bind(path)
    .bind(i64::from(year))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("unit_org_id")?,
                row.try_get("registered")?,
                row.try_get::<Option<i64>, _>("reported")?.unwrap_or(0),
            ))
        })
        .collect()
}

/// One page of the in-service members inside `path` without a confirmed
/// report in `year`, by member id, with the reason their unit recorded.
pub async fn not_reported_under(
    conn: &mut AnyConnection,
    path: &str,
    year: i32,
    page: &PageRequest,
) -> Result<Vec<UnitMemberStatus>> {
    let rows = sqlx::query(
        "SELECT m.unit_org_id, m.id, m.name, n.reason \
         FROM members m JOIN organizations u ON u.id = m.unit_org_id \
         LEFT JOIN non_report_reasons n ON n.member_id = m.id AND n.year = $2 \
         WHERE u.path LIKE $1 || '%' AND m.category = 'IN_SERVICE' AND m.id > $3 \
           AND NOT EXISTS (SELECT 1 FROM member_reports r \
              WHERE r.member_id = m.id AND r.year = $2 AND r.confirmed_at IS NOT NULL) \
         ORDER BY m.id LIMIT $4",
    )
    .bind(path)
    .bind(i64::from(year))
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(UnitMemberStatus {
                unit_org_id: row.try_get("unit_org_id")?,
                member_id: row.try_get("id")?,
                name: row.try_get("name")?,
                reported: false,
                reason: row.try_get("reason")?,
            })
        })
        .collect()
}

/// Ids of the units inside `path` whose report of `year` was received.
pub async fn units_reported_under(conn: &mut AnyConnection, path: &str, year: i32) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT r.unit_org_id FROM unit_reports r JOIN organizations u ON u.id = r.unit_org_id \
         WHERE u.path LIKE $1 || '%' AND r.year = $2 AND r.status = 'RECEIVED'",
    )
    .bind(path)
    .bind(i64::from(year))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok(row.try_get("unit_org_id")?)).collect()
}

/// Per community inside `path`: (community id, units received, members confirmed) in `year`.
pub async fn community_counts_under(
    conn: &mut AnyConnection,
    path: &str,
    year: i32,
) -> Result<Vec<(String, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT c.id, \
           (SELECT COUNT(*) FROM unit_reports r WHERE r.community_id = c.id AND r.year = $2 \
              AND r.status = 'RECEIVED') AS units, \
           (SELECT COUNT(DISTINCT r.member_id) FROM member_reports r WHERE r.community_id = c.id AND r.year = $2 \
              AND r.confirmed_at IS NOT NULL) AS members \
         FROM organizations c WHERE c.path LIKE $1 || '%' AND c.org_type = 'COMMUNITY'",
    )
    .bind(path)
    .bind(i64::from(year))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("units")?, row.try_get("members")?)))
        .collect()
}

macro_rules! require {
    ($($name:ident => $find:ident : $ty:ty, $what:literal;)+) => {
        $(
            #[doc = concat!("The ", $what, " or `NotFound` naming it.")]
            pub async fn $name(conn: &mut AnyConnection, id: &str) -> Result<$ty> {
                $find(conn, id).await?.ok_or_else(|| RegistryError::not_found($what, id))
            }
        )+
    };
}

require! {
    require_unit_report => unit_report: UnitReport, "unit report";
    require_member_report => member_report: MemberReport, "member report";
    require_letter => letter: Letter, "letter";
    require_relocation => relocation: Relocation, "relocation";
}
