//! What the tests of the real `boucle-server` binary share: starting it, reading its logs,
//! seeding the demo, stopping it.

#![allow(dead_code)] // each test binary uses its own part

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

pub const BIN: &str = env!("CARGO_BIN_EXE_boucle-server");

/// Lines of a child's pipe, read on a thread.
pub fn lines(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

pub fn wait_for(rx: &mpsc::Receiver<String>, what: impl Fn(&str) -> bool) -> String {
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("expected output in time");
        if what(&line) {
            return line;
        }
    }
}

/// A running server: the process, its address, its log lines (JSON).
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub stderr: mpsc::Receiver<String>,
}

/// Starts the server on `url` (port chosen by the system) with extra environment, and waits
/// until it listens.
pub fn start(url: &str, env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--database-url",
            url,
        ])
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server");
    let stderr = lines(child.stderr.take().expect("stderr"));
    let ready = wait_for(&stderr, |l| l.contains("boucle-server listening"));
    let log: serde_json::Value = serde_json::from_str(&ready).expect("JSON log line");
    let addr = log["addr"].as_str().expect("addr").to_owned();
    Server {
        child,
        addr,
        stderr,
    }
}

/// Seeds the demo data set into `url`, its monthly runs writing to `out`; returns the
/// ADMIN key it prints.
pub fn seed_demo(url: &str, out: &std::path::Path) -> String {
    let out = Command::new(BIN)
        .args(["demo", "--database-url", url, "--out"])
        .arg(out)
        .output()
        .expect("seed demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Demo ADMIN key (shown once): "))
        .expect("admin key")
        .trim()
        .to_owned()
}

pub fn sigterm(child: &Child) {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(sent.success());
}

/// Adds the API key to every call.
#[derive(Clone)]
pub struct Bearer(MetadataValue<Ascii>);

impl Interceptor for Bearer {
    fn call(&mut self, mut r: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        r.metadata_mut().insert("authorization", self.0.clone());
        Ok(r)
    }
}

pub type Authed = InterceptedService<Channel, Bearer>;

/// A lazily connected channel to `addr` whose calls carry `key`.
pub fn authed(addr: &str, key: &str) -> Authed {
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .timeout(Duration::from_secs(20))
        .connect_lazy();
    let bearer = format!("Bearer {key}").parse().expect("header");
    InterceptedService::new(channel, Bearer(bearer))
}

/// The resident memory of a process, in KiB (Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The first published report of `code` for `period`, and its bytes as GetReport streams them.
pub async fn first_report(
    results: &mut boucle::pb::results_service_client::ResultsServiceClient<Channel>,
    code: &str,
    period: &str,
) -> (boucle::pb::Report, Vec<u8>) {
    let report = results
        .list_reports(boucle::pb::ListReportsRequest {
            location_code: code.into(),
            period: period.into(),
            ..Default::default()
        })
        .await
        .expect("list reports")
        .into_inner()
        .reports
        .into_iter()
        .next()
        .expect("a report of the month");
    let mut chunks = results
        .get_report(boucle::pb::GetReportRequest {
            id: report.id.clone(),
            ..Default::default()
        })
        .await
        .expect("get report")
        .into_inner();
    let mut bytes = Vec::new();
    while let Some(chunk) = chunks.message().await.expect("chunk") {
        bytes.extend_from_slice(&chunk.chunk);
    }
    (report, bytes)
}
