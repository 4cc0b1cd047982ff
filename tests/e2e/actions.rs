//! ActionService and ListPublicActions: « vous nous l'avez demandé, on l'a fait ».

use boucle::domain::Role;
use boucle::pb;
use boucle::pb::ActionStatus as S;
use boucle_tests::ActionServiceClient;
use boucle_tests::{Authed, TestApp, feedback_for, spawn_app, violations};
use prost_types::FieldMask;
use tonic::Code;

struct Ctx {
    app: TestApp,
    agent: String,
    a1: String,
}

async fn ctx() -> Ctx {
    let app = spawn_app().await;
    app.two_networks().await;
    let agent = app.key(Role::Agent, None).await;
    let a1 = app.location_id("A-1").await.to_string();
    Ctx { app, agent, a1 }
}

impl Ctx {
    fn client(&self) -> ActionServiceClient<Authed> {
        self.app.actions(Some(&self.agent))
    }

    async fn create(&self, title: &str, parent: &str, weight: u32, public: bool) -> pb::Action {
        self.client()
            .create_action(pb::CreateActionRequest {
                action: Some(pb::Action {
                    location_id: self.a1.clone(),
                    title: title.into(),
                    description: "Suite aux avis sur l'attente".into(),
                    engagement_code: "E4".into(),
                    parent_id: parent.into(),
                    weight,
                    owner: "Cheffe d'agence".into(),
                    due_on: "2027-03-31".into(),
                    public,
                    ..Default::default()
                }),
            })
            .await
            .expect("create action")
            .into_inner()
            .action
            .expect("action")
    }

    async fn transition(
        &self,
        id: &str,
        to: S,
        progress: Option<u32>,
    ) -> Result<pb::Action, tonic::Status> {
        self.client()
            .transition_action(pb::TransitionActionRequest {
                id: id.into(),
                to: to as i32,
                progress,
                note: "point d'étape".into(),
            })
            .await
            .map(|r| r.into_inner().action.expect("action"))
    }

    async fn set_progress(&self, id: &str, progress: u32) -> Result<pb::Action, tonic::Status> {
        self.update(
            id,
            pb::Action {
                progress,
                ..Default::default()
            },
            &["progress"],
        )
        .await
    }

    async fn update(
        &self,
        id: &str,
        action: pb::Action,
        paths: &[&str],
    ) -> Result<pb::Action, tonic::Status> {
        self.client()
            .update_action(pb::UpdateActionRequest {
                action: Some(pb::Action {
                    id: id.into(),
                    ..action
                }),
                update_mask: Some(FieldMask {
                    paths: paths.iter().map(|p| (*p).to_owned()).collect(),
                }),
                note: String::new(),
            })
            .await
            .map(|r| r.into_inner().action.expect("action"))
    }

    async fn get(&self, id: &str) -> pb::Action {
        self.client()
            .get_action(pb::GetActionRequest { id: id.into() })
            .await
            .expect("get")
            .into_inner()
            .action
            .expect("action")
    }

    /// A new action brought to `status` along allowed moves.
    async fn in_state(&self, status: S) -> pb::Action {
        let a = self.create("Action", "", 1, false).await;
        match status {
            S::Planned | S::Unspecified => a,
            S::InProgress => self
                .transition(&a.id, S::InProgress, None)
                .await
                .expect("start"),
            S::Done => {
                self.transition(&a.id, S::InProgress, None)
                    .await
                    .expect("start");
                self.transition(&a.id, S::Done, None).await.expect("done")
            }
            S::Abandoned => {
                self.transition(&a.id, S::InProgress, None)
                    .await
                    .expect("start");
                self.transition(&a.id, S::Abandoned, None)
                    .await
                    .expect("abandon")
            }
        }
    }
}

