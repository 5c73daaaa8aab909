//! The volunteering rules (DOMAIN.md steps 2–4, 认岗 · 承诺 · 践诺), in plain
//! Rust: no tonic, no SQL.

pub mod activity;
pub mod attendance;
pub mod evidence;
pub mod model;
pub mod order;
pub mod record;

pub use dualreport_platform::validate::{Violations, id, text};
pub use dualreport_policy::{Date, china_date, china_today, now_millis};

use dualreport_directory::DirectoryError;
use dualreport_platform::error::FieldError;
pub use dualreport_platform::failure::Failure;

/// Everything that can go wrong in volunteering. The gRPC layer maps each
/// variant to a status with an exhaustive match.
#[derive(Debug, thiserror::Error)]
pub enum VolunteeringError {
    /// The member has no confirmed report at that community for that year.
    #[error("{0}")]
    NotRegistered(String),
    /// The unit org and the community are not a joint-building pair that year.
    #[error("{0}")]
    NotPaired(String),
    /// An order already accepted, a wish already claimed.
    #[error("{0}")]
    AlreadyTaken(String),
    #[error("{0}")]
    CapacityFull(String),
    #[error("{0}")]
    ActivityFinished(String),
    #[error("{0}")]
    CodeExpired(String),
    /// Beyond the policy's bound (posts claimed per year).
    #[error("{0}")]
    OutOfBounds(String),
    /// A request list longer or shorter than the policy allows (households).
    #[error("{0}")]
    CountOutOfBounds(FieldError),
    #[error("{0}")]
    AlreadyExists(String),
    /// A dependency (the registry, the blob store) did not answer.
    #[error("{0}")]
    Unavailable(String),
    /// The failures every service shares (invalid, not found, out of scope,
    /// wrong state, conflict, reused request id, storage and internal faults).
    #[error(transparent)]
    Common(#[from] Failure),
}

dualreport_platform::service_error!(VolunteeringError);

impl From<DirectoryError> for VolunteeringError {
    fn from(error: DirectoryError) -> Self {
        match error {
            DirectoryError::NotFound { what, id } => Self::Common(Failure::NotFound { what, id }),
            DirectoryError::OutOfScope(message) => Self::out_of_scope(message),
            DirectoryError::Unavailable(message) => Self::Unavailable(message),
            DirectoryError::Storage(error) => Self::Common(Failure::Storage(error)),
            DirectoryError::Internal(error) => Self::internal(error),
        }
    }
}

pub type Result<T, E = VolunteeringError> = std::result::Result<T, E>;

/// The S2 standard post catalogue (备选志愿服务岗位目录): 14 posts and 其他.
/// Every community starts with it.
pub const STANDARD_POSTS: [(&str, &str); 15] = [
    ("党建工作指导岗", "指导社区党建工作"),
    ("政策法规宣传岗", "宣传党的方针政策和法律法规"),
    ("文明新风践行岗", "倡导文明新风"),
    ("环境卫生保洁岗", "清洁家园，美化环境"),
    ("垃圾分类督导岗", "督导居民垃圾分类"),
    ("扶贫帮困助残岗", "帮扶困难群众和残疾人"),
    ("学生关怀服务岗", "关爱青少年学生"),
    ("医疗卫生服务岗", "义诊、健康咨询"),
    ("科普知识宣传岗", "普及科学知识"),
    ("文体活动服务岗", "组织文体活动"),
    ("法律援助服务岗", "提供法律咨询和援助"),
    ("民情收集反馈岗", "收集反馈社情民意"),
    ("民事纠纷调解岗", "调解邻里纠纷"),
    ("代理承办服务岗", "代办便民事项"),
    ("其他", "社区根据需要设置的其他岗位"),
];

/// Minutes of one service: 1 minute to a day.
pub fn minutes(field: &str, value: i32) -> Result<i64, FieldError> {
    if !(1..=1440).contains(&value) {
        return Err(FieldError::new(field, "must be between 1 and 1440 minutes"));
    }
    Ok(i64::from(value))
}

/// A year a claim, pledge or agreement is for: this year or the next (plans
/// are made ahead), or an earlier one back to 2000 (records are corrected).
pub fn year(field: &str, value: i32, today: Date) -> Result<i32, FieldError> {
    let this = chrono::Datelike::year(&today);
    if value < 2000 || value > this + 1 {
        return Err(FieldError::new(field, format!("must be between 2000 and {}", this + 1)));
    }
    Ok(value)
}

/// A list of short texts (pledge items, resources, needs, studio services):
/// each trimmed and non-empty, at most `max` of them.
pub fn text_list(
    field: &str,
    values: &[String],
    max_items: usize,
    max_chars: usize,
) -> Result<Vec<String>, FieldError> {
    if values.len() > max_items {
        return Err(FieldError::new(field, format!("must have at most {max_items} entries")));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, value)| text(&format!("{field}[{i}]"), value, max_chars, true))
        .collect()
}

/// Evidence ids attached to a record: at most 20 distinct ids.
pub fn evidence_ids(field: &str, values: &[String], required: bool) -> Result<Vec<String>, FieldError> {
    if required && values.is_empty() {
        return Err(FieldError::new(
            field,
            "must name at least one evidence (upload it first)",
        ));
    }
    if values.len() > 20 {
        return Err(FieldError::new(field, "must have at most 20 entries"));
    }
    let mut ids = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let value = id(&format!("{field}[{i}]"), value)?;
        if !ids.contains(&value) {
            ids.push(value);
        }
    }
    Ok(ids)
}

/// A check-in code: six digits, random.
pub fn new_check_in_code() -> String {
    use rand::Rng as _;
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000))
}

/// Compares a presented code with the current one in constant time.
pub fn code_matches(presented: &str, current: &str) -> bool {
    presented.len() == current.len()
        && presented
            .bytes()
            .zip(current.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_fourteen_posts_and_other() {
        assert_eq!(STANDARD_POSTS.len(), 15);
        assert_eq!(STANDARD_POSTS[14].0, "其他");
    }

    #[test]
    fn codes_are_six_digits_and_compare_exactly() {
        let code = new_check_in_code();
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        assert!(code_matches(&code, &code));
        assert!(!code_matches("000000", "000001"));
        assert!(!code_matches("00000", "000000"));
    }

    #[test]
    fn minutes_and_years_are_bounded() {
        assert!(minutes("minutes", 0).is_err());
        assert!(minutes("minutes", 1441).is_err());
        assert_eq!(minutes("minutes", 90).ok(), Some(90));
        let today = Date::from_ymd_opt(2026, 11, 21).expect("date");
        assert!(year("year", 2027, today).is_ok());
        assert!(year("year", 2028, today).is_err());
        assert!(year("year", 1999, today).is_err());
    }

    #[test]
    fn china_dates_are_utc_plus_eight() {
        // 2026-06-30T17:00:00Z is already 1 July in Beijing.
        let millis = chrono::DateTime::parse_from_rfc3339("2026-06-30T17:00:00Z")
            .expect("time")
            .timestamp_millis();
        assert_eq!(china_date(millis), Date::from_ymd_opt(2026, 7, 1).expect("date"));
    }

    #[test]
    fn evidence_lists_are_deduplicated_and_required_when_asked() {
        assert!(evidence_ids("evidence_ids", &[], true).is_err());
        let ids = evidence_ids("evidence_ids", &["a".into(), "a".into(), "b".into()], true).expect("ids");
        assert_eq!(ids, vec!["a".to_owned(), "b".to_owned()]);
    }
}
