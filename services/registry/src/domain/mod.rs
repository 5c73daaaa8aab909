//! The registry's rules (DOMAIN.md step 1, 报到), in plain Rust: no tonic, no SQL.

/// Stored enums: `as_str` for the column, `parse` back.
macro_rules! stored_enum {
    ($ty:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }
            pub fn parse(value: &str) -> Option<Self> {
                match value { $($name => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

pub mod member;
pub mod org;
pub mod policy;
pub mod report;

use dualreport_platform::error::FieldError;

/// Everything that can go wrong in the registry. The gRPC layer maps each
/// variant to a status with an exhaustive match.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("invalid request: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    OutOfScope(String),
    #[error("moving {0} there would make a cycle in the organisation tree")]
    TreeCycle(String),
    #[error("{0}")]
    InvalidParent(String),
    #[error("{0}")]
    OutsideWindow(String),
    #[error("{0}")]
    WrongState(String),
    #[error("{0}")]
    LetterRequired(String),
    #[error("the member is already registered at community {0}")]
    SameCommunity(String),
    /// A concurrent call changed the object first; retrying reads the outcome.
    #[error("{0}")]
    Conflict(String),
    #[error("request_id was already used for a different operation")]
    RequestIdReused,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl RegistryError {
    pub fn invalid(field: &str, description: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, description)])
    }

    pub fn not_found(what: &'static str, id: &str) -> Self {
        Self::NotFound {
            what,
            id: id.to_owned(),
        }
    }

    pub fn out_of_scope(what: impl Into<String>) -> Self {
        Self::OutOfScope(what.into())
    }
}

pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// Collects field errors so one response names every bad field.
#[derive(Debug, Default)]
pub struct Violations(pub Vec<FieldError>);

impl Violations {
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldError::new(field, description));
    }

    pub fn check<T>(&mut self, result: std::result::Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }
}

/// A validated non-empty text of bounded length (characters, not bytes).
pub fn text(field: &str, value: &str, max_chars: usize, required: bool) -> std::result::Result<String, FieldError> {
    let trimmed = value.trim();
    if required && trimmed.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(FieldError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// A calendar date (China Standard Time).
pub type Date = chrono::NaiveDate;

/// China Standard Time, in which reporting windows and deadlines are read.
pub fn china_today() -> Date {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    chrono::Utc::now().with_timezone(&offset).date_naive()
}

/// Milliseconds since the Unix epoch, the stored form of instants.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
