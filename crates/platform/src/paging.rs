//! Keyset paging for `List*` RPCs (AIP-158): `page_size` (0 → default, capped)
//! and an opaque `page_token` holding the last id of the previous page.

use base64::Engine as _;

use crate::error::FieldError;

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 500;

/// Joins the fields of a row's sort key (`standard`, `created_at`, `id`, …)
/// into one page-token key; [`PageRequest::after_fields`] splits it again.
pub fn compound_key(fields: &[&str]) -> String {
    fields.join(KEY_SEPARATOR)
}

const KEY_SEPARATOR: &str = "\u{1f}";

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub size: i64,
    /// Return rows whose key is greater than this.
    pub after: String,
}

impl PageRequest {
    pub fn parse(page_size: i32, page_token: &str) -> Result<Self, FieldError> {
        let size = match i64::from(page_size) {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => return Err(FieldError::new("page_size", "must not be negative")),
            n => n.min(MAX_PAGE_SIZE),
        };
        let after = if page_token.is_empty() {
            String::new()
        } else {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(page_token)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| FieldError::new("page_token", "is not a token this service issued"))?
        };
        Ok(Self { size, after })
    }

    /// Rows to fetch: one more than the page, to know whether another follows.
    pub fn fetch_limit(&self) -> i64 {
        self.size + 1
    }

    /// The opaque token of a page that continues after `key`.
    pub fn token_for(&self, key: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
    }

    /// The previous page's last key as the `n` fields of a [`compound_key`]
    /// (a list sorted by more than its id); `None` on the first page.
    pub fn after_fields(&self, n: usize) -> Result<Option<Vec<String>>, FieldError> {
        if self.after.is_empty() {
            return Ok(None);
        }
        let fields: Vec<String> = self.after.split(KEY_SEPARATOR).map(str::to_owned).collect();
        if fields.len() != n {
            return Err(FieldError::new("page_token", "is not a token of this list"));
        }
        Ok(Some(fields))
    }

    /// [`Self::after_fields`] with field `i` read as a number.
    pub fn after_number(fields: &[String], i: usize) -> Result<i64, FieldError> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| FieldError::new("page_token", "is not a token of this list"))
    }

    /// [`Self::finish`] for a list keyed by more than its id ([`compound_key`]).
    pub fn finish_by<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> (Vec<T>, String) {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        if rows.len() > size {
            rows.truncate(size);
            let token = rows.last().map(|row| self.token_for(&key(row))).unwrap_or_default();
            (rows, token)
        } else {
            (rows, String::new())
        }
    }

    /// Trims the extra row and returns the next page token ("" at the end).
    pub fn finish<T>(&self, rows: Vec<T>, key: impl Fn(&T) -> &str) -> (Vec<T>, String) {
        self.finish_by(rows, |row| key(row).to_owned())
    }
}
