//! What every service's API tests need: a fresh database on either backend,
//! settings that point at it, development tokens, and authenticated clients.
//!
//! PostgreSQL tests read the admin URL of a throwaway cluster from
//! `DUALREPORT_TEST_POSTGRES_URL` (`make test` starts one) and create a fresh
//! database per test. Without it they fail and say how to run them: a
//! PostgreSQL test that silently skips would prove nothing.

use std::collections::HashMap;

use base64::Engine as _;
use dualreport_platform::auth::{Authenticator, Role, claims};
use dualreport_platform::client::ClientInterceptor;
use dualreport_platform::settings::{AuthSettings, DatabaseSettings, LogFormat, ServerSettings, TelemetrySettings};
use secrecy::SecretString;
use sqlx::Connection as _;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// The development signing secret every test server trusts.
pub const TEST_SECRET: &str = "dualreport-test-secret-0123456789abcdef";

/// The store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database; SQLite files live in a temp dir removed on drop.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Self { url, _dir: Some(dir) }
            }
            Backend::Postgres => {
                let admin = std::env::var("DUALREPORT_TEST_POSTGRES_URL").expect(
                    "DUALREPORT_TEST_POSTGRES_URL is not set: run the PostgreSQL tests with `make test`, \
                     which starts a throwaway cluster",
                );
                let name = format!("t_{}", uuid::Uuid::now_v7().simple());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .expect("connect to the test cluster");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let (base, _) = admin
                    .rsplit_once('/')
                    .expect("DUALREPORT_TEST_POSTGRES_URL ends in /<database>");
                Self {
                    url: format!("{base}/{name}"),
                    _dir: None,
                }
            }
        }
    }

    pub fn settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: SecretString::from(self.url.clone()),
            url_file: None,
            max_connections: 5,
            acquire_timeout_ms: 3_000,
        }
    }
}

/// Server settings on 127.0.0.1, port 0.
pub fn server_settings() -> ServerSettings {
    ServerSettings {
        host: "127.0.0.1".into(),
        port: 0,
        request_timeout_ms: 10_000,
        long_request_timeout_ms: 120_000,
        concurrency_limit: Some(64),
        // Tests fire many parallel calls with one token.
        per_caller_concurrency_limit: Some(64),
        request_idle_timeout_ms: 5_000,
        max_streams_per_connection: 128,
        max_message_bytes: 4 * 1024 * 1024,
        drain_timeout_ms: 1_000,
        metrics_port: None,
        tls: None,
    }
}

pub fn telemetry_settings() -> TelemetrySettings {
    TelemetrySettings {
        log_format: LogFormat::Pretty,
        log_level: "warn".into(),
        otlp_endpoint: None,
    }
}

/// Auth settings that trust [`TEST_SECRET`].
pub fn auth_settings() -> AuthSettings {
    AuthSettings {
        dev_hs256_secret: Some(SecretString::from(TEST_SECRET)),
        public_key_files: Vec::new(),
        jwks_file: None,
        issuer: None,
        audience: None,
        leeway_secs: 0,
        service_token_file: None,
        key_reload_secs: 10,
    }
}

/// One personal-information key, `test`.
pub fn pii_keys() -> HashMap<String, SecretString> {
    HashMap::from([("test".to_owned(), SecretString::from(pii_key_base64()))])
}

/// The `test` personal-information key, base64.
pub fn pii_key_base64() -> String {
    base64::engine::general_purpose::STANDARD.encode([7u8; 32])
}

/// A token for an admin role scoped to `org`.
pub fn admin_token(role: Role, org: &str) -> String {
    mint(role, Some(org), None, 3600)
}

/// A token for a member.
pub fn member_token(member: &str) -> String {
    mint(Role::Member, None, Some(member), 3600)
}

pub fn service_token() -> String {
    mint(Role::Service, None, None, 3600)
}

/// Any token signed with the test secret; `ttl_secs` 0 gives one already expired.
pub fn mint(role: Role, org: Option<&str>, member: Option<&str>, ttl_secs: u64) -> String {
    let authenticator = Authenticator::from_settings(&auth_settings()).expect("test auth settings");
    let mut c = claims(&format!("test-{}", role.as_str()), role, org, member, ttl_secs);
    if ttl_secs == 0 {
        c.exp = c.iat.saturating_sub(120);
    }
    authenticator.mint(&c).expect("mint")
}

/// A lazily connecting channel to a local port.
pub fn channel(port: u16) -> Channel {
    Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("uri")
        .connect_lazy()
}

/// A channel that sends `token` with every call.
pub fn authed(channel: Channel, token: &str) -> InterceptedService<Channel, ClientInterceptor> {
    InterceptedService::new(channel, ClientInterceptor::with_token(token).expect("ascii token"))
}

pub mod access;
pub mod audit;
pub mod bench;
pub mod paging;
pub mod process;
pub mod raw;
pub mod registry;
pub mod seed;
pub mod tls;
pub mod webhook;

use tonic::{Code, Status};
use tonic_types::StatusExt as _;

/// Asserts an InvalidArgument whose BadRequest names `field`.
pub fn assert_invalid(status: &Status, field: &str) {
    assert_invalid_because(status, field, "ERROR_REASON_INVALID_FIELD");
}

/// `INVALID_ARGUMENT` naming `field`, with a precise ErrorInfo reason.
pub fn assert_invalid_because(status: &Status, field: &str, reason: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    let bad = details
        .bad_request()
        .unwrap_or_else(|| panic!("no BadRequest in {status:?}"));
    assert!(
        bad.field_violations.iter().any(|v| v.field == field),
        "expected a violation of {field}, got {:?}",
        bad.field_violations
    );
    let info = details.error_info().expect("ErrorInfo");
    assert_eq!(info.reason, reason);
    assert_eq!(info.domain, "dualreport");
}

/// Asserts the code and the ErrorInfo reason.
pub fn assert_reason(status: &Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    let details = status.get_error_details();
    let info = details
        .error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
    assert_eq!(info.reason, reason, "{status:?}");
}

/// Generates `sqlite::name` and `postgres::name` tests from `async fn name(Backend)`:
/// every API test runs on both stores, the conformance suite they must both pass.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::$name($crate::Backend::Sqlite).await } )+
        }
        mod postgres {
            $( #[tokio::test] async fn $name() { super::$name($crate::Backend::Postgres).await } )+
        }
    };
}
