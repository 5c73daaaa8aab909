//! The ledger: parse (requests into the domain's awards, as `TryFrom`),
//! call the use case, answer.

use super::*;

impl TryFrom<&pb::RecordServiceRequest> for ServiceAward {
    type Error = Status;

    /// Every bad field at once, each named.
    fn try_from(req: &pb::RecordServiceRequest) -> Result<Self, Status> {
        let mut v = Violations::default();
        let award = (
            v.check(text("source_key", &req.source_key, 200, true)),
            v.check(id("member_id", &req.member_id)),
            v.check(id("community_id", &req.community_id)),
            v.check(text("content", &req.content, 500, true)),
        );
        let (Some(source_key), Some(member_id), Some(community_id), Some(content)) = award else {
            return Err(err::invalid_fields(&v.0));
        };
        Ok(ServiceAward {
            source_key,
            member_id,
            community_id,
            served_on: date(req.served_on.as_ref()),
            content,
            adjustment: i64_of(req.adjustment),
        })
    }
}

impl TryFrom<&pb::RecordSpecialRequest> for SpecialAward {
    type Error = Status;

    fn try_from(req: &pb::RecordSpecialRequest) -> Result<Self, Status> {
        Ok(SpecialAward {
            source_key: source_key(&req.source_key)?,
            member_id: field(id("member_id", &req.member_id))?,
            community_id: field(id("community_id", &req.community_id))?,
            occurred_on: date(req.occurred_on.as_ref()),
            category: special_category_from_pb(req.category)?,
            points: i64_of(req.points),
            reason: content("reason", &req.reason)?,
        })
    }
}

impl TryFrom<&pb::RecordProjectScoreRequest> for ProjectAward {
    type Error = Status;

    fn try_from(req: &pb::RecordProjectScoreRequest) -> Result<Self, Status> {
        Ok(ProjectAward {
            source_key: source_key(&req.source_key)?,
            unit_org_id: field(id("unit_org_id", &req.unit_org_id))?,
            community_id: field(id("community_id", &req.community_id))?,
            project_id: field(id("project_id", &req.project_id))?,
            project_name: content("project_name", &req.project_name)?,
            scorer: project_scorer_from_pb(req.scorer)?,
            points: i64_of(req.points),
            scored_on: date(req.scored_on.as_ref()),
        })
    }
}

pub(super) async fn record_service(
    api: &ScoringApi,
    request: Request<pb::RecordServiceRequest>,
) -> R<pb::RecordServiceResponse> {
    let p = principal(&request)?;
    let entry = record_one(api, &p, request.get_ref()).await?;
    Ok(Response::new(pb::RecordServiceResponse { entry: Some(entry) }))
}

async fn record_one(
    api: &ScoringApi,
    p: &dualreport_platform::auth::Principal,
    req: &pb::RecordServiceRequest,
) -> Result<pb::Entry, Status> {
    let award = ServiceAward::try_from(req)?;
    let entry = api.scoring.record_service(p, award).await.map_err(to_status)?;
    Ok(entry_to_pb(entry))
}

/// Back-filled services: each recorded as `RecordService` would.
pub(super) async fn batch_record_services(
    api: &ScoringApi,
    request: Request<pb::BatchRecordServicesRequest>,
) -> R<pb::BatchRecordServicesResponse> {
    let p = principal(&request)?;
    let results = dualreport_platform::batch::each(
        "requests",
        request.into_inner().requests,
        |item| {
            let p = &p;
            async move { record_one(api, p, &item).await }
        },
        |outcome| {
            let (entry, error) = dualreport_platform::batch::split(outcome);
            pb::RecordServiceResult { entry, error }
        },
    )
    .await?;
    Ok(Response::new(pb::BatchRecordServicesResponse { results }))
}

pub(super) async fn record_special(
    api: &ScoringApi,
    request: Request<pb::RecordSpecialRequest>,
) -> R<pb::RecordSpecialResponse> {
    let p = principal(&request)?;
    let award = SpecialAward::try_from(request.get_ref())?;
    let entry = api.scoring.record_special(&p, award).await.map_err(to_status)?;
    Ok(Response::new(pb::RecordSpecialResponse {
        entry: Some(entry_to_pb(entry)),
    }))
}

pub(super) async fn record_project_score(
    api: &ScoringApi,
    request: Request<pb::RecordProjectScoreRequest>,
) -> R<pb::RecordProjectScoreResponse> {
    let p = principal(&request)?;
    let award = ProjectAward::try_from(request.get_ref())?;
    let entry = api.scoring.record_project(&p, award).await.map_err(to_status)?;
    Ok(Response::new(pb::RecordProjectScoreResponse {
        entry: Some(entry_to_pb(entry)),
    }))
}

