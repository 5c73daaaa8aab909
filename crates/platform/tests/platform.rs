//! Platform tests that need no server: token verification with every key kind,
//! settings layering, and error details.

use std::collections::HashMap;

use dualreport_platform::auth::{AuthError, Authenticator, Role, Scope, claims};
use dualreport_platform::settings::AuthSettings;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use secrecy::SecretString;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys");

fn key_path(name: &str) -> String {
    format!("{KEYS}/{name}")
}

fn settings() -> AuthSettings {
    AuthSettings {
        dev_hs256_secret: None,
        public_key_files: Vec::new(),
        jwks_file: None,
        issuer: None,
        audience: None,
        leeway_secs: 0,
        service_token_file: None,
        key_reload_secs: 10,
    }
}

fn sign(algorithm: Algorithm, kid: Option<&str>, private_pem: &str, c: &dualreport_platform::auth::Claims) -> String {
    let pem = std::fs::read(key_path(private_pem)).expect("private key");
    let key = match algorithm {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
        _ => EncodingKey::from_ec_pem(&pem),
    }
    .expect("encoding key");
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    encode(&header, c, &key).expect("sign")
}

fn admin() -> dualreport_platform::auth::Claims {
    claims("alice", Role::DistrictAdmin, Some("d1"), None, 600)
}

#[test]
fn rs256_and_es256_public_keys_verify_their_tokens_only() {
    let authenticator = Authenticator::from_settings(&AuthSettings {
        public_key_files: vec![key_path("rsa-public.pem"), key_path("ec-public.pem")],
        ..settings()
    })
    .expect("authenticator");
    for (algorithm, private) in [
        (Algorithm::RS256, "rsa-private.pem"),
        (Algorithm::ES256, "ec-private.pem"),
    ] {
        let principal = authenticator
            .verify(&sign(algorithm, None, private, &admin()))
            .expect("verifies");
        assert_eq!(principal.role, Role::DistrictAdmin);
        assert_eq!(principal.scope, Scope::Org("d1".into()));
    }
    // HS256 is not accepted when only public keys are configured.
    let hs = encode(&Header::default(), &admin(), &EncodingKey::from_secret(&[1; 32])).expect("sign");
    assert_eq!(authenticator.verify(&hs), Err(AuthError::BadSignature));
    // Minting needs a development key.
    assert!(authenticator.mint(&admin()).is_err());
}

#[test]
fn jwks_keys_are_chosen_by_kid() {
    let authenticator = Authenticator::from_settings(&AuthSettings {
        jwks_file: Some(key_path("jwks.json")),
        ..settings()
    })
    .expect("authenticator");
    let token = sign(Algorithm::RS256, Some("rsa-1"), "rsa-private.pem", &admin());
    assert_eq!(authenticator.verify(&token).expect("verifies").subject, "alice");
    let unknown_kid = sign(Algorithm::RS256, Some("rsa-2"), "rsa-private.pem", &admin());
    assert_eq!(authenticator.verify(&unknown_kid), Err(AuthError::BadSignature));
}

#[test]
fn a_rotated_jwks_is_read_again_without_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let jwks = dir.path().join("jwks.json");
    let original = std::fs::read_to_string(key_path("jwks.json")).expect("jwks");
    std::fs::write(&jwks, &original).expect("write");
    let authenticator = Authenticator::from_settings(&AuthSettings {
        jwks_file: Some(jwks.display().to_string()),
        key_reload_secs: 0,
        ..settings()
    })
    .expect("authenticator");
    let old = sign(Algorithm::RS256, Some("rsa-1"), "rsa-private.pem", &admin());
    let new = sign(Algorithm::RS256, Some("rsa-2"), "rsa-private.pem", &admin());
    assert!(authenticator.verify(&old).is_ok());
    assert_eq!(authenticator.verify(&new), Err(AuthError::BadSignature));
    // The identity provider rotates: the Secret now carries kid rsa-2 only.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&jwks, original.replace("\"rsa-1\"", "\"rsa-2\"")).expect("rotate");
    assert!(
        authenticator.verify(&new).is_ok(),
        "the new key is read without a restart"
    );
    assert_eq!(
        authenticator.verify(&old),
        Err(AuthError::BadSignature),
        "the dropped key no longer verifies"
    );
    // A half-written update keeps the keys that worked.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&jwks, "{ not json").expect("garble");
    assert!(authenticator.verify(&new).is_ok());
}

