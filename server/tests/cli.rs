//! The real `boucle-server` binary: migrate, keys create, --demo, SIGTERM.
//! (On SQLite: the database code it runs is the same the end-to-end suite runs on both
//! databases.)

mod common;

use std::process::{Command, Stdio};

use boucle::pb;
use boucle::pb::feedback_service_client::FeedbackServiceClient;
use boucle::pb::indicator_service_client::IndicatorServiceClient;
use boucle::pb::location_service_client::LocationServiceClient;
use boucle::pb::results_service_client::ResultsServiceClient;
use tonic::metadata::MetadataValue;

use common::{BIN, lines, wait_for};

fn db_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display())
}

/// Settings go before or after the subcommand, as for `boucle-jobs`
/// (`--database-url X migrate` used to exit 2: "cannot be used with the subcommand").
#[test]
fn settings_work_before_or_after_the_subcommand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = db_url(&dir);
    for args in [
        vec!["--database-url", url.as_str(), "migrate"],
        vec!["migrate", "--database-url", url.as_str()],
        vec![
            "--db-pool",
            "2",
            "--log-format",
            "json",
            "migrate",
            "--database-url",
            url.as_str(),
        ],
    ] {
        let out = Command::new(BIN).args(&args).output().expect("run migrate");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new(BIN)
        .args([
            "--database-url",
            url.as_str(),
            "keys",
            "create",
            "--role",
            "admin",
        ])
        .output()
        .expect("run keys create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn migrate_and_keys_create_work_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args(["migrate", "--database-url", &db_url(&dir)])
        .output()
        .expect("run migrate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied"));

    let out = Command::new(BIN)
        .args([
            "keys",
            "create",
            "--role",
            "admin",
            "--database-url",
            &db_url(&dir),
        ])
        .output()
        .expect("run keys create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(key.starts_with("bcl_") && key.len() == 47, "{key}");

    let out = Command::new(BIN)
        .args([
            "keys",
            "create",
            "--role",
            "agent",
            "--scope",
            "NOPE",
            "--database-url",
            &db_url(&dir),
        ])
        .output()
        .expect("run keys create");
    assert!(!out.status.success(), "an unknown scope must fail");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no location with code NOPE"));
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_serves_real_data_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    // No --database-url: the embedded default, a SQLite file in the working directory.
    let mut child = Command::new(BIN)
        .args(["--demo", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server");
    let stdout = lines(child.stdout.take().expect("stdout"));
    let stderr = lines(child.stderr.take().expect("stderr"));

    let seeded = wait_for(&stdout, |l| l.starts_with("Demo data"));
    assert!(seeded.contains("5 networks"), "{seeded}");
    let key_line = wait_for(&stdout, |l| l.starts_with("Demo ADMIN key"));
    let key = key_line.rsplit(' ').next().expect("key").to_owned();
    let listening = wait_for(&stderr, |l| l.contains("boucle-server listening"));
    let log: serde_json::Value = serde_json::from_str(&listening).expect("JSON log line");
    let addr = log["addr"].as_str().expect("addr").to_owned();
    assert!(
        dir.path().join("boucle.db").exists(),
        "default SQLite file in the working directory"
    );

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let bearer: MetadataValue<_> = format!("Bearer {key}").parse().expect("header");
    let auth = move |mut req: tonic::Request<()>| {
        req.metadata_mut().insert("authorization", bearer.clone());
        Ok(req)
    };
    let roots = LocationServiceClient::with_interceptor(channel.clone(), auth.clone())
        .list_locations(pb::ListLocationsRequest {
            roots_only: true,
            ..Default::default()
        })
        .await
        .expect("list roots")
        .into_inner()
        .locations;
    let codes: Vec<_> = roots.iter().map(|l| l.code.as_str()).collect();
    assert_eq!(codes, ["CAF", "CPAM", "FS", "FT", "PREF"]);

    // A line logged during a call carries the call's span once, as a list (the JSON lines
    // used to repeat it as both `span` and `spans`).
    LocationServiceClient::with_interceptor(channel.clone(), auth.clone())
        .create_location(pb::CreateLocationRequest {
            location: Some(pb::Location {
                code: "CAF-LOG".into(),
                name: "Accueil du test des journaux".into(),
                parent_code: "CAF".into(),
                ..Default::default()
            }),
            inactive: false,
        })
        .await
        .expect("create a location");
    let created = wait_for(&stderr, |l| l.contains("location created"));
    let log: serde_json::Value = serde_json::from_str(&created).expect("JSON log line");
    assert!(
        log.get("span").is_none(),
        "no duplicate span field: {created}"
    );
    let spans = log["spans"].as_array().expect("the span list");
    assert_eq!(spans.len(), 1, "{created}");
    assert_eq!(
        spans[0]["method"], "/boucle.v1.LocationService/CreateLocation",
        "{created}"
    );

    let page = FeedbackServiceClient::with_interceptor(channel.clone(), auth.clone())
        .list_feedback(pb::ListFeedbackRequest {
            page_size: 50,
            ..Default::default()
        })
        .await
        .expect("list feedback")
        .into_inner();
    assert_eq!(page.feedback.len(), 50);
    assert!(!page.next_page_token.is_empty());

    // Every section is there at once: the months were run, with a trend, the reported
    // measurements, public actions, and a PDF per location.
    let previous =
        boucle::domain::Period::containing(boucle::store::now_ms(), chrono_tz::Europe::Paris)
            .previous()
            .to_string();
    let mut results = ResultsServiceClient::new(channel.clone());
    let site = results
        .get_location_results(pb::GetLocationResultsRequest {
            location_code: "CAF69-LYON-PARTDIEU".into(),
            period: String::new(),
            ..Default::default()
        })
        .await
        .expect("published results")
        .into_inner();
    let current = site.current.expect("the latest month");
    assert_eq!(current.period, previous);
    assert!(
        site.history.len() >= 10,
        "a trend: {} months",
        site.history.len()
    );
    let measurements = IndicatorServiceClient::with_interceptor(channel.clone(), auth.clone())
        .list_measurements(pb::ListMeasurementsRequest {
            indicator_code: "WAIT_TIME_MINUTES".into(),
            from_period: previous.clone(),
            to_period: previous.clone(),
            ..Default::default()
        })
        .await
        .expect("measurements")
        .into_inner()
        .measurements;
    assert!(!measurements.is_empty());
    assert!(
        measurements.iter().all(|m| m.target == Some(15.0)),
        "{measurements:?}"
    );
    let actions = results
        .list_public_actions(pb::ListPublicActionsRequest {
            location_code: "CAF69-LYON-PARTDIEU".into(),
            ..Default::default()
        })
        .await
        .expect("public actions")
        .into_inner()
        .actions;
    let statuses: Vec<(i32, &str)> = actions
        .iter()
        .map(|a| (a.status, a.title.as_str()))
        .collect();
    assert_eq!(
        actions.len(),
        3,
        "the internal action is not public: {statuses:?}"
    );
    for status in [
        pb::ActionStatus::Done,
        pb::ActionStatus::InProgress,
        pb::ActionStatus::Planned,
    ] {
        assert!(
            actions.iter().any(|a| a.status == status as i32),
            "{status:?} in {statuses:?}"
        );
    }
    let (_, pdf) = common::first_report(&mut results, "CAF69-LYON-PARTDIEU", &previous).await;
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(
        dir.path()
            .join("out")
            .join("outbox")
            .read_dir()
            .is_ok_and(|mut d| d.next().is_some()),
        "the demo recipients got their messages in the outbox"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "SIGTERM is a clean stop: {status:?}");
    wait_for(&stderr, |l| l.contains("boucle-server stopped"));

    // A second start keeps the data and does not seed twice.
    let out = Command::new(BIN)
        .args(["demo"])
        .current_dir(dir.path())
        .output()
        .expect("demo again");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("already present"));
}

/// A CORS origin that can never match what a browser sends is refused at startup with the
/// reason (it used to be dropped silently, and the portal failed with a CORS error).
#[test]
fn an_unusable_cors_origin_is_refused_at_startup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = db_url(&dir);
    let out = Command::new(BIN)
        .args([
            "--database-url",
            url.as_str(),
            "--listen",
            "127.0.0.1:0",
            "--cors-allow-origin",
            "https://portail.example.fr/",
        ])
        .output()
        .expect("run serve");
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("remove the trailing /"), "{stderr}");
    assert!(!dir.path().join("cli.db").exists(), "nothing opened");

    let out = Command::new(BIN)
        .args(["--database-url", url.as_str(), "--listen", "127.0.0.1:0"])
        .env("BOUCLE_CORS_ALLOW_ORIGINS", "https://a.example.fr,*")
        .output()
        .expect("run serve");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("give * alone"), "{stderr}");
    assert!(!dir.path().join("cli.db").exists(), "nothing opened");
}

