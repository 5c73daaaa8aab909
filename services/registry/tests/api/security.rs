//! Who gets in: tokens, mutual TLS, secrets from files, and hostile bytes refused as invalid arguments.

use dualreport_platform::auth::Role;
use dualreport_proto::registry::v1 as pb;
use dualreport_testkit::{admin_token, mint};
use tonic::Code;

use crate::helpers::*;

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

dualreport_testkit::on_both_backends!(
    undecodable_requests_are_invalid_arguments,
    oversized_ids_and_unknown_enums_are_refused_briefly,
    bad_tokens_are_unauthenticated,
    mutual_tls_is_required_when_configured,
    secrets_can_come_from_mounted_files,
);
