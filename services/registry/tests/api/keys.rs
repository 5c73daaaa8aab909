//! Personal-information keys: rotation, and resealing every member under the active key.

use dualreport_proto::registry::v1 as pb;
use dualreport_testkit::member_token;

use crate::helpers::*;

/// Each member's full profile opens (the phone in clear) under the keys `app` has now.
async fn every_member_opens(app: &TestApp, members: &[&pb::Member]) {
    for member in members {
        let read = app
            .client(&member_token(&member.id))
            .get_member(pb::GetMemberRequest {
                member_id: member.id.clone(),
                view: pb::MemberView::Full as i32,
            })
            .await
            .expect("opens under the new key alone")
            .into_inner()
            .member
            .expect("member");
        assert_eq!(read.profile.expect("profile").phone, "13812345678");
    }
}

async fn reseal_moves_every_member_to_the_active_key_so_the_old_one_can_go(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let first = unit_member(&app, &city, "王芳").await;
    let second = unit_member(&app, &city, "李强").await;
    let next = "bmV4dC1rZXktbmV4dC1rZXktbmV4dC1rZXktbmV4dCE=";
    let url = app.database_url().to_owned();
    let reseal = move |batch: &'static str| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_registry"));
            for (key, _) in std::env::vars() {
                if key.starts_with("DUALREPORT") {
                    command.env_remove(key);
                }
            }
            command
                .args(["reseal", "--batch", batch])
                .env("DUALREPORT__DATABASE__URL", &url)
                .env(
                    "DUALREPORT__REGISTRY__PII_KEYS__TEST",
                    dualreport_testkit::pii_key_base64(),
                )
                .env("DUALREPORT__REGISTRY__PII_KEYS__NEXT", next)
                .env("DUALREPORT__REGISTRY__PII_ACTIVE_KEY", "next")
                .output()
                .expect("run reseal")
        })
    };
    let out = reseal("1").await.expect("join");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("resealed 2 member(s)"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("reseal: 2 member(s)"),
        "progress on stderr"
    );
    let again = reseal("500").await.expect("join");
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("resealed 0 member(s)"),
        "a rerun finds nothing left"
    );
    // The old key is dropped: every member still opens.
    let app = app
        .restart_with(|s| {
            s.registry.pii_keys =
                std::collections::HashMap::from([("next".to_owned(), secrecy::SecretString::from(next))]);
            s.registry.pii_active_key = "next".into();
        })
        .await;
    every_member_opens(&app, &[&first, &second]).await;
}

async fn personal_information_keys_rotate(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let member = unit_member(&app, &city, "王芳").await;
    let app = app
        .restart_with(|s| {
            s.registry.pii_keys.insert(
                "next".into(),
                secrecy::SecretString::from("bmV4dC1rZXktbmV4dC1rZXktbmV4dC1rZXktbmV4dCE="),
            );
            s.registry.pii_active_key = "next".into();
        })
        .await;
    let mut me = app.client(&member_token(&member.id));
    let full = pb::GetMemberRequest {
        member_id: member.id.clone(),
        view: pb::MemberView::Full as i32,
    };
    let read = me
        .get_member(full.clone())
        .await
        .expect("old key still opens")
        .into_inner()
        .member
        .expect("member");
    assert_eq!(read.profile.expect("profile").phone, "13812345678");
    me.update_member(pb::UpdateMemberRequest {
        request_id: String::new(),
        etag: String::new(),
        member_id: member.id.clone(),
        profile: Some(pb::MemberProfile {
            phone: "13900001111".into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["phone".into()],
        }),
    })
    .await
    .expect("update");
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(app.database_url())
        .await
        .expect("connect");
    let (key_id,): (String,) = sqlx::query_as("SELECT phone_key_id FROM members WHERE id = $1")
        .bind(&member.id)
        .fetch_one(&mut conn)
        .await
        .expect("row");
    assert_eq!(key_id, "next", "rewritten values are sealed with the active key");
    let read = me
        .get_member(full)
        .await
        .expect("read")
        .into_inner()
        .member
        .expect("member");
    assert_eq!(read.profile.expect("profile").phone, "13900001111");
}

async fn the_api_reseals_in_bounded_batches_for_the_city_and_district_admins(backend: Backend) {
    use dualreport_platform::auth::Role;
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let mut members = Vec::new();
    for name in ["王芳", "李强", "张伟"] {
        members.push(unit_member(&app, &city, name).await);
    }
    let next = "bmV4dC1rZXktbmV4dC1rZXktbmV4dC1rZXktbmV4dCE=";
    let app = app
        .restart_with(|s| {
            s.registry
                .pii_keys
                .insert("next".into(), secrecy::SecretString::from(next));
            s.registry.pii_active_key = "next".into();
        })
        .await;
    for (role, org) in [
        (Role::UnitAdmin, city.unit.id.clone()),
        (Role::CommunityAdmin, city.community_a.id.clone()),
        (Role::StreetAdmin, city.street.id.clone()),
    ] {
        let refused = app
            .client(&dualreport_testkit::admin_token(role, &org))
            .reseal_personal_information(pb::ResealPersonalInformationRequest::default())
            .await
            .expect_err("not a key holder");
        assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{role:?}");
    }
    // The district's admin walks it two members a call.
    let mut admin = app.client(&dualreport_testkit::admin_token(Role::DistrictAdmin, &city.district.id));
    let (mut resealed, mut calls, mut page_token) = (0, 0, String::new());
    loop {
        let round = admin
            .reseal_personal_information(pb::ResealPersonalInformationRequest {
                page_size: 2,
                page_token,
            })
            .await
            .expect("reseal a batch")
            .into_inner();
        assert_eq!(round.active_key, "next");
        assert!(round.resealed <= 2, "bounded per call");
        resealed += round.resealed;
        calls += 1;
        if round.next_page_token.is_empty() {
            break;
        }
        page_token = round.next_page_token;
    }
    assert_eq!(resealed, 3);
    assert!(calls >= 2, "three members in batches of two");
    let bad = admin
        .reseal_personal_information(pb::ResealPersonalInformationRequest {
            page_size: 0,
            page_token: "not a token".into(),
        })
        .await
        .expect_err("bad token");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    // The old key can go: every member still opens.
    let app = app
        .restart_with(|s| {
            s.registry.pii_keys =
                std::collections::HashMap::from([("next".to_owned(), secrecy::SecretString::from(next))]);
            s.registry.pii_active_key = "next".into();
        })
        .await;
    every_member_opens(&app, &members.iter().collect::<Vec<_>>()).await;
}

dualreport_testkit::on_both_backends!(
    the_api_reseals_in_bounded_batches_for_the_city_and_district_admins,
    personal_information_keys_rotate,
    reseal_moves_every_member_to_the_active_key_so_the_old_one_can_go,
);
