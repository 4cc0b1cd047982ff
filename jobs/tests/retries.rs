//! A month is not lost to one failure: the real `boucle-jobs` binary against a real SMTP
//! server (aiosmtpd, from PyPI) that is down when the delivery starts and comes back. Within
//! a run, the delivery is retried and the month delivered exactly once; in the daemon, a
//! period that failed is tried again after a backoff, the same day, and each message still
//! leaves once. `.ci/run` installs aiosmtpd and requires these tests
//! (`BOUCLE_REQUIRE_SMTP_SERVER=1`); elsewhere they are skipped, with a message, without it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use boucle::store::{DatabaseSettings, Store};

const BIN: &str = env!("CARGO_BIN_EXE_boucle-jobs");

/// Whether aiosmtpd can be run; in CI its absence fails the test.
fn smtp_server_available() -> bool {
    let found = Command::new("python3")
        .args(["-m", "aiosmtpd", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("BOUCLE_REQUIRE_SMTP_SERVER").is_err(),
            "aiosmtpd is required (pip install aiosmtpd)"
        );
        eprintln!("aiosmtpd is not installed (pip install aiosmtpd): skipped");
    }
    found
}

/// A port nothing listens on yet.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A real SMTP server on `port`, keeping every message it accepts in the Maildir `dir`.
struct SmtpServer {
    child: Child,
    maildir: PathBuf,
}

impl SmtpServer {
    fn start(port: u16, maildir: &Path) -> Self {
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            maildir: maildir.to_owned(),
        }
    }

    /// Every message received, by Message-ID: (count, recipient).
    fn received(&self) -> HashMap<String, (usize, String)> {
        let mut seen: HashMap<String, (usize, String)> = HashMap::new();
        for file in std::fs::read_dir(self.maildir.join("new"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let text = std::fs::read_to_string(file.path()).unwrap_or_default();
            let header = |name: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            };
            let entry = seen
                .entry(header("Message-ID:"))
                .or_insert((0, header("To:")));
            entry.0 += 1;
        }
        seen
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn demo_database() -> (boucle_tests::TestDatabase, String) {
    let (database, url) = boucle_tests::fresh_database().await.expect("database");
    let store = Store::connect(&DatabaseSettings::new(url.clone()))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    boucle::demo::seed(&store, 7, chrono_tz::Europe::Paris, boucle::store::now_ms())
        .await
        .expect("demo");
    boucle_tests::demo_recipients(&store).await;
    store.close().await.expect("close");
    (database, url)
}

fn jobs(url: &str, out: &Path, port: u16) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["--log-format", "json", "--database-url", url, "--out"])
        .arg(out)
        .args([
            "--smtp-host",
            "127.0.0.1",
            "--smtp-tls",
            "none",
            "--smtp-port",
        ])
        .arg(port.to_string())
        .args(["--mail-from", "Résultats SP+ <resultats@boucle.test>"])
        .args(["--metrics-textfile"])
        .arg(out.join("boucle-jobs.prom"));
    command
}

/// The value of `series` in a metrics text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_down_at_first_is_retried_within_the_run_and_each_message_leaves_once() {
    if !smtp_server_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (_database, url) = demo_database().await;
    let out = dir.path().join("out");
    let port = free_port();

    // The relay is down when the run starts; it comes back once the run has said that the
    // delivery failed and will be retried (however long the steps before it took).
    let mut run = jobs(&url, &out, port)
        .args(["--deliver-retry-seconds", "2", "run", "--period", "2026-10"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    let (lines, log) = mpsc::channel();
    let pipe = run.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut stderr = String::new();
    while !stderr.contains("failed; retrying") {
        match log.recv_timeout(Duration::from_secs(120)) {
            Ok(line) => {
                stderr.push_str(&line);
                stderr.push('\n');
            }
            Err(e) => panic!("no retry announced ({e}):\n{stderr}"),
        }
    }
    let server = SmtpServer::start(port, &dir.path().join("maildir"));
    let status = run.wait().expect("wait");
    let _ = reader.join();
    stderr.extend(log.try_iter().map(|l| l + "\n"));
    assert!(status.success(), "{stderr}");

    let received = server.received();
    assert_eq!(received.len(), 2, "one message per recipient: {received:?}");
    assert!(received.values().all(|(n, _)| *n == 1), "{received:?}");
    let to: Vec<&str> = received.values().map(|(_, to)| to.as_str()).collect();
    assert!(
        to.iter().any(|t| t.contains("direction@caf69.test")),
        "{to:?}"
    );
    assert!(to.iter().any(|t| t.contains("agence@fs.test")), "{to:?}");

    let metrics = std::fs::read_to_string(out.join("boucle-jobs.prom")).expect("textfile");
    assert!(
        sample(&metrics, "boucle_jobs_retries_total{step=\"deliver\"}").is_some_and(|n| n >= 1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "boucle_jobs_step_runs_total{step=\"deliver\",outcome=\"success\"}"
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "boucle_jobs_last_success_period{step=\"run\"}"),
        Some(202610.0)
    );

    // A second delivery of the month sends nothing more.
    let again = jobs(&url, &out, port)
        .args(["deliver", "--period", "2026-10"])
        .output()
        .expect("deliver again");
    assert!(again.status.success());
    assert_eq!(server.received().len(), 2);
    assert!(server.received().values().all(|(n, _)| *n == 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_retries_a_failed_month_after_a_backoff_the_same_day() {
    if !smtp_server_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (_database, url) = demo_database().await;
    let out = dir.path().join("out");
    let port = free_port();

    // One delivery attempt per run: the run fails at once, and the daemon's backoff retries.
    let mut daemon = jobs(&url, &out, port)
        .args([
            "--deliver-attempts",
            "1",
            "--retry-seconds",
            "1",
            "--retry-max-seconds",
            "2",
            "daemon",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start daemon");
    let (tx, rx) = mpsc::channel();
    let pipe = daemon.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |what: &str| loop {
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("no line with {what:?} in time"));
        if line.contains(what) {
            return line;
        }
    };
    wait_for("failed periods: retrying after a backoff");
    let metrics = std::fs::read_to_string(out.join("boucle-jobs.prom")).expect("textfile");
    assert!(
        sample(&metrics, "boucle_jobs_consecutive_failures").is_some_and(|n| n >= 1.0),
        "the alert metric is raised: {metrics}"
    );

    let server = SmtpServer::start(port, &dir.path().join("maildir"));
    let finished = loop {
        let line = wait_for("catch-up finished");
        let log: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        if log["failed"] == 0 {
            break log;
        }
    };
    let months = finished["periods"].as_u64().expect("periods");
    assert!(months >= 1, "{finished}");
    wait_for("sleeping until the next run");
    let metrics = std::fs::read_to_string(out.join("boucle-jobs.prom")).expect("textfile");
    assert_eq!(
        sample(&metrics, "boucle_jobs_consecutive_failures"),
        Some(0.0),
        "{metrics}"
    );

    let received = server.received();
    assert!(!received.is_empty());
    assert!(
        received.values().all(|(n, _)| *n == 1),
        "no message twice: {received:?}"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .expect("SIGTERM");
    assert!(killed.success());
    assert!(daemon.wait().expect("wait").success());
}
