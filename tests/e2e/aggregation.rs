//! Monthly aggregation against a hand-computed fixture, public results, indicators, open data,
//! reruns, leases and interrupted runs.

use boucle::domain::{Period, Role};
use boucle::pb;
use boucle::pb::moderate_feedback_request::Decision;
use boucle::store::aggregates::Scope;
use boucle_jobs::JobError;
use boucle_jobs::aggregate::by_code;
use boucle_jobs::pipeline::{self, Options};
use boucle_tests::{TestApp, feedback_for, spawn_app};
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;
use uuid::Uuid;

const PARIS: chrono_tz::Tz = chrono_tz::Europe::Paris;
const DAY_MS: i64 = 86_400_000;

fn ts(rfc: &str) -> prost_types::Timestamp {
    let t = chrono::DateTime::parse_from_rfc3339(rfc).expect("instant");
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    }
}

fn ms(rfc: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc)
        .expect("instant")
        .timestamp_millis()
}

struct Fixture {
    app: TestApp,
    out: tempfile::TempDir,
}

/// One experience of the fixture and what happens to it.
struct Item {
    location: &'static str,
    at: &'static str,
    satisfaction: pb::Satisfaction,
    nps: Option<u32>,
    effort: Option<u32>,
    /// None: stays pending.
    moderation: Option<(Decision, pb::RejectReason)>,
    /// Days from submission to the first published answer.
    answered_after_days: Option<i64>,
}

const fn item(location: &'static str, at: &'static str, satisfaction: pb::Satisfaction) -> Item {
    Item {
        location,
        at,
        satisfaction,
        nps: None,
        effort: None,
        moderation: None,
        answered_after_days: None,
    }
}

const PUBLISH: Option<(Decision, pb::RejectReason)> =
    Some((Decision::Publish, pb::RejectReason::Unspecified));

/// A-1 (October 2026, Paris time), counted 6, positive 4, negative 1:
/// SATISFACTION_RATE 66.7, NET_SATISFACTION 50.0, NPS 25.0 (4 answers: 10, 9, 3, 7),
/// EFFORT_EASY_RATE 66.7 and EFFORT_MEAN 4.7 (7, 5, 2), published 4, answered 2 (after 2
/// and 20 days; target 15) → RESPONSE_RATE 50.0, RESPONSE_ON_TIME_RATE 25.0, median 11.0.
/// two negative experiences (below min_sample 3). A-REG (subtree): 8 counted, 4 positive
/// → 50.0, where the mean of its children's rates would be 33.3.
fn october() -> Vec<Item> {
    use pb::Satisfaction::{Negative, Neutral, Positive};
    vec![
        Item {
            nps: Some(10),
            effort: Some(7),
            moderation: PUBLISH,
            answered_after_days: Some(2),
            ..item("A-1", "2026-10-05T09:00:00Z", Positive)
        },
        Item {
            nps: Some(9),
            effort: Some(5),
            moderation: PUBLISH,
            answered_after_days: Some(20),
            ..item("A-1", "2026-10-06T09:00:00Z", Positive)
        },
        Item {
            nps: Some(3),
            effort: Some(2),
            moderation: PUBLISH,
            ..item("A-1", "2026-10-07T09:00:00Z", Negative)
        },
        Item {
            nps: Some(7),
            ..item("A-1", "2026-10-08T09:00:00Z", Neutral)
        },
        // Rejected as spam: not counted. Rejected as abusive: counted.
        Item {
            nps: Some(0),
            moderation: Some((Decision::Reject, pb::RejectReason::Spam)),
            ..item("A-1", "2026-10-09T09:00:00Z", Negative)
        },
        Item {
            moderation: Some((Decision::Reject, pb::RejectReason::Abusive)),
            ..item("A-1", "2026-10-10T09:00:00Z", Positive)
        },
        // 00:30 on 1 October in Paris: October. 00:30 on 1 November in Paris: not October.
        Item {
            moderation: PUBLISH,
            ..item("A-1", "2026-09-30T22:30:00Z", Positive)
        },
        item("A-1", "2026-10-31T23:30:00Z", Negative),
        item("A-2", "2026-10-12T09:00:00Z", Negative),
        item("A-2", "2026-10-13T09:00:00Z", Negative),
        // Another network, to prove subtrees stay apart.
        item("B-1", "2026-10-14T09:00:00Z", Positive),
    ]
}

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    app.two_networks().await;
    app.locations(Some(&app.admin_key))
        .update_location(pb::UpdateLocationRequest {
            location: Some(pb::Location {
                code: "NET-A".into(),
                min_sample: Some(3),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["min_sample".into()],
            }),
        })
        .await
        .expect("min_sample");
    let collector = app.key(Role::Collector, None).await;
    let moderator = app.key(Role::Moderator, None).await;
    let validator = app.key(Role::Validator, None).await;
    for (i, it) in october().into_iter().enumerate() {
        let answer = app
            .feedback(Some(&collector))
            .import_feedback(tokio_stream::iter(vec![pb::ImportFeedbackRequest {
                feedback: Some(pb::Feedback {
                    satisfaction: it.satisfaction as i32,
                    nps: it.nps,
                    effort: it.effort,
                    submit_time: Some(ts(it.at)),
                    ..feedback_for(it.location)
                }),
                request_id: format!("fixture-{i}"),
            }]))
            .await
            .expect("import")
            .into_inner();
        let id = answer.outcomes[0].feedback_id.clone();
        assert!(!id.is_empty(), "{:?}", answer.outcomes[0]);
        if let Some((decision, reason)) = it.moderation {
            app.feedback(Some(&moderator))
                .moderate_feedback(pb::ModerateFeedbackRequest {
                    id: id.clone(),
                    decision: decision as i32,
                    reject_reason: reason as i32,
                    ..Default::default()
                })
                .await
                .expect("moderate");
        }
        if let Some(days) = it.answered_after_days {
            let draft = app
                .feedback(Some(&validator))
                .draft_response(pb::DraftResponseRequest {
                    feedback_id: id.clone(),
                    author: "Accueil".into(),
                    body: "Merci".into(),
                    ..Default::default()
                })
                .await
                .expect("draft")
                .into_inner()
                .response
                .expect("response");
            app.feedback(Some(&validator))
                .publish_response(pb::PublishResponseRequest {
                    response_id: draft.id.clone(),
                })
                .await
                .expect("publish");
            // The fixture needs the answer's publication instant in October, not today.
            let db = app.store.connection();
            db.execute_raw(boucle::store::sql(
                db.get_database_backend(),
                "UPDATE response SET published_at = $1 WHERE id = $2",
                vec![
                    (ms(it.at) + days * DAY_MS).into(),
                    Uuid::parse_str(&draft.id).expect("uuid").into(),
                ],
            ))
            .await
            .expect("backdate answer");
            db.execute_raw(boucle::store::sql(
                db.get_database_backend(),
                "UPDATE feedback SET first_answered_at = $1 WHERE id = $2",
                vec![
                    (ms(it.at) + days * DAY_MS).into(),
                    Uuid::parse_str(&id).expect("uuid").into(),
                ],
            ))
            .await
            .expect("backdate the experience's first answer");
        }
    }
    Fixture {
        app,
        out: tempfile::tempdir().expect("out dir"),
    }
}

impl Fixture {
    fn options(&self) -> Options {
        Options {
            tz: PARIS,
            root: None,
            out_dir: self.out.path().to_owned(),
            open_data_base_url: None,
            holder: "test-worker".into(),
            lease_ttl: boucle_jobs::lease::TTL,
            transport: boucle_jobs::deliver::Transport::Outbox(self.out.path().join("outbox")),
            mail_from: "boucle <noreply@boucle.test>".into(),
            retry: boucle_jobs::retry::Retry::within_run(std::time::Duration::from_millis(10), 5),
            metrics_file: None,
        }
    }

    async fn aggregate(&self, period: &str) -> Result<boucle_jobs::aggregate::Summary, JobError> {
        let mut quiet = |_: u64, _: u64| Ok(());
        pipeline::aggregate_period(
            &self.app.store,
            period.parse().expect("period"),
            &self.options(),
            &mut quiet,
        )
        .await
    }

    async fn id(&self, code: &str) -> Uuid {
        self.app.location_id(code).await
    }

    async fn figures(
        &self,
        code: &str,
        scope: Scope,
        period: &str,
    ) -> Vec<boucle::store::aggregates::StoredFigure> {
        let p: Period = period.parse().expect("period");
        self.app
            .store
            .aggregates_of(self.id(code).await, scope, p, p)
            .await
            .expect("aggregates")
    }
}

fn value(rows: &[boucle::store::aggregates::StoredFigure], code: &str) -> (Option<f64>, i64, bool) {
    let map = by_code(rows);
    let row = map.get(code).unwrap_or_else(|| panic!("{code} missing"));
    (
        row.figure.value,
        row.figure.sample as i64,
        row.figure.suppressed,
    )
}

