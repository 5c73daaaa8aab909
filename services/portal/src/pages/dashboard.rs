//! The admins' dashboard (管理看板): report rates by unit and community, the
//! stars distribution, compliance warnings and the suite's outbox and feed
//! health, for the signed-in admin's own scope. Every read carries the
//! admin's token: the services decide what is in scope, the page only draws.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Datelike as _;
use dualreport_proto::feedback::v1 as feedback;
use dualreport_proto::registry::v1 as registry;
use dualreport_proto::scoring::v1 as scoring;
use serde::Deserialize;
use tonic::Code;

use super::{HalfYear, upstream_error};
use crate::html::{error_page, esc, page, query_value, respond};
use crate::session;
use crate::startup::Portal;
use crate::svg::{Bar, bar_chart};
use crate::upstream::Credential;

/// Lines of the report statistics a page draws; the rest are paged.
const LINES: i32 = 40;
/// Warnings a page lists.
const WARNINGS: i32 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    /// An org inside the admin's scope; default: the admin's own.
    org: Option<String>,
    year: Option<i32>,
    page: Option<String>,
}

/// `GET /admin`.
pub async fn dashboard(
    State(portal): State<Portal>,
    headers: HeaderMap,
    Query(query): Query<DashboardQuery>,
) -> Response {
    let site = &portal.settings.portal.title;
    let Some(admin) = session::admin(&portal, &headers) else {
        return error_page(
            StatusCode::UNAUTHORIZED,
            site,
            None,
            "请先登录",
            "管理看板仅对已登录的管理员开放，请先以管理员身份登录。",
        );
    };
    let label = admin.label();
    let org = query
        .org
        .clone()
        .filter(|o| !o.trim().is_empty())
        .unwrap_or_else(|| admin.principal.org().unwrap_or_default().to_owned());
    let year = query.year.unwrap_or_else(|| dualreport_policy::china_today().year());
    let credential = Credential::Admin(admin.token.clone());

    // The report statistics decide whether the org is the admin's at all.
    let statistics = portal
        .upstream
        .registry(&credential)
        .get_report_statistics(registry::GetReportStatisticsRequest {
            org_id: org.clone(),
            year,
            page_size: LINES,
            page_token: query.page.clone().unwrap_or_default(),
        })
        .await;
    let statistics = match statistics {
        Ok(statistics) => statistics.into_inner(),
        Err(status) => return upstream_error(&portal, Some(&label), &status),
    };
    // The rest are independent reads: one page waits for the slowest, not for their sum.
    let org_name = async {
        portal
            .upstream
            .registry(&credential)
            .get_organization(registry::GetOrganizationRequest {
                organization_id: org.clone(),
            })
            .await
            .ok()
            .and_then(|r| r.into_inner().organization)
            .map(|o| o.name)
            .unwrap_or_else(|| org.clone())
    };
    let (org_name, stars, warnings, health) = tokio::join!(
        org_name,
        stars_panel(&portal, &credential, &org),
        warnings_panel(&portal, &credential, &org, year),
        health_panel(&portal),
    );

    let mut body = format!(
        r#"<h2 id="dashboard-title">{} · {}年 管理看板</h2><p class="muted">{}</p><div class="grid">"#,
        esc(&org_name),
        year,
        esc(&label)
    );
    body.push_str(&report_panels(&statistics));
    body.push_str(&stars);
    body.push_str(&warnings);
    body.push_str(&health);
    body.push_str("</div>");
    if !statistics.next_page_token.is_empty() {
        body.push_str(&format!(
            r#"<nav class="pages"><a id="next" href="/admin?org={}&year={year}&page={}">更多单位和社区</a></nav>"#,
            query_value(&org),
            query_value(&statistics.next_page_token)
        ));
    }
    respond(StatusCode::OK, page("管理看板", site, Some(&label), &body))
}

fn percent(part: i32, whole: i32) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        f64::from(part) * 100.0 / f64::from(whole)
    }
}

