//! The life of an experience: moderation, answers, votes, comments, reassignment, privacy.

use boucle::domain::Role;
use boucle::pb;
use boucle::pb::moderate_feedback_request::Decision;
use boucle_tests::{TestApp, feedback_for, spawn_app, violations};
use tonic::Code;

struct Cast {
    app: TestApp,
    collector: String,
    agent: String,
    validator: String,
    moderator: String,
}

async fn cast() -> Cast {
    let app = spawn_app().await;
    app.two_networks().await;
    Cast {
        collector: app.key(Role::Collector, None).await,
        agent: app.key(Role::Agent, None).await,
        validator: app.key(Role::Validator, None).await,
        moderator: app.key(Role::Moderator, None).await,
        app,
    }
}

impl Cast {
    async fn submit(&self, feedback: pb::Feedback) -> pb::Feedback {
        self.app
            .feedback(Some(&self.collector))
            .submit_feedback(pb::SubmitFeedbackRequest {
                feedback: Some(feedback),
                request_id: String::new(),
            })
            .await
            .expect("submit")
            .into_inner()
            .feedback
            .expect("feedback")
    }

    async fn moderate(
        &self,
        id: &str,
        decision: Decision,
        reason: pb::RejectReason,
    ) -> Result<pb::Feedback, tonic::Status> {
        self.app
            .feedback(Some(&self.moderator))
            .moderate_feedback(pb::ModerateFeedbackRequest {
                id: id.into(),
                decision: decision as i32,
                reject_reason: reason as i32,
                note: "vu".into(),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().feedback.expect("feedback"))
    }

    async fn draft(
        &self,
        feedback_id: &str,
        location_id: &str,
        body: &str,
    ) -> Result<pb::Response, tonic::Status> {
        self.app
            .feedback(Some(&self.agent))
            .draft_response(pb::DraftResponseRequest {
                feedback_id: feedback_id.into(),
                location_id: location_id.into(),
                author: "L'équipe d'accueil".into(),
                body: body.into(),
            })
            .await
            .map(|r| r.into_inner().response.expect("response"))
    }

    async fn publish(&self, response_id: &str) -> Result<pb::Response, tonic::Status> {
        self.app
            .feedback(Some(&self.validator))
            .publish_response(pb::PublishResponseRequest {
                response_id: response_id.into(),
            })
            .await
            .map(|r| r.into_inner().response.expect("response"))
    }

    async fn public(&self, location_code: &str, period: &str) -> Vec<pb::PublishedFeedback> {
        self.app
            .results()
            .list_published_feedback(pb::ListPublishedFeedbackRequest {
                location_code: location_code.into(),
                period: period.into(),
                ..Default::default()
            })
            .await
            .expect("public listing")
            .into_inner()
            .feedback
    }

    async fn location_id(&self, code: &str) -> String {
        self.app.location_id(code).await.to_string()
    }
}

#[tokio::test]
async fn an_experience_goes_from_submission_to_public_listing_with_its_answer() {
    let c = cast().await;
    let f = c
        .submit(pb::Feedback {
            title: "Attente trop longue".into(),
            story: "M. Martin m'a dit de rappeler le 06 12 34 56 78.".into(),
            proposal: "Un SMS quand c'est mon tour.".into(),
            pseudonym: "Camille".into(),
            contact_email: "camille@example.org".into(),
            satisfaction: pb::Satisfaction::Negative as i32,
            ..feedback_for("A-1")
        })
        .await;
    assert!(
        c.public("NET-A", "").await.is_empty(),
        "pending experiences are not public"
    );

    // The moderator publishes, masking a name the detector cannot know.
    let published = c
        .app
        .feedback(Some(&c.moderator))
        .moderate_feedback(pb::ModerateFeedbackRequest {
            id: f.id.clone(),
            decision: Decision::Publish as i32,
            redacted_story: Some("[nom masqué] m'a dit de rappeler le 06 12 34 56 78.".into()),
            note: "nom de l'agent masqué".into(),
            ..Default::default()
        })
        .await
        .expect("publish")
        .into_inner()
        .feedback
        .expect("feedback");
    assert_eq!(published.status, pb::ModerationStatus::Published as i32);
    assert_eq!(
        published.redacted_story, "[nom masqué] m'a dit de rappeler le [téléphone masqué].",
        "a moderator's text is redacted again"
    );

    // The local site answers, then its regional level too: one answer per location.
    let local = c.draft(&f.id, "", "Premier jet").await.expect("draft");
    assert_eq!(local.status, pb::ResponseStatus::Draft as i32);
    let local = c
        .draft(
            &f.id,
            "",
            "Nous sommes désolés : un rappel par SMS arrive en janvier.",
        )
        .await
        .expect("edit draft");
    let regional = c
        .draft(
            &f.id,
            &c.location_id("A-REG").await,
            "La direction régionale suit ce point.",
        )
        .await
        .expect("regional draft");
    assert_ne!(local.id, regional.id);
    assert!(
        c.public("NET-A", "").await[0].responses.is_empty(),
        "drafts are not public"
    );
    let local = c.publish(&local.id).await.expect("publish answer");
    assert_eq!(local.status, pb::ResponseStatus::Published as i32);
    assert!(local.publish_time.is_some());

    let listing = c.public("NET-A", "").await;
    assert_eq!(listing.len(), 1);
    let public = &listing[0];
    assert_eq!(
        public.story,
        "[nom masqué] m'a dit de rappeler le [téléphone masqué]."
    );
    assert_eq!(public.location_code, "A-1");
    assert_eq!(public.pseudonym, "Camille");
    assert_eq!(public.responses.len(), 1, "only the published answer");
    assert_eq!(
        public.responses[0].body,
        "Nous sommes désolés : un rappel par SMS arrive en janvier."
    );
    let everything = format!("{listing:?}");
    for secret in [
        "Martin",
        "06 12 34 56 78",
        "camille@example.org",
        "Premier jet",
        "La direction régionale",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked into the public listing"
        );
    }
    assert!(c.public("B-REG", "").await.is_empty(), "another subtree");

