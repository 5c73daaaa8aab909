//! The public vanguard board (先锋榜公示): a published half-year of a
//! community, street, district (or, through the city tier, the whole city),
//! read with the portal's `public` credential.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use dualreport_proto::city::v1 as city;
use dualreport_proto::scoring::v1 as scoring;
use serde::Deserialize;

use super::{HalfYear, base_url, upstream_error};
use crate::html::{error_page, esc, page, query_value, respond};
use crate::session;
use crate::startup::Portal;
use crate::svg::{Bar, bar_chart, qr, stars};

/// Subjects per star level as bars, from the highest level anyone reached
/// down to 0; `text` is what each bar says.
pub fn star_levels_chart(levels: &[scoring::StarLevel], text: impl Fn(&scoring::StarLevel) -> String) -> String {
    let bars: Vec<Bar> = levels
        .iter()
        .skip_while(|l| l.subjects == 0 && l.stars > 0)
        .map(|l| Bar {
            label: format!("{}星", l.stars),
            value: f64::from(l.subjects),
            text: text(l),
        })
        .collect();
    bar_chart("星级分布", &bars, 0.0)
}

/// Rows a board page shows.
const PAGE_SIZE: i32 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct BoardQuery {
    /// `2026H1`; default: the half-year that ended last.
    period: Option<String>,
    /// `member` (default) or `unit`.
    kind: Option<String>,
    page: Option<String>,
    /// `/board?org=…` from the home page's form.
    org: Option<String>,
}

impl BoardQuery {
    fn period(&self) -> Result<HalfYear, String> {
        match self.period.as_deref().filter(|p| !p.is_empty()) {
            None => Ok(HalfYear::last_ended()),
            Some(text) => HalfYear::parse(text).ok_or_else(|| format!("半年度 {text} 无效，应形如 2026H1。")),
        }
    }

    fn units(&self) -> bool {
        self.kind.as_deref() == Some("unit")
    }
}

/// `GET /board?org=…`: to the org's board.
pub async fn find(State(portal): State<Portal>, Query(query): Query<BoardQuery>) -> Response {
    match query.org.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        Some(org) => Redirect::to(&format!("/board/{}", query_value(org))).into_response(),
        None => error_page(
            StatusCode::BAD_REQUEST,
            &portal.settings.portal.title,
            None,
            "请输入组织ID",
            "先锋榜按社区、街道或区查看。",
        ),
    }
}

/// `GET /board/{org}`.
pub async fn board(
    State(portal): State<Portal>,
    Path(org): Path<String>,
    headers: HeaderMap,
    Query(query): Query<BoardQuery>,
) -> Response {
    let signed_in = session::admin(&portal, &headers).map(|a| a.label());
    let site = &portal.settings.portal.title;
    let period = match query.period() {
        Ok(period) => period,
        Err(detail) => return error_page(StatusCode::BAD_REQUEST, site, signed_in.as_deref(), "请求有误", &detail),
    };
    let kind = if query.units() {
        scoring::SubjectKind::UnitOrg
    } else {
        scoring::SubjectKind::Member
    };
    let credential = portal.upstream.public();
    let (mut boards, mut levels) = (
        portal.upstream.scoring(&credential),
        portal.upstream.scoring(&credential),
    );
    // The page and its distribution at once.
    let (board, levels) = tokio::join!(
        boards.get_board(scoring::GetBoardRequest {
            org_id: org.clone(),
            period: Some(period.to_pb()),
            subject_kind: kind as i32,
            page_size: PAGE_SIZE,
            page_token: query.page.clone().unwrap_or_default(),
        }),
        levels.get_board_statistics(scoring::GetBoardStatisticsRequest {
            org_id: org.clone(),
            period: Some(period.to_pb()),
            subject_kind: kind as i32,
        }),
    );
    let levels = levels.map(|r| r.into_inner());
    let board = match board {
        Ok(board) => board.into_inner(),
        Err(status) => return upstream_error(&portal, signed_in.as_deref(), &status),
    };

    let path = format!("/board/{}", query_value(&org));
    let link = |period: HalfYear, units: bool| {
        format!(
            "{path}?period={}{}",
            period.key(),
            if units { "&kind=unit" } else { "" }
        )
    };
    let whom = if query.units() { "驻区单位" } else { "在职党员" };
    let title = format!("{} {}志愿服务先锋榜", board.org_name, whom);
    let url = format!("{}{}", base_url(&portal, &headers), link(period, query.units()));
    let mut body = format!(
        r#"<div class="qr" id="qr">{qr}<div>扫码查看</div></div>
<h2 id="board-title">{title}</h2>
<p>{label} · 公示 · <a href="{prev}">上一半年度</a> · <a href="{other}">{other_label}</a></p>"#,
        qr = qr(&url),
        title = esc(&title),
        label = esc(&period.label()),
        prev = esc(&link(period.previous(), query.units())),
        other = esc(&link(period, !query.units())),
        other_label = if query.units() { "党员榜" } else { "单位榜" },
    );
    if let Ok(levels) = &levels
        && levels.subjects > 0
    {
        body.push_str(&format!(
            r#"<div class="panel" id="distribution"><h3>星级分布（共{}）</h3>{}</div>"#,
            levels.subjects,
            star_levels_chart(&levels.levels, |l| l.subjects.to_string())
        ));
    }
    if board.rows.is_empty() {
        body.push_str(&format!(
            r#"<div class="panel" id="empty"><p>{} 尚无公示的评星结果。</p></div>"#,
            esc(&period.label())
        ));
    } else {
        body.push_str(
            r#"<table id="board"><thead><tr><th class="num">名次</th><th>姓名</th><th class="hide-narrow">社区</th><th class="num">积分</th><th>星级</th></tr></thead><tbody>"#,
        );
        for row in &board.rows {
            let line = row.line.clone().unwrap_or_default();
            body.push_str(&format!(
                r#"<tr><td class="num">{}</td><td class="name">{}</td><td class="hide-narrow">{}</td><td class="num">{}</td><td class="stars">{}</td></tr>"#,
                row.rank,
                esc(&line.subject_name),
                esc(&row.community_name),
                line.points,
                stars(line.stars)
            ));
        }
        body.push_str("</tbody></table>");
    }
    if !board.next_page_token.is_empty() {
        body.push_str(&format!(
            r#"<nav class="pages"><a id="next" href="{}&page={}">下一页</a></nav>"#,
            esc(&link(period, query.units())),
            query_value(&board.next_page_token)
        ));
    }
    respond(StatusCode::OK, page(&title, site, signed_in.as_deref(), &body))
}

