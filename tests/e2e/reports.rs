//! The monthly run on the demo data: one valid PDF per location and a summary per network
//! level, the manifest, delivery by SMTP (to a real SMTP conversation) and to an outbox, and
//! the portal's GetReport serving the same bytes.

use std::path::Path;

use boucle::domain::Period;
use boucle::pb;
use boucle_jobs::deliver::{TlsMode, Transport};
use boucle_jobs::pipeline::{self, Options};
use boucle_tests::smtp::SmtpSink;
use boucle_tests::{TestApp, spawn_app};
use sea_orm::ConnectionTrait;
use tokio_stream::StreamExt;

const PARIS: chrono_tz::Tz = chrono_tz::Europe::Paris;

fn previous() -> Period {
    boucle_jobs::schedule::previous_period(boucle::store::now_ms(), PARIS)
}

async fn demo() -> (TestApp, tempfile::TempDir) {
    let app = spawn_app().await;
    boucle::demo::seed(&app.store, 11, PARIS, boucle::store::now_ms())
        .await
        .expect("demo");
    (app, tempfile::tempdir().expect("out"))
}

fn options(out: &Path, transport: Transport) -> Options {
    Options {
        tz: PARIS,
        root: None,
        out_dir: out.to_owned(),
        open_data_base_url: None,
        holder: format!("test-{}", uuid::Uuid::now_v7()),
        lease_ttl: boucle_jobs::lease::TTL,
        transport,
        mail_from: "Résultats SP+ <resultats@boucle.test>".into(),
        retry: boucle_jobs::retry::Retry::within_run(std::time::Duration::from_millis(10), 5),
        metrics_file: None,
    }
}

async fn subscribe(app: &TestApp, email: &str, code: &str) {
    let location = app.stored_location(code).await;
    app.admin(Some(&app.admin_key))
        .create_recipient(pb::CreateRecipientRequest {
            recipient: Some(pb::Recipient {
                email: email.into(),
                name: "Direction".into(),
                location_id: location.location.id.to_string(),
                ..Default::default()
            }),
        })
        .await
        .expect("subscribe");
}

