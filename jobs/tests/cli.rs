//! The real `boucle-jobs` binary: the daemon catches up missed months and stops cleanly on
//! SIGTERM; a period held by another worker exits 75 (EX_TEMPFAIL); uncertain messages are
//! listed and settled. On SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use boucle::store::{DatabaseSettings, Store};

const BIN: &str = env!("CARGO_BIN_EXE_boucle-jobs");

/// The demo data set in a database of the test's own (SQLite, or PostgreSQL with
/// `TEST_DATABASE_URL`); keep the first value alive for as long as the database is used.
async fn demo_database() -> (boucle_tests::TestDatabase, Store, String) {
    let (database, url) = boucle_tests::fresh_database().await.expect("database");
    let store = Store::connect(&DatabaseSettings::new(url.clone()))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    boucle::demo::seed(&store, 7, chrono_tz::Europe::Paris, boucle::store::now_ms())
        .await
        .expect("demo");
    (database, store, url)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_catches_up_missed_months_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_database, store, url) = demo_database().await;
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
    assert_eq!(
        open_data, 33,
        "CSV, spreadsheet CSV and JSON for each month"
    );
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
    let (_database, store, url) = demo_database().await;
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

/// A message a stopped run may have handed to the SMTP relay is never resent on its own:
/// `uncertain` lists it, and `settle` records what the relay's log says. `--not-sent` lets
/// the next delivery send it; `--sent` records it, and the next delivery sends nothing.
#[tokio::test(flavor = "multi_thread")]
async fn uncertain_messages_are_listed_and_settled_by_the_operator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_database, store, url) = demo_database().await;
    let out = dir.path().join("out");
    let jobs = |args: &[&str]| {
        let output = Command::new(BIN)
            .args(args)
            .arg("--database-url")
            .arg(&url)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("run");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let recipients = boucle_tests::demo_recipients(&store).await;
    let (code, stdout, stderr) = jobs(&["report", "--period", "2026-10"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("reports written"), "{stdout}");
    // What a run killed in the middle of two SMTP conversations leaves: both messages
    // recorded PENDING.
    let period: boucle::domain::Period = "2026-10".parse().expect("period");
    for (recipient, message_id) in recipients.iter().zip(["m1.test@boucle", "m2.test@boucle"]) {
        let versions: Vec<_> = store
            .reports_in_subtree(recipient.location_id, period)
            .await
            .expect("reports")
            .into_iter()
            .map(|r| (r.report.id, r.report.sha256))
            .collect();
        assert!(!versions.is_empty());
        store
            .record_pending_deliveries(recipient.id, &versions, "SMTP", message_id)
            .await
            .expect("pending");
    }

    let (code, stdout, _) = jobs(&["uncertain"]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with("<m1.test@boucle>\t2026-10\tdirection@caf69.test\t"),
        "{stdout}"
    );
    assert!(lines[1].starts_with("<m2.test@boucle>\t2026-10\tagence@fs.test\t"));

    // The relay's log shows m1 never left, m2 did.
    let (code, stdout, stderr) = jobs(&["settle", "<m1.test@boucle>", "--not-sent"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("forgotten"), "{stdout}");
    let (code, stdout, stderr) = jobs(&["settle", "m2.test@boucle", "--sent"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("recorded as sent"), "{stdout}");
    let (_, stdout, _) = jobs(&["uncertain"]);
    assert_eq!(stdout.trim(), "no uncertain message");

    // The next delivery sends m1's reports to its recipient, and nothing to m2's.
    let (code, stdout, stderr) = jobs(&["deliver", "--period", "2026-10"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("1 messages") && stdout.contains("1 recipients up to date"),
        "{stdout}"
    );
    let messages: Vec<String> = std::fs::read_dir(out.join("outbox"))
        .expect("outbox")
        .filter_map(Result::ok)
        .map(|f| std::fs::read_to_string(f.path()).unwrap_or_default())
        .collect();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains("direction@caf69.test"));

    // Nothing left to settle; a wrong command line is refused.
    let (code, _, stderr) = jobs(&["settle", "m1.test@boucle", "--sent"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("no uncertain message <m1.test@boucle>"),
        "{stderr}"
    );
    let (code, _, _) = jobs(&["settle", "m3.test@boucle"]);
    assert_eq!(code, Some(2), "--sent or --not-sent is required");
    let (code, _, _) = jobs(&["settle", "m3.test@boucle", "--sent", "--not-sent"]);
    assert_eq!(code, Some(2));
}

/// Run where there is no database, the jobs refuse and create nothing (they used to create
/// an empty database and report "0 locations aggregated").
#[test]
fn the_jobs_refuse_a_missing_database_and_create_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let named = dir.path().join("absent.db");
    let url = format!("sqlite://{}?mode=rwc", named.display());
    for args in [
        vec![
            "aggregate",
            "--period",
            "2026-10",
            "--database-url",
            url.as_str(),
        ],
        // The default URL, in a folder without `boucle.db`.
        vec!["aggregate", "--period", "2026-10"],
    ] {
        let out = Command::new(BIN)
            .args(&args)
            .current_dir(dir.path())
            .output()
            .expect("run boucle-jobs");
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no database at"), "{args:?}: {stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("aggregated"));
    }
    assert!(!named.exists(), "no database created");
    assert!(
        !dir.path().join("boucle.db").exists(),
        "no default database created"
    );
}

/// With a relay, the default sender (`noreply@localhost`) is refused before anything is
/// sent: relays reject it, or recipients' servers do.
#[tokio::test(flavor = "multi_thread")]
async fn a_relay_needs_a_real_sender_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_database, store, url) = demo_database().await;
    store.close().await.expect("close");
    let out = Command::new(BIN)
        .args([
            "deliver",
            "--period",
            "2026-10",
            "--database-url",
            &url,
            "--smtp-host",
            "127.0.0.1",
            "--out",
        ])
        .arg(dir.path().join("out"))
        .output()
        .expect("run deliver");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a relay needs a real sender address"),
        "{stderr}"
    );
}

