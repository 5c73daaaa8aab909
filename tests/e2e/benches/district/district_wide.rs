//! District-wide reads that used to break at this size: the report
//! statistics of the district and a unit's summary table.

use std::time::Instant;

use dualreport_platform::auth::Role;
use dualreport_proto::common::v1 as common;
use dualreport_proto::feedback::v1 as fb;
use dualreport_proto::registry::v1 as reg;
use dualreport_testkit::admin_token;

use crate::Bench;
use crate::measure::{header, line, ms, rss_line};

pub async fn reads(b: &Bench<'_>, units: &[String]) {
    let (suite, sizes, district) = (b.suite, b.sizes, &b.district);
    let (year, mut city_admin) = (b.year, b.city_admin());
    header("district-wide reads that must not break");
    // Every page of the statistics, 500 lines at a time.
    let started = Instant::now();
    let (mut lines, mut pages, mut token, mut answered) = (0, 0, String::new(), true);
    loop {
        match city_admin
            .get_report_statistics(reg::GetReportStatisticsRequest {
                org_id: district.clone(),
                year,
                page_size: 500,
                page_token: token,
            })
            .await
        {
            Ok(page) => {
                let page = page.into_inner();
                pages += 1;
                lines += page.units.len() + page.communities.len();
                token = page.next_page_token;
                if token.is_empty() {
                    break;
                }
            }
            Err(_) => {
                answered = false;
                break;
            }
        }
    }
    line(
        "GetReportStatistics, every page",
        format!("{:.0} ms, {lines} lines/{pages} pp", ms(started.elapsed())),
        String::new(),
        None,
        "answers",
        Some(answered),
    );
    let started = Instant::now();
    let table = suite
        .feedback(&admin_token(Role::UnitAdmin, &units[0]))
        .get_summary_table(fb::GetSummaryTableRequest {
            unit_org_id: units[0].clone(),
            community_id: String::new(),
            period: Some(common::Period { year, half: 0 }),
        })
        .await;
    line(
        &format!("GetSummaryTable, a unit of {} members", sizes.members / units.len()),
        format!("{:.0} ms", ms(started.elapsed())),
        String::new(),
        None,
        "answers",
        Some(table.is_ok_and(|t| t.into_inner().table.is_some_and(|t| t.complete))),
    );
    rss_line(suite, "at the end");
}
