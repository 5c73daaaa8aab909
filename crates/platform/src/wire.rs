//! Small conversions every gRPC layer needs: instants, calendar dates and
//! page requests between their wire and Rust forms.

use dualreport_proto::common::v1::Date as PbDate;
use tonic::Status;

use crate::error::invalid_fields;
use crate::paging::PageRequest;

/// Unix milliseconds → `google.protobuf.Timestamp`.
pub fn timestamp(millis: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: millis.div_euclid(1000),
        nanos: i32::try_from(millis.rem_euclid(1000) * 1_000_000).unwrap_or_default(),
    }
}

/// `google.protobuf.Timestamp` → Unix milliseconds (saturating; for a
/// peer's answer, not for validating a caller's field).
pub fn millis_of(ts: &prost_types::Timestamp) -> i64 {
    ts.seconds
        .saturating_mul(1000)
        .saturating_add(i64::from(ts.nanos) / 1_000_000)
}

pub fn opt_timestamp(millis: Option<i64>) -> Option<prost_types::Timestamp> {
    millis.map(timestamp)
}

pub fn date_to_pb(date: chrono::NaiveDate) -> PbDate {
    use chrono::Datelike as _;
    PbDate {
        year: date.year(),
        month: i32::try_from(date.month()).unwrap_or_default(),
        day: i32::try_from(date.day()).unwrap_or_default(),
    }
}

/// `None` when the fields do not make a calendar date.
pub fn date_from_pb(d: &PbDate) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(d.year, u32::try_from(d.month).ok()?, u32::try_from(d.day).ok()?)
}

/// `page_size` and `page_token`, or `INVALID_ARGUMENT` naming the bad one.
pub fn page(size: i32, token: &str) -> Result<PageRequest, Status> {
    PageRequest::parse(size, token).map_err(|e| invalid_fields(&[e]))
}
