//! The scheduler: at start, catch up every month not yet run successfully; then sleep until
//! the next cron occurrence (in the reporting time zone) and run the month that just ended.
//! A period that fails (the relay or the database down for longer than the run's own
//! retries) is tried again after a backoff — minutes, then hours, bounded — not at the next
//! monthly run; `boucle_jobs_consecutive_failures` counts the attempts that failed since the
//! last success, for an alert. A stop request (SIGTERM) lets the period in progress finish,
//! then returns.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use boucle::store::Store;
use chrono::Utc;
use croner::Cron;
use tokio::sync::Notify;

use crate::JobError;
use crate::pipeline::{Options, run_period_if_due};
use crate::retry::Backoff;
use crate::schedule::{missed_periods, next_run};

/// What one catch-up did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// Periods completed.
    pub done: usize,
    /// Periods that failed (to be retried).
    pub failed: usize,
}

/// Runs every missed period.
pub async fn catch_up(
    store: &Store,
    opts: &Options,
    stop: &AtomicBool,
) -> Result<CatchUp, JobError> {
    let succeeded = store.succeeded_periods("run").await?;
    let first = store.first_submission_ms().await?;
    let missed = missed_periods(first, &succeeded, boucle::store::now_ms(), opts.tz);
    let mut done = 0;
    let mut failed = 0;
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
            Err(e) => {
                failed += 1;
                tracing::error!(%period, error = %e, "period failed; it will be retried");
            }
        }
    }
    Ok(CatchUp { done, failed })
}

pub async fn daemon(
    store: &Store,
    cron: &Cron,
    opts: &Options,
    retry: Backoff,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), JobError> {
    let stop = Arc::new(AtomicBool::new(false));
    let wake = Arc::new(Notify::new());
    {
        let (stop, wake) = (stop.clone(), wake.clone());
        tokio::spawn(async move {
            shutdown.await;
            stop.store(true, Ordering::SeqCst);
            wake_up(&wake);
        });
    }
    tracing::info!(schedule = %cron.pattern, timezone = %opts.tz, "boucle-jobs daemon started");
    let metrics = crate::metrics::metrics();
    // Attempts in a row that left a period failed.
    let mut failures: u32 = 0;
    loop {
        match catch_up(store, opts, &stop).await {
            Ok(CatchUp { done, failed }) => {
                tracing::info!(periods = done, failed, "catch-up finished");
                failures = if failed > 0 { failures + 1 } else { 0 };
            }
            // The database itself was unreachable: like a failed period, tried again later.
            Err(e) => {
                tracing::error!(error = %e, "catch-up failed; it will be retried");
                failures += 1;
            }
        }
        metrics.consecutive_failures.set(i64::from(failures));
        if let Some(path) = &opts.metrics_file {
            metrics.write(path);
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Some(scheduled) = next_run(cron, Utc::now(), opts.tz) else {
            tracing::error!("the schedule never fires again");
            break;
        };
        let next = if failures > 0 {
            let delay = retry.delay(failures, &mut rand::rng());
            let retry_at =
                Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
            tracing::warn!(
                attempt = failures,
                retry_in_seconds = delay.as_secs(),
                "failed periods: retrying after a backoff"
            );
            retry_at.min(scheduled)
        } else {
            scheduled
        };
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tracing::info!(next = %next, "sleeping until the next run");
        sleep_unless_woken(wait, &wake).await;
        if stop.load(Ordering::SeqCst) {
            break;
        }
    }
    tracing::info!("boucle-jobs daemon stopped");
    Ok(())
}

/// Ends the daemon's current or next sleep. A permit is kept when the loop is not sleeping
/// yet (between its stop check and its sleep): a wake-up sent only to the tasks waiting at
/// that instant (`notify_waiters`) was lost there, and the daemon slept on until its next
/// monthly run with SIGTERM ignored.
fn wake_up(wake: &Notify) {
    wake.notify_one();
}

/// Sleeps for `wait`, or less if [`wake_up`] is called meanwhile or was before.
async fn sleep_unless_woken(wait: std::time::Duration, wake: &Notify) {
    tokio::select! {
        () = tokio::time::sleep(wait) => {}
        () = wake.notified() => {}
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_stop_requested_before_the_sleep_still_ends_it() {
        let wake = Notify::new();
        // SIGTERM arrives after the loop checked its stop flag, before it sleeps.
        wake_up(&wake);
        let start = tokio::time::Instant::now();
        sleep_unless_woken(Duration::from_secs(30 * 24 * 3600), &wake).await;
        assert_eq!(start.elapsed(), Duration::ZERO, "the daemon slept on");
    }
}
