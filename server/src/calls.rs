//! Every call, seen once: its request id, its span, its access-log line and its metrics.
//!
//! [`CallLayer`] sits just inside grpc-web, so it sees every call as native gRPC — answered,
//! failed, refused by the access rules, shed by the in-flight budgets, cancelled by the
//! client — and records it when its answer ends:
//! - the request id: the client's `x-request-id` when it is a plausible id
//!   ([`request_id`]), a new UUID v7 otherwise; it is returned in the response metadata and
//!   carried by the call's span, so every log line of the call holds it;
//! - one access-log line (target `boucle::access`): service, method, gRPC status code,
//!   latency, peer, key id (never the secret), request id, request and response sizes;
//! - the gRPC metrics of [`boucle::metrics`] (started, handled by code, handling seconds).
//!
//! A call is finished when its response body ends or is dropped: a body dropped before its
//! end (the client went away) is CANCELLED, as gRPC servers report it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};
use std::task::{Context, Poll};

use boucle::metrics::{CallLabels, HandledLabels, metrics};
use bytes::Bytes;
use futures::future::BoxFuture;
use http::HeaderValue;
use http_body::{Body, Frame, SizeHint};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;
use prost::Message;
use tokio::time::Instant;
use tonic::Code;
use tracing::Instrument;
use uuid::Uuid;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The header a call's id travels in, both ways.
pub const REQUEST_ID: &str = "x-request-id";
/// The longest client request id kept.
const MAX_REQUEST_ID: usize = 128;

/// A method of the services the server answers, as the metrics label it, with its series
/// looked up once (a call then only increments them).
#[derive(Debug)]
struct Method {
    labels: CallLabels,
    /// Health and reflection: logged at DEBUG, since load balancers call them every second.
    quiet: bool,
    started: Counter,
    seconds: Histogram,
    /// By status code, created at the first call that answers it (no series of zeros).
    handled: [OnceLock<Counter>; 17],
}

impl Method {
    fn new(labels: CallLabels, quiet: bool) -> Self {
        let m = metrics();
        Self {
            started: m.started.get_or_create(&labels).clone(),
            seconds: m.handling_seconds.get_or_create(&labels).clone(),
            handled: Default::default(),
            labels,
            quiet,
        }
    }

    fn handled(&self, code: Code) -> &Counter {
        self.handled[code as usize % 17].get_or_init(|| {
            metrics()
                .handled
                .get_or_create(&HandledLabels {
                    grpc_type: self.labels.grpc_type,
                    grpc_service: self.labels.grpc_service,
                    grpc_method: self.labels.grpc_method,
                    grpc_code: code_name(code),
                })
                .clone()
        })
    }
}

/// Every path the server does not serve.
static UNKNOWN: LazyLock<Method> = LazyLock::new(|| {
    Method::new(
        CallLabels {
            grpc_type: "unknown",
            grpc_service: "unknown",
            grpc_method: "unknown",
        },
        false,
    )
});

/// Every method of the served descriptor sets, by path (`/package.Service/Method`).
static METHODS: LazyLock<HashMap<String, Method>> = LazyLock::new(|| {
    let mut methods = HashMap::new();
    let sets = [
        (boucle::pb::FILE_DESCRIPTOR_SET, false),
        (tonic_health::pb::FILE_DESCRIPTOR_SET, true),
        (tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET, true),
        (tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET, true),
    ];
    for (bytes, quiet) in sets {
        // The sets are compiled in; one that does not decode only leaves its methods
        // labelled `unknown`.
        let Ok(set) = prost_types::FileDescriptorSet::decode(bytes) else {
            continue;
        };
        for file in set.file {
            for service in &file.service {
                let full = leak(format!("{}.{}", file.package(), service.name()));
                for method in &service.method {
                    let grpc_type = match (method.client_streaming(), method.server_streaming()) {
                        (false, false) => "unary",
                        (true, false) => "client_stream",
                        (false, true) => "server_stream",
                        (true, true) => "bidi_stream",
                    };
                    let name = leak(method.name().to_owned());
                    methods.insert(
                        format!("/{full}/{name}"),
                        Method::new(
                            CallLabels {
                                grpc_type,
                                grpc_service: full,
                                grpc_method: name,
                            },
                            quiet,
                        ),
                    );
                }
            }
        }
    }
    methods
});

/// The names of the served methods live as long as the process: built once, above.
fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

fn method(path: &str) -> &'static Method {
    METHODS.get(path).unwrap_or_else(|| &*UNKNOWN)
}

/// The request id of a call: the client's when it is 1 to 128 characters among ASCII
/// letters, digits and `-_.:/+=@` (what tracing systems and proxies send: UUIDs, ULIDs,
/// W3C trace ids, `req-…`), otherwise a new UUID v7. Anything else — too long, spaces,
/// controls, non-ASCII — would let a client write into the operators' logs, and is
/// replaced.
pub fn request_id(headers: &http::HeaderMap) -> (HeaderValue, bool) {
    if let Some(value) = headers.get(REQUEST_ID) {
        let bytes = value.as_bytes();
        if (1..=MAX_REQUEST_ID).contains(&bytes.len())
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(b))
        {
            return (value.clone(), true);
        }
    }
    let generated = Uuid::now_v7().to_string();
    // A UUID's text is always a valid header value.
    let value = HeaderValue::from_str(&generated).unwrap_or(HeaderValue::from_static("-"));
    (value, false)
}

