//! `make demo`: fills a running suite (`make run`) with a believable city —
//! two districts, streets, communities, resident units, a few hundred members
//! reported and confirmed, posts claimed and pledges made, today's activities
//! with check-ins confirmed on evidence (paid to scoring by volunteering's
//! outbox), a half-year of earlier service records, special records and
//! project scores, a settlement reviewed and published, a supermarket with
//! redemptions, feedback notices to the units, unit ratings, an objection
//! upheld and the laggards warned — through the public gRPC APIs only, then
//! prints what to try.
//!
//! Every call carries a deterministic `request_id` or source key, so running
//! it again adds nothing. Tokens are minted with the development key of the
//! config file (`config/dev.toml`).

use std::time::Duration;

use anyhow::Context as _;
use chrono::Datelike as _;
use clap::Parser;
use dualreport_platform::auth::{Authenticator, Role, claims};
use dualreport_platform::client::ClientInterceptor;
use dualreport_platform::settings::AuthSettings;
use dualreport_platform::wire::date_to_pb;
use dualreport_policy::{Date, china_today};
use dualreport_proto::feedback::v1 as fbk;
use dualreport_proto::feedback::v1::feedback_service_client::FeedbackServiceClient;
use dualreport_proto::registry::v1 as reg;
use dualreport_proto::registry::v1::registry_service_client::RegistryServiceClient;
use dualreport_proto::scoring::v1 as sco;
use dualreport_proto::scoring::v1::scoring_service_client::ScoringServiceClient;
use dualreport_proto::volunteering::v1 as vol;
use dualreport_proto::volunteering::v1::volunteering_service_client::VolunteeringServiceClient;
use serde::Deserialize;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

#[derive(Debug, Parser)]
struct Args {
    /// Settings with the development key (`auth.dev_hs256_secret`).
    #[arg(long, default_value = "config/dev.toml")]
    config: std::path::PathBuf,
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    registry_url: String,
    #[arg(long, default_value = "http://127.0.0.1:50052")]
    volunteering_url: String,
    #[arg(long, default_value = "http://127.0.0.1:50053")]
    scoring_url: String,
    #[arg(long, default_value = "http://127.0.0.1:50054")]
    feedback_url: String,
    /// Members in all (spread over the units and communities).
    #[arg(long, default_value_t = 300)]
    members: usize,
    /// The root org the registry was started with (`registry.city_id`).
    #[arg(long, default_value = "city")]
    city_id: String,
}

/// The demo reads only `[auth]` (to mint tokens) from a service's config
/// file; the file's other sections are the services' and are not checked here.
#[derive(Debug, Deserialize)]
struct Settings {
    auth: AuthSettings,
    #[serde(flatten)]
    _services: std::collections::HashMap<String, serde_json::Value>,
}

const DEFAULTS: &str = r#"
[auth]
leeway_secs = 30
public_key_files = []
"#;

type Authed = InterceptedService<Channel, ClientInterceptor>;
type Registry = RegistryServiceClient<Authed>;
type Volunteering = VolunteeringServiceClient<Authed>;
type Scoring = ScoringServiceClient<Authed>;
type Feedback = FeedbackServiceClient<Authed>;

struct Demo {
    authenticator: Authenticator,
    registry: Channel,
    volunteering: Channel,
    scoring: Channel,
    feedback: Channel,
}

