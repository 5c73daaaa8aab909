//! Unit and member reports, letters, receipts and the register: parse, call the use case, answer.

use super::*;
use dualreport_platform::batch;

impl TryFrom<&pb::ListUnitReportsRequest> for UnitReportFilter {
    type Error = Status;

    fn try_from(req: &pb::ListUnitReportsRequest) -> Result<Self, Status> {
        Ok(Self {
            year: req.year,
            status: match known::<pb::UnitReportStatus>("status", req.status)? {
                pb::UnitReportStatus::Unspecified => None,
                pb::UnitReportStatus::Submitted => Some(UnitReportStatus::Submitted),
                pb::UnitReportStatus::Received => Some(UnitReportStatus::Received),
            },
            submitted: DateWindow::parse("submitted", req.submitted.as_ref())?,
        })
    }
}

impl TryFrom<&pb::ListMemberReportsRequest> for MemberReportFilter {
    type Error = Status;

    fn try_from(req: &pb::ListMemberReportsRequest) -> Result<Self, Status> {
        Ok(Self {
            year: req.year,
            status: match known::<pb::MemberReportStatus>("status", req.status)? {
                pb::MemberReportStatus::Unspecified => None,
                pb::MemberReportStatus::Submitted => Some(MemberReportStatus::Submitted),
                pb::MemberReportStatus::Confirmed => Some(MemberReportStatus::Confirmed),
                pb::MemberReportStatus::Ended => Some(MemberReportStatus::Ended),
            },
            submitted: DateWindow::parse("submitted", req.submitted.as_ref())?,
        })
    }
}

pub(super) async fn submit_unit_report(
    api: &RegistryApi,
    request: Request<pb::SubmitUnitReportRequest>,
) -> R<pb::SubmitUnitReportResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    required("unit_org_id", &req.unit_org_id)?;
    required("community_id", &req.community_id)?;
    let resources = text("resources", &req.resources, 2000, false)?;
    let suggestions = text("suggestions", &req.suggestions, 2000, false)?;
    let report = api
        .registry
        .submit_unit_report(
            &p,
            &req.request_id,
            UnitReportDraft {
                unit_org_id: req.unit_org_id.clone(),
                community_id: req.community_id.clone(),
                year: req.year,
                resources,
                suggestions,
            },
        )
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::SubmitUnitReportResponse {
        report: Some(unit_report_to_pb(report)),
    }))
}

pub(super) async fn receive_unit_report(
    api: &RegistryApi,
    request: Request<pb::ReceiveUnitReportRequest>,
) -> R<pb::ReceiveUnitReportResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    required("report_id", &req.report_id)?;
    let report = api
        .registry
        .receive_unit_report(&p, &req.request_id, &req.report_id)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ReceiveUnitReportResponse {
        report: Some(unit_report_to_pb(report)),
    }))
}

pub(super) async fn get_unit_report(
    api: &RegistryApi,
    request: Request<pb::GetUnitReportRequest>,
) -> R<pb::GetUnitReportResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    required("report_id", &req.report_id)?;
    let report = api
        .registry
        .get_unit_report(&p, &req.report_id)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::GetUnitReportResponse {
        report: Some(unit_report_to_pb(report)),
    }))
}

pub(super) async fn list_unit_reports(
    api: &RegistryApi,
    request: Request<pb::ListUnitReportsRequest>,
) -> R<pb::ListUnitReportsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let page = page(req.page_size, &req.page_token)?;
    let filter = UnitReportFilter::try_from(&req)?;
    let (reports, next) = api
        .registry
        .list_unit_reports(&p, &req.org_id, &filter, &page)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListUnitReportsResponse {
        reports: reports.into_iter().map(unit_report_to_pb).collect(),
        next_page_token: next,
    }))
}

pub(super) async fn issue_introduction_letter(
    api: &RegistryApi,
    request: Request<pb::IssueIntroductionLetterRequest>,
) -> R<pb::IssueIntroductionLetterResponse> {
    let p = principal(&request)?;
    let letter = issue_one(api, &p, request.into_inner()).await?;
    Ok(Response::new(pb::IssueIntroductionLetterResponse {
        letter: Some(letter),
    }))
}

async fn issue_one(
    api: &RegistryApi,
    p: &Principal,
    req: pb::IssueIntroductionLetterRequest,
) -> Result<pb::IntroductionLetter, Status> {
    required("member_id", &req.member_id)?;
    required("community_id", &req.community_id)?;
    let letter = api
        .registry
        .issue_letter(p, &req.request_id, &req.member_id, &req.community_id, req.year)
        .await
        .map_err(to_status)?;
    Ok(letter_to_pb(letter))
}

