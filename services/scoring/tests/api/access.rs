//! Who may do what: refusals outside one's scope, and reads granted to the
//! member, its unit and the admins above; a registry that does not answer.

use dualreport_platform::auth::Role;
use dualreport_proto::scoring::v1 as pb;
use tonic::Code;

use crate::helpers::*;
use dualreport_testkit::on_both_backends;

on_both_backends!(
    callers_act_only_within_their_scope,
    a_registry_that_does_not_answer_gives_unavailable,
    scoring_calls_the_registry_over_mutual_tls,
    outsiders_are_refused_by_every_other_rpc,
);

fn unit<T>(result: Result<tonic::Response<T>, tonic::Status>) -> Result<(), tonic::Status> {
    result.map(|_| ())
}

/// The refusals `callers_act_only_within_their_scope` does not cover, one per RPC.
async fn outsiders_are_refused_by_every_other_rpc(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("张敏", suite.a()).await;
    let entry = suite.serve(&member, "a1", 0).await;
    let draft = suite.settle().await;
    let item = suite
        .admin_a()
        .create_item(pb::CreateItemRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            name: "毛巾".into(),
            description: String::new(),
            price_points: 1,
            stock: 5,
        })
        .await
        .expect("item")
        .into_inner()
        .item
        .expect("item");
    let redemption = suite
        .member(&member)
        .redeem(pb::RedeemRequest {
            request_id: String::new(),
            member_id: member.clone(),
            item_id: item.id.clone(),
            quantity: 1,
        })
        .await
        .expect("redeem")
        .into_inner()
        .redemption
        .expect("redemption");
    let b = suite.city.community_b.id.clone();
    let stranger = suite.registered_member("路人", &b).await;
    let other_admin = || suite.community_admin(&b);
    let refused = |result: Result<(), tonic::Status>, what: &str| {
        let status = result.expect_err(what);
        assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    };

    refused(
        unit(
            suite
                .service()
                .record_special(pb::RecordSpecialRequest {
                    request_id: String::new(),
                    source_key: "s".into(),
                    member_id: member.clone(),
                    community_id: suite.a().into(),
                    occurred_on: Some(suite.served_on(1)),
                    category: pb::SpecialCategory::Bravery as i32,
                    points: 5,
                    reason: "见义勇为".into(),
                })
                .await,
        ),
        "special records need an approving community admin",
    );
    refused(
        unit(
            other_admin()
                .record_correction(pb::RecordCorrectionRequest {
                    request_id: String::new(),
                    source_key: "c".into(),
                    corrects_entry_id: entry.id.clone(),
                    points: -1,
                    reason: "复核".into(),
                })
                .await,
        ),
        "correcting another community's entry",
    );
    refused(
        unit(
            other_admin()
                .review_settlement(pb::ReviewSettlementRequest {
                    request_id: String::new(),
                    settlement_id: draft.id.clone(),
                    assembly_date: Some(date(suite.today)),
                    recorded_by: "他人".into(),
                })
                .await,
        ),
        "reviewing another community's settlement",
    );
    refused(
        unit(
            other_admin()
                .publish_settlement(pb::PublishSettlementRequest {
                    request_id: String::new(),
                    settlement_id: draft.id.clone(),
                })
                .await,
        ),
        "publishing another community's settlement",
    );
    refused(
        unit(
            other_admin()
                .create_item(pb::CreateItemRequest {
                    request_id: String::new(),
                    community_id: suite.a().into(),
                    name: "x".into(),
                    description: String::new(),
                    price_points: 1,
                    stock: 1,
                })
                .await,
        ),
        "stocking another community's supermarket",
    );
    refused(
        unit(
            other_admin()
                .update_item(pb::UpdateItemRequest {
                    request_id: String::new(),
                    item_id: item.id.clone(),
                    add_stock: 10,
                    ..Default::default()
                })
                .await,
        ),
        "changing another community's item",
    );
    refused(
        unit(
            suite
                .member(&member)
                .list_items(pb::ListItemsRequest {
                    community_id: suite.a().into(),
                    include_inactive: true,
                    ..Default::default()
                })
                .await,
        ),
        "withdrawn items are for admins",
    );
    refused(
        unit(
            other_admin()
                .cancel_redemption(pb::CancelRedemptionRequest {
                    request_id: String::new(),
                    redemption_id: redemption.id.clone(),
                    reason: "x".into(),
                })
                .await,
        ),
        "cancelling at another community",
    );
    refused(
        unit(
            suite
                .member(&stranger)
                .list_redemptions(pb::ListRedemptionsRequest {
                    community_id: suite.a().into(),
                    ..Default::default()
                })
                .await,
        ),
        "a community's redemptions are for its admins",
    );
    refused(
        unit(
            suite
                .member(&stranger)
                .list_redemptions(pb::ListRedemptionsRequest {
                    member_id: member.clone(),
                    ..Default::default()
                })
                .await,
        ),
        "someone else's redemptions",
    );
    refused(
        unit(
            suite
                .member(&stranger)
                .get_entry(pb::GetEntryRequest {
                    entry_id: entry.id.clone(),
                })
                .await,
        ),
        "someone else's entry",
    );
    refused(
        unit(
            other_admin()
                .list_entries(pb::ListEntriesRequest {
                    subject: Some(member_subject(&member)),
                    ..Default::default()
                })
                .await,
        ),
        "another community's member's card",
    );
    refused(
        unit(
            suite
                .member(&stranger)
                .get_registration_table(pb::GetRegistrationTableRequest {
                    member_id: member.clone(),
                    community_id: suite.a().into(),
                    period: Some(suite.pb_period()),
                })
                .await,
        ),
        "someone else's registration table",
    );
    // The same reads succeed for those entitled.
    suite
        .member(&member)
        .get_entry(pb::GetEntryRequest { entry_id: entry.id })
        .await
        .expect("own entry");
    suite
        .admin_a()
        .list_redemptions(pb::ListRedemptionsRequest {
            community_id: suite.a().into(),
            ..Default::default()
        })
        .await
        .expect("the community's redemptions");
}

