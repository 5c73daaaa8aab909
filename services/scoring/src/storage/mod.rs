//! Scoring's tables, behind plain async functions on a connection.
//!
//! One SQL text serves both backends through `sqlx::Any` (portable SQL, `$n`
//! placeholders); only the DDL in `migrations/{sqlite,postgres}` differs.
//! Every function takes `&mut AnyConnection`, so the use cases compose them in
//! one transaction. `entries` is only ever inserted into. Caps and balances
//! are enforced by conditional `UPDATE … WHERE <still allowed>` on projection
//! rows, which PostgreSQL re-checks after waiting on the row lock: parallel
//! redemptions can neither overdraw an account nor oversell an item.

mod accounts;
mod board;
mod entries;
mod lines;
mod market;
mod projections;
mod settlements;

pub use accounts::*;
pub use board::*;
pub use entries::*;
pub use lines::*;
pub use market::*;
pub use projections::*;
pub use settlements::*;

use dualreport_platform::paging::PageRequest;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::ledger::{Entry, EntryKind, ProjectScorer, SpecialCategory};
use crate::domain::market::{Item, Redemption, RedemptionStatus};
use crate::domain::period::{Half, Period};
use crate::domain::settlement::{Line, Settlement, SettlementStatus, SettlementsOf};
use crate::domain::{Date, Result, ScoringError, Subject, SubjectKind};

use dualreport_platform::rows::date;

fn period(row: &AnyRow, column: &str) -> Result<Period> {
    let text: String = row.try_get(column)?;
    Period::parse_key(&text).ok_or_else(|| ScoringError::corrupt(column, &text))
}

fn subject(row: &AnyRow) -> Result<Subject> {
    let kind: String = row.try_get("subject_kind")?;
    Ok(Subject {
        kind: SubjectKind::parse(&kind).ok_or_else(|| ScoringError::corrupt("subject_kind", &kind))?,
        id: row.try_get("subject_id")?,
    })
}

/// `'service', 'special', …` for an SQL `IN` list (constants, not input).
fn earning_kinds() -> String {
    EntryKind::EARNING
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}
