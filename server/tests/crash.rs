//! Crash consistency and graceful shutdown of the real `boucle-server` binary under load.
//!
//! Clients submit experiences without pause while the server is killed with SIGKILL at random
//! moments, then restarted on the same database; calls whose outcome the client never saw are
//! retried with the same `request_id`, and already acknowledged ones are replayed. At the end
//! every acknowledged experience must be stored exactly once (with the id it was acknowledged
//! with), nothing else may be stored, and the database must pass its integrity check. A last
//! round stops the server with SIGTERM under load: in-flight calls complete, nothing is lost.
//!
//! Quick in the default suite (20 kills); the long version is documented in RELIABILITY.md:
//! `BOUCLE_CRASH_KILLS=200 cargo test -p boucle-server --test crash -- --nocapture`.
//! `BOUCLE_CRASH_SEED` replays the random moments of a failed run (the seed is printed).
//! With `TEST_DATABASE_URL` the same run happens on a fresh PostgreSQL database.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use boucle::pb;
use boucle::pb::feedback_service_client::FeedbackServiceClient;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use tonic::Code;

use common::{authed, seed_demo, sigterm, start, wait_for};

/// No per-key rate limit: this test is about durability, not admission.
const NO_RATE_LIMIT: &[(&str, &str)] = &[("BOUCLE_SUBMIT_RATE", "0")];
const LOCATION: &str = "CAF69-LYON-PARTDIEU";
const CLIENTS: usize = 12;

/// What the clients know: acknowledged request ids with the id they were answered, and
/// request ids whose outcome they did not see (to retry with the same id).
#[derive(Default)]
struct Ledger {
    acked: HashMap<String, String>,
    unknown: Vec<String>,
    issued: u64,
    /// A replay answered with another id than the first acknowledgement: must stay empty.
    mismatches: Vec<String>,
    /// Calls that failed with a status other than a transport failure (SIGTERM round).
    unexpected: Vec<String>,
}

impl Ledger {
    fn next(&mut self, rng: &mut StdRng) -> (String, bool) {
        if let Some(id) = self.unknown.pop() {
            return (id, false);
        }
        // One call in ten replays an acknowledged submission.
        if rng.random_ratio(1, 10)
            && let Some(id) = self
                .acked
                .keys()
                .nth(rng.random_range(0..self.acked.len().max(1)))
        {
            return (id.clone(), true);
        }
        self.issued += 1;
        (format!("crash-{:06}", self.issued), false)
    }
}

/// Submits until `stop`, or until the server goes away.
async fn client(
    addr: String,
    key: String,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    seed: u64,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut client = FeedbackServiceClient::new(authed(&addr, &key));
    while !stop.load(Ordering::Relaxed) {
        let (request_id, replay) = ledger.lock().expect("ledger").next(&mut rng);
        let call = client
            .submit_feedback(pb::SubmitFeedbackRequest {
                feedback: Some(boucle_tests::feedback_for(LOCATION)),
                request_id: request_id.clone(),
            })
            .await;
        let mut ledger = ledger.lock().expect("ledger");
        match call {
            Ok(answer) => {
                let id = answer
                    .into_inner()
                    .feedback
                    .map(|f| f.id)
                    .unwrap_or_default();
                match ledger.acked.get(&request_id).cloned() {
                    Some(first) if first != id => ledger
                        .mismatches
                        .push(format!("{request_id}: {first} then {id}")),
                    Some(_) => {}
                    None => {
                        ledger.acked.insert(request_id, id);
                    }
                }
            }
            Err(status) => {
                if !replay {
                    ledger.unknown.push(request_id);
                }
                if !is_transport_failure(&status) {
                    ledger.unexpected.push(format!("{status:?}"));
                }
                return;
            }
        }
    }
}

/// A server that died or is stopping: connection refused or reset (UNAVAILABLE, or UNKNOWN
/// for a stream cut mid-way), a refused stream after GOAWAY (CANCELLED). tonic reports a
/// stream the HTTP/2 layer ended with the server's GOAWAY(NO_ERROR) as INTERNAL, with the
/// transport error as its source: that is a transport failure too. An INTERNAL the server
/// answered itself carries no such source, so it stays unexpected.
fn is_transport_failure(status: &tonic::Status) -> bool {
    use std::error::Error as _;
    match status.code() {
        Code::Unavailable | Code::Unknown | Code::Cancelled => true,
        Code::Internal => status
            .source()
            .is_some_and(|e| e.downcast_ref::<tonic::transport::Error>().is_some()),
        _ => false,
    }
}

/// Runs the clients against `server` until `end` returns, then waits for them.
async fn under_load(
    addr: &str,
    key: &str,
    ledger: &Arc<Mutex<Ledger>>,
    rng: &mut StdRng,
    end: impl AsyncFnOnce(),
) {
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            tokio::spawn(client(
                addr.to_owned(),
                key.to_owned(),
                ledger.clone(),
                stop.clone(),
                rng.random(),
            ))
        })
        .collect();
    end().await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .expect("client stops")
            .expect("client task");
    }
}

