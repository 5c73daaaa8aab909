//! Leases for background work that one replica at a time should do (a
//! scheduled round, a delivery loop): a row per lease in the service's
//! `leases (name, holder, until_ms)` table, taken with one conditional upsert,
//! so N replicas on one database agree on a single holder without a lock
//! held across the work.

use sqlx::AnyConnection;

/// A replica's name for itself as a lease holder: unique per process.
pub fn holder_id() -> String {
    crate::ids::new_id()
}

/// Takes (or renews) the lease `name` for `holder` until `now + ttl_ms`;
/// true when `holder` holds it now. Someone else's unexpired lease wins.
pub async fn try_take(
    conn: &mut AnyConnection,
    name: &str,
    holder: &str,
    now: i64,
    ttl_ms: i64,
) -> Result<bool, sqlx::Error> {
    let taken = sqlx::query(
        "INSERT INTO leases (name, holder, until_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms \
         WHERE leases.until_ms <= $4 OR leases.holder = excluded.holder",
    )
    .bind(name)
    .bind(holder)
    .bind(now + ttl_ms)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(taken.rows_affected() == 1)
}

/// Gives up every lease `holder` holds (a replica shutting down), so another
/// replica takes the work at once instead of after the lease's TTL.
pub async fn release_all(conn: &mut AnyConnection, holder: &str) -> Result<u64, sqlx::Error> {
    let released = sqlx::query("DELETE FROM leases WHERE holder = $1")
        .bind(holder)
        .execute(conn)
        .await?;
    Ok(released.rows_affected())
}
