//! What an operator sees of the real `boucle-server` binary: one access-log line per call
//! (answered, refused, shed, rate-limited), the request id both ways, and the Prometheus
//! metrics on their own listener.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use boucle::pb;
use boucle::pb::feedback_service_client::FeedbackServiceClient;
use boucle::pb::location_service_client::LocationServiceClient;
use boucle::pb::results_service_client::ResultsServiceClient;
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};

use common::{BIN, lines, seed_demo, sigterm, wait_for};

/// The server's JSON log lines, from its stderr.
fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
}

/// `GET /metrics` over plain HTTP/1.1.
fn scrape(addr: &str) -> (String, String) {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the metrics listener");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    (head.to_owned(), body.to_owned())
}

/// The value of the sample `series` (name and labels exactly as exposed).
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in\n{metrics}"))
}

fn request<T>(message: T, request_id: Option<&str>, key: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(id) = request_id
        && let Ok(value) = id.parse()
    {
        request.metadata_mut().insert("x-request-id", value);
    }
    if let Some(key) = key {
        let bearer: MetadataValue<_> = format!("Bearer {key}").parse().expect("header");
        request.metadata_mut().insert("authorization", bearer);
    }
    request
}

fn submission(request_id: &str, story: &str) -> pb::SubmitFeedbackRequest {
    pb::SubmitFeedbackRequest {
        request_id: request_id.into(),
        feedback: Some(pb::Feedback {
            location_code: "CAF69-LYON-PARTDIEU".into(),
            channel: pb::Channel::InPerson as i32,
            satisfaction: pb::Satisfaction::Positive as i32,
            story: story.into(),
            ..Default::default()
        }),
    }
}