/// Who a call is made as: an admin of an org, or a member.
#[derive(Clone, Copy)]
enum As<'a> {
    Admin(Role, &'a str),
    Member(&'a str),
}

impl Demo {
    fn token(&self, role: Role, org: Option<&str>, member: Option<&str>) -> anyhow::Result<String> {
        let subject = format!("demo-{}@{}", role.as_str(), org.or(member).unwrap_or("suite"));
        self.authenticator.mint(&claims(&subject, role, org, member, 12 * 3600))
    }

    fn authed(&self, channel: &Channel, who: As<'_>) -> anyhow::Result<Authed> {
        let token = match who {
            As::Admin(role, org) => self.token(role, Some(org), None)?,
            As::Member(member) => self.token(Role::Member, None, Some(member))?,
        };
        Ok(InterceptedService::new(
            channel.clone(),
            ClientInterceptor::with_token(&token)?,
        ))
    }

    fn registry(&self, who: As<'_>) -> anyhow::Result<Registry> {
        Ok(RegistryServiceClient::new(self.authed(&self.registry, who)?))
    }

    fn volunteering(&self, who: As<'_>) -> anyhow::Result<Volunteering> {
        Ok(VolunteeringServiceClient::new(self.authed(&self.volunteering, who)?))
    }

    fn scoring(&self, who: As<'_>) -> anyhow::Result<Scoring> {
        Ok(ScoringServiceClient::new(self.authed(&self.scoring, who)?))
    }

    fn feedback(&self, who: As<'_>) -> anyhow::Result<Feedback> {
        Ok(FeedbackServiceClient::new(self.authed(&self.feedback, who)?))
    }
}

/// A refusal the seed expects on some days or on a second run (a window
/// closed, a step already taken): `None`; anything else is an error.
fn tolerated<T>(result: Result<tonic::Response<T>, tonic::Status>) -> anyhow::Result<Option<T>> {
    match result {
        Ok(response) => Ok(Some(response.into_inner())),
        Err(status) if status.code() == tonic::Code::FailedPrecondition => Ok(None),
        Err(status) => Err(status.into()),
    }
}

async fn connect(url: &str, name: &str) -> anyhow::Result<Channel> {
    Channel::from_shared(url.to_owned())?
        .timeout(Duration::from_secs(30))
        .connect()
        .await
        .with_context(|| format!("{name} is not answering at {url}: start the suite with `make run` first"))
}

struct Community {
    id: String,
    name: String,
}

struct Unit {
    id: String,
    community: usize,
}

async fn org(
    client: &mut Registry,
    key: &str,
    name: &str,
    kind: reg::OrganizationType,
    parent: &str,
    members: i32,
) -> anyhow::Result<String> {
    let response = client
        .create_organization(reg::CreateOrganizationRequest {
            request_id: format!("demo-org-{key}"),
            organization: Some(reg::OrganizationInput {
                name: name.into(),
                r#type: kind as i32,
                parent_id: parent.into(),
                address: format!("河南省郑州市{name}"),
                postcode: "450000".into(),
                leader: "王书记".into(),
                contact_person: "李干事".into(),
                contact_phone: "0371-66668888".into(),
                in_service_member_count: members,
            }),
        })
        .await
        .with_context(|| format!("creating {name}"))?;
    Ok(response.into_inner().organization.context("organization")?.id)
}

const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗",
];
const GIVEN: [&str; 16] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
];
const SKILLS: [&str; 8] = [
    "写作",
    "法律",
    "医疗保健",
    "摄影",
    "财会",
    "心理辅导",
    "电脑操作",
    "便民服务",
];
const POSTS: [&str; 6] = [
    "环境卫生保洁岗",
    "政策法规宣传岗",
    "医疗卫生服务岗",
    "文体活动服务岗",
    "民事纠纷调解岗",
    "扶贫帮困助残岗",
];
const SERVICES: [&str; 8] = [
    "社区环境卫生保洁",
    "垃圾分类督导",
    "政策法规宣传",
    "义诊与健康咨询",
    "重阳节慰问空巢老人",
    "文明交通劝导",
    "民事纠纷调解",
    "七一主题党日共建活动",
];