pub(super) async fn record_correction(
    api: &ScoringApi,
    request: Request<pb::RecordCorrectionRequest>,
) -> R<pb::RecordCorrectionResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    if req.points == 0 {
        return Err(bad(FieldError::new("points", "must not be zero")));
    }
    let correction = Correction {
        source_key: source_key(&req.source_key)?,
        corrects_entry_id: field(id("corrects_entry_id", &req.corrects_entry_id))?,
        points: i64_of(req.points),
        reason: content("reason", &req.reason)?,
    };
    let (entry, version) = api.scoring.record_correction(&p, correction).await.map_err(to_status)?;
    Ok(Response::new(pb::RecordCorrectionResponse {
        entry: Some(entry_to_pb(entry)),
        new_settlement_version: version.map(settlement_to_pb),
    }))
}

pub(super) async fn get_entry(api: &ScoringApi, request: Request<pb::GetEntryRequest>) -> R<pb::GetEntryResponse> {
    let p = principal(&request)?;
    let entry_id = field(id("entry_id", &request.get_ref().entry_id))?;
    let entry = api.scoring.get_entry(&p, &entry_id).await.map_err(to_status)?;
    Ok(Response::new(pb::GetEntryResponse {
        entry: Some(entry_to_pb(entry)),
    }))
}

pub(super) async fn list_entries(
    api: &ScoringApi,
    request: Request<pb::ListEntriesRequest>,
) -> R<pb::ListEntriesResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let subject = subject_from_pb("subject", req.subject.as_ref())?;
    let community = if req.community_id.is_empty() {
        None
    } else {
        Some(field(id("community_id", &req.community_id))?)
    };
    let period = opt_period_from_pb("period", req.period.as_ref())?;
    let page = page(req.page_size, &req.page_token)?;
    let (entries, next_page_token) = api
        .scoring
        .list_entries(&p, &subject, community.as_deref(), period, &page)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListEntriesResponse {
        entries: entries.into_iter().map(entry_to_pb).collect(),
        next_page_token,
    }))
}

pub(super) async fn list_member_totals(
    api: &ScoringApi,
    request: Request<pb::ListMemberTotalsRequest>,
) -> R<pb::ListMemberTotalsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    if req.member_ids.is_empty() || req.member_ids.len() > 1000 {
        return Err(err::invalid_field("member_ids", "must name 1 to 1000 members"));
    }
    let ids = req
        .member_ids
        .iter()
        .enumerate()
        .map(|(i, m)| field(id(&format!("member_ids[{i}]"), m)))
        .collect::<Result<Vec<_>, _>>()?;
    if !(2000..=9998).contains(&req.year) {
        return Err(err::invalid_field("year", "must be between 2000 and 9998"));
    }
    let totals = api.scoring.member_totals(&p, &ids, req.year).await.map_err(to_status)?;
    let clamp = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
    Ok(Response::new(pb::ListMemberTotalsResponse {
        totals: totals
            .into_iter()
            .map(|t| pb::MemberTotals {
                member_id: t.member_id,
                services: clamp(t.services),
                periods: t.periods.into_iter().map(period_points_to_pb).collect(),
            })
            .collect(),
    }))
}

pub(super) async fn get_balance(
    api: &ScoringApi,
    request: Request<pb::GetBalanceRequest>,
) -> R<pb::GetBalanceResponse> {
    let p = principal(&request)?;
    let subject = subject_from_pb("subject", request.get_ref().subject.as_ref())?;
    let balance = api.scoring.balance(&p, &subject).await.map_err(to_status)?;
    let clamp = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
    Ok(Response::new(pb::GetBalanceResponse {
        subject: Some(subject_to_pb(&subject)),
        lifetime_earned: clamp(balance.accounts.iter().map(|a| a.earned).sum()),
        accounts: balance
            .accounts
            .into_iter()
            .map(|a| pb::Account {
                earned: clamp(a.earned),
                redeemed: clamp(a.redeemed),
                spendable: clamp(a.earned - a.redeemed),
                community_id: a.community_id,
            })
            .collect(),
        periods: balance.periods.into_iter().map(period_points_to_pb).collect(),
    }))
}

pub(super) async fn get_scoring_rules(
    api: &ScoringApi,
    request: Request<pb::GetScoringRulesRequest>,
) -> R<pb::GetScoringRulesResponse> {
    principal(&request)?;
    Ok(Response::new(pb::GetScoringRulesResponse {
        rules: Some(rules_to_pb(api.scoring.rules())),
    }))
}
