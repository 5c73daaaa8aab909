//! The one retry policy of the suite's background deliveries: volunteering's
//! payment outbox, feedback's score corrections and its webhook all wait
//! [`Backoff::after`] a failed try, and retry only what [`is_retryable`].

/// Exponential backoff: `initial_ms` after the first failure, doubling with
/// each further one, never more than `max_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    initial_ms: i64,
    max_ms: i64,
}

impl Backoff {
    /// Both bounds at least 1 ms, and `max_ms` at least `initial_ms`.
    pub fn new(initial_ms: i64, max_ms: i64) -> Self {
        let initial_ms = initial_ms.max(1);
        Self {
            initial_ms,
            max_ms: max_ms.max(initial_ms),
        }
    }

    /// From settings kept as unsigned milliseconds.
    pub fn from_unsigned(initial_ms: u64, max_ms: u64) -> Self {
        let signed = |ms: u64| i64::try_from(ms).unwrap_or(i64::MAX);
        Self::new(signed(initial_ms), signed(max_ms))
    }

    /// The wait after `failures` failed tries in a row (1 or more; 0 counts as 1).
    pub fn after(&self, failures: i64) -> i64 {
        let doublings = u32::try_from((failures - 1).clamp(0, 40)).unwrap_or(40);
        self.initial_ms
            .checked_mul(1_i64 << doublings)
            .map_or(self.max_ms, |ms| ms.min(self.max_ms))
    }

    /// [`Self::after`] as a `Duration`.
    pub fn duration_after(&self, failures: i64) -> std::time::Duration {
        std::time::Duration::from_millis(u64::try_from(self.after(failures)).unwrap_or(0))
    }
}

/// True when a peer's answer says "not now" rather than "no": it was out of
/// reach, overloaded, cut off or failed inside. A refusal (invalid, not
/// found, permission, precondition) is final and is not retried.
pub fn is_retryable(code: tonic::Code) -> bool {
    use tonic::Code;
    matches!(
        code,
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Unknown
            | Code::Internal
            | Code::Aborted
            | Code::ResourceExhausted
            | Code::Cancelled
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_the_first_failure_up_to_the_bound() {
        let b = Backoff::new(1000, 60_000);
        assert_eq!(
            [b.after(0), b.after(1), b.after(2), b.after(3)],
            [1000, 1000, 2000, 4000]
        );
        assert_eq!(b.after(7), 60_000);
        assert_eq!(b.after(i64::MAX), 60_000, "no overflow however long it fails");
        assert_eq!(Backoff::new(0, 0).after(5), 1, "bounds are at least 1 ms");
        assert_eq!(Backoff::new(500, 100).after(3), 500, "max is at least initial");
    }

    #[test]
    fn refusals_are_final_and_outages_are_retried() {
        assert!(is_retryable(tonic::Code::Unavailable));
        assert!(is_retryable(tonic::Code::DeadlineExceeded));
        assert!(!is_retryable(tonic::Code::InvalidArgument));
        assert!(!is_retryable(tonic::Code::FailedPrecondition));
        assert!(!is_retryable(tonic::Code::PermissionDenied));
    }
}
