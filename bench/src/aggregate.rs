//! Aggregation: one month of generated experiences over a 4-level hierarchy, boucle's whole
//! aggregation step (every indicator, SELF and SUBTREE scopes, stored) against the single
//! hand-written GROUP BY computing the same per-location counts in the database.

use std::time::{Duration, Instant};

use boucle::domain::{Period, Role};
use boucle::store::Store;
use chrono_tz::Tz;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::db::{Target, open};
use crate::generate::{Hierarchy, Rows, Texts};

pub const TZ: Tz = chrono_tz::Europe::Paris;

pub fn period() -> Period {
    Period::new(2026, 10).unwrap_or_else(|_| unreachable!())
}

pub struct Outcome {
    pub target: &'static str,
    pub rows: u64,
    pub locations: usize,
    pub generated_in: Option<Duration>,
    pub baseline: Duration,
    pub boucle: Duration,
    pub peak_rss_mb: f64,
}

/// The baseline: what a DBA would write to count the month per location.
const HAND_GROUP_BY: &str = "SELECT location_id, COUNT(*) AS volume, \
    SUM(CASE WHEN satisfaction = 'POSITIVE' THEN 1 ELSE 0 END) AS positive, \
    SUM(CASE WHEN satisfaction = 'NEGATIVE' THEN 1 ELSE 0 END) AS negative, \
    SUM(CASE WHEN nps IS NOT NULL THEN 1 ELSE 0 END) AS nps_answers, \
    SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END) AS promoters, \
    SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END) AS detractors, \
    SUM(CASE WHEN effort IS NOT NULL THEN 1 ELSE 0 END) AS effort_answers, \
    SUM(CASE WHEN effort >= 5 THEN 1 ELSE 0 END) AS effort_easy, \
    SUM(CASE WHEN status = 'PUBLISHED' THEN 1 ELSE 0 END) AS published \
    FROM feedback WHERE submitted_at >= $1 AND submitted_at < $2 \
    AND (status <> 'REJECTED' OR reject_reason IN ('ABUSIVE', 'PERSONAL_DATA')) \
    GROUP BY location_id";

/// Loads the data set unless the database already holds it (it is kept between runs).
pub async fn ensure_data(
    target: &Target,
    rows: u64,
    locations: usize,
    seed: u64,
) -> anyhow::Result<(boucle::store::DatabaseSettings, Option<Duration>)> {
    let name = format!("boucle_bench_agg_{rows}_{locations}_{seed}");
    let settings = target.database(&name, false).await?;
    {
        let store = open(&settings).await?;
        let present = boucle::store::feedback::count(store.connection()).await?;
        store.close().await?;
        if present == rows {
            return Ok((settings, None));
        }
    }
    let settings = target.database(&name, true).await?;
    let store = open(&settings).await?;
    let started = Instant::now();
    generate(&store, rows, locations, seed).await?;
    let took = started.elapsed();
    store.close().await?;
    Ok((settings, Some(took)))
}

/// The data set of [`ensure_data`] with its month aggregated, as the steps that follow the
/// aggregation (reports, open data, public reads) find it.
pub async fn ensure_aggregated(
    target: &Target,
    rows: u64,
    locations: usize,
    seed: u64,
) -> anyhow::Result<boucle::store::DatabaseSettings> {
    let (settings, _) = ensure_data(target, rows, locations, seed).await?;
    let store = Store::connect(&settings).await?;
    let run = store
        .start_job_run(&period().to_string(), "aggregate", "bench")
        .await?;
    boucle_jobs::aggregate::aggregate(&store, period(), TZ, None, run, &mut |_, _| Ok(())).await?;
    store.finish_job_run(run, None).await?;
    store.close().await?;
    Ok(settings)
}

async fn generate(store: &Store, rows: u64, locations: usize, seed: u64) -> anyhow::Result<()> {
    let hierarchy = Hierarchy::new(locations, seed);
    store.bulk_insert_locations(&hierarchy.locations).await?;
    let (key, _) =
        boucle::app::keys::create(store, None, "bench loader", Role::Collector, None).await?;
    let texts = Texts::new();
    let mut rng = StdRng::seed_from_u64(seed);
    let source = Rows {
        texts: &texts,
        hierarchy: &hierarchy,
        month: period().bounds_ms(TZ),
        tz: TZ,
        api_key_id: key.key.id,
        seed,
    };
    const STATEMENT: u64 = 1_000;
    const TRANSACTION: u64 = 50_000;
    let mut serial = 0u64;
    while serial < rows {
        let txn = store.connection().begin().await?;
        let end = (serial + TRANSACTION).min(rows);
        while serial < end {
            let n = STATEMENT.min(end - serial);
            let mut feedback_rows = Vec::with_capacity(n as usize);
            let mut answers = Vec::new();
            for _ in 0..n {
                let (row, answer) = source.stored(&mut rng, serial);
                feedback_rows.push(row);
                answers.extend(answer);
                serial += 1;
            }
            boucle::store::feedback::insert_stored(&txn, &feedback_rows, key.key.id, &answers)
                .await?;
        }
        txn.commit().await?;
        if serial.is_multiple_of(1_000_000) || serial == rows {
            eprintln!("  generated {serial} / {rows} experiences");
        }
    }
    // Fresh statistics, as a production database would have. On SQLite, the planner's
    // table and index sizes only: the bundled library is built with STAT4, whose samples
    // make SQLite plan again every statement whose bound values might change its plan, on
    // every call (a third of a search's CPU; docs/decisions.md, « SQLite statistics »).
    let analyze = match store.backend() {
        sea_orm::DbBackend::Sqlite => "ANALYZE; DELETE FROM sqlite_stat4",
        _ => "VACUUM ANALYZE",
    };
    store.connection().execute_unprepared(analyze).await?;
    Ok(())
}

