//! Open data: the month's three datasets and their cumulated files for the aggregation data
//! set (1.22M experiences, 82 % published: about a million in the expériences files),
//! written by `boucle_jobs::open_data::export` in a child process, whose peak memory is the
//! figure (goal: at most 100 MB whatever the number of experiences), beside its throughput.

use std::time::Instant;

use crate::aggregate::{TZ, ensure_aggregated, peak_rss_kb, period};
use crate::db::{Target, bench_dir};

pub struct Outcome {
    pub target: &'static str,
    pub published: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub peak_rss_mb: f64,
    pub idle_rss_mb: f64,
}

/// The child's work: the export step as `boucle-jobs export` runs it (or, with `idle`, only
/// opening the store: the memory of the process itself).
pub async fn child(database_url: &str, out: &str, idle: bool) -> anyhow::Result<()> {
    let store =
        boucle::store::Store::connect(&boucle::store::DatabaseSettings::new(database_url)).await?;
    if !idle {
        let exported = boucle_jobs::open_data::export(
            &store,
            period(),
            TZ,
            None,
            std::path::Path::new(out),
            None,
        )
        .await?;
        let published = exported
            .rows
            .iter()
            .find(|(name, _)| name == "experiences")
            .map_or(0, |r| r.1);
        let bytes: u64 = exported.files.iter().map(|f| f.size).sum();
        println!("published={published}");
        println!("bytes={bytes}");
    }
    store.close().await?;
    println!("peak_rss_kb={}", peak_rss_kb());
    Ok(())
}

fn value(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn in_child(url: &str, out: &std::path::Path, idle: bool) -> anyhow::Result<String> {
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command.args([
        "export-child",
        "--database-url",
        url,
        "--out",
        &out.display().to_string(),
    ]);
    if idle {
        command.arg("--idle");
    }
    let output = command.output()?;
    anyhow::ensure!(
        output.status.success(),
        "the export failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

pub async fn run(
    target: &Target,
    rows: u64,
    locations: usize,
    seed: u64,
) -> anyhow::Result<Outcome> {
    let settings = ensure_aggregated(target, rows, locations, seed).await?;
    let out = bench_dir().join(format!("open-data-{}", target.label()));
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    let idle = tokio::task::block_in_place(|| in_child(&settings.url, &out, true))?;
    let started = Instant::now();
    let text = tokio::task::block_in_place(|| in_child(&settings.url, &out, false))?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(Outcome {
        target: target.label(),
        published: value(&text, "published="),
        bytes: value(&text, "bytes="),
        seconds,
        peak_rss_mb: value(&text, "peak_rss_kb=") as f64 / 1024.0,
        idle_rss_mb: value(&idle, "peak_rss_kb=") as f64 / 1024.0,
    })
}
