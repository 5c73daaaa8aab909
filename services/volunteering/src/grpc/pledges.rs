//! Pledges and co-building agreements: parse, call the use case, answer.

use super::*;

pub(super) async fn set_pledge(
    api: &VolunteeringApi,
    request: Request<pb::SetPledgeRequest>,
) -> R<pb::SetPledgeResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let pledge = Pledge {
        member_id: id("member_id", &req.member_id)?,
        community_id: id("community_id", &req.community_id)?,
        year: the_year(req.year)?,
        items: text_list("items", &req.items, 20, 100)?,
        services: count("services", req.services, 366)?,
        hours: count("hours", req.hours, 8784)?,
        way: words("way", &req.way, false)?,
        updated_at: now_millis(),
    };
    let (pledge, progress) = api.app.set_pledge(&p, pledge).await.map_err(to_status)?;
    ok(pb::SetPledgeResponse {
        pledge: Some(pledge_to_pb(pledge, progress)),
    })
}

pub(super) async fn get_pledge(
    api: &VolunteeringApi,
    request: Request<pb::GetPledgeRequest>,
) -> R<pb::GetPledgeResponse> {
    let p = principal(&request)?;
    let member_id = id("member_id", &request.get_ref().member_id)?;
    let year = the_year(request.get_ref().year)?;
    let (pledge, progress) = api.app.get_pledge(&p, &member_id, year).await.map_err(to_status)?;
    ok(pb::GetPledgeResponse {
        pledge: Some(pledge_to_pb(pledge, progress)),
    })
}

pub(super) async fn list_pledges(
    api: &VolunteeringApi,
    request: Request<pb::ListPledgesRequest>,
) -> R<pb::ListPledgesResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let community_id = id("community_id", &req.community_id)?;
    let year = the_year(req.year)?;
    let page = page(req.page_size, &req.page_token)?;
    let (rows, next_page_token) = api
        .app
        .list_pledges(&p, &community_id, year, &page)
        .await
        .map_err(to_status)?;
    ok(pb::ListPledgesResponse {
        pledges: rows.into_iter().map(|(pl, pr)| pledge_to_pb(pl, pr)).collect(),
        next_page_token,
    })
}

pub(super) async fn create_agreement(
    api: &VolunteeringApi,
    request: Request<pb::CreateAgreementRequest>,
) -> R<pb::CreateAgreementResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let mut v = Violations::default();
    let mut projects = Vec::new();
    if req.projects.len() > 20 {
        v.add("projects", "must have at most 20 entries");
    }
    for (i, input) in req.projects.iter().enumerate() {
        let at = |f: &str| format!("projects[{i}].{f}");
        let project = (
            v.check(text(&at("name"), &input.name, 100, true)),
            v.check(text(&at("goal"), &input.goal, 500, true)),
            v.check(text(&at("expected_effect"), &input.expected_effect, 500, false)),
        );
        let deadline = match &input.deadline {
            None => None,
            Some(d) => {
                let parsed = date_from_pb(d);
                if parsed.is_none() {
                    v.add(at("deadline"), "must be a calendar date");
                }
                parsed
            }
        };
        if let (Some(name), Some(goal), Some(expected_effect)) = project {
            projects.push(Project {
                id: new_id(),
                name,
                goal,
                expected_effect,
                deadline,
                status: ProjectStatus::Planned,
            });
        }
    }
    let pledge = req.pledge.unwrap_or_default();
    let agreement = (
        v.check(id("unit_org_id", &req.unit_org_id)),
        v.check(id("community_id", &req.community_id)),
        v.check(year("year", req.year, china_today())),
        v.check(text_list("resources", &req.resources, 30, 200)),
        v.check(text_list("needs", &req.needs, 30, 200)),
        v.check(text("pledge.form", &pledge.form, 200, false)),
    );
    for (f, n) in [("pledge.services", pledge.services), ("pledge.hours", pledge.hours)] {
        if !(0..=100_000).contains(&n) {
            v.add(f, "must be between 0 and 100000");
        }
    }
    let (Some(unit_org_id), Some(community_id), Some(year), Some(resources), Some(needs), Some(form), true) = (
        agreement.0,
        agreement.1,
        agreement.2,
        agreement.3,
        agreement.4,
        agreement.5,
        v.is_empty(),
    ) else {
        return Err(err::invalid_fields(&v.0));
    };
    let agreement = Agreement {
        id: new_id(),
        unit_org_id,
        community_id,
        year,
        resources,
        needs,
        projects,
        pledge_services: i64::from(pledge.services),
        pledge_hours: i64::from(pledge.hours),
        pledge_form: form,
        progress: Progress::default(),
        created_at: now_millis(),
    };
    let agreement = api
        .app
        .create_agreement(&p, &req.request_id, agreement)
        .await
        .map_err(to_status)?;
    ok(pb::CreateAgreementResponse {
        agreement: Some(agreement_to_pb(agreement)),
    })
}

pub(super) async fn get_agreement(
    api: &VolunteeringApi,
    request: Request<pb::GetAgreementRequest>,
) -> R<pb::GetAgreementResponse> {
    let p = principal(&request)?;
    let agreement_id = id("agreement_id", &request.get_ref().agreement_id)?;
    let agreement = api.app.get_agreement(&p, &agreement_id).await.map_err(to_status)?;
    ok(pb::GetAgreementResponse {
        agreement: Some(agreement_to_pb(agreement)),
    })
}

pub(super) async fn list_agreements(
    api: &VolunteeringApi,
    request: Request<pb::ListAgreementsRequest>,
) -> R<pb::ListAgreementsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    if req.unit_org_id.is_empty() == req.community_id.is_empty() {
        return Err(err::invalid_field(
            "community_id",
            "give exactly one of community_id and unit_org_id",
        ));
    }
    let community_id = optional_id("community_id", &req.community_id)?;
    let unit_org_id = optional_id("unit_org_id", &req.unit_org_id)?;
    let year = any_year(req.year)?;
    let page = page(req.page_size, &req.page_token)?;
    let (agreements, next_page_token) = api
        .app
        .list_agreements(&p, &community_id, &unit_org_id, year, &page)
        .await
        .map_err(to_status)?;
    ok(pb::ListAgreementsResponse {
        agreements: agreements.into_iter().map(agreement_to_pb).collect(),
        next_page_token,
    })
}

pub(super) async fn update_project_status(
    api: &VolunteeringApi,
    request: Request<pb::UpdateProjectStatusRequest>,
) -> R<pb::UpdateProjectStatusResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let agreement_id = id("agreement_id", &req.agreement_id)?;
    let project_id = id("project_id", &req.project_id)?;
    let status = project_status_from_pb(req.status)?;
    let agreement = api
        .app
        .update_project_status(&p, &agreement_id, &project_id, status)
        .await
        .map_err(to_status)?;
    ok(pb::UpdateProjectStatusResponse {
        agreement: Some(agreement_to_pb(agreement)),
    })
}
