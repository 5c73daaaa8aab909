//! `make bench` (the city part): three district suites and the city tier,
//! release binaries, every figure beside a baseline measured in the same run
//! (issue 18's performance targets). Nothing here fails on time.
//!
//! - A municipal unit's summary across the districts vs the same unit's
//!   table in one district (goal ≤ 2×), and with one district down (goal:
//!   no slower than the district deadline plus the healthy answer).
//! - Catch-up after the city was away: facts applied per second vs the live
//!   rate of 200 writes/s (goal ≥ 10×).
//! - Ingest lag at 200 writes/s (goal p99 ≤ 5 s): the age of the newest
//!   fact applied, sampled every 20 ms while the writes run.
//!
//! Sizes: `BENCH_CITY_MEMBERS` per district (2000), `BENCH_SECONDS` (5),
//! `BENCH_BACKENDS` (`postgres,sqlite`).

use std::time::{Duration, Instant};

use dualreport_platform::auth::Role;
use dualreport_proto::city::v1 as cpb;
use dualreport_proto::common::v1 as common;
use dualreport_proto::feedback::v1 as fpb;
use dualreport_proto::registry::v1 as rpb;
use dualreport_testkit::registry::{import, org_input, profile};
use dualreport_testkit::{admin_token, authed, channel};
use e2e::Backend;
use e2e::city::CityTier;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn row(name: &str, took: Duration, baseline: Duration, goal: &str) {
    println!(
        "{name:<52} {:>9.1} ms {:>7.2}× baseline  ({goal})",
        took.as_secs_f64() * 1e3,
        took.as_secs_f64() / baseline.as_secs_f64().max(1e-9)
    );
}

async fn mean<F, Fut>(calls: u32, mut call: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = Instant::now();
    for _ in 0..calls {
        call().await;
    }
    start.elapsed() / calls.max(1)
}

/// The city's summed cursor of every registry stream.
async fn registry_applied(city: &CityTier) -> i64 {
    city.city_admin()
        .list_districts(cpb::ListDistrictsRequest {})
        .await
        .map(|r| {
            r.into_inner()
                .districts
                .iter()
                .filter(|d| d.journal == "registry")
                .map(|d| d.after_sequence)
                .sum()
        })
        .unwrap_or(0)
}

