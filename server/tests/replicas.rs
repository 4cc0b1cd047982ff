//! The production shape, for real: two `boucle-server` replicas on one PostgreSQL and a
//! `boucle-jobs` process with a folder of its own. A report the jobs write is served by
//! both replicas with its SHA-256; the month they aggregate is seen by both within the
//! public cache's lifetime; a key revoked on one replica is refused by the other within the
//! key cache's. PostgreSQL only (SQLite is one machine's file): it runs in the suite's
//! PostgreSQL pass and is skipped, with a message, without `TEST_DATABASE_URL`.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use boucle::pb;
use boucle::pb::admin_service_client::AdminServiceClient;
use boucle::pb::feedback_service_client::FeedbackServiceClient;
use boucle::pb::location_service_client::LocationServiceClient;
use boucle::pb::results_service_client::ResultsServiceClient;
use tonic::Code;

use common::{BIN, authed, sigterm, start};

/// The `boucle-jobs` binary beside this package's: built by the workspace's test run, or
/// built here when this package is tested alone.
fn jobs_binary() -> PathBuf {
    let path = std::path::Path::new(BIN).with_file_name("boucle-jobs");
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = Command::new(cargo)
            .args(["build", "-q", "-p", "boucle-jobs", "--bin", "boucle-jobs"])
            .status()
            .expect("cargo build boucle-jobs");
        assert!(built.success());
    }
    path
}

fn channel(addr: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .timeout(Duration::from_secs(20))
        .connect_lazy()
}

