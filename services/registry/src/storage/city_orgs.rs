//! City-owned orgs (municipal units and their orgs, copied from the city
//! tier by `city_sync`) and the sync's cursor.

use super::*;

/// Inserts or refreshes a city-owned org from the city's change `sequence`;
/// false when this registry holds that change or a later one already (a
/// replay), or when the id is a district's own org (never overwritten).
pub async fn upsert_city_org(conn: &mut AnyConnection, org: &Org, sequence: i64) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO organizations (id, name, org_type, parent_id, path, district_id, address, postcode, leader, \
         contact_person, contact_phone, in_service_member_count, created_at, updated_at, owner, city_sequence) \
         VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, $8, $9, $10, $11, $12, $13, 'city', $14) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, address = excluded.address, \
         postcode = excluded.postcode, leader = excluded.leader, contact_person = excluded.contact_person, \
         contact_phone = excluded.contact_phone, in_service_member_count = excluded.in_service_member_count, \
         updated_at = excluded.updated_at, city_sequence = excluded.city_sequence \
         WHERE organizations.owner = 'city' AND organizations.city_sequence < excluded.city_sequence",
    )
    .bind(&org.id)
    .bind(&org.name)
    .bind(org.org_type.as_str())
    .bind(&org.parent_id)
    .bind(&org.path)
    .bind(&org.details.address)
    .bind(&org.details.postcode)
    .bind(&org.details.leader)
    .bind(&org.details.contact_person)
    .bind(&org.details.contact_phone)
    .bind(org.details.in_service_member_count)
    .bind(org.created_at)
    .bind(org.updated_at)
    .bind(sequence)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The last city change applied, and when the sync last reached the city's end.
pub async fn city_sync_cursor(conn: &mut AnyConnection) -> Result<(i64, i64)> {
    let row = sqlx::query("SELECT after_sequence, synced_at FROM city_sync WHERE id = 'city'")
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(r) => (r.try_get("after_sequence")?, r.try_get("synced_at")?),
        None => (0, 0),
    })
}

/// Moves the cursor from `from` to `to` (false: another replica moved it first).
pub async fn advance_city_sync(conn: &mut AnyConnection, from: i64, to: i64, now: i64) -> Result<bool> {
    sqlx::query(
        "INSERT INTO city_sync (id, after_sequence, synced_at) VALUES ('city', 0, 0) ON CONFLICT (id) DO NOTHING",
    )
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query(
        "UPDATE city_sync SET after_sequence = $2, synced_at = $3 WHERE id = 'city' AND after_sequence = $1",
    )
    .bind(from)
    .bind(to)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
