//! What the jobs tell Prometheus, through node_exporter's textfile collector: a batch runs
//! now and then, so it writes its metrics to a file (`--metrics-textfile`, ending in
//! `.prom`, in the collector's folder) after each step, rather than serving them.
//!
//! - `boucle_jobs_step_runs_total{step,outcome}`: steps run, `success` or `failure`;
//! - `boucle_jobs_step_duration_seconds{step}`: how long the last run of each step took;
//! - `boucle_jobs_last_success_timestamp_seconds{step}` and
//!   `boucle_jobs_last_success_period{step}` (as YYYYMM) of the last successful run;
//! - `boucle_jobs_retries_total{step}`: retries after a transient failure;
//! - `boucle_jobs_consecutive_failures`: the daemon's failed attempts at a period since
//!   the last success — the one to alert on (say, above 3: a month not published for hours).

use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

use boucle::domain::Period;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::JobError;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StepLabel {
    pub step: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub step: String,
    pub outcome: &'static str,
}

pub struct Metrics {
    runs: Family<OutcomeLabels, Counter>,
    duration: Family<StepLabel, Gauge<f64, std::sync::atomic::AtomicU64>>,
    last_success: Family<StepLabel, Gauge>,
    last_period: Family<StepLabel, Gauge>,
    retries: Family<StepLabel, Counter>,
    pub consecutive_failures: Gauge,
    registry: Registry,
}

impl Metrics {
    fn new() -> Self {
        let m = Self {
            runs: Family::default(),
            duration: Family::default(),
            last_success: Family::default(),
            last_period: Family::default(),
            retries: Family::default(),
            consecutive_failures: Gauge::default(),
            registry: Registry::default(),
        };
        let mut registry = Registry::default();
        registry.register(
            "boucle_jobs_step_runs",
            "Steps run, by outcome",
            m.runs.clone(),
        );
        registry.register(
            "boucle_jobs_step_duration_seconds",
            "Duration of the last run of each step",
            m.duration.clone(),
        );
        registry.register(
            "boucle_jobs_last_success_timestamp_seconds",
            "When each step last succeeded (Unix seconds)",
            m.last_success.clone(),
        );
        registry.register(
            "boucle_jobs_last_success_period",
            "The period (YYYYMM) each step last succeeded for",
            m.last_period.clone(),
        );
        registry.register(
            "boucle_jobs_retries",
            "Retries after a transient failure, by step",
            m.retries.clone(),
        );
        registry.register(
            "boucle_jobs_consecutive_failures",
            "Failed attempts at a period since the last success (alert on it)",
            m.consecutive_failures.clone(),
        );
        Self { registry, ..m }
    }

    /// Records one run of `step`.
    pub fn step(&self, step: &str, period: Period, took: Duration, result: &Result<(), &JobError>) {
        let label = StepLabel {
            step: step.to_owned(),
        };
        let outcome = if result.is_ok() { "success" } else { "failure" };
        self.runs
            .get_or_create(&OutcomeLabels {
                step: step.to_owned(),
                outcome,
            })
            .inc();
        self.duration.get_or_create(&label).set(took.as_secs_f64());
        if result.is_ok() {
            self.last_success
                .get_or_create(&label)
                .set(boucle::store::now_ms() / 1000);
            self.last_period
                .get_or_create(&label)
                .set(i64::from(period.year()) * 100 + i64::from(period.month()));
        }
    }

    pub fn retried(&self, step: &str) {
        self.retries
            .get_or_create(&StepLabel {
                step: step.to_owned(),
            })
            .inc();
    }

    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }

    /// Writes every metric to `path`, whole (a temporary file renamed into place, as the
    /// textfile collector asks).
    pub fn write(&self, path: &Path) {
        let written = self
            .encode()
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|text| {
                crate::export::write_atomically(path, text.as_bytes())
                    .map_err(|e| std::io::Error::other(e.to_string()))
            });
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "metrics file not written");
        }
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

pub fn metrics() -> &'static Metrics {
    &METRICS
}