#[tokio::test]
async fn every_formula_matches_the_hand_computed_fixture() {
    let f = fixture().await;
    let summary = f.aggregate("2026-10").await.expect("aggregate");
    assert_eq!(summary.locations, 8);
    // Eleven headline figures per location and scope, and nine for each public with
    // experiences: here usagers only, at and B-1 (their own) and at the seven
    // subtrees holding them (B-2 has none).
    assert_eq!(summary.rows, 8 * 2 * 11 + (3 + 7) * 9);

    let a1 = f.figures("A-1", Scope::SelfOnly, "2026-10").await;
    assert_eq!(value(&a1, "VOLUME"), (Some(6.0), 6, false));
    assert_eq!(value(&a1, "SATISFACTION_RATE"), (Some(66.7), 6, false));
    assert_eq!(value(&a1, "NET_SATISFACTION"), (Some(50.0), 6, false));
    assert_eq!(value(&a1, "NPS"), (Some(25.0), 4, false));
    assert_eq!(
        value(&a1, "EFFORT_EASY_RATE"),
        (Some(66.7), 3, false),
        "exactly at min_sample: shown"
    );
    assert_eq!(value(&a1, "EFFORT_MEAN"), (Some(4.7), 3, false));
    assert_eq!(value(&a1, "RESPONSE_RATE"), (Some(50.0), 4, false));
    assert_eq!(value(&a1, "RESPONSE_ON_TIME_RATE"), (Some(25.0), 4, false));
    assert_eq!(
        value(&a1, "RESPONSE_DELAY_MEDIAN"),
        (None, 2, true),
        "2 answers: below min_sample"
    );
    assert_eq!(value(&a1, "ACTIONS_DONE"), (Some(0.0), 0, false));
    assert_eq!(value(&a1, "ACTIONS_OPEN"), (Some(0.0), 0, false));
    // Every computed indicator is checked above: a new one fails here until its
    // hand-computed value is added (and with it, the counts it needs).
    let checked = [
        "VOLUME",
        "SATISFACTION_RATE",
        "NET_SATISFACTION",
        "NPS",
        "EFFORT_EASY_RATE",
        "EFFORT_MEAN",
        "RESPONSE_RATE",
        "RESPONSE_ON_TIME_RATE",
        "RESPONSE_DELAY_MEDIAN",
        "ACTIONS_DONE",
        "ACTIONS_OPEN",
    ];
    for code in boucle::domain::indicators::IndicatorCode::ALL {
        assert!(
            checked.contains(&code.code()),
            "{code} has no hand-computed value"
        );
    }
    let sat = by_code(&a1)["SATISFACTION_RATE"];
    assert_eq!(sat.figure.ci, Some((30.0, 90.3)));

    // Just below min_sample: suppressed, sample still given.
    let a2 = f.figures("A-2", Scope::SelfOnly, "2026-10").await;
    assert_eq!(value(&a2, "VOLUME"), (Some(2.0), 2, false));
    assert_eq!(value(&a2, "SATISFACTION_RATE"), (None, 2, true));

    // The rollup comes from raw rows: 4 positive of 8, not the mean of 66.7 and 0.
    let reg = f.figures("A-REG", Scope::Subtree, "2026-10").await;
    assert_eq!(value(&reg, "VOLUME"), (Some(8.0), 8, false));
    assert_eq!(value(&reg, "SATISFACTION_RATE"), (Some(50.0), 8, false));
    assert_eq!(value(&reg, "NPS"), (Some(25.0), 4, false));
    let reg_self = f.figures("A-REG", Scope::SelfOnly, "2026-10").await;
    assert_eq!(value(&reg_self, "VOLUME"), (Some(0.0), 0, false));
    let net_a = f.figures("NET-A", Scope::Subtree, "2026-10").await;
    assert_eq!(
        value(&net_a, "VOLUME"),
        (Some(8.0), 8, false),
        "B's experience is not in A"
    );

    // The experience of 1 November 00:30 (Paris) belongs to November.
    f.aggregate("2026-11").await.expect("november");
    let nov = f.figures("A-1", Scope::SelfOnly, "2026-11").await;
    assert_eq!(value(&nov, "VOLUME"), (Some(1.0), 1, false));
    // An empty month still has its rows: zero counts, suppressed rates.
    f.aggregate("2026-08").await.expect("august");
    let aug = f.figures("A-1", Scope::SelfOnly, "2026-08").await;
    assert_eq!(value(&aug, "VOLUME"), (Some(0.0), 0, false));
    assert_eq!(value(&aug, "SATISFACTION_RATE"), (None, 0, true));
}

async fn comparable(f: &Fixture, period: &str) -> Vec<String> {
    let db = f.app.store.connection();
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        format!(
            "SELECT location_id, scope, figures FROM location_figures \
             WHERE period = '{period}' ORDER BY location_id, scope"
        ),
    ))
    .await
    .expect("rows")
    .iter()
    .map(|r| format!("{r:?}"))
    .collect()
}

#[tokio::test]
async fn a_rerun_yields_the_same_rows_and_a_stopped_run_leaves_the_previous_state() {
    let f = fixture().await;
    f.aggregate("2026-10").await.expect("first run");
    let first = comparable(&f, "2026-10").await;
    f.aggregate("2026-10").await.expect("rerun");
    assert_eq!(
        comparable(&f, "2026-10").await,
        first,
        "a rerun changes nothing"
    );

    // New data arrives, then a run dies just before its commit: the previous figures stay.
    let collector = f.app.key(Role::Collector, None).await;
    f.app
        .feedback(Some(&collector))
        .import_feedback(tokio_stream::iter(vec![pb::ImportFeedbackRequest {
            feedback: Some(pb::Feedback {
                submit_time: Some(ts("2026-10-20T10:00:00Z")),
                ..feedback_for("A-1")
            }),
            request_id: "late".into(),
        }]))
        .await
        .expect("import");
    let mut dies = |done: u64, total: u64| {
        if done + 1 >= total {
            Err(JobError::Interrupted("simulated crash".into()))
        } else {
            Ok(())
        }
    };
    let crashed = pipeline::aggregate_period(
        &f.app.store,
        "2026-10".parse().expect("p"),
        &f.options(),
        &mut dies,
    )
    .await;
    assert!(matches!(crashed, Err(JobError::Interrupted(_))));
    assert_eq!(
        comparable(&f, "2026-10").await,
        first,
        "the interrupted run left the previous state"
    );
    // The lease was released: the next run goes through and sees the new experience.
    f.aggregate("2026-10").await.expect("run after the crash");
    let a1 = f.figures("A-1", Scope::SelfOnly, "2026-10").await;
    assert_eq!(value(&a1, "VOLUME"), (Some(7.0), 7, false));
}

/// A worker that stalls past its lease's TTL and finds the period taken over stops at once
/// (`LeaseLost`) instead of finishing its run beside the new holder, and leaves the new
/// holder's lease alone. A worker whose lease is renewed normally is never stopped.
#[tokio::test]
async fn a_worker_whose_lease_is_taken_over_stops() {
    use sea_orm::ConnectionTrait;
    let f = fixture().await;
    let store = &f.app.store;
    let period: boucle::domain::Period = "2026-10".parse().expect("period");
    let options = Options {
        // Renewed every 100 ms.
        lease_ttl: std::time::Duration::from_millis(300),
        ..f.options()
    };

    // Held and renewed for more than three TTLs: the work completes.
    let held = pipeline::with_lease(store, period, &options, async || {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        Ok("done")
    })
    .await;
    assert_eq!(held.expect("a renewed lease is kept"), "done");

    // Taken over mid-run: as if this worker had stalled, its lease expires and another
    // worker takes the period. The work would then run for a minute more.
    let stopped = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        pipeline::with_lease(store, period, &options, async || {
            store
                .connection()
                .execute_unprepared("UPDATE job_lease SET expires_at = 0")
                .await
                .expect("expire the lease");
            assert!(
                store
                    .acquire_lease("period:2026-10", "thief", 60_000)
                    .await?
            );
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            Ok("finished beside the new holder")
        }),
    )
    .await
    .expect("the worker stops long before its work would end");
    assert!(
        matches!(stopped, Err(JobError::LeaseLost(ref p)) if p == "2026-10"),
        "{stopped:?}"
    );
    // The new holder keeps the period.
    let busy = f.aggregate("2026-10").await;
    assert!(matches!(busy, Err(JobError::Busy(_))), "{busy:?}");
}

