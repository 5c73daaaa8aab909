//! Every List pages (AIP-158): walked two at a time, each list gives every
//! item exactly once and in the order one big page gives them; a token of
//! another list is refused.

use std::collections::HashSet;
use std::future::Future;

use dualreport_proto::volunteering::v1 as pb;
use tonic::Code;

use crate::helpers::*;

/// Walks `list(page_size, token) -> (ids, next token)` to its end.
async fn walk<F, Fut>(what: &str, mut list: F) -> Vec<String>
where
    F: FnMut(i32, String) -> Fut,
    Fut: Future<Output = (Vec<String>, String)>,
{
    let (all, next) = list(500, String::new()).await;
    assert!(next.is_empty(), "{what}: everything fits one page of 500");
    let mut walked = Vec::new();
    let mut token = String::new();
    for _ in 0..1000 {
        let (ids, next) = list(2, token).await;
        assert!(ids.len() <= 2, "{what}: a page holds at most page_size items");
        walked.extend(ids);
        if next.is_empty() {
            break;
        }
        token = next;
    }
    let unique: HashSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len(), "{what}: no item twice");
    assert_eq!(walked, all, "{what}: the pages give every item once, in order");
    walked
}

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

dualreport_testkit::on_both_backends!(every_volunteering_list_pages,);
