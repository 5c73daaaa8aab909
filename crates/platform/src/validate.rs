//! Field validation helpers shared by every service's domain types.

use crate::error::FieldError;

/// Collects field errors so one response names every bad field.
#[derive(Debug, Default)]
pub struct Violations(pub Vec<FieldError>);

impl Violations {
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldError::new(field, description));
    }

    /// Keeps the value, or records the error and returns `None`.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A trimmed text of bounded length (characters, not bytes), without control
/// characters; `required` refuses an empty one.
pub fn text(field: &str, value: &str, max_chars: usize, required: bool) -> Result<String, FieldError> {
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

/// An enum field's value, refusing a number the contract does not define
/// (prost keeps unknown values of open enums as plain `i32`s).
pub fn known<E: TryFrom<i32>>(field: &str, value: i32) -> Result<E, FieldError> {
    E::try_from(value).map_err(|_| FieldError::new(field, format!("{value} is not a value of this enum")))
}

/// A district's name in the city tier (`[districts.<name>]`): lower-case
/// ASCII letters, digits and `_`, 1 to 40 of them, since it is part of
/// environment variable names (`DUALREPORT__DISTRICTS__<NAME>__…`).
pub fn district_name(field: &str, value: &str) -> Result<String, FieldError> {
    let valid = !value.is_empty()
        && value.len() <= 40
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "must be a district's name in the city tier: 1 to 40 lower-case letters, digits or '_'",
        ))
    }
}

/// An optional [`id`]: empty stays empty (a filter not given).
pub fn optional_id(field: &str, value: &str) -> Result<String, FieldError> {
    if value.is_empty() {
        Ok(String::new())
    } else {
        id(field, value)
    }
}

/// An id another service issued (registry org and member ids, keys): ASCII
/// letters, digits, `-`, `_`, `:` and `.`, so that it is safe in paths and
/// LIKE patterns.
pub fn id(field: &str, value: &str) -> Result<String, FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.len() > 128 {
        return Err(FieldError::new(field, "must be at most 128 characters"));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
    {
        return Err(FieldError::new(
            field,
            "may contain only ASCII letters, digits, '-', '_', ':' and '.'",
        ));
    }
    Ok(value.to_owned())
}

/// Implements `as_str` (the stored column value) and `parse` (back) for a
/// fieldless enum: `stored_enum!(Kind { A => "a", B => "b" });`.
#[macro_export]
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

#[cfg(test)]
mod tests {
    #[test]
    fn district_names_are_what_an_environment_variable_can_carry() {
        assert!(super::district_name("d", "jinshui_2").is_ok());
        for bad in ["", "Jinshui", "jin-shui", "金水", &"x".repeat(41)] {
            assert!(super::district_name("d", bad).is_err(), "{bad}");
        }
    }
}
