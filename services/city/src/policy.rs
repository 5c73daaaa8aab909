//! City policy (市级政策): the city owns one policy — a preset S1–S4 and its
//! overrides, its own `[policy]` — and every district should run it. The
//! policy is deploy-time configuration of each release (the same `policy`
//! values for the whole city), not pushed at run time: a change in the
//! middle of a half-year would re-judge reports, points and warnings
//! already given. So the city checks instead: it asks each district's
//! registry for its effective policy, key by key, answers `GetCityPolicy`
//! and keeps `city_district_policy_matches{district}` for the alert on a
//! district left behind.

use std::sync::OnceLock;
use std::time::Duration;

use dualreport_platform::auth::{Principal, Role};
use dualreport_platform::server::Stopping;
use dualreport_policy::wire::{Difference, differences, settings_of};
use dualreport_proto::registry::v1 as rpb;
use prometheus::IntGaugeVec;

use crate::app::City;
use crate::domain::{CityError, Result};

/// One district's policy beside the city's.
#[derive(Debug, Clone, PartialEq)]
pub struct DistrictPolicy {
    pub district: String,
    /// The district's effective policy; `None` when its registry did not answer.
    pub policy: Option<rpb::Policy>,
    pub error: String,
    /// (key, the city's value, the district's).
    pub differences: Vec<Difference>,
}

impl DistrictPolicy {
    pub fn matches(&self) -> bool {
        self.policy.is_some() && self.differences.is_empty()
    }
}

fn gauge() -> &'static IntGaugeVec {
    static GAUGE: OnceLock<IntGaugeVec> = OnceLock::new();
    GAUGE.get_or_init(|| {
        dualreport_platform::metrics::gauge_vec(
            "city_district_policy_matches",
            "1 when the district runs the city's policy, 0 when a key differs, -1 when its registry did not answer.",
            &["district"],
        )
    })
}

impl City {
    /// Every district's policy beside the city's, asked at once.
    pub async fn compare_policies(&self) -> Vec<DistrictPolicy> {
        let city = self.policy.as_settings();
        let asks = self
            .districts
            .iter()
            .map(|d| async move { (d.name.clone(), d.policy().await) });
        futures::future::join_all(asks)
            .await
            .into_iter()
            .map(|(district, answer)| match answer {
                Ok(policy) => DistrictPolicy {
                    district,
                    differences: differences(&city, &settings_of(&policy)),
                    policy: Some(policy),
                    error: String::new(),
                },
                Err(status) => DistrictPolicy {
                    district,
                    policy: None,
                    error: format!("{:?}: {}", status.code(), status.message()),
                    differences: Vec::new(),
                },
            })
            .collect()
    }

    /// The city's policy and every district's, for the city's and the districts' admins.
    pub async fn city_policy(&self, p: &Principal) -> Result<Vec<DistrictPolicy>> {
        if !matches!(p.role, Role::CityAdmin | Role::DistrictAdmin) {
            return Err(CityError::out_of_scope(format!(
                "the city's policy check is for the city's and the districts' admins; a {} token is not",
                p.role.as_str()
            )));
        }
        if p.role == Role::CityAdmin {
            self.require_city_admin(p, "the city's policy check")?;
        }
        let lines = self.compare_policies().await;
        record(&lines);
        Ok(lines)
    }
}

fn record(lines: &[DistrictPolicy]) {
    for line in lines {
        let value = match (&line.policy, line.differences.is_empty()) {
            (None, _) => -1,
            (Some(_), true) => 1,
            (Some(_), false) => 0,
        };
        gauge().with_label_values(&[&line.district]).set(value);
        if value == 0 {
            tracing::warn!(district = %line.district, differences = ?line.differences, "a district does not run the city's policy");
        }
    }
}

/// Compares every `every` until shutdown, on every replica (a few reads of
/// each registry's policy; no lease is needed for a read).
pub async fn run(city: City, every: Duration, stopping: Stopping) {
    let stop = stopping.wait();
    tokio::pin!(stop);
    loop {
        record(&city.compare_policies().await);
        tokio::select! {
            biased;
            () = &mut stop => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}
