//! 在职党员 — members and their report-card profile (报到登记卡, S4 附录B.1).

use dualreport_platform::error::FieldError;
use dualreport_platform::stored_enum;

use super::{Date, Violations, text};

/// The standard skill list (S4 附录B.1 特长); nothing else is accepted.
pub const STANDARD_SKILLS: [&str; 23] = [
    "写作",
    "主持",
    "外语",
    "教育",
    "曲艺",
    "舞蹈",
    "音乐",
    "美术",
    "雕刻",
    "园艺",
    "烹饪",
    "摄影",
    "财会",
    "礼仪",
    "法律",
    "家电维修",
    "医疗保健",
    "电脑操作",
    "心理辅导",
    "扶贫帮困",
    "便民服务",
    "养老托幼",
    "体育健身",
];
/// "Other" (其它) is also on the form.
pub const OTHER_SKILL: &str = "其它";

/// At least this many service intentions (服务意向).
pub const MIN_INTENTIONS: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
}

/// 在职 / 退休 / 流动.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    InService,
    Retired,
    Floating,
}

/// 正式 / 预备.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipStatus {
    Full,
    Probationary,
}

stored_enum!(Gender { Male => "MALE", Female => "FEMALE" });
stored_enum!(Category { InService => "IN_SERVICE", Retired => "RETIRED", Floating => "FLOATING" });
stored_enum!(MembershipStatus { Full => "FULL", Probationary => "PROBATIONARY" });

/// A member profile, validated: every field the forms need and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub gender: Gender,
    pub birth_year: i32,
    pub education: String,
    pub joined_party_on: Date,
    pub membership_status: MembershipStatus,
    pub category: Category,
    pub employer: String,
    pub position: String,
    pub unit_org_id: String,
    /// Personal information (encrypted at rest).
    pub home_address: String,
    pub residence_community_id: String,
    /// Personal information (encrypted at rest).
    pub phone: String,
    pub skills: Vec<String>,
    pub service_intentions: Vec<String>,
    pub available_time_slots: Vec<String>,
}

/// The profile fields an `update_mask` may name; [`Profile`] and
/// [`ProfileDraft`] share the names, so one list serves both.
macro_rules! set_profile_field {
    ($ty:ty) => {
        impl $ty {
            /// Copies one field, named as in an `update_mask`, from `from`;
            /// false when `path` names no profile field.
            pub fn set_field(&mut self, path: &str, from: &$ty) -> bool {
                match path {
                    "name" => self.name = from.name.clone(),
                    "gender" => self.gender = from.gender,
                    "birth_year" => self.birth_year = from.birth_year,
                    "education" => self.education = from.education.clone(),
                    "joined_party_on" => self.joined_party_on = from.joined_party_on,
                    "membership_status" => self.membership_status = from.membership_status,
                    "category" => self.category = from.category,
                    "employer" => self.employer = from.employer.clone(),
                    "position" => self.position = from.position.clone(),
                    "home_address" => self.home_address = from.home_address.clone(),
                    "residence_community_id" => self.residence_community_id = from.residence_community_id.clone(),
                    "phone" => self.phone = from.phone.clone(),
                    "skills" => self.skills = from.skills.clone(),
                    "service_intentions" => self.service_intentions = from.service_intentions.clone(),
                    "available_time_slots" => self.available_time_slots = from.available_time_slots.clone(),
                    _ => return false,
                }
                true
            }
        }
    };
}

set_profile_field!(Profile);
set_profile_field!(ProfileDraft);

/// A profile as the caller sent it; enums already decoded (None = unspecified).
#[derive(Debug, Clone, Default)]
pub struct ProfileDraft {
    pub name: String,
    pub gender: Option<Gender>,
    pub birth_year: i32,
    pub education: String,
    pub joined_party_on: Option<(i32, u32, u32)>,
    pub membership_status: Option<MembershipStatus>,
    pub category: Option<Category>,
    pub employer: String,
    pub position: String,
    pub unit_org_id: String,
    pub home_address: String,
    pub residence_community_id: String,
    pub phone: String,
    pub skills: Vec<String>,
    pub service_intentions: Vec<String>,
    pub available_time_slots: Vec<String>,
}

/// Member names: 1–50 characters.
pub const MAX_NAME_CHARS: usize = 50;

