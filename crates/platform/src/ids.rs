//! Ids the services mint: UUIDv7, so ids sort by creation time and index
//! well as primary keys.

/// A new id for a row this service creates.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