/// A worker that cannot reach its database to renew its lease gives it up once a whole TTL
/// has passed without a renewal: by then another worker may hold the period.
#[tokio::test]
async fn a_lease_not_renewed_for_a_whole_ttl_is_given_up() {
    let f = fixture().await;
    // A worker of its own: its pool is the one that goes away.
    let worker =
        boucle::store::Store::connect(&boucle::store::DatabaseSettings::new(f.app.url.clone()))
            .await
            .expect("connect");
    let ttl = std::time::Duration::from_millis(300);
    let lease = boucle_jobs::lease::Lease::acquire(&worker, "2026-10", "stalled-worker", ttl)
        .await
        .expect("lease");
    let began = std::time::Instant::now();
    worker
        .connection()
        .close_by_ref()
        .await
        .expect("close the worker's pool");
    tokio::time::timeout(std::time::Duration::from_secs(30), lease.lost())
        .await
        .expect("the lease is given up");
    assert!(
        began.elapsed() >= ttl / 2,
        "given up on the first failed renewal, before the lease could have expired"
    );
}

#[tokio::test]
async fn two_workers_never_process_the_same_period_at_once() {
    let f = fixture().await;
    // Another worker holds October.
    assert!(
        f.app
            .store
            .acquire_lease("period:2026-10", "other-worker", 60_000)
            .await
            .expect("lease")
    );
    let busy = f.aggregate("2026-10").await;
    assert!(matches!(busy, Err(JobError::Busy(_))), "{busy:?}");
    // Other periods are free.
    f.aggregate("2026-09").await.expect("september is free");
    // An expired lease is taken over.
    assert!(
        f.app
            .store
            .acquire_lease("period:2026-11", "dead-worker", -1)
            .await
            .expect("expired lease")
    );
    f.aggregate("2026-11")
        .await
        .expect("expired lease taken over");
    // Concurrent runs: exactly the serial outcome, never an error other than Busy.
    f.app
        .store
        .release_lease("period:2026-10", "other-worker")
        .await
        .expect("release");
    let (a, b) = tokio::join!(f.aggregate("2026-10"), f.aggregate("2026-10"));
    let outcomes = [a, b];
    assert!(outcomes.iter().any(Result::is_ok));
    assert!(
        outcomes
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(JobError::Busy(_)))),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn public_results_give_twelve_months_and_hide_suppressed_values() {
    let f = fixture().await;
    let mut results = f.app.results();
    let none = results
        .get_location_results(pb::GetLocationResultsRequest {
            location_code: "A-1".into(),
            period: String::new(),
            ..Default::default()
        })
        .await
        .expect_err("nothing aggregated yet");
    assert_eq!(none.code(), Code::NotFound);
    f.aggregate("2026-09").await.expect("september");
    f.aggregate("2026-10").await.expect("october");
    let answer = results
        .get_location_results(pb::GetLocationResultsRequest {
            location_code: "A-REG".into(),
            period: String::new(),
            ..Default::default()
        })
        .await
        .expect("latest period")
        .into_inner();
    let current = answer.current.expect("current");
    assert_eq!(current.period, "2026-10");
    assert_eq!(answer.history.len(), 12);
    assert_eq!(answer.history[0].period, "2025-11");
    assert!(
        answer.history[0].indicators.is_empty(),
        "months before the first run are empty"
    );
    assert_eq!(answer.history[10].period, "2026-09");
    assert_eq!(answer.min_sample, 3);
    let sat = current
        .indicators
        .iter()
        .find(|i| i.code == "SATISFACTION_RATE")
        .expect("sat");
    assert_eq!(sat.title, "Taux de satisfaction");
    assert_eq!(sat.figure.as_ref().and_then(|f| f.value), Some(50.0));
    let a2 = results
        .get_location_results(pb::GetLocationResultsRequest {
            location_code: "A-2".into(),
            period: "2026-10".into(),
            ..Default::default()
        })
        .await
        .expect("A-2")
        .into_inner()
        .current
        .expect("current");
    let hidden = a2
        .indicators
        .iter()
        .find(|i| i.code == "SATISFACTION_RATE")
        .and_then(|i| i.figure)
        .expect("figure");
    assert!(hidden.suppressed);
    assert_eq!(
        (
            hidden.value,
            hidden.ci_low,
            hidden.ci_high,
            hidden.sample_size
        ),
        (None, None, None, 2)
    );
    let bad = results
        .get_location_results(pb::GetLocationResultsRequest {
            location_code: "A-1".into(),
            period: "2026-13".into(),
            ..Default::default()
        })
        .await
        .expect_err("bad period");
    assert_eq!(boucle_tests::violations(&bad), ["period"]);

    // Answers are cached, but never past a write: a new month aggregated and a renamed
    // location are seen by the very next call.
    f.aggregate("2026-11").await.expect("november");
    let latest = |code: &str| pb::GetLocationResultsRequest {
        location_code: code.into(),
        period: String::new(),
        ..Default::default()
    };
    let after = results
        .get_location_results(latest("A-REG"))
        .await
        .expect("after november")
        .into_inner();
    assert_eq!(after.current.expect("current").period, "2026-11");
    f.app
        .locations(Some(&f.app.admin_key))
        .update_location(pb::UpdateLocationRequest {
            location: Some(pb::Location {
                code: "A-REG".into(),
                name: "Région renommée".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into()],
            }),
        })
        .await
        .expect("rename");
    let renamed = results
        .get_location_results(latest("A-REG"))
        .await
        .expect("after rename")
        .into_inner();
    assert_eq!(renamed.location.expect("location").name, "Région renommée");
}

/// The CSV rows of an open-data file as maps from column to value.
fn csv_rows(
    path: &std::path::Path,
    delimiter: u8,
) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv_reader(path, delimiter);
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

fn csv_reader(path: &std::path::Path, delimiter: u8) -> csv::Reader<std::fs::File> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_path(path)
        .expect("csv")
}

#[tokio::test]
async fn open_data_sums_right_in_french_and_is_byte_stable() {
    let f = fixture().await;
    let p: Period = "2026-10".parse().expect("p");
    pipeline::run_period(&f.app.store, p, &f.options(), &mut |_, _, _| Ok(()))
        .await
        .expect("run");
    let path = f.out.path().join("resultats-2026-10.csv");
    let csv = std::fs::read_to_string(&path).expect("csv");
    assert_eq!(
        csv.lines().next(),
        Some(
            "code_structure,typologie,structure,code_postal,ville,code_structure_parente,perimetre,public,code_indicateur,libelle_indicateur,valeur,unite,taille_echantillon,intervalle_bas,intervalle_haut,periode,frequence,date_de_mise_a_jour"
        )
    );
    assert!(csv.contains("\r\n"), "RFC 4180 line endings");
    assert!(csv.contains("A-1,Caisse d'allocations familiales,Site A-1,69003,Lyon,A-REG,structure,ensemble des publics,SATISFACTION_RATE,Taux de satisfaction,66.7,%,6,30,90.3,2026-10,mensuelle,2026-11-01"), "{csv}");
    let rows = csv_rows(&path, b',');
    let volume = |perimetre: &str| -> Vec<(String, String)> {
        rows.iter()
            .filter(|r| {
                r["code_indicateur"] == "VOLUME"
                    && r["perimetre"] == perimetre
                    && r["public"] == "ensemble des publics"
            })
            .map(|r| (r["code_structure"].clone(), r["valeur"].clone()))
            .collect()
    };
    // One perimeter sums without double counting: 6 + 2 + 1 counted experiences.
    let own: u64 = volume("structure")
        .iter()
        .map(|(_, v)| v.parse::<u64>().expect("an integer, not 6.0"))
        .sum();
    assert_eq!(own, 9);
    let subtree = volume("structure et rattachées");
    assert!(
        subtree.contains(&("A-REG".into(), "8".into())),
        "{subtree:?}"
    );
    assert!(
        subtree.contains(&("NET-A".into(), "8".into())),
        "{subtree:?}"
    );
    assert!(
        !rows
            .iter()
            .any(|r| r["code_structure"] == "A-2" && r["code_indicateur"] == "SATISFACTION_RATE"),
        "suppressed: absent, not zero"
    );
    assert!(
        rows.iter()
            .all(|r| ["mensuelle"].contains(&r["frequence"].as_str()))
    );
    assert!(rows.iter().all(|r| r["unite"] != "count"));
    // The same rows in the three encodings.
    let excel = std::fs::read(f.out.path().join("resultats-2026-10.excel.csv")).expect("excel");
    assert!(excel.starts_with("\u{feff}code_structure;typologie;".as_bytes()));
    let excel_rows = csv_rows(&f.out.path().join("resultats-2026-10.excel.csv"), b';');
    assert_eq!(excel_rows.len(), rows.len());
    let a1 = |rows: &[std::collections::HashMap<String, String>]| {
        rows.iter()
            .find(|r| {
                r["code_structure"] == "A-1"
                    && r["code_indicateur"] == "SATISFACTION_RATE"
                    && r["perimetre"] == "structure"
                    && r["public"] == "ensemble des publics"
            })
            .map(|r| r["valeur"].clone())
    };
    assert_eq!(a1(&excel_rows).as_deref(), Some("66,7"));
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(f.out.path().join("resultats-2026-10.json")).expect("json"),
    )
    .expect("valid json");
    let objects = json.as_array().expect("array");
    assert_eq!(objects.len(), rows.len(), "same rows in every encoding");
    assert!(objects.iter().any(|o| o["code_indicateur"] == "VOLUME"
        && o["code_structure"] == "A-REG"
        && o["perimetre"] == "structure et rattachées"
        && o["public"] == "ensemble des publics"
        && o["valeur"] == serde_json::json!(8)));
    // Each public's rows beside the whole: here every experience is an usager's.
    let usagers: u64 = rows
        .iter()
        .filter(|r| {
            r["code_indicateur"] == "VOLUME"
                && r["perimetre"] == "structure"
                && r["public"] == "usager"
        })
        .map(|r| r["valeur"].parse::<u64>().expect("an integer"))
        .sum();
    assert_eq!(usagers, own);
    assert!(
        rows.iter().all(|r| r["public"] == "ensemble des publics"
            || !r["code_indicateur"].starts_with("ACTIONS_")),
        "the actions are the structure's, not a public's"
    );
    // The cumulated file holds the month too; the register lists every structure once.
    let cumulated = csv_rows(&f.out.path().join("resultats.csv"), b',');
    assert_eq!(cumulated.len(), rows.len());
    let structures = csv_rows(&f.out.path().join("structures.csv"), b',');
    let mut codes: Vec<&str> = structures
        .iter()
        .map(|r| r["code_structure"].as_str())
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            "A-1", "A-2", "A-REG", "B-1", "B-2", "B-REG", "NET-A", "NET-B"
        ]
    );
    // Published experiences only, and only their redacted texts.
    let experiences = csv_rows(&f.out.path().join("experiences-2026-10.csv"), b',');
    // In Paris time, 2026-09-30T22:30Z is in October.
    let published = october().iter().filter(|i| i.moderation == PUBLISH).count();
    assert_eq!(experiences.len(), published);
    assert!(
        experiences
            .iter()
            .all(|r| ["positif", "neutre", "négatif"].contains(&r["ressenti"].as_str()))
    );
    // A rerun writes the same bytes.
    let before: Vec<Vec<u8>> = [
        "resultats-2026-10.csv",
        "experiences.json",
        "catalogue.jsonld",
    ]
    .iter()
    .map(|n| std::fs::read(f.out.path().join(n)).expect("file"))
    .collect();
    pipeline::run_period(&f.app.store, p, &f.options(), &mut |_, _, _| Ok(()))
        .await
        .expect("rerun");
    let after: Vec<Vec<u8>> = [
        "resultats-2026-10.csv",
        "experiences.json",
        "catalogue.jsonld",
    ]
    .iter()
    .map(|n| std::fs::read(f.out.path().join(n)).expect("file"))
    .collect();
    assert_eq!(after, before);
}

