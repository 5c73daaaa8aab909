//! Feedback's SQL: portable queries over `sqlx::Any` (placeholders `$1…`),
//! one function per read or write. Subtree reads compare a stored org path's
//! prefix (`substr(path, 1, length($1)) = $1`), never `LIKE` (ids may hold `_`).

mod comments;
mod feed;
mod notices;
mod objections;
mod ratings;
mod spot_checks;
mod warnings;
mod webhook;

pub use comments::*;
pub use feed::*;
pub use notices::*;
pub use objections::*;
pub use ratings::*;
pub use spot_checks::*;
pub use warnings::*;
pub use webhook::*;

use dualreport_platform::journal::lock_appends;
use dualreport_platform::paging::PageRequest;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use crate::domain::model::*;
use crate::domain::warnings::{Finding, Rule};
use crate::domain::{FeedbackError, Period, Result};

use dualreport_platform::rows::{int32, list, list_text};

fn int(row: &AnyRow, column: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(column)?)
}
