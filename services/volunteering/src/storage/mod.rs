//! Volunteering's tables, behind plain async functions on a connection.
//!
//! One SQL text serves both backends through `sqlx::Any` (portable SQL, `$n`
//! placeholders); only the DDL in `migrations/{sqlite,postgres}` differs.
//! Every function takes `&mut AnyConnection`, so the use cases compose them in
//! one transaction. Limits that concurrent calls race for — posts claimed per
//! member and year, places in an activity, the state of an order or a wish or
//! an attendance — are enforced by conditional `UPDATE … WHERE <still
//! allowed>`, which PostgreSQL re-checks after waiting on the row lock.

mod activities;
mod agreements;
mod attendance;
mod certificates;
mod evidence;
mod households;
mod orders;
mod outbox;
mod pledges;
mod posts;
mod records;
mod teams_studios;
mod unit_records;
mod wishes;

pub use activities::*;
pub use agreements::*;
pub use attendance::*;
pub use certificates::*;
pub use evidence::*;
pub use households::*;
pub use orders::*;
pub use outbox::*;
pub use pledges::*;
pub use posts::*;
pub use records::*;
pub use teams_studios::*;
pub use unit_records::*;
pub use wishes::*;

use dualreport_platform::filter::DateWindow;
use dualreport_platform::paging::{PageRequest, compound_key};
use dualreport_platform::rows::{date, flag, int32, list, list_text, opt_date, parsed};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::model::*;
use crate::domain::{Result, VolunteeringError};

/// One page of rows matching `key` ($1) in `year` ($2), after the page's
/// cursor ($3), at most its fetch limit ($4): the keyset page every
/// per-member, per-unit and per-community yearly list reads.
async fn year_page<T>(
    conn: &mut AnyConnection,
    sql: &str,
    key: &str,
    year: i32,
    page: &PageRequest,
    decode: fn(&AnyRow) -> Result<T>,
) -> Result<Vec<T>> {
    sqlx::query(sql)
        .bind(key)
        .bind(i64::from(year))
        .bind(&page.after)
        .bind(page.fetch_limit())
        .fetch_all(conn)
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// `$first, $first+1, …` for `n` values bound one by one (an `IN` list).
pub(crate) fn marks(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of a table whose records move through stages at a community
/// (`orders`, `wishes`): at any of `communities`, in `status` (empty: any),
/// created in `created`, by id.
async fn staged_rows<T>(
    conn: &mut AnyConnection,
    table: &str,
    communities: &[String],
    status: &str,
    created: &DateWindow,
    page: &PageRequest,
    decode: fn(&AnyRow) -> Result<T>,
) -> Result<Vec<T>> {
    if communities.is_empty() {
        return Ok(Vec::new());
    }
    let (from, until) = created.millis();
    let sql = format!(
        "SELECT * FROM {table} WHERE community_id IN ({}) AND ($1 = '' OR status = $1) \
         AND created_at >= $4 AND created_at < $5 AND id > $2 ORDER BY id LIMIT $3",
        marks(6, communities.len())
    );
    let mut query = sqlx::query(&sql)
        .bind(status)
        .bind(&page.after)
        .bind(page.fetch_limit())
        .bind(from)
        .bind(until);
    for id in communities {
        query = query.bind(id);
    }
    query.fetch_all(conn).await?.iter().map(decode).collect()
}
