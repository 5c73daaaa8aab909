//! Organisation rows: the tree by materialised path, subtree listings and the city root.

use super::*;

pub(super) const ORG_COLUMNS: &str = "id, name, org_type, parent_id, path, district_id, address, postcode, leader, \
    contact_person, contact_phone, in_service_member_count, created_at, updated_at, owner";

pub(super) fn org_from_row(row: &AnyRow) -> Result<Org> {
    let org_type: String = row.try_get("org_type")?;
    Ok(Org {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        org_type: OrgType::parse(&org_type).ok_or_else(|| RegistryError::corrupt("org type", &org_type))?,
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
        city_owned: row.try_get::<String, _>("owner")? == "city",
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

/// Writes `org` over the version last updated at `previous` (see
/// `platform::etag`); false when another update came first.
pub async fn update_org(conn: &mut AnyConnection, org: &Org, previous: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE organizations SET name = $2, address = $3, postcode = $4, leader = $5, contact_person = $6, \
         contact_phone = $7, in_service_member_count = $8, updated_at = $9 WHERE id = $1 AND updated_at = $10",
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
    .bind(previous)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
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