/// On a terminal, `run` shows one bar named by its step, which restarts at each step and
/// never moves back within one, and leaves a line per finished step, in order. (Run under
/// `script`, which gives the binary a terminal.)
#[tokio::test(flavor = "multi_thread")]
async fn the_progress_of_a_run_names_each_step_and_never_goes_back() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("`script` (util-linux) is not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (_database, store, url) = demo_database().await;
    store.close().await.expect("close");
    let period =
        boucle::domain::Period::containing(boucle::store::now_ms(), chrono_tz::Europe::Paris)
            .previous()
            .to_string();
    let command = format!(
        "'{BIN}' --database-url '{url}' --out '{}' run --period {period}",
        dir.path().join("out").display()
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("run under script");
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{screen}");
    // What the terminal shows, frame by frame: escape sequences out, split where each frame
    // starts with the period.
    let mut text = String::new();
    let mut chars = screen.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else if c != '\r' && c != '\n' {
            text.push(c);
        } else {
            text.push(' ');
        }
    }
    let prefix = format!("{period} ");
    let frames: Vec<&str> = text.split(prefix.as_str()).skip(1).map(str::trim).collect();
    let finished: Vec<&str> = frames
        .iter()
        .filter_map(|f| f.strip_suffix(": done"))
        .collect();
    assert_eq!(
        finished,
        ["aggregate", "reports", "open data", "delivery"],
        "{text}"
    );
    // Within a step, the position never drops; a step never comes back once finished.
    let mut last: Option<(&str, u64)> = None;
    let mut seen: Vec<&str> = Vec::new();
    for frame in &frames {
        let Some((step, tail)) = frame.split_once(" [") else {
            continue;
        };
        let Some(pos) = tail
            .split_once("] ")
            .and_then(|(_, t)| t.split('/').next())
            .and_then(|p| p.trim().parse::<u64>().ok())
        else {
            continue;
        };
        match last {
            Some((previous, at)) if previous == step => {
                assert!(pos >= at, "{step} went back from {at} to {pos}: {text}");
            }
            _ => {
                assert!(!seen.contains(&step), "{step} came back: {text}");
                seen.push(step);
            }
        }
        last = Some((step, pos));
    }
    // Frames are drawn at most so often: a quick step may show only its last one, but
    // never out of order.
    let order = ["aggregate", "reports", "open data", "delivery"];
    let ranks: Vec<usize> = seen
        .iter()
        .map(|s| order.iter().position(|o| o == s).expect("a known step"))
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{seen:?}: {text}");
}

/// With `--open-data-base-url`, the catalogue a harvester reads gives every file's absolute
/// address under it (a missing final `/` added), each naming a file the run wrote; an address
/// that is not an http(s) folder is refused before anything runs.
#[tokio::test(flavor = "multi_thread")]
async fn the_catalogue_gives_absolute_addresses_under_the_base_url() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_database, store, url) = demo_database().await;
    store.close().await.expect("close");
    let export = |base: &str| {
        Command::new(BIN)
            .args(["export", "--period", "2026-10", "--database-url", &url])
            .args(["--open-data-base-url", base, "--out"])
            .arg(dir.path())
            .output()
            .expect("run export")
    };
    for bad in [
        "ftp://data.example.fr/",
        "data.example.fr/boucle",
        "https://x.fr/?a=1",
    ] {
        let out = export(bad);
        assert_eq!(out.status.code(), Some(2), "{bad}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--open-data-base-url"),
            "{bad}: {out:?}"
        );
    }
    assert!(
        !dir.path().join("catalogue.jsonld").exists(),
        "nothing written"
    );
    let out = export("https://data.example.gouv.fr/boucle");
    assert!(out.status.success(), "{out:?}");
    let catalogue: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("catalogue.jsonld")).expect("catalogue"),
    )
    .expect("json-ld");
    let base = "https://data.example.gouv.fr/boucle/";
    assert_eq!(catalogue["@id"], format!("{base}catalogue.jsonld"));
    let mut seen = 0;
    for dataset in catalogue["dcat:dataset"].as_array().expect("datasets") {
        for dist in dataset["dcat:distribution"]
            .as_array()
            .expect("distributions")
        {
            for key in ["dcat:downloadURL", "dct:conformsTo"] {
                let address = dist[key]["@id"].as_str().expect("address");
                let name = address
                    .strip_prefix(base)
                    .unwrap_or_else(|| panic!("{key} {address} is under {base}"));
                assert!(dir.path().join(name).is_file(), "{address} was written");
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 18, "three datasets, six distributions each");
}
