//! Orders, wishes, households, teams, studios, agreements and unit records
//! through their whole lives.

use dualreport_proto::volunteering::v1 as pb;

use crate::helpers::*;
use dualreport_testkit::on_both_backends;

async fn an_order_goes_from_resident_to_rating_and_is_paid(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("周强", suite.a()).await;
    let post = suite.standard_post(13).await; // 代理承办服务岗
    let order = suite
        .admin_a()
        .place_order(pb::PlaceOrderRequest {
            request_id: "order-1".into(),
            community_id: suite.a().into(),
            resident_name: "张奶奶".into(),
            place: "5栋2单元".into(),
            content: "代缴水电费".into(),
            post_id: post.id.clone(),
        })
        .await
        .expect("place")
        .into_inner()
        .order
        .expect("order");
    assert_eq!(order.status, pb::OrderStatus::Open as i32);
    let dispatched = suite
        .admin_a()
        .dispatch_order(pb::DispatchOrderRequest {
            order_id: order.id.clone(),
            note: "第一党支部派单".into(),
        })
        .await
        .expect("dispatch")
        .into_inner()
        .order
        .expect("order");
    assert_eq!(dispatched.status, pb::OrderStatus::Dispatched as i32);
    let mut me = suite.member(&member);
    me.accept_order(pb::AcceptOrderRequest {
        order_id: order.id.clone(),
        member_id: member.clone(),
    })
    .await
    .expect("accept");
    let photo = me
        .upload_evidence(pb::UploadEvidenceRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            kind: pb::EvidenceKind::Photo.into(),
            content_type: "image/png".into(),
            data: png(2048),
            text: "缴费回执".into(),
        })
        .await
        .expect("photo")
        .into_inner()
        .evidence
        .expect("evidence");
    assert_eq!(photo.size_bytes, 2048);
    assert_eq!(photo.sha256.len(), 64);
    let done = me
        .complete_order(pb::CompleteOrderRequest {
            order_id: order.id.clone(),
            minutes: 45,
            evidence_ids: vec![photo.id.clone()],
        })
        .await
        .expect("complete")
        .into_inner()
        .order
        .expect("order");
    assert_eq!(done.status, pb::OrderStatus::Completed as i32);
    assert!(!done.attendance_id.is_empty());
    let rated = suite
        .admin_a()
        .rate_order(pb::RateOrderRequest {
            order_id: order.id.clone(),
            satisfaction: 5,
            comment: "很及时".into(),
        })
        .await
        .expect("rate")
        .into_inner()
        .order
        .expect("order");
    assert_eq!((rated.status, rated.satisfaction), (pb::OrderStatus::Rated as i32, 5));
    // The order's service is confirmed like any other and paid.
    suite.confirm(&done.attendance_id, 1).await.expect("confirm");
    suite.wait_paid(&member).await;
    assert_eq!(suite.ledger(&member).await[0].points, 6);
    // The evidence reads back, bytes and all.
    let read = suite
        .admin_a()
        .get_evidence(pb::GetEvidenceRequest {
            evidence_id: photo.id.clone(),
            include_data: true,
        })
        .await
        .expect("evidence")
        .into_inner();
    assert_eq!(read.data, png(2048));

    // An order nobody accepted stays visible as open work.
    suite
        .admin_a()
        .place_order(pb::PlaceOrderRequest {
            request_id: String::new(),
            community_id: suite.a().into(),
            resident_name: "刘大爷".into(),
            place: String::new(),
            content: "修理水龙头".into(),
            post_id: String::new(),
        })
        .await
        .expect("place");
    let open = suite
        .admin_a()
        .list_orders(pb::ListOrdersRequest {
            community_id: suite.a().into(),
            status: pb::OrderStatus::Open.into(),
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .expect("list")
        .into_inner()
        .orders;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].content, "修理水龙头");
}

async fn wishes_are_fulfilled_by_a_member_or_by_a_unit(backend: Backend) {
    let suite = spawn(backend).await;
    suite.pair_unit_with_a().await;
    let member = suite.registered_member("孙丽", suite.a()).await;
    let post_wish = |content: &'static str| {
        let mut admin = suite.admin_a();
        let community = suite.a().to_owned();
        async move {
            admin
                .post_wish(pb::PostWishRequest {
                    request_id: String::new(),
                    community_id: community,
                    beneficiary: "小明".into(),
                    content: content.into(),
                })
                .await
                .expect("wish")
                .into_inner()
                .wish
                .expect("wish")
        }
    };
    let books = post_wish("一套课外书").await;
    let coat = post_wish("一件冬衣").await;
    let mut me = suite.member(&member);
    me.claim_wish(pb::ClaimWishRequest {
        wish_id: books.id.clone(),
        member_id: member.clone(),
        unit_org_id: String::new(),
    })
    .await
    .expect("claim");
    let note = suite.upload_text(&mut me, suite.a(), "已送到小明家").await;
    let fulfilled = me
        .fulfil_wish(pb::FulfilWishRequest {
            wish_id: books.id.clone(),
            minutes: 30,
            evidence_ids: vec![note.id],
        })
        .await
        .expect("fulfil")
        .into_inner()
        .wish
        .expect("wish");
    assert_eq!(fulfilled.status, pb::WishStatus::Fulfilled as i32);
    suite.confirm(&fulfilled.attendance_id, 0).await.expect("confirm");
    suite.wait_paid(&member).await;

    // A unit claims the other collectively; its fulfilment is a unit record.
    let mut unit = suite.unit_admin();
    unit.claim_wish(pb::ClaimWishRequest {
        wish_id: coat.id.clone(),
        member_id: String::new(),
        unit_org_id: suite.city.unit.id.clone(),
    })
    .await
    .expect("unit claim");
    let evidence = suite.upload_text(&mut suite.admin_a(), suite.a(), "单位集体认领").await;
    let done = unit
        .fulfil_wish(pb::FulfilWishRequest {
            wish_id: coat.id.clone(),
            minutes: 60,
            evidence_ids: vec![evidence.id],
        })
        .await
        .expect("unit fulfil")
        .into_inner()
        .wish
        .expect("wish");
    assert!(!done.unit_record_id.is_empty());
    let records = unit
        .list_unit_records(pb::ListUnitRecordsRequest {
            unit_org_id: suite.city.unit.id.clone(),
            year: suite.year,
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .expect("records")
        .into_inner()
        .records;
    assert_eq!(records.len(), 1);
    assert!(records[0].content.contains("一件冬衣"));
}

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
        })
        .await
        .expect("agreements are public in the community")
        .into_inner()
        .agreements;
    assert_eq!(public.len(), 1);
}

on_both_backends!(
    an_order_goes_from_resident_to_rating_and_is_paid,
    wishes_are_fulfilled_by_a_member_or_by_a_unit,
    households_teams_studios_and_agreements,
);