async fn stored(db: &DatabaseConnection) -> Vec<(String, String)> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT request_id, id FROM feedback WHERE request_id LIKE 'crash-%' ORDER BY request_id",
    ))
    .await
    .expect("stored experiences")
    .into_iter()
    .map(|row| {
        let rid: String = row.try_get("", "request_id").expect("request_id");
        let id: uuid::Uuid = row.try_get("", "id").expect("id");
        (rid, id.to_string())
    })
    .collect()
}

/// The database's own consistency check: SQLite's integrity_check; on PostgreSQL, amcheck
/// over every B-tree index of the schema, heap tuples included.
async fn integrity(db: &DatabaseConnection) {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            let row = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "PRAGMA integrity_check",
                ))
                .await
                .expect("integrity_check")
                .expect("a row");
            let verdict: String = row.try_get_by_index(0).expect("verdict");
            assert_eq!(verdict, "ok");
        }
        _ => {
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS amcheck")
                .await
                .expect("amcheck");
            let checked = db
                .query_all_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT bt_index_check(c.oid, true)::text AS ok FROM pg_index i \
                     JOIN pg_class c ON c.oid = i.indexrelid \
                     JOIN pg_am am ON am.oid = c.relam \
                     WHERE am.amname = 'btree' AND c.relnamespace = 'public'::regnamespace",
                ))
                .await
                .expect("bt_index_check");
            assert!(!checked.is_empty(), "indexes checked");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_experiences_survive_sigkill_exactly_once() {
    let kills: usize = std::env::var("BOUCLE_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("BOUCLE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("crash test: {kills} kills, BOUCLE_CRASH_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let (_database, url) = boucle_tests::fresh_database().await.expect("database");
    let published = tempfile::tempdir().expect("tempdir");
    let key = seed_demo(&url, published.path());
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let began = Instant::now();

    for _ in 0..kills {
        let mut server = start(&url, NO_RATE_LIMIT);
        let after = Duration::from_millis(rng.random_range(20..400));
        let addr = server.addr.clone();
        under_load(&addr, &key, &ledger, &mut rng, async || {
            tokio::time::sleep(after).await;
            server.child.kill().expect("SIGKILL");
            server.child.wait().expect("reap");
        })
        .await;
    }

    // SIGTERM under load: calls in flight finish, later ones are refused, the exit is clean.
    let mut server = start(&url, NO_RATE_LIMIT);
    let before_term = ledger.lock().expect("ledger").acked.len();
    let addr = server.addr.clone();
    under_load(&addr, &key, &ledger, &mut rng, async || {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sigterm(&server.child);
        let status = server.child.wait().expect("wait");
        assert!(status.success(), "SIGTERM is a clean stop: {status:?}");
    })
    .await;
    wait_for(&server.stderr, |l| l.contains("boucle-server stopped"));
    let after_term = ledger.lock().expect("ledger").acked.len();
    assert!(after_term > before_term, "the SIGTERM round made progress");

    // Every call whose outcome was not seen is retried with its request_id until answered.
    let mut server = start(&url, NO_RATE_LIMIT);
    loop {
        let pending = ledger.lock().expect("ledger").unknown.len();
        if pending == 0 {
            break;
        }
        under_load(&server.addr, &key, &ledger, &mut rng, async || {
            tokio::time::sleep(Duration::from_millis(50)).await;
        })
        .await;
    }
    sigterm(&server.child);
    assert!(server.child.wait().expect("wait").success());

    let ledger = std::mem::take(&mut *ledger.lock().expect("ledger"));
    assert!(ledger.mismatches.is_empty(), "{:?}", ledger.mismatches);
    assert!(
        ledger.unexpected.is_empty(),
        "only transport failures are expected: {:?}",
        ledger.unexpected
    );
    let db = Database::connect(&url).await.expect("open database");
    let rows = stored(&db).await;
    let mut per_request: HashMap<&str, Vec<&str>> = HashMap::new();
    for (rid, id) in &rows {
        per_request.entry(rid).or_default().push(id);
    }
    let twice: Vec<_> = per_request
        .iter()
        .filter(|(_, ids)| ids.len() > 1)
        .collect();
    assert!(twice.is_empty(), "stored twice: {twice:?}");
    for (rid, id) in &ledger.acked {
        assert_eq!(
            per_request.get(rid.as_str()).map(|ids| ids[0]),
            Some(id.as_str()),
            "acknowledged {rid} must be stored under the id it was answered with"
        );
    }
    assert_eq!(
        rows.len() as u64,
        ledger.issued,
        "every issued request is stored once, nothing else"
    );
    assert_eq!(ledger.acked.len() as u64, ledger.issued);
    integrity(&db).await;
    db.close().await.expect("close");
    println!(
        "crash test: {kills} SIGKILLs + 1 SIGTERM, {} experiences acknowledged, {} stored, 0 duplicates, integrity ok, {:.1} s",
        ledger.acked.len(),
        rows.len(),
        began.elapsed().as_secs_f64()
    );
}
