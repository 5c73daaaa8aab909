//! `make demo`: fills a running suite (`make run`) with a believable city —
//! two districts, streets, communities, resident units, a few hundred members
//! reported and confirmed, a half-year of services, special records and
//! project scores, a settlement reviewed and published, a supermarket with
//! redemptions — through the public gRPC APIs only, then prints what to try.
//!
//! Every call carries a deterministic `request_id` or source key, so running
//! it again adds nothing. Tokens are minted with the development key of the
//! config file (`config/dev.toml`).

use std::time::Duration;

use anyhow::Context as _;
use chrono::Datelike as _;
use clap::Parser;
use dualreport_platform::auth::{Authenticator, Role, claims};
use dualreport_platform::settings::AuthSettings;
use dualreport_platform::trace_context::ClientInterceptor;
use dualreport_platform::wire::date_to_pb;
use dualreport_policy::{Date, china_today};
use dualreport_proto::registry::v1 as reg;
use dualreport_proto::registry::v1::registry_service_client::RegistryServiceClient;
use dualreport_proto::scoring::v1 as sco;
use dualreport_proto::scoring::v1::scoring_service_client::ScoringServiceClient;
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
    #[arg(long, default_value = "http://127.0.0.1:50053")]
    scoring_url: String,
    /// Members in all (spread over the units and communities).
    #[arg(long, default_value_t = 300)]
    members: usize,
    /// The root org the registry was started with (`registry.city_id`).
    #[arg(long, default_value = "city")]
    city_id: String,
}

#[derive(Debug, Deserialize)]
struct Settings {
    auth: AuthSettings,
}

const DEFAULTS: &str = r#"
[auth]
leeway_secs = 30
public_key_files = []
"#;

type Registry = RegistryServiceClient<InterceptedService<Channel, ClientInterceptor>>;
type Scoring = ScoringServiceClient<InterceptedService<Channel, ClientInterceptor>>;

struct Demo {
    authenticator: Authenticator,
    registry: Channel,
    scoring: Channel,
}

impl Demo {
    fn token(&self, role: Role, org: Option<&str>, member: Option<&str>) -> anyhow::Result<String> {
        let subject = format!("demo-{}@{}", role.as_str(), org.or(member).unwrap_or("suite"));
        self.authenticator.mint(&claims(&subject, role, org, member, 12 * 3600))
    }

    fn registry_as(&self, role: Role, org: &str) -> anyhow::Result<Registry> {
        let token = self.token(role, Some(org), None)?;
        Ok(RegistryServiceClient::new(InterceptedService::new(
            self.registry.clone(),
            ClientInterceptor::with_token(&token)?,
        )))
    }

    fn registry_member(&self, member: &str) -> anyhow::Result<Registry> {
        let token = self.token(Role::Member, None, Some(member))?;
        Ok(RegistryServiceClient::new(InterceptedService::new(
            self.registry.clone(),
            ClientInterceptor::with_token(&token)?,
        )))
    }

    fn scoring_as(&self, role: Role, org: Option<&str>, member: Option<&str>) -> anyhow::Result<Scoring> {
        let token = self.token(role, org, member)?;
        Ok(ScoringServiceClient::new(InterceptedService::new(
            self.scoring.clone(),
            ClientInterceptor::with_token(&token)?,
        )))
    }
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
    let settings: Settings = dualreport_platform::settings::load(DEFAULTS, Some(&args.config))?;
    let demo = Demo {
        authenticator: Authenticator::from_settings(&settings.auth)?,
        registry: Channel::from_shared(args.registry_url.clone())?
            .timeout(Duration::from_secs(30))
            .connect()
            .await
            .context("the registry is not answering: start the suite with `make run` first")?,
        scoring: Channel::from_shared(args.scoring_url.clone())?
            .timeout(Duration::from_secs(30))
            .connect()
            .await
            .context("scoring is not answering: start the suite with `make run` first")?,
    };
    let city = args.city_id.as_str();
    let mut admin = demo.registry_as(Role::CityAdmin, city)?;
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
            .registry_as(Role::UnitAdmin, &unit.id)?
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
        demo.registry_as(Role::CommunityAdmin, &community.id)?
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
            .registry_as(Role::UnitAdmin, &unit.id)?
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
            .registry_member(&member.id)?
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
                    demo.registry_as(Role::CommunityAdmin, &communities[community].id)?
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
        let mut scoring = demo.scoring_as(Role::CommunityAdmin, Some(&communities[*community].id), None)?;
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
            .scoring_as(Role::CommunityAdmin, Some(&community.id), None)?
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
            let mut scoring = demo.scoring_as(Role::CommunityAdmin, Some(&community.id), None)?;
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
        let mut scoring = demo.scoring_as(Role::CommunityAdmin, Some(&community.id), None)?;
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
                        .scoring_as(Role::Member, None, Some(member))?
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
    Ok(())
}
