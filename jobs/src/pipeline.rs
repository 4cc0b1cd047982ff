//! The monthly run of one period: aggregate → report → export → deliver, under the period's
//! lease, each step recorded in `job_run`. Every step is idempotent, so a run interrupted at
//! any point is completed by running it again.

use std::path::PathBuf;

use boucle::domain::Period;
use boucle::store::Store;
use chrono_tz::Tz;
use uuid::Uuid;

use crate::JobError;
use crate::aggregate::{Progress, Summary, aggregate};
use crate::lease::Lease;

/// The steps of a monthly run, in order, as progress names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Aggregate,
    Reports,
    OpenData,
    Delivery,
}

impl Step {
    pub fn label(self) -> &'static str {
        match self {
            Step::Aggregate => "aggregate",
            Step::Reports => "reports",
            Step::OpenData => "open data",
            Step::Delivery => "delivery",
        }
    }
}

/// Progress of a whole run: the step, then `(done, total)` within it.
pub type StepProgress<'a> = &'a mut (dyn FnMut(Step, u64, u64) -> Result<(), JobError> + Send);

#[derive(Clone, Debug)]
pub struct Options {
    pub tz: Tz,
    /// Restrict to the subtree of this location (id, code).
    pub root: Option<(Uuid, String)>,
    /// Where open-data files are written.
    pub out_dir: PathBuf,
    /// The address `out_dir` is served from, for the catalogue's absolute download
    /// addresses; `None` writes them relative to the catalogue.
    pub open_data_base_url: Option<url::Url>,
    pub holder: String,
    /// How long the period's lease outlives a crashed worker (see [`crate::lease`]).
    pub lease_ttl: std::time::Duration,
    /// SMTP relay, or the outbox folder.
    pub transport: crate::deliver::Transport,
    pub mail_from: String,
    /// How the delivery step is retried within a run (relay or database down for a while).
    pub retry: crate::retry::Retry,
    /// node_exporter textfile the metrics are written to after each step.
    pub metrics_file: Option<PathBuf>,
}

impl Options {
    fn root_id(&self) -> Option<Uuid> {
        self.root.as_ref().map(|r| r.0)
    }
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
    let started = std::time::Instant::now();
    let result = work(run).await;
    let error = result.as_ref().err().map(ToString::to_string);
    let metrics = crate::metrics::metrics();
    metrics.step(
        name,
        period,
        started.elapsed(),
        &result.as_ref().map(|_| ()),
    );
    if let Some(path) = &opts.metrics_file {
        metrics.write(path);
    }
    store.finish_job_run(run, error.as_deref()).await?;
    result
}

/// `work` under the period's lease (released whatever the outcome; after a crash it expires).
/// If the lease is lost meanwhile, `work` is dropped at its next await point and the answer
/// is [`JobError::LeaseLost`]: what it left is what a crash there would leave, which every
/// step is built to survive (transactions roll back, files are renamed into place whole,
/// a rerun completes the period).
pub async fn with_lease<T>(
    store: &Store,
    period: Period,
    opts: &Options,
    work: impl AsyncFnOnce() -> Result<T, JobError>,
) -> Result<T, JobError> {
    let lease = Lease::acquire(store, &period.to_string(), &opts.holder, opts.lease_ttl).await?;
    let result = tokio::select! {
        result = work() => result,
        () = lease.lost() => Err(JobError::LeaseLost(period.to_string())),
    };
    // Only deletes the lease if it is still ours.
    lease.release().await?;
    result
}

/// One step under the period's lease.
async fn leased<T>(
    store: &Store,
    period: Period,
    name: &str,
    opts: &Options,
    work: impl AsyncFnOnce(Uuid) -> Result<T, JobError>,
) -> Result<T, JobError> {
    with_lease(store, period, opts, async || {
        step(store, period, name, opts, work).await
    })
    .await
}

