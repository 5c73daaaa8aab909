//! Step 1 of the cycle (报到): units report to their paired communities and
//! members report where they live, each confirmed by the community.

use anyhow::Context as _;
use dualreport_platform::auth::Role;
use dualreport_platform::wire::date_to_pb;
use dualreport_policy::Date;
use dualreport_proto::registry::v1 as reg;

use crate::city::{City, GIVEN, POSTS, SKILLS, SURNAMES};
use crate::client::{As, Demo};

/// Unit reports, received by their paired communities.
pub async fn report_units(demo: &Demo, city: &City) -> anyhow::Result<()> {
    let (communities, units, year) = (&city.communities, &city.units, city.year);
    for (u, unit) in units.iter().enumerate() {
        let community = &communities[unit.community];
        let report = demo
            .registry(As::Admin(Role::UnitAdmin, &unit.id))?
            .submit_unit_report(reg::SubmitUnitReportRequest {
                request_id: format!("demo-unit-report-{u}-{year}"),
                unit_org_id: unit.id.clone(),
                community_id: community.id.clone(),
                year,
                resources: "会议室一间、志愿者二十人、义诊设备".into(),
                suggestions: "希望共建老旧小区改造项目".into(),
            })
            .await;
        let report = match report {
            Ok(r) => r.into_inner().report.context("report")?,
            // A reporting window closed by policy: say so and go on.
            Err(status) if status.code() == tonic::Code::FailedPrecondition => {
                eprintln!("unit reports are closed today ({}); skipping them", status.message());
                break;
            }
            Err(status) => return Err(status.into()),
        };
        demo.registry(As::Admin(Role::CommunityAdmin, &community.id))?
            .receive_unit_report(reg::ReceiveUnitReportRequest {
                request_id: format!("demo-unit-receive-{u}-{year}"),
                report_id: report.id,
            })
            .await?;
    }
    Ok(())
}

/// `count` members created by their units, reported and confirmed; they
/// land in `city.members`.
pub async fn report_members(demo: &Demo, city: &mut City, count: usize) -> anyhow::Result<()> {
    let (communities, units, year) = (&city.communities, &city.units, city.year);
    let mut members: Vec<(String, usize)> = Vec::new();
    for i in 0..count {
        let unit = &units[i % units.len()];
        // Most live near their unit's community; some elsewhere in the city.
        let community = if i % 5 == 0 {
            (unit.community + 1) % communities.len()
        } else {
            unit.community
        };
        let name = format!(
            "{}{}{}",
            SURNAMES[i % SURNAMES.len()],
            GIVEN[(i / SURNAMES.len()) % GIVEN.len()],
            GIVEN[(i * 7 + 3) % GIVEN.len()]
        );
        let member = demo
            .registry(As::Admin(Role::UnitAdmin, &unit.id))?
            .create_member(reg::CreateMemberRequest {
                request_id: format!("demo-member-{i}"),
                profile: Some(reg::MemberProfile {
                    name,
                    gender: if i % 2 == 0 {
                        reg::Gender::Male
                    } else {
                        reg::Gender::Female
                    } as i32,
                    birth_year: 1965 + (i % 35) as i32,
                    education: ["本科", "硕士", "大专"][i % 3].into(),
                    joined_party_on: Some(date_to_pb(
                        Date::from_ymd_opt(1965 + (i % 35) as i32 + 22 + (i % 5) as i32, 7, 1).context("date")?,
                    )),
                    membership_status: reg::MembershipStatus::Full as i32,
                    category: reg::MemberCategory::InService as i32,
                    employer: "区直单位".into(),
                    position: ["科员", "副科长", "医生", "教师"][i % 4].into(),
                    unit_org_id: unit.id.clone(),
                    home_address: format!("河南省郑州市{}{}号院", communities[community].name, 1 + i % 40),
                    residence_community_id: communities[community].id.clone(),
                    phone: format!("138{:08}", 10_000_000 + i),
                    skills: vec![SKILLS[i % SKILLS.len()].into(), SKILLS[(i + 3) % SKILLS.len()].into()],
                    service_intentions: vec![POSTS[i % POSTS.len()].into(), POSTS[(i + 2) % POSTS.len()].into()],
                    available_time_slots: vec!["周六上午".into(), "工作日晚上".into()],
                }),
            })
            .await?
            .into_inner()
            .member
            .context("member")?;
        let report = demo
            .registry(As::Member(&member.id))?
            .submit_member_report(reg::SubmitMemberReportRequest {
                request_id: format!("demo-report-{i}-{year}"),
                member_id: member.id.clone(),
                community_id: communities[community].id.clone(),
                year,
                letter_id: String::new(),
            })
            .await;
        match report {
            Ok(report) => {
                let report = report.into_inner().report.context("report")?;
                if report.status == reg::MemberReportStatus::Submitted as i32 {
                    demo.registry(As::Admin(Role::CommunityAdmin, &communities[community].id))?
                        .confirm_member_report(reg::ConfirmMemberReportRequest {
                            request_id: format!("demo-confirm-{i}-{year}"),
                            report_id: report.id,
                            branch: format!("第{}党支部", 1 + i % 3),
                        })
                        .await?;
                }
                members.push((member.id, community));
            }
            Err(status) if status.code() == tonic::Code::FailedPrecondition => {
                eprintln!(
                    "member reports are closed today ({}); members are not reported",
                    status.message()
                );
                break;
            }
            Err(status) => return Err(status.into()),
        }
    }
    city.members = members;
    Ok(())
}