fn check_with_qpdf(path: &Path) {
    let bytes = std::fs::read(path).expect("pdf");
    assert!(bytes.starts_with(b"%PDF-"), "{}", path.display());
    if let Ok(out) = std::process::Command::new("qpdf")
        .arg("--check")
        .arg(path)
        .output()
    {
        assert!(
            out.status.success(),
            "qpdf --check {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    } else {
        assert!(
            std::env::var("BOUCLE_REQUIRE_PDF_TOOLS").is_err(),
            "qpdf is required"
        );
    }
}

#[tokio::test]
async fn a_monthly_run_publishes_one_valid_pdf_per_location_and_delivers_them_once() {
    let (app, out) = demo().await;
    let sink = SmtpSink::start().await;
    subscribe(&app, "direction@caf69.test", "CAF69").await;
    let smtp = Transport::Smtp {
        host: "127.0.0.1".into(),
        port: sink.port,
        tls: TlsMode::None,
        credentials: None,
    };
    let opts = options(out.path(), smtp);
    let period = previous();
    let run = pipeline::run_period(&app.store, period, &opts, &mut |_, _, _| Ok(()))
        .await
        .expect("run");
    assert_eq!(run.aggregate.locations, 32);
    assert_eq!(
        (run.reports.written, run.reports.unchanged),
        (45, 0),
        "32 locations + 13 summaries"
    );

    // The manifest lists every file with its SHA-256, size, location and period.
    let dir = out.path().join("reports").join(period.to_string());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("json");
    let entries = manifest.as_array().expect("array");
    assert_eq!(entries.len(), 90, "each PDF and its HTML twin");
    for e in entries {
        let file = dir.join(e["file"].as_str().expect("file"));
        let bytes = std::fs::read(&file).expect("listed file exists");
        assert_eq!(
            e["sha256"].as_str(),
            Some(boucle_jobs::report::files::sha256_hex(&bytes).as_str())
        );
        assert_eq!(e["size"].as_u64(), Some(bytes.len() as u64));
        assert_eq!(e["period"].as_str(), Some(period.to_string().as_str()));
        if file.extension().is_some_and(|x| x == "pdf") {
            check_with_qpdf(&file);
            assert!(
                dir.join(boucle_jobs::report::html_name(
                    e["file"].as_str().unwrap_or_default()
                ))
                .exists()
            );
        }
    }
    let pdfs = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|f| f.file_name().to_string_lossy().ends_with(".pdf"))
        .count();
    assert_eq!(pdfs, 45, "no stray or partial file");

    // One message to the CAF69 direction, with the 5 reports of its subtree attached.
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert!(
        received[0]
            .to
            .iter()
            .any(|t| t.contains("direction@caf69.test"))
    );
    assert_eq!(
        received[0]
            .data
            .matches("Content-Type: application/pdf")
            .count(),
        5,
        "CAF69, its summary and 3 sites"
    );
    assert!(received[0].data.contains("CAF69-synthese.pdf"));
    assert_eq!(run.delivery.messages, 1);

    // A rerun: same bytes, nothing rewritten, nothing sent again.
    let before: Vec<u8> = std::fs::read(dir.join("CAF69-LYON-PARTDIEU.pdf")).expect("pdf");
    let again = pipeline::run_period(&app.store, period, &opts, &mut |_, _, _| Ok(()))
        .await
        .expect("rerun");
    assert_eq!((again.reports.written, again.reports.unchanged), (0, 45));
    assert_eq!(again.delivery.messages, 0);
    assert_eq!(sink.received().len(), 1, "no e-mail sent twice");
    assert_eq!(
        std::fs::read(dir.join("CAF69-LYON-PARTDIEU.pdf")).expect("pdf"),
        before
    );

    // The portal lists the reports of a subtree and streams the exact bytes.
    let mut results = app.results();
    let listed = results
        .list_reports(pb::ListReportsRequest {
            location_code: "CAF69".into(),
            period: period.to_string(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .reports;
    assert_eq!(listed.len(), 5);
    let local = listed
        .iter()
        .find(|r| r.location_code == "CAF69-LYON-PARTDIEU")
        .expect("local report");
    assert_eq!(local.kind, pb::report::Kind::Location as i32);
    let mut stream = results
        .get_report(pb::GetReportRequest {
            id: local.id.clone(),
            ..Default::default()
        })
        .await
        .expect("get")
        .into_inner();
    let mut bytes = Vec::new();
    let mut first = true;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("chunk");
        assert_eq!(
            chunk.report.is_some(),
            first,
            "the description comes with the first chunk only"
        );
        assert!(chunk.chunk.len() <= 64 * 1024);
        first = false;
        bytes.extend(chunk.chunk);
    }
    assert_eq!(bytes, before, "GetReport returns the file's bytes");
    assert_eq!(local.sha256, boucle_jobs::report::files::sha256_hex(&bytes));
    // Its accessible twin, written beside it, listed in the manifest, served the same way.
    let twin = std::fs::read(dir.join("CAF69-LYON-PARTDIEU.html")).expect("the HTML twin");
    let mut stream = results
        .get_report(pb::GetReportRequest {
            id: local.id.clone(),
            format: pb::get_report_request::Format::Html as i32,
        })
        .await
        .expect("get html")
        .into_inner();
    let mut html = Vec::new();
    let mut media_type = String::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("chunk");
        if chunk.report.is_some() {
            media_type = chunk.media_type.clone();
            assert_eq!(
                chunk.content_sha256,
                boucle_jobs::report::files::sha256_hex(&twin)
            );
        }
        html.extend(chunk.chunk);
    }
    assert_eq!(html, twin);
    assert_eq!(media_type, "text/html; charset=utf-8");
    assert!(html.starts_with(b"<!DOCTYPE html>\n<html lang=\"fr\">"));
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest");
    assert!(
        manifest.contains("\"CAF69-LYON-PARTDIEU.html\""),
        "{manifest}"
    );
    let status = results
        .get_report(pb::GetReportRequest {
            id: local.id.clone(),
            format: 7,
        })
        .await
        .expect_err("unknown format");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    // The bytes are served from the database, which every replica reaches: not from the
    // jobs' folder, which may be on another machine.
    let path = dir.join("CAF69-LYON-PARTDIEU.pdf");
    std::fs::remove_file(&path).expect("remove the file");
    let mut stream = results
        .get_report(pb::GetReportRequest {
            id: local.id.clone(),
            ..Default::default()
        })
        .await
        .expect("get without the file")
        .into_inner();
    let mut served = Vec::new();
    while let Some(chunk) = stream.next().await {
        served.extend(chunk.expect("chunk").chunk);
    }
    assert_eq!(served, before);
    std::fs::write(&path, &before).expect("restore");
    // Bytes changed behind the record are an integrity failure, not an outage to retry.
    let mut damaged = before.clone();
    damaged.extend_from_slice(b"%tampered");
    let db = app.store.connection();
    let id: uuid::Uuid = local.id.parse().expect("uuid");
    db.execute_raw(boucle::store::sql(
        db.get_database_backend(),
        "UPDATE report_content SET bytes = $1 WHERE report_id = $2",
        vec![damaged.into(), id.into()],
    ))
    .await
    .expect("damage the stored bytes");
    let refused = results
        .get_report(pb::GetReportRequest {
            id: local.id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("damaged bytes");
    assert_eq!(refused.code(), tonic::Code::DataLoss, "{refused:?}");
    assert!(
        !refused.message().contains("CAF69"),
        "no path is sent: {refused:?}"
    );
    let missing = results
        .get_report(pb::GetReportRequest {
            id: uuid::Uuid::now_v7().to_string(),
            ..Default::default()
        })
        .await
        .expect_err("unknown");
    assert_eq!(missing.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn without_a_relay_messages_land_in_the_outbox_and_changed_reports_are_sent_again() {
    let (app, out) = demo().await;
    subscribe(&app, "agence@fs.test", "FS12-MILLAU").await;
    let outbox = out.path().join("outbox");
    let opts = options(out.path(), Transport::Outbox(outbox.clone()));
    let period = previous();
    pipeline::run_period(&app.store, period, &opts, &mut |_, _, _| Ok(()))
        .await
        .expect("run");
    let eml: Vec<_> = std::fs::read_dir(&outbox)
        .expect("outbox")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(eml.len(), 1);
    let text = std::fs::read_to_string(eml[0].path()).expect("eml");
    assert!(text.contains("agence@fs.test"));
    // Sent by a program, under the sender's own domain (issue #22, section 5).
    assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
    let id_line = text
        .lines()
        .find(|l| l.starts_with("Message-ID:"))
        .expect("a Message-ID");
    assert!(id_line.ends_with("@boucle.test>"), "{id_line}");
    assert_eq!(
        text.matches("Content-Type: application/pdf").count(),
        1,
        "a leaf location: its own report"
    );

    // New data changes the report: the new version is delivered, once.
    let collector = app.key(boucle::domain::Role::Collector, None).await;
    let (start, _) = period.bounds_ms(PARIS);
    app.feedback(Some(&collector))
        .import_feedback(tokio_stream::iter(vec![pb::ImportFeedbackRequest {
            feedback: Some(pb::Feedback {
                submit_time: Some(prost_types::Timestamp {
                    seconds: start / 1000 + 3600,
                    nanos: 0,
                }),
                ..boucle_tests::feedback_for("FS12-MILLAU")
            }),
            request_id: "late-arrival".into(),
        }]))
        .await
        .expect("import");
    let rerun = pipeline::run_period(&app.store, period, &opts, &mut |_, _, _| Ok(()))
        .await
        .expect("rerun");
    assert!(rerun.reports.written >= 1);
    assert_eq!(rerun.delivery.messages, 1);
    assert_eq!(std::fs::read_dir(&outbox).expect("outbox").count(), 2);
}

/// The states a crash can leave a delivery in, each followed by a rerun: nothing is ever
/// sent twice, and what provably never left is sent.
#[tokio::test]
async fn a_delivery_interrupted_anywhere_is_never_sent_twice() {
    let (app, out) = demo().await;
    subscribe(&app, "agence@fs.test", "FS12-MILLAU").await;
    let outbox = out.path().join("outbox");
    let opts = options(out.path(), Transport::Outbox(outbox.clone()));
    let period = previous();
    let mut quiet = |_: u64, _: u64| Ok(());
    pipeline::aggregate_period(&app.store, period, &opts, &mut quiet)
        .await
        .expect("aggregate");
    pipeline::report_period(&app.store, period, &opts, &mut quiet)
        .await
        .expect("report");
    let messages = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&outbox)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|f| f.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let db = app.store.connection();
    let set_pending = async || {
        db.execute_unprepared("UPDATE delivery SET status = 'PENDING'")
            .await
            .expect("back to PENDING");
    };
    let statuses = async || -> Vec<String> {
        db.query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT status FROM delivery",
        ))
        .await
        .expect("statuses")
        .iter()
        .map(|r| r.try_get::<String>("", "status").expect("status"))
        .collect()
    };
    let first = pipeline::deliver_period(&app.store, period, &opts)
        .await
        .expect("deliver");
    assert_eq!(first.messages, 1);
    assert_eq!(messages().len(), 1);
    assert_eq!(statuses().await, ["SENT"]);

    // Stopped after the message was written, before it was marked SENT: not written again.
    set_pending().await;
    let rerun = pipeline::deliver_period(&app.store, period, &opts)
        .await
        .expect("rerun");
    assert_eq!((rerun.messages, rerun.uncertain), (0, 0));
    assert_eq!(messages().len(), 1);
    assert_eq!(statuses().await, ["SENT"]);

    // Stopped after PENDING was committed, before the message was written: sent now, once.
    std::fs::remove_file(&messages()[0]).expect("remove");
    set_pending().await;
    let rerun = pipeline::deliver_period(&app.store, period, &opts)
        .await
        .expect("rerun");
    assert_eq!((rerun.messages, rerun.uncertain), (1, 0));
    assert_eq!(messages().len(), 1);
    assert_eq!(statuses().await, ["SENT"]);

    // Over SMTP nobody can tell whether the relay got it: reported as uncertain, not resent.
    set_pending().await;
    let sink = SmtpSink::start().await;
    let smtp = options(
        out.path(),
        Transport::Smtp {
            host: "127.0.0.1".into(),
            port: sink.port,
            tls: TlsMode::None,
            credentials: None,
        },
    );
    let rerun = pipeline::deliver_period(&app.store, period, &smtp)
        .await
        .expect("rerun over SMTP");
    assert_eq!((rerun.messages, rerun.uncertain), (0, 1));
    assert!(sink.received().is_empty(), "never sent twice");
    assert_eq!(statuses().await, ["PENDING"]);

    // An unreachable relay fails the step before anything is recorded: nothing uncertain.
    db.execute_unprepared("DELETE FROM delivery")
        .await
        .expect("forget deliveries");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let down = options(
        out.path(),
        Transport::Smtp {
            host: "127.0.0.1".into(),
            port,
            tls: TlsMode::None,
            credentials: None,
        },
    );
    pipeline::deliver_period(&app.store, period, &down)
        .await
        .expect_err("relay down");
    assert!(
        statuses().await.is_empty(),
        "nothing recorded for a relay that was never reached"
    );
}

/// The text of a PDF (poppler's pdftotext); `None` when the tool is not installed.
fn pdf_text(path: &Path) -> Option<String> {
    match std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(path)
        .arg("-")
        .output()
    {
        Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        _ => {
            assert!(
                std::env::var("BOUCLE_REQUIRE_PDF_TOOLS").is_err(),
                "pdftotext is required"
            );
            None
        }
    }
}

/// Imports `feedback` at FS12-MILLAU in the last hour of `period` (so that it is the site's
/// most recent negative verbatim) and publishes it; returns its id.
async fn publish_last_negative(
    app: &TestApp,
    period: Period,
    request_id: &str,
    feedback: pb::Feedback,
) -> String {
    let (_, end) = period.bounds_ms(PARIS);
    let collector = app.key(boucle::domain::Role::Collector, None).await;
    let imported = app
        .feedback(Some(&collector))
        .import_feedback(tokio_stream::iter(vec![pb::ImportFeedbackRequest {
            feedback: Some(pb::Feedback {
                satisfaction: pb::Satisfaction::Negative as i32,
                submit_time: Some(prost_types::Timestamp {
                    seconds: end / 1000 - 3600,
                    nanos: 0,
                }),
                ..feedback
            }),
            request_id: request_id.into(),
        }]))
        .await
        .expect("import")
        .into_inner();
    let id = imported.outcomes[0].feedback_id.clone();
    app.publish_feedback(&id).await;
    id
}

/// Every file the monthly run wrote below `out`, with its text: PDFs through `pdftotext`
/// (left out when the tool is absent), the others as they are. (path, text, is a PDF).
fn published_texts(out: &Path) -> Vec<(std::path::PathBuf, String, bool)> {
    let mut files = Vec::new();
    let mut stack = vec![out.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir").filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "pdf") {
                if let Some(text) = pdf_text(&path) {
                    files.push((path, text, true));
                }
            } else {
                let text =
                    String::from_utf8_lossy(&std::fs::read(&path).expect("read")).into_owned();
                files.push((path, text, false));
            }
        }
    }
    files
}

