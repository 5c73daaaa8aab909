//! The portal in a real browser: headless Chromium (Debian's) drives the
//! pages served by the `portal` binary, which reads a real district suite
//! over gRPC. Admins sign in through an identity provider by the OIDC
//! authorization code flow with PKCE, as at the city. Screenshots of every
//! page are kept under `target/screenshots/`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use dualreport_platform::auth::Role;
use dualreport_testkit::mint;
use dualreport_testkit::process::ServiceProcess;
use e2e::browser::Browser;
use e2e::city::last_half;
use e2e::{Backend, Suite};
use sha2::Digest as _;

/// The city's identity provider, as far as the portal sees it: it signs in
/// whoever `identity` names (a real one would ask for a password first).
#[derive(Clone, Default)]
struct IdentityProvider {
    identity: Arc<Mutex<Option<(Role, String)>>>,
    /// code → (PKCE challenge, redirect_uri)
    codes: Arc<Mutex<HashMap<String, (String, String)>>>,
}

const CLIENT_SECRET: &str = "portal-client-secret";

#[derive(serde::Deserialize)]
struct Authorize {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    state: String,
    code_challenge: String,
    code_challenge_method: String,
}

async fn authorize(State(idp): State<IdentityProvider>, Query(q): Query<Authorize>) -> Response {
    assert_eq!(
        (
            q.response_type.as_str(),
            q.client_id.as_str(),
            q.code_challenge_method.as_str()
        ),
        ("code", "dualreport-portal", "S256")
    );
    let code = format!("code-{}", idp.codes.lock().expect("codes").len());
    idp.codes
        .lock()
        .expect("codes")
        .insert(code.clone(), (q.code_challenge, q.redirect_uri.clone()));
    Redirect::to(&format!("{}?code={code}&state={}", q.redirect_uri, q.state)).into_response()
}

#[derive(serde::Deserialize)]
struct TokenRequest {
    grant_type: String,
    code: String,
    redirect_uri: String,
    client_secret: String,
    code_verifier: String,
}

