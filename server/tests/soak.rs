//! Soak: the real binary under a steady mixed load (submissions with request ids, public
//! listings, internal listings) at a fixed rate; every call must succeed and the server's
//! resident memory must stay flat once warm.
//!
//! Quick in the default suite (20 s at 100 calls/s). The long version (RELIABILITY.md) first
//! measures the peak of this very mix on this machine — closed loop, 64 callers, 60 s — then
//! soaks at half of it for 30 minutes:
//! `BOUCLE_SOAK_SECONDS=1800 BOUCLE_SOAK_RATE=half-peak cargo test --release -p boucle-server --test soak -- --nocapture`

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use boucle::pb;
use boucle::pb::feedback_service_client::FeedbackServiceClient;
use boucle::pb::results_service_client::ResultsServiceClient;

const SITES: [&str; 4] = [
    "CAF69-LYON-PARTDIEU",
    "CAF69-VILLEURBANNE",
    "FS12-MILLAU",
    "CPAM59-LILLE",
];

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The soak's rate: a number of calls per second, or `half-peak` (measured first).
fn rate_setting() -> Option<u64> {
    match std::env::var("BOUCLE_SOAK_RATE").ok().as_deref() {
        Some("half-peak") => None,
        _ => Some(setting("BOUCLE_SOAK_RATE", 100).max(1)),
    }
}

/// Call number `n` of the mix: 20 % public listings, 10 % internal listings, 70 %
/// submissions (with a request id), spread over four sites.
async fn one_call(
    n: u64,
    tag: &str,
    mut feedback: FeedbackServiceClient<common::Authed>,
    mut results: ResultsServiceClient<common::Authed>,
) -> Result<(), tonic::Status> {
    let site = SITES[(n % SITES.len() as u64) as usize];
    match n % 10 {
        0 | 1 => results
            .list_published_feedback(pb::ListPublishedFeedbackRequest {
                location_code: site.into(),
                page_size: 20,
                ..Default::default()
            })
            .await
            .map(|_| ()),
        2 => feedback
            .list_feedback(pb::ListFeedbackRequest {
                page_size: 20,
                ..Default::default()
            })
            .await
            .map(|_| ()),
        _ => feedback
            .submit_feedback(pb::SubmitFeedbackRequest {
                feedback: Some(boucle_tests::feedback_for(site)),
                request_id: format!("{tag}-{n}"),
            })
            .await
            .map(|_| ()),
    }
}

/// The peak of the mix: `callers` closed loops (each sends its next call when the last is
/// answered) for `seconds`; calls answered per second.
async fn measure_peak(
    feedback: &FeedbackServiceClient<common::Authed>,
    results: &ResultsServiceClient<common::Authed>,
    callers: u64,
    seconds: u64,
) -> f64 {
    let next = Arc::new(AtomicU64::new(0));
    let counters = Arc::new(Counters::default());
    let began = Instant::now();
    let mut loops = tokio::task::JoinSet::new();
    for _ in 0..callers {
        let (feedback, results) = (feedback.clone(), results.clone());
        let (next, counters) = (next.clone(), counters.clone());
        loops.spawn(async move {
            while began.elapsed() < Duration::from_secs(seconds) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                match one_call(n, "peak", feedback.clone(), results.clone()).await {
                    Ok(()) => counters.ok.fetch_add(1, Ordering::Relaxed),
                    Err(_) => counters.errors.fetch_add(1, Ordering::Relaxed),
                };
            }
        });
    }
    while loops.join_next().await.is_some() {}
    let elapsed = began.elapsed().as_secs_f64();
    let (ok, errors) = (
        counters.ok.load(Ordering::Relaxed),
        counters.errors.load(Ordering::Relaxed),
    );
    let peak = ok as f64 / elapsed;
    println!(
        "peak of the mix: {callers} closed-loop callers for {seconds} s: {ok} calls answered ({errors} errors), {peak:.0} calls/s"
    );
    peak
}

