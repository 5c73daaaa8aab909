//! Per-year counters behind letter and receipt numbers.

use super::*;

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
