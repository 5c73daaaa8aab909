//! `make bench`: the four release binaries at a district's size (100,000
//! members, 2,000,000 service entries in a half-year), on PostgreSQL (the
//! throwaway cluster `scripts/with-postgres.sh` starts) and on SQLite. Every
//! figure is printed beside a baseline measured in the same run — on
//! PostgreSQL the database's own ceiling: `pgbench -S` and a single-row
//! INSERT at the same concurrency, `COPY` into a table with the same indexes,
//! the raw set-based settlement statement — with the goal of issue 15 and
//! whether it holds. Nothing here fails on time.
//!
//! Sizes: `BENCH_MEMBERS` (100000), `BENCH_ENTRIES` (2000000),
//! `BENCH_SECONDS` per load figure (5), `BENCH_BACKENDS` (`postgres,sqlite`).

use std::future::Future;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dualreport_platform::auth::Role;
use dualreport_proto::common::v1 as common;
use dualreport_proto::feedback::v1 as fb;
use dualreport_proto::registry::v1 as reg;
use dualreport_proto::scoring::v1 as sc;
use dualreport_proto::volunteering::v1 as vol;
use dualreport_testkit::{admin_token, member_token};
use e2e::{Backend, Suite};
use sqlx::Connection as _;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Sizes {
    members: usize,
    entries: i64,
    load: Duration,
}

/// What a load run saw: successful calls per second and their latency.
struct Load {
    rps: f64,
    failed: u64,
    p50: Duration,
    p99: Duration,
}

