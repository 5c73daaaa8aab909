//! Activities, check-in and attendance: parse (a new activity as `TryFrom`),
//! call the use case, answer.

use super::*;

impl TryFrom<&pb::CreateActivityRequest> for NewActivity {
    type Error = Status;

    /// The fields' shapes; the rules across fields (an activity lasts at most
    /// a day, a team service names its team) are `NewActivity::validate`'s.
    fn try_from(req: &pb::CreateActivityRequest) -> Result<Self, Status> {
        Ok(NewActivity {
            community_id: id("community_id", &req.community_id)?,
            kind: activity_kind_from_pb(req.kind)?.ok_or_else(|| err::invalid_field("kind", "is required"))?,
            title: text("title", &req.title, 200, true)?,
            content: words("content", &req.content, false)?,
            post_id: optional_id("post_id", &req.post_id)?,
            place: text("place", &req.place, 200, true)?,
            start_at: millis("start_time", req.start_time.as_ref())?,
            end_at: millis("end_time", req.end_time.as_ref())?,
            capacity: i64::from(req.capacity),
            organiser: text("organiser", &req.organiser, 100, true)?,
            contact: text("contact", &req.contact, 100, false)?,
            team_id: optional_id("team_id", &req.team_id)?,
            studio_id: optional_id("studio_id", &req.studio_id)?,
            agreement_id: optional_id("agreement_id", &req.agreement_id)?,
        })
    }
}

pub(super) async fn create_activity(
    api: &VolunteeringApi,
    request: Request<pb::CreateActivityRequest>,
) -> R<pb::CreateActivityResponse> {
    let p = principal(&request)?;
    let new = NewActivity::try_from(request.get_ref())?;
    let req = request.into_inner();
    let activity = api
        .app
        .create_activity(&p, &req.request_id, new)
        .await
        .map_err(to_status)?;
    ok(pb::CreateActivityResponse {
        activity: Some(activity_to_pb(activity)),
    })
}

pub(super) async fn get_activity(
    api: &VolunteeringApi,
    request: Request<pb::GetActivityRequest>,
) -> R<pb::GetActivityResponse> {
    let p = principal(&request)?;
    let activity_id = id("activity_id", &request.get_ref().activity_id)?;
    let activity = api.app.get_activity(&p, &activity_id).await.map_err(to_status)?;
    ok(pb::GetActivityResponse {
        activity: Some(activity_to_pb(activity)),
    })
}

pub(super) async fn list_activities(
    api: &VolunteeringApi,
    request: Request<pb::ListActivitiesRequest>,
) -> R<pb::ListActivitiesResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let community_id = id("community_id", &req.community_id)?;
    let kind = activity_kind_from_pb(req.kind)?;
    let page = page(req.page_size, &req.page_token)?;
    let (activities, next_page_token) = api
        .app
        .list_activities(&p, &community_id, kind, &page)
        .await
        .map_err(to_status)?;
    ok(pb::ListActivitiesResponse {
        activities: activities.into_iter().map(activity_to_pb).collect(),
        next_page_token,
    })
}

pub(super) async fn issue_check_in_code(
    api: &VolunteeringApi,
    request: Request<pb::IssueCheckInCodeRequest>,
) -> R<pb::IssueCheckInCodeResponse> {
    let p = principal(&request)?;
    let activity_id = id("activity_id", &request.get_ref().activity_id)?;
    let (code, expires_at) = api.app.issue_check_in_code(&p, &activity_id).await.map_err(to_status)?;
    ok(pb::IssueCheckInCodeResponse {
        code,
        expire_time: Some(dualreport_platform::wire::timestamp(expires_at)),
    })
}

pub(super) async fn sign_up(api: &VolunteeringApi, request: Request<pb::SignUpRequest>) -> R<pb::SignUpResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let activity_id = id("activity_id", &req.activity_id)?;
    let member_id = id("member_id", &req.member_id)?;
    let attendance = api
        .app
        .sign_up(&p, &req.request_id, &activity_id, &member_id)
        .await
        .map_err(to_status)?;
    ok(pb::SignUpResponse {
        attendance: Some(attendance_to_pb(attendance)),
    })
}

pub(super) async fn check_in(api: &VolunteeringApi, request: Request<pb::CheckInRequest>) -> R<pb::CheckInResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let activity_id = id("activity_id", &req.activity_id)?;
    let member_id = id("member_id", &req.member_id)?;
    if req.code.len() != 6 || !req.code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err::invalid_field("code", "must be the six digits the organiser shows"));
    }
    let attendance = api
        .app
        .check_in(&p, &activity_id, &member_id, &req.code)
        .await
        .map_err(to_status)?;
    ok(pb::CheckInResponse {
        attendance: Some(attendance_to_pb(attendance)),
    })
}

