use dualreport_platform::auth::Role;
use dualreport_proto::registry::v1 as pb;
use pb::OrganizationType as T;
use tonic::Code;

use crate::helpers::*;

async fn tree_is_built_listed_and_paged(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let mut client = app.city();
    assert_eq!(
        city.unit.district_id, city.district.id,
        "a unit under a district's committee lies in that district"
    );
    assert_eq!(city.community_a.parent_id, city.street.id);
    assert_eq!(city.district.district_id, city.district.id, "a district lies in itself");
    assert_eq!(city.community_a.district_id, city.district.id);
    assert_eq!(
        city.community_a.ancestor_ids,
        ["city", city.district.id.as_str(), city.street.id.as_str()]
    );

    let children = client
        .list_organizations(pb::ListOrganizationsRequest {
            parent_id: city.street.id.clone(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    let mut names: Vec<_> = children.organizations.iter().map(|o| o.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["农科路社区", "文化路社区"]);

    let first = client
        .list_organizations(pb::ListOrganizationsRequest {
            district_id: city.district.id.clone(),
            r#type: T::Community as i32,
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("page 1")
        .into_inner();
    assert_eq!(first.organizations.len(), 1);
    assert!(!first.next_page_token.is_empty());
    let second = client
        .list_organizations(pb::ListOrganizationsRequest {
            district_id: city.district.id.clone(),
            r#type: T::Community as i32,
            page_size: 1,
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .expect("page 2")
        .into_inner();
    assert_eq!(second.organizations.len(), 1);
    assert_ne!(first.organizations[0].id, second.organizations[0].id);
    assert!(second.next_page_token.is_empty());
}

async fn names_must_be_present_and_short(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let mut client = app.city();
    for name in [String::new(), "   ".into(), "长".repeat(101)] {
        let status = client
            .create_organization(pb::CreateOrganizationRequest {
                request_id: String::new(),
                organization: Some(org_input(&name, T::Community, &city.street.id)),
            })
            .await
            .expect_err("bad name");
        assert_invalid(&status, "organization.name");
    }
    let mut bad_postcode = org_input("社区", T::Community, &city.street.id);
    bad_postcode.postcode = "45".into();
    let status = client
        .create_organization(pb::CreateOrganizationRequest {
            request_id: String::new(),
            organization: Some(bad_postcode),
        })
        .await
        .expect_err("bad postcode");
    assert_invalid(&status, "organization.postcode");
    let children = client
        .list_organizations(pb::ListOrganizationsRequest {
            parent_id: city.street.id.clone(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(children.organizations.len(), 2, "nothing was written");
}

async fn unknown_or_out_of_scope_orgs_are_refused(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let status = app
        .city()
        .create_organization(pb::CreateOrganizationRequest {
            request_id: String::new(),
            organization: Some(org_input("新社区", T::Community, "no-such-org")),
        })
        .await
        .expect_err("unknown parent");
    assert_invalid(&status, "organization.parent_id");

    let status = app
        .city()
        .get_organization(pb::GetOrganizationRequest {
            organization_id: "no-such-org".into(),
        })
        .await
        .expect_err("unknown org");
    assert_reason(&status, Code::NotFound, "ERROR_REASON_NOT_FOUND");

    // A community admin cannot create under another community.
    let mut community_a = app.admin(Role::CommunityAdmin, &city.community_a.id);
    let status = community_a
        .create_organization(pb::CreateOrganizationRequest {
            request_id: String::new(),
            organization: Some(org_input("服务中心", T::ServiceCenter, &city.community_b.id)),
        })
        .await
        .expect_err("out of scope");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    // …but can under its own.
    create_org(
        &mut community_a,
        "农科路党群服务中心",
        T::ServiceCenter,
        &city.community_a.id,
    )
    .await;

    // A street cannot sit under the city.
    let status = app
        .city()
        .create_organization(pb::CreateOrganizationRequest {
            request_id: String::new(),
            organization: Some(org_input("错位街道", T::Street, "city")),
        })
        .await
        .expect_err("wrong parent type");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_INVALID_PARENT");
}

async fn cycles_are_refused_and_moves_carry_the_subtree(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let mut client = app.city();
    let move_to = |org: &pb::Organization, parent: &str| pb::UpdateOrganizationRequest {
        request_id: String::new(),
        etag: String::new(),
        organization_id: org.id.clone(),
        organization: Some(pb::OrganizationInput {
            parent_id: parent.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["parent_id".into()],
        }),
    };
    let status = client
        .update_organization(move_to(&city.committee, &city.unit.id))
        .await
        .expect_err("cycle");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_TREE_CYCLE");
    let status = client
        .update_organization(move_to(&city.committee, &city.committee.id))
        .await
        .expect_err("self");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_TREE_CYCLE");
    let committee = client
        .get_organization(pb::GetOrganizationRequest {
            organization_id: city.committee.id.clone(),
        })
        .await
        .expect("get")
        .into_inner()
        .organization
        .expect("org");
    assert_eq!(
        committee.parent_id, city.district.id,
        "the refused move changed nothing"
    );

    let other = create_org(&mut client, "二七区", T::District, "city").await;
    client
        .update_organization(move_to(&city.committee, &other.id))
        .await
        .expect("move");
    let unit = client
        .get_organization(pb::GetOrganizationRequest {
            organization_id: city.unit.id.clone(),
        })
        .await
        .expect("get")
        .into_inner()
        .organization
        .expect("org");
    assert_eq!(unit.district_id, other.id, "the subtree moved with its root");
    // The old district's admin no longer covers the unit.
    let status = app
        .admin(Role::DistrictAdmin, &city.district.id)
        .update_organization(pb::UpdateOrganizationRequest {
            request_id: String::new(),
            etag: String::new(),
            organization_id: city.unit.id.clone(),
            organization: Some(pb::OrganizationInput {
                name: "改名".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into()],
            }),
        })
        .await
        .expect_err("out of scope after the move");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
}

async fn retried_creates_do_not_duplicate(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let mut client = app.city();
    let request = pb::CreateOrganizationRequest {
        request_id: "req-1".into(),
        organization: Some(org_input("重试社区", T::Community, &city.street.id)),
    };
    let first = client
        .create_organization(request.clone())
        .await
        .expect("first")
        .into_inner();
    let second = client.create_organization(request).await.expect("retry").into_inner();
    assert_eq!(
        first.organization.expect("org").id,
        second.organization.expect("org").id
    );
    let children = client
        .list_organizations(pb::ListOrganizationsRequest {
            parent_id: city.street.id.clone(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(children.organizations.len(), 3);
    let status = client
        .submit_unit_report(pb::SubmitUnitReportRequest {
            request_id: "req-1".into(),
            unit_org_id: city.unit.id.clone(),
            community_id: city.community_a.id.clone(),
            year: this_year(),
            ..Default::default()
        })
        .await
        .expect_err("request id reused for another operation");
    assert_reason(&status, Code::FailedPrecondition, "ERROR_REASON_REQUEST_ID_REUSED");
}

dualreport_testkit::on_both_backends!(
    tree_is_built_listed_and_paged,
    names_must_be_present_and_short,
    unknown_or_out_of_scope_orgs_are_refused,
    cycles_are_refused_and_moves_carry_the_subtree,
    retried_creates_do_not_duplicate,
);
