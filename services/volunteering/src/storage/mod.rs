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
mod evidence;
mod households;
mod orders;
mod outbox;
mod pledges;
mod posts;
mod teams_studios;
mod unit_records;
mod wishes;

pub use activities::*;
pub use agreements::*;
pub use attendance::*;
pub use evidence::*;
pub use households::*;
pub use orders::*;
pub use outbox::*;
pub use pledges::*;
pub use posts::*;
pub use teams_studios::*;
pub use unit_records::*;
pub use wishes::*;

use dualreport_platform::paging::PageRequest;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::model::*;
use crate::domain::{Date, Result, VolunteeringError};

fn date(row: &AnyRow, column: &str) -> Result<Date> {
    let text: String = row.try_get(column)?;
    Date::parse_from_str(&text, "%Y-%m-%d").map_err(|_| VolunteeringError::corrupt(column, &text))
}

fn opt_date(row: &AnyRow, column: &str) -> Result<Option<Date>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| Date::parse_from_str(&t, "%Y-%m-%d").map_err(|_| VolunteeringError::corrupt(column, &t)))
        .transpose()
}

fn year(row: &AnyRow) -> Result<i32> {
    let year: i64 = row.try_get("year")?;
    i32::try_from(year).map_err(|_| VolunteeringError::corrupt("year", year))
}

/// A JSON array of strings, as stored.
pub fn json(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

fn list(row: &AnyRow, column: &str) -> Result<Vec<String>> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|_| VolunteeringError::corrupt(column, &text))
}

fn parsed<T>(row: &AnyRow, column: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| VolunteeringError::corrupt(column, &text))
}

fn flag(value: bool) -> i64 {
    i64::from(value)
}
