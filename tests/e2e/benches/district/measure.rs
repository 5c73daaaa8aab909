//! How a figure is taken and printed: callers in a loop for a while, their
//! rate and latency, one line per figure beside its baseline and its goal.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use e2e::Suite;

use crate::baselines::pgbench_select;

/// What a load run saw: successful calls per second and their latency.
pub struct Load {
    pub rps: f64,
    pub failed: u64,
    pub p50: Duration,
    pub p99: Duration,
}

/// `concurrency` callers, each calling in a loop for `duration`; callers
/// share `clients` round-robin (one HTTP/2 connection each).
pub async fn load<C, F, Fut>(clients: &[C], concurrency: usize, duration: Duration, call: F) -> Load
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

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One printed line: the figure, its baseline, the ratio and the goal.
pub fn line(what: &str, figure: String, baseline: String, ratio: Option<f64>, goal: &str, holds: Option<bool>) {
    let ratio = ratio.map_or_else(|| "—".to_owned(), |r| format!("{r:.2}×"));
    let verdict = match holds {
        Some(true) => "holds",
        Some(false) => "MISSED",
        None => "",
    };
    println!("{what:<44} {figure:>22} {baseline:>30} {ratio:>7}  {goal:<16} {verdict}");
}

pub fn header(title: &str) {
    println!("\n== {title}");
    println!(
        "{:<44} {:>22} {:>30} {:>7}  {:<16}",
        "figure", "measured", "baseline (same run)", "ratio", "goal"
    );
}

/// A read figure beside `pgbench -S` at the same concurrency.
pub fn read_line(what: &str, l: &Load, baseline_db: Option<&str>, concurrency: usize, seconds: u64) {
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

pub fn rss_line(suite: &Suite, when: &str) {
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

pub fn channels(port: u16, n: usize) -> Vec<tonic::transport::Channel> {
    (0..n).map(|_| dualreport_testkit::channel(port)).collect()
}
