//! The server's metrics, in one registry: what Prometheus scrapes on `--metrics-listen`.
//!
//! The gRPC families carry the names and labels of the go-grpc-prometheus convention
//! (`grpc_server_started_total`, `grpc_server_handled_total`, `grpc_server_handling_seconds`
//! with `grpc_type`, `grpc_service`, `grpc_method`, `grpc_code`), so existing dashboards and
//! alerts work unchanged; boucle's own are prefixed `boucle_`. Label values are a fixed set
//! (the API's methods, the status codes, the kinds): a client cannot create series by
//! sending unknown paths, which are counted under `unknown`.
//!
//! One process-wide set ([`metrics`]), like every Prometheus client's default registry: the
//! counters are written from the places that know (the call layer of the server, the
//! overload and rate limits, the capture path), and the gauges that describe a state (pool,
//! queue) are read at scrape time by the server.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::domain::codes::PersonalDataKind;

/// A method of the API, as the gRPC families label it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    pub grpc_type: &'static str,
    pub grpc_service: &'static str,
    pub grpc_method: &'static str,
}

/// A method and the status code it answered.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HandledLabels {
    pub grpc_type: &'static str,
    pub grpc_service: &'static str,
    pub grpc_method: &'static str,
    pub grpc_code: &'static str,
}

/// One value of a single label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: &'static str,
}

/// A public cache's answer kind (`location_results`, `search`) and whether it was a hit.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabel {
    pub answer: &'static str,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Seconds, from 1 ms to 10 s: the go-grpc-prometheus default buckets, with two below 5 ms
/// where most of boucle's calls fall.
const SECONDS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Experiences per capture transaction: powers of two up to the group commit's batch.
const BATCH: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

fn handling_histogram() -> Histogram {
    Histogram::new(SECONDS)
}

/// Every metric of the server.
pub struct Metrics {
    pub started: Family<CallLabels, Counter>,
    pub handled: Family<HandledLabels, Counter>,
    pub handling_seconds: HistogramFamily<CallLabels>,
    /// Calls being served, whatever their service (health and reflection included).
    pub in_flight: Gauge,
    /// Calls refused by the in-flight budgets, by budget.
    pub shed: Family<ReasonLabel, Counter>,
    /// Calls refused by a rate limit, by limit.
    pub rate_limited: Family<KindLabel, Counter>,
    pub capture_batch_size: Histogram,
    pub capture_queue_depth: Gauge,
    pub pool_connections: Family<StateLabel, Gauge>,
    pub pool_max_connections: Gauge,
    pub public_cache: Family<CacheLabel, Counter>,
    /// Personal data masked in newly captured experiences, by kind.
    pub redactions: Family<KindLabel, Counter>,
    registry: Registry,
}

impl Metrics {
    fn new() -> Self {
        let started = Family::<CallLabels, Counter>::default();
        let handled = Family::<HandledLabels, Counter>::default();
        let handling_seconds: HistogramFamily<CallLabels> =
            Family::new_with_constructor(handling_histogram);
        let in_flight = Gauge::default();
        let shed = Family::<ReasonLabel, Counter>::default();
        let rate_limited = Family::<KindLabel, Counter>::default();
        let capture_batch_size = Histogram::new(BATCH);
        let capture_queue_depth = Gauge::default();
        let pool_connections = Family::<StateLabel, Gauge>::default();
        let pool_max_connections = Gauge::default();
        let public_cache = Family::<CacheLabel, Counter>::default();
        let redactions = Family::<KindLabel, Counter>::default();

        let mut registry = Registry::default();
        registry.register(
            "grpc_server_started",
            "RPCs started on the server",
            started.clone(),
        );
        registry.register(
            "grpc_server_handled",
            "RPCs completed on the server, by status code",
            handled.clone(),
        );
        registry.register(
            "grpc_server_handling_seconds",
            "Time from the call's arrival to the end of its answer",
            handling_seconds.clone(),
        );
        registry.register(
            "boucle_calls_in_flight",
            "Calls being served",
            in_flight.clone(),
        );
        registry.register(
            "boucle_calls_shed",
            "Calls refused by an in-flight budget: authenticated, keyless or per_peer",
            shed.clone(),
        );
        registry.register(
            "boucle_calls_rate_limited",
            "Calls refused by a rate limit",
            rate_limited.clone(),
        );
        registry.register(
            "boucle_capture_batch_size",
            "Experiences stored per capture transaction (group commit)",
            capture_batch_size.clone(),
        );
        registry.register(
            "boucle_capture_queue_depth",
            "Submissions waiting for the capture writer",
            capture_queue_depth.clone(),
        );
        registry.register(
            "boucle_db_pool_connections",
            "Database connections of the pool, by state",
            pool_connections.clone(),
        );
        registry.register(
            "boucle_db_pool_max_connections",
            "Most connections the pool opens",
            pool_max_connections.clone(),
        );
        registry.register(
            "boucle_public_cache_requests",
            "Public answers (results, search), from the cache (hit) or built (miss)",
            public_cache.clone(),
        );
        registry.register(
            "boucle_redaction_detections",
            "Personal data masked in newly captured experiences, by kind",
            redactions.clone(),
        );
        Self {
            started,
            handled,
            handling_seconds,
            in_flight,
            shed,
            rate_limited,
            capture_batch_size,
            capture_queue_depth,
            pool_connections,
            pool_max_connections,
            public_cache,
            redactions,
            registry,
        }
    }

    /// Counts the kinds of personal data masked in one stored experience.
    pub fn redacted<'a>(&self, kinds: impl IntoIterator<Item = &'a PersonalDataKind>) {
        for &kind in kinds {
            self.redactions
                .get_or_create(&KindLabel { kind: kind.code() })
                .inc();
        }
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// The content type of [`Metrics::encode`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grpc_families_have_the_conventional_names() {
        let m = Metrics::new();
        let labels = CallLabels {
            grpc_type: "unary",
            grpc_service: "boucle.v1.FeedbackService",
            grpc_method: "SubmitFeedback",
        };
        m.started.get_or_create(&labels).inc();
        m.handled
            .get_or_create(&HandledLabels {
                grpc_type: labels.grpc_type,
                grpc_service: labels.grpc_service,
                grpc_method: labels.grpc_method,
                grpc_code: "OK",
            })
            .inc();
        m.handling_seconds.get_or_create(&labels).observe(0.002);
        m.redacted(&[PersonalDataKind::Email]);
        let text = m.encode().unwrap_or_default();
        for line in [
            "grpc_server_started_total{grpc_type=\"unary\",grpc_service=\"boucle.v1.FeedbackService\",grpc_method=\"SubmitFeedback\"} 1",
            "grpc_server_handled_total{grpc_type=\"unary\",grpc_service=\"boucle.v1.FeedbackService\",grpc_method=\"SubmitFeedback\",grpc_code=\"OK\"} 1",
            "grpc_server_handling_seconds_bucket{le=\"0.0025\",grpc_type=\"unary\",grpc_service=\"boucle.v1.FeedbackService\",grpc_method=\"SubmitFeedback\"} 1",
            "boucle_redaction_detections_total{kind=\"EMAIL\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
