//! The database's own ceiling, measured in the same run: `pgbench -S`, a
//! pgbench single-row INSERT, `COPY` into a table like `members`, and the
//! settlement's set-based statement alone.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use sqlx::Connection as _;

/// Debian's PostgreSQL client programs (pgbench), as `with-postgres.sh` finds them.
pub fn pg_bin(program: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .collect();
    dirs.sort();
    dirs.into_iter().rev().map(|d| d.join(program)).find(|p| p.exists())
}

/// pgbench's tps for `args` against `url`.
pub fn pgbench(url: &str, args: &[&str]) -> Option<f64> {
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
pub async fn pgbench_database(admin: &str) -> String {
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

pub fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    )
}

pub fn pgbench_select(url: &str, concurrency: usize, seconds: u64) -> Option<f64> {
    let c = concurrency.to_string();
    let t = seconds.to_string();
    pgbench(url, &["-n", "-S", "-c", &c, "-j", "2", "-T", &t])
}

pub fn pgbench_insert(url: &str, concurrency: usize, seconds: u64) -> Option<f64> {
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
pub fn member_csv(members: usize, unit: &str, community: &str) -> Vec<u8> {
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

pub const MEMBER_COLUMNS: &str = "id, unit_org_id, residence_community_id, name, gender, birth_year, education, \
    joined_party_on, membership_status, category, employer, position, phone_cipher, phone_key_id, \
    home_address_cipher, home_address_key_id, skills, service_intentions, available_time_slots, created_at, updated_at";

/// COPY of `members` rows into a table shaped and indexed like `members`.
pub async fn copy_baseline(url: &str, members: usize, unit: &str, community: &str) -> Duration {
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

pub async fn settlement_baseline(url: &str, community: &str, period: &str) -> Duration {
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