/// An unreachable database is named with its host, port and cause, never sqlx's "pool timed
/// out" nor the password; a missing one says so once, with its name.
#[test]
fn an_unreachable_or_missing_database_is_named_with_its_cause() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let error_line = |url: &str| {
        let out = Command::new(BIN)
            .args(["--database-url", url, "migrate"])
            .output()
            .expect("run migrate");
        assert!(!out.status.success(), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !stderr.contains("s3cret"),
            "the password is never shown: {stderr}"
        );
        assert!(!stderr.contains("pool timed out"), "{stderr}");
        stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("an error line: {stderr}"))
    };
    let line = error_line(&format!("postgres://boucle:s3cret@127.0.0.1:{port}/boucle"));
    assert!(
        line.contains(&format!("database boucle at 127.0.0.1:{port}")),
        "{line}"
    );
    assert!(line.to_lowercase().contains("refused"), "{line}");

    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let (server, _) = base.rsplit_once('/').expect("a database in the URL");
            let name = format!("boucle_absent_{}", std::process::id());
            let line = error_line(&format!("{server}/{name}"));
            assert_eq!(line.matches(&name).count(), 2, "named, said once: {line}");
            assert!(line.contains("does not exist"), "{line}");
            assert!(!line.contains("at line"), "{line}");
        }
        _ => eprintln!("the missing-database case needs TEST_DATABASE_URL (PostgreSQL); skipped"),
    }
}
