//! Bad input of every kind gets its own status, and leaves nothing behind: oversized
//! messages, over-long texts, ids of the wrong type, unknown enum values, malformed or
//! foreign page tokens, forged and revoked keys, deadlines that expire mid-stream.

use std::time::{Duration, Instant};

use boucle::domain::Role;
use boucle::pb;
use boucle_tests::{TestApp, feedback_for, spawn_app, violations};
use tonic::Code;

/// Rows of the tables a bad request could have touched.
async fn footprint(app: &TestApp) -> Vec<i64> {
    let db = app.store.connection();
    let mut counts = Vec::new();
    for table in [
        "feedback",
        "comment",
        "response",
        "action",
        "audit_log",
        "api_key",
    ] {
        counts.push(boucle_tests::count_rows(db, table).await);
    }
    counts
}

fn submit(feedback: pb::Feedback, request_id: &str) -> pb::SubmitFeedbackRequest {
    pb::SubmitFeedbackRequest {
        feedback: Some(feedback),
        request_id: request_id.into(),
    }
}

#[tokio::test]
async fn bad_input_gets_the_right_status_and_changes_nothing() {
    let app = spawn_app().await;
    app.two_networks().await;
    let collector = app.key(Role::Collector, None).await;
    let agent = app.key(Role::Agent, None).await;
    let accepted = app
        .feedback(Some(&collector))
        .submit_feedback(submit(feedback_for("A-1"), "kept"))
        .await
        .expect("a valid experience")
        .into_inner()
        .feedback
        .expect("feedback");
    app.feedback(Some(&collector))
        .submit_feedback(submit(feedback_for("A-2"), "kept-too"))
        .await
        .expect("another valid experience");
    let location_id = app
        .locations(Some(&agent))
        .get_location(pb::GetLocationRequest {
            key: Some(pb::get_location_request::Key::Code("A-1".into())),
        })
        .await
        .expect("location")
        .into_inner()
        .location
        .expect("location")
        .id;
    let mut actions = app.actions(Some(&agent));
    for title in ["Une", "Deux"] {
        actions
            .create_action(pb::CreateActionRequest {
                action: Some(pb::Action {
                    location_id: location_id.clone(),
                    title: title.into(),
                    description: "d".into(),
                    engagement_code: "E4".into(),
                    owner: "o".into(),
                    ..Default::default()
                }),
            })
            .await
            .expect("action");
    }
    let (revoked, revoked_secret) =
        boucle::app::keys::create(&app.store, None, "to revoke", Role::Collector, None)
            .await
            .expect("key");
    app.admin(Some(&app.admin_key))
        .revoke_api_key(pb::RevokeApiKeyRequest {
            id: revoked.key.id.to_string(),
        })
        .await
        .expect("revoke");
    let before = footprint(&app).await;
    let mut capture = app.feedback(Some(&collector));
    let mut reader = app.feedback(Some(&agent));

    // A message over the configured limit (1 MiB) is refused before it is decoded, with the
    // status gRPC specifies and the API documents (tonic's own is OUT_OF_RANGE).
    let huge = capture
        .submit_feedback(submit(
            pb::Feedback {
                story: "a".repeat(2 * 1024 * 1024),
                ..feedback_for("A-1")
            },
            "huge",
        ))
        .await
        .expect_err("oversized");
    assert_eq!(huge.code(), Code::ResourceExhausted, "{huge:?}");

    // A text over its limit: the field is named.
    let long = capture
        .submit_feedback(submit(
            pb::Feedback {
                story: "é".repeat(5_001),
                ..feedback_for("A-1")
            },
            "long",
        ))
        .await
        .expect_err("over-long story");
    assert_eq!(long.code(), Code::InvalidArgument);
    assert_eq!(violations(&long), ["feedback.story"]);

    // Unknown enum values, one violation each.
    let enums = capture
        .submit_feedback(submit(
            pb::Feedback {
                channel: 99,
                satisfaction: -1,
                tags: vec![4242],
                ..feedback_for("A-1")
            },
            "enums",
        ))
        .await
        .expect_err("unknown enums");
    assert_eq!(enums.code(), Code::InvalidArgument);
    assert_eq!(
        violations(&enums),
        [
            "feedback.channel",
            "feedback.satisfaction",
            "feedback.tags[0]"
        ]
    );

    // Ids of the wrong type: not a UUID → INVALID_ARGUMENT; the UUID of another kind of
    // resource → NOT_FOUND (ids never collide across kinds).
    for bad in ["42", "not-a-uuid", "'; DROP TABLE feedback; --"] {
        let status = reader
            .get_feedback(pb::GetFeedbackRequest { id: bad.into() })
            .await
            .expect_err("malformed id");
        assert_eq!(status.code(), Code::InvalidArgument, "{bad}");
        assert_eq!(violations(&status), ["id"]);
    }
    let wrong_kind = reader
        .get_feedback(pb::GetFeedbackRequest {
            id: location_id.clone(),
        })
        .await
        .expect_err("a location id is no feedback id");
    assert_eq!(wrong_kind.code(), Code::NotFound);
    let action_of_feedback = app
        .actions(Some(&agent))
        .get_action(pb::GetActionRequest {
            id: accepted.id.clone(),
        })
        .await
        .expect_err("a feedback id is no action id");
    assert_eq!(action_of_feedback.code(), Code::NotFound);

    // Page tokens: garbage, truncated, or minted by another listing or filter.
    let page = reader
        .list_feedback(pb::ListFeedbackRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("first page")
        .into_inner();
    assert!(
        !page.next_page_token.is_empty(),
        "two experiences, pages of one"
    );
    let token = page.next_page_token;
    let actions_token = actions
        .list_actions(pb::ListActionsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("actions")
        .into_inner()
        .next_page_token;
    let truncated = token[..token.len() / 2].to_owned();
    for (what, bad, location) in [
        ("garbage", "not a token!".to_owned(), String::new()),
        ("truncated", truncated, String::new()),
        ("another listing's", actions_token, String::new()),
        ("another filter's", token.clone(), location_id.clone()),
    ] {
        let status = reader
            .list_feedback(pb::ListFeedbackRequest {
                page_size: 1,
                page_token: bad,
                location_id: location,
                ..Default::default()
            })
            .await
            .expect_err(what);
        assert_eq!(status.code(), Code::InvalidArgument, "{what} token");
        assert_eq!(violations(&status), ["page_token"], "{what} token");
    }

    // Forged and revoked keys.
    let forged = format!("bcl_{}", "x".repeat(43));
    let revoked = secrecy::ExposeSecret::expose_secret(&revoked_secret.secret).to_owned();
    for key in [forged.as_str(), revoked.as_str(), "Bearer", ""] {
        let status = app
            .feedback(Some(key))
            .submit_feedback(submit(feedback_for("A-1"), "with a bad key"))
            .await
            .expect_err("bad key");
        assert_eq!(status.code(), Code::Unauthenticated, "{key:?}");
    }
    assert_eq!(footprint(&app).await, before, "refused calls write nothing");
}

/// A public listing validates its whole request before looking the location up: a
/// malformed period is INVALID_ARGUMENT even for a code that names nothing, and a code that
/// names nothing is NOT_FOUND once the request is well formed.
#[tokio::test]
async fn public_listings_validate_the_request_before_the_location() {
    let app = spawn_app().await;
    let mut results = app.results();
    let bad_period = results
        .list_published_feedback(pb::ListPublishedFeedbackRequest {
            location_code: "NOWHERE".into(),
            period: "2026-13".into(),
            ..Default::default()
        })
        .await
        .expect_err("malformed period");
    assert_eq!(bad_period.code(), Code::InvalidArgument);
    assert_eq!(violations(&bad_period), ["period"]);
    let bad_reports = results
        .list_reports(pb::ListReportsRequest {
            location_code: "NOWHERE".into(),
            period: "juin".into(),
            ..Default::default()
        })
        .await
        .expect_err("malformed period");
    assert_eq!(bad_reports.code(), Code::InvalidArgument);
    let unknown = results
        .list_published_feedback(pb::ListPublishedFeedbackRequest {
            location_code: "NOWHERE".into(),
            period: "2026-06".into(),
            ..Default::default()
        })
        .await
        .expect_err("unknown location");
    assert_eq!(unknown.code(), Code::NotFound);
}

/// A client stream left open past its deadline is cut by the server at the deadline: the
/// server does not wait for a client that went quiet. (tonic reports an expired deadline
/// as CANCELLED on the server side; the client may see DEADLINE_EXCEEDED first.)
#[tokio::test]
async fn an_expired_deadline_ends_the_call() {
    let app = spawn_app().await;
    app.two_networks().await;
    let collector = app.key(Role::Collector, None).await;
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::ImportFeedbackRequest>(4);
    tx.send(pb::ImportFeedbackRequest {
        feedback: Some(feedback_for("A-1")),
        request_id: "before-the-deadline".into(),
    })
    .await
    .expect("send");
    let mut request = tonic::Request::new(tokio_stream::wrappers::ReceiverStream::new(rx));
    request.set_timeout(Duration::from_millis(300));
    let began = Instant::now();
    let status = app
        .feedback(Some(&collector))
        .import_feedback(request)
        .await
        .expect_err("the stream never ends: the deadline does");
    let waited = began.elapsed();
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{status:?}"
    );
    assert!(
        waited < Duration::from_secs(5),
        "cut at the deadline, not later: {waited:?}"
    );
    drop(tx);
}

/// Requests that cannot be read — a protobuf that does not parse, invalid UTF-8 in a string
/// field, an invalid compression flag, a compressed flag without `grpc-encoding`, a payload
/// that does not inflate, a stream that ends inside a message — are the client's fault:
/// INVALID_ARGUMENT, never INTERNAL. Sent with the h2 crate, as no tonic client would.
#[tokio::test]
async fn malformed_requests_are_the_clients_fault() {
    use bytes::{BufMut, Bytes, BytesMut};
    let app = spawn_app().await;
    app.two_networks().await;
    let addr: std::net::SocketAddr = app
        .addr
        .trim_start_matches("http://")
        .parse()
        .expect("address");
    let frame = |flag: u8, declared: u32, payload: &[u8]| {
        let mut b = BytesMut::new();
        b.put_u8(flag);
        b.put_u32(declared);
        b.put_slice(payload);
        b.freeze()
    };
    // GetLocationResultsRequest { location_code (1): bytes that are not UTF-8 }.
    let not_utf8: &[u8] = &[0x0a, 0x02, 0xff, 0xfe];
    /// (what is wrong, extra headers, the request body).
    type Case = (&'static str, &'static [(&'static str, &'static str)], Bytes);
    let cases: [Case; 6] = [
        (
            "protobuf that does not parse",
            &[],
            frame(0, 3, &[0xff, 0xff, 0xff]),
        ),
        ("invalid UTF-8 in a string", &[], frame(0, 4, not_utf8)),
        ("compression flag 7", &[], frame(7, 4, not_utf8)),
        (
            "compressed flag without grpc-encoding",
            &[],
            frame(1, 4, not_utf8),
        ),
        (
            "gzip payload that does not inflate",
            &[("grpc-encoding", "gzip")],
            frame(1, 4, not_utf8),
        ),
        (
            "stream ending inside a message",
            &[],
            frame(0, 40, not_utf8),
        ),
    ];
    let connection = boucle_tests::raw_h2::h2_connection(addr)
        .await
        .expect("connect");
    for (case, headers, body) in cases {
        let answer = boucle_tests::raw_h2::send_frames(
            connection.clone(),
            addr,
            "/boucle.v1.ResultsService/GetLocationResults",
            None,
            headers,
            [body],
        )
        .await
        .expect("an answer");
        assert_eq!(
            answer.grpc_status.as_deref(),
            Some("3"),
            "{case}: {:?}",
            answer.grpc_message
        );
    }
    // The same on a client stream, and on a method that needs a key.
    let collector = app.key(Role::Collector, None).await;
    for path in [
        "/boucle.v1.FeedbackService/ImportFeedback",
        "/boucle.v1.FeedbackService/SubmitFeedback",
    ] {
        let answer = boucle_tests::raw_h2::send_frames(
            connection.clone(),
            addr,
            path,
            Some(&collector),
            &[],
            [frame(0, 3, &[0xff, 0xff, 0xff])],
        )
        .await
        .expect("an answer");
        assert_eq!(
            answer.grpc_status.as_deref(),
            Some("3"),
            "{path}: {:?}",
            answer.grpc_message
        );
    }
    // An encoding the server does not know stays UNIMPLEMENTED (gRPC's own rule).
    let answer = boucle_tests::raw_h2::send_frames(
        connection.clone(),
        addr,
        "/boucle.v1.ResultsService/GetLocationResults",
        None,
        &[("grpc-encoding", "lz4")],
        [frame(1, 4, not_utf8)],
    )
    .await
    .expect("an answer");
    assert_eq!(answer.grpc_status.as_deref(), Some("12"));
}

/// What an outside test found: a huge update mask made a 14 MB error, a bad longitude was
/// blamed on the latitude, and an action created with progress 101 was stored at 0.
#[tokio::test]
async fn field_errors_are_bounded_named_and_never_silently_replaced() {
    let app = spawn_app().await;
    app.two_networks().await;
    let mut locations = app.locations(Some(&app.admin_key));
    let with_mask = |paths: Vec<String>| pb::UpdateLocationRequest {
        location: Some(pb::Location {
            code: "A-1".into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths }),
    };

    let flood = locations
        .update_location(with_mask((0..100_000).map(|i| format!("p{i}")).collect()))
        .await
        .expect_err("a mask of 100,000 unknown paths");
    assert_eq!(flood.code(), Code::InvalidArgument);
    assert_eq!(violations(&flood), ["update_mask"]);
    assert!(flood.message().len() < 200, "{}", flood.message());
    // Many real violations: the first 20 and a count.
    let many = locations
        .update_location(with_mask((0..30).map(|i| format!("unknown_{i}")).collect()))
        .await
        .expect_err("30 unknown paths");
    let listed = violations(&many);
    assert_eq!(listed.len(), 21, "{listed:?}");
    assert!(
        many.message().contains("10 more violations not listed"),
        "{}",
        many.message()
    );

    let off_earth = locations
        .create_location(pb::CreateLocationRequest {
            location: Some(pb::Location {
                code: "A-3".into(),
                name: "Site".into(),
                parent_code: "A-REG".into(),
                latitude: Some(45.76),
                longitude: Some(200.0),
                ..Default::default()
            }),
            inactive: false,
        })
        .await
        .expect_err("a longitude of 200");
    assert_eq!(violations(&off_earth), ["location.longitude"]);

    let site = app
        .locations(Some(&app.admin_key))
        .get_location(pb::GetLocationRequest {
            key: Some(pb::get_location_request::Key::Code("A-1".into())),
        })
        .await
        .expect("site")
        .into_inner()
        .location
        .expect("location");
    for progress in [101, 50] {
        let refused = app
            .actions(Some(&app.admin_key))
            .create_action(pb::CreateActionRequest {
                action: Some(pb::Action {
                    location_id: site.id.clone(),
                    title: "Réduire l'attente".into(),
                    engagement_code: "E4".into(),
                    progress,
                    ..Default::default()
                }),
            })
            .await
            .expect_err("a progress given at creation");
        assert_eq!(violations(&refused), ["action.progress"], "{progress}");
    }
    assert_eq!(
        boucle_tests::count_rows(app.store.connection(), "action").await,
        0
    );
}