fn report_panels(statistics: &registry::GetReportStatisticsResponse) -> String {
    let units: Vec<Bar> = statistics
        .units
        .iter()
        .map(|u| Bar {
            label: u.unit_name.clone(),
            value: percent(u.reported_members, u.registered_members),
            text: format!(
                "{:.0}%（{}/{}）{}",
                percent(u.reported_members, u.registered_members),
                u.reported_members,
                u.registered_members,
                if u.unit_reported { "" } else { " 单位未报到" }
            ),
        })
        .collect();
    let communities: Vec<Bar> = statistics
        .communities
        .iter()
        .map(|c| Bar {
            label: c.community_name.clone(),
            value: f64::from(c.members_reported),
            text: format!("{}名党员 · {}个单位", c.members_reported, c.units_reported),
        })
        .collect();
    format!(
        r#"<div class="panel" id="unit-rates"><h3>各单位党员报到率</h3>{}</div><div class="panel" id="community-reports"><h3>各社区报到情况</h3>{}</div>"#,
        bar_chart("各单位党员报到率", &units, 100.0),
        bar_chart("各社区报到党员数", &communities, 0.0)
    )
}

async fn stars_panel(portal: &Portal, credential: &Credential, org: &str) -> String {
    let period = HalfYear::last_ended();
    let answer = portal
        .upstream
        .scoring(credential)
        .get_board_statistics(scoring::GetBoardStatisticsRequest {
            org_id: org.to_owned(),
            period: Some(period.to_pb()),
            subject_kind: scoring::SubjectKind::Member as i32,
        })
        .await;
    let content = match answer {
        Ok(levels) => {
            let levels = levels.into_inner();
            if levels.subjects == 0 {
                format!(r#"<p class="muted">{} 尚无公示的评星结果。</p>"#, esc(&period.label()))
            } else {
                format!(
                    r#"<p>{} · 共{}人 · <a href="/board/{}?period={}">先锋榜</a></p>{}"#,
                    esc(&period.label()),
                    levels.subjects,
                    query_value(org),
                    period.key(),
                    super::board::star_levels_chart(&levels.levels, |l| format!("{}人 · {}分", l.subjects, l.points))
                )
            }
        }
        Err(status) if status.code() == Code::InvalidArgument => {
            r#"<p class="muted">先锋榜按社区、街道、区和市公示，单位没有自己的先锋榜。</p>"#.to_owned()
        }
        Err(status) => panel_error(&status),
    };
    format!(r#"<div class="panel" id="stars"><h3>积分星级分布</h3>{content}</div>"#)
}

fn rule_name(rule: feedback::WarningRule) -> &'static str {
    use feedback::WarningRule as W;
    match rule {
        W::NotReported => "未按期报到",
        W::RelocationNotReported => "迁居后未报到",
        W::BelowServiceMinimum => "服务次数不足",
        W::BelowActivityMinimum => "活动次数不足",
        W::PledgeUnmet => "承诺未兑现",
        W::UnitMonthlyActivities => "单位月度活动不足",
        W::UnitQuarterlyMeetings => "单位季度联席会不足",
        W::UnitThemeDays => "单位主题党日不足",
        W::UnitProjects => "共建项目不足",
        W::Unspecified => "其他",
    }
}

async fn warnings_panel(portal: &Portal, credential: &Credential, org: &str, year: i32) -> String {
    let answer = portal
        .upstream
        .feedback(credential)
        .list_warnings(feedback::ListWarningsRequest {
            org_id: org.to_owned(),
            member_id: String::new(),
            year,
            page_size: WARNINGS,
            page_token: String::new(),
        })
        .await;
    let content = match answer {
        Ok(list) => {
            let list = list.into_inner();
            let standing: Vec<&feedback::Warning> =
                list.warnings.iter().filter(|w| w.withdraw_time.is_none()).collect();
            let mut by_rule: Vec<(&'static str, usize)> = Vec::new();
            for warning in &standing {
                let name = rule_name(warning.rule());
                match by_rule.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, count)) => *count += 1,
                    None => by_rule.push((name, 1)),
                }
            }
            let bars: Vec<Bar> = by_rule
                .iter()
                .map(|(name, count)| Bar {
                    label: (*name).to_owned(),
                    value: *count as f64,
                    text: count.to_string(),
                })
                .collect();
            let more = if list.next_page_token.is_empty() {
                String::new()
            } else {
                format!("（前{WARNINGS}条）")
            };
            let mut rows = String::new();
            for warning in standing.iter().take(20) {
                rows.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td class=\"hide-narrow\">{}</td></tr>",
                    esc(&warning.subject_name),
                    rule_name(warning.rule()),
                    esc(&warning.evidence)
                ));
            }
            if standing.is_empty() {
                format!(r#"<p class="muted">{year}年暂无有效预警。</p>"#)
            } else {
                format!(
                    r#"<p>有效预警{}条{more}</p>{}<table><thead><tr><th>对象</th><th>规则</th><th class="hide-narrow">依据</th></tr></thead><tbody>{rows}</tbody></table>"#,
                    standing.len(),
                    bar_chart("预警按规则", &bars, 0.0)
                )
            }
        }
        Err(status) => panel_error(&status),
    };
    format!(r#"<div class="panel" id="warnings"><h3>履职预警</h3>{content}</div>"#)
}