#[tokio::test]
async fn every_allowed_and_refused_transition() {
    let c = ctx().await;
    let statuses = [S::Planned, S::InProgress, S::Done, S::Abandoned];
    let allowed = [
        (S::Planned, S::InProgress),
        (S::InProgress, S::Done),
        (S::InProgress, S::Abandoned),
        (S::Abandoned, S::Planned),
    ];
    for from in statuses {
        for to in statuses {
            let action = c.in_state(from).await;
            assert_eq!(action.status, from as i32);
            let result = c.transition(&action.id, to, None).await;
            if allowed.contains(&(from, to)) {
                assert_eq!(
                    result.expect("allowed").status,
                    to as i32,
                    "{from:?} → {to:?}"
                );
            } else {
                assert_eq!(
                    result.expect_err("refused").code(),
                    Code::FailedPrecondition,
                    "{from:?} → {to:?}"
                );
                assert_eq!(
                    c.get(&action.id).await.status,
                    from as i32,
                    "a refused move changes nothing"
                );
            }
        }
    }
    let unknown = c
        .transition(&c.in_state(S::Planned).await.id, S::Unspecified, None)
        .await
        .expect_err("no target");
    assert_eq!(violations(&unknown), ["to"]);
}

#[tokio::test]
async fn each_status_brings_its_progress_and_progress_moves_only_while_in_progress() {
    let c = ctx().await;
    let a = c.create("Rappel par SMS", "", 1, false).await;
    assert_eq!((a.status, a.progress), (S::Planned as i32, 0));
    assert_eq!(
        c.set_progress(&a.id, 30).await.expect_err("planned").code(),
        Code::FailedPrecondition
    );
    let started = c
        .transition(&a.id, S::InProgress, Some(40))
        .await
        .expect("start at 40");
    assert_eq!(started.progress, 40);
    assert_eq!(
        c.set_progress(&a.id, 60).await.expect("progress").progress,
        60
    );
    let too_much = c.set_progress(&a.id, 101).await.expect_err("over 100");
    assert_eq!(violations(&too_much), ["action.progress"]);
    let abandoned = c
        .transition(&a.id, S::Abandoned, None)
        .await
        .expect("abandon");
    assert_eq!(
        abandoned.progress, 60,
        "abandoning freezes the progress reached"
    );
    let revived = c.transition(&a.id, S::Planned, None).await.expect("revive");
    assert_eq!(revived.progress, 0);
    c.transition(&a.id, S::InProgress, None)
        .await
        .expect("restart");
    assert_eq!(
        c.get(&a.id).await.progress,
        10,
        "default progress when starting"
    );
    let done = c.transition(&a.id, S::Done, None).await.expect("done");
    assert_eq!(done.progress, 100);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(done.done_on, today);
    let with_progress = c
        .transition(&c.in_state(S::InProgress).await.id, S::Done, Some(50))
        .await
        .expect_err("progress only when starting");
    assert_eq!(violations(&with_progress), ["progress"]);
}

