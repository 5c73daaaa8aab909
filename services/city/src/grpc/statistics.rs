//! City statistics from the read model: parse, call, answer.

use super::*;

fn stat_year(year: i32) -> Result<i32, Status> {
    if (2000..=9999).contains(&year) {
        Ok(year)
    } else {
        Err(err::invalid_field("year", "must be a year from 2000 to 9999"))
    }
}

fn count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn district_line_to_pb(l: crate::statistics::DistrictLine) -> pb::DistrictStatistics {
    pb::DistrictStatistics {
        report_rate_permille: count(l.report_rate_permille()),
        warnings: count(l.warnings()),
        district: l.district,
        members: count(l.members),
        reported: count(l.reported),
        board_lines: count(l.board_lines),
        points: l.points,
        stars: l.stars.into_iter().map(count).collect(),
        as_of: (l.as_of_ms > 0).then(|| timestamp(l.as_of_ms)),
        warnings_by_rule: l
            .warnings_by_rule
            .into_iter()
            .map(|(rule, n)| pb::RuleCount {
                rule: warning_rule_to_pb(&rule) as i32,
                count: count(n),
            })
            .collect(),
    }
}

/// A rule as feedback names it in its facts (`not_reported`) → its enum
/// value (`WARNING_RULE_NOT_REPORTED`); unspecified for a rule this build
/// does not know.
fn warning_rule_to_pb(rule: &str) -> fpb::WarningRule {
    fpb::WarningRule::from_str_name(&format!("WARNING_RULE_{}", rule.to_ascii_uppercase()))
        .unwrap_or(fpb::WarningRule::Unspecified)
}

pub(super) async fn get_city_statistics(
    city: &City,
    request: Request<pb::GetCityStatisticsRequest>,
) -> R<pb::GetCityStatisticsResponse> {
    let p = principal(&request)?;
    let r = request.into_inner();
    let year = stat_year(r.year)?;
    let period = match r.period.as_ref() {
        None => None,
        Some(_) => Some(period("period", r.period.as_ref()).map_err(bad)?),
    };
    let (lines, city) = city.city_statistics(&p, year, period).await.map_err(to_status)?;
    Ok(Response::new(pb::GetCityStatisticsResponse {
        year,
        districts: lines.into_iter().map(district_line_to_pb).collect(),
        city: city.map(district_line_to_pb),
    }))
}

pub(super) async fn list_municipal_unit_statistics(
    city: &City,
    request: Request<pb::ListMunicipalUnitStatisticsRequest>,
) -> R<pb::ListMunicipalUnitStatisticsResponse> {
    let p = principal(&request)?;
    let r = request.into_inner();
    let year = stat_year(r.year)?;
    let page = page(r.page_size, &r.page_token)?;
    let (units, next) = city.unit_statistics(&p, year, &page).await.map_err(to_status)?;
    Ok(Response::new(pb::ListMunicipalUnitStatisticsResponse {
        units: units
            .into_iter()
            .map(|u| {
                let (members, reported, warnings) = (u.members(), u.reported(), u.warnings());
                pb::MunicipalUnitStatistics {
                    unit_org_id: u.unit.id,
                    unit_name: u.unit.name,
                    members: count(members),
                    reported: count(reported),
                    report_rate_permille: count(if members == 0 { 0 } else { reported * 1000 / members }),
                    districts: u
                        .districts
                        .into_iter()
                        .map(|d| pb::DistrictCount {
                            district: d.district,
                            members: count(d.members),
                            reported: count(d.reported),
                            warnings: count(d.warnings),
                        })
                        .collect(),
                    warnings: count(warnings),
                }
            })
            .collect(),
        next_page_token: next,
    }))
}