#[tokio::test]
async fn indicators_are_versioned_and_reported_ones_take_measurements() {
    let f = fixture().await;
    let admin = f.app.admin_key.clone();
    let agent = f.app.key(Role::Agent, Some("NET-A")).await;
    let mut as_admin = f.app.indicators(Some(&admin));
    let catalogue = as_admin
        .list_indicators(pb::ListIndicatorsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .indicators;
    assert_eq!(catalogue.len(), 11);
    assert!(
        catalogue
            .iter()
            .all(|i| i.kind == pb::indicator::Kind::Computed as i32 && i.version == 1)
    );

    let define = |code: &str, title: &str| pb::DefineIndicatorRequest {
        indicator: Some(pb::Indicator {
            code: code.into(),
            title: title.into(),
            unit: "%".into(),
            direction: pb::indicator::Direction::HigherIsBetter as i32,
            methodology: "Appels décrochés ÷ appels reçus.".into(),
            ..Default::default()
        }),
    };
    let v1 = as_admin
        .define_indicator(define("TAUX_DECROCHE", "Taux de décroché"))
        .await
        .expect("define")
        .into_inner()
        .indicator
        .expect("i");
    assert_eq!(
        (v1.version, v1.kind),
        (1, pb::indicator::Kind::Reported as i32)
    );
    let v2 = as_admin
        .define_indicator(define("TAUX_DECROCHE", "Taux de décroché téléphonique"))
        .await
        .expect("redefine")
        .into_inner()
        .indicator
        .expect("i");
    assert_eq!(v2.version, 2);
    let bad = as_admin
        .define_indicator(define("taux", ""))
        .await
        .expect_err("invalid");
    assert_eq!(
        boucle_tests::violations(&bad),
        ["indicator.code", "indicator.title"]
    );

    // Computed definitions are versioned too, and aggregates record the version used.
    as_admin
        .define_indicator(define("SATISFACTION_RATE", "Taux de satisfaction (v2)"))
        .await
        .expect("new wording");
    f.aggregate("2026-10").await.expect("aggregate");
    let a1 = f.figures("A-1", Scope::SelfOnly, "2026-10").await;
    assert_eq!(by_code(&a1)["SATISFACTION_RATE"].indicator_version, 2);
    assert_eq!(by_code(&a1)["NPS"].indicator_version, 1);

    let mut as_agent = f.app.indicators(Some(&agent));
    let a1_id = f.id("A-1").await.to_string();
    let measure = |code: &str, location: &str, value: f64| pb::RecordMeasurementRequest {
        measurement: Some(pb::Measurement {
            indicator_code: code.into(),
            location_id: location.into(),
            period: "2026-10".into(),
            value,
            sample_size: Some(1200),
            target: Some(85.0),
            ..Default::default()
        }),
    };
    let m = as_agent
        .record_measurement(measure("TAUX_DECROCHE", &a1_id, 81.5))
        .await
        .expect("record")
        .into_inner()
        .measurement
        .expect("m");
    assert_eq!(
        (m.value, m.indicator_version, m.target),
        (81.5, 2, Some(85.0))
    );
    as_agent
        .record_measurement(measure("TAUX_DECROCHE", &a1_id, 83.0))
        .await
        .expect("replace");
    let computed = as_agent
        .record_measurement(measure("SATISFACTION_RATE", &a1_id, 50.0))
        .await
        .expect_err("computed");
    assert_eq!(computed.code(), Code::FailedPrecondition);
    let b1 = f.id("B-1").await.to_string();
    let outside = as_agent
        .record_measurement(measure("TAUX_DECROCHE", &b1, 50.0))
        .await
        .expect_err("outside scope");
    assert_eq!(outside.code(), Code::NotFound);
    let nan = as_agent
        .record_measurement(measure("TAUX_DECROCHE", &a1_id, f64::NAN))
        .await
        .expect_err("nan");
    assert_eq!(boucle_tests::violations(&nan), ["measurement.value"]);
    let listed = as_agent
        .list_measurements(pb::ListMeasurementsRequest {
            indicator_code: "TAUX_DECROCHE".into(),
            from_period: "2026-01".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .measurements;
    assert_eq!(listed.len(), 1, "recording again replaced the measurement");
    assert_eq!(listed[0].value, 83.0);
}

/// More location rows than one insert statement holds (1,000 on SQLite, 5,000 on
/// PostgreSQL, each row one location and scope): every figure is stored once with its
/// values, and a replacement with fewer figures leaves exactly those.
#[tokio::test]
async fn figures_spanning_several_insert_statements_are_stored_and_replaced_exactly() {
    use boucle::domain::Audience;
    use boucle::domain::indicators::{Figure, IndicatorCode};
    use boucle::store::aggregates::AggregateRow;
    let f = fixture().await;
    let app = &f.app;
    let period: Period = "2026-10".parse().expect("period");
    // 2,601 more locations (a network and its counters): 5,202 more rows. The bulk load
    // takes every parent before its children, so the network comes first.
    let network = Uuid::new_v4();
    let extra: Vec<boucle::store::locations::Location> = (0..=2_600)
        .map(|n| {
            let id = if n == 0 { network } else { Uuid::new_v4() };
            bulk_location(
                id,
                (n > 0).then_some(network),
                &format!("BULK-{n:05}"),
                None,
            )
        })
        .collect();
    app.store
        .bulk_insert_locations(&extra)
        .await
        .expect("locations");
    let locations = boucle_tests::location_ids(&app.store).await;
    assert!(2 * locations.len() > 5_000, "{} locations", locations.len());
    let rows_for = |per_location: usize| -> Vec<AggregateRow> {
        let mut rows = Vec::new();
        for (l, id) in locations.iter().enumerate() {
            // The headline, and one audience's figures, whose rows span statements too.
            let audiences = [None, Some(Audience::ALL[l % Audience::ALL.len()])];
            for (s, (scope, audience)) in [Scope::SelfOnly, Scope::Subtree]
                .into_iter()
                .flat_map(|scope| audiences.map(|a| (scope, a)))
                .enumerate()
            {
                for i in 0..per_location {
                    let n = (l * 100 + s * 10 + i) as u64;
                    rows.push(AggregateRow {
                        location_id: *id,
                        scope,
                        audience,
                        indicator_version: 1 + i as i32,
                        figure: Figure {
                            code: IndicatorCode::ALL[i],
                            value: (!n.is_multiple_of(7)).then_some(n as f64 / 4.0),
                            sample: n,
                            ci: n
                                .is_multiple_of(3)
                                .then_some((n as f64 / 3.0, n as f64 + 1.5)),
                            suppressed: n.is_multiple_of(5),
                        },
                    });
                }
            }
        }
        rows
    };
    let run = app
        .store
        .start_job_run("2026-10", "aggregate", "test")
        .await
        .expect("run");
    let line = |location: Uuid,
                scope: &str,
                audience: Option<Audience>,
                code: &str,
                version: i32,
                value: Option<f64>,
                sample: u64,
                ci: Option<(f64, f64)>,
                suppressed: bool| {
        format!(
            "{location} {scope} {audience:?} {code} {version} {value:?} {sample} {ci:?} {suppressed}"
        )
    };
    for rows in [rows_for(3), rows_for(1)] {
        app.store
            .replace_aggregates(period, None, &rows, run, 1_000)
            .await
            .expect("store");
        let mut expected: Vec<String> = rows
            .iter()
            .map(|r| {
                line(
                    r.location_id,
                    r.scope.code(),
                    r.audience,
                    r.figure.code.code(),
                    r.indicator_version,
                    r.figure.value,
                    r.figure.sample,
                    r.figure.ci,
                    r.figure.suppressed,
                )
            })
            .collect();
        expected.sort();
        // Both scopes in one read of the period; each location's own figures once more by
        // location, which must give the same ones.
        let mut stored = app
            .store
            .aggregates_of_period(period, None)
            .await
            .expect("figures");
        let headline = stored.len();
        stored.extend(
            app.store
                .audience_aggregates_of_locations(period, &locations, Audience::ALL)
                .await
                .expect("audiences' figures"),
        );
        for id in &locations {
            let own = app
                .store
                .aggregates_of(*id, Scope::SelfOnly, period, period)
                .await
                .expect("own figures");
            let mut of_period: Vec<_> = stored[..headline]
                .iter()
                .filter(|f| f.location_id == *id && f.scope == Scope::SelfOnly)
                .cloned()
                .collect();
            of_period.sort_by(|a, b| a.figure.code.code().cmp(b.figure.code.code()));
            assert_eq!(own, of_period);
        }
        let mut actual: Vec<String> = stored
            .iter()
            .map(|m| {
                line(
                    m.location_id,
                    m.scope.code(),
                    m.audience,
                    m.figure.code.code(),
                    m.indicator_version,
                    m.figure.value,
                    m.figure.sample,
                    m.figure.ci,
                    m.figure.suppressed,
                )
            })
            .collect();
        actual.sort();
        assert_eq!(actual.len(), expected.len());
        assert_eq!(actual, expected);
    }
}

/// A location for a bulk load (`Store::bulk_insert_locations`), with defaults for the rest.
pub(crate) fn bulk_location(
    id: Uuid,
    parent: Option<Uuid>,
    code: &str,
    response_target_days: Option<u32>,
) -> boucle::store::locations::Location {
    boucle::store::locations::Location {
        id,
        name: code.to_owned(),
        code: code.to_owned(),
        typology: "Site".to_owned(),
        parent_id: parent,
        postal_code: "75001".to_owned(),
        city: "Paris".to_owned(),
        latitude: None,
        longitude: None,
        response_target_days,
        min_sample: None,
        min_sample_agents: None,
        active: true,
        created_at: 0,
        updated_at: 0,
    }
}

/// Stores published experiences `(id, location, submitted_at)` in one bulk load, under a
/// new collector key; none answered yet.
async fn insert_published(store: &boucle::store::Store, experiences: &[(Uuid, Uuid, i64)]) {
    use boucle::domain::ModerationStatus;
    use boucle::domain::feedback::NewFeedback;
    use boucle::store::feedback::Capture;

    let (key, _) = boucle::app::keys::create(store, None, "bulk", Role::Collector, None)
        .await
        .expect("key");
    let news: Vec<NewFeedback> = experiences
        .iter()
        .map(|(_, location, _)| boucle_tests::new_feedback(*location))
        .collect();
    let redacted: Vec<_> = news.iter().map(NewFeedback::redact).collect();
    let captures: Vec<Capture<'_>> = experiences
        .iter()
        .zip(&news)
        .zip(&redacted)
        .map(|(((id, location, at), new), (texts, pseudonym))| Capture {
            feedback: new,
            redacted: texts,
            redacted_pseudonym: pseudonym,
            location_id: *location,
            request_id: None,
            submitted_at: *at,
            id: Some(*id),
            status: ModerationStatus::Published,
            reject_reason: None,
        })
        .collect();
    store
        .bulk_insert_feedback(key.key.id, &captures)
        .await
        .expect("experiences");
}

/// Medians and answers on time, for every location and subtree, equal a sort of all the
/// delays concerned, when many answers share a minute of delay, come from several locations
/// and reach the database in reverse delay order (later submissions answered sooner), and
/// the announced delay falls inside a minute (an answer exactly on it is on time).
#[tokio::test]
async fn medians_and_answers_on_time_equal_a_sort_of_every_delay() {
    use std::collections::HashMap;

    let t = boucle_tests::test_store().await;
    let store = &t.store;
    let period: Period = "2026-10".parse().expect("period");
    // Root → two regions → two sites each; one site announces 10 days instead of 15.
    let id = |n: u128| Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 + n);
    let site = |n: u128, parent: u128, target: Option<u32>| {
        bulk_location(
            id(n),
            (parent > 0).then(|| id(parent)),
            &format!("MED-{n}"),
            target,
        )
    };
    store
        .bulk_insert_locations(&[
            site(1, 0, None),
            site(2, 1, None),
            site(3, 1, None),
            site(4, 2, None),
            site(5, 2, Some(10)),
            site(6, 3, None),
            site(7, 3, None),
        ])
        .await
        .expect("locations");
    let leaves = [4u128, 5, 6, 7];

    // 401 answered experiences (odd and even counts per location), delays within a few
    // minutes of 10 and of 15 days, decreasing as submissions go on.
    let month_start = period.bounds_ms(PARIS).0;
    let mut delays: HashMap<Uuid, i64> = HashMap::new();
    let mut experiences = Vec::new();
    for n in 0..401i64 {
        let leaf = id(leaves[(n * 7 % 4) as usize]);
        let around = if n % 3 == 0 { 10 } else { 15 } * DAY_MS;
        // ±4 minutes around the announced delay, exactly on it every 50th.
        let delay = if n % 50 == 0 {
            around
        } else {
            around + 240_000 - (n * 1_193) % 480_000
        };
        experiences.push((
            Uuid::now_v7(),
            leaf,
            month_start + 3_600_000 + n * 60_000,
            delay,
        ));
    }
    let published: Vec<(Uuid, Uuid, i64)> = experiences
        .iter()
        .map(|(fid, leaf, at, _)| (*fid, *leaf, *at))
        .collect();
    insert_published(store, &published).await;
    let db = store.connection();
    for (fid, _, at, delay) in &experiences {
        db.execute_raw(boucle::store::sql(
            db.get_database_backend(),
            "UPDATE feedback SET first_answered_at = $1 WHERE id = $2",
            vec![(at + delay).into(), (*fid).into()],
        ))
        .await
        .expect("answer");
        delays.insert(*fid, *delay);
    }

    let locations = store
        .locations_for_aggregation(None)
        .await
        .expect("locations");
    let targets: HashMap<Uuid, u32> = locations
        .iter()
        .map(|l| (l.location.id, l.effective_response_target_days))
        .collect();
    assert_eq!(targets[&id(5)], 10);
    assert_eq!(targets[&id(4)], 15);
    let boucle::store::aggregates::MonthlyCounts { own, subtree, .. } = store
        .monthly_counts(period, PARIS, None, &targets)
        .await
        .expect("counts");

    // The oracle: every delay of the location (or of its subtree), sorted.
    let descendants = |n: u128| -> Vec<Uuid> {
        match n {
            1 => leaves
                .iter()
                .map(|l| id(*l))
                .chain([id(1), id(2), id(3)])
                .collect(),
            2 => vec![id(2), id(4), id(5)],
            3 => vec![id(3), id(6), id(7)],
            leaf => vec![id(leaf)],
        }
    };
    let expect = |of: &[Uuid]| -> (u64, u64, Option<f64>) {
        let mut answered: Vec<(i64, u32)> = experiences
            .iter()
            .filter(|(_, leaf, _, _)| of.contains(leaf))
            .map(|(fid, leaf, _, _)| (delays[fid], targets[leaf]))
            .collect();
        answered.sort_unstable();
        let on_time = answered
            .iter()
            .filter(|(d, days)| *d <= i64::from(*days) * DAY_MS)
            .count() as u64;
        let n = answered.len();
        let median = match n {
            0 => None,
            _ if n % 2 == 1 => Some(answered[n / 2].0 as f64),
            _ => Some((answered[n / 2 - 1].0 + answered[n / 2].0) as f64 / 2.0),
        };
        (n as u64, on_time, median.map(|ms| ms / DAY_MS as f64))
    };
    let mut checked = 0;
    for n in 1..=7u128 {
        for (counts, of) in [(&own, vec![id(n)]), (&subtree, descendants(n))] {
            let (answered, on_time, median) = expect(&of);
            let c = counts.get(&id(n)).cloned().unwrap_or_default();
            assert_eq!(c.answered, answered, "answered of {n}");
            assert_eq!(c.answered_on_time, on_time, "on time of {n}");
            assert_eq!(c.median_delay_days, median, "median of {n}");
            checked += usize::from(answered > 0);
        }
    }
    // Every leaf and every subtree had answers; on-time counts are neither none nor all.
    assert_eq!(checked, 11);
    let (all, on_time, _) = expect(&descendants(1));
    assert!(0 < on_time && on_time < all, "{on_time} of {all}");
}

/// The month's counts and its ordered answers are read from one snapshot: while answers are
/// being published without pause, every aggregation finds as many answers on time as it
/// counted answers, never more (the answers statement saw answers the counting did not), and
/// a median wherever it counted one. Each delay here is one day, on time everywhere.
#[tokio::test]
async fn counts_and_medians_read_one_snapshot_while_answers_arrive() {
    use std::collections::{BTreeSet, HashMap};

    let t = boucle_tests::test_store().await;
    let store = t.store.clone();
    let period: Period = "2026-10".parse().expect("period");
    let (root, site) = (Uuid::now_v7(), Uuid::now_v7());
    store
        .bulk_insert_locations(&[
            bulk_location(root, None, "SNAP-ROOT", None),
            bulk_location(site, Some(root), "SNAP-SITE", None),
        ])
        .await
        .expect("locations");
    let start = period.bounds_ms(PARIS).0 + 3_600_000;
    let ids: Vec<Uuid> = (0..400).map(|_| Uuid::now_v7()).collect();
    let experiences: Vec<(Uuid, Uuid, i64)> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| (*id, site, start + n as i64 * 60_000))
        .collect();
    insert_published(&store, &experiences).await;

    // Answers arrive one by one, each one day after its experience, until all are answered.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            let db = store.connection();
            for id in ids {
                db.execute_raw(boucle::store::sql(
                    db.get_database_backend(),
                    "UPDATE feedback SET first_answered_at = submitted_at + $1 WHERE id = $2",
                    vec![DAY_MS.into(), id.into()],
                ))
                .await
                .expect("answer");
            }
        })
    };
    let targets: HashMap<Uuid, u32> = HashMap::from([(root, 15), (site, 15)]);
    let mut seen = BTreeSet::new();
    while !writer.is_finished() {
        let boucle::store::aggregates::MonthlyCounts { own, subtree, .. } = store
            .monthly_counts(period, PARIS, None, &targets)
            .await
            .expect("counts");
        for (scope, counts) in [("own", &own), ("subtree", &subtree)] {
            for (id, c) in counts {
                assert_eq!(
                    c.answered_on_time, c.answered,
                    "{scope} {id}: on time vs answered"
                );
                assert_eq!(
                    c.median_delay_days.is_some(),
                    c.answered > 0,
                    "{scope} {id}"
                );
            }
        }
        seen.insert(own.get(&site).map_or(0, |c| c.answered));
    }
    writer.await.expect("writer");
    // The aggregations ran while answers were arriving, not only before or after.
    assert!(seen.len() > 2, "answered counts seen: {seen:?}");
}

