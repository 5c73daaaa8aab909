//! City statistics, answered from the read model (no district is asked):
//! report rates by district and by municipal unit, and the points and stars
//! of the published settlements. Every line says how fresh it is.

use std::collections::BTreeMap;

use dualreport_platform::auth::Principal;
use dualreport_platform::paging::PageRequest;

use crate::app::City;
use crate::domain::{Journal, MunicipalOrg, Period, Result};
use crate::storage as db;

/// One district's line (or the city's, `district` empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DistrictLine {
    pub district: String,
    pub members: i64,
    pub reported: i64,
    pub board_lines: i64,
    pub points: i64,
    /// Lines with 0, 1, 2, … stars.
    pub stars: Vec<i64>,
    /// When the newest registry fact applied happened (0: none yet).
    pub as_of_ms: i64,
    /// Warnings in force for the year, by rule (`not_reported`, …).
    pub warnings_by_rule: BTreeMap<String, i64>,
}

impl DistrictLine {
    /// reported / members in per mille, rounded down; 0 without members.
    pub fn warnings(&self) -> i64 {
        self.warnings_by_rule.values().sum()
    }

    pub fn report_rate_permille(&self) -> i64 {
        if self.members == 0 {
            0
        } else {
            self.reported * 1000 / self.members
        }
    }

    fn add(&mut self, other: &DistrictLine) {
        self.members += other.members;
        self.reported += other.reported;
        self.board_lines += other.board_lines;
        self.points += other.points;
        if self.stars.len() < other.stars.len() {
            self.stars.resize(other.stars.len(), 0);
        }
        for (total, n) in self.stars.iter_mut().zip(&other.stars) {
            *total += n;
        }
        for (rule, n) in &other.warnings_by_rule {
            *self.warnings_by_rule.entry(rule.clone()).or_default() += n;
        }
        self.as_of_ms = if self.as_of_ms == 0 {
            other.as_of_ms
        } else {
            self.as_of_ms.min(other.as_of_ms)
        };
    }
}

/// A municipal org's report rate and warnings across districts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitLine {
    pub unit: MunicipalOrg,
    /// By district name: where the unit has members or warnings.
    pub districts: Vec<DistrictCount>,
}

/// A municipal org's share in one district.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DistrictCount {
    pub district: String,
    pub members: i64,
    pub reported: i64,
    /// Warnings in force whose unit is the org.
    pub warnings: i64,
}

impl UnitLine {
    pub fn members(&self) -> i64 {
        self.districts.iter().map(|d| d.members).sum()
    }

    pub fn reported(&self) -> i64 {
        self.districts.iter().map(|d| d.reported).sum()
    }

    pub fn warnings(&self) -> i64 {
        self.districts.iter().map(|d| d.warnings).sum()
    }
}

impl City {
    /// One line per configured district (a district with nothing ingested
    /// yet has zeros), and the city's total (as of its stalest district). A
    /// district's admins get their district's line alone, and no total.
    pub async fn city_statistics(
        &self,
        p: &Principal,
        year: i32,
        period: Option<Period>,
    ) -> Result<(Vec<DistrictLine>, Option<DistrictLine>)> {
        let only = self.reader_scope(p, "the city's statistics").await?;
        let mut lines: BTreeMap<String, DistrictLine> = self
            .districts
            .iter()
            .filter(|d| only.as_ref().is_none_or(|name| *name == d.name))
            .map(|d| {
                (
                    d.name.clone(),
                    DistrictLine {
                        district: d.name.clone(),
                        ..Default::default()
                    },
                )
            })
            .collect();
        for (district, members, reported) in db::report_counts(&self.pool, year).await? {
            if let Some(line) = lines.get_mut(&district) {
                line.members = members;
                line.reported = reported;
            }
        }
        if let Some(period) = period {
            for (district, stars, count, points) in db::star_counts(&self.pool, period).await? {
                if let Some(line) = lines.get_mut(&district) {
                    let at = usize::try_from(stars.max(0)).unwrap_or(0);
                    if line.stars.len() <= at {
                        line.stars.resize(at + 1, 0);
                    }
                    line.stars[at] += count;
                    line.board_lines += count;
                    line.points += points;
                }
            }
        }
        for (district, rule, n) in db::warning_counts(&self.pool, year).await? {
            if let Some(line) = lines.get_mut(&district) {
                line.warnings_by_rule.insert(rule, n);
            }
        }
        for cursor in db::cursors(&self.pool).await? {
            if cursor.journal == Journal::Registry.as_str()
                && let Some(line) = lines.get_mut(&cursor.district)
            {
                line.as_of_ms = cursor.newest_occur_ms;
            }
        }
        let lines: Vec<DistrictLine> = lines.into_values().collect();
        if only.is_some() {
            return Ok((lines, None));
        }
        let mut city = DistrictLine::default();
        for line in &lines {
            city.add(line);
        }
        Ok((lines, Some(city)))
    }

    /// A page of municipal orgs (by id) with their report rate per district.
    pub async fn unit_statistics(
        &self,
        p: &Principal,
        year: i32,
        page: &PageRequest,
    ) -> Result<(Vec<UnitLine>, String)> {
        self.require_city_admin(p, "the municipal units' statistics")?;
        let units = db::municipal_orgs(&self.pool, &page.after, page.fetch_limit()).await?;
        let (units, next) = page.finish(units, |o| &o.id);
        let ids: Vec<String> = units.iter().map(|u| u.id.clone()).collect();
        let mut counts: BTreeMap<(String, String), DistrictCount> = BTreeMap::new();
        for (unit, district, members, reported) in db::unit_report_counts(&self.pool, &ids, year).await? {
            let line = counts.entry((unit, district.clone())).or_default();
            (line.district, line.members, line.reported) = (district, members, reported);
        }
        for (unit, district, warnings) in db::unit_warning_counts(&self.pool, &ids, year).await? {
            let line = counts.entry((unit, district.clone())).or_default();
            (line.district, line.warnings) = (district, warnings);
        }
        let lines = units
            .into_iter()
            .map(|unit| UnitLine {
                districts: counts
                    .range((unit.id.clone(), String::new())..)
                    .take_while(|((u, _), _)| *u == unit.id)
                    .map(|(_, line)| line.clone())
                    .collect(),
                unit,
            })
            .collect();
        Ok((lines, next))
    }
}
