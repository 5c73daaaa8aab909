//! The policy on the wire (`dualreport.registry.v1.Policy`): one conversion
//! each way, for the registry's `GetPolicy` and the city tier's check that
//! every district runs the city's policy.

use dualreport_proto::registry::v1 as pb;

use crate::{Policy, PolicySettings, Window};

fn window(w: Window) -> pb::Window {
    pb::Window {
        start: Window::format(w.start),
        end: Window::format(w.end),
    }
}

/// The effective policy as the API shows it.
pub fn to_pb(p: &Policy) -> pb::Policy {
    let n = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    pb::Policy {
        preset: p.preset.to_owned(),
        unit_report_window: Some(window(p.unit_report_window)),
        member_report_window: Some(window(p.member_report_window)),
        letter_required: p.letter_required,
        relocation_days: n(p.relocation_days),
        min_posts_claimed: n(p.min_posts_claimed),
        max_posts_claimed: n(p.max_posts_claimed),
        base_points: n(p.base_points),
        max_adjustment: n(p.max_adjustment),
        project_points_cap: n(p.project_points_cap),
        points_per_star: n(p.points_per_star),
        max_stars: n(p.max_stars),
        member_min_services_per_year: n(p.member_min_services_per_year),
        member_min_pledge_items: n(p.member_min_pledge_items),
        member_min_activities_per_year: n(p.member_min_activities_per_year),
        unit_min_activities_per_month: n(p.unit_min_activities_per_month),
        unit_min_meetings_per_quarter: n(p.unit_min_meetings_per_quarter),
        unit_min_theme_days_per_half_year: n(p.unit_min_theme_days_per_half_year),
        unit_min_projects_per_year: n(p.unit_min_projects_per_year),
        spot_check_percent: n(p.spot_check_percent),
    }
}

/// A policy another service sent, as settings with every key filled (the
/// shape [`Policy::as_settings`] gives), so two policies compare key by key.
pub fn settings_of(p: &pb::Policy) -> PolicySettings {
    let n = |v: i32| Some(u32::try_from(v).unwrap_or(0));
    let (unit, member) = (
        p.unit_report_window.clone().unwrap_or_default(),
        p.member_report_window.clone().unwrap_or_default(),
    );
    PolicySettings {
        preset: Some(p.preset.clone()),
        unit_report_window_start: Some(unit.start),
        unit_report_window_end: Some(unit.end),
        member_report_window_start: Some(member.start),
        member_report_window_end: Some(member.end),
        letter_required: Some(p.letter_required),
        relocation_days: n(p.relocation_days),
        min_posts_claimed: n(p.min_posts_claimed),
        max_posts_claimed: n(p.max_posts_claimed),
        base_points: n(p.base_points),
        max_adjustment: n(p.max_adjustment),
        project_points_cap: n(p.project_points_cap),
        points_per_star: n(p.points_per_star),
        max_stars: n(p.max_stars),
        member_min_services_per_year: n(p.member_min_services_per_year),
        member_min_pledge_items: n(p.member_min_pledge_items),
        member_min_activities_per_year: n(p.member_min_activities_per_year),
        unit_min_activities_per_month: n(p.unit_min_activities_per_month),
        unit_min_meetings_per_quarter: n(p.unit_min_meetings_per_quarter),
        unit_min_theme_days_per_half_year: n(p.unit_min_theme_days_per_half_year),
        unit_min_projects_per_year: n(p.unit_min_projects_per_year),
        spot_check_percent: n(p.spot_check_percent),
    }
}

/// One key on which two policies differ: (key, the first's value, the second's).
pub type Difference = (String, String, String);

/// The keys (the `[policy]` settings' names) on which `a` and `b` differ, in key order.
pub fn differences(a: &PolicySettings, b: &PolicySettings) -> Vec<Difference> {
    let map = |s: &PolicySettings| match serde_json::to_value(s) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let (a, b) = (map(a), map(b));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let text = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| (k.clone(), text(a.get(k)), text(b.get(k))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_survives_the_wire_and_a_changed_key_is_named() {
        let s4 = PolicySettings::default().resolve().expect("S4");
        let back = settings_of(&to_pb(&s4));
        assert!(differences(&s4.as_settings(), &back).is_empty(), "{back:?}");
        let longer = PolicySettings {
            relocation_days: Some(45),
            ..Default::default()
        }
        .resolve()
        .expect("an override");
        assert_eq!(
            differences(&s4.as_settings(), &settings_of(&to_pb(&longer))),
            vec![("relocation_days".to_owned(), "30".to_owned(), "45".to_owned())]
        );
    }
}