/// `concurrency` callers, each calling in a loop for `duration`; callers
/// share `clients` round-robin (one HTTP/2 connection each).
async fn load<C, F, Fut>(clients: &[C], concurrency: usize, duration: Duration, call: F) -> Load
where
    C: Clone + Send + 'static,
    F: Fn(C, u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), tonic::Status>> + Send,
{
    let failed = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let client = clients[t % clients.len()].clone();
        let (call, failed, counter) = (call.clone(), failed.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let start = Instant::now();
                match call(client.clone(), n).await {
                    Ok(()) => latencies.push(start.elapsed()),
                    Err(status) => {
                        let before = failed.fetch_add(1, Ordering::Relaxed);
                        if status.code() == tonic::Code::ResourceExhausted {
                            // As the refusal asks: retry with backoff.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        } else if before == 0 {
                            eprintln!("first failed call: {:?} {}", status.code(), status.message());
                        }
                    }
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("load task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Load {
        rps: all.len() as f64 / elapsed,
        failed: failed.load(Ordering::Relaxed),
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One printed line: the figure, its baseline, the ratio and the goal.
fn line(what: &str, figure: String, baseline: String, ratio: Option<f64>, goal: &str, holds: Option<bool>) {
    let ratio = ratio.map_or_else(|| "—".to_owned(), |r| format!("{r:.2}×"));
    let verdict = match holds {
        Some(true) => "holds",
        Some(false) => "MISSED",
        None => "",
    };
    println!("{what:<44} {figure:>22} {baseline:>30} {ratio:>7}  {goal:<16} {verdict}");
}

fn header(title: &str) {
    println!("\n== {title}");
    println!(
        "{:<44} {:>22} {:>30} {:>7}  {:<16}",
        "figure", "measured", "baseline (same run)", "ratio", "goal"
    );
}

/// Debian's PostgreSQL client programs (pgbench), as `with-postgres.sh` finds them.
fn pg_bin(program: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .collect();
    dirs.sort();
    dirs.into_iter().rev().map(|d| d.join(program)).find(|p| p.exists())
}

/// pgbench's tps for `args` against `url`.
fn pgbench(url: &str, args: &[&str]) -> Option<f64> {
    let output = Command::new(pg_bin("pgbench")?).args(args).arg(url).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let tps = text
        .lines()
        .find(|l| l.starts_with("tps = "))?
        .trim_start_matches("tps = ")
        .split_whitespace()
        .next()?
        .parse()
        .ok();
    if tps.is_none() {
        eprintln!("pgbench {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    tps
}

/// A scratch database for the pgbench baselines, initialised at scale 10.
async fn pgbench_database(admin: &str) -> String {
    let mut conn = sqlx::PgConnection::connect(admin).await.expect("admin connection");
    let name = format!("pgbench_{}", uuid_like());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create pgbench db");
    let url = format!("{}/{name}", admin.rsplit_once('/').expect("url").0);
    let init = Command::new(pg_bin("pgbench").expect("pgbench"))
        .args(["-i", "-q", "-s", "10", &url])
        .output()
        .expect("pgbench -i");
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let mut db = sqlx::PgConnection::connect(&url).await.expect("pgbench db");
    sqlx::query("CREATE TABLE single_insert (id BIGSERIAL PRIMARY KEY, member_id TEXT NOT NULL, v TEXT NOT NULL)")
        .execute(&mut db)
        .await
        .expect("insert table");
    url
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    )
}

fn pgbench_select(url: &str, concurrency: usize, seconds: u64) -> Option<f64> {
    let c = concurrency.to_string();
    let t = seconds.to_string();
    pgbench(url, &["-n", "-S", "-c", &c, "-j", "2", "-T", &t])
}

fn pgbench_insert(url: &str, concurrency: usize, seconds: u64) -> Option<f64> {
    let script = std::env::temp_dir().join("dualreport-bench-insert.sql");
    std::fs::write(
        &script,
        "INSERT INTO single_insert (member_id, v) VALUES ('m' || (random() * 100000)::int, '社区环境卫生保洁');\n",
    )
    .ok()?;
    let (c, t) = (concurrency.to_string(), seconds.to_string());
    pgbench(
        url,
        &["-n", "-f", &script.display().to_string(), "-c", &c, "-j", "2", "-T", &t],
    )
}

/// The registry's member rows as CSV for COPY, shaped like what ImportMembers writes.
fn member_csv(members: usize, unit: &str, community: &str) -> Vec<u8> {
    let mut out = String::with_capacity(members * 400);
    let cipher = format!("\\x{}", "ab".repeat(44));
    for i in 0..members {
        out.push_str(&format!(
            "copy-{i:08},{unit},{community},成员{i},MALE,1985,本科,2008-07-01,FULL,IN_SERVICE,郑州市某单位,干部,\
             {cipher},test,{cipher},test,\"[\"\"写作\"\"]\",\"[\"\"政策法规宣传岗\"\"]\",[],0,0\n"
        ));
    }
    out.into_bytes()
}

const MEMBER_COLUMNS: &str = "id, unit_org_id, residence_community_id, name, gender, birth_year, education, \
    joined_party_on, membership_status, category, employer, position, phone_cipher, phone_key_id, \
    home_address_cipher, home_address_key_id, skills, service_intentions, available_time_slots, created_at, updated_at";

/// COPY of `members` rows into a table shaped and indexed like `members`.
async fn copy_baseline(url: &str, members: usize, unit: &str, community: &str) -> Duration {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("registry db");
    sqlx::query("CREATE TABLE members_copy (LIKE members INCLUDING ALL)")
        .execute(&mut conn)
        .await
        .expect("copy table");
    let csv = member_csv(members, unit, community);
    let started = Instant::now();
    let mut copy = conn
        .copy_in_raw(&format!("COPY members_copy ({MEMBER_COLUMNS}) FROM STDIN (FORMAT csv)"))
        .await
        .expect("copy in");
    copy.send(csv).await.expect("copy data");
    copy.finish().await.expect("copy done");
    started.elapsed()
}

/// Seeds scoring's database with a half-year of `entries` services by
/// `members` members at `community` (straight SQL: recording 2M services
/// call by call would take the bench an hour).
async fn seed_entries(url: &str, community: &str, period: &str, day: &str, members: i64, entries: i64) {
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("scoring db");
    sqlx::query(
        "WITH RECURSIVE s (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $2 - 1) \
         INSERT INTO accounts (subject_kind, subject_id, community_id, subject_name, earned, redeemed) \
         SELECT 'member', 'm' || i, $1, '成员' || i, 0, 0 FROM s",
    )
    .bind(community)
    .bind(members)
    .execute(&mut conn)
    .await
    .expect("seed accounts");
    sqlx::query(
        "WITH RECURSIVE s (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $2 - 1) \
         INSERT INTO entries (id, subject_kind, subject_id, community_id, kind, points, occurred_on, period, content, \
           source_key, recorded_by, recorded_at, base_points, adjustment, special_category, project_id, \
           project_scorer, corrects_entry_id, redemption_id) \
         SELECT 'e' || i, 'member', 'm' || (i % $5), $1, 'service', 2 + i % 7, $3, $4, '社区服务', \
           'seed:' || i, 'seed', 0, 5, 0, '', '', '', NULL, '' FROM s",
    )
    .bind(community)
    .bind(entries)
    .bind(day)
    .bind(period)
    .bind(members)
    .execute(&mut conn)
    .await
    .expect("seed entries");
}

/// The settlement's set-based statement alone, into a table shaped and
/// indexed like `settlement_lines`.
async fn settlement_baseline(url: &str, community: &str, period: &str) -> Duration {
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("scoring db");
    sqlx::query(
        "CREATE TABLE lines_copy (settlement_id TEXT NOT NULL, subject_kind TEXT NOT NULL, subject_id TEXT NOT NULL, \
         subject_name TEXT NOT NULL, points BIGINT NOT NULL, stars BIGINT NOT NULL, \
         PRIMARY KEY (settlement_id, subject_kind, subject_id))",
    )
    .execute(&mut conn)
    .await
    .expect("lines table");
    sqlx::query(
        "CREATE INDEX lines_copy_order ON lines_copy (settlement_id, stars DESC, points DESC, subject_kind, subject_id)",
    )
    .execute(&mut conn)
    .await
    .expect("lines index");
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO lines_copy SELECT 'raw', subject_kind, subject_id, subject_name, points, \
           CASE WHEN points <= 0 THEN 0 WHEN points / 10 > 10 THEN 10 ELSE points / 10 END \
         FROM (SELECT e.subject_kind, e.subject_id, COALESCE(MAX(a.subject_name), '') AS subject_name, \
                      CAST(SUM(e.points) AS BIGINT) AS points \
               FROM entries e LEFT JOIN accounts a ON a.subject_kind = e.subject_kind \
                 AND a.subject_id = e.subject_id AND a.community_id = e.community_id \
               WHERE e.community_id = $1 AND e.period = $2 AND e.kind IN ('service', 'special', 'project', 'correction') \
               GROUP BY e.subject_kind, e.subject_id) totals",
    )
    .bind(community)
    .bind(period)
    .execute(&mut conn)
    .await
    .expect("raw settlement");
    started.elapsed()
}

fn rss_line(suite: &Suite, when: &str) {
    for p in [&suite.registry, &suite.volunteering, &suite.scoring, &suite.feedback] {
        if let Some(rss) = p.rss_mib() {
            line(
                &format!("RSS {} {when}", p.name),
                format!("{rss:.0} MiB"),
                String::new(),
                None,
                "≤ 64 MiB",
                Some(rss <= 64.0),
            );
        }
    }
}

fn channels(port: u16, n: usize) -> Vec<tonic::transport::Channel> {
    (0..n).map(|_| dualreport_testkit::channel(port)).collect()
}

async fn run(backend: Backend, sizes: &Sizes) {
    let postgres = backend == Backend::Postgres;
    let admin_url = std::env::var("DUALREPORT_TEST_POSTGRES_URL").ok();
    let seconds = sizes.load.as_secs().max(1);
    println!(
        "\n######## {} — {} members, {} entries, {} s per load figure, {} cores",
        if postgres { "PostgreSQL" } else { "SQLite" },
        sizes.members,
        sizes.entries,
        seconds,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let suite = Suite::start(backend, &[]).await;
    let city = &suite.city;
    let district = city.district.id.clone();
    let mut city_admin = suite.registry(&admin_token(Role::CityAdmin, "city"));
    let baseline_db = match (postgres, &admin_url) {
        (true, Some(admin)) => Some(pgbench_database(admin).await),
        _ => None,
    };

    // ── ImportMembers: one call, 5,000-row batches over 20 units.
    header("registry: bulk import");
    let mut units = Vec::new();
    for u in 0..20 {
        units.push(
            dualreport_testkit::registry::create_org(
                &mut city_admin,
                &format!("单位{u}"),
                reg::OrganizationType::Enterprise,
                &district,
            )
            .await
            .id,
        );
    }
    let batches: Vec<_> = (0..sizes.members.div_ceil(5_000))
        .map(|b| reg::ImportMembersRequest {
            request_id: format!("bench-{b}"),
            rows: (b * 5_000..((b + 1) * 5_000).min(sizes.members))
                .map(|i| reg::MemberProfile {
                    phone: format!("139{i:08}"),
                    ..dualreport_testkit::registry::profile(
                        &format!("成员{i}"),
                        &units[i % units.len()],
                        if i % 2 == 0 {
                            &city.community_a.id
                        } else {
                            &city.community_b.id
                        },
                    )
                })
                .collect(),
        })
        .collect();
    let started = Instant::now();
    let replies = dualreport_testkit::registry::import(&mut city_admin, batches).await;
    let import = started.elapsed();
    let ids: Vec<String> = replies.iter().flat_map(|r| r.member_ids.clone()).collect();
    assert_eq!(ids.len(), sizes.members, "every row imported");
    let rows_per_s = sizes.members as f64 / import.as_secs_f64();
    match postgres {
        true => {
            let copy = copy_baseline(&suite.databases[0].url, sizes.members, &units[0], &city.community_a.id).await;
            let copy_rate = sizes.members as f64 / copy.as_secs_f64();
            let ratio = rows_per_s / copy_rate;
            line(
                &format!("ImportMembers {}k rows, one call", sizes.members / 1000),
                format!("{rows_per_s:.0} rows/s ({:.1} s)", import.as_secs_f64()),
                format!("COPY {copy_rate:.0} rows/s"),
                Some(ratio),
                "≥ 0.5× COPY",
                Some(ratio >= 0.5),
            );
        }
        false => line(
            &format!("ImportMembers {}k rows, one call", sizes.members / 1000),
            format!("{rows_per_s:.0} rows/s ({:.1} s)", import.as_secs_f64()),
            "—".into(),
            None,
            "",
            None,
        ),
    }
    rss_line(&suite, "after the import");

    // ── Authenticated reads.
    header("reads (authenticated, through gRPC)");
    let district_admin = admin_token(Role::DistrictAdmin, &district);
    let registry_clients: Vec<_> = channels(suite.registry.port, 8)
        .into_iter()
        .map(|c| dualreport_testkit::registry::client(&c, &district_admin))
        .collect();
    let ids = Arc::new(ids);
    let get_member = {
        let ids = ids.clone();
        move |mut c: dualreport_testkit::registry::Client, n: u64| {
            let id = ids[(n as usize * 7919) % ids.len()].clone();
            async move {
                c.get_member(reg::GetMemberRequest {
                    member_id: id,
                    view: reg::MemberView::Masked as i32,
                })
                .await
                .map(|_| ())
            }
        }
    };
    let unloaded = load(&registry_clients, 1, sizes.load, get_member.clone()).await;
    line(
        "GetMember masked c=1 (unloaded)",
        format!("p50 {:.2} ms p99 {:.2} ms", ms(unloaded.p50), ms(unloaded.p99)),
        String::new(),
        None,
        "",
        None,
    );
    let mut peak = 0f64;
    let mut at_peak_p99 = Duration::ZERO;
    for c in [16, 64] {
        let l = load(&registry_clients, c, sizes.load, get_member.clone()).await;
        if l.rps > peak {
            peak = l.rps;
            at_peak_p99 = l.p99;
        }
        read_line(
            &format!("GetMember masked c={c}"),
            &l,
            baseline_db.as_deref(),
            c,
            seconds,
        );
    }

    let scoring_clients: Vec<_> = channels(suite.scoring.port, 8)
        .into_iter()
        .map(|c| {
            sc::scoring_service_client::ScoringServiceClient::new(dualreport_testkit::authed(c, &member_token("m1")))
        })
        .collect();
    let get_balance = |mut c: sc::scoring_service_client::ScoringServiceClient<_>, _n: u64| async move {
        c.get_balance(sc::GetBalanceRequest {
            subject: Some(sc::Subject {
                kind: sc::SubjectKind::Member as i32,
                id: "m1".into(),
            }),
        })
        .await
        .map(|_| ())
    };
    for c in [16, 64] {
        let l = load(&scoring_clients, c, sizes.load, get_balance).await;
        read_line(&format!("GetBalance c={c}"), &l, baseline_db.as_deref(), c, seconds);
    }

    let community_admin = admin_token(Role::CommunityAdmin, &city.community_a.id);
    suite
        .volunteering(&community_admin)
        .create_post(vol::CreatePostRequest {
            request_id: "bench-post".into(),
            community_id: city.community_a.id.clone(),
            name: "基准测试岗".into(),
            description: "基准测试用的岗位".into(),
        })
        .await
        .expect("post");
    let volunteering_clients: Vec<_> = channels(suite.volunteering.port, 8)
        .into_iter()
        .map(|c| {
            vol::volunteering_service_client::VolunteeringServiceClient::new(dualreport_testkit::authed(
                c,
                &community_admin,
            ))
        })
        .collect();
    let community_a = city.community_a.id.clone();
    let list_posts = move |mut c: vol::volunteering_service_client::VolunteeringServiceClient<_>, _n: u64| {
        let community_id = community_a.clone();
        async move { c.list_posts(vol::ListPostsRequest { community_id }).await.map(|_| ()) }
    };
    for c in [16, 64] {
        let l = load(&volunteering_clients, c, sizes.load, list_posts.clone()).await;
        read_line(&format!("ListPosts c={c}"), &l, baseline_db.as_deref(), c, seconds);
    }

    // ── Overload: admission sheds at once instead of queueing.
    header("overload (GetMember at twice the admission limit, callers backing off when shed)");
    let over = load(&registry_clients, 80, sizes.load, get_member.clone()).await;
    let goodput = over.rps / peak;
    line(
        "goodput at c=80",
        format!("{:.0} req/s ({} shed)", over.rps, over.failed),
        format!("peak {peak:.0} req/s"),
        Some(goodput),
        "≥ 0.8× peak",
        Some(goodput >= 0.8),
    );
    let stretch = over.p99.as_secs_f64() / unloaded.p99.as_secs_f64().max(1e-6);
    line(
        "accepted p99 at c=80",
        format!("{:.2} ms", ms(over.p99)),
        format!("unloaded p99 {:.2} ms", ms(unloaded.p99)),
        Some(stretch),
        "≤ 3× unloaded",
        Some(stretch <= 3.0),
    );
    let _ = at_peak_p99;

    // ── Single-row mutations: RecordService for reported members.
    header("single-row mutations");
    let year = chrono_year();
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

    // ── Settlement at district size.
    header("scoring: settlement and the board");
    let last_half = last_half();
    let period_key = format!("{}H{}", last_half.year, last_half.half);
    let day = format!("{}-{:02}-01", last_half.year, if last_half.half == 1 { 1 } else { 7 });
    let started = Instant::now();
    seed_entries(
        &suite.databases[1].url,
        &city.community_a.id,
        &period_key,
        &day,
        sizes.members as i64,
        sizes.entries,
    )
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
    rss_line(&suite, "after the settlement");
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

    // ── Calls that used to break at this size.
    header("district-wide reads that must not break");
    let started = Instant::now();
    let stats = city_admin
        .get_report_statistics(reg::GetReportStatisticsRequest {
            org_id: district.clone(),
            year,
        })
        .await;
    line(
        "GetReportStatistics of the district",
        format!("{:.0} ms", ms(started.elapsed())),
        String::new(),
        None,
        "answers",
        Some(stats.is_ok()),
    );
    let started = Instant::now();
    let table = suite
        .feedback(&admin_token(Role::UnitAdmin, &units[0]))
        .get_summary_table(fb::GetSummaryTableRequest {
            unit_org_id: units[0].clone(),
            community_id: String::new(),
            period: Some(common::Period { year, half: 0 }),
        })
        .await;
    line(
        &format!("GetSummaryTable, a unit of {} members", sizes.members / units.len()),
        format!("{:.0} ms", ms(started.elapsed())),
        String::new(),
        None,
        "answers",
        Some(table.is_ok_and(|t| t.into_inner().table.is_some_and(|t| t.complete))),
    );
    rss_line(&suite, "at the end");
}

/// A read figure beside `pgbench -S` at the same concurrency.
fn read_line(what: &str, l: &Load, baseline_db: Option<&str>, concurrency: usize, seconds: u64) {
    let baseline = baseline_db.and_then(|db| pgbench_select(db, concurrency, seconds));
    let ratio = baseline.map(|b| l.rps / b);
    line(
        what,
        format!("{:.0}/s p99 {:.1} ms", l.rps, ms(l.p99)),
        baseline.map_or_else(|| "—".into(), |b| format!("pgbench -S {b:.0} tps")),
        ratio,
        "≥ 0.5× -S",
        ratio.map(|r| r >= 0.5),
    );
}

fn china_today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

fn chrono_year() -> i32 {
    chrono::Datelike::year(&china_today())
}

fn today_pb() -> common::Date {
    let d = china_today();
    common::Date {
        year: chrono::Datelike::year(&d),
        month: chrono::Datelike::month(&d) as i32,
        day: chrono::Datelike::day(&d) as i32,
    }
}

/// The half-year before the current one (it has ended, so it can be settled).
fn last_half() -> common::Period {
    let d = china_today();
    let (year, month) = (chrono::Datelike::year(&d), chrono::Datelike::month(&d));
    if month <= 6 {
        common::Period {
            year: year - 1,
            half: 2,
        }
    } else {
        common::Period { year, half: 1 }
    }
}

#[tokio::main]
async fn main() {
    sqlx::any::install_default_drivers();
    let sizes = Sizes {
        members: env_num("BENCH_MEMBERS", 100_000) as usize,
        entries: env_num("BENCH_ENTRIES", 2_000_000) as i64,
        load: Duration::from_secs(env_num("BENCH_SECONDS", 5)),
    };
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "postgres,sqlite".into());
    for name in backends.split(',') {
        match name.trim() {
            "postgres" if std::env::var_os("DUALREPORT_TEST_POSTGRES_URL").is_some() => {
                run(Backend::Postgres, &sizes).await;
            }
            "postgres" => println!("PostgreSQL skipped: run through scripts/with-postgres.sh (make bench does)"),
            "sqlite" => run(Backend::Sqlite, &sizes).await,
            other => println!("unknown backend {other:?}"),
        }
    }
}
