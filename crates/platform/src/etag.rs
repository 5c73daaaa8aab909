//! Etags (AIP-154) so that two admins editing the same record do not
//! overwrite each other silently.
//!
//! A record's etag names its version by its update time, which every update
//! moves forward by at least a millisecond ([`next_update_time`]), so no two
//! versions share one. An update that carries an etag goes ahead only if the
//! record is still at that version ([`check`]), and the write itself is a
//! conditional `UPDATE … WHERE updated_at = <the version read>`, so a
//! concurrent update between the read and the write is refused too
//! (`ABORTED`, reason `CONFLICT`: read the record again and reapply).

use crate::failure::Failure;

/// The etag of a record last updated at `updated_at` (epoch ms). Opaque to
/// callers: compare it, never parse it.
pub fn of(updated_at: i64) -> String {
    format!("\"{updated_at:x}\"")
}

/// The update time of the next version: now, or one past the previous when
/// the clock has not moved on (or went back).
pub fn next_update_time(previous: i64, now: i64) -> i64 {
    now.max(previous.saturating_add(1))
}

/// Refuses `given` (when not empty) unless it is the etag of the record's
/// current version.
pub fn check(what: &str, id: &str, given: &str, updated_at: i64) -> Result<(), Failure> {
    if given.is_empty() || given == of(updated_at) {
        Ok(())
    } else {
        Err(Failure::Conflict(format!(
            "{what} {id} changed since etag {given}; read it again (etag {}) and reapply the change",
            of(updated_at)
        )))
    }
}

/// The refusal of a conditional write that found the record at another version.
pub fn changed_meanwhile(what: &str, id: &str) -> Failure {
    Failure::Conflict(format!(
        "{what} {id} was changed by another call meanwhile; read it again and reapply the change"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_has_its_own_etag_and_a_stale_one_is_refused() {
        assert_eq!(next_update_time(1000, 5000), 5000);
        assert_eq!(
            next_update_time(5000, 5000),
            5001,
            "same millisecond: still a new version"
        );
        assert_eq!(next_update_time(5000, 4000), 5001, "a clock that went back");
        assert_ne!(of(5000), of(5001));
        assert!(check("member", "m1", "", 5000).is_ok(), "no etag: unconditional");
        assert!(check("member", "m1", &of(5000), 5000).is_ok());
        assert!(matches!(
            check("member", "m1", &of(4999), 5000),
            Err(Failure::Conflict(_))
        ));
    }
}
