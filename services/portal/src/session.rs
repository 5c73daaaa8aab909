//! Who is signed in. A session is the admin's own bearer token in an
//! HttpOnly cookie, verified on every request with the suite's keys (so it
//! ends when the token does, and any replica can read it). Admins get one
//! from the city's identity provider by the OIDC authorization code flow
//! with PKCE, or locally from the development login.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dualreport_platform::access::ADMINS;
use dualreport_platform::auth::{Principal, Role, claims};
use rand::RngCore as _;
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::html::{error_page, page, query_value, respond};
use crate::startup::Portal;

const SESSION: &str = "dr_session";
const FLOW: &str = "dr_oidc";
/// How long a sign-in at the identity provider may take.
const FLOW_SECS: u64 = 600;

/// A signed-in admin.
#[derive(Debug, Clone)]
pub struct Admin {
    pub token: String,
    pub principal: Principal,
}

impl Admin {
    /// How the header names the admin.
    pub fn label(&self) -> String {
        format!(
            "{} ({} · {})",
            self.principal.subject,
            role_name(self.principal.role),
            self.principal.org().unwrap_or("")
        )
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::CityAdmin => "市级管理员",
        Role::DistrictAdmin => "区级管理员",
        Role::StreetAdmin => "街道管理员",
        Role::CommunityAdmin => "社区管理员",
        Role::UnitAdmin => "单位管理员",
        Role::Member => "党员",
        Role::Service => "服务",
        Role::Cloud => "党建云",
        Role::Public => "公众",
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

fn set_cookie(portal: &Portal, name: &str, value: &str, max_age: u64, path: &str) -> HeaderValue {
    let secure = if portal.settings.portal.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Max-Age={max_age}; Path={path}; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The signed-in admin, if the session cookie holds a token the suite
/// accepts for an admin role.
pub fn admin(portal: &Portal, headers: &HeaderMap) -> Option<Admin> {
    let token = cookie(headers, SESSION)?;
    let principal = portal.authenticator.verify(&token).ok()?;
    principal.role.is_admin().then_some(Admin { token, principal })
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Signs in with `token`: checks it, then sets the session cookie for as long as it lives.
fn start_session(portal: &Portal, token: &str) -> Response {
    let site = &portal.settings.portal.title;
    let principal = match portal.authenticator.verify(token) {
        Ok(principal) => principal,
        Err(error) => {
            return error_page(
                StatusCode::UNAUTHORIZED,
                site,
                None,
                "登录失败",
                &format!("身份提供方签发的令牌未通过校验：{error}"),
            );
        }
    };
    if !principal.role.is_admin() {
        return error_page(
            StatusCode::FORBIDDEN,
            site,
            None,
            "仅限管理员",
            &format!(
                "{} 不是管理员角色，管理看板仅对各级管理员开放。",
                role_name(principal.role)
            ),
        );
    }
    let lifetime = token_expiry(token).map_or(3600, |exp| exp.saturating_sub(now()));
    let mut response = Redirect::to("/admin").into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, set_cookie(portal, SESSION, token, lifetime, "/"));
    headers.append(header::SET_COOKIE, set_cookie(portal, FLOW, "", 0, "/auth"));
    tracing::info!(subject = %principal.subject, role = principal.role.as_str(), "signed in");
    response
}

/// The `exp` of a token already verified.
fn token_expiry(token: &str) -> Option<u64> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()?
        .get("exp")?
        .as_u64()
}

/// `GET /login`: the ways to sign in this deployment offers.
pub async fn login_page(State(portal): State<Portal>) -> Response {
    let site = &portal.settings.portal.title;
    let mut body = String::from("<h2>管理员登录</h2>");
    if portal.settings.oidc.is_some() {
        body.push_str(
            r#"<div class="panel"><p>使用全市统一身份认证（党建云）账号登录。</p><p><a id="oidc-login" href="/login/oidc">统一身份认证登录</a></p></div>"#,
        );
    }
    if dev_login_enabled(&portal) {
        let roles = ADMINS
            .iter()
            .map(|r| format!(r#"<option value="{}">{}</option>"#, r.as_str(), role_name(*r)))
            .collect::<String>();
        body.push_str(&format!(
            r#"<div class="panel"><p class="muted">开发登录：仅用于本地开发（auth.dev_hs256_secret），生产环境不可用。</p>
<form method="post" action="/login/dev" id="dev-login"><label>角色 <select name="role">{roles}</select></label>
<label>组织ID <input name="org" required></label> <button type="submit">登录</button></form></div>"#
        ));
    }
    if portal.settings.oidc.is_none() && !dev_login_enabled(&portal) {
        return error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            site,
            None,
            "未配置登录方式",
            "请在 [oidc] 中配置全市统一身份认证。",
        );
    }
    respond(StatusCode::OK, page("管理员登录", site, None, &body))
}

fn dev_login_enabled(portal: &Portal) -> bool {
    portal.settings.portal.dev_login && portal.settings.auth.dev_hs256_secret.is_some()
}

#[derive(Debug, Deserialize)]
pub struct DevLogin {
    role: String,
    org: String,
}

/// `POST /login/dev`: a development token for the chosen admin role and org.
pub async fn dev_login(State(portal): State<Portal>, Form(form): Form<DevLogin>) -> Response {
    let site = &portal.settings.portal.title;
    if !dev_login_enabled(&portal) {
        return error_page(
            StatusCode::NOT_FOUND,
            site,
            None,
            "开发登录未开启",
            "portal.dev_login 未开启。",
        );
    }
    let role = ADMINS.iter().copied().find(|r| r.as_str() == form.role);
    let (Some(role), org) = (role, form.org.trim()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            site,
            None,
            "角色无效",
            "请选择一个管理员角色。",
        );
    };
    if dualreport_platform::validate::id("org", org).is_err() {
        return error_page(
            StatusCode::BAD_REQUEST,
            site,
            None,
            "组织ID无效",
            "组织ID只含字母、数字和“-”。",
        );
    }
    let minted = portal.authenticator.mint(&claims(
        &format!("dev-{}@{org}", role.as_str()),
        role,
        Some(org),
        None,
        8 * 3600,
    ));
    match minted {
        Ok(token) => start_session(&portal, &token),
        Err(error) => error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            site,
            None,
            "开发登录失败",
            &error.to_string(),
        ),
    }
}

/// `POST /logout`.
pub async fn logout(State(portal): State<Portal>) -> Response {
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(&portal, SESSION, "", 0, "/"));
    response
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Where the identity provider sends the browser back.
fn redirect_uri(portal: &Portal, headers: &HeaderMap) -> String {
    format!("{}/auth/callback", crate::pages::base_url(portal, headers))
}

/// `GET /login/oidc`: off to the identity provider, with a fresh state and
/// PKCE verifier kept in a short-lived cookie (so any replica can finish).
pub async fn oidc_start(State(portal): State<Portal>, headers: HeaderMap) -> Response {
    let site = &portal.settings.portal.title;
    let Some(oidc) = &portal.settings.oidc else {
        return error_page(
            StatusCode::NOT_FOUND,
            site,
            None,
            "未配置统一身份认证",
            "[oidc] 未配置。",
        );
    };
    let (state, verifier) = (random_token(), random_token());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let separator = if oidc.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!(
        "{}{separator}response_type=code&client_id={}&redirect_uri={}&scope={}&state={state}&code_challenge={challenge}&code_challenge_method=S256",
        oidc.authorization_endpoint,
        query_value(&oidc.client_id),
        query_value(&redirect_uri(&portal, &headers)),
        query_value(&oidc.scopes),
    );
    let mut response = Redirect::to(&location).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&portal, FLOW, &format!("{state}.{verifier}"), FLOW_SECS, "/auth"),
    );
    response
}

