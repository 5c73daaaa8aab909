//! Reference data: the municipal orgs and their change sequence.

use super::*;

const ORG_COLUMNS: &str = "id, sequence, name, org_type, parent_id, path, address, postcode, leader, contact_person, \
     contact_phone, in_service_member_count, created_at, updated_at";

fn municipal_org_from_row(r: &AnyRow) -> Result<MunicipalOrg> {
    Ok(MunicipalOrg {
        id: r.try_get("id")?,
        sequence: r.try_get("sequence")?,
        name: r.try_get("name")?,
        org_type: r.try_get("org_type")?,
        parent_id: r.try_get("parent_id")?,
        path: r.try_get("path")?,
        details: OrgDetails {
            address: r.try_get("address")?,
            postcode: r.try_get("postcode")?,
            leader: r.try_get("leader")?,
            contact_person: r.try_get("contact_person")?,
            contact_phone: r.try_get("contact_phone")?,
            in_service_member_count: r.try_get("in_service_member_count")?,
        },
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The next reference-journal sequence, in the caller's transaction. Writers
/// are serialised (PostgreSQL: an advisory lock to the end of the
/// transaction; SQLite has one writer), so sequences commit in order and a
/// district that has read up to *n* never later finds a change below *n*.
pub async fn next_reference_sequence(conn: &mut AnyConnection) -> Result<i64> {
    lock_appends(conn).await?;
    let row = sqlx::query("SELECT CAST(COALESCE(MAX(sequence), 0) + 1 AS BIGINT) AS next FROM municipal_orgs")
        .fetch_one(conn)
        .await?;
    Ok(row.try_get("next")?)
}

pub async fn insert_municipal_org(conn: &mut AnyConnection, o: &MunicipalOrg) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO municipal_orgs ({ORG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(&o.id)
    .bind(o.sequence)
    .bind(&o.name)
    .bind(&o.org_type)
    .bind(&o.parent_id)
    .bind(&o.path)
    .bind(&o.details.address)
    .bind(&o.details.postcode)
    .bind(&o.details.leader)
    .bind(&o.details.contact_person)
    .bind(&o.details.contact_phone)
    .bind(o.details.in_service_member_count)
    .bind(o.created_at)
    .bind(o.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes `o` (a new version: its sequence and update time) over the
/// version last updated at `was_updated_at`; false when another edit came first.
pub async fn update_municipal_org(conn: &mut AnyConnection, o: &MunicipalOrg, was_updated_at: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE municipal_orgs SET sequence = $2, name = $3, address = $4, postcode = $5, leader = $6, \
         contact_person = $7, contact_phone = $8, in_service_member_count = $9, updated_at = $10 \
         WHERE id = $1 AND updated_at = $11",
    )
    .bind(&o.id)
    .bind(o.sequence)
    .bind(&o.name)
    .bind(&o.details.address)
    .bind(&o.details.postcode)
    .bind(&o.details.leader)
    .bind(&o.details.contact_person)
    .bind(&o.details.contact_phone)
    .bind(o.details.in_service_member_count)
    .bind(o.updated_at)
    .bind(was_updated_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn municipal_org(conn: &mut AnyConnection, id: &str) -> Result<Option<MunicipalOrg>> {
    let row = sqlx::query(&format!("SELECT {ORG_COLUMNS} FROM municipal_orgs WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(municipal_org_from_row).transpose()
}

/// Municipal orgs by id after `after`.
pub async fn municipal_orgs(pool: &AnyPool, after: &str, limit: i64) -> Result<Vec<MunicipalOrg>> {
    let rows = sqlx::query(&format!(
        "SELECT {ORG_COLUMNS} FROM municipal_orgs WHERE id > $1 ORDER BY id LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(municipal_org_from_row).collect()
}

/// Municipal orgs changed after sequence `after`, in change order.
pub async fn reference_changes(pool: &AnyPool, after: i64, limit: i64) -> Result<Vec<MunicipalOrg>> {
    let rows = sqlx::query(&format!(
        "SELECT {ORG_COLUMNS} FROM municipal_orgs WHERE sequence > $1 ORDER BY sequence LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(municipal_org_from_row).collect()
}
