//! Privacy through the real binary, logs included: an experience carrying a contact e-mail
//! and personal data in its story, an internal comment, a draft answer and the API key
//! itself must never reach a public RPC or a log line, even at `RUST_LOG=debug`.

mod common;

use boucle::pb;
use boucle::pb::feedback_service_client::FeedbackServiceClient;
use boucle::pb::results_service_client::ResultsServiceClient;
use tonic::transport::Endpoint;

const LOCATION: &str = "CAF69-LYON-PARTDIEU";
const EMAIL: &str = "camille.secret@example.org";
const PHONE: &str = "06 71 82 93 04";
const STORY_EMAIL: &str = "ecrivez.moi@exemple.fr";
const COMMENT: &str = "Commentaire interne: usager connu du service";
const DRAFT: &str = "Brouillon pas encore validé";

#[tokio::test(flavor = "multi_thread")]
async fn personal_data_reaches_no_public_answer_and_no_log_line() {
    let (_database, url) = boucle_tests::fresh_database().await.expect("database");
    let published = tempfile::tempdir().expect("tempdir");
    let key = common::seed_demo(&url, published.path());

    let server = common::start(&url, &[("RUST_LOG", "debug")]);
    let addr = server.addr.clone();
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

    common::sigterm(&server.child);
    let mut child = server.child;
    assert!(child.wait().expect("wait").success());
    // The reader thread ends with the pipe: every line the server wrote.
    let log = server.stderr.iter().collect::<Vec<_>>().join("\n");
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