async fn scoring_calls_the_registry_over_mutual_tls(backend: Backend) {
    let pki = dualreport_testkit::tls::TestPki::new();
    let suite = spawn_with_mutual_tls(backend, &pki).await;
    let member = suite.registered_member("王芳", suite.a()).await;
    // The award needs GetOrganization, GetMember and ListMemberReports from the registry.
    let entry = suite.serve(&member, "attendance:tls", 2).await;
    assert_eq!(entry.points, 7);
    let plaintext = dualreport_testkit::registry::client(
        &dualreport_testkit::channel(suite.registry.port),
        &dualreport_testkit::service_token(),
    )
    .get_policy(dualreport_proto::registry::v1::GetPolicyRequest {})
    .await;
    assert!(plaintext.is_err(), "the registry refuses plaintext");
}

async fn callers_act_only_within_their_scope(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("张敏", suite.a()).await;
    suite.serve(&member, "a1", 0).await;
    let b = suite.city.community_b.id.clone();

    // Writes: another community's admin, the member itself, a unit admin.
    for mut client in [
        suite.community_admin(&b),
        suite.member(&member),
        suite.admin(Role::UnitAdmin, &suite.city.unit.id),
        suite.admin(Role::DistrictAdmin, &suite.city.district.id),
    ] {
        let status = client
            .record_service(service_request(&suite, &member, "x", 0))
            .await
            .expect_err("not their community");
        assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    }
    let status = suite
        .community_admin(&b)
        .settle_period(pb::SettlePeriodRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            period: Some(suite.pb_period()),
        })
        .await
        .expect_err("settling another community");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    // A community-admin token naming a unit is refused, whatever it asks.
    let status = suite
        .client(&dualreport_testkit::admin_token(
            Role::CommunityAdmin,
            &suite.city.unit.id,
        ))
        .get_balance(pb::GetBalanceRequest {
            subject: Some(member_subject(&member)),
        })
        .await
        .expect_err("role does not fit the org");
    assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");

    // Reads: the member, its unit (and the committee above), its community, the district.
    let balance = |mut client: Client| {
        let subject = member_subject(&member);
        async move {
            client
                .get_balance(pb::GetBalanceRequest { subject: Some(subject) })
                .await
        }
    };
    for client in [
        suite.member(&member),
        suite.admin(Role::UnitAdmin, &suite.city.unit.id),
        suite.admin(Role::UnitAdmin, &suite.city.committee.id),
        suite.admin_a(),
        suite.admin(Role::StreetAdmin, &suite.city.street.id),
        suite.admin(Role::DistrictAdmin, &suite.city.district.id),
        suite.service(),
    ] {
        assert_eq!(balance(client).await.expect("may read").into_inner().lifetime_earned, 5);
    }
    let stranger = suite.registered_member("路人", &b).await;
    for client in [suite.member(&stranger), suite.community_admin(&b)] {
        let status = balance(client).await.expect_err("may not read");
        assert_reason(&status, Code::PermissionDenied, "ERROR_REASON_OUT_OF_SCOPE");
    }

    // No token at all.
    let mut anonymous =
        dualreport_proto::scoring::v1::scoring_service_client::ScoringServiceClient::new(suite.channel.clone());
    let status = anonymous
        .get_scoring_rules(pb::GetScoringRulesRequest {})
        .await
        .expect_err("unauthenticated");
    assert_eq!(status.code(), Code::Unauthenticated);
    let rules = suite
        .member(&member)
        .get_scoring_rules(pb::GetScoringRulesRequest {})
        .await
        .expect("rules")
        .into_inner()
        .rules
        .expect("rules");
    assert_eq!(
        (
            rules.base_points,
            rules.max_adjustment,
            rules.project_points_cap,
            rules.points_per_star,
            rules.max_stars
        ),
        (5, 3, 30, 10, 10)
    );
}

async fn a_registry_that_does_not_answer_gives_unavailable(backend: Backend) {
    let mut suite = spawn(backend).await;
    let member = suite.registered_member("李强", suite.a()).await;
    suite.registry.stop();
    let status = suite
        .admin_a()
        .record_service(service_request(&suite, &member, "a1", 0))
        .await
        .expect_err("registry down");
    assert_reason(&status, Code::Unavailable, "ERROR_REASON_UPSTREAM_UNAVAILABLE");
    let status = suite
        .service()
        .get_balance(pb::GetBalanceRequest {
            subject: Some(member_subject(&member)),
        })
        .await;
    assert_eq!(
        status
            .expect("the service role reads without the registry")
            .into_inner()
            .lifetime_earned,
        0,
        "nothing was written"
    );
}