/// `GET /city-board`: the city tier's board across every district.
pub async fn city_board(State(portal): State<Portal>, headers: HeaderMap, Query(query): Query<BoardQuery>) -> Response {
    let signed_in = session::admin(&portal, &headers).map(|a| a.label());
    let site = &portal.settings.portal.title;
    let Some(mut client) = portal.upstream.city(&portal.upstream.public()) else {
        return error_page(
            StatusCode::NOT_FOUND,
            site,
            signed_in.as_deref(),
            "未接入市级平台",
            "本门户未配置 [city]。",
        );
    };
    let period = match query.period() {
        Ok(period) => period,
        Err(detail) => return error_page(StatusCode::BAD_REQUEST, site, signed_in.as_deref(), "请求有误", &detail),
    };
    let answer = client
        .list_city_board(city::ListCityBoardRequest {
            period: Some(period.to_pb()),
            district: String::new(),
            page_size: PAGE_SIZE,
            page_token: query.page.clone().unwrap_or_default(),
        })
        .await;
    let board = match answer {
        Ok(board) => board.into_inner(),
        Err(status) => return upstream_error(&portal, signed_in.as_deref(), &status),
    };
    let title = "全市在职党员志愿服务先锋榜".to_owned();
    let url = format!("{}/city-board?period={}", base_url(&portal, &headers), period.key());
    let mut body = format!(
        r#"<div class="qr" id="qr">{}<div>扫码查看</div></div><h2 id="board-title">{}</h2><p>{} · 公示</p>"#,
        qr(&url),
        esc(&title),
        esc(&period.label())
    );
    if board.lines.is_empty() {
        body.push_str(r#"<div class="panel" id="empty"><p>尚无公示的评星结果。</p></div>"#);
    } else {
        body.push_str(r#"<table id="board"><thead><tr><th>区</th><th>姓名</th><th class="num">积分</th><th>星级</th></tr></thead><tbody>"#);
        for line in &board.lines {
            body.push_str(&format!(
                r#"<tr><td>{}</td><td class="name">{}</td><td class="num">{}</td><td class="stars">{}</td></tr>"#,
                esc(&line.district),
                esc(&line.subject_name),
                line.points,
                stars(line.stars)
            ));
        }
        body.push_str("</tbody></table>");
    }
    if !board.next_page_token.is_empty() {
        body.push_str(&format!(
            r#"<nav class="pages"><a id="next" href="/city-board?period={}&page={}">下一页</a></nav>"#,
            period.key(),
            query_value(&board.next_page_token)
        ));
    }
    respond(StatusCode::OK, page(&title, site, signed_in.as_deref(), &body))
}
