//! Keyset paging for `List*` RPCs (AIP-158): `page_size` (0 → default, capped)
//! and an opaque `page_token` holding the last id of the previous page.

use base64::Engine as _;

use crate::error::FieldError;

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 500;

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

    /// Trims the extra row and returns the next page token ("" at the end).
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> &str) -> (Vec<T>, String) {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        if rows.len() > size {
            rows.truncate(size);
            let token = rows.last().map(|row| self.token_for(key(row))).unwrap_or_default();
            (rows, token)
        } else {
            (rows, String::new())
        }
    }
}
