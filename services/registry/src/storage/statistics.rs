//! Report statistics counted in SQL, per unit and per community.

use super::*;

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

/// The lines of a statistics page: units or communities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsSection {
    Units,
    Communities,
}

impl StatsSection {
    /// The section's tag in a page token.
    pub fn tag(self) -> &'static str {
        match self {
            StatsSection::Units => "u",
            StatsSection::Communities => "c",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Self> {
        [StatsSection::Units, StatsSection::Communities]
            .into_iter()
            .find(|s| s.tag() == tag)
    }
}

/// The ids of one page of orgs, `after` (exclusive) through `last`: the
/// counts of a page are restricted to it.
#[derive(Debug, Clone, Copy)]
pub struct IdRange<'a> {
    pub after: &'a str,
    pub last: &'a str,
}

/// Up to `limit` units (or communities) inside `path` after the id `after`, by id.
pub async fn stats_orgs_under(
    conn: &mut AnyConnection,
    path: &str,
    section: StatsSection,
    after: &str,
    limit: i64,
) -> Result<Vec<Org>> {
    let kind = match section {
        StatsSection::Units => "org_type NOT IN ('CITY', 'DISTRICT', 'STREET', 'COMMUNITY', 'SERVICE_CENTER')",
        StatsSection::Communities => "org_type = 'COMMUNITY'",
    };
    let rows = sqlx::query(&format!(
        "SELECT {ORG_COLUMNS} FROM organizations WHERE path LIKE $1 || '%' AND {kind} AND id > $2 \
         ORDER BY id LIMIT $3"
    ))
    .bind(path)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(org_from_row).collect()
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
    ids: &IdRange<'_>,
) -> Result<Vec<(String, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT m.unit_org_id, COUNT(*) AS registered, \
           SUM(CASE WHEN EXISTS (SELECT 1 FROM member_reports r \
              WHERE r.member_id = m.id AND r.year = $2 AND r.confirmed_at IS NOT NULL) THEN 1 ELSE 0 END) AS reported \
         FROM members m JOIN organizations u ON u.id = m.unit_org_id \
         WHERE u.path LIKE $1 || '%' AND m.category = 'IN_SERVICE' \
           AND m.unit_org_id > $3 AND m.unit_org_id <= $4 GROUP BY m.unit_org_id",
    )
    .bind(path)
    .bind(i64::from(year))
    .bind(ids.after)
    .bind(ids.last)
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
pub async fn units_reported_under(
    conn: &mut AnyConnection,
    path: &str,
    year: i32,
    ids: &IdRange<'_>,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT r.unit_org_id FROM unit_reports r JOIN organizations u ON u.id = r.unit_org_id \
         WHERE u.path LIKE $1 || '%' AND r.year = $2 AND r.status = 'RECEIVED' \
           AND r.unit_org_id > $3 AND r.unit_org_id <= $4",
    )
    .bind(path)
    .bind(i64::from(year))
    .bind(ids.after)
    .bind(ids.last)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok(row.try_get("unit_org_id")?)).collect()
}

/// Per community inside `path`: (community id, units received, members confirmed) in `year`.
pub async fn community_counts_under(
    conn: &mut AnyConnection,
    path: &str,
    year: i32,
    ids: &IdRange<'_>,
) -> Result<Vec<(String, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT c.id, \
           (SELECT COUNT(*) FROM unit_reports r WHERE r.community_id = c.id AND r.year = $2 \
              AND r.status = 'RECEIVED') AS units, \
           (SELECT COUNT(DISTINCT r.member_id) FROM member_reports r WHERE r.community_id = c.id AND r.year = $2 \
              AND r.confirmed_at IS NOT NULL) AS members \
         FROM organizations c WHERE c.path LIKE $1 || '%' AND c.org_type = 'COMMUNITY' \
           AND c.id > $3 AND c.id <= $4",
    )
    .bind(path)
    .bind(i64::from(year))
    .bind(ids.after)
    .bind(ids.last)
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
