//! The monthly run of one period: aggregate, then export, under the period's lease, each
//! step recorded in `job_run`. Reports and delivery join the chain with their issue.

use std::path::PathBuf;

use boucle::domain::Period;
use boucle::store::Store;
use chrono_tz::Tz;
use uuid::Uuid;

use crate::JobError;
use crate::aggregate::{Progress, Summary, aggregate};
use crate::export::{Format, export};
use crate::lease::Lease;

#[derive(Clone, Debug)]
pub struct Options {
    pub tz: Tz,
    /// Restrict to the subtree of this location (id, code).
    pub root: Option<(Uuid, String)>,
    /// Where open-data files are written.
    pub out_dir: PathBuf,
    pub holder: String,
}

/// Runs one step under the lease, recording it.
async fn step<T>(
    store: &Store,
    period: Period,
    name: &str,
    opts: &Options,
    work: impl AsyncFnOnce(Uuid) -> Result<T, JobError>,
) -> Result<T, JobError> {
    let run = store
        .start_job_run(&period.to_string(), name, &opts.holder)
        .await?;
    let result = work(run).await;
    let error = result.as_ref().err().map(ToString::to_string);
    store.finish_job_run(run, error.as_deref()).await?;
    result
}

/// `aggregate` alone, under the lease.
pub async fn aggregate_period(
    store: &Store,
    period: Period,
    opts: &Options,
    progress: Progress<'_>,
) -> Result<Summary, JobError> {
    let lease = Lease::acquire(store, &period.to_string(), &opts.holder).await?;
    let result = step(store, period, "aggregate", opts, async |run| {
        aggregate(
            store,
            period,
            opts.tz,
            opts.root.as_ref().map(|r| r.0),
            run,
            progress,
        )
        .await
    })
    .await;
    lease.release().await?;
    result
}

/// `export` alone (CSV and JSON), under the lease.
pub async fn export_period(
    store: &Store,
    period: Period,
    opts: &Options,
    formats: &[Format],
) -> Result<Vec<PathBuf>, JobError> {
    let lease = Lease::acquire(store, &period.to_string(), &opts.holder).await?;
    let result = step(store, period, "export", opts, async |_| {
        let mut files = Vec::new();
        for format in formats {
            files.push(export(store, period, opts.root.clone(), *format, &opts.out_dir).await?);
        }
        Ok(files)
    })
    .await;
    lease.release().await?;
    result
}

/// The whole chain for a period: aggregate → export. Idempotent: a rerun replaces the
/// period's aggregates and rewrites identical files.
pub async fn run_period(
    store: &Store,
    period: Period,
    opts: &Options,
    progress: Progress<'_>,
) -> Result<(Summary, Vec<PathBuf>), JobError> {
    let lease = Lease::acquire(store, &period.to_string(), &opts.holder).await?;
    let result = step(store, period, "run", opts, async |_| {
        let summary = step(store, period, "aggregate", opts, async |run| {
            aggregate(
                store,
                period,
                opts.tz,
                opts.root.as_ref().map(|r| r.0),
                run,
                progress,
            )
            .await
        })
        .await?;
        let files = step(store, period, "export", opts, async |_| {
            let mut files = Vec::new();
            for format in [Format::Csv, Format::Json] {
                files.push(export(store, period, opts.root.clone(), format, &opts.out_dir).await?);
            }
            Ok(files)
        })
        .await?;
        Ok((summary, files))
    })
    .await;
    lease.release().await?;
    result
}