#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/callback`: checks the state, trades the code (with the PKCE
/// verifier and the client secret) for tokens, and signs in with the one
/// the suite accepts.
pub async fn oidc_callback(
    State(portal): State<Portal>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let site = portal.settings.portal.title.clone();
    let refuse = |status: StatusCode, detail: &str| error_page(status, &site, None, "登录失败", detail);
    let Some(oidc) = &portal.settings.oidc else {
        return refuse(StatusCode::NOT_FOUND, "[oidc] 未配置。");
    };
    if let Some(error) = &callback.error {
        let detail = callback.error_description.as_deref().unwrap_or("");
        return refuse(
            StatusCode::UNAUTHORIZED,
            &format!("身份提供方拒绝了登录：{error} {detail}"),
        );
    }
    let flow = cookie(&headers, FLOW).unwrap_or_default();
    let (Some(code), Some(state), Some((expected, verifier))) = (
        callback.code.as_deref(),
        callback.state.as_deref(),
        flow.split_once('.'),
    ) else {
        return refuse(StatusCode::BAD_REQUEST, "登录请求已过期或不完整，请重新登录。");
    };
    if state != expected {
        return refuse(StatusCode::BAD_REQUEST, "登录状态不符（state），请重新登录。");
    }
    let secret = match &oidc.client_secret_file {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => Some(secrecy::SecretString::from(text.trim().to_owned())),
            Err(error) => {
                tracing::error!(%error, path, "cannot read oidc.client_secret_file");
                return refuse(StatusCode::SERVICE_UNAVAILABLE, "门户无法读取客户端密钥。");
            }
        },
        None => None,
    };
    let redirect = redirect_uri(&portal, &headers);
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect.as_str()),
        ("client_id", oidc.client_id.as_str()),
        ("code_verifier", verifier),
    ];
    if let Some(secret) = &secret {
        form.push(("client_secret", secret.expose_secret()));
    }
    let answer = portal
        .http
        .post(&oidc.token_endpoint)
        .timeout(std::time::Duration::from_millis(oidc.timeout_ms))
        .form(&form)
        .send()
        .await;
    let body = match answer {
        Ok(response) if response.status().is_success() => response.text().await.unwrap_or_default(),
        Ok(response) => {
            tracing::warn!(status = %response.status(), "the token endpoint refused the code");
            return refuse(StatusCode::UNAUTHORIZED, "身份提供方未接受登录码，请重新登录。");
        }
        Err(error) => {
            tracing::warn!(%error, "the token endpoint did not answer");
            return refuse(StatusCode::BAD_GATEWAY, "身份提供方暂时无法访问。");
        }
    };
    let token = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get(&oidc.token_field).and_then(|t| t.as_str()).map(str::to_owned));
    match token {
        Some(token) => start_session(&portal, &token),
        None => refuse(
            StatusCode::BAD_GATEWAY,
            &format!("身份提供方的应答中没有 {}。", oidc.token_field),
        ),
    }
}