/// Nothing private reaches what the jobs publish: the contact e-mail, raw personal data of a
/// story, internal comments and draft answers appear in no PDF, no open-data file and no
/// e-mail, while the redacted story does appear as a verbatim.
#[tokio::test]
async fn reports_open_data_and_mail_carry_no_private_data() {
    let (app, out) = demo().await;
    subscribe(&app, "agence@fs.test", "FS12-MILLAU").await;
    let period = previous();
    let (email, phone, comment, draft) = (
        "dominique.prive@example.org",
        "06 55 44 33 22",
        "Note interne : usager déjà venu trois fois",
        "Brouillon non validé de la réponse",
    );
    let id = publish_last_negative(
        &app,
        period,
        "private-data",
        pb::Feedback {
            title: "Injoignable".into(),
            story: format!("Personne ne répond, rappelez-moi au {phone} s'il vous plaît."),
            contact_email: email.into(),
            ..boucle_tests::feedback_for("FS12-MILLAU")
        },
    )
    .await;
    let mut staff = app.feedback(Some(&app.admin_key));
    staff
        .add_comment(pb::AddCommentRequest {
            feedback_id: id.clone(),
            body: comment.into(),
        })
        .await
        .expect("comment");
    staff
        .draft_response(pb::DraftResponseRequest {
            feedback_id: id.clone(),
            author: "Agence".into(),
            body: draft.into(),
            ..Default::default()
        })
        .await
        .expect("draft");

    let opts = options(out.path(), Transport::Outbox(out.path().join("outbox")));
    pipeline::run_period(&app.store, period, &opts, &mut |_, _, _| Ok(()))
        .await
        .expect("run");
    let secrets = [email, phone, comment, draft];
    let (mut pdfs, mut others) = (0, 0);
    let mut verbatim_seen = false;
    for (path, text, is_pdf) in published_texts(out.path()) {
        if is_pdf {
            pdfs += 1;
        } else {
            others += 1;
        }
        if path.file_name().is_some_and(|n| n == "FS12-MILLAU.pdf") {
            verbatim_seen = text.contains("Personne ne répond");
        }
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "{} shows {secret:?}",
                path.display()
            );
        }
    }
    assert!(
        others >= 4,
        "manifest, open data and the message: {others} files"
    );
    // Without poppler (a bare dev machine) the PDFs cannot be read; CI installs it and
    // sets BOUCLE_REQUIRE_PDF_TOOLS, so there every PDF is checked.
    let tools = std::process::Command::new("pdftotext")
        .arg("-v")
        .output()
        .is_ok();
    if tools {
        assert!(pdfs > 40, "every site's PDF is read: {pdfs}");
        assert!(
            verbatim_seen,
            "the redacted story is the site's negative verbatim"
        );
    }
}

