//! Reports: every PDF of a month for the 20,000 locations of the aggregation data set (one
//! per location, plus a summary per location with children), built from the database,
//! rendered, written atomically and recorded — as `boucle-jobs report` does.

use std::time::Instant;

use crate::aggregate::{TZ, ensure_aggregated, period};
use crate::db::{Target, bench_dir};

pub struct Outcome {
    pub target: &'static str,
    pub reports: usize,
    pub seconds: f64,
    pub cpu_seconds: f64,
    pub mean_kb: f64,
    pub max_kb: f64,
}

pub async fn run(
    target: &Target,
    rows: u64,
    locations: usize,
    seed: u64,
) -> anyhow::Result<Outcome> {
    let settings = ensure_aggregated(target, rows, locations, seed).await?;
    let store = boucle::store::Store::connect(&settings).await?;

    let out = bench_dir().join(format!("reports-{}", target.label()));
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    let cpu = crate::load::cpu_seconds();
    let started = Instant::now();
    let summary =
        boucle_jobs::report::report_period(&store, period(), TZ, None, &out, &mut |_, _| Ok(()))
            .await?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = crate::load::cpu_seconds() - cpu;
    let mut sizes = Vec::new();
    for entry in std::fs::read_dir(boucle_jobs::report::period_dir(&out, period()))? {
        let entry = entry?;
        if entry.path().extension().is_some_and(|e| e == "pdf") {
            sizes.push(entry.metadata()?.len() as f64 / 1024.0);
        }
    }
    store.close().await?;
    anyhow::ensure!(
        summary.written == sizes.len(),
        "written {} but found {}",
        summary.written,
        sizes.len()
    );
    Ok(Outcome {
        target: target.label(),
        reports: sizes.len(),
        seconds,
        cpu_seconds,
        mean_kb: sizes.iter().sum::<f64>() / sizes.len().max(1) as f64,
        max_kb: sizes.iter().copied().fold(0.0, f64::max),
    })
}