async fn run(backend: Backend, members: usize, seconds: u64) {
    println!(
        "\n######## city tier on {} — 3 districts, {members} members of one municipal unit each",
        if backend == Backend::Postgres {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    let mut city = CityTier::start(backend, &["east", "west", "north"], 500).await;
    let unit = city
        .city_admin()
        .create_municipal_unit(cpb::CreateMunicipalUnitRequest {
            request_id: "bench-unit".into(),
            organization: Some(org_input("市卫健委机关党委", rpb::OrganizationType::Organ, "city")),
        })
        .await
        .expect("unit")
        .into_inner()
        .organization
        .expect("unit");
    let unit_admin = admin_token(Role::UnitAdmin, &unit.id);
    for (name, suite) in &city.districts {
        let mut registry = suite.registry(&admin_token(Role::CityAdmin, "city"));
        while registry
            .get_organization(rpb::GetOrganizationRequest {
                organization_id: unit.id.clone(),
            })
            .await
            .is_err()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let batches = (0..members.div_ceil(5_000))
            .map(|b| rpb::ImportMembersRequest {
                request_id: format!("bench-{name}-{b}"),
                rows: (b * 5_000..((b + 1) * 5_000).min(members))
                    .map(|i| rpb::MemberProfile {
                        phone: format!("139{i:08}"),
                        ..profile(&format!("{name}成员{i}"), &unit.id, &suite.city.community_a.id)
                    })
                    .collect(),
            })
            .collect();
        import(&mut suite.registry(&unit_admin), batches).await;
    }
    let period = common::Period {
        year: chrono::Datelike::year(&dualreport_policy::china_today()),
        half: 0,
    };

    // 1. The unit's summary: one district's table, then the city's across three.
    let east_port = city.district("east").feedback.port;
    let one = mean(5, || {
        let token = unit_admin.clone();
        let unit = unit.id.clone();
        async move {
            fpb::feedback_service_client::FeedbackServiceClient::new(authed(channel(east_port), &token))
                .get_summary_table(fpb::GetSummaryTableRequest {
                    unit_org_id: unit,
                    community_id: String::new(),
                    period: Some(period),
                })
                .await
                .expect("one district's table");
        }
    })
    .await;
    let city_port = city.city.port;
    let summary = || {
        let token = unit_admin.clone();
        let unit = unit.id.clone();
        async move {
            cpb::city_service_client::CityServiceClient::new(authed(channel(city_port), &token))
                .get_municipal_summary(cpb::GetMunicipalSummaryRequest {
                    unit_org_id: unit,
                    period: Some(period),
                })
                .await
                .expect("the city's summary")
                .into_inner()
        }
    };
    let rows = summary().await.rows.len();
    let across = mean(5, || async {
        summary().await;
    })
    .await;
    println!(
        "baseline: one district's summary table of the unit ({members} rows): {:.1} ms",
        one.as_secs_f64() * 1e3
    );
    row(
        &format!("municipal summary, 3 districts ({rows} rows)"),
        across,
        one,
        "goal ≤ 2×",
    );
    city.district_mut("north").stop_all();
    let partial = mean(5, || async {
        let s = summary().await;
        assert_eq!(s.missing_districts, vec!["north".to_owned()]);
    })
    .await;
    // The districts' feedback deadline in the harness is 2 s.
    let bound = Duration::from_secs(2) + across;
    row(
        "municipal summary, one district down",
        partial,
        bound,
        "goal ≤ 1× (deadline + healthy answer)",
    );
    city.district_mut("north").restart_all();

    // 2. Catch-up: the city away while the districts write, then back.
    while registry_applied(&city).await < (3 * members) as i64 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    city.city.stop();
    let backlog = members.min(5_000);
    for (name, suite) in &city.districts {
        let batches = vec![rpb::ImportMembersRequest {
            request_id: format!("bench-backlog-{name}"),
            rows: (0..backlog)
                .map(|i| rpb::MemberProfile {
                    phone: format!("137{i:08}"),
                    ..profile(&format!("{name}补{i}"), &unit.id, &suite.city.community_a.id)
                })
                .collect(),
        }];
        import(&mut suite.registry(&unit_admin), batches).await;
    }
    let before = (3 * members) as i64;
    let target = before + (3 * backlog) as i64;
    let start = Instant::now();
    city.city.restart();
    while registry_applied(&city).await < target {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = start.elapsed();
    let rate = (3 * backlog) as f64 / took.as_secs_f64();
    println!(
        "{:<52} {:>9.0} facts/s {:>6.1}× the live rate of 200/s  (goal ≥ 10×)",
        format!("catch-up of {} facts after the city was away", 3 * backlog),
        rate,
        rate / 200.0
    );

    // 3. Lag at 200 writes/s in one district: the age of the newest fact applied.
    let east = city.district("east");
    let community = east.city.community_a.id.clone();
    let writer = {
        let mut registry = east.registry(&unit_admin);
        let unit = unit.id.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(5));
            let end = Instant::now() + Duration::from_secs(seconds);
            let mut n = 0;
            while Instant::now() < end {
                tick.tick().await;
                registry
                    .create_member(rpb::CreateMemberRequest {
                        request_id: String::new(),
                        profile: Some(rpb::MemberProfile {
                            phone: format!("136{n:08}"),
                            ..profile(&format!("实时{n}"), &unit, &community)
                        }),
                    })
                    .await
                    .expect("a live write");
                n += 1;
            }
            n
        }
    };
    let sampler = async {
        let mut lags = Vec::new();
        let end = Instant::now() + Duration::from_secs(seconds);
        while Instant::now() < end {
            if let Ok(reply) = city.city_admin().list_districts(cpb::ListDistrictsRequest {}).await
                && let Some(line) = reply
                    .into_inner()
                    .districts
                    .iter()
                    .find(|d| d.district == "east" && d.journal == "registry")
                && let Some(as_of) = &line.as_of
            {
                let newest = as_of.seconds as f64 + f64::from(as_of.nanos) / 1e9;
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("clock")
                    .as_secs_f64();
                lags.push((now - newest).max(0.0));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        lags
    };
    let (written, mut lags) = tokio::join!(writer, sampler);
    lags.sort_by(|a, b| a.total_cmp(b));
    let p99 = lags.get(lags.len() * 99 / 100).copied().unwrap_or(f64::NAN);
    let p50 = lags.get(lags.len() / 2).copied().unwrap_or(f64::NAN);
    println!(
        "{:<52} p50 {:>6.3} s  p99 {:>6.3} s  ({:.0} writes/s achieved; goal p99 ≤ 5 s)",
        "ingest lag under live writes",
        p50,
        p99,
        written as f64 / seconds as f64
    );
}

#[tokio::main]
async fn main() {
    sqlx::any::install_default_drivers();
    let members = env_num("BENCH_CITY_MEMBERS", 2_000) as usize;
    let seconds = env_num("BENCH_SECONDS", 5);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "postgres,sqlite".into());
    for name in backends.split(',') {
        match name.trim() {
            "postgres" if std::env::var_os("DUALREPORT_TEST_POSTGRES_URL").is_some() => {
                run(Backend::Postgres, members, seconds).await;
            }
            "postgres" => println!("PostgreSQL skipped: run through scripts/with-postgres.sh (make bench does)"),
            "sqlite" => run(Backend::Sqlite, members, seconds).await,
            other => println!("unknown backend {other:?}"),
        }
    }
}
