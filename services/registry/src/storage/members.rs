//! Member rows: sealed personal-information columns, multi-row imports and keyset listings.

use super::*;

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

pub(super) const MEMBER_COLUMNS: &str = "id, unit_org_id, residence_community_id, name, gender, birth_year, education, \
    joined_party_on, membership_status, category, employer, position, phone_cipher, phone_key_id, \
    home_address_cipher, home_address_key_id, skills, service_intentions, available_time_slots, created_at, updated_at";

/// A sealed column pair `<field>_cipher` / `<field>_key_id`.
pub(super) fn sealed(row: &AnyRow, field: &str) -> Result<Sealed> {
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

pub(super) fn member_from_row(row: &AnyRow) -> Result<MemberRow> {
    let gender: String = row.try_get("gender")?;
    let status: String = row.try_get("membership_status")?;
    let category: String = row.try_get("category")?;
    let joined: String = row.try_get("joined_party_on")?;
    Ok(MemberRow {
        id: row.try_get("id")?,
        unit_org_id: row.try_get("unit_org_id")?,
        residence_community_id: row.try_get("residence_community_id")?,
        name: row.try_get("name")?,
        gender: Gender::parse(&gender).ok_or_else(|| RegistryError::corrupt("gender", &gender))?,
        birth_year: int32(row, "birth_year")?,
        education: row.try_get("education")?,
        joined_party_on: joined.parse().map_err(|_| RegistryError::corrupt("date", &joined))?,
        membership_status: MembershipStatus::parse(&status)
            .ok_or_else(|| RegistryError::corrupt("membership status", &status))?,
        category: Category::parse(&category).ok_or_else(|| RegistryError::corrupt("category", &category))?,
        employer: row.try_get("employer")?,
        position: row.try_get("position")?,
        phone: sealed(row, "phone")?,
        home_address: sealed(row, "home_address")?,
        skills: list(row, "skills")?,
        service_intentions: list(row, "service_intentions")?,
        available_time_slots: list(row, "available_time_slots")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert_member(conn: &mut AnyConnection, m: &MemberRow) -> Result<()> {
    insert_members(conn, std::slice::from_ref(m)).await
}

/// Rows per multi-row INSERT: 21 parameters each stays far below both
/// databases' bound-parameter limits (SQLite 32,766; PostgreSQL 65,535).
pub(super) const INSERT_CHUNK: usize = 500;

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
            query = bind_profile(query.bind(&m.id).bind(&m.unit_org_id), m)
                .bind(m.created_at)
                .bind(m.updated_at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

type MemberQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds a member's profile columns, `residence_community_id` through
/// `available_time_slots`, in the order both the INSERT and the UPDATE name them.
fn bind_profile<'q>(query: MemberQuery<'q>, m: &'q MemberRow) -> MemberQuery<'q> {
    query
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
        .bind(list_text(&m.skills))
        .bind(list_text(&m.service_intentions))
        .bind(list_text(&m.available_time_slots))
}

/// Writes `m` over the version last updated at `previous` (see
/// `platform::etag`); false when another update came first.
pub async fn update_member(conn: &mut AnyConnection, m: &MemberRow, previous: i64) -> Result<bool> {
    let query = sqlx::query(
        "UPDATE members SET residence_community_id = $2, name = $3, gender = $4, birth_year = $5, education = $6, \
         joined_party_on = $7, membership_status = $8, category = $9, employer = $10, position = $11, \
         phone_cipher = $12, phone_key_id = $13, home_address_cipher = $14, home_address_key_id = $15, skills = $16, \
         service_intentions = $17, available_time_slots = $18, updated_at = $19 WHERE id = $1 AND updated_at = $20",
    )
    .bind(&m.id);
    let done = bind_profile(query, m)
        .bind(m.updated_at)
        .bind(previous)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
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