#[test]
fn expired_malformed_and_misissued_tokens_are_refused() {
    let authenticator = Authenticator::from_settings(&AuthSettings {
        dev_hs256_secret: Some(SecretString::from("0123456789abcdef0123456789abcdef")),
        issuer: Some("https://idp.example".into()),
        ..settings()
    })
    .expect("authenticator");
    let mut c = admin();
    c.iss = Some("https://idp.example".into());
    assert!(authenticator.verify(&authenticator.mint(&c).expect("mint")).is_ok());
    let mut expired = c.clone();
    expired.exp = expired.iat - 60;
    assert_eq!(
        authenticator.verify(&authenticator.mint(&expired).expect("mint")),
        Err(AuthError::Expired)
    );
    let mut other_issuer = c.clone();
    other_issuer.iss = Some("https://elsewhere".into());
    assert!(matches!(
        authenticator.verify(&authenticator.mint(&other_issuer).expect("mint")),
        Err(AuthError::Rejected(_))
    ));
    assert_eq!(authenticator.verify("a.b"), Err(AuthError::Malformed));
    let mut member_without_id = c;
    member_without_id.role = Role::Member;
    member_without_id.org = None;
    assert!(matches!(
        authenticator.verify(&authenticator.mint(&member_without_id).expect("mint")),
        Err(AuthError::Rejected(_))
    ));
}

#[test]
fn short_development_secrets_are_refused() {
    let error = Authenticator::from_settings(&AuthSettings {
        dev_hs256_secret: Some(SecretString::from("short")),
        ..settings()
    })
    .expect_err("too short");
    assert!(error.to_string().contains("at least 32 bytes"));
    assert!(Authenticator::from_settings(&settings()).is_err(), "no keys at all");
}

#[derive(Debug, serde::Deserialize)]
struct Example {
    server: dualreport_platform::settings::ServerSettings,
    database: dualreport_platform::settings::DatabaseSettings,
    telemetry: dualreport_platform::settings::TelemetrySettings,
    auth: AuthSettings,
    extra: HashMap<String, String>,
}

const EXAMPLE_DEFAULTS: &str = "[server]\nport = 7000\n[database]\nurl = \"sqlite::memory:\"\n[extra]\nk = \"v\"\n";

#[test]
fn settings_layer_defaults_file_and_never_print_secrets() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("settings.toml");
    std::fs::write(
        &file,
        "[server]\nport = 7001\nrequest_timeout_ms = 1234\n[auth]\ndev_hs256_secret = \"very-secret-value-0123456789abcdef\"\n",
    )
    .expect("write");
    let loaded: Example =
        dualreport_platform::settings::load(EXAMPLE_DEFAULTS, std::slice::from_ref(&file)).expect("load");
    assert_eq!(loaded.server.port, 7001, "the file wins over the service default");
    assert_eq!(loaded.server.request_timeout_ms, 1234);
    assert_eq!(
        loaded.server.concurrency_limit, None,
        "platform default: sized to the pool"
    );
    assert_eq!(loaded.server.concurrency_limit(10), 40, "four per connection");
    assert_eq!(loaded.server.concurrency_limit(1), 16, "at least 16");
    assert_eq!(loaded.database.max_connections, 10, "platform default");
    assert_eq!(loaded.telemetry.log_level, "info", "platform default");
    assert_eq!(loaded.extra["k"], "v");
    assert!(loaded.auth.dev_hs256_secret.is_some());
    let printed = format!("{loaded:?}");
    assert!(!printed.contains("very-secret-value"), "{printed}");
    assert!(
        dualreport_platform::settings::load::<Example>(EXAMPLE_DEFAULTS, &[dir.path().join("missing.toml")]).is_err(),
        "a named file that does not exist is an error"
    );
}

