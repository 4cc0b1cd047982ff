//! The load generator: `streams` concurrent callers, each sending its next call as soon as
//! the previous one is answered, over a handful of HTTP/2 connections, for a fixed time after
//! a warm-up. Written with the tonic client (h2load would count gRPC errors as successes).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tonic::transport::{Channel, Endpoint};

/// What one load level measured.
pub struct Measured {
    pub streams: usize,
    /// Successful calls inside the measured window.
    pub ok: u64,
    /// Successful calls, warm-up included (what the server acknowledged).
    pub acknowledged: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub seconds: f64,
    /// Latencies in microseconds.
    pub latency: Histogram<u64>,
    /// CPU time of the whole process (load generator, server, and SQLite, which runs in
    /// it; not PostgreSQL's backends) inside the measured window.
    pub cpu_seconds: f64,
    /// CPU time of the server's threads alone (its runtime and SQLite's workers), in the
    /// same window: what the server itself spends, without the load generator.
    pub server_cpu_seconds: f64,
}

impl Measured {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.seconds
    }
    pub fn p50_ms(&self) -> f64 {
        self.latency.value_at_quantile(0.50) as f64 / 1000.0
    }
    pub fn p99_ms(&self) -> f64 {
        self.latency.value_at_quantile(0.99) as f64 / 1000.0
    }
    /// Process CPU per successful call, in microseconds.
    pub fn cpu_us_per_call(&self) -> f64 {
        self.cpu_seconds * 1e6 / self.ok.max(1) as f64
    }
    /// Server CPU per successful call, in microseconds.
    pub fn server_cpu_us_per_call(&self) -> f64 {
        self.server_cpu_seconds * 1e6 / self.ok.max(1) as f64
    }
    /// Cores kept busy on average (2.0: this machine is saturated).
    pub fn cores_busy(&self) -> f64 {
        self.cpu_seconds / self.seconds
    }
}

/// User + system CPU time of this process so far, in seconds (10 ms resolution).
pub fn cpu_seconds() -> f64 {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
            Some(after.get(11)?.parse::<f64>().ok()? + after.get(12)?.parse::<f64>().ok()?)
        })
        .unwrap_or(0.0);
    ticks / 100.0
}

/// The name of the server runtime's threads (`servers`), by which their CPU is told apart.
pub const SERVER_THREADS: &str = "bench-server";

/// User + system CPU time so far of this process's threads that serve: the server runtime's
/// and SQLite's workers (`sqlx-sqlite-worker-N`), in seconds. Threads that ended are not
/// counted: the runtimes' threads live as long as their server.
pub fn server_cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut ticks = 0.0;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let Some((head, after)) = stat.rsplit_once(')') else {
            continue;
        };
        let name = head.split_once('(').map_or("", |(_, n)| n);
        if !(name.starts_with(SERVER_THREADS) || name.starts_with("sqlx-sqlite")) {
            continue;
        }
        let fields: Vec<&str> = after.split_whitespace().collect();
        let field = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        ticks += field(11) + field(12);
    }
    ticks / 100.0
}

/// Connections opened for `streams` callers: one per 16 streams, at most 16, the same for
/// boucle and for the baseline.
pub async fn connect(addr: std::net::SocketAddr, streams: usize) -> anyhow::Result<Vec<Channel>> {
    let n = streams.div_ceil(16).clamp(1, 16);
    let mut channels = Vec::with_capacity(n);
    for _ in 0..n {
        channels.push(
            Endpoint::from_shared(format!("http://{addr}"))?
                .tcp_nodelay(true)
                .connect()
                .await?,
        );
    }
    Ok(channels)
}

/// Runs `call(channel, stream, sequence)` from `streams` tasks for `warmup + measure`; only
/// calls that start and end inside the measured window count.
pub async fn run<F, Fut>(
    channels: Vec<Channel>,
    streams: usize,
    warmup: Duration,
    measure: Duration,
    call: F,
) -> Measured
where
    F: Fn(Channel, usize, u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), tonic::Status>> + Send,
{
    let start = Instant::now();
    let window_start = start + warmup;
    let window_end = window_start + measure;
    let errors = Arc::new(AtomicU64::new(0));
    let cpu = tokio::spawn(async move {
        tokio::time::sleep_until(window_start.into()).await;
        let before = (cpu_seconds(), server_cpu_seconds());
        tokio::time::sleep_until(window_end.into()).await;
        (cpu_seconds() - before.0, server_cpu_seconds() - before.1)
    });
    let mut tasks = Vec::with_capacity(streams);
    for stream in 0..streams {
        let channel = channels[stream % channels.len()].clone();
        let call = call.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
                .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()));
            let mut ok = 0u64;
            let mut acknowledged = 0u64;
            let mut first_error = None;
            let mut seq = 0u64;
            loop {
                let began = Instant::now();
                if began >= window_end {
                    break;
                }
                let result = call(channel.clone(), stream, seq).await;
                seq += 1;
                let ended = Instant::now();
                let counted = began >= window_start && ended <= window_end;
                if result.is_ok() {
                    acknowledged += 1;
                }
                match result {
                    Ok(()) if counted => {
                        ok += 1;
                        let _ = histogram.record((ended - began).as_micros() as u64);
                    }
                    Ok(()) => {}
                    Err(status) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        if first_error.is_none() {
                            first_error =
                                Some(format!("{:?}: {}", status.code(), status.message()));
                        }
                    }
                }
            }
            (histogram, ok, acknowledged, first_error)
        }));
    }
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()));
    let mut ok = 0;
    let mut acknowledged = 0;
    let mut first_error = None;
    for task in tasks {
        if let Ok((h, n, a, e)) = task.await {
            let _ = latency.add(&h);
            ok += n;
            acknowledged += a;
            first_error = first_error.or(e);
        }
    }
    let (cpu_seconds, server_cpu_seconds) = cpu.await.unwrap_or((0.0, 0.0));
    Measured {
        streams,
        ok,
        acknowledged,
        errors: errors.load(Ordering::Relaxed),
        first_error,
        seconds: measure.as_secs_f64(),
        latency,
        cpu_seconds,
        server_cpu_seconds,
    }
}