/// The access lines of the calls `ids`, by request id (the last line of an id wins).
fn access_lines(
    stderr: &mpsc::Receiver<String>,
    ids: &[&str],
) -> HashMap<String, serde_json::Value> {
    let mut seen = HashMap::new();
    while !ids.iter().all(|id| seen.contains_key(*id)) {
        let line = wait_for(stderr, |l| l.contains("\"boucle::access\""));
        let log = json(&line);
        let id = log["request_id"].as_str().expect("a request id").to_owned();
        seen.insert(id, log);
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn every_call_has_an_access_line_a_request_id_and_metrics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("ops.db").display());
    let admin = seed_demo(&url, &dir.path().join("out"));
    let collector = {
        let out = Command::new(BIN)
            .args([
                "keys",
                "create",
                "--role",
                "collector",
                "--database-url",
                &url,
            ])
            .output()
            .expect("create a collector key");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };

    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--database-url",
            &url,
            // Small limits, so that the test reaches them: one call in flight per address,
            // two submissions per key.
            "--max-in-flight-per-peer",
            "1",
            "--submit-rate-per-second",
            "1",
            "--submit-burst",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server");
    let stderr = lines(child.stderr.take().expect("stderr"));
    let metrics_line = json(&wait_for(&stderr, |l| l.contains("metrics listening")));
    let metrics_addr = metrics_line["addr"].as_str().expect("addr").to_owned();
    let ready = json(&wait_for(&stderr, |l| {
        l.contains("boucle-server listening")
    }));
    let addr = ready["addr"].as_str().expect("addr").to_owned();
    let channel: Channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .timeout(Duration::from_secs(20))
        .connect()
        .await
        .expect("connect");
    let mut locations = LocationServiceClient::new(channel.clone());
    let mut feedback = FeedbackServiceClient::new(channel.clone());
    let mut results = ResultsServiceClient::new(channel.clone());

    // 1. An answered call: the client's id comes back.
    let listed = locations
        .list_locations(request(
            pb::ListLocationsRequest {
                roots_only: true,
                ..Default::default()
            },
            Some("req-ops-1"),
            Some(&admin),
        ))
        .await
        .expect("list locations");
    assert_eq!(
        listed.metadata().get("x-request-id").map(|v| v.as_bytes()),
        Some(&b"req-ops-1"[..])
    );
    // 2. A submission whose story holds an e-mail address (a redaction detection).
    feedback
        .submit_feedback(request(
            submission("sub-1", "Écrivez-moi à jeanne.martin@example.fr merci"),
            Some("req-ops-2"),
            Some(&collector),
        ))
        .await
        .expect("submit");
    // 3. No key.
    let refused = feedback
        .list_feedback(request(
            pb::ListFeedbackRequest::default(),
            Some("req-ops-3"),
            None,
        ))
        .await
        .expect_err("no key");
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(
        refused.metadata().get("x-request-id").map(|v| v.as_bytes()),
        Some(&b"req-ops-3"[..]),
        "a refused call returns its id too"
    );
    // 4. The collector's key asking for what its role may not do.
    let denied = feedback
        .list_feedback(request(
            pb::ListFeedbackRequest::default(),
            Some("req-ops-4"),
            Some(&collector),
        ))
        .await
        .expect_err("a collector may not read");
    assert_eq!(denied.code(), Code::PermissionDenied);
    // 5. Bad input.
    let invalid = feedback
        .submit_feedback(request(
            pb::SubmitFeedbackRequest::default(),
            Some("req-ops-5"),
            Some(&collector),
        ))
        .await
        .expect_err("no feedback");
    assert_eq!(invalid.code(), Code::InvalidArgument);
    // 6, 7. Public results, twice: the second answer comes from the cache.
    for id in ["req-ops-6", "req-ops-7"] {
        let answer = results
            .get_location_results(request(
                pb::GetLocationResultsRequest {
                    location_code: "CAF69-LYON-PARTDIEU".into(),
                    period: String::new(),
                    ..Default::default()
                },
                Some(id),
                None,
            ))
            .await
            .expect("the demo published its months");
        assert!(answer.into_inner().current.is_some());
    }
    // Twice the same search: the second page comes from the cache.
    for _ in 0..2 {
        let page = results
            .search_locations(request(
                pb::SearchLocationsRequest {
                    query: "caf lyon".into(),
                    ..Default::default()
                },
                None,
                None,
            ))
            .await
            .expect("a public search");
        assert!(!page.into_inner().hits.is_empty());
    }
    // 8. Over the submission rate (burst of 2: sub-1 and the invalid one did not count
    // alike, so submit until refused).
    let mut limited = None;
    for n in 0..4 {
        let id = format!("req-ops-8-{n}");
        if let Err(status) = feedback
            .submit_feedback(request(
                submission(&format!("sub-8-{n}"), "Très bien."),
                Some(&id),
                Some(&collector),
            ))
            .await
        {
            limited = Some((id, status));
            break;
        }
    }
    let (limited_id, limited) = limited.expect("the submission rate is reached");
    assert_eq!(limited.code(), Code::ResourceExhausted);
    // 9. A hostile request id is replaced by a UUID, which comes back.
    let hostile = locations
        .list_locations(request(
            pb::ListLocationsRequest::default(),
            Some("x\tinjected=1 level=error"),
            Some(&admin),
        ))
        .await
        .expect("list locations");
    let replaced = hostile
        .metadata()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("an id")
        .to_owned();
    assert!(uuid::Uuid::parse_str(&replaced).is_ok(), "{replaced}");
    // 10. Shed: an import holds this address's one slot while a second call is made.
    let (hold, held) = tokio::sync::mpsc::channel::<pb::ImportFeedbackRequest>(1);
    let mut importer = FeedbackServiceClient::new(channel.clone());
    let import = tokio::spawn(async move {
        importer
            .import_feedback(request(
                tokio_stream::wrappers::ReceiverStream::new(held),
                Some("req-ops-10-import"),
                Some(&collector),
            ))
            .await
    });
    // Nothing else is in flight: once the import is, it holds the address's one slot.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while sample(&scrape(&metrics_addr).1, "boucle_calls_in_flight") < 1.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the import never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let shed = locations
        .list_locations(request(
            pb::ListLocationsRequest::default(),
            Some("req-ops-10"),
            Some(&admin),
        ))
        .await
        .expect_err("the second call is shed");
    assert_eq!(shed.code(), Code::ResourceExhausted);
    drop(hold);
    import.await.expect("import task").expect("empty import");

    // One line per call, with the fields an operator filters on.
    let lines = access_lines(
        &stderr,
        &[
            "req-ops-1",
            "req-ops-2",
            "req-ops-3",
            "req-ops-4",
            "req-ops-5",
            "req-ops-6",
            "req-ops-7",
            &limited_id,
            &replaced,
            "req-ops-10",
            "req-ops-10-import",
        ],
    );
    let line = |id: &str| {
        lines
            .get(id)
            .unwrap_or_else(|| panic!("no access line for {id}: {lines:#?}"))
    };
    let first = line("req-ops-1");
    assert_eq!(first["grpc_service"], "boucle.v1.LocationService");
    assert_eq!(first["grpc_method"], "ListLocations");
    assert_eq!(first["grpc_code"], "OK");
    assert!(first["latency_ms"].as_f64().is_some_and(|ms| ms > 0.0));
    assert!(
        first["peer"]
            .as_str()
            .is_some_and(|p| p.starts_with("127.0.0.1:"))
    );
    assert!(
        first["key"]
            .as_str()
            .is_some_and(|k| uuid::Uuid::parse_str(k).is_ok())
    );
    assert!(first["request_bytes"].as_u64().is_some_and(|b| b > 0));
    assert!(first["response_bytes"].as_u64().is_some_and(|b| b > 100));
    assert!(
        !first.to_string().contains(&admin),
        "the secret is never logged"
    );
    assert_eq!(line("req-ops-2")["grpc_code"], "OK");
    assert_eq!(line("req-ops-3")["grpc_code"], "Unauthenticated");
    assert!(line("req-ops-3").get("key").is_none());
    let denied = line("req-ops-4");
    assert_eq!(denied["grpc_code"], "PermissionDenied");
    assert!(
        denied["key"].is_string(),
        "a refused key is named: {denied}"
    );
    assert_eq!(line("req-ops-5")["grpc_code"], "InvalidArgument");
    assert_eq!(
        line("req-ops-6")["grpc_service"],
        "boucle.v1.ResultsService"
    );
    assert_eq!(line(&limited_id)["grpc_code"], "ResourceExhausted");
    assert_eq!(line(&replaced)["grpc_code"], "OK");
    assert_eq!(line("req-ops-10")["grpc_code"], "ResourceExhausted");
    assert_eq!(line("req-ops-10-import")["grpc_method"], "ImportFeedback");

    let (head, metrics) = scrape(&metrics_addr);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    let list = "grpc_type=\"unary\",grpc_service=\"boucle.v1.LocationService\",grpc_method=\"ListLocations\"";
    assert!(sample(&metrics, &format!("grpc_server_started_total{{{list}}}")) >= 3.0);
    assert_eq!(
        sample(
            &metrics,
            &format!("grpc_server_handled_total{{{list},grpc_code=\"OK\"}}")
        ),
        2.0
    );
    assert!(
        sample(
            &metrics,
            &format!("grpc_server_handled_total{{{list},grpc_code=\"ResourceExhausted\"}}")
        ) >= 1.0
    );
    let denied_series = "grpc_server_handled_total{grpc_type=\"unary\",grpc_service=\"boucle.v1.FeedbackService\",grpc_method=\"ListFeedback\",grpc_code=\"PermissionDenied\"}";
    assert_eq!(sample(&metrics, denied_series), 1.0);
    assert!(
        sample(
            &metrics,
            &format!("grpc_server_handling_seconds_count{{{list}}}")
        ) >= 3.0
    );
    assert!(sample(&metrics, "boucle_calls_shed_total{reason=\"per_peer\"}") >= 1.0);
    assert_eq!(
        sample(&metrics, "boucle_calls_rate_limited_total{kind=\"submit\"}"),
        1.0
    );
    for result in ["miss", "hit"] {
        let series = format!(
            "boucle_public_cache_requests_total{{answer=\"location_results\",result=\"{result}\"}}"
        );
        assert_eq!(sample(&metrics, &series), 1.0, "{series}");
        let series =
            format!("boucle_public_cache_requests_total{{answer=\"search\",result=\"{result}\"}}");
        assert_eq!(sample(&metrics, &series), 1.0, "{series}");
    }
    assert_eq!(
        sample(
            &metrics,
            "boucle_redaction_detections_total{kind=\"EMAIL\"}"
        ),
        1.0
    );
    assert!(sample(&metrics, "boucle_capture_batch_size_count") >= 1.0);
    assert_eq!(sample(&metrics, "boucle_capture_queue_depth"), 0.0);
    assert_eq!(sample(&metrics, "boucle_db_pool_max_connections"), 8.0);
    assert!(sample(&metrics, "boucle_db_pool_connections{state=\"idle\"}") >= 1.0);
    // The scrape is not a gRPC call: nothing in flight once the calls are answered.
    assert_eq!(sample(&metrics, "boucle_calls_in_flight"), 0.0);

    sigterm(&child);
    assert!(child.wait().expect("wait").success());
}

