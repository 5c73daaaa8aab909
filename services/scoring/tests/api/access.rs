//! Who may do what: refusals outside one's scope, and reads granted to the
//! member, its unit and the admins above; a registry that does not answer.

use dualreport_platform::auth::Role;
use dualreport_proto::scoring::v1 as pb;
use tonic::Code;

use crate::helpers::*;
use crate::on_both_backends;

on_both_backends!(
    callers_act_only_within_their_scope,
    a_registry_that_does_not_answer_gives_unavailable,
    scoring_calls_the_registry_over_mutual_tls,
);

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
