//! A municipal unit (市直单位) across districts, beyond its summary table:
//! its report statistics (统计表), who did not report and why, the ratings
//! communities gave it (社区评价) and its compliance warnings (预警). Like the
//! summary these are each district's own answers, asked with the caller's
//! credentials (every district checks the caller again) and merged.
//!
//! The statistics are a handful of lines per district, so every district is
//! asked at once. The lists can be long, so they are walked district by
//! district in name order, each with its own paging ([`walk`]); a district
//! that does not answer when the walk reaches it is passed over and named:
//! partial and saying so, never an error, never a guess.

use std::future::Future;

use dualreport_platform::auth::{Principal, Role};
use dualreport_platform::paging::{PageRequest, compound_key};
use dualreport_proto::registry::v1 as rpb;

use crate::app::City;
use crate::districts::District;
use crate::domain::{CityError, MunicipalOrg, Result};
use crate::storage as db;
use crate::summary::{Part, unknown_here};

/// One page of a list walked across districts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk<T> {
    /// District, item.
    pub items: Vec<(String, T)>,
    pub next_page_token: String,
    /// Districts passed over on this page because they did not answer.
    pub missing_districts: Vec<String>,
}

/// A page of items across `districts` (in their order), each district's
/// own pages asked for by `fetch(district, (size, token))`. The page token
/// is (the district the walk stands in, that district's token). A district
/// that answers `NOT_FOUND` does not know the unit yet (its copy of the
/// city's orgs lags): it has none of the items. Any other failure passes the
/// district over, named in `missing_districts`.
pub async fn walk<'d, T, F, Fut>(districts: &'d [District], page: &PageRequest, fetch: F) -> Result<Walk<T>>
where
    F: Fn(&'d District, (i32, String)) -> Fut,
    Fut: Future<Output = std::result::Result<(Vec<T>, String), tonic::Status>>,
{
    let (mut at, mut inner) = match page.after_fields(2).map_err(|e| CityError::invalid_fields(vec![e]))? {
        Some(fields) => {
            let mut fields = fields.into_iter();
            (fields.next().unwrap_or_default(), fields.next().unwrap_or_default())
        }
        None => (String::new(), String::new()),
    };
    let size = usize::try_from(page.size).unwrap_or(usize::MAX);
    let mut out = Walk {
        items: Vec::new(),
        next_page_token: String::new(),
        missing_districts: Vec::new(),
    };
    // A district removed from the configuration since the token was issued:
    // the walk goes on from the next name.
    let start = districts.iter().position(|d| d.name >= at).unwrap_or(districts.len());
    if districts.get(start).is_some_and(|d| d.name != at) {
        inner.clear();
    }
    for (i, district) in districts.iter().enumerate().skip(start) {
        if i > start {
            inner.clear();
        }
        at.clone_from(&district.name);
        loop {
            let want = i32::try_from(size - out.items.len()).unwrap_or(i32::MAX);
            match fetch(district, (want, std::mem::take(&mut inner))).await {
                Ok((items, next)) => {
                    out.items
                        .extend(items.into_iter().map(|item| (district.name.clone(), item)));
                    if next.is_empty() {
                        break;
                    }
                    inner = next;
                    if out.items.len() >= size {
                        out.next_page_token = page.token_for(&compound_key(&[&at, &inner]));
                        return Ok(out);
                    }
                }
                Err(status) if unknown_here(&status) => break,
                Err(status) => {
                    tracing::warn!(district = %district.name, code = ?status.code(), message = status.message(), "a district passed over");
                    out.missing_districts.push(district.name.clone());
                    break;
                }
            }
        }
        if out.items.len() >= size {
            if let Some(following) = districts.get(i + 1) {
                out.next_page_token = page.token_for(&compound_key(&[&following.name, ""]));
            }
            return Ok(out);
        }
    }
    Ok(out)
}

/// A municipal unit's statistics lines across districts.
#[derive(Debug, Clone)]
pub struct MunicipalStatistics {
    pub unit: MunicipalOrg,
    pub year: i32,
    /// District, line.
    pub lines: Vec<(String, rpb::UnitStatistics)>,
    pub parts: Vec<Part>,
}

impl City {
    /// The municipal unit, when the caller may read it across districts: its
    /// admins, those of the municipal orgs above it, and the city's.
    pub async fn municipal_unit_for(&self, p: &Principal, unit_org_id: &str, what: &str) -> Result<MunicipalOrg> {
        let mut conn = self.pool.acquire().await?;
        let unit = db::municipal_org(&mut conn, unit_org_id)
            .await?
            .ok_or_else(|| CityError::not_found("municipal unit", unit_org_id))?;
        let allowed = match p.role {
            Role::CityAdmin => p.org() == Some(self.city_id()),
            Role::UnitAdmin => p.org().is_some_and(|org| unit.path.contains(&format!("/{org}/"))),
            _ => false,
        };
        if allowed {
            Ok(unit)
        } else {
            Err(CityError::out_of_scope(format!(
                "the {what} of {} is for its admins, the admins of the municipal orgs above it and the city's",
                unit.id
            )))
        }
    }

    /// Every district's statistics lines of the unit's subtree, asked at once.
    pub async fn municipal_statistics(
        &self,
        p: &Principal,
        token: &str,
        unit_org_id: &str,
        year: i32,
    ) -> Result<MunicipalStatistics> {
        let unit = self.municipal_unit_for(p, unit_org_id, "report statistics").await?;
        let asks = self
            .districts
            .iter()
            .map(|d| async move { (d.name.clone(), d.unit_statistics(token, unit_org_id, year).await) });
        let mut lines = Vec::new();
        let mut parts = Vec::new();
        for (district, answer) in futures::future::join_all(asks).await {
            match answer {
                Ok(found) => {
                    parts.push(Part::of(&district, Ok((true, Vec::new(), found.len()))));
                    lines.extend(found.into_iter().map(|line| (district.clone(), line)));
                }
                Err(status) => parts.push(Part::of(&district, Err(&status))),
            }
        }
        Ok(MunicipalStatistics {
            unit,
            year,
            lines,
            parts,
        })
    }

    /// A page of one of the unit's lists across districts (members not
    /// reported, ratings, warnings: `what`), once the caller may read the
    /// unit; `fetch` asks one district for one page of it.
    pub async fn municipal_list<'d, T, F, Fut>(
        &'d self,
        p: &Principal,
        unit_org_id: &str,
        what: &str,
        page: &PageRequest,
        fetch: F,
    ) -> Result<Walk<T>>
    where
        F: Fn(&'d District, (i32, String)) -> Fut,
        Fut: Future<Output = std::result::Result<(Vec<T>, String), tonic::Status>>,
    {
        self.municipal_unit_for(p, unit_org_id, what).await?;
        walk(self.districts.as_slice(), page, fetch).await
    }
}
