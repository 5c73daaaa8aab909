//! Service teams and studios: parse, call the use case, answer.

use super::*;

pub(super) async fn create_team(
    api: &VolunteeringApi,
    request: Request<pb::CreateTeamRequest>,
) -> R<pb::CreateTeamResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let team = Team {
        id: new_id(),
        community_id: id("community_id", &req.community_id)?,
        name: name("name", &req.name)?,
        kind: team_kind_from_pb(req.kind)?,
        post_id: optional_id("post_id", &req.post_id)?,
        member_ids: Vec::new(),
        created_at: now_millis(),
    };
    let team = api
        .app
        .create_team(&p, &req.request_id, team)
        .await
        .map_err(to_status)?;
    ok(pb::CreateTeamResponse {
        team: Some(team_to_pb(team)),
    })
}

pub(super) async fn join_team(api: &VolunteeringApi, request: Request<pb::JoinTeamRequest>) -> R<pb::JoinTeamResponse> {
    let p = principal(&request)?;
    let team_id = id("team_id", &request.get_ref().team_id)?;
    let member_id = id("member_id", &request.get_ref().member_id)?;
    let team = api
        .app
        .change_team(&p, &team_id, &member_id, true)
        .await
        .map_err(to_status)?;
    ok(pb::JoinTeamResponse {
        team: Some(team_to_pb(team)),
    })
}

pub(super) async fn leave_team(
    api: &VolunteeringApi,
    request: Request<pb::LeaveTeamRequest>,
) -> R<pb::LeaveTeamResponse> {
    let p = principal(&request)?;
    let team_id = id("team_id", &request.get_ref().team_id)?;
    let member_id = id("member_id", &request.get_ref().member_id)?;
    let team = api
        .app
        .change_team(&p, &team_id, &member_id, false)
        .await
        .map_err(to_status)?;
    ok(pb::LeaveTeamResponse {
        team: Some(team_to_pb(team)),
    })
}

pub(super) async fn list_teams(
    api: &VolunteeringApi,
    request: Request<pb::ListTeamsRequest>,
) -> R<pb::ListTeamsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let community_id = id("community_id", &req.community_id)?;
    let page = page(req.page_size, &req.page_token)?;
    let (teams, next_page_token) = api.app.list_teams(&p, &community_id, &page).await.map_err(to_status)?;
    ok(pb::ListTeamsResponse {
        teams: teams.into_iter().map(team_to_pb).collect(),
        next_page_token,
    })
}

pub(super) async fn create_studio(
    api: &VolunteeringApi,
    request: Request<pb::CreateStudioRequest>,
) -> R<pb::CreateStudioResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let studio = Studio {
        id: new_id(),
        community_id: id("community_id", &req.community_id)?,
        member_id: id("member_id", &req.member_id)?,
        name: name("name", &req.name)?,
        services: text_list("services", &req.services, 30, 100)?,
        opening_hours: text("opening_hours", &req.opening_hours, 100, true)?,
        created_at: now_millis(),
    };
    if studio.services.is_empty() {
        return Err(err::invalid_field("services", "must list at least one service"));
    }
    let studio = api
        .app
        .create_studio(&p, &req.request_id, studio)
        .await
        .map_err(to_status)?;
    ok(pb::CreateStudioResponse {
        studio: Some(studio_to_pb(studio)),
    })
}

pub(super) async fn list_studios(
    api: &VolunteeringApi,
    request: Request<pb::ListStudiosRequest>,
) -> R<pb::ListStudiosResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let community_id = id("community_id", &req.community_id)?;
    let page = page(req.page_size, &req.page_token)?;
    let (studios, next_page_token) = api
        .app
        .list_studios(&p, &community_id, &page)
        .await
        .map_err(to_status)?;
    ok(pb::ListStudiosResponse {
        studios: studios.into_iter().map(studio_to_pb).collect(),
        next_page_token,
    })
}
