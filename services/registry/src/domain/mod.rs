//! The registry's rules (DOMAIN.md step 1, 报到), in plain Rust: no tonic, no SQL.

pub mod member;
pub mod org;
pub mod report;

pub use dualreport_platform::validate::{Violations, text};
/// The policy presets, shared with the other services.
pub use dualreport_policy as policy;
pub use dualreport_policy::{Date, china_today, now_millis};

pub use dualreport_platform::failure::Failure;

/// Everything that can go wrong in the registry. The gRPC layer maps each
/// variant to a status with an exhaustive match.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0}")]
    AlreadyExists(String),
    #[error("moving {0} there would make a cycle in the organisation tree")]
    TreeCycle(String),
    #[error("{0}")]
    InvalidParent(String),
    #[error("{0}")]
    OutsideWindow(String),
    #[error("{0}")]
    LetterRequired(String),
    #[error("the member is already registered at community {0}")]
    SameCommunity(String),
    /// The org is the city's reference data, read-only here.
    #[error("org {0} belongs to the city (a municipal unit copied from the city tier): change it at the city tier")]
    CityOwned(String),
    /// The failures every service shares (invalid, not found, out of scope,
    /// wrong state, conflict, reused request id, storage and internal faults).
    #[error(transparent)]
    Common(#[from] Failure),
}

dualreport_platform::service_error!(RegistryError);

pub type Result<T, E = RegistryError> = std::result::Result<T, E>;
