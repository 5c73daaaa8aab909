//! Benchmark helpers: every figure is printed as a ratio to a baseline
//! measured in the same run, so numbers compare across machines and noisy
//! neighbours. Nothing here fails on time.

use std::future::Future;
use std::time::{Duration, Instant};

/// The mean duration of `calls` sequential calls.
pub async fn mean<F, Fut>(calls: usize, mut call: F) -> Duration
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let start = Instant::now();
    for i in 0..calls {
        call(i).await;
    }
    start.elapsed() / u32::try_from(calls.max(1)).expect("calls fit u32")
}

/// One line: the figure and its ratio to the baseline.
pub fn row(name: &str, took: Duration, baseline: Duration) {
    println!(
        "{name:<48} {:>10.1} µs {:>8.2}× baseline",
        took.as_secs_f64() * 1e6,
        took.as_secs_f64() / baseline.as_secs_f64()
    );
}
