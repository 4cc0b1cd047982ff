//! The real `boucle-jobs` binary killed with SIGKILL at random points of a monthly run
//! (aggregation, reports, open data, delivery), then run again until it completes:
//! - no partial file is ever visible: after every kill, each published file either is absent
//!   or holds exactly the bytes of an uninterrupted run;
//! - the final PDFs, manifest and open data are byte-identical to the uninterrupted run's;
//! - no e-mail is written twice (two-phase delivery; the outbox is checked after every kill);
//! - two daemons started together on the same database process each period once;
//! - the jobs' log, at debug level, shows no contact e-mail and no story as written.
//!
//! On SQLite by default (the database file is copied so both runs start from the same
//! bytes); with `TEST_DATABASE_URL`, on PostgreSQL (databases of their own, the second
//! created from the first as a template). Quick in the default suite (6 kills);
//! `BOUCLE_JOBS_KILLS=50` for the long version (RELIABILITY.md).

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use boucle::store::{DatabaseSettings, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::ConnectionTrait;

const BIN: &str = env!("CARGO_BIN_EXE_boucle-jobs");
const PARIS: chrono_tz::Tz = chrono_tz::Europe::Paris;
/// The shortest lease the binary accepts: a killed run's period is free again after it.
const LEASE_SECONDS: &str = "3";

/// A database of the test's own (SQLite, or PostgreSQL with `TEST_DATABASE_URL`), dropped
/// with the value; the URL is what the binary is given.
struct Db {
    url: String,
    database: boucle_tests::TestDatabase,
}

impl Db {
    async fn create() -> Self {
        let (database, url) = boucle_tests::fresh_database().await.expect("database");
        Self { url, database }
    }

    /// An exact copy, to start a second run from the same data.
    async fn copy(&self) -> Self {
        let (database, url) = boucle_tests::copy_database(&self.database, &self.url)
            .await
            .expect("copy database");
        Self { url, database }
    }
}

/// The demo data set with two recipients, in a single SQLite file (WAL checkpointed).
async fn demo_database(db: &Db) {
    let store = Store::connect(&DatabaseSettings::new(db.url.clone()))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    boucle::demo::seed(&store, 7, PARIS, boucle::store::now_ms())
        .await
        .expect("demo");
    boucle_tests::demo_recipients(&store).await;
    if matches!(db.database, boucle_tests::TestDatabase::Sqlite(_)) {
        // One file holds everything, so that a copy of it is the whole database.
        store
            .connection()
            .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .expect("checkpoint");
    }
    store.close().await.expect("close");
}

fn jobs(db: &Db, out: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .args(["--log-format", "json"])
        .arg("--database-url")
        .arg(&db.url)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Runs the period until it completes, waiting out the lease a killed run left behind.
fn run_to_completion(db: &Db, out: &Path, period: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status = jobs(db, out, &["run", "--period", period])
            .args(["--lease-seconds", LEASE_SECONDS])
            .status()
            .expect("run");
        match status.code() {
            Some(0) => return,
            // EX_TEMPFAIL: the period is still leased by the killed run.
            Some(75) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(500)),
            other => panic!("run failed: {other:?}"),
        }
    }
}

/// Every visible (not hidden) file under `dir`, by path relative to it.
fn visible_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir).expect("under dir").to_owned();
                files.insert(relative, std::fs::read(&path).expect("read"));
            }
        }
    }
    files
}

fn is_message(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "eml")
}

/// What may be visible at any moment: a published file absent or complete, never partial;
/// each recipient's message written once at most.
fn check_visible(reference: &BTreeMap<PathBuf, Vec<u8>>, out: &Path, moment: &str) {
    let now = visible_files(out);
    let mut recipients = HashSet::new();
    for (path, bytes) in &now {
        if is_message(path) {
            let text = String::from_utf8_lossy(bytes);
            let to = text
                .lines()
                .find(|l| l.starts_with("To: "))
                .unwrap_or_else(|| panic!("{moment}: a message without recipient: {path:?}"))
                .to_owned();
            assert!(
                recipients.insert(to.clone()),
                "{moment}: {to} got two messages"
            );
            continue;
        }
        let expected = reference
            .get(path)
            .unwrap_or_else(|| panic!("{moment}: unexpected file {path:?}"));
        // The manifest lists what is written so far; every other file is final or absent.
        if path.file_name().is_some_and(|n| n == "manifest.json") {
            serde_json::from_slice::<serde_json::Value>(bytes)
                .unwrap_or_else(|e| panic!("{moment}: partial manifest: {e}"));
        } else {
            assert!(
                bytes == expected,
                "{moment}: {path:?} differs from the uninterrupted run"
            );
        }
    }
}