async fn token(State(idp): State<IdentityProvider>, Form(form): Form<TokenRequest>) -> Response {
    let Some((challenge, redirect_uri)) = idp.codes.lock().expect("codes").remove(&form.code) else {
        return (axum::http::StatusCode::BAD_REQUEST, "unknown code").into_response();
    };
    let verified =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(form.code_verifier.as_bytes()));
    if form.grant_type != "authorization_code"
        || verified != challenge
        || redirect_uri != form.redirect_uri
        || form.client_secret != CLIENT_SECRET
    {
        return (axum::http::StatusCode::BAD_REQUEST, "invalid_grant").into_response();
    }
    let (role, org) = idp.identity.lock().expect("identity").clone().expect("an identity");
    let access_token = mint(role, Some(&org), None, 3600);
    let body = serde_json::json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 3600});
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn start_identity_provider() -> (IdentityProvider, String) {
    let idp = IdentityProvider::default();
    let app = axum::Router::new()
        .route("/authorize", axum::routing::get(authorize))
        .route("/token", axum::routing::post(token))
        .with_state(idp.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (idp, url)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[tokio::test]
async fn the_portal_shows_the_board_and_keeps_admin_pages_to_admins() {
    let suite = Suite::start(Backend::Sqlite, &[]).await;
    let period = last_half();
    let zhang = suite.reported_member("张晓明", &period).await;
    let li = suite.reported_member("李红梅", &period).await;
    let wang = suite.reported_member("王建国", &period).await;
    // 李 4 services, 王 2, 张 1: the board's order is 李, 王, 张.
    suite
        .publish_settlement(&period, &[(&zhang, 1), (&li, 4), (&wang, 2)])
        .await;

    let (idp, idp_url) = start_identity_provider().await;
    let secret_dir = tempfile::tempdir().expect("dir");
    let secret = secret_dir.path().join("client-secret");
    std::fs::write(&secret, CLIENT_SECRET).expect("secret");
    let port = free_port();
    let portal_url = format!("http://127.0.0.1:{port}");
    let portal = ServiceProcess::start(
        "portal",
        &[
            ("DUALREPORT__SERVER__PORT", port.to_string()),
            ("DUALREPORT__REGISTRY__URL", suite.registry.url()),
            ("DUALREPORT__VOLUNTEERING__URL", suite.volunteering.url()),
            ("DUALREPORT__SCORING__URL", suite.scoring.url()),
            ("DUALREPORT__FEEDBACK__URL", suite.feedback.url()),
            ("DUALREPORT__PORTAL__PUBLIC_URL", portal_url.clone()),
            ("DUALREPORT__PORTAL__SECURE_COOKIES", "false".into()),
            (
                "DUALREPORT__OIDC__AUTHORIZATION_ENDPOINT",
                format!("{idp_url}/authorize"),
            ),
            ("DUALREPORT__OIDC__TOKEN_ENDPOINT", format!("{idp_url}/token")),
            ("DUALREPORT__OIDC__CLIENT_ID", "dualreport-portal".into()),
            ("DUALREPORT__OIDC__CLIENT_SECRET_FILE", secret.display().to_string()),
        ],
    );
    assert_eq!(portal.port, port);

    let browser = Browser::start(1280, 900).await;
    let a = suite.city.community_a.id.clone();
    let key = format!("{}H{}", period.year, if period.half == 1 { 1 } else { 2 });

    // The public board: the published order, stars drawn, a QR code, and
    // nothing personal beyond the names a notice shows.
    browser.open(&format!("{portal_url}/board/{a}?period={key}")).await;
    assert!(browser.text("#board-title").await.contains("农科路社区"));
    let names = browser.texts("#board td.name").await;
    assert_eq!(
        names,
        ["李红梅", "王建国", "张晓明"],
        "the published settlement's order"
    );
    let page = browser.source().await;
    assert!(page.contains(r#"aria-label="2星""#), "stars are drawn as stars");
    assert!(page.contains("<svg") && browser.text("#qr").await.contains("扫码"));
    for phone in ["13812345678", "138****5678", "5678"] {
        assert!(
            !page.contains(phone),
            "a member's phone ({phone}) must never appear on the board"
        );
    }
    browser.screenshot("portal-board").await;
    browser.resize(390, 844).await;
    browser.screenshot("portal-board-phone").await;
    browser.resize(1920, 1080).await;
    browser.screenshot("portal-board-wall").await;
    browser.resize(1280, 900).await;

    // A visitor is refused the admin pages, and sees none of their figures.
    browser.open(&format!("{portal_url}/admin")).await;
    assert!(browser.text("#refusal").await.contains("请先登录"));
    assert!(!browser.source().await.contains("报到率"));
    browser.screenshot("portal-admin-refused").await;
    let raw = reqwest::get(format!("{portal_url}/admin")).await.expect("GET /admin");
    assert_eq!(raw.status(), 401);

    // An admin signs in at the identity provider and sees the dashboard of
    // their own community.
    *idp.identity.lock().expect("identity") = Some((Role::CommunityAdmin, a.clone()));
    browser.open(&format!("{portal_url}/login")).await;
    browser.click("#oidc-login").await;
    browser
        .wait_for_url("the dashboard after signing in", |url| url.contains("/admin"))
        .await;
    assert!(
        browser.current_url().await.starts_with(&format!("{portal_url}/admin")),
        "back at the dashboard: {}",
        browser.current_url().await
    );
    assert!(browser.text("#dashboard-title").await.contains("农科路社区"));
    assert!(browser.text("#community-reports").await.contains("农科路社区"));
    assert!(
        browser.text("#stars").await.contains("共3人"),
        "{}",
        browser.text("#stars").await
    );
    assert!(browser.text("#health").await.contains("scoring"));
    let page = browser.source().await;
    assert!(!page.contains("13812345678") && !page.contains("138****5678"));
    browser.screenshot("portal-dashboard").await;

    // …and not another community's.
    let b = suite.city.community_b.id.clone();
    browser.open(&format!("{portal_url}/admin?org={b}")).await;
    assert!(browser.text("#refusal").await.contains("无权查看"));
    browser.screenshot("portal-admin-out-of-scope").await;

    // Signing out ends the session.
    browser.open(&format!("{portal_url}/admin")).await;
    browser.click("header button").await;
    let home = format!("{portal_url}/");
    browser
        .wait_for_url("the home page after signing out", |url| url == home)
        .await;
    browser.open(&format!("{portal_url}/admin")).await;
    assert!(browser.text("#refusal").await.contains("请先登录"));
}