/// A unit's roster: each letter issued as `IssueIntroductionLetter` would.
pub(super) async fn batch_issue_introduction_letters(
    api: &RegistryApi,
    request: Request<pb::BatchIssueIntroductionLettersRequest>,
) -> R<pb::BatchIssueIntroductionLettersResponse> {
    let p = principal(&request)?;
    let results = batch::each(
        "requests",
        request.into_inner().requests,
        |item| issue_one(api, &p, item),
        |outcome| {
            let (letter, error) = batch::split(outcome);
            pb::IssueIntroductionLetterResult { letter, error }
        },
    )
    .await?;
    Ok(Response::new(pb::BatchIssueIntroductionLettersResponse { results }))
}

pub(super) async fn submit_member_report(
    api: &RegistryApi,
    request: Request<pb::SubmitMemberReportRequest>,
) -> R<pb::SubmitMemberReportResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    required("member_id", &req.member_id)?;
    required("community_id", &req.community_id)?;
    let report = api
        .registry
        .submit_member_report(
            &p,
            &req.request_id,
            &req.member_id,
            &req.community_id,
            req.year,
            &req.letter_id,
        )
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::SubmitMemberReportResponse {
        report: Some(member_report_to_pb(report)),
    }))
}

pub(super) async fn confirm_member_report(
    api: &RegistryApi,
    request: Request<pb::ConfirmMemberReportRequest>,
) -> R<pb::ConfirmMemberReportResponse> {
    let p = principal(&request)?;
    let report = confirm_one(api, &p, request.into_inner()).await?;
    Ok(Response::new(pb::ConfirmMemberReportResponse { report: Some(report) }))
}

/// One confirmation, as `ConfirmMemberReport` and each item of
/// `BatchConfirmMemberReports` do it.
async fn confirm_one(
    api: &RegistryApi,
    p: &Principal,
    req: pb::ConfirmMemberReportRequest,
) -> Result<pb::MemberReport, Status> {
    required("report_id", &req.report_id)?;
    let branch = text("branch", &req.branch, 100, true)?;
    let report = api
        .registry
        .confirm_member_report(p, &req.request_id, &req.report_id, &branch)
        .await
        .map_err(to_status)?;
    Ok(member_report_to_pb(report))
}

/// Each item confirmed as `ConfirmMemberReport` would, one after the other;
/// a refused item is reported and passed.
pub(super) async fn batch_confirm_member_reports(
    api: &RegistryApi,
    request: Request<pb::BatchConfirmMemberReportsRequest>,
) -> R<pb::BatchConfirmMemberReportsResponse> {
    let p = principal(&request)?;
    let results = batch::each(
        "requests",
        request.into_inner().requests,
        |item| confirm_one(api, &p, item),
        |outcome| {
            let (report, error) = batch::split(outcome);
            pb::ConfirmMemberReportResult { report, error }
        },
    )
    .await?;
    Ok(Response::new(pb::BatchConfirmMemberReportsResponse { results }))
}

pub(super) async fn get_member_report(
    api: &RegistryApi,
    request: Request<pb::GetMemberReportRequest>,
) -> R<pb::GetMemberReportResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    required("report_id", &req.report_id)?;
    let report = api
        .registry
        .get_member_report(&p, &req.report_id)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::GetMemberReportResponse {
        report: Some(member_report_to_pb(report)),
    }))
}

pub(super) async fn list_member_reports(
    api: &RegistryApi,
    request: Request<pb::ListMemberReportsRequest>,
) -> R<pb::ListMemberReportsResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let page = page(req.page_size, &req.page_token)?;
    let filter = MemberReportFilter::try_from(&req)?;
    let (reports, next) = api
        .registry
        .list_member_reports(&p, &req.member_id, &req.org_id, &filter, &page)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListMemberReportsResponse {
        reports: reports.into_iter().map(member_report_to_pb).collect(),
        next_page_token: next,
    }))
}

pub(super) async fn get_receipt(
    api: &RegistryApi,
    request: Request<pb::GetReceiptRequest>,
) -> R<pb::GetReceiptResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    required("number", &req.number)?;
    let receipt = api.registry.get_receipt(&p, &req.number).await.map_err(to_status)?;
    Ok(Response::new(pb::GetReceiptResponse {
        receipt: Some(receipt_to_pb(receipt)),
    }))
}

pub(super) async fn list_register(
    api: &RegistryApi,
    request: Request<pb::ListRegisterRequest>,
) -> R<pb::ListRegisterResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    required("community_id", &req.community_id)?;
    let page = page(req.page_size, &req.page_token)?;
    let (rows, next) = api
        .registry
        .register(&p, &req.community_id, req.year, &page)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListRegisterResponse {
        entries: rows
            .into_iter()
            .map(|r| pb::RegisterEntry {
                member_id: r.member_id,
                member_name: r.member_name,
                unit_org_id: r.unit_org_id,
                branch: r.branch,
                report_id: r.report_id,
                year: r.year,
                since_time: Some(timestamp(r.since)),
            })
            .collect(),
        next_page_token: next,
    }))
}