/// A collector in this process: the OTLP/gRPC trace service, keeping every span it receives.
mod collector {
    use std::sync::{Arc, Mutex};

    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
        TraceService, TraceServiceServer,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
    };
    use opentelemetry_proto::tonic::trace::v1::Span;

    #[derive(Clone, Default)]
    pub struct Collector {
        pub spans: Arc<Mutex<Vec<(String, Span)>>>,
    }

    #[tonic::async_trait]
    impl TraceService for Collector {
        async fn export(
            &self,
            request: tonic::Request<ExportTraceServiceRequest>,
        ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
            let mut spans = self.spans.lock().unwrap_or_else(|p| p.into_inner());
            for resource in request.into_inner().resource_spans {
                let service = resource
                    .resource
                    .iter()
                    .flat_map(|r| &r.attributes)
                    .find(|a| a.key == "service.name")
                    .and_then(|a| a.value.as_ref())
                    .map(|v| format!("{:?}", v.value))
                    .unwrap_or_default();
                for scope in resource.scope_spans {
                    for span in scope.spans {
                        spans.push((service.clone(), span));
                    }
                }
            }
            Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
        }
    }

    /// Serves on 127.0.0.1:<port>; returns the endpoint.
    pub async fn start(collector: Collector) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(collector))
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        format!("http://{addr}")
    }
}

