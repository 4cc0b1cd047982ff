//! FeedbackService: capture, validation, idempotency, redaction, listing.

use std::collections::HashSet;

use boucle::domain::Role;
use boucle::pb;
use boucle_tests::{TestApp, feedback_for, spawn_app, spawn_app_with, test_args, violations};
use tonic::Code;

async fn submit(
    app: &TestApp,
    key: &str,
    feedback: pb::Feedback,
    request_id: &str,
) -> Result<pb::SubmitFeedbackResponse, tonic::Status> {
    app.feedback(Some(key))
        .submit_feedback(pb::SubmitFeedbackRequest {
            feedback: Some(feedback),
            request_id: request_id.into(),
        })
        .await
        .map(|r| r.into_inner())
}

async fn setup() -> (TestApp, String) {
    let app = spawn_app().await;
    app.two_networks().await;
    let collector = app.key(Role::Collector, None).await;
    (app, collector)
}

#[tokio::test]
async fn a_submitted_experience_is_stored_pending_and_listed() {
    let (app, collector) = setup().await;
    let answer = submit(
        &app,
        &collector,
        pb::Feedback {
            nps: Some(9),
            effort: Some(6),
            title: "  Très bon accueil ".into(),
            tags: vec![pb::Tag::Relation as i32],
            labels: vec!["prime-activite".into()],
            occurred_on: "2026-01-15".into(),
            pseudonym: "Camille".into(),
            contact_email: "Camille@Example.org".into(),
            ..feedback_for("A-1")
        },
        "req-1",
    )
    .await
    .expect("submit");
    assert!(!answer.replayed);
    let f = answer.feedback.expect("feedback");
    assert_eq!(f.status, pb::ModerationStatus::Pending as i32);
    assert_eq!(f.location_code, "A-1");
    assert_eq!(f.title, "Très bon accueil", "texts are trimmed");
    assert_eq!(f.contact_email, "camille@example.org");
    assert_eq!(f.audience, pb::Audience::Usager as i32, "USAGER by default");
    assert_eq!(f.labels, ["prime-activite"]);

    let agent = app.key(Role::Agent, None).await;
    let listed = app
        .feedback(Some(&agent))
        .list_feedback(pb::ListFeedbackRequest::default())
        .await
        .expect("list")
        .into_inner()
        .feedback;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, f.id);
    let got = app
        .feedback(Some(&agent))
        .get_feedback(pb::GetFeedbackRequest { id: f.id.clone() })
        .await
        .expect("get")
        .into_inner()
        .feedback
        .expect("feedback");
    assert_eq!(got.nps, Some(9));
    assert_eq!(got.tags, [pb::Tag::Relation as i32]);
}

