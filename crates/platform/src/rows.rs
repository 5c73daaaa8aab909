//! Reading and writing the column shapes every service stores, once: a value
//! that does not parse is [`StorageError::Corrupt`] naming the column, never
//! a silent default.

use dualreport_policy::Date;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::failure::StorageError;

type Result<T> = std::result::Result<T, StorageError>;

/// A calendar day stored as `YYYY-MM-DD`.
pub fn date(row: &AnyRow, column: &str) -> Result<Date> {
    let text: String = row.try_get(column)?;
    Date::parse_from_str(&text, "%Y-%m-%d").map_err(|_| StorageError::corrupt(column, &text))
}

/// A calendar day that may be missing (NULL).
pub fn opt_date(row: &AnyRow, column: &str) -> Result<Option<Date>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| Date::parse_from_str(&t, "%Y-%m-%d").map_err(|_| StorageError::corrupt(column, &t)))
        .transpose()
}

/// An integer column read as `i32` (years, small counts); out of range is corrupt.
pub fn int32(row: &AnyRow, column: &str) -> Result<i32> {
    let value: i64 = row.try_get(column)?;
    i32::try_from(value).map_err(|_| StorageError::corrupt(column, value))
}

/// A text column parsed by `parse` (a stored enum, a period key).
pub fn parsed<T>(row: &AnyRow, column: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| StorageError::corrupt(column, &text))
}

/// A list of strings (ids, skills) as stored: a JSON array.
pub fn list_text(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

/// A list stored by [`list_text`].
pub fn list(row: &AnyRow, column: &str) -> Result<Vec<String>> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|_| StorageError::corrupt(column, &text))
}

/// A boolean as stored (0 or 1; the schema's type on both backends).
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}
