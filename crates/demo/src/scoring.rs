//! Steps 4–5 (积分, 兑换): a half-year of service records, special records
//! and project scores; the half-year that ended settled, reviewed and
//! published; a supermarket with redemptions.

use anyhow::Context as _;
use dualreport_platform::auth::Role;
use dualreport_platform::wire::date_to_pb;
use dualreport_proto::scoring::v1 as sco;

use crate::city::{City, SERVICES, day_in};
use crate::client::{As, Demo};

/// Service records, specials and project scores; returns the services awarded.
pub async fn record_half_year(demo: &Demo, city: &City) -> anyhow::Result<usize> {
    let (communities, units, members, today) = (&city.communities, &city.units, &city.members, city.today);
    let first_of_current = city.first_of_current_half()?;
    let settled = city.settled_half();
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
    Ok(awards)
}

/// The half-year that ended, settled, reviewed and published at every
/// community; returns at how many.
pub async fn settle(demo: &Demo, city: &City) -> anyhow::Result<usize> {
    let (communities, year) = (&city.communities, city.year);
    let mut published = 0;
    if let Some((_, h1_end)) = city.settled_half() {
        for community in communities {
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
    Ok(published)
}

/// Three items per community; a few members redeem the first.
pub async fn stock_supermarket(demo: &Demo, city: &City) -> anyhow::Result<()> {
    let (communities, members) = (&city.communities, &city.members);
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
    Ok(())
}