/// Polls `check` until it is true; the time it took.
async fn within(limit: Duration, what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_and_the_jobs_share_reports_results_and_revocations() {
    if !boucle_tests::on_postgres() {
        eprintln!("skipped: two replicas need PostgreSQL (TEST_DATABASE_URL)");
        return;
    }
    let (_database, url) = boucle_tests::fresh_database().await.expect("database");
    let admin = {
        let out = Command::new(BIN)
            .args(["keys", "create", "--role", "admin", "--database-url", &url])
            .output()
            .expect("keys create");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let mut a = start(&url, &[]);
    let mut b = start(&url, &[]);

    // A location and last month's experiences, through replica A.
    LocationServiceClient::new(authed(&a.addr, &admin))
        .create_location(pb::CreateLocationRequest {
            location: Some(pb::Location {
                code: "REPLIQUE-1".into(),
                name: "Accueil de la réplique".into(),
                postal_code: "69003".into(),
                city: "Lyon".into(),
                ..Default::default()
            }),
            inactive: false,
        })
        .await
        .expect("create location");
    let tz = chrono_tz::Europe::Paris;
    let previous = boucle::domain::Period::containing(boucle::store::now_ms(), tz).previous();
    let (from, _) = previous.bounds_ms(tz);
    let items: Vec<pb::ImportFeedbackRequest> = (0..12)
        .map(|i| pb::ImportFeedbackRequest {
            request_id: format!("replique-{i}"),
            feedback: Some(pb::Feedback {
                location_code: "REPLIQUE-1".into(),
                channel: pb::Channel::InPerson as i32,
                satisfaction: if i % 3 == 0 {
                    pb::Satisfaction::Negative as i32
                } else {
                    pb::Satisfaction::Positive as i32
                },
                story: "Bon accueil.".into(),
                submit_time: Some(prost_types::Timestamp {
                    seconds: (from / 1000) + 86_400 * (i + 1),
                    nanos: 0,
                }),
                ..Default::default()
            }),
        })
        .collect();
    let imported = FeedbackServiceClient::new(authed(&a.addr, &admin))
        .import_feedback(tokio_stream::iter(items))
        .await
        .expect("import")
        .into_inner();
    assert_eq!(imported.created, 12, "{imported:?}");

    let results_request = || pb::GetLocationResultsRequest {
        location_code: "REPLIQUE-1".into(),
        period: String::new(),
        ..Default::default()
    };
    for replica in [&a, &b] {
        let none = ResultsServiceClient::new(channel(&replica.addr))
            .get_location_results(results_request())
            .await
            .expect_err("nothing aggregated yet");
        assert_eq!(none.code(), Code::NotFound);
    }

    // The jobs, in a process and a folder of their own.
    let jobs_dir = tempfile::tempdir().expect("tempdir");
    let run = Command::new(jobs_binary())
        .args(["--database-url", &url, "--out"])
        .arg(jobs_dir.path())
        .args(["run", "--period", &previous.to_string()])
        .output()
        .expect("boucle-jobs run");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    // Both replicas see the month within the public cache's 5 s.
    for replica in [&a, &b] {
        let addr = replica.addr.clone();
        within(Duration::from_secs(7), "aggregated month", async || {
            ResultsServiceClient::new(channel(&addr))
                .get_location_results(results_request())
                .await
                .is_ok_and(|r| {
                    r.into_inner()
                        .current
                        .is_some_and(|c| c.period == previous.to_string())
                })
        })
        .await;
    }

    // The report the jobs wrote, served by both with its SHA-256, without their folder.
    let file = jobs_dir
        .path()
        .join("reports")
        .join(previous.to_string())
        .join("REPLIQUE-1.pdf");
    let on_disk = std::fs::read(&file).expect("the jobs' file");
    let digest = boucle::domain::digest::sha256_hex(&on_disk);
    // The jobs ran on another machine, as far as the replicas can tell.
    jobs_dir.close().expect("remove the jobs' folder");
    for replica in [&a, &b] {
        let mut results = ResultsServiceClient::new(channel(&replica.addr));
        let (report, bytes) =
            common::first_report(&mut results, "REPLIQUE-1", &previous.to_string()).await;
        assert_eq!(report.sha256, digest);
        assert_eq!(boucle::domain::digest::sha256_hex(&bytes), digest);
        assert_eq!(bytes, on_disk);
    }

    // A key created and revoked on A is refused by B within the key cache's 5 s.
    let created = AdminServiceClient::new(authed(&a.addr, &admin))
        .create_api_key(pb::CreateApiKeyRequest {
            api_key: Some(pb::ApiKey {
                name: "Borne à révoquer".into(),
                role: pb::Role::Collector as i32,
                ..Default::default()
            }),
        })
        .await
        .expect("create key")
        .into_inner();
    let secret = created.secret.clone();
    let submit = |addr: String, n: u32| {
        let secret = secret.clone();
        async move {
            FeedbackServiceClient::new(authed(&addr, &secret))
                .submit_feedback(pb::SubmitFeedbackRequest {
                    request_id: format!("revocation-{n}"),
                    feedback: Some(pb::Feedback {
                        location_code: "REPLIQUE-1".into(),
                        channel: pb::Channel::Online as i32,
                        satisfaction: pb::Satisfaction::Neutral as i32,
                        ..Default::default()
                    }),
                })
                .await
        }
    };
    submit(b.addr.clone(), 0)
        .await
        .expect("B knows the key (and caches it)");
    AdminServiceClient::new(authed(&a.addr, &admin))
        .revoke_api_key(pb::RevokeApiKeyRequest {
            id: created.api_key.expect("key").id,
        })
        .await
        .expect("revoke on A");
    let refused = submit(a.addr.clone(), 1)
        .await
        .expect_err("A refuses at once");
    assert_eq!(refused.code(), Code::Unauthenticated);
    let mut n = 1;
    let took = within(Duration::from_secs(7), "revocation seen by B", async || {
        n += 1;
        submit(b.addr.clone(), n)
            .await
            .is_err_and(|s| s.code() == Code::Unauthenticated)
    })
    .await;
    assert!(took <= Duration::from_secs(6), "{took:?}");

    for replica in [&mut a, &mut b] {
        sigterm(&replica.child);
        assert!(replica.child.wait().expect("wait").success());
    }
}