/// What the layers inside learn about a call and the access line reports: the key that
/// was authenticated (set by [`crate::access`]).
#[derive(Debug, Default)]
pub struct CallRecord {
    key: OnceLock<Uuid>,
    request_bytes: AtomicU64,
}

impl CallRecord {
    pub fn set_key(&self, key: Uuid) {
        let _ = self.key.set(key);
    }
}

/// Observes every call (see the module's documentation).
#[derive(Clone, Copy, Debug, Default)]
pub struct CallLayer;

impl<S> tower::Layer<S> for CallLayer {
    type Service = Calls<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Calls { inner }
    }
}

#[derive(Clone)]
pub struct Calls<S> {
    inner: S,
}

impl<S, B, RB> tower::Service<http::Request<B>> for Calls<S>
where
    S: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<RB>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Body<Data = Bytes> + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
    RB: Body<Data = Bytes> + Unpin + Send + 'static,
    RB::Error: Into<BoxError>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let start = Instant::now();
        let path = request.uri().path();
        let method = method(path);
        let (request_id, from_client) = request_id(request.headers());
        let peer = crate::peer::remote_addr(request.extensions());
        let id = request_id.to_str().unwrap_or("-");
        let traced = boucle::telemetry::traces_enabled();
        let span = if traced {
            // OpenTelemetry's RPC conventions: `package.Service/Method`, kind server, the
            // rpc.* attributes, the status code once known.
            let labels = &method.labels;
            tracing::info_span!(
                "grpc",
                method = %path,
                request_id = %id,
                key = tracing::field::Empty,
                otel.name = path.strip_prefix('/').unwrap_or(path),
                otel.kind = "server",
                otel.status_code = tracing::field::Empty,
                rpc.system = "grpc",
                rpc.service = labels.grpc_service,
                rpc.method = labels.grpc_method,
                rpc.grpc.status_code = tracing::field::Empty,
            )
        } else {
            tracing::info_span!(
                "grpc",
                method = %path,
                request_id = %id,
                key = tracing::field::Empty,
            )
        };
        if !from_client && request.headers().contains_key(REQUEST_ID) {
            span.in_scope(|| tracing::debug!("the client's x-request-id was refused: replaced"));
        }
        let record = Arc::new(CallRecord::default());
        let finish = Finish {
            start,
            method,
            path: std::ptr::eq(method, &*UNKNOWN).then(|| bounded(path)),
            request_id: request_id.clone(),
            peer,
            record: record.clone(),
            code: None,
            response_bytes: 0,
            traced: traced.then(|| span.clone()),
        };
        method.started.inc();
        metrics().in_flight.inc();

        let mut request = request.map(|body| {
            tonic::body::Body::new(Counted {
                inner: body,
                record: record.clone(),
            })
        });
        request.extensions_mut().insert(record);
        // The service that was made ready is the one to call (tower's contract).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut pending = Pending(Some(finish));
            let response = inner.call(request).instrument(span).await;
            let mut response = match response {
                Ok(response) => response,
                Err(e) => {
                    if let Some(f) = pending.0.as_mut() {
                        f.code = Some(Code::Internal);
                    }
                    return Err(e);
                }
            };
            let mut finish = pending.0.take();
            response.headers_mut().insert(REQUEST_ID, request_id);
            // A trailers-only answer (every error the layers give) has its status here.
            if let Some(f) = finish.as_mut() {
                f.code = response
                    .headers()
                    .get("grpc-status")
                    .map(|v| Code::from_bytes(v.as_bytes()));
            }
            Ok(response.map(|body| {
                tonic::body::Body::new(Observed {
                    inner: body,
                    finish,
                    ended: false,
                })
            }))
        })
    }
}

/// An unknown path, as logged: at most 128 characters (the URI has only visible ASCII).
fn bounded(path: &str) -> Box<str> {
    path.chars().take(128).collect::<String>().into_boxed_str()
}

/// What the access line and the metrics need once the call ends.
struct Finish {
    start: Instant,
    method: &'static Method,
    /// The path of a call to no known method.
    path: Option<Box<str>>,
    request_id: HeaderValue,
    peer: Option<SocketAddr>,
    record: Arc<CallRecord>,
    code: Option<Code>,
    response_bytes: u64,
    /// The call's span, when spans are exported: it gets the status code.
    traced: Option<tracing::Span>,
}