/// The medians read every answered experience of the month: from the partial index that
/// holds the columns they need, never with a lookup in the table per experience (at 10M
/// experiences on SQLite that lookup doubled the aggregation), with or without a subtree, on
/// a database without statistics as deployments have.
#[tokio::test]
async fn answer_delays_are_read_from_the_covering_index() {
    let t = boucle_tests::test_store().await;
    let period: Period = "2026-10".parse().expect("period");
    for root in [None, Some(Uuid::now_v7())] {
        let statement = t.store.answer_delays_statement(period, PARIS, root);
        let plan = boucle_tests::plan(t.store.connection(), statement).await;
        let expected = match t.store.backend() {
            sea_orm::DbBackend::Sqlite => "USING COVERING INDEX ix_feedback_answered_public",
            _ => "Index Only Scan using ix_feedback_answered_public",
        };
        assert!(plan.contains(expected), "root {root:?}:\n{plan}");
    }
}

/// Each public's figures of a chunk of locations are read through the primary key (the
/// locations, then the month), never through the month's index of every location: on
/// SQLite, which deployments never analyse, that plan read all 20,000 locations' rows for
/// each chunk of 200 and took 72 s of the open-data export. PostgreSQL chooses by the
/// statistics autovacuum keeps, so an empty table's plan says nothing there.
#[tokio::test]
async fn each_publics_figures_are_read_by_location() {
    let t = boucle_tests::test_store().await;
    if t.store.backend() != sea_orm::DbBackend::Sqlite {
        return;
    }
    let period: Period = "2026-10".parse().expect("period");
    let locations: Vec<Uuid> = (0..200).map(|_| Uuid::now_v7()).collect();
    let statement = boucle::store::aggregates::audience_figures_statement(
        t.store.backend(),
        period,
        &locations,
    );
    let plan = boucle_tests::plan(t.store.connection(), statement).await;
    assert!(
        plan.contains("sqlite_autoindex_audience_figures_1 (location_id=? AND period=?)"),
        "{plan}"
    );
}