    // Votes: one per token and answer; voting again replaces the vote.
    let mut results = c.app.results();
    let vote = |token: &str, useful: bool| pb::VoteResponseUsefulRequest {
        response_id: local.id.clone(),
        voter_token: token.into(),
        useful,
    };
    let v = results
        .vote_response_useful(vote("navigateur-0001-abcdef", true))
        .await
        .expect("vote")
        .into_inner();
    assert_eq!((v.useful_votes, v.not_useful_votes), (1, 0));
    let v = results
        .vote_response_useful(vote("navigateur-0001-abcdef", true))
        .await
        .expect("same vote")
        .into_inner();
    assert_eq!((v.useful_votes, v.not_useful_votes), (1, 0));
    let v = results
        .vote_response_useful(vote("navigateur-0001-abcdef", false))
        .await
        .expect("changed vote")
        .into_inner();
    assert_eq!((v.useful_votes, v.not_useful_votes), (0, 1));
    let v = results
        .vote_response_useful(vote("navigateur-0002-abcdef", true))
        .await
        .expect("other voter")
        .into_inner();
    assert_eq!((v.useful_votes, v.not_useful_votes), (1, 1));
    assert_eq!(c.public("NET-A", "").await[0].responses[0].useful_votes, 1);
    let draft_vote = results
        .vote_response_useful(pb::VoteResponseUsefulRequest {
            response_id: regional.id.clone(),
            voter_token: "navigateur-0003-abcdef".into(),
            useful: true,
        })
        .await
        .expect_err("drafts cannot be voted on");
    assert_eq!(draft_vote.code(), Code::NotFound);
    let short = results
        .vote_response_useful(vote("court", true))
        .await
        .expect_err("short token");
    assert_eq!(violations(&short), ["voter_token"]);

    // The internal view shows everything, drafts included.
    let internal = c
        .app
        .feedback(Some(&c.agent))
        .get_feedback(pb::GetFeedbackRequest { id: f.id.clone() })
        .await
        .expect("get")
        .into_inner()
        .feedback
        .expect("feedback");
    assert_eq!(internal.responses.len(), 2);
    assert!(internal.story.contains("Martin"));
    assert_eq!(internal.contact_email, "camille@example.org");