#[tokio::test]
async fn a_parent_follows_the_weighted_mean_of_its_sub_actions() {
    let c = ctx().await;
    let parent = c.create("Réduire l'attente", "", 1, true).await;
    let c1 = c.create("Borne de rendez-vous", &parent.id, 1, false).await;
    let c2 = c.create("Renfort le lundi", &parent.id, 3, false).await;
    c.transition(&parent.id, S::InProgress, None)
        .await
        .expect("start parent");
    assert_eq!(
        c.get(&parent.id).await.progress,
        0,
        "computed from planned children"
    );
    c.transition(&c1.id, S::InProgress, Some(50))
        .await
        .expect("start c1");
    assert_eq!(c.get(&parent.id).await.progress, 13); // 50 / 4 = 12.5
    c.transition(&c2.id, S::InProgress, None)
        .await
        .expect("start c2");
    c.transition(&c2.id, S::Done, None).await.expect("c2 done");
    assert_eq!(c.get(&parent.id).await.progress, 88); // (50 + 300) / 4 = 87.5
    assert_eq!(
        c.set_progress(&parent.id, 10)
            .await
            .expect_err("computed")
            .code(),
        Code::FailedPrecondition
    );

    // A grandchild moves the grandparent too.
    let g = c
        .create("Afficher le temps d'attente", &c1.id, 1, false)
        .await;
    assert_eq!(
        c.get(&c1.id).await.progress,
        0,
        "c1 now follows its own child"
    );
    c.transition(&g.id, S::InProgress, Some(100))
        .await
        .expect("start g");
    assert_eq!(c.get(&c1.id).await.progress, 100);
    assert_eq!(c.get(&parent.id).await.progress, 100);

    // Abandoned sub-actions leave the mean; moving a child recomputes both parents.
    c.transition(&c2.id, S::Abandoned, None)
        .await
        .expect_err("DONE is final");
    let other = c.create("Autre chantier", "", 1, false).await;
    c.update(
        &c1.id,
        pb::Action {
            parent_id: other.id.clone(),
            ..Default::default()
        },
        &["parent_id"],
    )
    .await
    .expect("move c1");
    assert_eq!(c.get(&parent.id).await.progress, 100, "only c2 (done) left");
    assert_eq!(c.get(&other.id).await.progress, 100, "other now holds c1");

    // No cycles.
    let cycle = c
        .update(
            &other.id,
            pb::Action {
                parent_id: g.id.clone(),
                ..Default::default()
            },
            &["parent_id"],
        )
        .await
        .expect_err("cycle");
    assert_eq!(cycle.code(), Code::FailedPrecondition);
    let itself = c
        .update(
            &other.id,
            pb::Action {
                parent_id: other.id.clone(),
                ..Default::default()
            },
            &["parent_id"],
        )
        .await
        .expect_err("itself");
    assert_eq!(itself.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn the_timeline_records_every_change() {
    let c = ctx().await;
    let collector = c.app.key(Role::Collector, None).await;
    let f = c
        .app
        .feedback(Some(&collector))
        .submit_feedback(pb::SubmitFeedbackRequest {
            feedback: Some(feedback_for("A-1")),
            request_id: String::new(),
        })
        .await
        .expect("submit")
        .into_inner()
        .feedback
        .expect("f");
    let a = c.create("Rappel par SMS", "", 1, false).await;
    c.update(
        &a.id,
        pb::Action {
            title: "Rappel par SMS et courriel".into(),
            owner: "Équipe accueil".into(),
            ..Default::default()
        },
        &["title", "owner"],
    )
    .await
    .expect("update");
    c.transition(&a.id, S::InProgress, None)
        .await
        .expect("start");
    c.set_progress(&a.id, 70).await.expect("progress");
    let mut client = c.client();
    client
        .link_feedback(pb::LinkFeedbackRequest {
            action_id: a.id.clone(),
            feedback_id: f.id.clone(),
            unlink: false,
        })
        .await
        .expect("link");
    client
        .link_feedback(pb::LinkFeedbackRequest {
            action_id: a.id.clone(),
            feedback_id: f.id.clone(),
            unlink: false,
        })
        .await
        .expect("link again (idempotent)");
    client
        .link_feedback(pb::LinkFeedbackRequest {
            action_id: a.id.clone(),
            feedback_id: f.id.clone(),
            unlink: true,
        })
        .await
        .expect("unlink");
    c.transition(&a.id, S::Done, None).await.expect("done");
    let events = client
        .list_action_events(pb::ListActionEventsRequest {
            action_id: a.id.clone(),
            page_size: 3,
            page_token: String::new(),
        })
        .await
        .expect("events")
        .into_inner();
    assert_eq!(events.events.len(), 3);
    let mut all = events.events;
    let mut token = events.next_page_token;
    while !token.is_empty() {
        let page = client
            .list_action_events(pb::ListActionEventsRequest {
                action_id: a.id.clone(),
                page_size: 3,
                page_token: token,
            })
            .await
            .expect("page")
            .into_inner();
        all.extend(page.events);
        token = page.next_page_token;
    }
    let trail: Vec<(&str, &str, &str)> = all
        .iter()
        .map(|e| (e.field.as_str(), e.from_value.as_str(), e.to_value.as_str()))
        .collect();
    assert_eq!(
        trail,
        [
            ("created", "", "PLANNED"),
            ("title", "Rappel par SMS", "Rappel par SMS et courriel"),
            ("owner", "Cheffe d'agence", "Équipe accueil"),
            ("status", "PLANNED", "IN_PROGRESS"),
            ("progress", "0", "10"),
            ("progress", "10", "70"),
            ("linked_feedback", "", f.id.as_str()),
            ("unlinked_feedback", f.id.as_str(), ""),
            ("status", "IN_PROGRESS", "DONE"),
            ("progress", "70", "100"),
        ]
    );
    assert!(
        all.iter()
            .all(|e| e.actor == "test AGENT" && e.time.is_some())
    );
    assert_eq!(all[3].note, "point d'étape");
}

#[tokio::test]
async fn links_show_from_both_sides_and_public_actions_count_published_experiences() {
    let c = ctx().await;
    let collector = c.app.key(Role::Collector, None).await;
    let moderator = c.app.key(Role::Moderator, None).await;
    let submit = |loc: &str| {
        let mut client = c.app.feedback(Some(&collector));
        let f = feedback_for(loc);
        async move {
            client
                .submit_feedback(pb::SubmitFeedbackRequest {
                    feedback: Some(f),
                    request_id: String::new(),
                })
                .await
                .expect("submit")
                .into_inner()
                .feedback
                .expect("f")
        }
    };
    let published = submit("A-1").await;
    let pending = submit("A-2").await;
    c.app
        .feedback(Some(&moderator))
        .moderate_feedback(pb::ModerateFeedbackRequest {
            id: published.id.clone(),
            decision: pb::moderate_feedback_request::Decision::Publish as i32,
            ..Default::default()
        })
        .await
        .expect("publish");
    let public = c.create("Ouvrir le samedi matin", "", 1, true).await;
    let private = c.create("Former l'équipe", "", 1, false).await;
    let mut client = c.client();
    for f in [&published, &pending] {
        client
            .link_feedback(pb::LinkFeedbackRequest {
                action_id: public.id.clone(),
                feedback_id: f.id.clone(),
                unlink: false,
            })
            .await
            .expect("link");
    }
    let linked = client
        .get_action(pb::GetActionRequest {
            id: public.id.clone(),
        })
        .await
        .expect("get")
        .into_inner()
        .action
        .expect("a");
    assert_eq!(linked.feedback_ids.len(), 2);
    let from_feedback = c
        .app
        .feedback(Some(&c.agent))
        .get_feedback(pb::GetFeedbackRequest {
            id: published.id.clone(),
        })
        .await
        .expect("get f")
        .into_inner()
        .feedback
        .expect("f");
    assert_eq!(from_feedback.action_ids, std::slice::from_ref(&public.id));
    let by_feedback = client
        .list_actions(pb::ListActionsRequest {
            feedback_id: pending.id.clone(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .actions;
    assert_eq!(
        by_feedback.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
        std::slice::from_ref(&public.id)
    );

    let listing = c
        .app
        .results()
        .list_public_actions(pb::ListPublicActionsRequest {
            location_code: "NET-A".into(),
            ..Default::default()
        })
        .await
        .expect("public")
        .into_inner()
        .actions;
    assert_eq!(listing.len(), 1, "only public actions");
    assert_eq!(listing[0].id, public.id);
    assert_eq!(
        listing[0].linked_feedback, 1,
        "only published experiences count"
    );
    assert_eq!(
        listing[0].engagement_title,
        "Votre demande est traitée dans les délais annoncés"
    );
    assert!(!format!("{listing:?}").contains(&private.title));
    assert!(
        c.app
            .results()
            .list_public_actions(pb::ListPublicActionsRequest {
                location_code: "NET-B".into(),
                ..Default::default()
            })
            .await
            .expect("B")
            .into_inner()
            .actions
            .is_empty()
    );
}

#[tokio::test]
async fn filters_validation_and_engagements() {
    let c = ctx().await;
    let late = c.in_state(S::InProgress).await;
    c.update(
        &late.id,
        pb::Action {
            due_on: "2020-01-01".into(),
            ..Default::default()
        },
        &["due_on"],
    )
    .await
    .expect("due in the past");
    let late_done = c.in_state(S::Done).await;
    c.update(
        &late_done.id,
        pb::Action {
            due_on: "2020-01-01".into(),
            ..Default::default()
        },
        &["due_on"],
    )
    .await
    .expect("due in the past");
    c.update(
        &c.in_state(S::Planned).await.id,
        pb::Action {
            engagement_code: "E2".into(),
            ..Default::default()
        },
        &["engagement_code"],
    )
    .await
    .expect("engagement");
    let mut client = c.client();
    let ids = |req: pb::ListActionsRequest| {
        let mut client = client.clone();
        async move {
            client
                .list_actions(req)
                .await
                .expect("list")
                .into_inner()
                .actions
        }
    };
    assert_eq!(
        ids(pb::ListActionsRequest {
            overdue: true,
            ..Default::default()
        })
        .await
        .iter()
        .map(|a| a.id.clone())
        .collect::<Vec<_>>(),
        std::slice::from_ref(&late.id)
    );
    assert_eq!(
        ids(pb::ListActionsRequest {
            status: S::Done as i32,
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        ids(pb::ListActionsRequest {
            engagement_code: "E2".into(),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        ids(pb::ListActionsRequest {
            location_id: c.a1.clone(),
            ..Default::default()
        })
        .await
        .len(),
        3
    );

    let invalid = client
        .create_action(pb::CreateActionRequest {
            action: Some(pb::Action {
                location_id: "x".into(),
                title: " ".into(),
                engagement_code: "Z9".into(),
                weight: 5000,
                due_on: "31/03/2027".into(),
                ..Default::default()
            }),
        })
        .await
        .expect_err("invalid");
    assert_eq!(
        violations(&invalid),
        [
            "action.location_id",
            "action.title",
            "action.engagement_code",
            "action.weight",
            "action.due_on"
        ]
    );
    let unknown = client
        .create_action(pb::CreateActionRequest {
            action: Some(pb::Action {
                location_id: c.a1.clone(),
                title: "t".into(),
                engagement_code: "E99".into(),
                ..Default::default()
            }),
        })
        .await
        .expect_err("unknown engagement");
    assert_eq!(violations(&unknown), ["action.engagement_code"]);
    let status_mask = c
        .update(&late.id, pb::Action::default(), &["status"])
        .await
        .expect_err("status via transition");
    assert_eq!(violations(&status_mask), ["update_mask"]);

    let engagements = client
        .list_engagements(pb::ListEngagementsRequest {})
        .await
        .expect("engagements")
        .into_inner()
        .engagements;
    assert_eq!(
        engagements
            .iter()
            .map(|e| e.code.as_str())
            .collect::<Vec<_>>(),
        ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8"]
    );
    let edited = c
        .app
        .actions(Some(&c.app.admin_key))
        .update_engagement(pb::UpdateEngagementRequest {
            code: "E8".into(),
            title: "Nouvel intitulé".into(),
        })
        .await
        .expect("admin edits")
        .into_inner()
        .engagement
        .expect("e");
    assert_eq!(edited.title, "Nouvel intitulé");
    let missing = c
        .app
        .actions(Some(&c.app.admin_key))
        .update_engagement(pb::UpdateEngagementRequest {
            code: "E9".into(),
            title: "x".into(),
        })
        .await
        .expect_err("unknown");
    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn an_agent_scoped_to_one_network_cannot_touch_another_s_actions() {
    let c = ctx().await;
    let in_a = c.create("Action de A", "", 1, true).await;
    let b1 = c.app.location_id("B-1").await.to_string();
    let in_b = c
        .client()
        .create_action(pb::CreateActionRequest {
            action: Some(pb::Action {
                location_id: b1.clone(),
                title: "Action de B".into(),
                engagement_code: "E1".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("unscoped agent")
        .into_inner()
        .action
        .expect("a");
    let agent_b = c.app.key(Role::Agent, Some("NET-B")).await;
    let mut client = c.app.actions(Some(&agent_b));
    let codes = vec![
        client
            .get_action(pb::GetActionRequest {
                id: in_a.id.clone(),
            })
            .await
            .map(|_| ()),
        client
            .transition_action(pb::TransitionActionRequest {
                id: in_a.id.clone(),
                to: S::InProgress as i32,
                ..Default::default()
            })
            .await
            .map(|_| ()),
        client
            .list_action_events(pb::ListActionEventsRequest {
                action_id: in_a.id.clone(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        client
            .create_action(pb::CreateActionRequest {
                action: Some(pb::Action {
                    location_id: c.a1.clone(),
                    title: "x".into(),
                    engagement_code: "E1".into(),
                    ..Default::default()
                }),
            })
            .await
            .map(|_| ()),
        client
            .create_action(pb::CreateActionRequest {
                action: Some(pb::Action {
                    location_id: b1,
                    title: "x".into(),
                    engagement_code: "E1".into(),
                    parent_id: in_a.id.clone(),
                    ..Default::default()
                }),
            })
            .await
            .map(|_| ()),
    ];
    for result in codes {
        assert_eq!(result.expect_err("outside scope").code(), Code::NotFound);
    }
    let visible = client
        .list_actions(pb::ListActionsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .actions;
    assert_eq!(
        visible.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
        [in_b.id]
    );
}