/// Each rule of docs/product.md, one request each, with the field it must name.
#[tokio::test]
async fn each_validation_rule_names_its_field() {
    let (app, collector) = setup().await;
    let base = || feedback_for("A-1");
    let long_request_id = "x".repeat(129);
    let cases: Vec<(pb::Feedback, &str, &str)> = vec![
        (
            pb::Feedback {
                nps: Some(11),
                ..base()
            },
            "",
            "feedback.nps",
        ),
        (
            pb::Feedback {
                effort: Some(0),
                ..base()
            },
            "",
            "feedback.effort",
        ),
        (
            pb::Feedback {
                effort: Some(8),
                ..base()
            },
            "",
            "feedback.effort",
        ),
        (
            pb::Feedback {
                satisfaction: 0,
                ..base()
            },
            "",
            "feedback.satisfaction",
        ),
        (
            pb::Feedback {
                satisfaction: 42,
                ..base()
            },
            "",
            "feedback.satisfaction",
        ),
        (
            pb::Feedback {
                channel: 0,
                ..base()
            },
            "",
            "feedback.channel",
        ),
        (
            pb::Feedback {
                audience: 99,
                ..base()
            },
            "",
            "feedback.audience",
        ),
        (
            pb::Feedback {
                title: "é".repeat(121),
                ..base()
            },
            "",
            "feedback.title",
        ),
        (
            pb::Feedback {
                story: "a".repeat(5_001),
                ..base()
            },
            "",
            "feedback.story",
        ),
        (
            pb::Feedback {
                proposal: "a".repeat(2_001),
                ..base()
            },
            "",
            "feedback.proposal",
        ),
        (
            pb::Feedback {
                procedure: "a".repeat(201),
                ..base()
            },
            "",
            "feedback.procedure",
        ),
        (
            pb::Feedback {
                pseudonym: "a".repeat(61),
                ..base()
            },
            "",
            "feedback.pseudonym",
        ),
        (
            pb::Feedback {
                story: "nul\u{0}".into(),
                ..base()
            },
            "",
            "feedback.story",
        ),
        (
            pb::Feedback {
                tags: vec![0],
                ..base()
            },
            "",
            "feedback.tags[0]",
        ),
        (
            pb::Feedback {
                tags: vec![1, 77],
                ..base()
            },
            "",
            "feedback.tags[1]",
        ),
        (
            pb::Feedback {
                labels: vec!["Majuscules".into()],
                ..base()
            },
            "",
            "feedback.labels[0]",
        ),
        (
            pb::Feedback {
                labels: (0..21).map(|i| format!("l{i}")).collect(),
                ..base()
            },
            "",
            "feedback.labels",
        ),
        (
            pb::Feedback {
                occurred_on: "2026-02-30".into(),
                ..base()
            },
            "",
            "feedback.occurred_on",
        ),
        (
            pb::Feedback {
                occurred_on: "2999-01-01".into(),
                ..base()
            },
            "",
            "feedback.occurred_on",
        ),
        (
            pb::Feedback {
                contact_email: "pas-une-adresse".into(),
                ..base()
            },
            "",
            "feedback.contact_email",
        ),
        (
            pb::Feedback {
                location_code: String::new(),
                ..base()
            },
            "",
            "feedback.location_id",
        ),
        (
            pb::Feedback {
                location_code: String::new(),
                location_id: "not-a-uuid".into(),
                ..base()
            },
            "",
            "feedback.location_id",
        ),
        (base(), "contains spaces", "request_id"),
        (base(), long_request_id.as_str(), "request_id"),
    ];
    for (feedback, request_id, field) in cases {
        let status = submit(&app, &collector, feedback, request_id)
            .await
            .expect_err(field);
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert!(
            violations(&status).contains(&field.to_owned()),
            "{field} not in {:?}",
            violations(&status)
        );
    }
    // All violations of a request come together.
    let status = submit(
        &app,
        &collector,
        pb::Feedback {
            nps: Some(11),
            effort: Some(9),
            satisfaction: 0,
            ..base()
        },
        "",
    )
    .await
    .expect_err("three violations");
    assert_eq!(
        violations(&status),
        ["feedback.satisfaction", "feedback.nps", "feedback.effort"]
    );
    let missing = app
        .feedback(Some(&collector))
        .submit_feedback(pb::SubmitFeedbackRequest {
            feedback: None,
            request_id: String::new(),
        })
        .await
        .expect_err("no feedback");
    assert_eq!(violations(&missing), ["feedback"]);
    // Nothing was written by any refused request.
    let agent = app.key(Role::Agent, None).await;
    let listed = app
        .feedback(Some(&agent))
        .list_feedback(pb::ListFeedbackRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(listed.feedback.is_empty());
}

#[tokio::test]
async fn boundaries_are_accepted() {
    let (app, collector) = setup().await;
    let f = pb::Feedback {
        nps: Some(0),
        effort: Some(7),
        title: "é".repeat(120),
        story: "a".repeat(5_000),
        proposal: "b".repeat(2_000),
        labels: (0..20).map(|i| format!("l{i}")).collect(),
        ..feedback_for("A-1")
    };
    submit(&app, &collector, f, &"x".repeat(128))
        .await
        .expect("limits are inclusive");
}

#[tokio::test]
async fn unknown_location_is_not_found_and_inactive_is_failed_precondition() {
    let (app, collector) = setup().await;
    let missing = submit(&app, &collector, feedback_for("NOPE"), "")
        .await
        .expect_err("missing");
    assert_eq!(missing.code(), Code::NotFound);
    app.locations(Some(&app.admin_key))
        .update_location(pb::UpdateLocationRequest {
            location: Some(pb::Location {
                code: "A-2".into(),
                active: false,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["active".into()],
            }),
        })
        .await
        .expect("deactivate");
    let inactive = submit(&app, &collector, feedback_for("A-2"), "")
        .await
        .expect_err("inactive");
    assert_eq!(inactive.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn a_retry_with_the_same_request_id_returns_the_original() {
    let (app, collector) = setup().await;
    let first = submit(&app, &collector, feedback_for("A-1"), "retry-1")
        .await
        .expect("first");
    let second = submit(&app, &collector, feedback_for("A-1"), "retry-1")
        .await
        .expect("retry");
    assert!(!first.replayed);
    assert!(second.replayed);
    assert_eq!(
        first.feedback.expect("f").id,
        second.feedback.expect("f").id
    );

    // The same key with another payload is a conflict.
    let conflict = submit(
        &app,
        &collector,
        pb::Feedback {
            nps: Some(3),
            ..feedback_for("A-1")
        },
        "retry-1",
    )
    .await
    .expect_err("conflict");
    assert_eq!(conflict.code(), Code::AlreadyExists);

    // Another key may use the same request_id: it is unique per key.
    let other = app.key(Role::Collector, None).await;
    let theirs = submit(&app, &other, feedback_for("A-1"), "retry-1")
        .await
        .expect("other key");
    assert!(!theirs.replayed);

    let agent = app.key(Role::Agent, None).await;
    let listed = app
        .feedback(Some(&agent))
        .list_feedback(pb::ListFeedbackRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.feedback.len(), 2);
}

#[tokio::test]
async fn concurrent_retries_store_exactly_one_experience() {
    let (app, collector) = setup().await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let mut client = app.feedback(Some(&collector));
        tasks.push(tokio::spawn(async move {
            client
                .submit_feedback(pb::SubmitFeedbackRequest {
                    feedback: Some(feedback_for("A-1")),
                    request_id: "same-everywhere".into(),
                })
                .await
                .map(|r| r.into_inner())
        }));
    }
    let mut ids = HashSet::new();
    let mut created = 0;
    for task in tasks {
        let answer = task.await.expect("join").expect("every retry succeeds");
        if !answer.replayed {
            created += 1;
        }
        ids.insert(answer.feedback.expect("f").id);
    }
    assert_eq!(ids.len(), 1, "all retries return the same experience");
    assert_eq!(created, 1, "exactly one call created it");
}

/// On SQLite the capture writer commits with automatic checkpoints off and a background task
/// checkpoints the WAL: submissions must reach the database file itself, not only the WAL.
#[tokio::test]
async fn captured_experiences_are_checkpointed_into_the_sqlite_file() {
    if boucle_tests::on_postgres() {
        return;
    }
    let (app, collector) = setup().await;
    let submitted = 300;
    let mut calls = Vec::new();
    for i in 0..submitted {
        let app = &app;
        let collector = &collector;
        calls.push(async move {
            submit(app, collector, feedback_for("A-1"), &format!("ckpt-{i}")).await
        });
    }
    for result in futures::future::join_all(calls).await {
        result.expect("submitted");
    }
    // `immutable=1` reads the database file and ignores the WAL: it sees checkpointed rows only.
    let path = app
        .url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let file_only = format!("sqlite://{path}?mode=ro&immutable=1");
    // Read while the server may be checkpointing: a torn read is an error, retried.
    let count_in_file = async || -> Option<i64> {
        use sea_orm::ConnectionTrait;
        let db = sea_orm::Database::connect(&file_only).await.ok()?;
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM feedback",
            ))
            .await
            .ok()??;
        let _ = db.close().await;
        row.try_get::<i64>("", "n").ok()
    };
    let mut in_file = None;
    for _ in 0..100 {
        in_file = count_in_file().await;
        if in_file == Some(submitted) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        in_file,
        Some(submitted),
        "rows checkpointed into the database file"
    );
}

