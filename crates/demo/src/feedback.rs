//! Step 6 (反馈): notices to the paired units and their ratings, one
//! objection raised, investigated and upheld, and the laggards warned.

use anyhow::Context as _;
use chrono::Datelike as _;
use dualreport_platform::auth::Role;
use dualreport_proto::feedback::v1 as fbk;
use dualreport_proto::scoring::v1 as sco;

use crate::city::City;
use crate::client::{As, Demo, tolerated};

/// What the feedback step left standing.
pub struct Feedback {
    pub notices: usize,
    pub objection: Option<String>,
    pub warnings: usize,
}

pub async fn feed_back(demo: &Demo, city: &City) -> anyhow::Result<Feedback> {
    let (communities, units, members, year, today) =
        (&city.communities, &city.units, &city.members, city.year, city.today);
    let half = if today.month() <= 6 { 1 } else { 2 };
    let mut notices = 0;
    for (u, unit) in units.iter().enumerate() {
        let community = &communities[unit.community];
        let admin = As::Admin(Role::CommunityAdmin, &community.id);
        let sent = demo
            .feedback(admin)?
            .send_notice(fbk::SendNoticeRequest {
                request_id: format!("demo-notice-{u}-{year}-{half}"),
                community_id: community.id.clone(),
                unit_org_id: unit.id.clone(),
                period: Some(fbk::Period { year, half }),
                title: format!(
                    "{year}年{}在职党员报到服务情况反馈",
                    if half == 1 { "上半年" } else { "下半年" }
                ),
                body: "附在职党员报到服务情况汇总表，请督促未报到党员尽快报到".into(),
                urgent: false,
            })
            .await;
        // Not paired when unit reports were closed today.
        let Some(notice) = tolerated(sent)?.and_then(|n| n.notice) else {
            continue;
        };
        notices += 1;
        if u % 2 == 0 {
            demo.feedback(As::Admin(Role::UnitAdmin, &unit.id))?
                .acknowledge_notice(fbk::AcknowledgeNoticeRequest { notice_id: notice.id })
                .await?;
        }
        demo.feedback(admin)?
            .rate_unit(fbk::RateUnitRequest {
                request_id: format!("demo-rate-{u}-{year}"),
                community_id: community.id.clone(),
                unit_org_id: unit.id.clone(),
                year,
                grade: [
                    fbk::UnitGrade::Excellent,
                    fbk::UnitGrade::Good,
                    fbk::UnitGrade::Good,
                    fbk::UnitGrade::Fair,
                ][u % 4]
                    .into(),
                comment: "积极参与社区共建，服务群众热情".into(),
            })
            .await?;
    }
    // One member disputes a service's score; the community investigates and upholds it.
    let mut objection = None;
    if let Some((member, community)) = members.get(1) {
        let entries = demo
            .scoring(As::Member(member))?
            .list_entries(sco::ListEntriesRequest {
                subject: Some(sco::Subject {
                    kind: sco::SubjectKind::Member.into(),
                    id: member.clone(),
                }),
                ..Default::default()
            })
            .await?
            .into_inner()
            .entries;
        if let Some(entry) = entries.iter().find(|e| e.kind == sco::EntryKind::Service as i32) {
            let admin = As::Admin(Role::CommunityAdmin, &communities[*community].id);
            let raised = demo
                .feedback(As::Member(member))?
                .raise_objection(fbk::RaiseObjectionRequest {
                    request_id: "demo-objection-1".into(),
                    entry_id: entry.id.clone(),
                    content: "当天服务三小时，只记了基础分".into(),
                })
                .await?
                .into_inner()
                .objection
                .context("objection")?;
            if raised.status == fbk::ObjectionStatus::Open as i32 {
                demo.feedback(admin)?
                    .assign_objection(fbk::AssignObjectionRequest {
                        objection_id: raised.id.clone(),
                        department: "社区党委".into(),
                    })
                    .await?;
                demo.feedback(admin)?
                    .add_investigation_note(fbk::AddInvestigationNoteRequest {
                        objection_id: raised.id.clone(),
                        note: "走访服务对象，服务时长属实".into(),
                        evidence_ids: Vec::new(),
                        request_id: format!("demo-note-{}", raised.id),
                    })
                    .await?;
            }
            demo.feedback(admin)?
                .decide_objection(fbk::DecideObjectionRequest {
                    request_id: "demo-decide-1".into(),
                    objection_id: raised.id.clone(),
                    upheld: true,
                    correction_points: 2,
                    reason: "经现场核实，服务质量突出，加2分".into(),
                })
                .await?;
            objection = Some(raised.id);
        }
    }
    let mut warnings = 0;
    for unit in units {
        warnings += demo
            .feedback(As::Admin(Role::UnitAdmin, &unit.id))?
            .evaluate_warnings(fbk::EvaluateWarningsRequest {
                unit_org_id: unit.id.clone(),
                year,
                as_of: None,
            })
            .await?
            .into_inner()
            .warnings
            .len();
    }
    Ok(Feedback {
        notices,
        objection,
        warnings,
    })
}
