//! The platform as the registry serves it: health, auth, load shedding.

use dualreport_platform::auth::Role;
use dualreport_proto::registry::v1 as pb;
use dualreport_testkit::{admin_token, mint};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::*;

async fn health_is_serving_without_a_token(backend: Backend) {
    let app = spawn(backend).await;
    let mut health = HealthClient::new(app.channel.clone());
    for service in ["", "dualreport.registry.v1.RegistryService"] {
        let response = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health")
            .into_inner();
        assert_eq!(response.status, ServingStatus::Serving as i32);
    }
}

async fn bad_tokens_are_unauthenticated(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let foreign = {
        use jsonwebtoken::{EncodingKey, Header, encode};
        let claims = dualreport_platform::auth::claims("x", Role::CityAdmin, Some("city"), None, 3600);
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(b"another-secret-another-secret-xx"),
        )
        .expect("encode")
    };
    let cases = [
        ("not.a.jwt".to_owned(), "malformed"),
        (mint(Role::CityAdmin, Some("city"), None, 0), "expired"),
        (foreign, "signature"),
        (mint(Role::CityAdmin, None, None, 3600), "org claim"),
    ];
    for (token, why) in cases {
        let status = app
            .client(&token)
            .get_policy(pb::GetPolicyRequest {})
            .await
            .expect_err(why);
        assert_reason(&status, Code::Unauthenticated, "ERROR_REASON_UNAUTHENTICATED");
        assert!(status.message().contains(why), "{why}: {}", status.message());
    }
    let mut anonymous =
        dualreport_proto::registry::v1::registry_service_client::RegistryServiceClient::new(app.channel.clone());
    let status = anonymous
        .get_policy(pb::GetPolicyRequest {})
        .await
        .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);

    // A role whose org is of the wrong kind is refused.
    let status = app
        .client(&admin_token(Role::CommunityAdmin, &city.unit.id))
        .list_register(pb::ListRegisterRequest {
            community_id: city.unit.id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("community admin of a unit");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let policy = app
        .city()
        .get_policy(pb::GetPolicyRequest {})
        .await
        .expect("policy")
        .into_inner()
        .policy
        .expect("policy");
    assert_eq!(
        (policy.preset.as_str(), policy.base_points, policy.points_per_star),
        ("S4", 5, 10)
    );
}

async fn requests_beyond_the_concurrency_limit_are_shed(backend: Backend) {
    let app = spawn_with(backend, |s| s.server.concurrency_limit = Some(1)).await;
    let mut city = app.city();
    // An open client stream holds the only permit.
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::ImportMembersRequest>(1);
    let mut importer = city.clone();
    let open = tokio::spawn(async move {
        let mut replies = importer
            .import_members(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await?
            .into_inner();
        while replies.message().await?.is_some() {}
        Ok::<_, tonic::Status>(())
    });
    let mut shed = None;
    for _ in 0..50 {
        match city.get_policy(pb::GetPolicyRequest {}).await {
            Err(status) => {
                shed = Some(status);
                break;
            }
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    let status = shed.expect("a request was shed while the stream was open");
    assert_reason(&status, Code::ResourceExhausted, "ERROR_REASON_OVERLOADED");
    drop(tx);
    open.await.expect("join").expect("import of nothing");
    city.get_policy(pb::GetPolicyRequest {})
        .await
        .expect("served again once the permit is free");
}

async fn an_import_batch_past_the_deadline_is_cut_off_and_leaves_nothing(backend: Backend) {
    // The deadline bounds each batch of an import stream, not the stream.
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let app = app.restart_with(|s| s.server.request_timeout_ms = 1).await;
    let rows: Vec<_> = (0..5_000)
        .map(|i| dualreport_testkit::registry::profile(&format!("成员{i}"), &city.unit.id, &city.community_a.id))
        .collect();
    let mut replies = app
        .city()
        .import_members(tokio_stream::iter(vec![pb::ImportMembersRequest {
            request_id: "slow".into(),
            rows,
        }]))
        .await
        .expect("the stream opens")
        .into_inner();
    let status = replies.message().await.expect_err("cut off");
    assert_reason(&status, Code::DeadlineExceeded, "ERROR_REASON_BATCH_TOO_SLOW");
    let app = app.restart_with(|s| s.server.request_timeout_ms = 10_000).await;
    let listed = app
        .city()
        .list_members(pb::ListMembersRequest {
            unit_org_id: city.unit.id.clone(),
            ..Default::default()
        })
        .await
        .expect("the server carries on")
        .into_inner();
    assert!(listed.members.is_empty(), "nothing of the batch was kept");
}

/// The deadline bounds every call, except the few whose work grows with a
/// district (district statistics), which get the long-request budget.
async fn district_statistics_get_the_long_deadline_and_other_calls_do_not(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let rows: Vec<_> = (0..5_000)
        .map(|i| dualreport_testkit::registry::profile(&format!("成员{i}"), &city.unit.id, &city.community_a.id))
        .collect();
    let replies = dualreport_testkit::registry::import(
        &mut app.city(),
        vec![pb::ImportMembersRequest {
            request_id: "roster".into(),
            rows,
        }],
    )
    .await;
    assert!(replies[0].committed);
    let app = app.restart_with(|s| s.server.request_timeout_ms = 1).await;
    let status = app
        .city()
        .list_not_reported_members(pb::ListNotReportedMembersRequest {
            org_id: city.district.id.clone(),
            year: this_year(),
            page_size: 500,
            page_token: String::new(),
        })
        .await
        .expect_err("past the 1 ms deadline");
    assert_eq!(status.code(), Code::Cancelled, "{status:?}");
    // On SQLite's one connection the cut-off query may still hold it for a
    // moment (the call then answers the retryable UNAVAILABLE): retry that.
    let mut answer = None;
    for _ in 0..5 {
        match app
            .city()
            .get_report_statistics(pb::GetReportStatisticsRequest {
                org_id: city.district.id.clone(),
                year: this_year(),
            })
            .await
        {
            Err(status) if status.code() == Code::Unavailable => continue,
            other => {
                answer = Some(other);
                break;
            }
        }
    }
    let stats = answer
        .expect("answered")
        .expect("long-running: answered within server.long_request_timeout_ms")
        .into_inner();
    assert!(stats.units.iter().any(|u| u.registered_members == 5_000));
}

async fn messages_over_the_limit_are_refused(backend: Backend) {
    let app = spawn(backend).await;
    let status = app
        .city()
        .get_organization(pb::GetOrganizationRequest {
            organization_id: "x".repeat(5 * 1024 * 1024),
        })
        .await
        .expect_err("over 4 MiB");
    assert_reason(&status, Code::ResourceExhausted, "ERROR_REASON_MESSAGE_TOO_LARGE");
    app.city()
        .get_policy(pb::GetPolicyRequest {})
        .await
        .expect("the server carries on");
}

/// Bytes that are not a `GetOrganizationRequest` are the caller's fault:
/// `INVALID_ARGUMENT`, never `INTERNAL` (which means a bug of ours).
async fn undecodable_requests_are_invalid_arguments(backend: Backend) {
    let app = spawn(backend).await;
    let token = admin_token(Role::CityAdmin, "city");
    let path = "/dualreport.registry.v1.RegistryService/GetOrganization";
    let hostile: [(&str, Vec<u8>); 4] = [
        ("invalid varint", vec![0xff; 11]),
        ("truncated", vec![0x0a, 0x10, b'a']),
        ("wrong wire type", vec![0x08, 0x01]),
        ("invalid UTF-8", vec![0x0a, 0x02, 0xff, 0xfe]),
    ];
    for (what, body) in hostile {
        let status = dualreport_testkit::raw::unary(&app.channel, path, &token, body)
            .await
            .expect_err(what);
        assert_reason(&status, Code::InvalidArgument, "ERROR_REASON_MALFORMED_REQUEST");
    }
    // A well-formed message of an unknown id is still a plain NOT_FOUND.
    let status = dualreport_testkit::raw::unary(&app.channel, path, &token, vec![0x0a, 0x01, b'x'])
        .await
        .expect_err("unknown org");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

/// Ids, request ids and enums are bounded; an error quotes at most a short
/// prefix of a bad value, and a refused call writes nothing.
async fn oversized_ids_and_unknown_enums_are_refused_briefly(backend: Backend) {
    let app = spawn(backend).await;
    let mut city = app.city();
    let huge = "x".repeat(1024 * 1024);
    let status = city
        .get_organization(pb::GetOrganizationRequest {
            organization_id: huge.clone(),
        })
        .await
        .expect_err("a megabyte id");
    assert_invalid(&status, "organization_id");
    assert!(
        status.message().len() < 200,
        "{} bytes of message",
        status.message().len()
    );

    let status = city
        .create_organization(pb::CreateOrganizationRequest {
            request_id: huge,
            organization: Some(dualreport_testkit::registry::org_input(
                "金水区",
                pb::OrganizationType::District,
                "city",
            )),
        })
        .await
        .expect_err("a megabyte request_id");
    assert_invalid(&status, "request_id");
    let listed = city
        .list_organizations(pb::ListOrganizationsRequest {
            parent_id: "city".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .organizations;
    assert!(listed.is_empty(), "nothing was created: {listed:?}");

    let status = city
        .get_member(pb::GetMemberRequest {
            member_id: "m1".into(),
            view: 999,
        })
        .await
        .expect_err("unknown view");
    assert_invalid(&status, "view");
}

/// An opened client stream that sends nothing gives its permit back after
/// `server.request_idle_timeout_ms`, long before the request timeout.
async fn idle_client_streams_end_early(backend: Backend) {
    let app = spawn_with(backend, |s| {
        s.server.concurrency_limit = Some(1);
        s.server.request_idle_timeout_ms = 300;
    })
    .await;
    let (_tx, rx) = tokio::sync::mpsc::channel::<pb::ImportMembersRequest>(1);
    let started = std::time::Instant::now();
    let status = app
        .city()
        .import_members(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("the stream opens")
        .into_inner()
        .message()
        .await
        .expect_err("idle stream ended");
    assert_reason(&status, Code::DeadlineExceeded, "ERROR_REASON_REQUEST_IDLE");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "ended by the idle timeout"
    );
    app.city()
        .get_policy(pb::GetPolicyRequest {})
        .await
        .expect("the permit is free again");
}

/// One caller holding its share of the limit is shed; others are served, and
/// health is never shed (a busy pod must still pass its probes).
async fn one_caller_cannot_starve_the_others(backend: Backend) {
    let app = spawn_with(backend, |s| {
        s.server.concurrency_limit = Some(2);
        s.server.per_caller_concurrency_limit = Some(1);
    })
    .await;
    let hog = app.city();
    let (_hold, rx) = tokio::sync::mpsc::channel::<pb::ImportMembersRequest>(1);
    let mut importer = hog.clone();
    let _open = tokio::spawn(async move {
        importer
            .import_members(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
    });
    let mut refused = None;
    for _ in 0..50 {
        match hog.clone().get_policy(pb::GetPolicyRequest {}).await {
            Err(status) => {
                refused = Some(status);
                break;
            }
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    let status = refused.expect("the hog's second call is shed");
    assert_reason(&status, Code::ResourceExhausted, "ERROR_REASON_OVERLOADED");
    app.admin(Role::DistrictAdmin, "city")
        .get_policy(pb::GetPolicyRequest {})
        .await
        .expect("another caller is served");

    // A second hog takes the last permit: now health must still answer.
    let (_hold2, rx2) = tokio::sync::mpsc::channel::<pb::ImportMembersRequest>(1);
    let mut second = app.admin(Role::StreetAdmin, "city");
    let _open2 = tokio::spawn(async move {
        second
            .import_members(tokio_stream::wrappers::ReceiverStream::new(rx2))
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut health = HealthClient::new(app.channel.clone());
    for _ in 0..10 {
        let reply = health
            .check(HealthCheckRequest { service: String::new() })
            .await
            .expect("health is not shed");
        assert_eq!(reply.into_inner().status, ServingStatus::Serving as i32);
    }
}

/// SIGTERM ends an open `Health/Watch` stream with `UNAVAILABLE` at once, so
/// the pod exits in well under the drain deadline.
#[tokio::test]
async fn open_streams_end_on_shutdown() {
    let mut registry =
        dualreport_testkit::registry::start_registry_with(&[("DUALREPORT__SERVER__DRAIN_TIMEOUT_MS", "20000".into())]);
    let channel = dualreport_testkit::channel(registry.port);
    let mut watch = HealthClient::new(channel)
        .watch(HealthCheckRequest { service: String::new() })
        .await
        .expect("watch")
        .into_inner();
    let first = watch.message().await.expect("first status").expect("a status");
    assert_eq!(first.status, ServingStatus::Serving as i32);
    let stream = tokio::spawn(async move {
        loop {
            match watch.message().await {
                Ok(Some(_)) => continue,
                Ok(None) => return None,
                Err(status) => return Some(status),
            }
        }
    });
    let (took, clean) = tokio::task::spawn_blocking(move || registry.terminate())
        .await
        .expect("join");
    assert!(clean, "exited cleanly");
    assert!(took < std::time::Duration::from_secs(2), "exited in {took:?}");
    let ended = stream.await.expect("join").expect("the stream ends with a status");
    assert_eq!(ended.code(), Code::Unavailable, "{ended:?}");
}

async fn metrics_count_requests_by_method_and_code(backend: Backend) {
    let app = spawn_with(backend, |s| s.server.metrics_port = Some(0)).await;
    let port = app.metrics_port.expect("metrics endpoint");
    let mut city = app.city();
    city.get_policy(pb::GetPolicyRequest {}).await.expect("policy");
    let refused = city
        .get_member(pb::GetMemberRequest {
            member_id: "nobody".into(),
            view: pb::MemberView::Masked as i32,
        })
        .await
        .expect_err("not found");
    assert_eq!(refused.code(), Code::NotFound);
    // A path no contract has is counted, but not as a series of its own.
    let mut unknown = tonic::client::Grpc::new(app.channel.clone());
    unknown.ready().await.expect("ready");
    let _ = unknown
        .unary::<(), (), _>(
            tonic::Request::new(()),
            http::uri::PathAndQuery::from_static("/made.Up/Path"),
            tonic_prost::ProstCodec::default(),
        )
        .await;

    let text = http_get(port, "/metrics").await;
    let service = "grpc_service=\"dualreport.registry.v1.RegistryService\"";
    // The registry is process-wide, so under `cargo test` other tests' calls add to
    // these series: each must exist and count at least this test's call.
    let count = |series: String| -> u64 {
        text.lines()
            .find_map(|line| line.strip_prefix(&series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("missing {series} in\n{text}"))
    };
    assert!(
        count(format!(
            "grpc_server_handled_total{{grpc_code=\"Ok\",grpc_method=\"GetPolicy\",{service}}}"
        )) >= 1
    );
    assert!(
        count(format!(
            "grpc_server_handled_total{{grpc_code=\"NotFound\",grpc_method=\"GetMember\",{service}}}"
        )) >= 1
    );
    assert!(
        count(format!(
            "grpc_server_handling_seconds_count{{grpc_method=\"GetPolicy\",{service}}}"
        )) >= 1
    );
    assert!(text.contains("grpc_service=\"unknown\""), "{text}");
    assert!(!text.contains("made.Up"), "{text}");
    assert!(http_get(port, "/other").await.is_empty(), "only /metrics is served");
}

async fn mutual_tls_is_required_when_configured(backend: Backend) {
    let pki = dualreport_testkit::tls::TestPki::new();
    let app = spawn_with(backend, |s| s.server.tls = Some(pki.server_mutual())).await;
    let tls_channel = |with_certificate: bool| {
        tonic::transport::Endpoint::from_shared(format!("https://127.0.0.1:{}", app.port))
            .expect("uri")
            .tls_config(dualreport_platform::tls::client_config(&pki.client(with_certificate)).expect("tls"))
            .expect("tls config")
            .connect_lazy()
    };
    let token = admin_token(Role::CityAdmin, "city");
    let policy = |channel| {
        let mut client = dualreport_proto::registry::v1::registry_service_client::RegistryServiceClient::new(
            dualreport_testkit::authed(channel, &token),
        );
        async move { client.get_policy(pb::GetPolicyRequest {}).await }
    };
    policy(tls_channel(true))
        .await
        .expect("mutual TLS with the CA's client certificate");
    assert!(
        policy(tls_channel(false)).await.is_err(),
        "no client certificate: refused"
    );
    assert!(policy(app.channel.clone()).await.is_err(), "plaintext: refused");

    // `probe` speaks TLS too (the chart's exec probes and helm test use it).
    let port = app.port;
    let probe = move |with_certificate: bool| {
        let mut args = vec![
            "probe".to_owned(),
            "--url".to_owned(),
            format!("https://127.0.0.1:{port}"),
            "--ca-file".to_owned(),
            pki.path("ca.pem"),
            "--domain".to_owned(),
            "localhost".to_owned(),
        ];
        if with_certificate {
            args.extend([
                "--cert-file".to_owned(),
                pki.path("client.pem"),
                "--key-file".to_owned(),
                pki.path("client-key.pem"),
            ]);
        }
        std::process::Command::new(env!("CARGO_BIN_EXE_registry"))
            .args(args)
            .output()
            .expect("run probe")
            .status
            .success()
    };
    let (with, without) = tokio::task::spawn_blocking(move || (probe(true), probe(false)))
        .await
        .expect("join");
    assert!(with && !without);
}

async fn secrets_can_come_from_mounted_files(backend: Backend) {
    // As the chart mounts them: the database URL in a file, the PII keys as a
    // directory of files named by key id (with Kubernetes' hidden `..data` entry).
    let mounted = tempfile::tempdir().expect("temp dir");
    let keys = mounted.path().join("pii");
    std::fs::create_dir_all(keys.join("..data")).expect("dirs");
    std::fs::write(keys.join("test"), dualreport_testkit::pii_key_base64() + "\n").expect("key file");
    let app = spawn_with(backend, |s| {
        let url_file = mounted.path().join("database-url");
        std::fs::write(
            &url_file,
            format!("{}\n", secrecy::ExposeSecret::expose_secret(&s.database.url)),
        )
        .expect("url file");
        s.database.url = "sqlite://never-used".to_owned().into();
        s.database.url_file = Some(url_file.display().to_string());
        s.registry.pii_keys.clear();
        s.registry.pii_keys_dir = Some(keys.display().to_string());
    })
    .await;
    let city = build_city(&app).await;
    let member = create_member(
        &mut app.admin(Role::UnitAdmin, &city.unit.id),
        profile("文件", &city.unit.id, &city.community_a.id),
    )
    .await;
    let full = app
        .admin(Role::UnitAdmin, &city.unit.id)
        .get_member(pb::GetMemberRequest {
            member_id: member.id,
            view: pb::MemberView::Full as i32,
        })
        .await
        .expect("full view")
        .into_inner()
        .member
        .expect("member");
    assert_eq!(
        full.profile.expect("profile").phone,
        "13812345678",
        "sealed and opened with the mounted key"
    );
}

/// The body of an HTTP/1.1 GET (empty unless 200).
async fn http_get(port: u16, path: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    if head.starts_with("HTTP/1.1 200") {
        body.to_owned()
    } else {
        String::new()
    }
}

dualreport_testkit::on_both_backends!(
    undecodable_requests_are_invalid_arguments,
    oversized_ids_and_unknown_enums_are_refused_briefly,
    idle_client_streams_end_early,
    one_caller_cannot_starve_the_others,
    an_import_batch_past_the_deadline_is_cut_off_and_leaves_nothing,
    messages_over_the_limit_are_refused,
    health_is_serving_without_a_token,
    bad_tokens_are_unauthenticated,
    requests_beyond_the_concurrency_limit_are_shed,
    metrics_count_requests_by_method_and_code,
    mutual_tls_is_required_when_configured,
    secrets_can_come_from_mounted_files,
);

/// Only PostgreSQL can be taken away from a running service.
mod on_postgres {
    use super::*;

    /// Deadlines are routed per method whatever the store; on SQLite's one
    /// connection a query cut off at 1 ms keeps the connection busy under a
    /// loaded machine, which makes the second call's outcome depend on load.
    #[tokio::test]
    async fn long_running_calls_get_their_own_deadline() {
        district_statistics_get_the_long_deadline_and_other_calls_do_not(Backend::Postgres).await;
    }

    /// A database that stops taking connections is `UNAVAILABLE` (retryable),
    /// not `INTERNAL`; once it is back, the same call succeeds and nothing was lost.
    #[tokio::test]
    async fn outage_is_unavailable() {
        use sqlx::Connection as _;
        let app = spawn_with(Backend::Postgres, |s| {
            s.database.acquire_timeout_ms = 1_000;
            s.database.max_connections = 1;
        })
        .await;
        let mut city = app.city();
        let district = city
            .create_organization(pb::CreateOrganizationRequest {
                request_id: "outage-district".into(),
                organization: Some(dualreport_testkit::registry::org_input(
                    "金水区",
                    pb::OrganizationType::District,
                    "city",
                )),
            })
            .await
            .expect("district")
            .into_inner()
            .organization
            .expect("organization");
        let admin_url = std::env::var("DUALREPORT_TEST_POSTGRES_URL").expect("test cluster");
        let database = app.database_url().rsplit('/').next().expect("name").to_owned();
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("admin connection");
        let outage = |allow: bool| format!("ALTER DATABASE {database} ALLOW_CONNECTIONS {allow}");
        sqlx::query(&outage(false))
            .execute(&mut admin)
            .await
            .expect("refuse connections");
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(&database)
            .execute(&mut admin)
            .await
            .expect("terminate the service's connections");
        let status = city
            .get_organization(pb::GetOrganizationRequest {
                organization_id: district.id.clone(),
            })
            .await
            .expect_err("database down");
        assert_reason(&status, Code::Unavailable, "ERROR_REASON_UPSTREAM_UNAVAILABLE");
        sqlx::query(&outage(true))
            .execute(&mut admin)
            .await
            .expect("accept connections");
        let again = city
            .get_organization(pb::GetOrganizationRequest {
                organization_id: district.id,
            })
            .await
            .expect("served once the database is back");
        assert_eq!(again.into_inner().organization.expect("org").name, "金水区");
    }

    /// Journal appends take no lock, yet a reader never finds an entry below
    /// a position it has seen: an entry whose transaction is still open holds
    /// back the ones committed after it, and the order is resumable.
    #[tokio::test]
    async fn journal_entries_of_open_transactions_hold_back_later_ones_without_a_lock() {
        use dualreport_platform::journal;
        let app = spawn(Backend::Postgres).await;
        let pool = dualreport_platform::db::connect(&app.settings().database)
            .await
            .expect("connect")
            .pool;
        let fact = |text: &str| journal::Fact {
            kind: "test.fact",
            text: text.into(),
            ..Default::default()
        };
        let mut first = pool.begin().await.expect("begin");
        journal::append(&mut first, &fact("first, committed last"))
            .await
            .expect("append");
        let mut second = pool.begin().await.expect("begin");
        // No lock: the second append and commit go ahead while the first is open.
        journal::append(&mut second, &fact("second, committed first"))
            .await
            .expect("append");
        second.commit().await.expect("commit");
        let seen = journal::list(&pool, 0, 100).await.expect("list");
        assert!(seen.is_empty(), "held back behind the open transaction: {seen:?}");
        first.commit().await.expect("commit");
        // Transactions of other tests on the cluster may hold both back a moment.
        let mut seen = Vec::new();
        for _ in 0..100 {
            seen = journal::list(&pool, 0, 100).await.expect("list");
            if seen.len() == 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let texts: Vec<_> = seen.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["first, committed last", "second, committed first"]);
        assert!(seen[0].sequence < seen[1].sequence);
        let after = journal::list(&pool, seen[0].sequence, 100).await.expect("resume");
        assert_eq!(after.len(), 1, "resumes after a position");
    }
}