fn panel_error(status: &tonic::Status) -> String {
    let text = match status.code() {
        Code::PermissionDenied => "无权查看。",
        Code::Unavailable | Code::DeadlineExceeded => "服务暂时不可用。",
        _ => "读取失败。",
    };
    format!(r#"<p class="error">{text}</p>"#)
}

/// The gauges of the suite's outboxes and feeds the dashboard shows.
const GAUGES: &[(&str, &str)] = &[
    ("volunteering_payments_pending", "待付积分（出件箱）"),
    ("volunteering_payments_oldest_pending_seconds", "最久待付（秒）"),
    ("feedback_webhook_backlog", "党建云推送积压"),
    ("registry_city_sync_lag_seconds", "市级同步延迟（秒）"),
];

async fn health_panel(portal: &Portal) -> String {
    // Every service asked at once, each bounded: a service that is down costs
    // the page one timeout, not one per service.
    let checks = portal.upstream.services().into_iter().map(|(name, channel)| async move {
        let serving = tokio::time::timeout(
            Duration::from_secs(2),
            tonic_health::pb::health_client::HealthClient::new(channel)
                .check(tonic_health::pb::HealthCheckRequest { service: String::new() }),
        )
        .await;
        let ok = matches!(serving, Ok(Ok(ref reply)) if reply.get_ref().status() == tonic_health::pb::health_check_response::ServingStatus::Serving);
        format!(
            r#"<tr><td>{name}</td><td class="{}">{}</td></tr>"#,
            if ok { "up" } else { "down" },
            if ok { "正常" } else { "不可达" }
        )
    });
    let scrapes = portal
        .settings
        .portal
        .metrics_urls
        .iter()
        .map(|(service, url)| async move {
            match portal.http.get(url).timeout(Duration::from_secs(2)).send().await {
                Ok(response) => response.text().await.unwrap_or_default(),
                Err(error) => {
                    tracing::debug!(%error, service, "metrics not read");
                    String::new()
                }
            }
        });
    let (rows, texts) = tokio::join!(futures::future::join_all(checks), futures::future::join_all(scrapes));
    let rows = rows.concat();
    let bars: Vec<Bar> = texts
        .iter()
        .flat_map(|text| {
            GAUGES.iter().filter_map(|(gauge, label)| {
                gauge_value(text, gauge).map(|value| Bar {
                    label: (*label).to_owned(),
                    value,
                    text: format!("{value}"),
                })
            })
        })
        .collect();
    let gauges = if portal.settings.portal.metrics_urls.is_empty() {
        r#"<p class="muted">未配置 portal.metrics_urls。</p>"#.to_owned()
    } else {
        bar_chart("出件箱与推送", &bars, 0.0)
    };
    format!(
        r#"<div class="panel" id="health"><h3>运行状况</h3><table><thead><tr><th>服务</th><th>状态</th></tr></thead><tbody>{rows}</tbody></table>{gauges}</div>"#
    )
}

/// The sum of a gauge's samples (every label set) in a Prometheus text exposition.
fn gauge_value(text: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some(rest) = line.strip_prefix(name) else { continue };
        if !(rest.starts_with(' ') || rest.starts_with('{')) {
            continue;
        }
        let value: f64 = rest.rsplit(' ').next()?.parse().ok()?;
        *found.get_or_insert(0.0) += value;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::gauge_value;

    #[test]
    fn gauges_are_summed_over_labels() {
        let text = "# HELP x\nvolunteering_payments_pending 3\nvolunteering_payments_pending_total 9\nfeedback_webhook_backlog{a=\"1\"} 2\nfeedback_webhook_backlog{a=\"2\"} 5\n";
        assert_eq!(gauge_value(text, "volunteering_payments_pending"), Some(3.0));
        assert_eq!(gauge_value(text, "feedback_webhook_backlog"), Some(7.0));
        assert_eq!(gauge_value(text, "city_ingest_lag_seconds"), None);
    }
}
