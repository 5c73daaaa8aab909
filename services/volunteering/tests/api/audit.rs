//! Volunteering's audit trail: claims, teams, activities, check-in codes,
//! check-ins and confirmations are recorded with who and before/after, filed
//! under the community; the check-in code itself never enters the trail; only
//! admins over the community read it.

use std::collections::HashSet;

use dualreport_platform::auth::Role;
use dualreport_proto::common::v1 as cpb;
use dualreport_proto::volunteering::v1 as pb;
use dualreport_testkit::admin_token;
use tonic::Code;

use crate::helpers::*;

async fn trail(suite: &Suite, token: &str, org_id: &str) -> Result<Vec<cpb::AuditRecord>, tonic::Status> {
    dualreport_testkit::audit::trail(&suite.channel, token, dualreport_testkit::audit::of_org(org_id), 4).await
}

async fn volunteering_changes_are_audited(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("留痕者", suite.a()).await;
    let post = suite.standard_post(0).await;
    let claim = suite
        .member(&member)
        .claim_post(pb::ClaimPostRequest {
            request_id: String::new(),
            member_id: member.clone(),
            post_id: post.id.clone(),
            year: suite.year,
        })
        .await
        .expect("claim")
        .into_inner()
        .claim
        .expect("claim");
    suite
        .member(&member)
        .withdraw_claim(pb::WithdrawClaimRequest {
            claim_id: claim.id.clone(),
        })
        .await
        .expect("withdraw");
    let team = suite
        .admin_a()
        .create_team(pb::CreateTeamRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            name: "留痕服务队".into(),
            kind: pb::TeamKind::Organised.into(),
            post_id: String::new(),
        })
        .await
        .expect("team")
        .into_inner()
        .team
        .expect("team");
    for join in [true, false] {
        let mut me = suite.member(&member);
        if join {
            me.join_team(pb::JoinTeamRequest {
                team_id: team.id.clone(),
                member_id: member.clone(),
            })
            .await
            .expect("join");
        } else {
            me.leave_team(pb::LeaveTeamRequest {
                team_id: team.id.clone(),
                member_id: member.clone(),
            })
            .await
            .expect("leave");
        }
    }
    let activity = suite.running_activity("留痕活动", 5).await;
    let code = suite.code(&activity.id).await;
    suite
        .check_in(&member, &activity.id, "000000")
        .await
        .expect_err("a wrong code records nothing");
    let attendance = suite.check_in(&member, &activity.id, &code).await.expect("check in");
    suite.confirm(&attendance.id, 0).await.expect("confirm");

    let records = trail(&suite, &admin_token(Role::CommunityAdmin, suite.a()), suite.a())
        .await
        .expect("the community's trail");
    let methods: Vec<&str> = records.iter().map(|r| r.method.as_str()).collect();
    let seen: HashSet<&str> = methods.iter().copied().collect();
    for method in [
        "ClaimPost",
        "WithdrawClaim",
        "CreateTeam",
        "JoinTeam",
        "LeaveTeam",
        "CreateActivity",
        "IssueCheckInCode",
        "CheckIn",
        "ConfirmAttendance",
    ] {
        assert!(seen.contains(method), "{method} is recorded; found {methods:?}");
    }
    assert_eq!(
        methods.iter().filter(|m| **m == "CheckIn").count(),
        1,
        "the refused check-in left no record"
    );
    let code_record = records.iter().find(|r| r.method == "IssueCheckInCode").expect("code");
    assert!(
        !code_record.after.contains(&code),
        "the code itself stays out of the trail"
    );
    let confirm = records
        .iter()
        .find(|r| r.method == "ConfirmAttendance")
        .expect("confirm");
    assert_eq!(
        (confirm.role.as_str(), confirm.actor_org_id.as_str()),
        ("community_admin", suite.a())
    );
    assert!(confirm.before.contains("checked_in") && confirm.after.contains("confirmed"));
    let withdraw = records.iter().find(|r| r.method == "WithdrawClaim").expect("withdraw");
    assert!(
        withdraw.after.is_empty() && withdraw.before.contains(&post.id),
        "a removal has only a before"
    );

    let refused = trail(&suite, &admin_token(Role::CommunityAdmin, suite.b()), suite.a())
        .await
        .expect_err("another community");
    assert_eq!(refused.code(), Code::PermissionDenied);
}

dualreport_testkit::on_both_backends!(volunteering_changes_are_audited,);
