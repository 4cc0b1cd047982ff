//! The scheduler: at start, catch up every month not yet run successfully; then sleep until
//! the next cron occurrence (in the reporting time zone) and run the month that just ended.
//! A stop request (SIGTERM) lets the period in progress finish, then returns.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use boucle::store::Store;
use chrono::Utc;
use croner::Cron;
use tokio::sync::Notify;

use crate::JobError;
use crate::pipeline::{Options, run_period_if_due};
use crate::schedule::{missed_periods, next_run};

/// Runs every missed period; returns how many completed.
pub async fn catch_up(store: &Store, opts: &Options, stop: &AtomicBool) -> Result<usize, JobError> {
    let succeeded = store.succeeded_periods("run").await?;
    let first = store.first_submission_ms().await?;
    let missed = missed_periods(first, &succeeded, boucle::store::now_ms(), opts.tz);
    let mut done = 0;
    for period in missed {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let mut quiet = |_, _: u64, _: u64| Ok(());
        match run_period_if_due(store, period, opts, &mut quiet).await {
            Ok(None) => tracing::info!(%period, "period completed by another worker"),
            Ok(Some(summary)) => {
                done += 1;
                tracing::info!(%period, locations = summary.aggregate.locations, reports = summary.reports.written, messages = summary.delivery.messages, "period completed");
            }
            Err(JobError::Busy(_)) => {
                tracing::info!(%period, "period held by another worker, skipped")
            }
            Err(JobError::LeaseLost(_)) => {
                tracing::warn!(%period, "period taken over by another worker during the run")
            }
            Err(e) => tracing::error!(%period, error = %e, "period failed; it will be retried"),
        }
    }
    Ok(done)
}

pub async fn daemon(
    store: &Store,
    cron: &Cron,
    opts: &Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), JobError> {
    let stop = Arc::new(AtomicBool::new(false));
    let wake = Arc::new(Notify::new());
    {
        let (stop, wake) = (stop.clone(), wake.clone());
        tokio::spawn(async move {
            shutdown.await;
            stop.store(true, Ordering::SeqCst);
            wake.notify_waiters();
        });
    }
    tracing::info!(schedule = %cron.pattern, timezone = %opts.tz, "boucle-jobs daemon started");
    loop {
        let done = catch_up(store, opts, &stop).await?;
        tracing::info!(periods = done, "catch-up finished");
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Some(next) = next_run(cron, Utc::now(), opts.tz) else {
            tracing::error!("the schedule never fires again");
            break;
        };
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tracing::info!(next = %next, "sleeping until the next run");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {}
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
    }
    tracing::info!("boucle-jobs daemon stopped");
    Ok(())
}
