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

/// A peer that stops answering (its pings unanswered) is dropped: HTTP/2 keepalive pings it
/// once idle and closes the connection when the answer does not come.
#[tokio::test]
async fn a_dead_peer_is_dropped_by_keepalive() {
    let mut args = test_args();
    args.http2_keepalive_seconds = 1;
    let app = spawn_app_with(args).await;
    let peer = RawPeer::connect_deaf(socket(&app)).await.expect("connect");
    let started = Instant::now();
    while !peer.seen().closed && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "keepalive: a peer that answers no ping is dropped after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        peer.seen().closed,
        "the connection of a dead peer is closed"
    );
    // A live one (it answers the pings) stays.
    let live = RawPeer::connect(socket(&app)).await.expect("connect");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!live.seen().closed, "a live peer is kept");
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

/// Eight such imports at once on one connection (grpcio multiplexes a channel's calls on one
/// connection), on the server's own kind of runtime: several threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_imports_of_tiny_items_on_one_connection_succeed() {
    let app = spawn_app_with(test_args()).await;
    app.two_networks().await;
    let collector = app.key(Role::Collector, None).await;
    const CALLS: usize = 8;
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

/// A published answer of A-1 (experience published, answer published), by the admin.
async fn published_answer(app: &TestApp) -> String {
    let feedback = app
        .feedback(Some(&app.admin_key))
        .submit_feedback(pb::SubmitFeedbackRequest {
            feedback: Some(feedback_for("A-1")),
            request_id: String::new(),
        })
        .await
        .expect("submit")
        .into_inner()
        .feedback
        .expect("feedback");
    app.publish_feedback(&feedback.id).await;
    app.publish_answer(
        &feedback.id,
        "L'accueil",
        "Merci, nous avons revu l'affichage.",
    )
    .await
}

/// Votes with fresh voter tokens, as many as `n`, from this client; (accepted, refused as
/// RESOURCE_EXHAUSTED, last counts seen).
async fn vote_flood(
    app: &TestApp,
    answer: &str,
    n: usize,
    forwarded_for: Option<&str>,
) -> (usize, usize) {
    let (mut accepted, mut refused) = (0, 0);
    let mut results = app.results();
    for i in 0..n {
        let mut request = tonic::Request::new(pb::VoteResponseUsefulRequest {
            response_id: answer.into(),
            voter_token: format!("fresh-voter-token-{i:06}-{}", uuid::Uuid::new_v4()),
            useful: true,
        });
        if let Some(address) = forwarded_for {
            request
                .metadata_mut()
                .insert("x-forwarded-for", address.parse().expect("ascii"));
        }
        match results.vote_response_useful(request).await {
            Ok(_) => accepted += 1,
            Err(s) if s.code() == tonic::Code::ResourceExhausted => refused += 1,
            Err(s) => panic!("vote {i}: {s:?}"),
        }
    }
    (accepted, refused)
}

async fn useful_votes(app: &TestApp, answer: &str) -> u64 {
    app.results()
        .list_published_feedback(pb::ListPublishedFeedbackRequest {
            location_code: "A-1".into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("public listing")
        .into_inner()
        .feedback
        .iter()
        .flat_map(|f| f.responses.iter())
        .find(|r| r.id == answer)
        .map_or(0, |r| r.useful_votes)
}

/// 5,000 votes with fresh voter tokens from one client used to be counted. Now one address
/// casts at most 3 votes on an answer a day, and votes per address are rate limited: the
/// flood is refused with RESOURCE_EXHAUSTED and moves the counts by the allowed 3 only.
#[tokio::test]
async fn a_vote_flood_from_one_address_is_refused_and_moves_no_count() {
    let app = spawn_app_with(test_args()).await;
    app.two_networks().await;
    let (first, second) = (published_answer(&app).await, published_answer(&app).await);
    const FLOOD: usize = 500;
    let (accepted, refused) = vote_flood(&app, &first, FLOOD, None).await;
    let (accepted_second, refused_second) = vote_flood(&app, &second, 50, None).await;
    println!(
        "vote flood from one address: {FLOOD} votes with fresh tokens, {accepted} counted, \
         {refused} refused; then 50 on another answer: {accepted_second} counted, \
         {refused_second} refused (rate per address)"
    );
    assert_eq!(accepted, 3, "the daily share of one address on one answer");
    assert_eq!(refused, FLOOD - 3);
    assert_eq!(useful_votes(&app, &first).await, 3);
    assert!(
        accepted_second < 20,
        "the per-address rate limit was spent by the flood: {accepted_second}"
    );
    assert_eq!(useful_votes(&app, &second).await, accepted_second as u64);
    // A forged x-forwarded-for from an untrusted peer changes nothing.
    let (forged, _) = vote_flood(&app, &first, 5, Some("192.0.2.1")).await;
    assert_eq!(forged, 0);
}

/// A portal relaying its visitors' votes is a trusted proxy: each visitor address it names
/// gets its own share, so its users are not all one voter.
#[tokio::test]
async fn a_trusted_portal_relays_each_visitors_address() {
    let mut args = test_args();
    args.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
    let app = spawn_app_with(args).await;
    app.two_networks().await;
    let answer = published_answer(&app).await;
    let mut total = 0;
    for visitor in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        let (accepted, refused) = vote_flood(&app, &answer, 5, Some(visitor)).await;
        assert_eq!((accepted, refused), (3, 2), "{visitor}");
        total += accepted;
    }
    assert_eq!(useful_votes(&app, &answer).await, total as u64);
}

/// ImportLocations shares the shape: 3,000 small locations, one per frame, all created (the
/// outside test's grpcio imports of this size were cut).
#[tokio::test]
async fn an_import_of_locations_one_per_frame_succeeds() {
    use prost::Message;
    let app = spawn_app_with(test_args()).await;
    app.two_networks().await;
    const ITEMS: usize = 3_000;
    let messages = (0..ITEMS).map(|i| {
        pb::ImportLocationsRequest {
            location: Some(pb::Location {
                code: format!("K-{i:05}"),
                name: format!("Guichet {i}"),
                parent_code: "A-REG".into(),
                ..Default::default()
            }),
        }
        .encode_to_vec()
    });
    let addr = socket(&app);
    let connection = boucle_tests::raw_h2::h2_connection(addr)
        .await
        .expect("connect");
    let started = Instant::now();
    let answer = boucle_tests::raw_h2::one_message_per_frame(
        connection,
        addr,
        "/boucle.v1.LocationService/ImportLocations",
        &app.admin_key,
        messages,
    )
    .await
    .expect("the import completes");
    println!(
        "location import, one message per frame: {ITEMS} items in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        answer.grpc_status.as_deref(),
        Some("0"),
        "{:?}",
        answer.grpc_message
    );
    let response = pb::ImportLocationsResponse::decode(answer.message).expect("response");
    assert_eq!(
        response.created as usize,
        ITEMS,
        "{:?}",
        response.outcomes.first()
    );
}