/// Agents rating their own service are not usagers: their experiences of October at A-1 —
/// positive, published, answered — change no public figure (the hand-computed fixture's stay
/// exactly as they were; counted, they would have made VOLUME 10 and satisfaction 80 %), and
/// no public listing, open-data file or vote reaches them.
#[tokio::test]
async fn agents_ratings_never_reach_a_public_figure_or_text() {
    let f = fixture().await;
    let collector = f.app.key(Role::Collector, None).await;
    let mut agents = Vec::new();
    for i in 0..4 {
        let answer = f
            .app
            .feedback(Some(&collector))
            .import_feedback(tokio_stream::iter(vec![pb::ImportFeedbackRequest {
                feedback: Some(pb::Feedback {
                    audience: pb::Audience::Agent as i32,
                    satisfaction: pb::Satisfaction::Positive as i32,
                    nps: Some(10),
                    story: format!("Vu de l'intérieur, tout va bien ({i})."),
                    submit_time: Some(ts("2026-10-12T10:00:00+02:00")),
                    ..feedback_for("A-1")
                }),
                request_id: format!("agent-{i}"),
            }]))
            .await
            .expect("import")
            .into_inner();
        let id = answer.outcomes[0].feedback_id.clone();
        f.app.publish_feedback(&id).await;
        let response = f
            .app
            .publish_answer(&id, "Direction", "Merci à l'équipe.")
            .await;
        agents.push((id, response));
    }
    f.aggregate("2026-10").await.expect("aggregate");
    let a1 = f.figures("A-1", Scope::SelfOnly, "2026-10").await;
    assert_eq!(value(&a1, "VOLUME"), (Some(6.0), 6, false));
    assert_eq!(value(&a1, "SATISFACTION_RATE"), (Some(66.7), 6, false));
    assert_eq!(value(&a1, "NPS"), (Some(25.0), 4, false));
    assert_eq!(value(&a1, "RESPONSE_RATE"), (Some(50.0), 4, false));
    let net = f.figures("NET-A", Scope::Subtree, "2026-10").await;
    assert_eq!(value(&net, "VOLUME"), (Some(8.0), 8, false));

    let listed = f
        .app
        .results()
        .list_published_feedback(pb::ListPublishedFeedbackRequest {
            location_code: "NET-A".into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("public listing")
        .into_inner();
    assert!(
        !listed.feedback.is_empty(),
        "the usagers' experiences are listed"
    );
    for (id, response) in &agents {
        assert!(listed.feedback.iter().all(|p| &p.id != id), "{id} listed");
        let vote = f
            .app
            .results()
            .vote_response_useful(pb::VoteResponseUsefulRequest {
                response_id: response.clone(),
                voter_token: format!("voter-{response}"),
                useful: true,
            })
            .await
            .expect_err("an agent's answer is not public");
        assert_eq!(vote.code(), Code::NotFound, "{vote:?}");
    }
    let period: Period = "2026-10".parse().expect("period");
    boucle_jobs::open_data::export(&f.app.store, period, PARIS, None, f.out.path(), None)
        .await
        .expect("export");
    let experiences =
        std::fs::read_to_string(f.out.path().join("experiences-2026-10.csv")).expect("csv");
    assert!(experiences.lines().count() > 1, "{experiences}");
    for (id, _) in &agents {
        assert!(!experiences.contains(id.as_str()), "{id} in the open data");
    }
    assert!(!experiences.contains("intérieur"));
}

/// Imports `n` experiences of `audience` at `location`, submitted on 12 October, the first
/// `positive` of them positive and the rest negative.
async fn import_audience(
    f: &Fixture,
    collector: &str,
    location: &str,
    audience: pb::Audience,
    n: usize,
    positive: usize,
) {
    let requests: Vec<pb::ImportFeedbackRequest> = (0..n)
        .map(|i| pb::ImportFeedbackRequest {
            feedback: Some(pb::Feedback {
                audience: audience as i32,
                satisfaction: if i < positive {
                    pb::Satisfaction::Positive
                } else {
                    pb::Satisfaction::Negative
                } as i32,
                story: format!("Expérience {i} de ce public."),
                submit_time: Some(ts("2026-10-12T10:00:00+02:00")),
                ..feedback_for(location)
            }),
            request_id: format!("{location}-{audience:?}-{i}"),
        })
        .collect();
    let answer = f
        .app
        .feedback(Some(collector))
        .import_feedback(tokio_stream::iter(requests))
        .await
        .expect("import")
        .into_inner();
    assert_eq!(answer.outcomes.len(), n);
}

fn indicator(of: &[pb::IndicatorResult], code: &str) -> (Option<f64>, u64, bool) {
    let r = of
        .iter()
        .find(|r| r.code == code)
        .unwrap_or_else(|| panic!("{code} missing"));
    let f = r.figure.expect("figure");
    (f.value, f.sample_size, f.suppressed)
}

/// Every public has figures of its own beside the headline, which counts every public
/// served and never the agents; the agents' figures are internal, read by AGENT keys of the
/// scope, and exist only for a location with at least `min_sample_agents` of their
/// experiences.
#[tokio::test]
async fn every_public_has_its_own_figures_and_the_agents_stay_internal() {
    let f = fixture().await;
    let collector = f.app.key(Role::Collector, None).await;
    // The agents' threshold of NET-A: 5 (its `min_sample` is 3, so 5 applies).
    let updated = f
        .app
        .locations(Some(&f.app.admin_key))
        .update_location(pb::UpdateLocationRequest {
            location: Some(pb::Location {
                code: "NET-A".into(),
                min_sample_agents: Some(5),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["min_sample_agents".into()],
            }),
        })
        .await
        .expect("threshold")
        .into_inner()
        .location
        .expect("location");
    assert_eq!(updated.effective_min_sample_agents, 5);
    let a2 = f.app.stored_location("A-2").await;
    assert_eq!(a2.effective_min_sample_agents, 5, "inherited");
    let b1 = f.app.stored_location("B-1").await;
    assert_eq!(b1.effective_min_sample_agents, 15, "the default elsewhere");

    import_audience(&f, &collector, "A-1", pb::Audience::Volunteer, 3, 2).await;
    import_audience(&f, &collector, "A-1", pb::Audience::Agent, 5, 1).await;
    import_audience(&f, &collector, "A-2", pb::Audience::Agent, 4, 4).await;
    f.aggregate("2026-10").await.expect("aggregate");

    // The headline: the fixture's six usagers and the three volunteers, no agent.
    let a1 = f.figures("A-1", Scope::SelfOnly, "2026-10").await;
    assert_eq!(value(&a1, "VOLUME"), (Some(9.0), 9, false));
    assert_eq!(value(&a1, "SATISFACTION_RATE"), (Some(66.7), 9, false));
    let a2_figures = f.figures("A-2", Scope::SelfOnly, "2026-10").await;
    assert_eq!(value(&a2_figures, "VOLUME"), (Some(2.0), 2, false));

    // Public results: the headline says whom it counts, each public can be asked.
    let results = |audience: pb::Audience| {
        let mut client = f.app.results();
        async move {
            client
                .get_location_results(pb::GetLocationResultsRequest {
                    location_code: "A-1".into(),
                    period: "2026-10".into(),
                    audience: audience as i32,
                })
                .await
        }
    };
    let headline = results(pb::Audience::Unspecified)
        .await
        .expect("headline")
        .into_inner();
    assert_eq!(headline.audience, 0);
    let counted: Vec<i32> = headline.counted_audiences.clone();
    assert_eq!(counted.len(), 6, "{counted:?}");
    assert!(!counted.contains(&(pb::Audience::Agent as i32)));
    assert_eq!(
        headline.available_audiences,
        [pb::Audience::Usager as i32, pb::Audience::Volunteer as i32]
    );
    let current = headline.current.expect("current").indicators;
    assert_eq!(indicator(&current, "VOLUME"), (Some(9.0), 9, false));

    let usagers = results(pb::Audience::Usager)
        .await
        .expect("usagers")
        .into_inner();
    assert_eq!(usagers.counted_audiences, [pb::Audience::Usager as i32]);
    let current = usagers.current.expect("current").indicators;
    assert_eq!(indicator(&current, "VOLUME"), (Some(6.0), 6, false));
    assert_eq!(
        indicator(&current, "SATISFACTION_RATE"),
        (Some(66.7), 6, false)
    );
    assert!(
        current.iter().all(|r| !r.code.starts_with("ACTIONS_")),
        "actions are the location's, not a public's"
    );
    let volunteers = results(pb::Audience::Volunteer)
        .await
        .expect("volunteers")
        .into_inner();
    let current = volunteers.current.expect("current").indicators;
    assert_eq!(
        indicator(&current, "SATISFACTION_RATE"),
        (Some(66.7), 3, false)
    );
    let donors = results(pb::Audience::Donor)
        .await
        .expect_err("no donor this month");
    assert_eq!(donors.code(), Code::NotFound, "{donors:?}");
    let agents = results(pb::Audience::Agent)
        .await
        .expect_err("the agents' figures are internal");
    assert_eq!(agents.code(), Code::PermissionDenied, "{agents:?}");
    let mut client = f.app.results();
    let bad = client
        .get_location_results(pb::GetLocationResultsRequest {
            location_code: "A-1".into(),
            period: "2026-10".into(),
            audience: 42,
        })
        .await
        .expect_err("an unknown audience");
    assert_eq!(bad.code(), Code::InvalidArgument, "{bad:?}");

    // Internal results: an AGENT key of NET-A reads the agents of A-1 (5, at the
    // threshold), not those of A-2 (4, below it: not even their number).
    let agent_key = f.app.key(Role::Agent, Some("NET-A")).await;
    let internal = |code: &'static str, key: String| {
        let mut client = f.app.indicators(Some(&key));
        async move {
            client
                .get_internal_results(pb::GetInternalResultsRequest {
                    location_code: code.into(),
                    period: "2026-10".into(),
                })
                .await
        }
    };
    let a1 = internal("A-1", agent_key.clone())
        .await
        .expect("internal A-1")
        .into_inner();
    assert_eq!(a1.min_sample_agents, 5);
    let audiences: Vec<i32> = a1.audiences.iter().map(|a| a.audience).collect();
    assert_eq!(
        audiences,
        [
            0,
            pb::Audience::Usager as i32,
            pb::Audience::Volunteer as i32,
            pb::Audience::Agent as i32
        ]
    );
    let agents = &a1.audiences[3].indicators;
    assert_eq!(indicator(agents, "VOLUME"), (Some(5.0), 5, false));
    assert_eq!(
        indicator(agents, "SATISFACTION_RATE"),
        (Some(20.0), 5, false)
    );
    assert!(
        agents.iter().all(|r| !r.code.starts_with("RESPONSE_")),
        "agents' experiences are not answered publicly"
    );
    let a2 = internal("A-2", agent_key.clone())
        .await
        .expect("internal A-2")
        .into_inner();
    assert!(
        a2.audiences
            .iter()
            .all(|a| a.audience != pb::Audience::Agent as i32),
        "{a2:?}"
    );
    // NET-A's subtree holds nine agents: above the threshold.
    let net = internal("NET-A", agent_key.clone())
        .await
        .expect("internal NET-A")
        .into_inner();
    let agents = net
        .audiences
        .iter()
        .find(|a| a.audience == pb::Audience::Agent as i32)
        .expect("the network's agents");
    assert_eq!(
        indicator(&agents.indicators, "VOLUME"),
        (Some(9.0), 9, false)
    );

    // The narrowest keys: another network's agent does not; a collector may not.
    let other = f.app.key(Role::Agent, Some("NET-B")).await;
    let denied = internal("A-1", other).await.expect_err("outside the scope");
    assert_eq!(denied.code(), Code::NotFound, "{denied:?}");
    let denied = internal("A-1", collector.clone())
        .await
        .expect_err("a collector");
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    let moderator = f.app.key(Role::Moderator, None).await;
    let denied = internal("A-1", moderator).await.expect_err("a moderator");
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");

    // Open data: a public column, each public's rows, never an agent's.
    let period: Period = "2026-10".parse().expect("period");
    boucle_jobs::open_data::export(&f.app.store, period, PARIS, None, f.out.path(), None)
        .await
        .expect("export");
    let csv =
        std::fs::read_to_string(f.out.path().join("resultats-2026-10.csv")).expect("résultats");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{name} in {header:?}"))
    };
    let (code, perimeter, public, indicator_code, value_at) = (
        column("code_structure"),
        column("perimetre"),
        column("public"),
        column("code_indicateur"),
        column("valeur"),
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let volume = |public_name: &str| {
        rows.iter()
            .find(|r| {
                r[code] == "A-1"
                    && r[perimeter] == "structure"
                    && r[public] == public_name
                    && r[indicator_code] == "VOLUME"
            })
            .map(|r| r[value_at])
    };
    assert_eq!(volume("ensemble des publics"), Some("9"));
    assert_eq!(volume("usager"), Some("6"));
    assert_eq!(volume("bénévole"), Some("3"));
    assert_eq!(volume("agent"), None);
    assert!(rows.iter().all(|r| r[public] != "agent"), "{csv}");
}

/// The « symétrie des attentions » of a network: Spearman's rank correlation of its sites'
/// publics' and agents' satisfaction, checked against a hand computation.
#[tokio::test]
async fn the_symmetry_of_a_network_matches_a_hand_computation() {
    let f = fixture().await;
    symmetric_network(&f).await;
    f.aggregate("2026-10").await.expect("aggregate");
    let answer = f
        .app
        .indicators(Some(&f.app.admin_key))
        .get_internal_results(pb::GetInternalResultsRequest {
            location_code: "NET-S".into(),
            period: "2026-10".into(),
        })
        .await
        .expect("internal")
        .into_inner();
    let symmetry = answer.symmetry.expect("five sites with both");
    assert_eq!(symmetry.sites, 5);
    // Ranks: publics 1..5; agents 1, 2, 4.5, 3, 4.5 (tied at 100 %). Centred, Σxy = 8,
    // Σx² = 10, Σy² = 9.5: ρ = 8/√95 = 0.820783; Fisher's z with 1.06/(n − 3):
    // [−0.26145, 0.98872].
    let close = |a: f64, b: f64| (a - b).abs() < 1e-5;
    let rho = symmetry.rho.expect("rho");
    assert!(close(rho, 0.820_783), "{rho}");
    assert!(close(symmetry.ci_low.expect("low"), -0.261_450));
    assert!(close(symmetry.ci_high.expect("high"), 0.988_720));
    // The largest gaps first: S-3 (agents 1.5 ranks above), S-4 (1 below), S-5 (0.5 below).
    let divergent: Vec<(String, f64)> = symmetry
        .divergent
        .iter()
        .map(|d| (d.location_code.clone(), d.rank_gap))
        .collect();
    assert_eq!(
        divergent,
        [
            ("S-3".to_owned(), 1.5),
            ("S-4".to_owned(), -1.0),
            ("S-5".to_owned(), -0.5)
        ]
    );
    let s3 = &symmetry.divergent[0];
    assert_eq!(
        (s3.publics_satisfaction, s3.agents_satisfaction),
        (60.0, 100.0)
    );
    // Another network's agent key does not reach it; nor does the public.
    let other = f.app.key(Role::Agent, Some("NET-A")).await;
    let denied = f
        .app
        .indicators(Some(&other))
        .get_internal_results(pb::GetInternalResultsRequest {
            location_code: "NET-S".into(),
            period: "2026-10".into(),
        })
        .await
        .expect_err("outside the scope");
    assert_eq!(denied.code(), Code::NotFound);
    let denied = f
        .app
        .indicators(None)
        .get_internal_results(pb::GetInternalResultsRequest {
            location_code: "NET-S".into(),
            period: "2026-10".into(),
        })
        .await
        .expect_err("no key");
    assert_eq!(denied.code(), Code::Unauthenticated);
}

/// NET-S and its five sites S-1 … S-5 (thresholds 3, agents' 3), with October's
/// experiences: the publics' satisfaction 20, 40, 60, 80, 100 % (five each), the agents'
/// 0, 33.3, 100, 66.7, 100 % (three each).
async fn symmetric_network(f: &Fixture) {
    let collector = f.app.key(Role::Collector, None).await;
    f.app.location("NET-S", None).await;
    f.app
        .locations(Some(&f.app.admin_key))
        .update_location(pb::UpdateLocationRequest {
            location: Some(pb::Location {
                code: "NET-S".into(),
                min_sample: Some(3),
                min_sample_agents: Some(3),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["min_sample".into(), "min_sample_agents".into()],
            }),
        })
        .await
        .expect("thresholds");
    // Five sites: the publics' satisfaction 20, 40, 60, 80, 100 % (five each), the agents'
    // 0, 33.3, 100, 66.7, 100 % (three each).
    for (site, publics, agents) in [(1, 1, 0), (2, 2, 1), (3, 3, 3), (4, 4, 2), (5, 5, 3)] {
        let code = format!("S-{site}");
        f.app.location(&code, Some("NET-S")).await;
        import_audience(f, &collector, &code, pb::Audience::Usager, 5, publics).await;
        import_audience(f, &collector, &code, pb::Audience::Agent, 3, agents).await;
    }
}

/// The agents' barometer reaches the administration in the text of its monthly message, and
/// nowhere the public reads: not in the network's PDF, its HTML twin or the open data.
#[tokio::test]
async fn the_agents_barometer_reaches_the_administration_only_in_its_message() {
    let f = fixture().await;
    symmetric_network(&f).await;
    let net = f.app.stored_location("NET-S").await;
    f.app
        .admin(Some(&f.app.admin_key))
        .create_recipient(pb::CreateRecipientRequest {
            recipient: Some(pb::Recipient {
                email: "direction@reseau-s.test".into(),
                name: "Direction".into(),
                location_id: net.location.id.to_string(),
                ..Default::default()
            }),
        })
        .await
        .expect("recipient");
    let p: Period = "2026-10".parse().expect("p");
    pipeline::run_period(&f.app.store, p, &f.options(), &mut |_, _, _| Ok(()))
        .await
        .expect("run");
    let outbox = f.out.path().join("outbox");
    let messages: Vec<_> = std::fs::read_dir(&outbox)
        .expect("outbox")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(messages.len(), 1);
    let raw = std::fs::read(messages[0].path()).expect("eml");
    let message = mail_parser::MessageParser::default()
        .parse(&raw)
        .expect("a message");
    let text = message.body_text(0).expect("a text part").into_owned();
    // NET-S: 9 of its 15 agents satisfied, 15 of its 25 usagers; the sites' correlation.
    assert!(text.contains("Baromètre interne des agents"), "{text}");
    assert!(
        text.contains("octobre 2026\u{a0}: agents 60,0\u{202f}% sur 15 avis"),
        "{text}"
    );
    assert!(text.contains("publics 60,0\u{202f}% sur 25 avis"), "{text}");
    assert!(text.contains("Spearman 0,82"), "{text}");
    assert!(
        text.contains("S-3 (agents 100,0\u{202f}%, publics 60,0\u{202f}%)"),
        "{text}"
    );
    // Nothing of it in what the public reads.
    let mut public = 0;
    for entry in walk(f.out.path()) {
        if entry.starts_with(&outbox) {
            continue;
        }
        let content = if entry.extension().is_some_and(|e| e == "pdf") {
            // A PDF's text is not its bytes: read it as a reader would (CI has poppler).
            match std::process::Command::new("pdftotext")
                .arg(&entry)
                .arg("-")
                .output()
            {
                Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
                Err(_) => {
                    assert!(
                        std::env::var("BOUCLE_REQUIRE_PDF_TOOLS").is_err(),
                        "pdftotext is required"
                    );
                    continue;
                }
            }
        } else {
            String::from_utf8_lossy(&std::fs::read(&entry).expect("file")).into_owned()
        };
        for private in ["Baromètre interne des agents", "Spearman", "agents 60,0"] {
            assert!(
                !content.contains(private),
                "{} holds {private:?}",
                entry.display()
            );
        }
        public += 1;
    }
    assert!(public > 10, "{public} public files read");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("dir").filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}
