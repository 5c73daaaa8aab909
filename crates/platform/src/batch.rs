//! Batch RPCs: a bounded list of items, each done exactly as its single-item
//! RPC would be (the same checks, its own `request_id`, its own transaction),
//! answered with one result per item in the order asked. A refused item is
//! reported as an [`ItemError`](pb::ItemError) and does not stop the others.

use dualreport_proto::common::v1 as pb;
use tonic::Status;
use tonic_types::StatusExt as _;

/// The most items one batch call takes.
pub const MAX_ITEMS: usize = 200;

/// `INVALID_ARGUMENT` naming `field` unless it holds 1 to [`MAX_ITEMS`] items.
pub fn check_size(field: &str, items: usize) -> Result<(), Status> {
    if (1..=MAX_ITEMS).contains(&items) {
        Ok(())
    } else {
        Err(crate::error::invalid_field(
            field,
            format!("must hold 1 to {MAX_ITEMS} items; {items} were given"),
        ))
    }
}

/// Runs `one` on each item of `field` in order (after [`check_size`]) and
/// answers one `result(outcome)` per item: the item's value, or its
/// [`item_error`].
pub async fn each<I, T, R, Fut>(
    field: &str,
    items: Vec<I>,
    mut one: impl FnMut(I) -> Fut,
    result: impl Fn(Result<T, pb::ItemError>) -> R,
) -> Result<Vec<R>, Status>
where
    Fut: std::future::Future<Output = Result<T, Status>>,
{
    check_size(field, items.len())?;
    let mut results = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let outcome = one(item).await.map_err(|status| item_error(field, i, &status));
        results.push(result(outcome));
    }
    Ok(results)
}

/// An item's outcome as the two optional fields of its result message
/// (`pb::XResult { x, error }`).
pub fn split<T>(outcome: Result<T, pb::ItemError>) -> (Option<T>, Option<pb::ItemError>) {
    match outcome {
        Ok(value) => (Some(value), None),
        Err(error) => (None, Some(error)),
    }
}

/// Item `index` of `field` refused with `status`, as its result reports it:
/// the code, the `ErrorInfo` reason, the message, and for `INVALID_ARGUMENT`
/// each bad field with the item's path (`requests[3].adjustment`).
pub fn item_error(field: &str, index: usize, status: &Status) -> pb::ItemError {
    let details = status.get_error_details();
    let reason = details
        .error_info()
        .and_then(|info| pb::ErrorReason::from_str_name(&info.reason))
        .unwrap_or(pb::ErrorReason::Unspecified);
    let fields = details
        .bad_request()
        .map(|bad| {
            bad.field_violations
                .iter()
                .map(|v| format!("{field}[{index}].{}", v.field))
                .collect()
        })
        .unwrap_or_default();
    pb::ItemError {
        code: status.code() as i32,
        reason: reason as i32,
        message: status.message().to_owned(),
        fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_item_keeps_its_code_reason_and_fields_with_its_path() {
        let status = crate::error::invalid_field("adjustment", "must be between -2 and 2");
        let e = item_error("requests", 3, &status);
        assert_eq!(e.code, tonic::Code::InvalidArgument as i32);
        assert_eq!(e.reason, pb::ErrorReason::InvalidField as i32);
        assert_eq!(e.fields, ["requests[3].adjustment"]);
        assert!(check_size("requests", 0).is_err());
        assert!(check_size("requests", MAX_ITEMS + 1).is_err());
        assert!(check_size("requests", MAX_ITEMS).is_ok());
    }
}
