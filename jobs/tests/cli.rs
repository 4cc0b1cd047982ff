//! The real `boucle-jobs` binary: the daemon catches up missed months and stops cleanly on
//! SIGTERM; a period held by another worker exits 75 (EX_TEMPFAIL).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use boucle::store::{DatabaseSettings, Store};

const BIN: &str = env!("CARGO_BIN_EXE_boucle-jobs");

async fn demo_database(dir: &tempfile::TempDir) -> (Store, String) {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("jobs.db").display());
    let store = Store::connect(&DatabaseSettings::new(url.clone()))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    boucle::demo::seed(&store, 7, chrono_tz::Europe::Paris)
        .await
        .expect("demo");
    (store, url)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_catches_up_missed_months_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, url) = demo_database(&dir).await;
    let mut child = Command::new(BIN)
        .args([
            "daemon",
            "--log-format",
            "json",
            "--database-url",
            &url,
            "--out",
        ])
        .arg(dir.path().join("out"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start daemon");
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the daemon logs its catch-up");
        if line.contains("sleeping until the next run") {
            break;
        }
    }
    // The demo spans the eleven months before the current one: all were run.
    let done = store.succeeded_periods("run").await.expect("runs");
    assert_eq!(done.len(), 11, "{done:?}");
    let open_data = std::fs::read_dir(dir.path().join("out"))
        .expect("out")
        .filter_map(Result::ok)
        .filter(|f| f.file_name().to_string_lossy().starts_with("resultats-"))
        .count();
    assert_eq!(open_data, 22, "CSV and JSON for each month");
    let report_months = std::fs::read_dir(dir.path().join("out").join("reports"))
        .expect("reports")
        .count();
    assert_eq!(report_months, 11, "a folder of PDF reports for each month");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
    assert!(rx.iter().any(|l| l.contains("daemon stopped")));

    // A second daemon start has nothing left to catch up.
    let again = store.succeeded_periods("run").await.expect("runs");
    assert_eq!(again, done);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_period_held_by_another_worker_exits_75() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, url) = demo_database(&dir).await;
    assert!(
        store
            .acquire_lease("period:2026-10", "someone-else", 60_000)
            .await
            .expect("lease")
    );
    let out = Command::new(BIN)
        .args(["aggregate", "--period", "2026-10", "--database-url", &url])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(75),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = Command::new(BIN)
        .args(["aggregate", "--period", "octobre", "--database-url", &url])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(2));
    let ok = Command::new(BIN)
        .args(["aggregate", "--period", "2026-09", "--database-url", &url])
        .output()
        .expect("run");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("2026-09: 32 locations aggregated"));
}
