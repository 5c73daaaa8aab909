//! `make bench`: scoring on the embedded store against a real registry
//! process, each figure a ratio to `GetScoringRules` (gRPC + auth, no store,
//! no registry) measured in the same run. Nothing here fails on time.

use std::time::Instant;

use dualreport_directory::DirectorySettings;
use dualreport_platform::auth::Role;
use dualreport_platform::client::PeerSettings;
use dualreport_policy::PolicySettings;
use dualreport_proto::scoring::v1 as pb;
use dualreport_proto::scoring::v1::scoring_service_client::ScoringServiceClient;
use dualreport_testkit::bench::{mean, row};
use dualreport_testkit::registry as fixtures;
use dualreport_testkit::{Backend, TestDatabase, admin_token, authed, member_token};
use scoring::domain::period::{Half, Period};
use scoring::domain::{Clock, china_today};
use scoring::settings::Settings;
use scoring::startup::Application;

const MEMBERS: usize = 200;
const SERVICES_PER_MEMBER: usize = 10;
const CALLS: usize = 400;

#[tokio::main]
async fn main() {
    let registry = fixtures::start_registry();
    let registry_channel = dualreport_testkit::channel(registry.port);
    let city = fixtures::build_city(&registry_channel).await;
    let community = city.community_a.id.clone();
    let period = Period::of(china_today());
    let mut members = Vec::with_capacity(MEMBERS);
    for i in 0..MEMBERS {
        let member = fixtures::unit_member(&registry_channel, &city, &format!("成员{i}"), &community).await;
        fixtures::report_and_confirm(&registry_channel, &member.id, &community, period.year, "第一党支部").await;
        members.push(member.id);
    }

    let database = TestDatabase::new(Backend::Sqlite).await;
    let settings = Settings {
        server: dualreport_testkit::server_settings(),
        database: database.settings(),
        telemetry: dualreport_testkit::telemetry_settings(),
        auth: dualreport_testkit::auth_settings(),
        registry: PeerSettings {
            url: registry.url(),
            connect_timeout_ms: 2_000,
            timeout_ms: 5_000,
            tls: None,
        },
        directory: DirectorySettings {
            cache_ttl_secs: 600,
            cache_capacity: 10_000,
        },
        policy: PolicySettings::default(),
    };
    let today = period.last_day().succ_opt().expect("next day");
    let app = Application::build_with_clock(settings, Clock::Fixed(today))
        .await
        .expect("build scoring");
    let port = app.port();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let channel = dualreport_testkit::channel(port);
    let admin = ScoringServiceClient::new(authed(channel.clone(), &admin_token(Role::CommunityAdmin, &community)));
    let served_on = dualreport_platform::wire::date_to_pb(period.first_day().max(china_today().min(period.last_day())));
    let award = |i: usize| pb::RecordServiceRequest {
        request_id: String::new(),
        source_key: format!("attendance:{i}"),
        member_id: members[i % MEMBERS].clone(),
        community_id: community.clone(),
        served_on: Some(served_on),
        content: "社区环境卫生保洁".into(),
        adjustment: (i % 7) as i32 - 3,
    };

    let rules = mean(CALLS, |_| {
        let mut c = admin.clone();
        async move {
            c.get_scoring_rules(pb::GetScoringRulesRequest {}).await.expect("rules");
        }
    })
    .await;
    // Warm the directory cache (one registry round trip per member), then measure awards.
    for i in 0..MEMBERS {
        admin.clone().record_service(award(i)).await.expect("warm-up award");
    }
    let awards = MEMBERS * SERVICES_PER_MEMBER;
    let record = mean(awards - MEMBERS, |i| {
        let mut c = admin.clone();
        let request = award(MEMBERS + i);
        async move {
            c.record_service(request).await.expect("award");
        }
    })
    .await;
    let redelivered = mean(CALLS, |i| {
        let mut c = admin.clone();
        let request = award(i);
        async move {
            c.record_service(request).await.expect("redelivery");
        }
    })
    .await;
    let balance = mean(CALLS, |i| {
        let member = members[i % MEMBERS].clone();
        let mut c = ScoringServiceClient::new(authed(channel.clone(), &member_token(&member)));
        async move {
            c.get_balance(pb::GetBalanceRequest {
                subject: Some(pb::Subject {
                    kind: pb::SubjectKind::Member as i32,
                    id: member,
                }),
            })
            .await
            .expect("balance");
        }
    })
    .await;
    let pb_period = pb::Period {
        year: period.year,
        half: match period.half {
            Half::First => pb::Half::First,
            Half::Second => pb::Half::Second,
        } as i32,
    };
    let start = Instant::now();
    let settlement = admin
        .clone()
        .settle_period(pb::SettlePeriodRequest {
            request_id: String::new(),
            community_id: community.clone(),
            period: Some(pb_period),
        })
        .await
        .expect("settle")
        .into_inner()
        .settlement
        .expect("settlement");
    let settle = start.elapsed();
    assert_eq!(settlement.line_count as usize, MEMBERS);
    admin
        .clone()
        .review_settlement(pb::ReviewSettlementRequest {
            request_id: String::new(),
            settlement_id: settlement.id.clone(),
            assembly_date: Some(dualreport_platform::wire::date_to_pb(today)),
            recorded_by: "基准".into(),
        })
        .await
        .expect("review");
    admin
        .clone()
        .publish_settlement(pb::PublishSettlementRequest {
            request_id: String::new(),
            settlement_id: settlement.id,
        })
        .await
        .expect("publish");
    let board = mean(CALLS / 4, |_| {
        let mut c = admin.clone();
        let street = city.street.id.clone();
        async move {
            c.get_board(pb::GetBoardRequest {
                org_id: street,
                period: Some(pb_period),
                subject_kind: pb::SubjectKind::Member as i32,
                page_size: 50,
                page_token: String::new(),
            })
            .await
            .expect("board");
        }
    })
    .await;
    let levels = mean(CALLS / 4, |_| {
        let mut c = admin.clone();
        let street = city.street.id.clone();
        async move {
            c.get_board_statistics(pb::GetBoardStatisticsRequest {
                org_id: street,
                period: Some(pb_period),
                subject_kind: pb::SubjectKind::Member as i32,
            })
            .await
            .expect("board statistics");
        }
    })
    .await;
    let table = mean(CALLS / 4, |i| {
        let mut c = admin.clone();
        let member = members[i % MEMBERS].clone();
        let community = community.clone();
        async move {
            c.get_registration_table(pb::GetRegistrationTableRequest {
                member_id: member,
                community_id: community,
                period: Some(pb_period),
            })
            .await
            .expect("table");
        }
    })
    .await;
    let item = admin
        .clone()
        .create_item(pb::CreateItemRequest {
            request_id: String::new(),
            community_id: community.clone(),
            name: "洗衣皂".into(),
            description: String::new(),
            price_points: 1,
            stock: 100_000,
        })
        .await
        .expect("item")
        .into_inner()
        .item
        .expect("item");
    let redeem = mean(CALLS, |i| {
        let member = members[i % MEMBERS].clone();
        let mut c = ScoringServiceClient::new(authed(channel.clone(), &member_token(&member)));
        let item = item.id.clone();
        async move {
            c.redeem(pb::RedeemRequest {
                request_id: String::new(),
                member_id: member,
                item_id: item,
                quantity: 1,
            })
            .await
            .expect("redeem");
        }
    })
    .await;

    println!("scoring on SQLite — {MEMBERS} members × {SERVICES_PER_MEMBER} services, registry as a process");
    println!("{:<48} {:>13} {:>17}", "", "mean", "ratio");
    row("GetScoringRules (baseline: gRPC + auth)", rules, rules);
    row("RecordService (directory cached)", record, rules);
    row("RecordService redelivered (same source key)", redelivered, rules);
    row("GetBalance (member)", balance, rules);
    row("Redeem (stock + balance, one transaction)", redeem, rules);
    row("GetBoard, street, page of 50", board, rules);
    row("GetBoardStatistics, street (one GROUP BY)", levels, rules);
    row("GetRegistrationTable (10 rows + CSV)", table, rules);
    row(&format!("SettlePeriod, {} entries, one call", awards), settle, rules);
}