#[tokio::test]
async fn personal_data_is_redacted_at_capture_and_the_raw_text_kept_internally() {
    let (app, collector) = setup().await;
    let f = submit(
        &app,
        &collector,
        pb::Feedback {
            title: "Rappel au 06 12 34 56 78".into(),
            story:
                "Écrivez à jean.dupont@example.fr ou virement FR76 3000 6000 0112 3456 7890 189."
                    .into(),
            proposal: "Mon NIR 2 90 12 2A 123 456 est faux.".into(),
            pseudonym: "jean.dupont@example.fr".into(),
            ..feedback_for("A-1")
        },
        "pii-1",
    )
    .await
    .expect("submit")
    .feedback
    .expect("feedback");
    assert_eq!(f.redacted_title, "Rappel au [téléphone masqué]");
    assert_eq!(
        f.redacted_story,
        "Écrivez à [courriel masqué] ou virement [IBAN masqué]."
    );
    assert_eq!(
        f.redacted_proposal,
        "Mon NIR [n° de sécurité sociale masqué] est faux."
    );
    assert_eq!(
        f.pseudonym, "[courriel masqué]",
        "the pseudonym is public: redacted too"
    );
    assert!(
        f.story.contains("jean.dupont@example.fr"),
        "raw text kept for internal readers"
    );
    let kinds: HashSet<i32> = f.personal_data.into_iter().collect();
    for k in [
        pb::PersonalDataKind::Phone,
        pb::PersonalDataKind::Email,
        pb::PersonalDataKind::Iban,
        pb::PersonalDataKind::Nir,
    ] {
        assert!(kinds.contains(&(k as i32)), "{k:?}");
    }
}