pub(super) async fn confirm_attendance(
    api: &VolunteeringApi,
    request: Request<pb::ConfirmAttendanceRequest>,
) -> R<pb::ConfirmAttendanceResponse> {
    let p = principal(&request)?;
    let attendance = confirm_one(api, &p, request.into_inner()).await?;
    ok(pb::ConfirmAttendanceResponse {
        attendance: Some(attendance),
    })
}

/// One confirmation, as `ConfirmAttendance` and each item of
/// `BatchConfirmAttendance` do it.
async fn confirm_one(
    api: &VolunteeringApi,
    p: &dualreport_platform::auth::Principal,
    req: pb::ConfirmAttendanceRequest,
) -> Result<pb::Attendance, Status> {
    let attendance_id = id("attendance_id", &req.attendance_id)?;
    let note = words("note", &req.note, false)?;
    let evidence = evidence_ids("evidence_ids", &req.evidence_ids, false)?;
    let attendance = api
        .app
        .confirm_attendance(
            p,
            &req.request_id,
            &attendance_id,
            i64::from(req.adjustment),
            note,
            evidence,
        )
        .await
        .map_err(to_status)?;
    Ok(attendance_to_pb(attendance))
}

/// "Mark everyone attended": each item confirmed as `ConfirmAttendance`
/// would, one after the other; a refused item is reported and passed.
pub(super) async fn batch_confirm_attendance(
    api: &VolunteeringApi,
    request: Request<pb::BatchConfirmAttendanceRequest>,
) -> R<pb::BatchConfirmAttendanceResponse> {
    let p = principal(&request)?;
    let requests = request.into_inner().requests;
    let results = dualreport_platform::batch::each(
        "requests",
        requests,
        |item| confirm_one(api, &p, item),
        |outcome| {
            let (attendance, error) = dualreport_platform::batch::split(outcome);
            pb::ConfirmAttendanceResult { attendance, error }
        },
    )
    .await?;
    ok(pb::BatchConfirmAttendanceResponse { results })
}

/// Exactly one of `activity_id`, `member_id`, `community_id` and `org_id`.
fn attendance_of(req: &pb::ListAttendanceRequest) -> Result<AttendanceOf, Status> {
    let given = [&req.activity_id, &req.member_id, &req.community_id, &req.org_id]
        .iter()
        .filter(|id| !id.is_empty())
        .count();
    if given != 1 {
        return Err(err::invalid_field(
            "activity_id",
            "give exactly one of activity_id, member_id, community_id and org_id",
        ));
    }
    Ok(if !req.activity_id.is_empty() {
        AttendanceOf::Activity(optional_id("activity_id", &req.activity_id)?)
    } else if !req.member_id.is_empty() {
        AttendanceOf::Member(optional_id("member_id", &req.member_id)?)
    } else if !req.community_id.is_empty() {
        AttendanceOf::Community(optional_id("community_id", &req.community_id)?)
    } else {
        AttendanceOf::Subtree(optional_id("org_id", &req.org_id)?)
    })
}

impl TryFrom<&pb::ListAttendanceRequest> for AttendanceFilter {
    type Error = Status;

    fn try_from(req: &pb::ListAttendanceRequest) -> Result<Self, Status> {
        Ok(Self {
            year: any_year(req.year)?,
            status: match known::<pb::AttendanceStatus>("status", req.status)? {
                pb::AttendanceStatus::Unspecified => None,
                pb::AttendanceStatus::SignedUp => Some(AttendanceStatus::SignedUp),
                pb::AttendanceStatus::CheckedIn => Some(AttendanceStatus::CheckedIn),
                pb::AttendanceStatus::Confirmed => Some(AttendanceStatus::Confirmed),
            },
            payment: match known::<pb::PaymentStatus>("payment", req.payment)? {
                pb::PaymentStatus::Unspecified => None,
                pb::PaymentStatus::None => Some(Payment::None),
                pb::PaymentStatus::Pending => Some(Payment::Pending),
                pb::PaymentStatus::Paid => Some(Payment::Paid),
            },
            payment_failing: req.payment_failing,
            served: DateWindow::parse("served", req.served.as_ref())?,
        })
    }
}

pub(super) async fn list_attendance(
    api: &VolunteeringApi,
    request: Request<pb::ListAttendanceRequest>,
) -> R<pb::ListAttendanceResponse> {
    let p = principal(&request)?;
    let req = request.into_inner();
    let of = attendance_of(&req)?;
    let filter = AttendanceFilter::try_from(&req)?;
    let page = page(req.page_size, &req.page_token)?;
    let (rows, next_page_token) = api
        .app
        .list_attendance(&p, &of, &filter, &page)
        .await
        .map_err(to_status)?;
    ok(pb::ListAttendanceResponse {
        attendance: rows.into_iter().map(attendance_to_pb).collect(),
        next_page_token,
    })
}
