//! The registry's tables, behind plain async functions on a connection.
//!
//! One SQL text serves both backends through `sqlx::Any` (portable SQL,
//! `$n` placeholders); only the DDL in `migrations/{sqlite,postgres}` differs.
//! Every function takes `&mut AnyConnection`, so callers compose them inside
//! one transaction (`&mut *tx`) or on a pooled connection. The conformance
//! suite in `tests/api` runs against both backends.

mod access_log;
mod city_orgs;
mod counters;
mod letters;
mod member_reports;
mod members;
mod orgs;
mod receipts;
mod relocations;
mod statistics;
mod unit_reports;

pub use access_log::*;
pub use city_orgs::*;
pub use counters::*;
pub use letters::*;
pub use member_reports::*;
pub use members::*;
pub use orgs::*;
pub use receipts::*;
pub use relocations::*;
pub use statistics::*;
pub use unit_reports::*;

use dualreport_platform::crypto::Sealed;
use dualreport_platform::paging::PageRequest;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::member::{Category, Gender, MembershipStatus};
use crate::domain::org::{Org, OrgDetails, OrgType};
use crate::domain::report::{
    Assignment, Letter, MemberReport, MemberReportFilter, MemberReportStatus, Receipt, Relocation, RelocationFilter,
    RelocationStatus, UnitReport, UnitReportFilter, UnitReportStatus,
};
use crate::domain::{Date, RegistryError, Result};

use dualreport_platform::rows::{int32, list, list_text};
