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

mod baselines;
mod district_wide;
mod measure;
mod registry;
mod scoring;

use std::sync::Arc;
use std::time::Duration;

use dualreport_platform::auth::Role;
use dualreport_proto::common::v1 as common;
use dualreport_testkit::admin_token;
use e2e::{Backend, Suite};

use crate::baselines::pgbench_database;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub struct Sizes {
    pub members: usize,
    pub entries: i64,
    pub load: Duration,
}

/// One backend's run: the suite, its sizes and the baselines' database.
pub struct Bench<'a> {
    pub suite: &'a Suite,
    pub sizes: &'a Sizes,
    pub postgres: bool,
    /// pgbench's scratch database (PostgreSQL runs only).
    pub baseline_db: Option<String>,
    /// Seconds per load figure.
    pub seconds: u64,
    pub district: String,
    pub year: i32,
}

impl Bench<'_> {
    fn city_admin(&self) -> e2e::Registry {
        self.suite.registry(&admin_token(Role::CityAdmin, "city"))
    }

    fn community_admin(&self) -> String {
        admin_token(Role::CommunityAdmin, &self.suite.city.community_a.id)
    }
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
    let baseline_db = match (postgres, &admin_url) {
        (true, Some(admin)) => Some(pgbench_database(admin).await),
        _ => None,
    };
    let b = Bench {
        suite: &suite,
        sizes,
        postgres,
        baseline_db,
        seconds,
        district: suite.city.district.id.clone(),
        year: chrono_year(),
    };
    let (units, ids) = registry::import(&b).await;
    let ids = Arc::new(ids);
    registry::reads(&b, &ids).await;
    scoring::mutations(&b, &ids).await;
    scoring::settlement(&b).await;
    district_wide::reads(&b, &units).await;
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