impl ProfileDraft {
    /// Validates every field, naming each bad one, relative to `prefix`
    /// (e.g. `profile`).
    pub fn validate(&self, prefix: &str, this_year: i32) -> Result<Profile, Vec<FieldError>> {
        let mut v = Violations::default();
        let f = |name: &str| format!("{prefix}.{name}");
        let name = v.check(text(&f("name"), &self.name, MAX_NAME_CHARS, true));
        if self.gender.is_none() {
            v.add(f("gender"), "must be specified");
        }
        if !(1900..=this_year).contains(&self.birth_year) {
            v.add(f("birth_year"), format!("must be between 1900 and {this_year}"));
        }
        let education = v.check(text(&f("education"), &self.education, 30, false));
        let joined = match self.joined_party_on {
            Some((y, m, d)) => match Date::from_ymd_opt(y, m, d) {
                Some(date) if date.year() <= this_year && y >= self.birth_year => Some(date),
                _ => {
                    v.add(
                        f("joined_party_on"),
                        "must be a real date after birth and not in the future",
                    );
                    None
                }
            },
            None => {
                v.add(f("joined_party_on"), "must be given");
                None
            }
        };
        if self.membership_status.is_none() {
            v.add(f("membership_status"), "must be specified");
        }
        if self.category.is_none() {
            v.add(f("category"), "must be specified");
        }
        let employer = v.check(text(&f("employer"), &self.employer, 100, false));
        let position = v.check(text(&f("position"), &self.position, 50, false));
        if self.unit_org_id.trim().is_empty() {
            v.add(f("unit_org_id"), "must not be empty");
        }
        let home_address = v.check(text(&f("home_address"), &self.home_address, 200, true));
        if self.residence_community_id.trim().is_empty() {
            v.add(f("residence_community_id"), "must not be empty");
        }
        let phone = self.phone.trim();
        if !is_valid_phone(phone) {
            v.add(
                f("phone"),
                "must be a mainland mobile (11 digits) or a landline like 0371-12345678",
            );
        }
        let mut skills = Vec::new();
        for (i, skill) in self.skills.iter().enumerate() {
            let skill = skill.trim();
            if skill == OTHER_SKILL || STANDARD_SKILLS.contains(&skill) {
                if !skills.iter().any(|s| s == skill) {
                    skills.push(skill.to_owned());
                }
            } else {
                v.add(
                    format!("{prefix}.skills[{i}]"),
                    format!("unknown skill {skill:?}: use one of the standard list"),
                );
            }
        }
        let mut intentions = Vec::new();
        for (i, intention) in self.service_intentions.iter().enumerate() {
            if let Some(t) = v.check(text(&format!("{prefix}.service_intentions[{i}]"), intention, 50, true))
                && !intentions.contains(&t)
            {
                intentions.push(t);
            }
        }
        if intentions.len() < MIN_INTENTIONS {
            v.add(
                f("service_intentions"),
                format!("at least {MIN_INTENTIONS} different service intentions are needed"),
            );
        }
        let mut slots = Vec::new();
        if self.available_time_slots.len() > 20 {
            v.add(f("available_time_slots"), "at most 20 time slots");
        }
        for (i, slot) in self.available_time_slots.iter().enumerate() {
            if let Some(t) = v.check(text(&format!("{prefix}.available_time_slots[{i}]"), slot, 30, true)) {
                slots.push(t);
            }
        }
        if !v.0.is_empty() {
            return Err(v.0);
        }
        // Every Option below is Some: a None added a violation above.
        match (
            name,
            self.gender,
            education,
            joined,
            self.membership_status,
            self.category,
            employer,
            position,
            home_address,
        ) {
            (
                Some(name),
                Some(gender),
                Some(education),
                Some(joined_party_on),
                Some(membership_status),
                Some(category),
                Some(employer),
                Some(position),
                Some(home_address),
            ) => Ok(Profile {
                name,
                gender,
                birth_year: self.birth_year,
                education,
                joined_party_on,
                membership_status,
                category,
                employer,
                position,
                unit_org_id: self.unit_org_id.trim().to_owned(),
                home_address,
                residence_community_id: self.residence_community_id.trim().to_owned(),
                phone: phone.to_owned(),
                skills,
                service_intentions: intentions,
                available_time_slots: slots,
            }),
            _ => Err(vec![FieldError::new(prefix, "incomplete profile")]),
        }
    }
}

use chrono::Datelike as _;

/// Mainland mobile `1[3-9]xxxxxxxxx` or landline `0` + area code + number,
/// with an optional dash.
pub fn is_valid_phone(phone: &str) -> bool {
    let digits: String = phone.chars().filter(|c| *c != '-').collect();
    let dashes = phone.chars().filter(|c| *c == '-').count();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || dashes > 1 {
        return false;
    }
    let b = digits.as_bytes();
    let mobile = dashes == 0 && b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
    let landline = b.len() >= 10 && b.len() <= 12 && b[0] == b'0' && b.get(1).is_some_and(|d| *d != b'0');
    mobile || landline
}

/// `13812345678` → `138****5678`; other lengths keep the first 3 and last 2.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() == 11 {
        format!(
            "{}****{}",
            chars[..3].iter().collect::<String>(),
            chars[7..].iter().collect::<String>()
        )
    } else if chars.len() > 5 {
        format!(
            "{}****{}",
            chars[..3].iter().collect::<String>(),
            chars[chars.len() - 2..].iter().collect::<String>()
        )
    } else {
        "****".to_owned()
    }
}

/// Keeps the first six characters (province and city, usually) and hides the rest.
pub fn mask_address(address: &str) -> String {
    let head: String = address.chars().take(6).collect();
    format!("{head}****")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert!(is_valid_phone("13812345678"));
        assert!(is_valid_phone("0371-12345678"));
        assert!(is_valid_phone("037112345678"));
        assert!(!is_valid_phone("12812345678"));
        assert!(!is_valid_phone("1381234567"));
        assert!(!is_valid_phone("138-1234-5678"));
        assert!(!is_valid_phone("phone"));
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_address("河南省郑州市金水区花园路1号"), "河南省郑州市****");
    }
}