    // Answered filter, and the audit trail of the decision and the publication.
    let answered = c
        .app
        .feedback(Some(&c.agent))
        .list_feedback(pb::ListFeedbackRequest {
            answered: Some(true),
            ..Default::default()
        })
        .await
        .expect("answered")
        .into_inner()
        .feedback;
    assert_eq!(answered.len(), 1);
    let id = uuid::Uuid::parse_str(&f.id).expect("uuid");
    let decisions = boucle::store::lifecycle::moderation_decisions(c.app.store.connection(), id)
        .await
        .expect("decisions");
    assert_eq!(decisions.len(), 1);
    assert_eq!(
        decisions[0].decision,
        boucle::domain::ModerationStatus::Published
    );
    assert_eq!(decisions[0].note, "nom de l'agent masqué");
    let audit = audit_actions(&c.app).await;
    assert!(audit.contains(&"feedback.moderate".to_owned()), "{audit:?}");
    assert!(audit.contains(&"response.publish".to_owned()), "{audit:?}");
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = app.store.connection();
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT action FROM audit_log ORDER BY at",
    ))
    .await
    .expect("audit")
    .into_iter()
    .map(|r| r.try_get::<String>("", "action").expect("action"))
    .collect()
}

#[tokio::test]
async fn the_states_of_moderation_and_answers_refuse_what_makes_no_sense() {
    let c = cast().await;
    let f = c.submit(feedback_for("A-1")).await;
    let draft = c
        .draft(&f.id, "", "Merci !")
        .await
        .expect("draft on a pending experience");
    let early = c
        .publish(&draft.id)
        .await
        .expect_err("experience not published yet");
    assert_eq!(early.code(), Code::FailedPrecondition);

    let no_reason = c
        .moderate(&f.id, Decision::Reject, pb::RejectReason::Unspecified)
        .await
        .expect_err("reason required");
    assert_eq!(violations(&no_reason), ["reject_reason"]);
    let no_decision = c
        .moderate(&f.id, Decision::Unspecified, pb::RejectReason::Unspecified)
        .await
        .expect_err("decision required");
    assert_eq!(violations(&no_decision), ["decision"]);
    let mixed = c
        .moderate(&f.id, Decision::Publish, pb::RejectReason::Spam)
        .await
        .expect_err("reason with publish");
    assert_eq!(violations(&mixed), ["reject_reason"]);

    c.moderate(&f.id, Decision::Publish, pb::RejectReason::Unspecified)
        .await
        .expect("publish");
    c.publish(&draft.id).await.expect("answer published");
    let twice = c.publish(&draft.id).await.expect_err("published twice");
    assert_eq!(twice.code(), Code::FailedPrecondition);
    let edit = c
        .draft(&f.id, "", "Autre texte")
        .await
        .expect_err("published answers are final");
    assert_eq!(edit.code(), Code::FailedPrecondition);
    let unrelated = c
        .draft(&f.id, &c.location_id("B-1").await, "Hors sujet")
        .await
        .expect_err("not an ancestor");
    assert_eq!(violations(&unrelated), ["location_id"]);

    // Withdrawal: a published experience rejected later leaves the public listing.
    assert_eq!(c.public("A-1", "").await.len(), 1);
    let withdrawn = c
        .moderate(&f.id, Decision::Reject, pb::RejectReason::Abusive)
        .await
        .expect("withdraw");
    assert_eq!(withdrawn.reject_reason, pb::RejectReason::Abusive as i32);
    assert!(c.public("A-1", "").await.is_empty());
    let again = c
        .moderate(&f.id, Decision::Reject, pb::RejectReason::Spam)
        .await
        .expect_err("already rejected");
    assert_eq!(again.code(), Code::FailedPrecondition);
    c.moderate(&f.id, Decision::Publish, pb::RejectReason::Unspecified)
        .await
        .expect("reconsidered");
    assert_eq!(c.public("A-1", "").await.len(), 1);

    let missing = c
        .moderate(
            &uuid::Uuid::now_v7().to_string(),
            Decision::Publish,
            pb::RejectReason::Unspecified,
        )
        .await
        .expect_err("unknown");
    assert_eq!(missing.code(), Code::NotFound);
    let unknown_place = c
        .app
        .results()
        .list_published_feedback(pb::ListPublishedFeedbackRequest {
            location_code: "NOPE".into(),
            ..Default::default()
        })
        .await
        .expect_err("unknown");
    assert_eq!(unknown_place.code(), Code::NotFound);
}