/// The reports read their inputs in batches (one query per kind for hundreds of locations).
/// For every location of the demo network, those inputs equal what the per-location
/// listings of the published data give: subtree channels, public actions in progress or done
/// in the month (a private one and one done earlier are left out), the location's own
/// measurements, the newest published verbatim of each feeling with its published answers,
/// and the SUBTREE figures of the twelve months.
#[tokio::test]
async fn batched_report_inputs_equal_the_per_location_listings() {
    use boucle::store::aggregates::Scope;
    use boucle::store::indicators::MeasurementFilter;

    let (app, _out) = demo().await;
    let period = previous();
    let bounds = period.bounds_ms(PARIS);
    let first = boucle_jobs::report::build::first_of_trend(period);
    let millau = app.stored_location("FS12-MILLAU").await;
    let parent = millau.location.parent_id.expect("a site has a parent");

    // Measurements of the site and of its parent.
    let mut indicators = app.indicators(Some(&app.admin_key));
    indicators
        .define_indicator(pb::DefineIndicatorRequest {
            indicator: Some(pb::Indicator {
                code: "TAUX_DECROCHE".into(),
                title: "Taux de décroché".into(),
                unit: "%".into(),
                direction: pb::indicator::Direction::HigherIsBetter as i32,
                methodology: "Appels décrochés ÷ appels reçus.".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("define");
    for (location, value) in [(millau.location.id, 81.5), (parent, 70.0)] {
        indicators
            .record_measurement(pb::RecordMeasurementRequest {
                measurement: Some(pb::Measurement {
                    indicator_code: "TAUX_DECROCHE".into(),
                    location_id: location.to_string(),
                    period: period.to_string(),
                    value,
                    target: Some(85.0),
                    ..Default::default()
                }),
            })
            .await
            .expect("measure");
    }

    // Actions of the site: in progress, done in the month, done the month before, private.
    let day = |p: Period, d: u32| format!("{}-{d:02}", p.first_day().format("%Y-%m"));
    let mut actions = app.actions(Some(&app.admin_key));
    let db = app.store.connection();
    for (title, public, status, done_on) in [
        ("Créneau du samedi", true, "IN_PROGRESS", None),
        ("Rappel par SMS", true, "DONE", Some(day(period, 14))),
        (
            "Affichage des horaires",
            true,
            "DONE",
            Some(day(period.previous(), 20)),
        ),
        ("Note de service interne", false, "IN_PROGRESS", None),
    ] {
        let created = actions
            .create_action(pb::CreateActionRequest {
                action: Some(pb::Action {
                    location_id: millau.location.id.to_string(),
                    title: title.into(),
                    description: "Suite aux avis".into(),
                    engagement_code: "E4".into(),
                    weight: 1,
                    owner: "Agence".into(),
                    due_on: day(period.next().next(), 28),
                    public,
                    ..Default::default()
                }),
            })
            .await
            .expect("action")
            .into_inner()
            .action
            .expect("action");
        // The state machine is tested elsewhere; here only the stored state matters.
        db.execute_raw(boucle::store::sql(
            db.get_database_backend(),
            "UPDATE action SET status = $1, done_on = $2, progress = $3 WHERE id = $4",
            vec![
                status.into(),
                done_on.into(),
                (if status == "DONE" { 100 } else { 40 }).into(),
                uuid::Uuid::parse_str(&created.id).expect("id").into(),
            ],
        ))
        .await
        .expect("set state");
    }

    let run = app
        .store
        .start_job_run(&period.to_string(), "aggregate", "test")
        .await
        .expect("run");
    boucle_jobs::aggregate::aggregate(&app.store, period, PARIS, None, run, &mut |_, _| Ok(()))
        .await
        .expect("aggregate");
    app.store.finish_job_run(run, None).await.expect("finish");

    let ids = boucle_tests::location_ids(&app.store).await;
    let digest = app.store.month_digest(bounds, None).await.expect("digest");
    let inputs = app
        .store
        .report_inputs(&digest, &ids, &ids, first, period)
        .await
        .expect("inputs");
    let (first_text, next_text) = (day(period, 1), day(period.next(), 1));
    let mut seen = [0usize; 5];
    for &id in &ids {
        let figures = app
            .store
            .aggregates_of(id, Scope::Subtree, first, period)
            .await
            .expect("figures");
        assert_eq!(
            inputs.figures.get(&id).cloned().unwrap_or_default(),
            figures
        );
        seen[0] += figures.len();

        let channels = app
            .store
            .channel_counts(id, period, PARIS)
            .await
            .expect("channels");
        assert_eq!(
            inputs.channels.get(&id).cloned().unwrap_or_default(),
            channels
        );
        seen[1] += channels.len();

        let mut expected: Vec<_> =
            boucle::store::actions::public(app.store.connection(), id, 10_000, None)
                .await
                .expect("actions")
                .into_iter()
                .map(|a| a.action)
                .filter(|a| {
                    a.status.code() == "IN_PROGRESS"
                        || (a.status.code() == "DONE"
                            && a.done_on.as_deref().is_some_and(|d| {
                                d >= first_text.as_str() && d < next_text.as_str()
                            }))
                })
                .collect();
        expected.sort_by(|a, b| (&a.title, a.id).cmp(&(&b.title, b.id)));
        assert_eq!(
            inputs.actions.get(&id).cloned().unwrap_or_default(),
            expected
        );
        seen[2] += expected.len();

        let filter = MeasurementFilter {
            indicator_code: None,
            location: Some(id),
            from: Some(period),
            to: Some(period),
        };
        let mut own = boucle::store::indicators::list_measurements(
            app.store.connection(),
            &boucle::store::Reach::platform(None),
            &filter,
            10_000,
            None,
        )
        .await
        .expect("measurements");
        own.retain(|m| m.location_id == id);
        assert_eq!(
            inputs.measurements.get(&id).cloned().unwrap_or_default(),
            own
        );
        seen[3] += own.len();

        let published = boucle::store::public::published_feedback(
            app.store.connection(),
            boucle::store::public::PublishedFilter {
                root: Some(id),
                submitted: Some(bounds),
                updated_since: None,
            },
            100_000,
            None,
        )
        .await
        .expect("published");
        for feeling in ["NEGATIVE", "NEUTRAL", "POSITIVE"] {
            let oracle = published.iter().find(|v| {
                v.feedback.satisfaction.code() == feeling && !v.feedback.redacted_story.is_empty()
            });
            let batched = inputs
                .verbatims
                .get(&id)
                .into_iter()
                .flatten()
                .find(|v| v.satisfaction.code() == feeling);
            match (oracle, batched) {
                (None, None) => {}
                (Some(o), Some(b)) => {
                    assert_eq!(b.id, o.feedback.id, "{feeling} of {id}");
                    assert_eq!(b.redacted_story, o.feedback.redacted_story);
                    let answers: Vec<(String, String)> = o
                        .responses
                        .iter()
                        .map(|r| (r.author.clone(), r.body.clone()))
                        .collect();
                    assert_eq!(b.answers, answers);
                    seen[4] += 1 + answers.len();
                }
                (o, b) => panic!(
                    "{feeling} of {id}: {:?} vs {:?}",
                    o.map(|o| o.feedback.id),
                    b.map(|b| b.id)
                ),
            }
        }
    }
    assert!(
        seen.iter().all(|&n| n > 0),
        "every kind of input was compared: {seen:?}"
    );
    // A location named more than once, in different chunks of a query (a summary's children
    // are often in the batch themselves), is read once.
    let repeated: Vec<uuid::Uuid> = ids.iter().copied().cycle().take(ids.len() * 20).collect();
    let again = app
        .store
        .report_inputs(&digest, &repeated, &repeated, first, period)
        .await
        .expect("inputs");
    assert_eq!(again.figures, inputs.figures);
    assert_eq!(again.channels, inputs.channels);
    assert_eq!(again.actions, inputs.actions);
    assert_eq!(again.verbatims, inputs.verbatims);
    let titles = |id: uuid::Uuid| -> Vec<String> {
        inputs
            .actions
            .get(&id)
            .into_iter()
            .flatten()
            .map(|a| a.title.clone())
            .collect()
    };
    assert_eq!(
        titles(millau.location.id),
        ["Créneau du samedi", "Rappel par SMS"]
    );
    assert_eq!(
        titles(parent),
        titles(millau.location.id),
        "a parent shows its subtree's actions"
    );
    let values = |id: uuid::Uuid| -> Vec<f64> {
        inputs
            .measurements
            .get(&id)
            .into_iter()
            .flatten()
            .map(|m| m.value)
            .collect()
    };
    assert_eq!(
        (values(millau.location.id), values(parent)),
        (vec![81.5], vec![70.0])
    );
}

/// Personal data in the spellings people really type (typographic spaces, slashes, one digit
/// at a time, obfuscated e-mails, lower-case streets, a number reversed inside a right-to-left
/// override), written by an usager in a story and by agents in an answer, its signature and a
/// public action, reaches none of the public outputs: the public listings, the PDFs, the open
/// data and the delivered mail.
#[tokio::test]
async fn personal_data_in_ordinary_spellings_reaches_no_public_output() {
    // (how it is written, what would identify it once spaces, controls and punctuation are
    // ignored).
    let families: [(&str, &[&str]); 15] = [
        ("06\u{a0}71\u{a0}22\u{a0}33\u{a0}41", &["0671223341"]),
        (
            "FR76\u{202f}3000\u{202f}6000\u{202f}0112\u{202f}3456\u{202f}7890\u{202f}189",
            &["fr7630006000011234567890189"],
        ),
        (
            "1\u{a0}85\u{a0}05\u{a0}78\u{a0}006\u{a0}084\u{a0}91",
            &["185057800608491"],
        ),
        (
            "4970\u{202f}1012\u{202f}3456\u{202f}7893",
            &["4970101234567893"],
        ),
        ("06/72/22/33/42", &["0672223342"]),
        ("0 6 7 3 2 2 3 3 4 3", &["0673223343"]),
        ("06 744 223 44", &["0674422344"]),
        ("Tel0675223345", &["0675223345"]),
        ("camille.petit at example.fr", &["camillepetit"]),
        ("jules.roux arobase orange point com", &["julesroux"]),
        ("nina.berthier [at] free [dot] fr", &["ninaberthier"]),
        ("lea.morel＠example.fr", &["leamorel"]),
        ("françois.dupont@example.fr", &["françoisdupont"]),
        ("12 rue des capucines", &["12ruedescapucines"]),
        (
            "\u{202e}44 33 22 67 60\u{202c}",
            &["4433226760", "0676223344"],
        ),
    ];
    let all: Vec<&str> = families.iter().map(|(text, _)| *text).collect();
    let text = format!("Rappelez-moi : {}.", all.join(" ; "));
    let needles: Vec<&str> = families
        .iter()
        .flat_map(|(_, n)| n.iter().copied())
        .collect();
    // What a reader would find: letters and digits only, lower case.
    let leaked = |output: &str| -> Vec<String> {
        let flat: String = output
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        needles
            .iter()
            .filter(|n| flat.contains(**n))
            .map(|n| (*n).to_owned())
            .collect()
    };

    let (app, out) = demo().await;
    subscribe(&app, "agence@fs.test", "FS12-MILLAU").await;
    let period = previous();
    let id = publish_last_negative(
        &app,
        period,
        "ordinary-spellings",
        pb::Feedback {
            title: "Injoignable".into(),
            story: text.clone(),
            proposal: text.clone(),
            pseudonym: "Tel0675223345".into(),
            ..boucle_tests::feedback_for("FS12-MILLAU")
        },
    )
    .await;
    // Agents sign with their own number and quote the usager's.
    app.publish_answer(
        &id,
        "Camille, camille.petit at example.fr, 06\u{a0}71\u{a0}22\u{a0}33\u{a0}41",
        &text,
    )
    .await;
    let site = app.stored_location("FS12-MILLAU").await;
    let mut actions = app.actions(Some(&app.admin_key));
    let action = actions
        .create_action(pb::CreateActionRequest {
            action: Some(pb::Action {
                location_id: site.location.id.to_string(),
                title: "Rappeler Tel0675223345 et camille.petit at example.fr".into(),
                description: text.clone(),
                engagement_code: "E4".into(),
                due_on: "2099-12-31".into(),
                public: true,
                ..Default::default()
            }),
        })
        .await
        .expect("action")
        .into_inner()
        .action
        .expect("action");
    actions
        .transition_action(pb::TransitionActionRequest {
            id: action.id,
            to: pb::ActionStatus::InProgress as i32,
            ..Default::default()
        })
        .await
        .expect("start");

    // The public API.
    let listed = app
        .results()
        .list_published_feedback(pb::ListPublishedFeedbackRequest {
            location_code: "FS12-MILLAU".into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("public listing")
        .into_inner();
    let ours = listed
        .feedback
        .iter()
        .find(|f| f.id == id)
        .expect("the experience is published");
    assert_eq!(ours.responses.len(), 1, "with its published answer");
    assert_eq!(
        leaked(&format!("{ours:?}")),
        Vec::<String>::new(),
        "ListPublishedFeedback"
    );
    let public_actions = app
        .results()
        .list_public_actions(pb::ListPublicActionsRequest {
            location_code: "FS12-MILLAU".into(),
            ..Default::default()
        })
        .await
        .expect("public actions")
        .into_inner();
    assert!(!public_actions.actions.is_empty());
    assert_eq!(
        leaked(&format!("{public_actions:?}")),
        Vec::<String>::new(),
        "ListPublicActions"
    );

    // What the jobs publish.
    let opts = options(out.path(), Transport::Outbox(out.path().join("outbox")));
    pipeline::run_period(&app.store, period, &opts, &mut |_, _, _| Ok(()))
        .await
        .expect("run");
    let (mut read, mut site_pdf_read) = (0, false);
    for (path, text, _) in published_texts(out.path()) {
        if path.file_name().is_some_and(|n| n == "FS12-MILLAU.pdf") {
            site_pdf_read = true;
            assert!(
                text.contains("Rappelez-moi"),
                "the verbatim is in the report"
            );
            assert!(text.contains("Rappeler"), "the action is in the report");
        }
        read += 1;
        assert_eq!(leaked(&text), Vec::<String>::new(), "{}", path.display());
    }
    assert!(
        read >= 4,
        "manifest, open data and the message at least: {read}"
    );
    if std::process::Command::new("pdftotext")
        .arg("-v")
        .output()
        .is_ok()
    {
        assert!(site_pdf_read, "the site's report was read");
    }
}

/// Every HTML twin of the demo month, checked by axe-core in a real Chromium (WCAG 2.1 A and
/// AA, best practices): zero violations. `.ci/run` installs Debian's chromium and the npm
/// packages and sets BOUCLE_REQUIRE_A11Y; elsewhere the check runs when they are present.
#[tokio::test]
async fn every_html_twin_passes_an_accessibility_checker() {
    let (app, out) = demo().await;
    let period = previous();
    let options = options(out.path(), Transport::Outbox(out.path().join("outbox")));
    pipeline::aggregate_period(&app.store, period, &options, &mut |_, _| Ok(()))
        .await
        .expect("aggregate");
    pipeline::report_period(&app.store, period, &options, &mut |_, _| Ok(()))
        .await
        .expect("reports");
    let dir = boucle_jobs::report::period_dir(out.path(), period);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|f| f.path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert_eq!(files.len(), 45, "one twin per PDF");
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/a11y/check.cjs");
    let Some(chromium) = chromium else {
        assert!(
            std::env::var("BOUCLE_REQUIRE_A11Y").is_err(),
            "chromium is required"
        );
        return;
    };
    let output = match std::process::Command::new("node")
        .arg(script)
        .arg(chromium)
        .args(&files)
        .output()
    {
        Ok(output) if output.status.success() => output,
        other => {
            assert!(
                std::env::var("BOUCLE_REQUIRE_A11Y").is_err(),
                "the accessibility check could not run: {other:?}"
            );
            return;
        }
    };
    let results: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let results = results.as_array().expect("array");
    assert_eq!(results.len(), files.len());
    for r in results {
        assert!(r["passes"].as_u64().unwrap_or(0) > 10, "{r}");
        assert_eq!(r["violations"], serde_json::json!([]), "{}", r["file"]);
    }
}
