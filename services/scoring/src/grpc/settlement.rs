//! Settlement and the board: parse, call the use case, answer.

use super::*;

pub(super) async fn settle_period(
    api: &ScoringApi,
    request: Request<pb::SettlePeriodRequest>,
) -> R<pb::SettlePeriodResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let community_id = field(id("community_id", &req.community_id))?;
    let period = period_from_pb("period", req.period.as_ref())?;
    let s = api
        .scoring
        .settle(&p, &req.request_id, &community_id, period)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::SettlePeriodResponse {
        settlement: Some(settlement_to_pb(s)),
    }))
}

pub(super) async fn review_settlement(
    api: &ScoringApi,
    request: Request<pb::ReviewSettlementRequest>,
) -> R<pb::ReviewSettlementResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let settlement_id = field(id("settlement_id", &req.settlement_id))?;
    let recorded_by = field(text("recorded_by", &req.recorded_by, 100, true))?;
    let s = api
        .scoring
        .review(
            &p,
            &req.request_id,
            &settlement_id,
            date(req.assembly_date.as_ref()),
            &recorded_by,
        )
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ReviewSettlementResponse {
        settlement: Some(settlement_to_pb(s)),
    }))
}

pub(super) async fn publish_settlement(
    api: &ScoringApi,
    request: Request<pb::PublishSettlementRequest>,
) -> R<pb::PublishSettlementResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let settlement_id = field(id("settlement_id", &req.settlement_id))?;
    let s = api
        .scoring
        .publish(&p, &req.request_id, &settlement_id)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::PublishSettlementResponse {
        settlement: Some(settlement_to_pb(s)),
    }))
}

pub(super) async fn get_settlement(
    api: &ScoringApi,
    request: Request<pb::GetSettlementRequest>,
) -> R<pb::GetSettlementResponse> {
    let p = principal(&request)?;
    let settlement_id = field(id("settlement_id", &request.get_ref().settlement_id))?;
    let s = api
        .scoring
        .get_settlement(&p, &settlement_id)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::GetSettlementResponse {
        settlement: Some(settlement_to_pb(s)),
    }))
}

pub(super) async fn list_settlement_lines(
    api: &ScoringApi,
    request: Request<pb::ListSettlementLinesRequest>,
) -> R<pb::ListSettlementLinesResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let settlement_id = field(id("settlement_id", &req.settlement_id))?;
    let page = page(req.page_size, &req.page_token)?;
    let after = cursor(&page, LineCursor::decode)?;
    let (lines, next) = api
        .scoring
        .settlement_lines(&p, &settlement_id, page.size, after.as_ref())
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListSettlementLinesResponse {
        lines: lines.into_iter().map(line_to_pb).collect(),
        next_page_token: next.map(|c| page.token_for(&c.encode())).unwrap_or_default(),
    }))
}

pub(super) async fn list_settlements(
    api: &ScoringApi,
    request: Request<pb::ListSettlementsRequest>,
) -> R<pb::ListSettlementsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let of = match (req.community_id.is_empty(), req.org_id.is_empty()) {
        (false, true) => SettlementsOf::Community(field(id("community_id", &req.community_id))?),
        (true, false) => SettlementsOf::Subtree(field(id("org_id", &req.org_id))?),
        _ => {
            return Err(err::invalid_field(
                "community_id",
                "give exactly one of community_id and org_id",
            ));
        }
    };
    let period = opt_period_from_pb("period", req.period.as_ref())?;
    let status = match known::<pb::SettlementStatus>("status", req.status)? {
        pb::SettlementStatus::Unspecified => None,
        pb::SettlementStatus::Draft => Some(SettlementStatus::Draft),
        pb::SettlementStatus::Reviewed => Some(SettlementStatus::Reviewed),
        pb::SettlementStatus::Published => Some(SettlementStatus::Published),
    };
    let page = page(req.page_size, &req.page_token)?;
    let (rows, next_page_token) = api
        .scoring
        .list_settlements(&p, of, period, status, &page)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListSettlementsResponse {
        settlements: rows.into_iter().map(settlement_to_pb).collect(),
        next_page_token,
    }))
}

pub(super) async fn get_board(api: &ScoringApi, request: Request<pb::GetBoardRequest>) -> R<pb::GetBoardResponse> {
    principal(&request)?;
    let req = request.into_inner();
    let org_id = field(id("org_id", &req.org_id))?;
    let period = period_from_pb("period", req.period.as_ref())?;
    let kind = subject_kind_from_pb("subject_kind", req.subject_kind)?;
    let page = page(req.page_size, &req.page_token)?;
    let after = cursor(&page, BoardCursor::decode)?;
    let board = api
        .scoring
        .board(&org_id, period, kind, page.size, after.as_ref())
        .await
        .map_err(to_status)?;
    let names = board.community_names;
    Ok(Response::new(pb::GetBoardResponse {
        rows: board
            .rows
            .into_iter()
            .map(|row| {
                let community_name = names.get(&row.community_id).cloned().unwrap_or_default();
                pb::BoardRow {
                    community_name,
                    ..board_row_to_pb(row)
                }
            })
            .collect(),
        next_page_token: board.next.map(|c| page.token_for(&c.encode())).unwrap_or_default(),
        org_name: board.org_name,
    }))
}

pub(super) async fn get_board_statistics(
    api: &ScoringApi,
    request: Request<pb::GetBoardStatisticsRequest>,
) -> R<pb::GetBoardStatisticsResponse> {
    principal(&request)?;
    let req = request.into_inner();
    let org_id = field(id("org_id", &req.org_id))?;
    let period = period_from_pb("period", req.period.as_ref())?;
    let kind = subject_kind_from_pb("subject_kind", req.subject_kind)?;
    let statistics = api
        .scoring
        .board_statistics(&org_id, period, kind)
        .await
        .map_err(to_status)?;
    let subjects = statistics.levels.iter().map(|l| l.subjects).sum::<i64>();
    Ok(Response::new(pb::GetBoardStatisticsResponse {
        org_name: statistics.org_name,
        levels: statistics
            .levels
            .into_iter()
            .map(|l| pb::StarLevel {
                stars: points(l.stars),
                subjects: points(l.subjects),
                points: l.points,
            })
            .collect(),
        subjects: points(subjects),
    }))
}

pub(super) async fn get_registration_table(
    api: &ScoringApi,
    request: Request<pb::GetRegistrationTableRequest>,
) -> R<pb::GetRegistrationTableResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let member_id = field(id("member_id", &req.member_id))?;
    let community_id = field(id("community_id", &req.community_id))?;
    let period = period_from_pb("period", req.period.as_ref())?;
    let table = api
        .scoring
        .registration_table(&p, &member_id, &community_id, period)
        .await
        .map_err(to_status)?;
    let table = registration_table_to_pb(table);
    let csv = registration_csv(&table, period);
    Ok(Response::new(pb::GetRegistrationTableResponse {
        table: Some(table),
        csv,
    }))
}
