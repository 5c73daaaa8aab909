//! Posts and claims: parse, call the use case, answer.

use super::*;

pub(super) async fn list_posts(
    api: &VolunteeringApi,
    request: Request<pb::ListPostsRequest>,
) -> R<pb::ListPostsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let community_id = id("community_id", &req.community_id)?;
    let page = page(req.page_size, &req.page_token)?;
    let (posts, next_page_token) = api.app.list_posts(&p, &community_id, &page).await.map_err(to_status)?;
    ok(pb::ListPostsResponse {
        posts: posts.into_iter().map(post_to_pb).collect(),
        next_page_token,
    })
}

pub(super) async fn create_post(
    api: &VolunteeringApi,
    request: Request<pb::CreatePostRequest>,
) -> R<pb::CreatePostResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let mut v = Violations::default();
    let (community_id, post_name, description) = (
        v.check(id("community_id", &req.community_id)),
        v.check(text("name", &req.name, 100, true)),
        v.check(text("description", &req.description, 500, false)),
    );
    let (Some(community_id), Some(post_name), Some(description)) = (community_id, post_name, description) else {
        return Err(err::invalid_fields(&v.0));
    };
    let post = Post {
        id: new_id(),
        community_id,
        name: post_name,
        description,
        standard: false,
        created_at: now_millis(),
    };
    let post = api
        .app
        .create_post(&p, &req.request_id, post)
        .await
        .map_err(to_status)?;
    ok(pb::CreatePostResponse {
        post: Some(post_to_pb(post)),
    })
}

pub(super) async fn claim_post(
    api: &VolunteeringApi,
    request: Request<pb::ClaimPostRequest>,
) -> R<pb::ClaimPostResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let member_id = id("member_id", &req.member_id)?;
    let post_id = id("post_id", &req.post_id)?;
    let year = the_year(req.year)?;
    let claim = api
        .app
        .claim_post(&p, &req.request_id, &member_id, &post_id, year)
        .await
        .map_err(to_status)?;
    ok(pb::ClaimPostResponse {
        claim: Some(claim_to_pb(claim)),
    })
}

pub(super) async fn withdraw_claim(
    api: &VolunteeringApi,
    request: Request<pb::WithdrawClaimRequest>,
) -> R<pb::WithdrawClaimResponse> {
    let p = principal(&request)?;
    let claim_id = id("claim_id", &request.get_ref().claim_id)?;
    api.app.withdraw_claim(&p, &claim_id).await.map_err(to_status)?;
    ok(pb::WithdrawClaimResponse {})
}

pub(super) async fn list_claims(
    api: &VolunteeringApi,
    request: Request<pb::ListClaimsRequest>,
) -> R<pb::ListClaimsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    if req.member_id.is_empty() == req.community_id.is_empty() {
        return Err(err::invalid_field(
            "member_id",
            "give exactly one of member_id and community_id",
        ));
    }
    let member_id = optional_id("member_id", &req.member_id)?;
    let community_id = optional_id("community_id", &req.community_id)?;
    let year = the_year(req.year)?;
    let page = page(req.page_size, &req.page_token)?;
    let ((claims, next_page_token), meets_minimum) = api
        .app
        .list_claims(&p, &member_id, &community_id, year, &page)
        .await
        .map_err(to_status)?;
    ok(pb::ListClaimsResponse {
        claims: claims.into_iter().map(claim_to_pb).collect(),
        next_page_token,
        meets_minimum,
    })
}