async fn baseline(settings: &boucle::store::DatabaseSettings) -> anyhow::Result<Duration> {
    let store = Store::connect(settings).await?;
    let bounds = period().bounds_ms(TZ);
    let mut best = Duration::MAX;
    // Twice: the second run finds the same warm cache boucle's run will find.
    for _ in 0..2 {
        let started = Instant::now();
        let result = store
            .connection()
            .query_all_raw(boucle::store::sql(
                store.backend(),
                HAND_GROUP_BY,
                vec![bounds.0.into(), bounds.1.into()],
            ))
            .await?;
        best = best.min(started.elapsed());
        anyhow::ensure!(!result.is_empty(), "the baseline counted nothing");
    }
    store.close().await?;
    Ok(best)
}

/// Runs boucle's aggregation in a child process (so that its peak memory is its own).
fn boucle_in_child(settings: &boucle::store::DatabaseSettings) -> anyhow::Result<(Duration, f64)> {
    let mut best = Duration::MAX;
    let mut peak_kb = 0u64;
    for _ in 0..2 {
        // Each run aggregates the month for the first time, as the monthly run does: the
        // figures of an earlier run are removed beforehand, untimed (a rerun replaces them,
        // which adds their deletion: about 1 s at 1M rows).
        tokio::runtime::Handle::current().block_on(clear_figures(settings))?;
        let started = Instant::now();
        let output = std::process::Command::new(std::env::current_exe()?)
            .args(["aggregate-child", "--database-url", &settings.url])
            .output()?;
        anyhow::ensure!(
            output.status.success(),
            "the aggregation failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        best = best.min(started.elapsed());
        let text = String::from_utf8_lossy(&output.stdout);
        let kb = text
            .lines()
            .find_map(|l| l.strip_prefix("peak_rss_kb="))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        peak_kb = peak_kb.max(kb);
    }
    Ok((best, peak_kb as f64 / 1024.0))
}

/// Removes the benchmark month's figures. On PostgreSQL the table is vacuumed too: each run
/// leaves 40,000 dead rows, and until autovacuum passes the next run's inserts go through
/// them (0.61 s against 0.34 s for the same `INSERT … SELECT` in psql), so that runs would
/// time the table's history rather than the code.
async fn clear_figures(settings: &boucle::store::DatabaseSettings) -> anyhow::Result<()> {
    let store = Store::connect(settings).await?;
    let db = store.connection();
    db.execute_raw(boucle::store::sql(
        db.get_database_backend(),
        "DELETE FROM location_figures WHERE period = $1",
        vec![period().to_string().into()],
    ))
    .await?;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("VACUUM location_figures").await?;
    }
    store.close().await?;
    Ok(())
}

/// The process's peak resident memory (VmHWM), in kB.
pub fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The child's work: the aggregation step exactly as `boucle-jobs aggregate` runs it.
pub async fn child(database_url: &str) -> anyhow::Result<()> {
    let store = Store::connect(&boucle::store::DatabaseSettings::new(database_url)).await?;
    let run = store
        .start_job_run(&period().to_string(), "aggregate", "bench")
        .await?;
    // Where the time goes, from the step's own progress marks: reading the locations ends at
    // mark 1, counting (with medians) at mark 2, computing at `total - 1`, storing at `total`.
    let started = Instant::now();
    let mut marks: Vec<(u64, Duration)> = Vec::new();
    let summary =
        boucle_jobs::aggregate::aggregate(&store, period(), TZ, None, run, &mut |done, total| {
            if done == 1 || done == 2 || done + 1 == total || done == total {
                marks.push((done, started.elapsed()));
            }
            Ok(())
        })
        .await?;
    store.finish_job_run(run, None).await?;
    anyhow::ensure!(summary.rows > 0, "nothing aggregated");
    if let [(_, located), (_, counted), (_, computed), (_, stored)] = marks[..] {
        eprintln!(
            "phases: locations {:.2} s, counting and medians {:.2} s, computing {:.2} s, storing {:.2} s",
            located.as_secs_f64(),
            (counted - located).as_secs_f64(),
            (computed - counted).as_secs_f64(),
            (stored - computed).as_secs_f64()
        );
    }
    store.close().await?;
    println!("peak_rss_kb={}", peak_rss_kb());
    Ok(())
}

pub async fn run(
    target: &Target,
    rows: u64,
    locations: usize,
    seed: u64,
) -> anyhow::Result<Outcome> {
    let (settings, generated_in) = ensure_data(target, rows, locations, seed).await?;
    let baseline = baseline(&settings).await?;
    let (boucle, peak_rss_mb) = tokio::task::block_in_place(|| boucle_in_child(&settings))?;
    Ok(Outcome {
        target: target.label(),
        rows,
        locations,
        generated_in,
        baseline,
        boucle,
        peak_rss_mb,
    })
}
