//! The pages: the public board and the admins' dashboard.

pub mod board;
pub mod dashboard;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike as _;
use dualreport_proto::common::v1 as common;
use tonic::Code;

use crate::html::{error_page, page, respond};
use crate::session;
use crate::startup::Portal;

/// The portal's address: `portal.public_url`, else (development) the request's `Host`.
pub fn base_url(portal: &Portal, headers: &HeaderMap) -> String {
    let configured = portal.settings.portal.public_url.trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// A half-year as the pages write it: `2026H1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HalfYear {
    pub year: i32,
    pub first: bool,
}

impl HalfYear {
    /// The half-year that ended last (China time): the one a published board is of.
    pub fn last_ended() -> Self {
        let today = dualreport_policy::china_today();
        if today.month() <= 6 {
            Self {
                year: today.year() - 1,
                first: false,
            }
        } else {
            Self {
                year: today.year(),
                first: true,
            }
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let (year, half) = text.split_once(['H', 'h'])?;
        let year: i32 = year.parse().ok().filter(|y| (2000..=2100).contains(y))?;
        match half {
            "1" => Some(Self { year, first: true }),
            "2" => Some(Self { year, first: false }),
            _ => None,
        }
    }

    pub fn key(self) -> String {
        format!("{}H{}", self.year, if self.first { 1 } else { 2 })
    }

    pub fn label(self) -> String {
        format!("{}年{}", self.year, if self.first { "上半年" } else { "下半年" })
    }

    pub fn previous(self) -> Self {
        if self.first {
            Self {
                year: self.year - 1,
                first: false,
            }
        } else {
            Self {
                year: self.year,
                first: true,
            }
        }
    }

    pub fn to_pb(self) -> common::Period {
        common::Period {
            year: self.year,
            half: if self.first {
                common::Half::First
            } else {
                common::Half::Second
            } as i32,
        }
    }
}

/// How a page answers a service's refusal or failure.
pub fn upstream_error(portal: &Portal, signed_in: Option<&str>, status: &tonic::Status) -> Response {
    let site = &portal.settings.portal.title;
    let (code, heading, detail) = match status.code() {
        Code::PermissionDenied => (
            StatusCode::FORBIDDEN,
            "无权查看",
            "该组织不在您的管辖范围内。".to_owned(),
        ),
        Code::Unauthenticated => (
            StatusCode::UNAUTHORIZED,
            "请重新登录",
            "登录已失效，请重新登录。".to_owned(),
        ),
        Code::NotFound => (StatusCode::NOT_FOUND, "未找到", status.message().to_owned()),
        Code::InvalidArgument => (StatusCode::BAD_REQUEST, "请求有误", status.message().to_owned()),
        Code::Unavailable | Code::DeadlineExceeded => (
            StatusCode::SERVICE_UNAVAILABLE,
            "服务暂时不可用",
            "后台服务暂时无法访问，请稍后再试。".to_owned(),
        ),
        _ => {
            tracing::warn!(code = ?status.code(), message = status.message(), "upstream call failed");
            (
                StatusCode::BAD_GATEWAY,
                "服务出错",
                "后台服务出错，请稍后再试。".to_owned(),
            )
        }
    };
    error_page(code, site, signed_in, heading, &detail)
}

/// `GET /`: the home org's board, or a form asking for an org.
pub async fn index(State(portal): State<Portal>, headers: HeaderMap) -> Response {
    let home = portal.settings.portal.home_org_id.trim();
    if !home.is_empty() {
        return Redirect::to(&format!("/board/{}", crate::html::query_value(home))).into_response();
    }
    let admin = session::admin(&portal, &headers).map(|a| a.label());
    let body = r#"<h2>先锋榜公示</h2><div class="panel"><form method="get" action="/board"><label>社区、街道或区的组织ID <input name="org" required></label> <button type="submit">查看先锋榜</button></form></div>"#;
    respond(
        StatusCode::OK,
        page("先锋榜公示", &portal.settings.portal.title, admin.as_deref(), body),
    )
}

/// `GET /healthz`: the process answers (liveness and readiness: the portal
/// keeps no state, and a service it reads being down is shown on the pages).
pub async fn healthz() -> &'static str {
    "ok"
}
