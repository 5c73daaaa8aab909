//! Scoring at a district's size: single-row mutations beside a pgbench
//! insert, a settlement of millions of entries beside its raw statement, and
//! the board it publishes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dualreport_proto::scoring::v1 as sc;
use dualreport_testkit::member_token;

use crate::baselines::{pgbench_insert, settlement_baseline};
use crate::measure::{channels, header, line, load, ms, rss_line};
use crate::{Bench, last_half, today_pb};

/// RecordService for reported members.
pub async fn mutations(b: &Bench<'_>, ids: &Arc<Vec<String>>) {
    let (suite, sizes, city) = (b.suite, b.sizes, &b.suite.city);
    let (baseline_db, seconds, year, community_admin) = (&b.baseline_db, b.seconds, b.year, b.community_admin());
    let registry_channel = dualreport_testkit::channel(suite.registry.port);
    let mut reported = Vec::new();
    for id in ids.iter().take(64) {
        dualreport_testkit::registry::report_and_confirm(
            &registry_channel,
            id,
            &city.community_a.id,
            year,
            "第一党支部",
        )
        .await;
        reported.push(id.clone());
    }
    let reported = Arc::new(reported);
    let writer_clients: Vec<_> = channels(suite.scoring.port, 8)
        .into_iter()
        .map(|c| sc::scoring_service_client::ScoringServiceClient::new(dualreport_testkit::authed(c, &community_admin)))
        .collect();
    let today = today_pb();
    let record = {
        let (reported, community) = (reported.clone(), city.community_a.id.clone());
        move |mut c: sc::scoring_service_client::ScoringServiceClient<_>, n: u64| {
            let member_id = reported[n as usize % reported.len()].clone();
            let community_id = community.clone();
            async move {
                c.record_service(sc::RecordServiceRequest {
                    request_id: String::new(),
                    source_key: format!("bench:{n}"),
                    member_id,
                    community_id,
                    served_on: Some(today),
                    content: "社区环境卫生保洁".into(),
                    adjustment: 0,
                })
                .await
                .map(|_| ())
            }
        }
    };
    for c in [16, 64] {
        let l = load(&writer_clients, c, sizes.load, record.clone()).await;
        let baseline = baseline_db.as_deref().and_then(|db| pgbench_insert(db, c, seconds));
        let ratio = baseline.map(|b| l.rps / b);
        line(
            &format!("RecordService c={c}"),
            format!("{:.0}/s p99 {:.1} ms", l.rps, ms(l.p99)),
            baseline.map_or_else(|| "—".into(), |b| format!("pgbench insert {b:.0} tps")),
            ratio,
            if c == 64 { "≥ 0.6× insert" } else { "" },
            if c == 64 { ratio.map(|r| r >= 0.6) } else { None },
        );
    }
}

/// SettlePeriod over a seeded half-year, review, publish, and the board.
pub async fn settlement(b: &Bench<'_>) {
    let (suite, sizes, city, district) = (b.suite, b.sizes, &b.suite.city, &b.district);
    let (today, community_admin) = (today_pb(), b.community_admin());
    header("scoring: settlement and the board");
    let last_half = last_half();
    let period_key = format!("{}H{}", last_half.year, last_half.half);
    let day = format!("{}-{:02}-01", last_half.year, if last_half.half == 1 { 1 } else { 7 });
    let started = Instant::now();
    dualreport_testkit::seed::HalfYearOfService {
        community_id: &city.community_a.id,
        period: &period_key,
        served_on: &day,
        members: sizes.members as i64,
        entries_per_member: (sizes.entries / sizes.members as i64).max(1),
    }
    .write(&suite.databases[1].url)
    .await;
    println!(
        "(seeded {} entries in {:.1} s)",
        sizes.entries,
        started.elapsed().as_secs_f64()
    );
    let mut settler = suite.scoring(&community_admin);
    let started = Instant::now();
    let settled = settler
        .settle_period(sc::SettlePeriodRequest {
            request_id: "bench-settle".into(),
            community_id: city.community_a.id.clone(),
            period: Some(last_half),
        })
        .await;
    let settle = started.elapsed();
    let raw = settlement_baseline(&suite.databases[1].url, &city.community_a.id, &period_key).await;
    let settlement = match settled {
        Ok(reply) => reply.into_inner().settlement.expect("settlement"),
        Err(status) => {
            line(
                "SettlePeriod",
                format!("failed after {:.1} s: {:?}", settle.as_secs_f64(), status.code()),
                format!("raw statement {:.2} s", raw.as_secs_f64()),
                None,
                "≤ 1.5× raw",
                Some(false),
            );
            return;
        }
    };
    let ratio = settle.as_secs_f64() / raw.as_secs_f64();
    line(
        &format!("SettlePeriod {} lines", settlement.line_count),
        format!("{:.2} s", settle.as_secs_f64()),
        format!("raw statement {:.2} s", raw.as_secs_f64()),
        Some(ratio),
        "≤ 1.5× raw",
        Some(ratio <= 1.5),
    );
    rss_line(suite, "after the settlement");
    settler
        .review_settlement(sc::ReviewSettlementRequest {
            request_id: "bench-review".into(),
            settlement_id: settlement.id.clone(),
            assembly_date: Some(today),
            recorded_by: "基准".into(),
        })
        .await
        .expect("review");
    let started = Instant::now();
    settler
        .publish_settlement(sc::PublishSettlementRequest {
            request_id: "bench-publish".into(),
            settlement_id: settlement.id.clone(),
        })
        .await
        .expect("publish");
    line(
        "PublishSettlement (ranks onto the board)",
        format!("{:.2} s", started.elapsed().as_secs_f64()),
        String::new(),
        None,
        "",
        None,
    );
    let board_clients: Vec<_> = channels(suite.scoring.port, 4)
        .into_iter()
        .map(|c| {
            sc::scoring_service_client::ScoringServiceClient::new(dualreport_testkit::authed(c, &member_token("m1")))
        })
        .collect();
    let board = {
        let district = district.clone();
        move |mut c: sc::scoring_service_client::ScoringServiceClient<_>, _n: u64| {
            let org_id = district.clone();
            async move {
                c.get_board(sc::GetBoardRequest {
                    org_id,
                    period: Some(last_half),
                    subject_kind: sc::SubjectKind::Member as i32,
                    page_size: 50,
                    page_token: String::new(),
                })
                .await
                .map(|_| ())
            }
        }
    };
    for c in [1, 8] {
        let l = load(&board_clients, c, sizes.load, board.clone()).await;
        line(
            &format!("GetBoard top-50 of the district c={c}"),
            format!("{:.0}/s p99 {:.2} ms", l.rps, ms(l.p99)),
            String::new(),
            None,
            "p99 ≤ 10 ms",
            Some(l.p99 <= Duration::from_millis(10)),
        );
    }
}
