use dualreport_platform::auth::Role;
use dualreport_proto::registry::v1 as pb;
use dualreport_testkit::member_token;
use tonic::Code;

use crate::helpers::*;

async fn personal_information_is_masked_audited_and_encrypted(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let mut unit_admin = app.admin(Role::UnitAdmin, &city.unit.id);
    let member = create_member(&mut unit_admin, profile("王芳", &city.unit.id, &city.community_a.id)).await;
    let masked = member.profile.as_ref().expect("profile");
    assert!(member.masked);
    assert_eq!(masked.phone, "138****5678");
    assert_eq!(masked.home_address, "河南省郑州市****");

    // Lists are always masked.
    let listed = unit_admin
        .list_members(pb::ListMembersRequest {
            unit_org_id: city.unit.id.clone(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.members.len(), 1);
    assert_eq!(
        listed.members[0].profile.as_ref().expect("profile").phone,
        "138****5678"
    );

    // Whole for the unit admin, the community admin and the member, each read logged.
    let full = |id: &str| pb::GetMemberRequest {
        member_id: id.into(),
        view: pb::MemberView::Full as i32,
    };
    for mut reader in [
        unit_admin.clone(),
        app.admin(Role::CommunityAdmin, &city.community_a.id),
        app.client(&member_token(&member.id)),
    ] {
        let whole = reader
            .get_member(full(&member.id))
            .await
            .expect("full view")
            .into_inner()
            .member
            .expect("member");
        assert!(!whole.masked);
        assert_eq!(whole.profile.as_ref().expect("profile").phone, "13812345678");
    }
    // Not for another community's admin, another member or a service.
    for mut reader in [
        app.admin(Role::CommunityAdmin, &city.community_b.id),
        app.client(&member_token("someone-else")),
        app.client(&dualreport_testkit::service_token()),
    ] {
        let status = reader.get_member(full(&member.id)).await.expect_err("refused");
        assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    }

    let log = app
        .admin(Role::DistrictAdmin, &city.district.id)
        .list_personal_info_accesses(pb::ListPersonalInfoAccessesRequest {
            member_id: member.id.clone(),
            ..Default::default()
        })
        .await
        .expect("audit log")
        .into_inner();
    assert_eq!(log.accesses.len(), 6, "three whole reads of two fields");
    assert!(
        log.accesses
            .iter()
            .any(|a| a.reader_role == "member" && a.field == pb::PersonalInfoField::Phone as i32)
    );
    let status = app
        .client(&member_token(&member.id))
        .list_personal_info_accesses(pb::ListPersonalInfoAccessesRequest::default())
        .await
        .expect_err("members do not read the log");
    assert_eq!(status.code(), Code::PermissionDenied);

    // At rest, neither value is stored in clear.
    let url = app.database_url();
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .expect("connect");
    let row: (Vec<u8>, String, Vec<u8>) =
        sqlx::query_as("SELECT phone_cipher, phone_key_id, home_address_cipher FROM members WHERE id = $1")
            .bind(&member.id)
            .fetch_one(&mut conn)
            .await
            .expect("row");
    assert_eq!(row.1, "test");
    assert!(!row.0.windows(11).any(|w| w == b"13812345678"));
    assert!(!row.2.windows(6).any(|w| w == "郑州".as_bytes()));
}

async fn profiles_are_validated_field_by_field(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let mut unit_admin = app.admin(Role::UnitAdmin, &city.unit.id);
    let base = profile("王芳", &city.unit.id, &city.community_a.id);
    type Mutation = Box<dyn Fn(&mut pb::MemberProfile)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "profile.skills[1]",
            Box::new(|p| p.skills = vec!["写作".into(), "开挖掘机".into()]),
        ),
        (
            "profile.service_intentions",
            Box::new(|p| p.service_intentions = vec!["只有一个".into()]),
        ),
        (
            "profile.service_intentions",
            Box::new(|p| p.service_intentions = vec!["同一个".into(), "同一个".into()]),
        ),
        ("profile.phone", Box::new(|p| p.phone = "12345".into())),
        ("profile.phone", Box::new(|p| p.phone = "1381234567x".into())),
        ("profile.name", Box::new(|p| p.name = String::new())),
        ("profile.name", Box::new(|p| p.name = "名".repeat(51))),
        ("profile.gender", Box::new(|p| p.gender = 0)),
        ("profile.category", Box::new(|p| p.category = 0)),
        (
            "profile.unit_org_id",
            Box::new(|p| p.unit_org_id = "no-such-unit".into()),
        ),
        (
            "profile.residence_community_id",
            Box::new(|p| p.residence_community_id = "no-such-community".into()),
        ),
    ];
    for (field, mutate) in cases {
        let mut bad = base.clone();
        mutate(&mut bad);
        let status = unit_admin
            .create_member(pb::CreateMemberRequest {
                request_id: String::new(),
                profile: Some(bad),
            })
            .await
            .expect_err(field);
        assert_invalid(&status, field);
    }
    // A unit admin cannot register members of another unit.
    let other = create_org(
        &mut app.city(),
        "另一单位",
        pb::OrganizationType::Enterprise,
        &city.district.id,
    )
    .await;
    let status = unit_admin
        .create_member(pb::CreateMemberRequest {
            request_id: String::new(),
            profile: Some(profile("李四", &other.id, &city.community_a.id)),
        })
        .await
        .expect_err("other unit");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    let listed = app
        .city()
        .list_members(pb::ListMembersRequest {
            unit_org_id: "city".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert!(listed.members.is_empty(), "no refused profile left a record");
    // 其它 (other) is on the standard list too.
    let mut other_skill = base;
    other_skill.skills = vec!["其它".into()];
    create_member(&mut unit_admin, other_skill).await;
}

async fn members_update_their_own_contact_details(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let member = unit_member(&app, &city, "王芳").await;
    let mut me = app.client(&member_token(&member.id));
    let update = |phone: &str| pb::UpdateMemberRequest {
        request_id: String::new(),
        etag: String::new(),
        member_id: member.id.clone(),
        profile: Some(pb::MemberProfile {
            phone: phone.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["phone".into()],
        }),
    };
    let updated = me
        .update_member(update("13900001111"))
        .await
        .expect("update")
        .into_inner()
        .member
        .expect("member");
    assert_eq!(updated.profile.expect("profile").phone, "139****1111");
    let status = me.update_member(update("bad")).await.expect_err("bad phone");
    assert_invalid(&status, "profile.phone");
    let status = app
        .client(&member_token("someone-else"))
        .update_member(update("13900002222"))
        .await
        .expect_err("not yours");
    assert_eq!(status.code(), Code::PermissionDenied);
    let whole = me
        .get_member(pb::GetMemberRequest {
            member_id: member.id.clone(),
            view: pb::MemberView::Full as i32,
        })
        .await
        .expect("get")
        .into_inner()
        .member
        .expect("member");
    assert_eq!(whole.profile.expect("profile").phone, "13900001111");
}

async fn imports_commit_whole_batches_and_report_bad_rows(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let mut unit_admin = app.admin(Role::UnitAdmin, &city.unit.id);
    let good = |i: usize| profile(&format!("成员{i}"), &city.unit.id, &city.community_a.id);
    let mut bad_batch: Vec<_> = (0..3).map(good).collect();
    bad_batch[1].phone = "nope".into();
    bad_batch[2].skills = vec!["魔法".into()];
    let batches = vec![
        pb::ImportMembersRequest {
            request_id: "batch-0".into(),
            rows: (0..250).map(good).collect(),
        },
        pb::ImportMembersRequest {
            request_id: "batch-1".into(),
            rows: bad_batch,
        },
        // A retried batch is not imported twice.
        pb::ImportMembersRequest {
            request_id: "batch-0".into(),
            rows: (0..250).map(good).collect(),
        },
    ];
    let replies = dualreport_testkit::registry::import(&mut unit_admin, batches).await;
    assert_eq!(
        replies.iter().map(|r| (r.batch, r.committed)).collect::<Vec<_>>(),
        [(0, true), (1, false), (2, true)]
    );
    // The retry answers with the first batch's ids and writes nothing.
    assert_eq!(replies[2].member_ids, replies[0].member_ids);
    assert_eq!(replies[0].member_ids.len(), 250);
    assert!(replies[1].member_ids.is_empty());
    let mut bad: Vec<_> = replies[1]
        .errors
        .iter()
        .map(|e| (e.batch, e.row, e.field.as_str()))
        .collect();
    bad.sort();
    assert_eq!(bad, [(1, 1, "row.phone"), (1, 2, "row.skills[0]")]);

    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page = unit_admin
            .list_members(pb::ListMembersRequest {
                unit_org_id: city.unit.id.clone(),
                page_size: 100,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        all.extend(page.members);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        all.len(),
        250,
        "the bad batch wrote nothing and the retry nothing twice"
    );
}

/// Two admins edit the same member (and the same org): the second, working
/// from the version both read, is refused with ABORTED instead of silently
/// undoing the first's change; reading again and reapplying goes through.
async fn a_stale_etag_is_refused_and_nothing_is_overwritten(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let member = unit_member(&app, &city, "乐观锁").await;
    let mut admin = app.admin(Role::UnitAdmin, &city.unit.id);
    let read = admin
        .get_member(pb::GetMemberRequest {
            member_id: member.id.clone(),
            view: pb::MemberView::Full as i32,
        })
        .await
        .expect("get")
        .into_inner()
        .member
        .expect("member");
    assert!(!read.etag.is_empty(), "every member carries an etag");
    let update = |employer: &str, etag: &str| pb::UpdateMemberRequest {
        request_id: String::new(),
        etag: etag.into(),
        member_id: member.id.clone(),
        profile: Some(pb::MemberProfile {
            employer: employer.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["employer".into()],
        }),
    };
    let first = admin
        .update_member(update("第一位管理员的改动", &read.etag))
        .await
        .expect("the first edit")
        .into_inner()
        .member
        .expect("member");
    assert_ne!(first.etag, read.etag, "a new version, a new etag");
    let status = admin
        .update_member(update("第二位管理员的改动", &read.etag))
        .await
        .expect_err("a stale etag");
    assert_reason(&status, Code::Aborted, "ERROR_REASON_CONFLICT");
    let now = admin
        .get_member(pb::GetMemberRequest {
            member_id: member.id.clone(),
            view: pb::MemberView::Full as i32,
        })
        .await
        .expect("get")
        .into_inner()
        .member
        .expect("member");
    assert_eq!(
        now.profile.expect("profile").employer,
        "第一位管理员的改动",
        "nothing overwritten"
    );
    assert_eq!(now.etag, first.etag);
    admin
        .update_member(update("第二位管理员的改动", &now.etag))
        .await
        .expect("reapplied on the current version");

    let org = city.unit.clone();
    let rename = |name: &str, etag: &str| pb::UpdateOrganizationRequest {
        request_id: String::new(),
        etag: etag.into(),
        organization_id: org.id.clone(),
        organization: Some(pb::OrganizationInput {
            name: name.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["name".into()],
        }),
    };
    assert!(!org.etag.is_empty());
    let mut district = app.admin(Role::DistrictAdmin, &city.district.id);
    let renamed = district
        .update_organization(rename("新名称", &org.etag))
        .await
        .expect("rename")
        .into_inner()
        .organization
        .expect("org");
    let status = district
        .update_organization(rename("旧版本上的改名", &org.etag))
        .await
        .expect_err("a stale etag");
    assert_reason(&status, Code::Aborted, "ERROR_REASON_CONFLICT");
    district
        .update_organization(rename("不带 etag 的改名", ""))
        .await
        .expect("without an etag the update is unconditional");
    assert_ne!(renamed.etag, org.etag);
}

dualreport_testkit::on_both_backends!(
    a_stale_etag_is_refused_and_nothing_is_overwritten,
    personal_information_is_masked_audited_and_encrypted,
    profiles_are_validated_field_by_field,
    members_update_their_own_contact_details,
    imports_commit_whole_batches_and_report_bad_rows,
);
