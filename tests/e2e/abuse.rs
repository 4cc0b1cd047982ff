//! Hostile but ordinary internet peers: HTTP/2 stream floods from one connection, imports
//! framed the way grpcio frames them, vote floods and malformed requests. Figures printed by
//! these tests are the ones RELIABILITY.md reports (`-- --nocapture`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use boucle::domain::Role;
use boucle::pb;
use boucle_tests::raw_h2::RawPeer;
use boucle_tests::{TestApp, feedback_for, spawn_app_with, test_args};

fn socket(app: &TestApp) -> SocketAddr {
    app.addr
        .trim_start_matches("http://")
        .parse()
        .expect("socket address")
}

const LIST_PUBLISHED: &str = "/boucle.v1.ResultsService/ListPublishedFeedback";
/// HTTP/2 REFUSED_STREAM.
const REFUSED_STREAM: u32 = 0x7;

/// One keyless connection opens 1,100 streams with headers and no body (the attack that
/// held the whole in-flight budget). The server advertises a stream limit and refuses the
/// streams beyond it at once, ends the others when their message does not come, and every
/// other client — public and authenticated — is served throughout.
#[tokio::test]
async fn a_connection_holding_streams_without_bodies_starves_nobody() {
    let mut args = test_args();
    args.request_message_timeout_seconds = 2;
    // The probe submits as fast as it is answered; the per-key rate limit is not under test.
    args.submit_rate_per_second = 0;
    let app = spawn_app_with(args).await;
    app.two_networks().await;
    let collector = app.key(Role::Collector, None).await;

    let attacker = RawPeer::connect(socket(&app)).await.expect("connect");
    const STREAMS: u32 = 1_100;
    let attack_started = Instant::now();
    attacker.open_without_body((0..STREAMS).map(|i| 2 * i + 1), LIST_PUBLISHED);

    // While the attacker's streams are held, other clients call both kinds of method.
    let (mut calls, mut served) = (0, 0);
    let mut public = app.results();
    let mut capture = app.feedback(Some(&collector));
    while attack_started.elapsed() < Duration::from_millis(1_500) {
        calls += 2;
        let listed = public
            .list_published_feedback(pb::ListPublishedFeedbackRequest {
                location_code: "NET-A".into(),
                ..Default::default()
            })
            .await;
        if let Err(e) = &listed {
            println!("public call refused: {e:?}");
        }
        served += usize::from(listed.is_ok());
        let submitted = capture
            .submit_feedback(pb::SubmitFeedbackRequest {
                feedback: Some(feedback_for("A-1")),
                request_id: String::new(),
            })
            .await;
        if let Err(e) = &submitted {
            println!("submission refused: {e:?}");
        }
        served += usize::from(submitted.is_ok());
    }
    let during = attacker.seen();
    println!("stream flood: other clients' calls served during the attack: {served}/{calls}");
    let limit = during
        .max_concurrent_streams
        .expect("the server advertises a stream limit");
    assert!((100..=256).contains(&limit), "limit {limit}");
    let refused = during
        .reset
        .values()
        .filter(|code| **code == REFUSED_STREAM)
        .count();
    assert!(
        refused >= (STREAMS - limit) as usize,
        "streams beyond the limit are refused at once: {refused}"
    );

    // The held streams are ended once their message is overdue.
    let deadline = Instant::now() + Duration::from_secs(10);
    let after = loop {
        let seen = attacker.seen();
        if seen.ended() == STREAMS as usize || Instant::now() > deadline {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let ended_after = attack_started.elapsed();
    println!(
        "stream flood: {STREAMS} streams opened on one connection, limit {limit}, {refused} \
         refused at once, {} ended in all after {:.1} s (GOAWAY: {:?}); other clients: \
         {served}/{calls} calls served during the attack",
        after.ended(),
        ended_after.as_secs_f64(),
        after.goaway,
    );
    assert_eq!(served, calls, "every other client's call is served");
    assert!(calls >= 20, "the probe ran: {calls} calls");
    assert_eq!(
        after.ended(),
        STREAMS as usize,
        "every stream of the attacker is refused or ended"
    );
}

/// Rating-only items (the kiosk's shape), `items` per call, one per ImportFeedback call of
/// `calls` made at once on one connection, each message in a DATA frame of its own as
/// grpcio sends them. Returns the answers and the time taken.
async fn import_one_per_frame(
    app: &TestApp,
    key: &str,
    calls: usize,
    items: usize,
) -> (Vec<pb::ImportFeedbackResponse>, Duration) {
    use prost::Message;
    let addr = socket(app);
    let connection = boucle_tests::raw_h2::h2_connection(addr)
        .await
        .expect("connect");
    let started = Instant::now();
    let answers = futures::future::join_all((0..calls).map(|call| {
        let messages = (0..items).map(move |i| {
            pb::ImportFeedbackRequest {
                feedback: Some(pb::Feedback {
                    location_code: "A-1".into(),
                    channel: pb::Channel::InPerson as i32,
                    satisfaction: pb::Satisfaction::Positive as i32,
                    ..Default::default()
                }),
                request_id: format!("kiosk-{call}-{i}"),
            }
            .encode_to_vec()
        });
        boucle_tests::raw_h2::one_message_per_frame(
            connection.clone(),
            addr,
            "/boucle.v1.FeedbackService/ImportFeedback",
            key,
            messages,
        )
    }))
    .await;
    let elapsed = started.elapsed();
    let answers = answers
        .into_iter()
        .map(|answer| {
            let answer = answer.expect("the import completes");
            assert_eq!(
                answer.grpc_status.as_deref(),
                Some("0"),
                "{:?}",
                answer.grpc_message
            );
            pb::ImportFeedbackResponse::decode(answer.message).expect("response")
        })
        .collect();
    (answers, elapsed)
}

/// 10,000 tiny items in one call, one per frame: the import completes with one outcome per
/// item and every item stored once (it was cut by h2's flood protection after a few hundred).
#[tokio::test]
async fn an_import_of_tiny_items_one_per_frame_succeeds() {
    let app = spawn_app_with(test_args()).await;
    app.two_networks().await;
    let collector = app.key(Role::Collector, None).await;
    const ITEMS: usize = 10_000;
    let (answers, elapsed) = import_one_per_frame(&app, &collector, 1, ITEMS).await;
    println!(
        "import, one message per frame: {ITEMS} items in {:.2} s ({:.0} items/s)",
        elapsed.as_secs_f64(),
        ITEMS as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(answers[0].outcomes.len(), ITEMS);
    assert_eq!(answers[0].created as usize, ITEMS);
    assert!(
        answers[0]
            .outcomes
            .iter()
            .enumerate()
            .all(|(i, o)| o.index as usize == i),
        "outcomes in the order of the items"
    );
    assert_eq!(
        boucle_tests::count_rows(app.store.connection(), "feedback").await,
        ITEMS as i64
    );
}

/// Four such imports at once on one connection: the server reads every stream ahead of
/// storing it, so the small frames held unread never reach h2's budget. (On the server's own
/// runtime: several threads, so a stream's reader runs while the connection reads frames.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_imports_of_tiny_items_on_one_connection_succeed() {
    let app = spawn_app_with(test_args()).await;
    app.two_networks().await;
    let collector = app.key(Role::Collector, None).await;
    const CALLS: usize = 4;
    const ITEMS: usize = 10_000;
    let (answers, elapsed) = import_one_per_frame(&app, &collector, CALLS, ITEMS).await;
    println!(
        "import, one message per frame: {CALLS} calls of {ITEMS} items at once in {:.2} s \
         ({:.0} items/s)",
        elapsed.as_secs_f64(),
        (CALLS * ITEMS) as f64 / elapsed.as_secs_f64()
    );
    assert!(answers.iter().all(|a| a.created as usize == ITEMS));
    assert_eq!(
        boucle_tests::count_rows(app.store.connection(), "feedback").await,
        (CALLS * ITEMS) as i64
    );
}