impl Finish {
    fn done(self, code: Code) {
        if let Some(span) = &self.traced {
            span.record("rpc.grpc.status_code", code as i32);
            // A server span is an error for the codes that say the server failed.
            if matches!(
                code,
                Code::Unknown
                    | Code::DeadlineExceeded
                    | Code::Unimplemented
                    | Code::Internal
                    | Code::Unavailable
                    | Code::DataLoss
            ) {
                span.record("otel.status_code", "ERROR");
            }
        }
        let elapsed = self.start.elapsed();
        let labels = &self.method.labels;
        metrics().in_flight.dec();
        self.method.handled(code).inc();
        self.method.seconds.observe(elapsed.as_secs_f64());

        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        let peer = self.peer.map(tracing::field::display);
        let key = self.record.key.get().map(tracing::field::display);
        let request_id = self.request_id.to_str().unwrap_or("-");
        let request_bytes = self.record.request_bytes.load(Ordering::Relaxed);
        let path = self.path.as_deref();
        macro_rules! access {
            ($level:expr) => {
                tracing::event!(
                    target: "boucle::access",
                    parent: None,
                    $level,
                    grpc_service = labels.grpc_service,
                    grpc_method = labels.grpc_method,
                    path,
                    grpc_code = code_name(code),
                    latency_ms,
                    peer,
                    key,
                    request_id,
                    request_bytes,
                    response_bytes = self.response_bytes,
                    "call"
                )
            };
        }
        if self.method.quiet {
            access!(tracing::Level::DEBUG);
        } else {
            access!(tracing::Level::INFO);
        }
    }
}

/// A call whose answer has not come yet: dropped (the client cancelled, the connection
/// closed), it is finished as CANCELLED.
struct Pending(Option<Finish>);

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(finish) = self.0.take() {
            let code = finish.code.unwrap_or(Code::Cancelled);
            finish.done(code);
        }
    }
}

/// The request body, counted.
struct Counted<B> {
    inner: B,
    record: Arc<CallRecord>,
}

impl<B> Body for Counted<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.record
                .request_bytes
                .fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        polled.map(|frame| frame.map(|result| result.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The response body, watched for its size and its status trailer.
struct Observed<B> {
    inner: B,
    finish: Option<Finish>,
    ended: bool,
}

impl<B> Body for Observed<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(finish) = self.finish.as_mut() {
                    if let Some(data) = frame.data_ref() {
                        finish.response_bytes += data.len() as u64;
                    } else if let Some(trailers) = frame.trailers_ref()
                        && let Some(status) = trailers.get("grpc-status")
                    {
                        finish.code = Some(Code::from_bytes(status.as_bytes()));
                    }
                }
            }
            Poll::Ready(None) => self.ended = true,
            Poll::Ready(Some(Err(_))) => {
                if let Some(finish) = self.finish.as_mut() {
                    finish.code.get_or_insert(Code::Internal);
                }
                self.ended = true;
            }
            Poll::Pending => {}
        }
        polled.map(|frame| frame.map(|result| result.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for Observed<B> {
    fn drop(&mut self) {
        if let Some(finish) = self.finish.take() {
            let code = match finish.code {
                Some(code) => code,
                // An answer without a status that ran to its end broke the protocol.
                None if self.ended => Code::Unknown,
                None => Code::Cancelled,
            };
            finish.done(code);
        }
    }
}

/// The names gRPC gives the status codes (`OK`, `InvalidArgument`…): the values of the
/// `grpc_code` label in every gRPC dashboard.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &[u8]) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.insert(REQUEST_ID, v);
        }
        headers
    }

    #[test]
    fn a_plausible_client_request_id_is_kept_and_anything_else_replaced() {
        for kept in [
            "0191f3c2-7a4e-7c1b-9d3e-2f4a5b6c7d8e",
            "req-42",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "a",
        ] {
            let (id, from_client) = request_id(&with(kept.as_bytes()));
            assert!(from_client, "{kept}");
            assert_eq!(id, kept);
        }
        let long = "a".repeat(129);
        for refused in [
            "",
            long.as_str(),
            "two words",
            "tab\there",
            "é",
            "line\u{7f}",
            "{\"json\":1}",
        ] {
            let (id, from_client) = request_id(&with(refused.as_bytes()));
            assert!(!from_client, "{refused:?} was kept");
            assert!(Uuid::parse_str(id.to_str().unwrap_or("")).is_ok(), "{id:?}");
        }
        let (_, from_client) = request_id(&http::HeaderMap::new());
        assert!(!from_client);
    }

    #[test]
    fn every_served_method_is_labelled_by_its_descriptor() {
        let submit = method("/boucle.v1.FeedbackService/SubmitFeedback");
        assert_eq!(submit.labels.grpc_service, "boucle.v1.FeedbackService");
        assert_eq!(submit.labels.grpc_type, "unary");
        assert!(!submit.quiet);
        assert_eq!(
            method("/boucle.v1.FeedbackService/ImportFeedback")
                .labels
                .grpc_type,
            "client_stream"
        );
        let watch = method("/grpc.health.v1.Health/Watch");
        assert_eq!(watch.labels.grpc_type, "server_stream");
        assert!(watch.quiet);
        assert_eq!(
            method("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")
                .labels
                .grpc_type,
            "bidi_stream"
        );
        assert!(std::ptr::eq(
            method("/boucle.v1.FeedbackService/DropTables"),
            &*UNKNOWN
        ));
    }
}
