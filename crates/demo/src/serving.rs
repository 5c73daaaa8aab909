//! Steps 2–3 (认领, 服务): posts claimed, pledges made, and today's
//! activities checked into and confirmed on evidence — paid to scoring by
//! volunteering's outbox.

use anyhow::Context as _;
use dualreport_platform::auth::Role;
use dualreport_proto::volunteering::v1 as vol;

use crate::city::{City, SERVICES};
use crate::client::{As, Demo, tolerated};

/// Returns how many posts were claimed and attendances confirmed.
pub async fn serve_today(demo: &Demo, city: &City) -> anyhow::Result<(usize, usize)> {
    let (communities, members, year, today) = (&city.communities, &city.members, city.year, city.today);
    let mut claimed = 0;
    let mut attended = 0;
    // Today's activities run the whole China-time day, so a later run the
    // same day sends byte-identical requests (a reused request_id with other
    // times would be refused); another day's run gets that day's activities.
    let day_start = today.and_hms_opt(0, 0, 0).context("midnight")?.and_utc().timestamp() - 8 * 3600;
    let at = |seconds: i64| Some(prost_types::Timestamp { seconds, nanos: 0 });
    for (c, community) in communities.iter().enumerate() {
        let admin = As::Admin(Role::CommunityAdmin, &community.id);
        // Every community starts with the standard post catalogue.
        let posts = demo
            .volunteering(admin)?
            .list_posts(vol::ListPostsRequest {
                community_id: community.id.clone(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .posts;
        anyhow::ensure!(!posts.is_empty(), "{} has no posts", community.name);
        let residents: Vec<(usize, &String)> = members
            .iter()
            .enumerate()
            .filter(|(_, (_, mc))| *mc == c)
            .map(|(m, (id, _))| (m, id))
            .collect();
        for &(m, member) in &residents {
            let post = &posts[m % posts.len()];
            let mut as_member = demo.volunteering(As::Member(member))?;
            let claim = as_member
                .claim_post(vol::ClaimPostRequest {
                    request_id: format!("demo-claim-{m}-{year}"),
                    member_id: member.clone(),
                    post_id: post.id.clone(),
                    year,
                })
                .await;
            claimed += usize::from(tolerated(claim)?.is_some());
            as_member
                .set_pledge(vol::SetPledgeRequest {
                    member_id: member.clone(),
                    community_id: community.id.clone(),
                    year,
                    items: vec![post.name.clone()],
                    services: 2 + (m % 5) as i32,
                    hours: 6 + (m % 10) as i32,
                    way: ["activity", "team", "order"][m % 3].into(),
                })
                .await?;
        }
        // Two activities today; about half the residents come to each. On a
        // later run they have ended and were confirmed already.
        for k in 0..2 {
            let mut organiser = demo.volunteering(admin)?;
            let activity = organiser
                .create_activity(vol::CreateActivityRequest {
                    request_id: format!("demo-activity-{c}-{k}-{today}"),
                    community_id: community.id.clone(),
                    kind: vol::ActivityKind::Regular.into(),
                    title: SERVICES[(c + k) % SERVICES.len()].into(),
                    content: format!("{}，请党员带好工具", SERVICES[(c + k) % SERVICES.len()]),
                    post_id: posts[k % posts.len()].id.clone(),
                    place: format!("{}党群服务中心", community.name),
                    start_time: at(day_start),
                    end_time: at(day_start + 24 * 3600 - 60),
                    capacity: 200,
                    organiser: "社区党委".into(),
                    contact: "0371-66668888".into(),
                    ..Default::default()
                })
                .await?
                .into_inner()
                .activity
                .context("activity")?;
            let code = organiser
                .issue_check_in_code(vol::IssueCheckInCodeRequest {
                    activity_id: activity.id.clone(),
                })
                .await;
            let Some(code) = tolerated(code)?.map(|c| c.code) else {
                continue;
            };
            let evidence = organiser
                .upload_evidence(vol::UploadEvidenceRequest {
                    request_id: format!("demo-evidence-{c}-{k}"),
                    community_id: community.id.clone(),
                    kind: vol::EvidenceKind::Text.into(),
                    text: format!("{}圆满完成，居民满意", activity.title),
                    ..Default::default()
                })
                .await?
                .into_inner()
                .evidence
                .context("evidence")?;
            for &(m, member) in residents.iter().filter(|(m, _)| (m + k) % 2 == 0) {
                let checked_in = demo
                    .volunteering(As::Member(member))?
                    .check_in(vol::CheckInRequest {
                        activity_id: activity.id.clone(),
                        member_id: member.clone(),
                        code: code.clone(),
                    })
                    .await;
                let Some(attendance) = tolerated(checked_in)?.and_then(|a| a.attendance) else {
                    continue;
                };
                let confirmed = organiser
                    .confirm_attendance(vol::ConfirmAttendanceRequest {
                        request_id: format!("demo-confirm-attendance-{c}-{k}-{m}-{today}"),
                        attendance_id: attendance.id,
                        adjustment: (m % 3) as i32 - 1,
                        note: "服务认真，居民好评".into(),
                        evidence_ids: vec![evidence.id.clone()],
                    })
                    .await;
                attended += usize::from(tolerated(confirmed)?.is_some());
            }
        }
    }
    Ok((claimed, attended))
}