#[tokio::test]
async fn roles_and_scopes_guard_every_lifecycle_step() {
    let c = cast().await;
    let in_b = c.submit(feedback_for("B-1")).await;
    let agent_a = c.app.key(Role::Agent, Some("NET-A")).await;
    let validator_a = c.app.key(Role::Validator, Some("NET-A")).await;
    let moderator_a = c.app.key(Role::Moderator, Some("NET-A")).await;
    let mut agent = c.app.feedback(Some(&agent_a));

    let codes = vec![
        agent
            .add_comment(pb::AddCommentRequest {
                feedback_id: in_b.id.clone(),
                body: "note".into(),
            })
            .await
            .map(|_| ()),
        agent
            .list_comments(pb::ListCommentsRequest {
                feedback_id: in_b.id.clone(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        agent
            .draft_response(pb::DraftResponseRequest {
                feedback_id: in_b.id.clone(),
                author: "a".into(),
                body: "b".into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        agent
            .reassign_feedback(pb::ReassignFeedbackRequest {
                id: in_b.id.clone(),
                location_id: c.location_id("A-1").await,
                note: String::new(),
            })
            .await
            .map(|_| ()),
        c.app
            .feedback(Some(&moderator_a))
            .moderate_feedback(pb::ModerateFeedbackRequest {
                id: in_b.id.clone(),
                decision: Decision::Publish as i32,
                ..Default::default()
            })
            .await
            .map(|_| ()),
    ];
    for result in codes {
        assert_eq!(result.expect_err("outside scope").code(), Code::NotFound);
    }

    // In scope, but moving an experience out of it is refused too.
    let in_a = c.submit(feedback_for("A-1")).await;
    let out = agent
        .reassign_feedback(pb::ReassignFeedbackRequest {
            id: in_a.id.clone(),
            location_id: c.location_id("B-2").await,
            note: String::new(),
        })
        .await
        .expect_err("target outside scope");
    assert_eq!(out.code(), Code::NotFound);

    // An agent drafts but cannot publish; a validator of another network cannot see B's answer.
    c.moderate(&in_b.id, Decision::Publish, pb::RejectReason::Unspecified)
        .await
        .expect("publish");
    let draft = c.draft(&in_b.id, "", "Réponse").await.expect("draft");
    let denied = agent
        .publish_response(pb::PublishResponseRequest {
            response_id: draft.id.clone(),
        })
        .await
        .expect_err("agent");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let hidden = c
        .app
        .feedback(Some(&validator_a))
        .publish_response(pb::PublishResponseRequest {
            response_id: draft.id.clone(),
        })
        .await
        .expect_err("other network");
    assert_eq!(hidden.code(), Code::NotFound);
    let erase = agent
        .erase_contact(pb::EraseContactRequest {
            feedback_id: in_a.id.clone(),
        })
        .await
        .expect_err("admin only");
    assert_eq!(erase.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn comments_stay_internal_and_page_in_order() {
    let c = cast().await;
    let f = c.submit(feedback_for("A-1")).await;
    let mut agent = c.app.feedback(Some(&c.agent));
    for i in 0..5 {
        agent
            .add_comment(pb::AddCommentRequest {
                feedback_id: f.id.clone(),
                body: format!("note interne {i}"),
            })
            .await
            .expect("comment");
    }
    let empty = agent
        .add_comment(pb::AddCommentRequest {
            feedback_id: f.id.clone(),
            body: "  ".into(),
        })
        .await
        .expect_err("empty");
    assert_eq!(violations(&empty), ["body"]);
    let mut bodies = Vec::new();
    let mut token = String::new();
    loop {
        let page = agent
            .list_comments(pb::ListCommentsRequest {
                feedback_id: f.id.clone(),
                page_size: 2,
                page_token: token.clone(),
            })
            .await
            .expect("page")
            .into_inner();
        bodies.extend(page.comments.into_iter().map(|c| c.body));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        bodies,
        (0..5)
            .map(|i| format!("note interne {i}"))
            .collect::<Vec<_>>()
    );
    c.moderate(&f.id, Decision::Publish, pb::RejectReason::Unspecified)
        .await
        .expect("publish");
    assert!(!format!("{:?}", c.public("A-1", "").await).contains("note interne"));
}

#[tokio::test]
async fn reassignment_moves_the_experience_and_keeps_its_history() {
    let c = cast().await;
    let f = c.submit(feedback_for("A-1")).await;
    let a2 = c.location_id("A-2").await;
    let moved = c
        .app
        .feedback(Some(&c.agent))
        .reassign_feedback(pb::ReassignFeedbackRequest {
            id: f.id.clone(),
            location_id: a2.clone(),
            note: "mauvais guichet".into(),
        })
        .await
        .expect("reassign")
        .into_inner()
        .feedback
        .expect("feedback");
    assert_eq!(moved.location_code, "A-2");
    let same = c
        .app
        .feedback(Some(&c.agent))
        .reassign_feedback(pb::ReassignFeedbackRequest {
            id: f.id.clone(),
            location_id: a2,
            note: String::new(),
        })
        .await
        .expect_err("already there");
    assert_eq!(same.code(), Code::FailedPrecondition);
    let history = boucle::store::lifecycle::reassignments(
        c.app.store.connection(),
        uuid::Uuid::parse_str(&f.id).expect("uuid"),
    )
    .await
    .expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].note, "mauvais guichet");
    assert_eq!(history[0].from_location_id.to_string(), f.location_id);
    assert!(
        audit_actions(&c.app)
            .await
            .contains(&"feedback.reassign".to_owned())
    );
}

#[tokio::test]
async fn contact_emails_can_be_erased_and_expire_with_retention() {
    let c = cast().await;
    let old = c
        .app
        .feedback(Some(&c.collector))
        .import_feedback(tokio_stream::iter(vec![pb::ImportFeedbackRequest {
            feedback: Some(pb::Feedback {
                contact_email: "ancien@example.org".into(),
                submit_time: Some(prost_types::Timestamp {
                    seconds: 1_735_689_600,
                    nanos: 0,
                }), // 2025-01-01
                ..feedback_for("A-1")
            }),
            request_id: "old".into(),
        }]))
        .await
        .expect("import")
        .into_inner()
        .outcomes[0]
        .feedback_id
        .clone();
    let recent = c
        .submit(pb::Feedback {
            contact_email: "recent@example.org".into(),
            ..feedback_for("A-1")
        })
        .await;
    let erased_now = c
        .submit(pb::Feedback {
            contact_email: "efface@example.org".into(),
            ..feedback_for("A-1")
        })
        .await;

    let erased = c
        .app
        .feedback(Some(&c.app.admin_key))
        .erase_contact(pb::EraseContactRequest {
            feedback_id: erased_now.id.clone(),
        })
        .await
        .expect("erase")
        .into_inner()
        .feedback
        .expect("feedback");
    assert!(erased.contact_email.is_empty());
    assert!(erased.contact_erased);

    // Retention: everything submitted before 2026-01-01 loses its contact e-mail.
    let purged = boucle::app::moderation::purge_contact_emails(&c.app.store, 1_767_225_600_000)
        .await
        .expect("purge");
    assert_eq!(purged, 1);
    let get = |id: String| {
        let mut client = c.app.feedback(Some(&c.agent));
        async move {
            client
                .get_feedback(pb::GetFeedbackRequest { id })
                .await
                .expect("get")
                .into_inner()
                .feedback
                .expect("f")
        }
    };
    assert!(get(old).await.contact_email.is_empty());
    assert_eq!(get(recent.id).await.contact_email, "recent@example.org");
    let audit = audit_actions(&c.app).await;
    assert!(audit.contains(&"feedback.erase_contact".to_owned()));
    assert!(audit.contains(&"feedback.purge_contacts".to_owned()));
}

/// Every text of the corpus goes through capture and publication; no personal data of the
/// corpus reaches the public listing.
#[tokio::test]
async fn no_personal_data_of_the_corpus_reaches_public_output() {
    let c = cast().await;
    let corpus = include_str!("../data/redaction_corpus.tsv");
    let mut secrets = Vec::new();
    for line in corpus
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let mut fields = line.split('\t');
        let text = fields.next().expect("text");
        secrets.extend(fields.map(|f| f.split_once('=').map_or(f, |(_, s)| s).to_owned()));
        let f = c
            .submit(pb::Feedback {
                title: text.chars().take(120).collect(),
                story: text.into(),
                proposal: text.into(),
                ..feedback_for("A-1")
            })
            .await;
        c.moderate(&f.id, Decision::Publish, pb::RejectReason::Unspecified)
            .await
            .expect("publish");
        let d = c
            .draft(&f.id, "", &format!("Réponse à : {text}"))
            .await
            .expect("draft");
        c.publish(&d.id).await.expect("publish answer");
    }
    let mut public = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .app
            .results()
            .list_published_feedback(pb::ListPublishedFeedbackRequest {
                location_code: "NET-A".into(),
                page_size: 25,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        public.extend(page.feedback);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        public.len(),
        corpus
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .count()
    );
    let output = format!("{public:?}");
    for secret in &secrets {
        assert!(
            !output.contains(secret.as_str()),
            "{secret} reached the public listing"
        );
    }
}

#[tokio::test]
async fn the_experience_keeps_the_instant_of_its_first_published_answer() {
    use sea_orm::ConnectionTrait;

    let c = cast().await;
    let f = c.submit(feedback_for("A-1")).await;
    c.moderate(&f.id, Decision::Publish, pb::RejectReason::Unspecified)
        .await
        .expect("publish the experience");
    let id = uuid::Uuid::parse_str(&f.id).expect("uuid");
    let first_answered_at = || async {
        boucle::store::lifecycle::experience(c.app.store.connection(), None, id)
            .await
            .expect("experience")
            .first_answered_at
    };
    let own = c.draft(&f.id, "", "Merci !").await.expect("site's draft");
    let regional = c
        .draft(&f.id, &c.location_id("A-REG").await, "Nous regardons.")
        .await
        .expect("region's draft");
    assert_eq!(first_answered_at().await, None, "drafts are not answers");

    let published = c.publish(&own.id).await.expect("publish the site's answer");
    let at = published.publish_time.expect("publish time");
    let at_ms = at.seconds * 1000 + i64::from(at.nanos) / 1_000_000;
    assert_eq!(first_answered_at().await, Some(at_ms));

    // Pretend the site's answer was recorded later than the region's publication will be
    // (two publications racing): the earliest instant wins.
    let db = c.app.store.connection();
    db.execute_raw(boucle::store::sql(
        db.get_database_backend(),
        "UPDATE feedback SET first_answered_at = $1 WHERE id = $2",
        vec![(at_ms + 86_400_000).into(), id.into()],
    ))
    .await
    .expect("move the first answer later");
    let second = c
        .publish(&regional.id)
        .await
        .expect("publish the region's answer");
    let second_at = second.publish_time.expect("publish time");
    let second_ms = second_at.seconds * 1000 + i64::from(second_at.nanos) / 1_000_000;
    assert!(second_ms < at_ms + 86_400_000);
    assert_eq!(first_answered_at().await, Some(second_ms));

    // A later publication never moves it forward.
    db.execute_raw(boucle::store::sql(
        db.get_database_backend(),
        "UPDATE feedback SET first_answered_at = $1 WHERE id = $2",
        vec![(at_ms - 86_400_000).into(), id.into()],
    ))
    .await
    .expect("move the first answer earlier");
    let third = c
        .draft(&f.id, &c.location_id("NET-A").await, "Vu.")
        .await
        .expect("network's draft");
    c.publish(&third.id)
        .await
        .expect("publish the network's answer");
    assert_eq!(first_answered_at().await, Some(at_ms - 86_400_000));
}

#[tokio::test]
async fn the_history_of_an_experience_says_who_did_what_and_when() {
    use pb::feedback_history_event::Kind;

    let c = cast().await;
    let f = c
        .submit(pb::Feedback {
            contact_email: "camille@example.org".into(),
            ..feedback_for("A-1")
        })
        .await;
    c.moderate(&f.id, Decision::Publish, pb::RejectReason::Unspecified)
        .await
        .expect("publish");
    let a1 = c.location_id("A-1").await;
    let a2 = c.location_id("A-2").await;
    c.app
        .feedback(Some(&c.agent))
        .reassign_feedback(pb::ReassignFeedbackRequest {
            id: f.id.clone(),
            location_id: a2.clone(),
            note: "Mauvais site\u{a0}: l’accueil de Saint-Étienne".into(),
        })
        .await
        .expect("reassign");
    let answer = c
        .draft(&f.id, "", "Merci, c'est corrigé.")
        .await
        .expect("draft");
    c.publish(&answer.id).await.expect("publish answer");

    let history = |key: String, id: String| {
        let app = &c.app;
        async move {
            app.feedback(Some(&key))
                .list_feedback_history(pb::ListFeedbackHistoryRequest { feedback_id: id })
                .await
                .map(|r| r.into_inner().events)
        }
    };
    let events = history(c.agent.clone(), f.id.clone())
        .await
        .expect("history");
    let got: Vec<(Kind, String)> = events.iter().map(|e| (e.kind(), e.actor.clone())).collect();
    let actor = |role: Role| format!("test {role}");
    assert_eq!(
        got,
        [
            (Kind::Submitted, actor(Role::Collector)),
            (Kind::Moderated, actor(Role::Moderator)),
            (Kind::Reassigned, actor(Role::Agent)),
            (Kind::AnswerDrafted, actor(Role::Agent)),
            (Kind::AnswerPublished, actor(Role::Validator)),
        ]
    );
    assert_eq!(events[0].location_id, a1, "submitted where it was first");
    assert_eq!(events[1].decision(), pb::ModerationStatus::Published);
    assert_eq!(events[1].note, "vu");
    assert_eq!(
        (
            events[2].from_location_id.as_str(),
            events[2].location_id.as_str()
        ),
        (a1.as_str(), a2.as_str())
    );
    assert_eq!(
        events[2].note, "Mauvais site\u{a0}: l’accueil de Saint-Étienne",
        "a French note comes back as written"
    );
    for e in &events[3..] {
        assert_eq!(
            (e.response_id.as_str(), e.location_id.as_str()),
            (answer.id.as_str(), a2.as_str())
        );
    }
    let times: Vec<_> = events
        .iter()
        .map(|e| e.time.map(|t| (t.seconds, t.nanos)))
        .collect();
    assert!(times.iter().all(Option::is_some));
    assert!(times.is_sorted(), "oldest first: {times:?}");
    assert!(
        !format!("{events:?}").contains("camille@example.org"),
        "never a contact e-mail"
    );

    // A rejection keeps its reason; every role that reads experiences reads the history.
    let g = c.submit(feedback_for("A-1")).await;
    c.moderate(&g.id, Decision::Reject, pb::RejectReason::Spam)
        .await
        .expect("reject");
    let events = history(c.moderator.clone(), g.id.clone())
        .await
        .expect("moderator's history");
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].decision(), pb::ModerationStatus::Rejected);
    assert_eq!(events[1].reject_reason(), pb::RejectReason::Spam);

    // Outside the caller's scope the experience does not exist; a collector may not ask.
    let other_network = c.app.key(Role::Admin, Some("NET-B")).await;
    let refused = history(other_network, f.id.clone())
        .await
        .expect_err("out of scope");
    assert_eq!(refused.code(), Code::NotFound);
    let refused = history(c.collector.clone(), f.id.clone())
        .await
        .expect_err("collector");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let refused = history(c.agent.clone(), "not-an-id".into())
        .await
        .expect_err("bad id");
    assert_eq!(refused.code(), Code::InvalidArgument);
}