/// A day of the half-year `h` that is not after today: spread by `n`.
fn day_in(first: Date, last: Date, n: usize) -> Date {
    let span = (last - first).num_days().max(0) as usize + 1;
    first + chrono::Days::new((n * 37 % span) as u64)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let settings: Settings = dualreport_platform::settings::load(DEFAULTS, std::slice::from_ref(&args.config))?;
    let demo = Demo {
        authenticator: Authenticator::from_settings(&settings.auth)?,
        registry: connect(&args.registry_url, "the registry").await?,
        volunteering: connect(&args.volunteering_url, "volunteering").await?,
        scoring: connect(&args.scoring_url, "scoring").await?,
        feedback: connect(&args.feedback_url, "feedback").await?,
    };
    let city = args.city_id.as_str();
    let mut admin = demo.registry(As::Admin(Role::CityAdmin, city))?;
    use reg::OrganizationType as T;

    // ── the tree ──
    let layout = [
        (
            "金水区",
            [
                ("花园路街道", ["农科路社区", "文化路社区"]),
                ("经八路街道", ["纬五路社区", "省军区社区"]),
            ],
        ),
        (
            "二七区",
            [
                ("建中街街道", ["建中街社区", "陇海社区"]),
                ("五里堡街道", ["五里堡社区", "京广路社区"]),
            ],
        ),
    ];
    let mut communities = Vec::new();
    let mut units = Vec::new();
    let mut districts = Vec::new();
    for (d, (district_name, streets)) in layout.iter().enumerate() {
        let district = org(&mut admin, &format!("d{d}"), district_name, T::District, city, 0).await?;
        districts.push((district.clone(), district_name.to_string()));
        let first_community = communities.len();
        for (s, (street_name, names)) in streets.iter().enumerate() {
            let street = org(&mut admin, &format!("d{d}s{s}"), street_name, T::Street, &district, 0).await?;
            for (c, name) in names.iter().enumerate() {
                let id = org(&mut admin, &format!("d{d}s{s}c{c}"), name, T::Community, &street, 0).await?;
                communities.push(Community {
                    id,
                    name: name.to_string(),
                });
            }
        }
        let committee = org(
            &mut admin,
            &format!("d{d}w"),
            &format!("{district_name}直机关工委"),
            T::Organ,
            &district,
            0,
        )
        .await?;
        let unit_names = [
            (format!("{district_name}卫健委机关党委"), T::Organ, committee.as_str()),
            (format!("{district_name}教育局机关党委"), T::Organ, committee.as_str()),
            (
                format!("{district_name}人民医院党委"),
                T::Institution,
                district.as_str(),
            ),
            (format!("{district_name}供电公司党委"), T::Enterprise, district.as_str()),
        ];
        for (u, (name, kind, parent)) in unit_names.iter().enumerate() {
            let id = org(&mut admin, &format!("d{d}u{u}"), name, *kind, parent, 40).await?;
            units.push(Unit {
                id,
                community: first_community + u,
            });
        }
    }
    let today = china_today();
    let year = today.year();

    // ── unit reports, received by their paired communities ──
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

    // ── members, reported and confirmed ──
    let mut members: Vec<(String, usize)> = Vec::new();
    for i in 0..args.members {
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

    // ── posts claimed, pledges made, today's activities confirmed on evidence ──
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

    // ── a half-year of service, specials, projects ──
    let current = (if today.month() <= 6 { (1, 6, 30) } else { (7, 12, 31) }, today);
    let ((first_month, _, _), _) = current;
    let first_of_current = Date::from_ymd_opt(year, first_month, 1).context("date")?;
    let settled = (today.month() > 6).then(|| {
        (
            Date::from_ymd_opt(year, 1, 1).expect("1 Jan"),
            Date::from_ymd_opt(year, 6, 30).expect("30 Jun"),
        )
    });
    let mut awards = 0;
    for (m, (member, community)) in members.iter().enumerate() {
        let mut scoring = demo.scoring(As::Admin(Role::CommunityAdmin, &communities[*community].id))?;
        let count = m % 13; // 0..=12 services: some members lag behind
        for k in 0..count {
            let (first, last) = match settled {
                Some(h1) if k % 3 != 0 => h1,
                _ => (first_of_current, today),
            };
            scoring
                .record_service(sco::RecordServiceRequest {
                    request_id: String::new(),
                    source_key: format!("demo:attendance:{m}:{k}"),
                    member_id: member.clone(),
                    community_id: communities[*community].id.clone(),
                    served_on: Some(date_to_pb(day_in(first, last, m + k))),
                    content: SERVICES[(m + k) % SERVICES.len()].into(),
                    adjustment: ((m + k) % 7) as i32 - 3,
                })
                .await?;
            awards += 1;
        }
        if m % 40 == 7 {
            scoring
                .record_special(sco::RecordSpecialRequest {
                    request_id: String::new(),
                    source_key: format!("demo:special:{m}"),
                    member_id: member.clone(),
                    community_id: communities[*community].id.clone(),
                    occurred_on: Some(date_to_pb(day_in(
                        settled.map_or(first_of_current, |h| h.0),
                        settled.map_or(today, |h| h.1),
                        m,
                    ))),
                    category: sco::SpecialCategory::UrgentTask as i32,
                    points: 20,
                    reason: "暴雨夜协助转移独居老人".into(),
                })
                .await?;
        }
    }
    for (u, unit) in units.iter().enumerate() {
        let community = &communities[unit.community];
        let result = demo
            .scoring(As::Admin(Role::CommunityAdmin, &community.id))?
            .record_project_score(sco::RecordProjectScoreRequest {
                request_id: String::new(),
                source_key: format!("demo:project:{u}"),
                unit_org_id: unit.id.clone(),
                community_id: community.id.clone(),
                project_id: format!("demo-project-{u}"),
                project_name: "老旧小区加装电梯共建项目".into(),
                scorer: sco::ProjectScorer::Community as i32,
                points: 18 + (u % 3) as i32 * 4,
                scored_on: Some(date_to_pb(settled.map_or(today, |h| h.1))),
            })
            .await;
        if let Err(status) = result
            && status.code() != tonic::Code::FailedPrecondition
        {
            return Err(status.into());
        }
    }

    // ── settlement of the half-year that ended, reviewed and published ──
    let mut published = 0;
    if let Some((_, h1_end)) = settled {
        for community in &communities {
            let mut scoring = demo.scoring(As::Admin(Role::CommunityAdmin, &community.id))?;
            let settled = scoring
                .settle_period(sco::SettlePeriodRequest {
                    request_id: format!("demo-settle-{}-{year}H1", community.id),
                    community_id: community.id.clone(),
                    period: Some(sco::Period {
                        year,
                        half: sco::Half::First as i32,
                    }),
                })
                .await?
                .into_inner()
                .settlement
                .context("settlement")?;
            if settled.status == sco::SettlementStatus::Draft as i32 {
                scoring
                    .review_settlement(sco::ReviewSettlementRequest {
                        request_id: format!("demo-review-{}", settled.id),
                        settlement_id: settled.id.clone(),
                        assembly_date: Some(date_to_pb(h1_end + chrono::Days::new(10))),
                        recorded_by: "社区党委 王记录".into(),
                    })
                    .await?;
            }
            if settled.status != sco::SettlementStatus::Published as i32 {
                scoring
                    .publish_settlement(sco::PublishSettlementRequest {
                        request_id: format!("demo-publish-{}", settled.id),
                        settlement_id: settled.id.clone(),
                    })
                    .await?;
            }
            published += 1;
        }
    }

    // ── the supermarket ──
    for (c, community) in communities.iter().enumerate() {
        let mut scoring = demo.scoring(As::Admin(Role::CommunityAdmin, &community.id))?;
        for (i, (name, price, stock)) in [("洗衣液", 10, 50), ("大米5kg", 25, 30), ("理发服务", 8, 100)]
            .iter()
            .enumerate()
        {
            let item = scoring
                .create_item(sco::CreateItemRequest {
                    request_id: format!("demo-item-{c}-{i}"),
                    community_id: community.id.clone(),
                    name: (*name).into(),
                    description: "党员志愿服务超市".into(),
                    price_points: *price,
                    stock: *stock,
                })
                .await?
                .into_inner()
                .item
                .context("item")?;
            if i == 0 {
                for (m, (member, _)) in members.iter().enumerate().filter(|(_, (_, mc))| *mc == c).take(3) {
                    let redeemed = demo
                        .scoring(As::Member(member))?
                        .redeem(sco::RedeemRequest {
                            request_id: format!("demo-redeem-{m}"),
                            member_id: member.clone(),
                            item_id: item.id.clone(),
                            quantity: 1,
                        })
                        .await;
                    if let Err(status) = redeemed
                        && status.code() != tonic::Code::FailedPrecondition
                    {
                        return Err(status.into());
                    }
                }
            }
        }
    }

    // ── feedback: notices to the paired units, ratings, an objection, warnings ──
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
    for unit in &units {
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

    // ── what to try ──
    let (district, district_name) = &districts[0];
    let community = &communities[0];
    println!("\ndualreport demo city is ready:");
    println!(
        "  {} districts, {} communities, {} units, {} members reported, {awards} services awarded",
        districts.len(),
        communities.len(),
        units.len(),
        members.len()
    );
    println!(
        "  {claimed} posts claimed and pledges made, {attended} attendances confirmed on evidence today (paid to scoring by volunteering's outbox)"
    );
    println!(
        "  {notices} feedback notices sent to units, {} objection upheld, {warnings} warnings standing",
        usize::from(objection.is_some())
    );
    if published > 0 {
        println!("  {year} H1 settled, reviewed and published at {published} communities (the vanguard board is live)");
    } else {
        println!("  (the first half-year has not ended yet: nothing to settle today)");
    }
    let city_token = demo.token(Role::CityAdmin, Some(city), None)?;
    let community_token = demo.token(Role::CommunityAdmin, Some(&community.id), None)?;
    let member_token = members
        .first()
        .map(|(m, _)| demo.token(Role::Member, None, Some(m)))
        .transpose()?
        .unwrap_or_default();
    println!("\ntokens (12 h):");
    println!("  export CITY={city_token}");
    println!("  export COMMUNITY={community_token}   # {}", community.name);
    println!("  export MEMBER={member_token}");
    let unit = &units[0];
    let unit_token = demo.token(Role::UnitAdmin, Some(&unit.id), None)?;
    let cloud_token = demo.token(Role::Cloud, None, None)?;
    println!("  export UNIT={unit_token}");
    println!("  export CLOUD={cloud_token}   # the party-building cloud's feed");
    println!("\ntry:");
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $CITY\" -d '{{\"org_id\":\"{district}\",\"year\":{year}}}' localhost:50051 dualreport.registry.v1.RegistryService/GetReportStatistics   # {district_name}"
    );
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $MEMBER\" -d '{{\"org_id\":\"{district}\",\"period\":{{\"year\":{year},\"half\":\"HALF_FIRST\"}},\"subject_kind\":\"SUBJECT_KIND_MEMBER\",\"page_size\":10}}' localhost:50053 dualreport.scoring.v1.ScoringService/GetBoard"
    );
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $COMMUNITY\" -d '{{\"community_id\":\"{}\"}}' localhost:50053 dualreport.scoring.v1.ScoringService/ListItems",
        community.id
    );
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $UNIT\" -d '{{\"unit_org_id\":\"{}\",\"period\":{{\"year\":{year}}}}}' localhost:50054 dualreport.feedback.v1.FeedbackService/GetSummaryTable",
        unit.id
    );
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $UNIT\" -d '{{}}' localhost:50054 dualreport.feedback.v1.FeedbackService/ListNotices"
    );
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $CLOUD\" -d '{{\"backlog_only\":true}}' localhost:50054 dualreport.feedback.v1.FeedbackService/WatchEvents"
    );
    Ok(())
}
