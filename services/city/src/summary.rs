//! A municipal unit's summary table (附录F) across districts: the one city
//! answer that is not in the read model. Each district's feedback builds its
//! own part from its own registry and scoring; the city asks every district
//! at once, with the caller's own credentials and under each district's
//! deadline, and merges. A district that does not answer is named, and its
//! rows are absent: partial and saying so, never an error, never a guess.

use dualreport_platform::auth::Principal;
use dualreport_proto::common::v1 as common;
use dualreport_proto::feedback::v1 as fpb;
use tonic::Code;

use crate::app::City;
use crate::domain::{MunicipalOrg, Result};

/// One district's share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub district: String,
    pub answered: bool,
    pub complete: bool,
    pub missing_sources: Vec<String>,
    pub error: String,
    pub rows: usize,
}

/// The merged table.
#[derive(Debug, Clone)]
pub struct MunicipalSummary {
    pub unit: MunicipalOrg,
    pub period: common::Period,
    /// District, row (numbered over the whole table).
    pub rows: Vec<(String, fpb::SummaryRow)>,
    pub parts: Vec<Part>,
}

impl MunicipalSummary {
    pub fn complete(&self) -> bool {
        self.parts.iter().all(|p| p.answered && p.complete)
    }

    pub fn missing_districts(&self) -> Vec<String> {
        self.parts
            .iter()
            .filter(|p| !p.answered)
            .map(|p| p.district.clone())
            .collect()
    }
}

impl Part {
    /// A district's share from its answer: `(complete, missing sources,
    /// rows)`, or the status it failed with. [`unknown_here`] is an answer
    /// with nothing in it; any other failure means the district did not answer.
    pub fn of(district: &str, answer: std::result::Result<(bool, Vec<String>, usize), &tonic::Status>) -> Self {
        let (answered, complete, missing_sources, rows, error) = match answer {
            Ok((complete, missing, rows)) => (true, complete, missing, rows, String::new()),
            Err(status) if unknown_here(status) => (true, true, Vec::new(), 0, String::new()),
            Err(status) => (
                false,
                false,
                Vec::new(),
                0,
                format!("{:?}: {}", status.code(), status.message()),
            ),
        };
        Self {
            district: district.to_owned(),
            answered,
            complete,
            missing_sources,
            error,
            rows,
        }
    }
}

/// A district answering `NOT_FOUND` for a municipal unit does not know the
/// unit yet (its copy of the city's orgs lags): it has none of its members.
pub fn unknown_here(status: &tonic::Status) -> bool {
    status.code() == Code::NotFound
}

/// Merges each district's answer, in district order, numbering the rows through.
pub fn merge(
    answers: Vec<(String, std::result::Result<fpb::SummaryTable, tonic::Status>)>,
) -> (Vec<(String, fpb::SummaryRow)>, Vec<Part>) {
    let mut rows = Vec::new();
    let mut parts = Vec::with_capacity(answers.len());
    for (district, answer) in answers {
        match answer {
            Ok(table) => {
                parts.push(Part::of(
                    &district,
                    Ok((table.complete, table.missing_sources, table.rows.len())),
                ));
                rows.extend(table.rows.into_iter().map(|row| (district.clone(), row)));
            }
            Err(status) => parts.push(Part::of(&district, Err(&status))),
        }
    }
    for (n, (_, row)) in rows.iter_mut().enumerate() {
        row.number = i32::try_from(n + 1).unwrap_or(i32::MAX);
    }
    (rows, parts)
}

impl City {
    /// The summary of municipal `unit_org_id` across every district, for its
    /// admins (the unit's, or of a municipal org above it) and the city's.
    pub async fn municipal_summary(
        &self,
        p: &Principal,
        token: &str,
        unit_org_id: &str,
        period: common::Period,
    ) -> Result<MunicipalSummary> {
        let unit = self.municipal_unit_for(p, unit_org_id, "summary").await?;
        let asks = self.districts.iter().map(|d| {
            let district = d.name.clone();
            async move { (district, d.summary_table(token, unit_org_id, period).await) }
        });
        let (rows, parts) = merge(futures::future::join_all(asks).await);
        for part in parts.iter().filter(|p| !p.answered) {
            tracing::warn!(district = %part.district, error = %part.error, unit = unit_org_id, "a district's summary is missing");
        }
        Ok(MunicipalSummary {
            unit,
            period,
            rows,
            parts,
        })
    }
}

/// The merged table with the template's headers and a column naming each
/// row's district; when districts did not answer, a last row names them.
pub fn table(summary: &MunicipalSummary) -> dualreport_tables::Table {
    use dualreport_tables::Cell;
    let mut table = dualreport_tables::Table::new(
        "附录F",
        &[
            "序号",
            "区",
            "姓名",
            "是否报到",
            "报到社区",
            "积分",
            "星级",
            "社区评价",
            "数据不全",
        ],
    );
    for (district, row) in &summary.rows {
        table.push(vec![
            row.number.into(),
            district.as_str().into(),
            row.name.as_str().into(),
            if row.reported { "是" } else { "否" }.into(),
            row.reported_community_id.as_str().into(),
            row.points.into(),
            row.stars.into(),
            row.comment.as_str().into(),
            if row.incomplete { "是".into() } else { Cell::Empty },
        ]);
    }
    let missing = summary.missing_districts();
    if !missing.is_empty() {
        table.push(vec![format!("未答复的区：{}", missing.join("、")).into()]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(names: &[&str], complete: bool) -> fpb::SummaryTable {
        fpb::SummaryTable {
            complete,
            missing_sources: if complete { vec![] } else { vec!["scoring".into()] },
            rows: names
                .iter()
                .enumerate()
                .map(|(i, n)| fpb::SummaryRow {
                    number: i32::try_from(i + 1).unwrap(),
                    name: (*n).into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn districts_merge_in_order_numbered_through_and_a_silent_one_is_named() {
        let (rows, parts) = merge(vec![
            ("east".into(), Ok(table(&["甲", "乙"], true))),
            ("north".into(), Err(tonic::Status::unavailable("down"))),
            ("south".into(), Err(tonic::Status::not_found("no such unit yet"))),
            ("west".into(), Ok(table(&["丙"], false))),
        ]);
        let seen: Vec<(&str, i32, &str)> = rows
            .iter()
            .map(|(d, r)| (d.as_str(), r.number, r.name.as_str()))
            .collect();
        assert_eq!(seen, vec![("east", 1, "甲"), ("east", 2, "乙"), ("west", 3, "丙")]);
        let answered: Vec<(&str, bool, bool)> = parts
            .iter()
            .map(|p| (p.district.as_str(), p.answered, p.complete))
            .collect();
        assert_eq!(
            answered,
            vec![
                ("east", true, true),
                ("north", false, false),
                ("south", true, true),
                ("west", true, false)
            ]
        );
        assert!(parts[1].error.contains("down"));
        assert_eq!(parts[3].missing_sources, vec!["scoring".to_owned()]);
    }
}