#[derive(Default)]
struct Counters {
    ok: AtomicU64,
    errors: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_steady_load_keeps_errors_at_zero_and_memory_flat() {
    let seconds = setting("BOUCLE_SOAK_SECONDS", 20);
    let (_database, url) = boucle_tests::fresh_database().await.expect("database");
    let published = tempfile::tempdir().expect("tempdir");
    let key = common::seed_demo(&url, published.path());
    let server = common::start(&url, &[("BOUCLE_SUBMIT_RATE", "0")]);
    let pid = server.child.id();
    let counters = Arc::new(Counters::default());
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let feedback = FeedbackServiceClient::new(common::authed(&server.addr, &key));
    let results = ResultsServiceClient::new(common::authed(&server.addr, &key));
    let rate = match rate_setting() {
        Some(rate) => rate,
        None => {
            let peak = measure_peak(
                &feedback,
                &results,
                64,
                setting("BOUCLE_SOAK_PEAK_SECONDS", 60),
            )
            .await;
            // Let the server settle (group-commit queue drained) before the soak begins.
            tokio::time::sleep(Duration::from_secs(5)).await;
            ((peak / 2.0).round() as u64).max(1)
        }
    };
    println!("soak rate: {rate} calls/s for {seconds} s");

    // One call every 1/rate s, each on its own task so a slow call never slows the pace.
    let began = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    // Burst: a late tick is caught up at once, so the average rate holds even below the
    // timer's 1 ms resolution.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut samples: Vec<(f64, u64)> = Vec::new();
    let mut next_sample = Duration::ZERO;
    let mut n: u64 = 0;
    let mut tasks = tokio::task::JoinSet::new();
    while began.elapsed() < Duration::from_secs(seconds) {
        tick.tick().await;
        n += 1;
        if began.elapsed() >= next_sample {
            if let Some(kib) = common::rss_kib(pid) {
                samples.push((began.elapsed().as_secs_f64(), kib));
            }
            // A progress line every 10 s: a long run shows when (and whether) it degrades.
            if next_sample.as_secs().is_multiple_of(10) && next_sample > Duration::ZERO {
                let (ok, errors) = (
                    counters.ok.load(Ordering::Relaxed),
                    counters.errors.load(Ordering::Relaxed),
                );
                println!(
                    "soak {:>5} s: {ok} ok, {errors} errors, {} in flight, RSS {:.1} MiB",
                    next_sample.as_secs(),
                    n.saturating_sub(ok + errors),
                    samples.last().map_or(0.0, |s| s.1 as f64 / 1024.0)
                );
            }
            next_sample += Duration::from_secs(1);
        }
        let (feedback, results) = (feedback.clone(), results.clone());
        let (counters, first_error) = (counters.clone(), first_error.clone());
        tasks.spawn(async move {
            let outcome = one_call(n, "soak", feedback, results).await;
            match outcome {
                Ok(()) => counters.ok.fetch_add(1, Ordering::Relaxed),
                Err(status) => {
                    first_error
                        .lock()
                        .expect("lock")
                        .get_or_insert_with(|| format!("{status:?}"));
                    counters.errors.fetch_add(1, Ordering::Relaxed)
                }
            };
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = began.elapsed().as_secs_f64();
    common::sigterm(&server.child);
    let mut child = server.child;
    assert!(child.wait().expect("wait").success());

    let ok = counters.ok.load(Ordering::Relaxed);
    let errors = counters.errors.load(Ordering::Relaxed);
    // What the server itself reported: the first place to look when a long run degrades.
    let warnings: Vec<String> = server
        .stderr
        .try_iter()
        .filter(|l| l.contains("\"WARN\"") || l.contains("\"ERROR\""))
        .collect();
    for line in warnings.iter().take(20) {
        println!("server: {line}");
    }
    if warnings.len() > 20 {
        println!("server: … {} warnings and errors in all", warnings.len());
    }
    assert_eq!(
        errors,
        0,
        "first error: {:?}",
        first_error.lock().expect("lock")
    );
    assert_eq!(ok, n, "every call answered");
    // Memory: after the first third (caches, pools, SQLite page cache warm up), the peak of
    // the last third stays within 10 % (+ 8 MiB) of the peak of the middle third.
    let third = elapsed / 3.0;
    let peak = |from: f64, to: f64| {
        samples
            .iter()
            .filter(|(t, _)| *t >= from && *t < to)
            .map(|(_, kib)| *kib)
            .max()
            .unwrap_or(0)
    };
    let (middle, last) = (peak(third, 2.0 * third), peak(2.0 * third, elapsed + 1.0));
    println!(
        "soak: {seconds} s at {rate} calls/s: {ok} calls, {errors} errors, {:.0} calls/s achieved; RSS MiB start {:.1}, middle-third peak {:.1}, last-third peak {:.1}",
        ok as f64 / elapsed,
        samples.first().map_or(0.0, |s| s.1 as f64 / 1024.0),
        middle as f64 / 1024.0,
        last as f64 / 1024.0
    );
    assert!(middle > 0 && last > 0, "memory was sampled: {samples:?}");
    assert!(
        last as f64 <= middle as f64 * 1.10 + 8.0 * 1024.0,
        "memory keeps growing: {middle} KiB then {last} KiB ({samples:?})"
    );
}
