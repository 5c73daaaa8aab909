//! Members, imports and the access log: parse, call the use case, answer.

use super::*;

pub(super) async fn create_member(
    api: &RegistryApi,
    request: Request<pb::CreateMemberRequest>,
) -> R<pb::CreateMemberResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let profile = profile_from_pb(req.profile.as_ref(), "profile").map_err(|e| err::invalid_fields(&e))?;
    let member = api
        .registry
        .create_member(&p, &req.request_id, profile)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::CreateMemberResponse {
        member: Some(member_to_pb(member)),
    }))
}

pub(super) async fn get_member(api: &RegistryApi, request: Request<pb::GetMemberRequest>) -> R<pb::GetMemberResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    required("member_id", &req.member_id)?;
    let view: pb::MemberView = known("view", req.view)?;
    let whole = view == pb::MemberView::Full;
    let member = api
        .registry
        .get_member(&p, &req.member_id, whole)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::GetMemberResponse {
        member: Some(member_to_pb(member)),
    }))
}

pub(super) async fn list_members(
    api: &RegistryApi,
    request: Request<pb::ListMembersRequest>,
) -> R<pb::ListMembersResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let page = page(req.page_size, &req.page_token)?;
    let (members, next) = api
        .registry
        .list_members(&p, &req.unit_org_id, &req.community_id, &page)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListMembersResponse {
        members: members.into_iter().map(member_to_pb).collect(),
        next_page_token: next,
    }))
}

pub(super) async fn update_member(
    api: &RegistryApi,
    request: Request<pb::UpdateMemberRequest>,
) -> R<pb::UpdateMemberResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    required("member_id", &req.member_id)?;
    let mask = req.update_mask.map(|m| m.paths).unwrap_or_default();
    if mask.is_empty() {
        return Err(err::invalid_field("update_mask", "name at least one field to update"));
    }
    if mask.iter().any(|m| m == "unit_org_id") {
        return Err(err::invalid_field(
            "update_mask",
            "unit_org_id does not change; the new unit registers the member",
        ));
    }
    let update = partial_profile(req.profile.as_ref(), &mask)?;
    let member = api
        .registry
        .update_member(&p, &req.request_id, &req.member_id, update, &mask, &req.etag)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::UpdateMemberResponse {
        member: Some(member_to_pb(member)),
    }))
}

pub(super) async fn import_members(
    api: &RegistryApi,
    request: Request<Streaming<pb::ImportMembersRequest>>,
) -> R<<RegistryApi as RegistryService>::ImportMembersStream> {
    let p = principal(&request)?;
    let batches = request.into_inner();
    let (registry, per_batch) = (api.registry.clone(), api.batch_timeout);
    // On PostgreSQL two batches in flight: the next is checked and sealed
    // while this one is written; replies keep the order of the batches,
    // and the stream ends at the first batch that fails.
    let replies = batches
        .enumerate()
        .map(move |(index, batch)| {
            let (registry, p) = (registry.clone(), p.clone());
            async move {
                let index = i32::try_from(index).unwrap_or(i32::MAX);
                let batch = batch.map_err(dualreport_platform::edge::stream_message_status)?;
                import_one(&registry, &p, index, batch, per_batch).await
            }
        })
        .buffered(api.batches_in_flight)
        .scan(false, |failed, reply| {
            let next = (!*failed).then(|| {
                *failed = reply.is_err();
                reply
            });
            std::future::ready(next)
        });
    Ok(Response::new(Box::pin(replies)))
}

pub(super) async fn list_personal_info_accesses(
    api: &RegistryApi,
    request: Request<pb::ListPersonalInfoAccessesRequest>,
) -> R<pb::ListPersonalInfoAccessesResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let page = page(req.page_size, &req.page_token)?;
    let (rows, next) = api
        .registry
        .list_accesses(&p, &req.member_id, &page)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListPersonalInfoAccessesResponse {
        accesses: rows.into_iter().map(access_to_pb).collect(),
        next_page_token: next,
    }))
}

pub(super) async fn reseal_personal_information(
    api: &RegistryApi,
    request: Request<pb::ResealPersonalInformationRequest>,
) -> R<pb::ResealPersonalInformationResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let page = page(req.page_size, &req.page_token)?;
    let round = api
        .registry
        .reseal_batch(&p, &page.after, page.size)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ResealPersonalInformationResponse {
        resealed: i32::try_from(round.resealed).unwrap_or(i32::MAX),
        changed_meanwhile: i32::try_from(round.changed_meanwhile).unwrap_or(i32::MAX),
        next_page_token: round.last.map(|last| page.token_for(&last)).unwrap_or_default(),
        active_key: api.registry.active_key().to_owned(),
    }))
}
