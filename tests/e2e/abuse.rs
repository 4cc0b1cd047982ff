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