#[tokio::test]
async fn filters_select_by_subtree_period_channel_satisfaction_tag_label_status_and_answers() {
    let (app, _) = setup().await;
    let collector = app.key(Role::Collector, None).await;
    let mut importer = app.feedback(Some(&collector));
    // Imported experiences may carry their real submission time.
    let at = |rfc: &str| {
        let t = chrono::DateTime::parse_from_rfc3339(rfc).expect("date");
        Some(prost_types::Timestamp {
            seconds: t.timestamp(),
            nanos: 0,
        })
    };
    let items = vec![
        pb::Feedback {
            submit_time: at("2026-10-31T23:30:00Z"),
            tags: vec![pb::Tag::Reactivity as i32],
            ..feedback_for("A-1")
        },
        pb::Feedback {
            submit_time: at("2026-10-15T10:00:00Z"),
            channel: pb::Channel::Phone as i32,
            ..feedback_for("A-2")
        },
        pb::Feedback {
            submit_time: at("2026-10-20T10:00:00Z"),
            satisfaction: pb::Satisfaction::Negative as i32,
            labels: vec!["caf".into()],
            ..feedback_for("B-1")
        },
    ];
    let answer = importer
        .import_feedback(tokio_stream::iter(items.into_iter().enumerate().map(
            |(i, f)| pb::ImportFeedbackRequest {
                feedback: Some(f),
                request_id: format!("imp-{i}"),
            },
        )))
        .await
        .expect("import")
        .into_inner();
    assert_eq!(answer.created, 3);

    let agent = app.key(Role::Agent, None).await;
    let mut client = app.feedback(Some(&agent));
    let a_reg = app.location_id("A-REG").await;
    let list = |req: pb::ListFeedbackRequest| {
        let mut client = client.clone();
        async move {
            client
                .list_feedback(req)
                .await
                .expect("list")
                .into_inner()
                .feedback
                .into_iter()
                .map(|f| f.location_code)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(pb::ListFeedbackRequest {
            location_id: a_reg.to_string(),
            ..Default::default()
        })
        .await,
        ["A-1", "A-2"]
    );
    // 2026-10-31T23:30Z is November in Paris.
    assert_eq!(
        list(pb::ListFeedbackRequest {
            period: "2026-11".into(),
            ..Default::default()
        })
        .await,
        ["A-1"]
    );
    assert_eq!(
        list(pb::ListFeedbackRequest {
            period: "2026-10".into(),
            ..Default::default()
        })
        .await,
        ["B-1", "A-2"]
    );
    assert_eq!(
        list(pb::ListFeedbackRequest {
            channel: pb::Channel::Phone as i32,
            ..Default::default()
        })
        .await,
        ["A-2"]
    );
    assert_eq!(
        list(pb::ListFeedbackRequest {
            satisfaction: pb::Satisfaction::Negative as i32,
            ..Default::default()
        })
        .await,
        ["B-1"]
    );
    assert_eq!(
        list(pb::ListFeedbackRequest {
            tag: pb::Tag::Reactivity as i32,
            ..Default::default()
        })
        .await,
        ["A-1"]
    );
    assert_eq!(
        list(pb::ListFeedbackRequest {
            label: "caf".into(),
            ..Default::default()
        })
        .await,
        ["B-1"]
    );
    assert_eq!(
        list(pb::ListFeedbackRequest {
            status: pb::ModerationStatus::Pending as i32,
            ..Default::default()
        })
        .await
        .len(),
        3
    );
    assert!(
        list(pb::ListFeedbackRequest {
            status: pb::ModerationStatus::Published as i32,
            ..Default::default()
        })
        .await
        .is_empty()
    );
    assert!(
        list(pb::ListFeedbackRequest {
            answered: Some(true),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    assert_eq!(
        list(pb::ListFeedbackRequest {
            answered: Some(false),
            ..Default::default()
        })
        .await
        .len(),
        3
    );

    let bad = client
        .list_feedback(pb::ListFeedbackRequest {
            period: "2026-13".into(),
            channel: 99,
            ..Default::default()
        })
        .await
        .expect_err("bad filters");
    assert_eq!(violations(&bad), ["period"]);
    let bad = client
        .list_feedback(pb::ListFeedbackRequest {
            channel: 99,
            ..Default::default()
        })
        .await
        .expect_err("bad enum");
    assert_eq!(violations(&bad), ["channel"]);
}

#[tokio::test]
async fn pagination_stays_stable_while_experiences_arrive() {
    let (app, collector) = setup().await;
    let mut originals = HashSet::new();
    for i in 0..30 {
        let f = submit(
            &app,
            &collector,
            feedback_for(if i % 2 == 0 { "A-1" } else { "B-2" }),
            &format!("orig-{i}"),
        )
        .await
        .expect("submit")
        .feedback
        .expect("f");
        originals.insert(f.id);
    }
    // A writer keeps inserting while a reader pages through.
    let writer_app_key = collector.clone();
    let mut writer = app.feedback(Some(&writer_app_key));
    let writing = tokio::spawn(async move {
        for i in 0..20 {
            writer
                .submit_feedback(pb::SubmitFeedbackRequest {
                    feedback: Some(feedback_for("A-2")),
                    request_id: format!("new-{i}"),
                })
                .await
                .expect("concurrent submit");
        }
    });
    let agent = app.key(Role::Agent, None).await;
    let mut client = app.feedback(Some(&agent));
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_feedback(pb::ListFeedbackRequest {
                page_size: 7,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        assert!(page.feedback.len() <= 7);
        seen.extend(page.feedback.into_iter().map(|f| f.id));
        tokio::task::yield_now().await;
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    writing.await.expect("writer");
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no experience served twice");
    assert!(
        originals.is_subset(&unique),
        "every experience present at the start was served"
    );

    // A token is bound to its filters.
    let first = client
        .list_feedback(pb::ListFeedbackRequest {
            page_size: 2,
            ..Default::default()
        })
        .await
        .expect("first page")
        .into_inner();
    let reused = client
        .list_feedback(pb::ListFeedbackRequest {
            page_size: 2,
            page_token: first.next_page_token,
            channel: pb::Channel::Phone as i32,
            ..Default::default()
        })
        .await
        .expect_err("token from another query");
    assert_eq!(violations(&reused), ["page_token"]);
    let negative = client
        .list_feedback(pb::ListFeedbackRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .expect_err("negative size");
    assert_eq!(violations(&negative), ["page_size"]);
}

/// Items are stored concurrently, but an item repeating an earlier one's request_id is its
/// replay, never the other way round: the outcomes are those of storing them one by one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_repeating_request_ids_creates_the_first_of_each() {
    let (app, collector) = setup().await;
    let items: Vec<_> = (0..400)
        .map(|i| pb::ImportFeedbackRequest {
            feedback: Some(feedback_for(if (i / 2) % 3 == 0 { "A-1" } else { "A-2" })),
            request_id: format!("pair-{}", i / 2),
        })
        .collect();
    let answer = app
        .feedback(Some(&collector))
        .import_feedback(tokio_stream::iter(items))
        .await
        .expect("import")
        .into_inner();
    use pb::import_feedback_outcome::Result as R;
    for (i, outcome) in answer.outcomes.iter().enumerate() {
        let expected = if i % 2 == 0 { R::Created } else { R::Replayed };
        assert_eq!(outcome.result, expected as i32, "item {i}: {outcome:?}");
    }
    assert_eq!((answer.created, answer.replayed), (200, 200));
}

#[tokio::test]
async fn import_reports_one_outcome_per_item_and_is_idempotent() {
    let (app, collector) = setup().await;
    let future = chrono::Utc::now() + chrono::Duration::days(2);
    let items = vec![
        pb::ImportFeedbackRequest {
            feedback: Some(feedback_for("A-1")),
            request_id: "i-1".into(),
        },
        pb::ImportFeedbackRequest {
            feedback: Some(pb::Feedback {
                nps: Some(12),
                ..feedback_for("A-1")
            }),
            request_id: "i-2".into(),
        },
        pb::ImportFeedbackRequest {
            feedback: Some(feedback_for("A-1")),
            request_id: "i-1".into(),
        },
        pb::ImportFeedbackRequest {
            feedback: Some(feedback_for("NOPE")),
            request_id: "i-3".into(),
        },
        pb::ImportFeedbackRequest {
            feedback: Some(pb::Feedback {
                submit_time: Some(prost_types::Timestamp {
                    seconds: future.timestamp(),
                    nanos: 0,
                }),
                ..feedback_for("A-1")
            }),
            request_id: "i-4".into(),
        },
        pb::ImportFeedbackRequest {
            feedback: None,
            request_id: "i-5".into(),
        },
    ];
    let answer = app
        .feedback(Some(&collector))
        .import_feedback(tokio_stream::iter(items))
        .await
        .expect("import")
        .into_inner();
    use pb::import_feedback_outcome::Result as R;
    let results: Vec<i32> = answer.outcomes.iter().map(|o| o.result).collect();
    assert_eq!(
        results,
        [
            R::Created,
            R::Failed,
            R::Replayed,
            R::Failed,
            R::Failed,
            R::Failed
        ]
        .map(|r| r as i32)
    );
    assert_eq!((answer.created, answer.replayed, answer.failed), (1, 1, 4));
    assert_eq!(
        answer.outcomes[0].feedback_id,
        answer.outcomes[2].feedback_id
    );
    assert_eq!(answer.outcomes[1].violations[0].field, "feedback.nps");
    assert_eq!(answer.outcomes[3].error_code, Code::NotFound as i32);
    assert_eq!(
        answer.outcomes[4].violations[0].field,
        "feedback.submit_time"
    );
    assert_eq!(answer.outcomes[5].violations[0].field, "feedback");
}

#[tokio::test]
async fn submissions_beyond_the_key_rate_are_resource_exhausted() {
    let app = spawn_app_with(boucle_server::ServeArgs {
        submit_rate_per_second: 1,
        submit_burst: 3,
        ..test_args()
    })
    .await;
    app.two_networks().await;
    let collector = app.key(Role::Collector, None).await;
    let mut codes = Vec::new();
    for i in 0..6 {
        codes.push(
            match submit(&app, &collector, feedback_for("A-1"), &format!("rate-{i}")).await {
                Ok(_) => Code::Ok,
                Err(s) => s.code(),
            },
        );
    }
    assert_eq!(&codes[..3], [Code::Ok; 3]);
    assert!(codes[3..].contains(&Code::ResourceExhausted), "{codes:?}");
    // Another key has its own budget.
    let other = app.key(Role::Collector, None).await;
    submit(&app, &other, feedback_for("A-1"), "other")
        .await
        .expect("other key is not limited");
}

#[tokio::test]
async fn calls_beyond_the_in_flight_limit_are_shed_unavailable_and_store_nothing() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_types::StatusExt;

    let app = spawn_app_with(boucle_server::ServeArgs {
        max_in_flight: 1,
        submit_rate_per_second: 0,
        ..test_args()
    })
    .await;
    app.two_networks().await;
    let collector = app.key(Role::Collector, None).await;
    let stored_before = boucle_tests::count_rows(app.store.connection(), "feedback").await;

    // 300 submissions at once against a budget of one call in flight.
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..300 {
        let mut client = app.feedback(Some(&collector));
        calls.spawn(async move {
            client
                .submit_feedback(pb::SubmitFeedbackRequest {
                    feedback: Some(feedback_for("A-1")),
                    request_id: format!("shed-{i}"),
                })
                .await
        });
    }
    // Health is exempt: it answers among the shed calls.
    let health = HealthClient::new(app.channel())
        .check(HealthCheckRequest::default())
        .await
        .expect("health answers while shedding");
    assert_eq!(health.into_inner().status, 1, "SERVING");

    let (mut accepted, mut shed) = (0, 0);
    while let Some(outcome) = calls.join_next().await {
        match outcome.expect("task") {
            Ok(_) => accepted += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                assert_eq!(status.message(), boucle_server::overload::OVERLOADED);
                let retry = status.get_details_retry_info().expect("retry info");
                assert!(retry.retry_delay.is_some_and(|d| !d.is_zero()));
                shed += 1;
            }
        }
    }
    assert!(accepted > 0 && shed > 0, "{accepted} accepted, {shed} shed");
    assert_eq!(accepted + shed, 300);
    // Every accepted call stored once, and nothing of the shed ones.
    let stored_after = boucle_tests::count_rows(app.store.connection(), "feedback").await;
    assert_eq!(stored_after - stored_before, accepted);
}

/// One batch of the group commit, holding a row the database refuses (its location is
/// gone) and two submissions sharing a request_id: the refused row fails alone, every other
/// row is stored with its own tags, the duplicate is answered as a replay of the original,
/// and no tag of a row not stored is written. On PostgreSQL a batch is one statement (tags in
/// a CTE joined to the stored rows), on SQLite one transaction: both databases are checked.
/// The runtime has one thread, so every submission is queued before the writer first runs:
/// they form one batch.
#[tokio::test(flavor = "current_thread")]
async fn a_refused_row_fails_alone_and_its_batch_keeps_every_other_row_with_its_tags() {
    use boucle::domain::feedback::NewFeedback;
    use boucle::domain::{Caller, ModerationStatus};
    use boucle::store::feedback::Capture;
    use std::collections::BTreeSet;
    use uuid::Uuid;

    let t = boucle_tests::test_store().await;
    let store = &t.store;
    let site = Uuid::now_v7();
    store
        .bulk_insert_locations(&[crate::aggregation::bulk_location(
            site, None, "BATCH-1", None,
        )])
        .await
        .expect("location");
    let (key, _) = boucle::app::keys::create(store, None, "batch", Role::Collector, None)
        .await
        .expect("key");
    let caller = Caller {
        key_id: key.key.id,
        name: "batch".into(),
        role: Role::Collector,
        scope: None,
    };
    let submissions = 40usize;
    let refused = 17usize;
    let news: Vec<NewFeedback> = (0..submissions)
        .map(|i| NewFeedback {
            title: format!("Passage {i}"),
            labels: BTreeSet::from([format!("lot-{i}"), "guichet".to_owned()]),
            ..boucle_tests::new_feedback(site)
        })
        .collect();
    let redacted: Vec<_> = news.iter().map(NewFeedback::redact).collect();
    // Submissions 0 and 1 carry the same payload under the same request_id (a retry racing
    // the original); the others have their own.
    let request_ids: Vec<String> = (0..submissions)
        .map(|i| format!("req-{}", i.max(1)))
        .collect();
    let calls = (0..submissions).map(|i| {
        let (texts, pseudonym) = &redacted[i.max(1)];
        let capture = Capture {
            feedback: &news[i.max(1)],
            redacted: texts,
            redacted_pseudonym: pseudonym,
            // A location that does not exist: the foreign key refuses this row.
            location_id: if i == refused { Uuid::now_v7() } else { site },
            request_id: Some(&request_ids[i]),
            submitted_at: 1_790_900_000_000 + i as i64,
            id: None,
            status: ModerationStatus::Pending,
            reject_reason: None,
        };
        store.record_feedback(&caller, capture, "BATCH-1")
    });
    let results = futures::future::join_all(calls).await;

    let mut stored = Vec::new();
    let mut replayed = Vec::new();
    for (i, result) in results.into_iter().enumerate() {
        match (i == refused, result) {
            (true, result) => assert!(result.is_err(), "the refused row was acknowledged"),
            (false, Ok((view, true))) => replayed.push(view.feedback.id),
            (false, Ok((view, false))) => stored.push(view.feedback.id),
            (false, Err(e)) => panic!("submission {i} failed with its refused neighbour: {e}"),
        }
    }
    assert_eq!(
        stored.len(),
        submissions - 2,
        "every row but the refused and the retry"
    );
    assert_eq!(replayed.len(), 1, "the retry is a replay");
    assert!(
        stored.contains(&replayed[0]),
        "the replay names the stored original"
    );

    let db = store.connection();
    assert_eq!(
        boucle_tests::count_rows(db, "feedback").await,
        (submissions - 2) as i64
    );
    // Two labels per stored row, none for the refused row or the replayed retry.
    assert_eq!(
        boucle_tests::count_rows(db, "feedback_tag").await,
        2 * (submissions - 2) as i64
    );
}