/// With `--otlp-endpoint`, every call is exported as a server span following OpenTelemetry's
/// RPC conventions, with its request id; the last spans are flushed on SIGTERM.
#[tokio::test(flavor = "multi_thread")]
async fn calls_are_exported_as_rpc_spans_to_an_otlp_collector() {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;

    let collector = collector::Collector::default();
    let endpoint = collector::start(collector.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("otlp.db").display());
    let mut server = common::start(&url, &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())]);
    let channel = Endpoint::from_shared(format!("http://{}", server.addr))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let missing = ResultsServiceClient::new(channel)
        .get_location_results(request(
            pb::GetLocationResultsRequest {
                location_code: "NULLE-PART".into(),
                period: String::new(),
                ..Default::default()
            },
            Some("req-trace-1"),
            None,
        ))
        .await
        .expect_err("no such location");
    assert_eq!(missing.code(), Code::NotFound);
    sigterm(&server.child);
    assert!(server.child.wait().expect("wait").success());

    let spans = collector
        .spans
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let (service, span) = spans
        .iter()
        .find(|(_, s)| s.name == "boucle.v1.ResultsService/GetLocationResults")
        .unwrap_or_else(|| panic!("the call's span, among {spans:?}"));
    assert!(service.contains("boucle-server"), "{service}");
    assert_eq!(
        span.kind,
        opentelemetry_proto::tonic::trace::v1::span::SpanKind::Server as i32
    );
    let attribute = |key: &str| {
        span.attributes
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.as_ref())
            .and_then(|v| v.value.clone())
    };
    assert_eq!(
        attribute("rpc.system"),
        Some(Value::StringValue("grpc".into()))
    );
    assert_eq!(
        attribute("rpc.service"),
        Some(Value::StringValue("boucle.v1.ResultsService".into()))
    );
    assert_eq!(
        attribute("rpc.method"),
        Some(Value::StringValue("GetLocationResults".into()))
    );
    assert_eq!(
        attribute("rpc.grpc.status_code"),
        Some(Value::IntValue(Code::NotFound as i64))
    );
    assert_eq!(
        attribute("request_id"),
        Some(Value::StringValue("req-trace-1".into()))
    );
}