/// `aggregate` alone, under the lease.
pub async fn aggregate_period(
    store: &Store,
    period: Period,
    opts: &Options,
    progress: Progress<'_>,
) -> Result<Summary, JobError> {
    leased(store, period, "aggregate", opts, async |run| {
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
    .await
}

/// The open data of the period (see [`crate::open_data`]).
async fn export_open_data(
    store: &Store,
    period: Period,
    opts: &Options,
) -> Result<crate::open_data::Exported, JobError> {
    crate::open_data::export(
        store,
        period,
        opts.tz,
        opts.root.clone(),
        &opts.out_dir,
        opts.open_data_base_url.as_ref(),
    )
    .await
}

/// `export` alone, under the lease.
pub async fn export_period(
    store: &Store,
    period: Period,
    opts: &Options,
) -> Result<crate::open_data::Exported, JobError> {
    leased(store, period, "export", opts, async |_| {
        export_open_data(store, period, opts).await
    })
    .await
}

/// `report` alone, under the lease.
pub async fn report_period(
    store: &Store,
    period: Period,
    opts: &Options,
    progress: Progress<'_>,
) -> Result<crate::report::Summary, JobError> {
    leased(store, period, "report", opts, async |_| {
        crate::report::report_period(
            store,
            period,
            opts.tz,
            opts.root_id(),
            &opts.out_dir,
            progress,
        )
        .await
    })
    .await
}

/// `deliver` alone, under the lease.
pub async fn deliver_period(
    store: &Store,
    period: Period,
    opts: &Options,
) -> Result<crate::deliver::Summary, JobError> {
    leased(store, period, "deliver", opts, async |_| {
        deliver(store, period, opts).await
    })
    .await
}

/// The delivery, retried within the run while the relay or the database fails for a
/// while (`opts.retry`): each attempt sends only what no earlier one recorded as sent, and
/// a message that may have left is never sent again (`deliver::settle_pending`).
async fn deliver(
    store: &Store,
    period: Period,
    opts: &Options,
) -> Result<crate::deliver::Summary, JobError> {
    opts.retry
        .run("deliver", async || {
            crate::deliver::deliver_period(
                store,
                period,
                opts.root_id(),
                &opts.transport,
                &opts.mail_from,
            )
            .await
        })
        .await
}

/// Settles an uncertain message (see `deliver::settle_pending`) once the SMTP relay's log has
/// told whether it left: `sent` records its report versions as delivered, otherwise they are
/// forgotten and the next delivery of the month sends them. Under the month's lease, so a
/// delivery of that month never sees it half settled. `message_id` may keep its angle
/// brackets. Answers the message as it was pending, and its month.
pub async fn settle_uncertain(
    store: &Store,
    opts: &Options,
    message_id: &str,
    sent: bool,
) -> Result<(boucle::store::reports::PendingMessage, Period), JobError> {
    let id = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let Some(message) = store
        .pending_messages()
        .await?
        .into_iter()
        .find(|m| m.message_id == id)
    else {
        return Err(JobError::Interrupted(format!(
            "no uncertain message <{id}> (see `boucle-jobs uncertain`)"
        )));
    };
    let period: Period = message
        .period
        .parse()
        .map_err(|e| boucle::Error::Internal(format!("delivery of <{id}>: stored period: {e}")))?;
    let settled = with_lease(store, period, opts, async || {
        Ok(if sent {
            store.mark_delivered(id).await?
        } else {
            store.forget_pending_delivery(id).await?
        })
    })
    .await?;
    if settled == 0 {
        // Settled by someone else between the listing and the lease.
        return Err(JobError::Interrupted(format!(
            "<{id}> was settled meanwhile (see `boucle-jobs uncertain`)"
        )));
    }
    tracing::info!(message_id = %id, %period, sent, "uncertain message settled");
    Ok((message, period))
}

/// What a whole run did.
#[derive(Clone, Debug)]
pub struct RunSummary {
    pub aggregate: Summary,
    pub reports: crate::report::Summary,
    pub files: Vec<PathBuf>,
    pub delivery: crate::deliver::Summary,
}

/// The whole chain for a period: aggregate → report → export → deliver. Idempotent: a rerun
/// replaces the period's aggregates, leaves identical files alone and sends nothing twice.
pub async fn run_period(
    store: &Store,
    period: Period,
    opts: &Options,
    progress: StepProgress<'_>,
) -> Result<RunSummary, JobError> {
    with_lease(store, period, opts, async || {
        run_steps(store, period, opts, progress).await
    })
    .await
}

/// The scheduler's run: like [`run_period`], but a period whose run has succeeded since the
/// scheduler listed it is skipped (`None`). The check is made under the lease, so two
/// daemons started together never both run a period.
pub async fn run_period_if_due(
    store: &Store,
    period: Period,
    opts: &Options,
    progress: StepProgress<'_>,
) -> Result<Option<RunSummary>, JobError> {
    with_lease(store, period, opts, async || {
        if store.step_succeeded(&period.to_string(), "run").await? {
            return Ok(None);
        }
        run_steps(store, period, opts, progress).await.map(Some)
    })
    .await
}

/// The four steps, recorded as one `run`; the caller holds the lease.
async fn run_steps(
    store: &Store,
    period: Period,
    opts: &Options,
    progress: StepProgress<'_>,
) -> Result<RunSummary, JobError> {
    step(store, period, "run", opts, async |_| {
        let aggregate = step(store, period, "aggregate", opts, async |run| {
            let mut within = |done, total| progress(Step::Aggregate, done, total);
            aggregate(store, period, opts.tz, opts.root_id(), run, &mut within).await
        })
        .await?;
        let reports = step(store, period, "report", opts, async |_| {
            let mut within = |done, total| progress(Step::Reports, done, total);
            crate::report::report_period(
                store,
                period,
                opts.tz,
                opts.root_id(),
                &opts.out_dir,
                &mut within,
            )
            .await
        })
        .await?;
        let files = step(store, period, "export", opts, async |_| {
            progress(Step::OpenData, 0, 1)?;
            let exported = export_open_data(store, period, opts).await?;
            progress(Step::OpenData, 1, 1)?;
            Ok(exported.files.into_iter().map(|w| w.path).collect())
        })
        .await?;
        let delivery = step(store, period, "deliver", opts, async |_| {
            progress(Step::Delivery, 0, 1)?;
            let delivered = deliver(store, period, opts).await?;
            progress(Step::Delivery, 1, 1)?;
            Ok(delivered)
        })
        .await?;
        Ok(RunSummary {
            aggregate,
            reports,
            files,
            delivery,
        })
    })
    .await
}
