//! Privacy through the real binary, logs included: an experience carrying a contact e-mail
//! and personal data in its story, an internal comment, a draft answer and the API key
//! itself must never reach a public RPC or a log line, even at `RUST_LOG=debug`.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use boucle::pb;
use boucle::pb::feedback_service_client::FeedbackServiceClient;
use boucle::pb::results_service_client::ResultsServiceClient;
use tonic::transport::Endpoint;

use common::BIN;
const LOCATION: &str = "CAF69-LYON-PARTDIEU";
const EMAIL: &str = "camille.secret@example.org";
const PHONE: &str = "06 71 82 93 04";
const STORY_EMAIL: &str = "ecrivez.moi@exemple.fr";
const COMMENT: &str = "Commentaire interne: usager connu du service";
const DRAFT: &str = "Brouillon pas encore validé";

#[tokio::test(flavor = "multi_thread")]
async fn personal_data_reaches_no_public_answer_and_no_log_line() {
    let (_database, url) = boucle_tests::fresh_database().await.expect("database");
    let key = common::seed_demo(&url);

    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--database-url",
            &url,
        ])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let mut stderr = child.stderr.take().expect("stderr");
    // The whole log, read on a thread until the server exits; the address from its first lines.
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        let mut buf = [0u8; 8192];
        let mut sent = false;
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.push_str(&String::from_utf8_lossy(&buf[..n]));
            if !sent && let Some(line) = all.lines().find(|l| l.contains("boucle-server listening"))
            {
                let log: serde_json::Value = serde_json::from_str(line).expect("json");
                let _ = addr_tx.send(log["addr"].as_str().expect("addr").to_owned());
                sent = true;
            }
        }
        all
    });
    let addr = addr_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("listening");
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut feedback = FeedbackServiceClient::new(common::authed(&addr, &key));

    let story = format!("Rappelez-moi au {PHONE} ou écrivez à {STORY_EMAIL}, merci.");
    let submitted = feedback
        .submit_feedback(pb::SubmitFeedbackRequest {
            feedback: Some(pb::Feedback {
                contact_email: EMAIL.into(),
                story: story.clone(),
                title: "Dossier bloqué".into(),
                ..boucle_tests::feedback_for(LOCATION)
            }),
            request_id: "privacy-1".into(),
        })
        .await
        .expect("submit")
        .into_inner()
        .feedback
        .expect("feedback");
    // A bad request carrying personal data is logged as refused, without its content.
    let refused = feedback
        .submit_feedback(pb::SubmitFeedbackRequest {
            feedback: Some(pb::Feedback {
                contact_email: format!("{EMAIL} not valid"),
                story: story.clone(),
                ..boucle_tests::feedback_for(LOCATION)
            }),
            request_id: "privacy-2".into(),
        })
        .await
        .expect_err("invalid contact");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    feedback
        .add_comment(pb::AddCommentRequest {
            feedback_id: submitted.id.clone(),
            body: COMMENT.into(),
        })
        .await
        .expect("comment");
    feedback
        .moderate_feedback(pb::ModerateFeedbackRequest {
            id: submitted.id.clone(),
            decision: pb::moderate_feedback_request::Decision::Publish as i32,
            ..Default::default()
        })
        .await
        .expect("publish");
    feedback
        .draft_response(pb::DraftResponseRequest {
            feedback_id: submitted.id.clone(),
            author: "L'agence".into(),
            body: DRAFT.into(),
            ..Default::default()
        })
        .await
        .expect("draft");

    // What the public sees of it.
    let mut public = ResultsServiceClient::new(channel);
    let published = public
        .list_published_feedback(pb::ListPublishedFeedbackRequest {
            location_code: LOCATION.into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("public listing")
        .into_inner();
    let shown = published
        .feedback
        .iter()
        .find(|f| f.id == submitted.id)
        .expect("the published experience is listed");
    let public_text = format!("{published:?}");
    assert!(shown.story.contains("masqué"), "{}", shown.story);

    common::sigterm(&child);
    assert!(child.wait().expect("wait").success());
    let log = reader.join().expect("log reader");
    assert!(
        log.contains("feedback submitted"),
        "the log is really captured"
    );
    for secret in [
        EMAIL,
        PHONE,
        STORY_EMAIL,
        COMMENT,
        DRAFT,
        key.as_str(),
        &story,
    ] {
        assert!(
            !public_text.contains(secret),
            "public answer shows {secret:?}"
        );
        assert!(!log.contains(secret), "a log line shows {secret:?}");
    }
    // The key's secret part never shows, not even its tail.
    assert!(!log.contains(&key[key.len() - 16..]));
}
