//! Structured logs with `tracing`: human-readable on a terminal, JSON lines otherwise (or
//! when asked). Level from `RUST_LOG` (default `info`). With an OTLP endpoint, the spans are
//! also exported as OpenTelemetry traces (`tracing-opentelemetry`).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Text on a terminal, JSON otherwise.
    Auto,
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(LogFormat::Auto),
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected auto, text or json".into()),
        }
    }
}

/// Installs the global subscriber; a second call (tests) is a no-op.
pub fn init(format: LogFormat) {
    // Without an exporter nothing can fail.
    let _ = init_with_traces(format, None, "boucle");
}

/// Whether the spans are exported (`--otlp-endpoint`): the call layer then gives them the
/// names and attributes of OpenTelemetry's RPC conventions.
static TRACES: AtomicBool = AtomicBool::new(false);

pub fn traces_enabled() -> bool {
    TRACES.load(Ordering::Relaxed)
}

/// What must be flushed before the process exits: the spans still in the exporter's batch.
#[must_use = "call shutdown() before exiting, or the last spans are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still waiting, then stops the exporter.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            eprintln!("traces: the last spans could not be exported: {e}");
        }
    }
}

/// [`init`], and with `otlp` (a collector's gRPC endpoint, `http://host:4317`) every span
/// also exported over OTLP, as `service`. Must be called inside the Tokio runtime (the
/// exporter's client lives there).
pub fn init_with_traces(
    format: LogFormat,
    otlp: Option<&str>,
    service: &'static str,
) -> Result<Telemetry, String> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let logs = if json {
        // The spans of the line once, outermost first, with their fields (the call's method
        // and key); the current span alone would repeat the list's last entry.
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .with_writer(std::io::stderr)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed()
    };
    let (provider, traces) = match otlp {
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()
                .map_err(|e| format!("--otlp-endpoint {endpoint}: {e}"))?;
            let provider = SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(Resource::builder().with_service_name(service).build())
                .build();
            let tracer = provider.tracer(service);
            (
                Some(provider),
                Some(tracing_opentelemetry::layer().with_tracer(tracer)),
            )
        }
        None => (None, None),
    };
    TRACES.store(traces.is_some(), Ordering::Relaxed);
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(traces)
        .try_init();
    Ok(Telemetry { provider })
}
