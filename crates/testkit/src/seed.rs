//! Straight-SQL seeds for the size tests and `make bench`: history that
//! would take minutes to record call by call (everything *measured* still
//! goes through gRPC). One copy, so the scale test and the bench seed the
//! same shape.

use sqlx::Connection as _;

/// A half-year of service entries at one community, written into scoring's
/// database (either backend, by URL).
pub struct HalfYearOfService<'a> {
    pub community_id: &'a str,
    /// The period key, e.g. `2026H1`.
    pub period: &'a str,
    /// The day every entry is dated (`YYYY-MM-DD`).
    pub served_on: &'a str,
    /// Members `m0` … `m<members - 1>`, each with an account named `成员<i>`.
    pub members: i64,
    /// Entries per member: member `m<i>` gets this many, each worth
    /// `i mod 40` points, so its total is `entries_per_member × (i mod 40)`.
    pub entries_per_member: i64,
}

impl HalfYearOfService<'_> {
    /// Writes the accounts and the entries; panics on a database error (a
    /// seed that cannot be written is a broken test setup).
    pub async fn write(&self, database_url: &str) {
        let mut conn = sqlx::AnyConnection::connect(database_url)
            .await
            .expect("connect to scoring's database");
        sqlx::query(
            "WITH RECURSIVE s (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $2 - 1) \
             INSERT INTO accounts (subject_kind, subject_id, community_id, subject_name, earned, redeemed) \
             SELECT 'member', 'm' || i, $1, '成员' || i, $3 * (i % 40), 0 FROM s",
        )
        .bind(self.community_id)
        .bind(self.members)
        .bind(self.entries_per_member)
        .execute(&mut conn)
        .await
        .expect("seed accounts");
        sqlx::query(
            "WITH RECURSIVE s (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $2 - 1) \
             INSERT INTO entries (id, subject_kind, subject_id, community_id, kind, points, occurred_on, period, \
               content, source_key, recorded_by, recorded_at, base_points, adjustment, special_category, \
               project_id, project_scorer, corrects_entry_id, redemption_id) \
             SELECT 'e' || i, 'member', 'm' || (i % $5), $1, 'service', (i % $5) % 40, $3, $4, '社区服务', \
               'seed:' || i, 'seed', 0, (i % $5) % 40, 0, '', '', '', NULL, '' FROM s",
        )
        .bind(self.community_id)
        .bind(self.members * self.entries_per_member)
        .bind(self.served_on)
        .bind(self.period)
        .bind(self.members)
        .execute(&mut conn)
        .await
        .expect("seed entries");
    }
}
