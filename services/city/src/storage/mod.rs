//! The city's tables, behind plain async functions on a connection (one SQL
//! text for both backends through `sqlx::Any`; only the DDL in
//! `migrations/{sqlite,postgres}` differs), one file per area.
//!
//! Ingest is exactly-once by construction: the facts of one read and the
//! cursor that passes them commit in one transaction, the cursor moves only
//! from the value the batch was read after ([`advance`]), and every fact is
//! unique on `(district, source, source_sequence)`, so a replayed fact is a
//! no-op and a replica that lost its lease cannot move the cursor back.

mod board;
mod ingest;
mod reference;
mod relocations;
mod roster;
mod warnings;

pub use board::*;
pub use ingest::*;
pub use reference::*;
pub use relocations::*;
pub use roster::*;
pub use warnings::*;

use dualreport_platform::journal::lock_appends;
use dualreport_platform::rows::{int32, list, list_text, parsed};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use crate::domain::{
    BoardLine, CityRelocation, CityWarning, Cursor, Event, MunicipalOrg, OrgDetails, Period, PublishedSettlement,
    RelocationStatus, Result, SubjectKind,
};