#[test]
fn an_unknown_key_is_refused_naming_it_and_where_it_came_from() {
    use dualreport_platform::settings::load_with_env;
    let dir = tempfile::tempdir().expect("dir");
    let good = dir.path().join("good.toml");
    let typo = dir.path().join("typo.toml");
    std::fs::write(&good, "[server]\nport = 7001\n").expect("write");
    std::fs::write(&typo, "[server]\nprot = 6000\n[servr]\nport = 1\n").expect("write");
    let env = |pairs: &[(&str, &str)]| Some(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
    let error = load_with_env::<Example>(EXAMPLE_DEFAULTS, &[good.clone(), typo.clone()], env(&[]))
        .expect_err("a typo is refused")
        .to_string();
    let shown = typo.display().to_string();
    assert!(error.contains(&format!("`server.prot` (file {shown})")), "{error}");
    assert!(error.contains(&format!("`servr` (file {shown})")), "{error}");
    let error = load_with_env::<Example>(
        EXAMPLE_DEFAULTS,
        std::slice::from_ref(&good),
        env(&[("DUALREPORT__SERVER__PROTO", "1")]),
    )
    .expect_err("an unknown variable is refused")
    .to_string();
    assert!(
        error.contains("`server.proto` (environment variable DUALREPORT__SERVER__PROTO)"),
        "{error}"
    );
    let loaded = load_with_env::<Example>(EXAMPLE_DEFAULTS, &[good], env(&[("DUALREPORT__SERVER__PORT", "7002")]))
        .expect("known keys load");
    assert_eq!(loaded.server.port, 7002, "the environment wins over the file");
}

#[test]
fn invalid_fields_carry_bad_request_and_error_info() {
    use tonic_types::StatusExt as _;
    let status = dualreport_platform::error::invalid_field("profile.phone", "must be a mainland mobile");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let details = status.get_error_details();
    let violation = &details.bad_request().expect("BadRequest").field_violations[0];
    assert_eq!(violation.field, "profile.phone");
    assert_eq!(
        details.error_info().expect("ErrorInfo").reason,
        "ERROR_REASON_INVALID_FIELD"
    );
}

/// The server layer continues the caller's W3C trace; the client interceptor
/// passes the current trace on.
#[tokio::test]
async fn trace_context_is_extracted_by_the_server_layer_and_injected_by_the_client() {
    use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
    use tower::{Layer as _, ServiceExt as _};
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let handler = tower::service_fn(|_request: http::Request<()>| async {
        let span = tracing::Span::current();
        let trace_id = span.context().span().span_context().trace_id().to_string();
        // What this handler would send on to the next service.
        let mut interceptor = dualreport_platform::client::ClientInterceptor::default();
        let outgoing = tonic::service::Interceptor::call(&mut interceptor, tonic::Request::new(())).expect("intercept");
        let traceparent = outgoing
            .metadata()
            .get("traceparent")
            .expect("injected")
            .to_str()
            .expect("ascii")
            .to_owned();
        Ok::<_, std::convert::Infallible>(http::Response::new((trace_id, traceparent)))
    });
    let service = dualreport_platform::trace_context::TraceContextLayer.layer(handler);
    let request = http::Request::builder()
        .uri("/dualreport.registry.v1.RegistryService/GetPolicy")
        .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        .body(())
        .expect("request");
    let (trace_id, traceparent) = service.oneshot(request).await.expect("call").into_body();
    assert_eq!(
        trace_id, "4bf92f3577b34da6a3ce929d0e0e4736",
        "the server span continues the caller's trace"
    );
    assert!(
        traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{traceparent}"
    );
    assert!(
        !traceparent.contains("00f067aa0ba902b7"),
        "the outgoing parent is the server's own span"
    );
}

#[test]
fn service_credentials_come_from_a_token_file_or_the_development_key() {
    use dualreport_platform::client::ServiceCredentials;

    // No way to obtain a token: refused at start-up, not on the first call.
    let error = ServiceCredentials::from_settings(&settings(), "scoring").expect_err("no credentials");
    assert!(error.to_string().contains("service_token_file"), "{error}");

    // Development: a minted `service` token the same key verifies.
    let dev = AuthSettings {
        dev_hs256_secret: Some(SecretString::from("0123456789abcdef0123456789abcdef-dev")),
        ..settings()
    };
    let minted = ServiceCredentials::from_settings(&dev, "scoring").expect("minted");
    let bearer = minted.bearer().expect("bearer");
    let token = bearer
        .to_str()
        .expect("ascii")
        .strip_prefix("Bearer ")
        .expect("bearer prefix");
    let principal = Authenticator::from_settings(&dev)
        .expect("authenticator")
        .verify(token)
        .expect("verifies");
    assert_eq!((principal.role, principal.subject.as_str()), (Role::Service, "scoring"));

    // Production: the mounted token, trimmed; a missing file is an error.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("token");
    std::fs::write(&path, "abc.def.ghi\n").expect("write token");
    let file = AuthSettings {
        service_token_file: Some(path.display().to_string()),
        ..settings()
    };
    let mounted = ServiceCredentials::from_settings(&file, "scoring").expect("file");
    assert_eq!(
        mounted.bearer().expect("bearer").to_str().expect("ascii"),
        "Bearer abc.def.ghi"
    );
    let missing = AuthSettings {
        service_token_file: Some(dir.path().join("absent").display().to_string()),
        ..settings()
    };
    assert!(ServiceCredentials::from_settings(&missing, "scoring").is_err());
}

#[tokio::test]
async fn storage_errors_are_classified_where_they_happen_and_map_to_their_status() {
    use dualreport_platform::failure::{Failure, StorageError};
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect("sqlite::memory:").await.expect("sqlite");
    sqlx::query("CREATE TABLE t (id TEXT PRIMARY KEY)")
        .execute(&mut conn)
        .await
        .expect("create");
    sqlx::query("INSERT INTO t (id) VALUES ('a')")
        .execute(&mut conn)
        .await
        .expect("insert");
    let twice = sqlx::query("INSERT INTO t (id) VALUES ('a')")
        .execute(&mut conn)
        .await
        .expect_err("the key is taken");
    let failure = Failure::from(twice);
    assert!(failure.is_duplicate(), "{failure:?}");
    let wrong = sqlx::query("SELECT nope FROM t")
        .execute(&mut conn)
        .await
        .expect_err("no column");
    let failure = Failure::from(wrong);
    assert!(matches!(failure, Failure::Storage(StorageError::Db(_))), "{failure:?}");
    assert_eq!(tonic::Status::from(failure).code(), tonic::Code::Internal);
    conn.close().await.expect("close");

    let corrupt = Failure::from(StorageError::corrupt("status", "halfway"));
    assert_eq!(corrupt.to_string(), "stored status \"halfway\" is not recognised");
    assert_eq!(tonic::Status::from(corrupt).code(), tonic::Code::Internal);
    assert_eq!(
        tonic::Status::from(Failure::NotFound {
            what: "member",
            id: "m1".into()
        })
        .code(),
        tonic::Code::NotFound
    );
    assert_eq!(
        tonic::Status::from(Failure::Conflict("changed".into())).code(),
        tonic::Code::Aborted
    );
}

#[tokio::test]
async fn stored_columns_that_do_not_parse_are_corrupt_not_defaulted() {
    use dualreport_platform::failure::StorageError;
    use dualreport_platform::rows;
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect("sqlite::memory:").await.expect("sqlite");
    let row = sqlx::query("SELECT 'not json' AS ids, '[\"a\",\"b\"]' AS good, '2026-13-40' AS day, 5000000000 AS year")
        .fetch_one(&mut conn)
        .await
        .expect("row");
    assert!(matches!(rows::list(&row, "ids"), Err(StorageError::Corrupt { .. })));
    assert_eq!(rows::list(&row, "good").expect("list"), ["a", "b"]);
    assert_eq!(rows::list_text(&["a".into(), "b".into()]), "[\"a\",\"b\"]");
    assert!(matches!(rows::date(&row, "day"), Err(StorageError::Corrupt { .. })));
    assert!(matches!(rows::int32(&row, "year"), Err(StorageError::Corrupt { .. })));
    conn.close().await.expect("close");
}
