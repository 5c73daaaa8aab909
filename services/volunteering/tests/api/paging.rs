//! Every List pages (AIP-158): walked two at a time, each list gives every
//! item exactly once and in the order one big page gives them; a token of
//! another list is refused.

use dualreport_proto::volunteering::v1 as pb;
use tonic::Code;

use dualreport_testkit::paging::walk;

use crate::helpers::*;

async fn every_volunteering_list_pages(backend: Backend) {
    let suite = spawn(backend).await;
    suite.pair_unit_with_a().await;
    let member = suite.registered_member("翻页", suite.a()).await;
    let mut admin = suite.admin_a();
    for n in 0..5 {
        admin
            .create_post(pb::CreatePostRequest {
                request_id: format!("post-{n}"),
                community_id: suite.a().into(),
                name: format!("自设岗位{n}"),
                description: String::new(),
            })
            .await
            .expect("post");
        admin
            .create_team(pb::CreateTeamRequest {
                request_id: format!("team-{n}"),
                community_id: suite.a().into(),
                name: format!("服务队{n}"),
                kind: pb::TeamKind::Organised.into(),
                post_id: String::new(),
            })
            .await
            .expect("team");
        admin
            .create_studio(pb::CreateStudioRequest {
                request_id: format!("studio-{n}"),
                community_id: suite.a().into(),
                member_id: member.clone(),
                name: format!("翻页工作室{n}"),
                services: vec!["调解".into()],
                opening_hours: "每周六".into(),
            })
            .await
            .expect("studio");
    }
    admin
        .assign_households(pb::AssignHouseholdsRequest {
            request_id: String::new(),
            member_id: member.clone(),
            community_id: suite.a().into(),
            labels: (1..=11).map(|n| format!("{n}栋")).collect(),
        })
        .await
        .expect("households");

    let posts = walk("posts", |page_size, page_token| {
        let mut c = suite.admin_a();
        let request = pb::ListPostsRequest {
            community_id: suite.a().into(),
            page_size,
            page_token,
        };
        async move {
            let r = c.list_posts(request).await.expect("posts").into_inner();
            let ids = r.posts.iter().map(|p| format!("{}:{}", p.standard, p.id)).collect();
            (ids, r.next_page_token)
        }
    })
    .await;
    assert!(posts.len() > 5, "the catalogue and the five own posts");
    assert!(
        posts.iter().take_while(|p| p.starts_with("true")).count() == posts.len() - 5,
        "the standard catalogue first: {posts:?}"
    );
    let teams = walk("teams", |page_size, page_token| {
        let mut c = suite.admin_a();
        let request = pb::ListTeamsRequest {
            community_id: suite.a().into(),
            page_size,
            page_token,
        };
        async move {
            let r = c.list_teams(request).await.expect("teams").into_inner();
            (r.teams.into_iter().map(|t| t.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert_eq!(teams.len(), 5);
    let studios = walk("studios", |page_size, page_token| {
        let mut c = suite.admin_a();
        let request = pb::ListStudiosRequest {
            community_id: suite.a().into(),
            page_size,
            page_token,
        };
        async move {
            let r = c.list_studios(request).await.expect("studios").into_inner();
            (r.studios.into_iter().map(|s| s.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert_eq!(studios.len(), 5);
    let households = walk("households", |page_size, page_token| {
        let mut c = suite.member(&member);
        let request = pb::ListHouseholdsRequest {
            member_id: member.clone(),
            page_size,
            page_token,
        };
        async move {
            let r = c.list_households(request).await.expect("households").into_inner();
            (r.households.into_iter().map(|h| h.label).collect(), r.next_page_token)
        }
    })
    .await;
    let labels: Vec<String> = (1..=11).map(|n| format!("{n}栋")).collect();
    assert_eq!(households, labels, "in the order they were assigned");
    walk("agreements", |page_size, page_token| {
        let mut c = suite.admin_a();
        let request = pb::ListAgreementsRequest {
            community_id: suite.a().into(),
            page_size,
            page_token,
            ..Default::default()
        };
        async move {
            let r = c.list_agreements(request).await.expect("agreements").into_inner();
            (r.agreements.into_iter().map(|a| a.id).collect(), r.next_page_token)
        }
    })
    .await;

    // A token of the households (two fields) is not one of the posts' (three).
    let token = suite
        .member(&member)
        .list_households(pb::ListHouseholdsRequest {
            member_id: member.clone(),
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .expect("households")
        .into_inner()
        .next_page_token;
    let refused = suite
        .admin_a()
        .list_posts(pb::ListPostsRequest {
            community_id: suite.a().into(),
            page_size: 1,
            page_token: token,
        })
        .await
        .expect_err("another list's token");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("page_token"), "{}", refused.message());
}

/// The workflow lists page too: activities, an activity's and a community's
/// attendance, orders, wishes and claims, each walked two at a time.
async fn the_workflow_lists_page(backend: Backend) {
    let suite = spawn(backend).await;
    let activity = suite.running_activity("翻页活动", 10).await;
    for n in 0..4 {
        suite
            .activity(&format!("后续活动{n}"), 10, 60 * (n + 2), 60 * (n + 3))
            .await;
    }
    let code = suite.code(&activity.id).await;
    let post = suite.standard_post(0).await;
    for n in 0..5 {
        let member = suite.registered_member(&format!("翻页{n}"), suite.a()).await;
        suite.check_in(&member, &activity.id, &code).await.expect("check in");
        suite
            .member(&member)
            .set_pledge(pb::SetPledgeRequest {
                member_id: member.clone(),
                community_id: suite.a().into(),
                year: suite.year,
                items: vec!["楼道清洁".into(), "垃圾分类督导".into()],
                services: 2,
                hours: 2,
                way: "周末到社区".into(),
            })
            .await
            .expect("pledge");
        suite
            .member(&member)
            .claim_post(pb::ClaimPostRequest {
                request_id: format!("claim-{n}"),
                member_id: member.clone(),
                post_id: post.id.clone(),
                year: suite.year,
            })
            .await
            .expect("claim");
        suite
            .admin_a()
            .place_order(pb::PlaceOrderRequest {
                request_id: format!("order-{n}"),
                community_id: suite.a().into(),
                resident_name: format!("居民{n}"),
                place: String::new(),
                content: "代缴水电费".into(),
                post_id: String::new(),
            })
            .await
            .expect("order");
        suite
            .admin_a()
            .post_wish(pb::PostWishRequest {
                request_id: format!("wish-{n}"),
                community_id: suite.a().into(),
                beneficiary: format!("小明{n}"),
                content: "一套课外书".into(),
            })
            .await
            .expect("wish");
    }
    let activities = walk("activities", |page_size, page_token| {
        let mut c = suite.admin_a();
        let request = pb::ListActivitiesRequest {
            community_id: suite.a().into(),
            page_size,
            page_token,
            ..Default::default()
        };
        async move {
            let r = c.list_activities(request).await.expect("activities").into_inner();
            (r.activities.into_iter().map(|a| a.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert_eq!(activities.len(), 5);
    for of in ["activity", "community"] {
        let attendance = walk(of, |page_size, page_token| {
            let mut c = suite.admin_a();
            let mut request = pb::ListAttendanceRequest {
                page_size,
                page_token,
                ..Default::default()
            };
            if of == "activity" {
                request.activity_id = activity.id.clone();
            } else {
                request.community_id = suite.a().into();
            }
            async move {
                let r = c.list_attendance(request).await.expect("attendance").into_inner();
                (r.attendance.into_iter().map(|a| a.id).collect(), r.next_page_token)
            }
        })
        .await;
        assert_eq!(attendance.len(), 5, "{of}");
    }
    let orders = walk("orders", |page_size, page_token| {
        let mut c = suite.admin_a();
        let request = pb::ListOrdersRequest {
            community_id: suite.a().into(),
            page_size,
            page_token,
            ..Default::default()
        };
        async move {
            let r = c.list_orders(request).await.expect("orders").into_inner();
            (r.orders.into_iter().map(|o| o.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert_eq!(orders.len(), 5);
    let wishes = walk("wishes", |page_size, page_token| {
        let mut c = suite.admin_a();
        let request = pb::ListWishesRequest {
            community_id: suite.a().into(),
            page_size,
            page_token,
            ..Default::default()
        };
        async move {
            let r = c.list_wishes(request).await.expect("wishes").into_inner();
            (r.wishes.into_iter().map(|w| w.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert_eq!(wishes.len(), 5);
    let claims = walk("claims", |page_size, page_token| {
        let mut c = suite.admin_a();
        let request = pb::ListClaimsRequest {
            community_id: suite.a().into(),
            year: suite.year,
            page_size,
            page_token,
            ..Default::default()
        };
        async move {
            let r = c.list_claims(request).await.expect("claims").into_inner();
            (r.claims.into_iter().map(|c| c.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert_eq!(claims.len(), 5);
    let pledges = walk("pledges", |page_size, page_token| {
        let mut c = suite.admin_a();
        let request = pb::ListPledgesRequest {
            community_id: suite.a().into(),
            year: suite.year,
            page_size,
            page_token,
        };
        async move {
            let r = c.list_pledges(request).await.expect("pledges").into_inner();
            (r.pledges.into_iter().map(|p| p.member_id).collect(), r.next_page_token)
        }
    })
    .await;
    assert_eq!(pledges.len(), 5);

    suite.pair_unit_with_a().await;
    for n in 0..5 {
        suite
            .admin_a()
            .record_unit_service(pb::RecordUnitServiceRequest {
                request_id: format!("unit-{n}"),
                unit_org_id: suite.city.unit.id.clone(),
                community_id: suite.a().into(),
                served_on: Some(dualreport_platform::wire::date_to_pb(
                    volunteering::domain::china_today(),
                )),
                content: format!("义诊{n}"),
                minutes: 60,
                ..Default::default()
            })
            .await
            .expect("unit record");
    }
    let records = walk("unit records", |page_size, page_token| {
        let mut c = suite.unit_admin();
        let request = pb::ListUnitRecordsRequest {
            unit_org_id: suite.city.unit.id.clone(),
            page_size,
            page_token,
            ..Default::default()
        };
        async move {
            let r = c.list_unit_records(request).await.expect("unit records").into_inner();
            (r.records.into_iter().map(|x| x.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert_eq!(records.len(), 5);
}

dualreport_testkit::on_both_backends!(every_volunteering_list_pages, the_workflow_lists_page,);
