//! The platform as the registry serves it: health, auth, load shedding.

use dualreport_proto::registry::v1 as pb;
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
    health_is_serving_without_a_token,
    metrics_count_requests_by_method_and_code,
);

/// Only PostgreSQL can be taken away from a running service.
mod on_postgres {
    use super::*;

    /// Deadlines are routed per method whatever the store; on SQLite's one
    /// connection a query cut off at 1 ms keeps the connection busy under a
    /// loaded machine, which makes the second call's outcome depend on load.
    #[tokio::test]
    async fn long_running_calls_get_their_own_deadline() {
        crate::limits::district_statistics_get_the_long_deadline_and_other_calls_do_not(Backend::Postgres).await;
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