/// The jobs' log (at debug level) holds no contact e-mail and no story as written when it
/// carried personal data.
async fn no_private_data_in(db: &Db, log: &str) {
    assert!(log.contains("period run"), "the log is really captured");
    let store = Store::connect(&DatabaseSettings::new(db.url.clone()))
        .await
        .expect("connect");
    let rows = store
        .connection()
        .query_all_raw(sea_orm::Statement::from_string(
            store.backend(),
            "SELECT COALESCE(contact_email, '') AS email, story FROM feedback \
             WHERE contact_email IS NOT NULL OR story <> redacted_story",
        ))
        .await
        .expect("private data");
    assert!(!rows.is_empty(), "the demo carries private data");
    for row in rows {
        let email: String = row.try_get("", "email").expect("email");
        let story: String = row.try_get("", "story").expect("story");
        for secret in [email, story] {
            assert!(
                secret.is_empty() || !log.contains(&secret),
                "the jobs' log shows {secret:?}"
            );
        }
    }
    store.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_anywhere_completes_identically_and_sends_nothing_twice() {
    let kills: usize = std::env::var("BOUCLE_JOBS_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(6);
    let seed: u64 = std::env::var("BOUCLE_JOBS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("jobs faults: {kills} kills, BOUCLE_JOBS_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let db_a = Db::create().await;
    demo_database(&db_a).await;
    let db_b = db_a.copy().await;
    let period = boucle_jobs::schedule::previous_period(boucle::store::now_ms(), PARIS).to_string();

    // The uninterrupted run, timed: kills land anywhere within that time.
    let (out_a, out_b) = (dir.path().join("out-a"), dir.path().join("out-b"));
    let began = Instant::now();
    let reference_run = jobs(&db_a, &out_a, &["run", "--period", &period])
        .env("RUST_LOG", "debug")
        .stderr(Stdio::piped())
        .output()
        .expect("reference run");
    let whole = began.elapsed();
    assert!(reference_run.status.success(), "{reference_run:?}");
    no_private_data_in(&db_a, &String::from_utf8_lossy(&reference_run.stderr)).await;
    let reference = visible_files(&out_a);
    let pdfs = reference
        .keys()
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .count();
    let messages = reference.keys().filter(|p| is_message(p)).count();
    assert!(pdfs >= 40, "{pdfs} reports");
    assert_eq!(messages, 2, "one message per recipient");

    let mut killed_running = 0;
    for k in 0..kills {
        let mut child = jobs(&db_b, &out_b, &["run", "--period", &period])
            .args(["--lease-seconds", LEASE_SECONDS])
            .spawn()
            .expect("start run");
        // The first attempt starts from scratch and is the only one sure to have the whole
        // month to do (later ones resume and skip what is done): its kill lands in the first
        // quarter of the reference time, which was measured with debug logging on and so
        // overstates a plain run. The others land anywhere.
        let upper = if k == 0 { 0.25 } else { 1.0 };
        let at = whole.mul_f64(rng.random_range(0.02..upper));
        std::thread::sleep(at);
        if child.try_wait().expect("try_wait").is_none() {
            killed_running += 1;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        check_visible(&reference, &out_b, &format!("after kill {k} at {at:?}"));
        // Wait out the lease so that the next attempt really runs.
        std::thread::sleep(Duration::from_millis(3100));
    }
    run_to_completion(&db_b, &out_b, &period);
    let result = visible_files(&out_b);
    let differing: Vec<_> = reference
        .iter()
        .filter(|(p, bytes)| !is_message(p) && result.get(*p) != Some(bytes))
        .map(|(p, _)| p)
        .collect();
    assert!(
        differing.is_empty(),
        "differ after the kills: {differing:?}"
    );
    check_visible(&reference, &out_b, "at the end");
    assert_eq!(
        result.keys().filter(|p| is_message(p)).count(),
        messages,
        "every recipient got its message, once"
    );
    assert!(killed_running > 0, "at least one kill hit a running job");
    println!(
        "jobs faults: {kills} kills ({killed_running} mid-run), uninterrupted run {whole:?}, {pdfs} PDFs identical, {messages} messages once each"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_daemons_started_together_process_each_period_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::create().await;
    demo_database(&db).await;
    let out = dir.path().join("out");
    // The default lease (300 s): two live daemons, no lease ever expires.
    let mut daemons: Vec<_> = (0..2)
        .map(|_| {
            jobs(&db, &out, &["daemon"])
                .stderr(Stdio::piped())
                .spawn()
                .expect("start daemon")
        })
        .collect();
    let (tx, rx) = std::sync::mpsc::channel();
    for d in &mut daemons {
        let stderr = d.stderr.take().expect("stderr");
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let mut idle = 0;
    while idle < 2 {
        let line = rx
            .recv_timeout(Duration::from_secs(180))
            .expect("both daemons catch up");
        if line.contains("sleeping until the next run") {
            idle += 1;
        }
    }
    for d in &mut daemons {
        let _ = Command::new("kill")
            .args(["-TERM", &d.id().to_string()])
            .status();
        assert!(d.wait().expect("wait").success());
    }
    let store = Store::connect(&DatabaseSettings::new(db.url.clone()))
        .await
        .expect("connect");
    let runs = store
        .connection()
        .query_all_raw(sea_orm::Statement::from_string(
            store.backend(),
            "SELECT period, COUNT(*) AS n FROM job_run WHERE step = 'aggregate' AND status = 'SUCCEEDED' GROUP BY period",
        ))
        .await
        .expect("runs");
    assert_eq!(runs.len(), 11, "the eleven demo months");
    for r in &runs {
        let n: i64 = r.try_get("", "n").expect("n");
        let period: String = r.try_get("", "period").expect("period");
        if n != 1 {
            let rows = store
                .connection()
                .query_all_raw(sea_orm::Statement::from_string(
                    store.backend(),
                    format!("SELECT step || ' ' || status || ' ' || holder || ' ' || started_at || ' ' || COALESCE(finished_at, 0) || ' ' || COALESCE(error, '') AS line FROM job_run WHERE period = '{period}' ORDER BY started_at"),
                ))
                .await
                .expect("rows");
            for r in rows {
                eprintln!("{}", r.try_get::<String>("", "line").expect("line"));
            }
        }
        assert_eq!(n, 1, "{period} aggregated once by the two daemons");
    }
    let messages = std::fs::read_dir(out.join("outbox"))
        .expect("outbox")
        .filter_map(Result::ok)
        .filter(|f| is_message(&f.path()))
        .count();
    assert_eq!(messages, 11 * 2, "each recipient once per month");
}
