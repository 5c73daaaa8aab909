//! Households (结对帮扶), teams, studios and co-building agreements.

use dualreport_proto::volunteering::v1 as pb;

use crate::helpers::*;

async fn households_teams_studios_and_agreements(backend: Backend) {
    let suite = spawn(backend).await;
    suite.pair_unit_with_a().await;
    let member = suite.registered_member("钱进", suite.a()).await;

    // Households: 12 assigned, one visit logged, confirmed and paid.
    let labels: Vec<String> = (1..=12).map(|n| format!("{n}栋101")).collect();
    let households = suite
        .admin_a()
        .assign_households(pb::AssignHouseholdsRequest {
            request_id: String::new(),
            member_id: member.clone(),
            community_id: suite.a().into(),
            labels,
        })
        .await
        .expect("assign")
        .into_inner()
        .households;
    assert_eq!(households.len(), 12);
    let visit = suite
        .member(&member)
        .log_visit(pb::LogVisitRequest {
            request_id: "visit-1".into(),
            household_id: households[0].id.clone(),
            minutes: 20,
            note: "了解独居老人近况".into(),
            evidence_ids: Vec::new(),
        })
        .await
        .expect("visit")
        .into_inner();
    assert_eq!(visit.household.expect("household").visits, 1);
    suite
        .confirm(&visit.attendance.expect("attendance").id, 0)
        .await
        .expect("confirm visit");
    suite.wait_paid(&member).await;

    // A team, joined, serving with a published contact.
    let team = suite
        .admin_a()
        .create_team(pb::CreateTeamRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            name: "红色物业服务队".into(),
            kind: pb::TeamKind::Organised.into(),
            post_id: String::new(),
        })
        .await
        .expect("team")
        .into_inner()
        .team
        .expect("team");
    let joined = suite
        .member(&member)
        .join_team(pb::JoinTeamRequest {
            team_id: team.id.clone(),
            member_id: member.clone(),
        })
        .await
        .expect("join")
        .into_inner()
        .team
        .expect("team");
    assert_eq!(joined.member_ids, vec![member.clone()]);
    let now = chrono::Utc::now().timestamp();
    let team_service = pb::CreateActivityRequest {
        request_id: String::new(),
        community_id: suite.a().into(),
        kind: pb::ActivityKind::TeamService.into(),
        title: "服务队义务维修".into(),
        content: "小家电维修".into(),
        post_id: String::new(),
        place: "党群服务中心".into(),
        start_time: Some(prost_types::Timestamp {
            seconds: now + 3600,
            nanos: 0,
        }),
        end_time: Some(prost_types::Timestamp {
            seconds: now + 7200,
            nanos: 0,
        }),
        capacity: 10,
        organiser: "红色物业服务队".into(),
        contact: String::new(),
        team_id: team.id.clone(),
        studio_id: String::new(),
        agreement_id: String::new(),
    };
    let status = suite
        .admin_a()
        .create_activity(team_service.clone())
        .await
        .expect_err("no contact");
    assert_invalid(&status, "contact");
    let status = suite
        .admin_a()
        .create_activity(pb::CreateActivityRequest {
            contact: "王队长 0371-6000000".into(),
            team_id: String::new(),
            ..team_service.clone()
        })
        .await
        .expect_err("no team");
    assert_invalid(&status, "team_id");
    suite
        .admin_a()
        .create_activity(pb::CreateActivityRequest {
            contact: "王队长 0371-6000000".into(),
            ..team_service
        })
        .await
        .expect("team service with contact");

    // A studio named after the member.
    let studio = suite
        .admin_a()
        .create_studio(pb::CreateStudioRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            member_id: member.clone(),
            name: "钱进调解工作室".into(),
            services: vec!["邻里纠纷调解".into(), "法律咨询".into()],
            opening_hours: "每周六 9:00-11:00".into(),
        })
        .await
        .expect("studio")
        .into_inner()
        .studio
        .expect("studio");
    let studios = suite
        .member(&member)
        .list_studios(pb::ListStudiosRequest {
            community_id: suite.a().into(),
            ..Default::default()
        })
        .await
        .expect("studios")
        .into_inner()
        .studios;
    assert_eq!(studios[0].id, studio.id);

    // An agreement with its three lists; unit services recorded against it.
    let agreement = suite
        .unit_admin()
        .create_agreement(pb::CreateAgreementRequest {
            request_id: "agreement-1".into(),
            unit_org_id: suite.city.unit.id.clone(),
            community_id: suite.a().into(),
            year: suite.year,
            resources: vec!["医疗志愿者".into()],
            needs: vec!["老年人健康讲座".into()],
            projects: vec![pb::ProjectInput {
                name: "健康进社区".into(),
                goal: "每季度一次义诊".into(),
                expected_effect: "覆盖200名老人".into(),
                deadline: None,
            }],
            pledge: Some(pb::UnitPledge {
                services: 4,
                hours: 8,
                form: "义诊".into(),
            }),
        })
        .await
        .expect("agreement")
        .into_inner()
        .agreement
        .expect("agreement");
    assert_eq!(agreement.projects[0].status, pb::ProjectStatus::Planned as i32);
    let today = dualreport_policy::china_today();
    let unit_record = suite
        .admin_a()
        .record_unit_service(pb::RecordUnitServiceRequest {
            request_id: String::new(),
            unit_org_id: suite.city.unit.id.clone(),
            community_id: suite.a().into(),
            served_on: Some(dualreport_platform::wire::date_to_pb(today)),
            content: "义诊".into(),
            minutes: 120,
            agreement_id: agreement.id.clone(),
            evidence_ids: Vec::new(),
            kind: pb::UnitServiceKind::Unspecified.into(),
        })
        .await
        .expect("unit record")
        .into_inner()
        .record
        .expect("record");
    assert_eq!(
        unit_record.kind,
        pb::UnitServiceKind::CommunityActivity as i32,
        "unset is a community activity"
    );
    let updated = suite
        .unit_admin()
        .update_project_status(pb::UpdateProjectStatusRequest {
            agreement_id: agreement.id.clone(),
            project_id: agreement.projects[0].id.clone(),
            status: pb::ProjectStatus::InProgress.into(),
        })
        .await
        .expect("status")
        .into_inner()
        .agreement
        .expect("agreement");
    assert_eq!(updated.projects[0].status, pb::ProjectStatus::InProgress as i32);
    assert_eq!((updated.services_done, updated.minutes_done), (1, 120));
    let public = suite
        .member(&member)
        .list_agreements(pb::ListAgreementsRequest {
            community_id: suite.a().into(),
            unit_org_id: String::new(),
            year: 0,
            ..Default::default()
        })
        .await
        .expect("agreements are public in the community")
        .into_inner()
        .agreements;
    assert_eq!(public.len(), 1);
}

dualreport_testkit::on_both_backends!(households_teams_studios_and_agreements,);
