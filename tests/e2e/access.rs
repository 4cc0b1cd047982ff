//! Authentication, the role × RPC table, scope isolation and key management.

use boucle::domain::Role;
use boucle::pb;
use boucle_tests::{TestApp, feedback_for, spawn_app};
use tonic::{Code, Status};

#[derive(Clone, Copy, Debug)]
pub(crate) enum Rpc {
    CreateLocation,
    GetLocation,
    ListLocations,
    UpdateLocation,
    ImportLocations,
    SubmitFeedback,
    ImportFeedback,
    GetFeedback,
    ListFeedback,
    ModerateFeedback,
    ReassignFeedback,
    AddComment,
    ListComments,
    ListFeedbackHistory,
    DraftResponse,
    PublishResponse,
    EraseContact,
    CreateAction,
    GetAction,
    ListActions,
    UpdateAction,
    TransitionAction,
    LinkFeedback,
    ListActionEvents,
    ListEngagements,
    UpdateEngagement,
    ListIndicators,
    DefineIndicator,
    RecordMeasurement,
    ListMeasurements,
    GetInternalResults,
    CreateApiKey,
    ListApiKeys,
    RevokeApiKey,
    CreateRecipient,
    ListRecipients,
    DeleteRecipient,
}

use Role::{Admin, Agent, Collector, Moderator, Validator};

/// Who may call what, written from docs/product.md (Security) independently of the server's table.
pub(crate) fn allowed(rpc: Rpc) -> &'static [Role] {
    use Rpc::*;
    match rpc {
        CreateLocation | UpdateLocation | ImportLocations => &[Admin],
        GetLocation | ListLocations | ListIndicators | ListEngagements => {
            &[Collector, Agent, Validator, Moderator, Admin]
        }
        SubmitFeedback | ImportFeedback => &[Collector, Admin],
        GetFeedback | ListFeedback | ListFeedbackHistory => &[Agent, Validator, Moderator, Admin],
        ModerateFeedback => &[Moderator, Admin],
        ReassignFeedback | AddComment | ListComments | DraftResponse => &[Agent, Validator, Admin],
        PublishResponse => &[Validator, Admin],
        EraseContact => &[Admin],
        CreateAction | GetAction | ListActions | UpdateAction | TransitionAction | LinkFeedback
        | ListActionEvents => &[Agent, Validator, Admin],
        DefineIndicator | UpdateEngagement => &[Admin],
        RecordMeasurement | ListMeasurements | GetInternalResults => &[Agent, Validator, Admin],
        CreateApiKey | ListApiKeys | RevokeApiKey | CreateRecipient | ListRecipients
        | DeleteRecipient => &[Admin],
    }
}

pub(crate) const ALL: [Rpc; 37] = {
    use Rpc::*;
    [
        CreateLocation,
        GetLocation,
        ListLocations,
        UpdateLocation,
        ImportLocations,
        SubmitFeedback,
        ImportFeedback,
        GetFeedback,
        ListFeedback,
        ModerateFeedback,
        ReassignFeedback,
        AddComment,
        ListComments,
        ListFeedbackHistory,
        DraftResponse,
        PublishResponse,
        EraseContact,
        CreateAction,
        GetAction,
        ListActions,
        UpdateAction,
        TransitionAction,
        LinkFeedback,
        ListActionEvents,
        ListEngagements,
        UpdateEngagement,
        ListIndicators,
        DefineIndicator,
        RecordMeasurement,
        ListMeasurements,
        GetInternalResults,
        CreateApiKey,
        ListApiKeys,
        RevokeApiKey,
        CreateRecipient,
        ListRecipients,
        DeleteRecipient,
    ]
};

/// Calls `rpc` with a plausible request; only the status matters.
async fn call(app: &TestApp, rpc: Rpc, key: Option<&str>, n: usize) -> Result<(), Status> {
    let some_id = uuid::Uuid::now_v7().to_string();
    fn ok<T>(_: T) {}
    match rpc {
        Rpc::CreateLocation => app
            .locations(key)
            .create_location(pb::CreateLocationRequest {
                location: Some(pb::Location {
                    code: format!("NEW-{n}"),
                    name: "Nouveau".into(),
                    parent_code: "A-REG".into(),
                    ..Default::default()
                }),
                inactive: false,
            })
            .await
            .map(ok),
        Rpc::GetLocation => app
            .locations(key)
            .get_location(pb::GetLocationRequest {
                key: Some(pb::get_location_request::Key::Code("A-1".into())),
            })
            .await
            .map(ok),
        Rpc::ListLocations => app
            .locations(key)
            .list_locations(pb::ListLocationsRequest::default())
            .await
            .map(ok),
        Rpc::UpdateLocation => app
            .locations(key)
            .update_location(pb::UpdateLocationRequest {
                location: Some(pb::Location {
                    code: "A-1".into(),
                    name: format!("Renommé {n}"),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["name".into()],
                }),
            })
            .await
            .map(ok),
        Rpc::ImportLocations => app
            .locations(key)
            .import_locations(tokio_stream::iter(Vec::<pb::ImportLocationsRequest>::new()))
            .await
            .map(ok),
        Rpc::SubmitFeedback => app
            .feedback(key)
            .submit_feedback(pb::SubmitFeedbackRequest {
                feedback: Some(feedback_for("A-1")),
                request_id: String::new(),
            })
            .await
            .map(ok),
        Rpc::ImportFeedback => app
            .feedback(key)
            .import_feedback(tokio_stream::iter(Vec::<pb::ImportFeedbackRequest>::new()))
            .await
            .map(ok),
        Rpc::GetFeedback => app
            .feedback(key)
            .get_feedback(pb::GetFeedbackRequest { id: some_id })
            .await
            .map(ok),
        Rpc::ListFeedback => app
            .feedback(key)
            .list_feedback(pb::ListFeedbackRequest::default())
            .await
            .map(ok),
        Rpc::ModerateFeedback => app
            .feedback(key)
            .moderate_feedback(pb::ModerateFeedbackRequest {
                id: some_id,
                ..Default::default()
            })
            .await
            .map(ok),
        Rpc::ReassignFeedback => app
            .feedback(key)
            .reassign_feedback(pb::ReassignFeedbackRequest {
                id: some_id,
                ..Default::default()
            })
            .await
            .map(ok),
        Rpc::AddComment => app
            .feedback(key)
            .add_comment(pb::AddCommentRequest {
                feedback_id: some_id,
                body: "note".into(),
            })
            .await
            .map(ok),
        Rpc::ListFeedbackHistory => app
            .feedback(key)
            .list_feedback_history(pb::ListFeedbackHistoryRequest {
                feedback_id: some_id,
            })
            .await
            .map(ok),
        Rpc::ListComments => app
            .feedback(key)
            .list_comments(pb::ListCommentsRequest {
                feedback_id: some_id,
                ..Default::default()
            })
            .await
            .map(ok),
        Rpc::DraftResponse => app
            .feedback(key)
            .draft_response(pb::DraftResponseRequest {
                feedback_id: some_id,
                ..Default::default()
            })
            .await
            .map(ok),
        Rpc::PublishResponse => app
            .feedback(key)
            .publish_response(pb::PublishResponseRequest {
                response_id: some_id,
            })
            .await
            .map(ok),
        Rpc::EraseContact => app
            .feedback(key)
            .erase_contact(pb::EraseContactRequest {
                feedback_id: some_id,
            })
            .await
            .map(ok),
        Rpc::CreateAction => app
            .actions(key)
            .create_action(pb::CreateActionRequest::default())
            .await
            .map(ok),
        Rpc::GetAction => app
            .actions(key)
            .get_action(pb::GetActionRequest { id: some_id })
            .await
            .map(ok),
        Rpc::ListActions => app
            .actions(key)
            .list_actions(pb::ListActionsRequest::default())
            .await
            .map(ok),
        Rpc::UpdateAction => app
            .actions(key)
            .update_action(pb::UpdateActionRequest::default())
            .await
            .map(ok),
        Rpc::TransitionAction => app
            .actions(key)
            .transition_action(pb::TransitionActionRequest::default())
            .await
            .map(ok),
        Rpc::LinkFeedback => app
            .actions(key)
            .link_feedback(pb::LinkFeedbackRequest::default())
            .await
            .map(ok),
        Rpc::ListActionEvents => app
            .actions(key)
            .list_action_events(pb::ListActionEventsRequest::default())
            .await
            .map(ok),
        Rpc::ListEngagements => app
            .actions(key)
            .list_engagements(pb::ListEngagementsRequest {})
            .await
            .map(ok),
        Rpc::UpdateEngagement => app
            .actions(key)
            .update_engagement(pb::UpdateEngagementRequest {
                code: "E8".into(),
                title: format!("Titre {n}"),
            })
            .await
            .map(ok),
        Rpc::ListIndicators => app
            .indicators(key)
            .list_indicators(pb::ListIndicatorsRequest::default())
            .await
            .map(ok),
        Rpc::DefineIndicator => app
            .indicators(key)
            .define_indicator(pb::DefineIndicatorRequest::default())
            .await
            .map(ok),
        Rpc::RecordMeasurement => app
            .indicators(key)
            .record_measurement(pb::RecordMeasurementRequest::default())
            .await
            .map(ok),
        Rpc::ListMeasurements => app
            .indicators(key)
            .list_measurements(pb::ListMeasurementsRequest::default())
            .await
            .map(ok),
        Rpc::GetInternalResults => app
            .indicators(key)
            .get_internal_results(pb::GetInternalResultsRequest {
                location_code: "A-1".into(),
                ..Default::default()
            })
            .await
            .map(ok),
        Rpc::CreateApiKey => app
            .admin(key)
            .create_api_key(pb::CreateApiKeyRequest {
                api_key: Some(pb::ApiKey {
                    name: "k".into(),
                    role: pb::Role::Agent as i32,
                    ..Default::default()
                }),
            })
            .await
            .map(ok),
        Rpc::ListApiKeys => app
            .admin(key)
            .list_api_keys(pb::ListApiKeysRequest::default())
            .await
            .map(ok),
        Rpc::RevokeApiKey => app
            .admin(key)
            .revoke_api_key(pb::RevokeApiKeyRequest { id: some_id })
            .await
            .map(ok),
        Rpc::CreateRecipient => app
            .admin(key)
            .create_recipient(pb::CreateRecipientRequest {
                recipient: Some(pb::Recipient {
                    email: format!("r{n}@x.test"),
                    name: "R".into(),
                    location_id: some_id,
                    ..Default::default()
                }),
            })
            .await
            .map(ok),
        Rpc::ListRecipients => app
            .admin(key)
            .list_recipients(pb::ListRecipientsRequest::default())
            .await
            .map(ok),
        Rpc::DeleteRecipient => app
            .admin(key)
            .delete_recipient(pb::DeleteRecipientRequest { id: some_id })
            .await
            .map(ok),
    }
}

#[tokio::test]
async fn every_rpc_checks_the_role_of_its_caller() {
    let app = spawn_app().await;
    app.two_networks().await;
    let mut keys = Vec::new();
    for role in [Collector, Agent, Validator, Moderator, Admin] {
        keys.push((role, app.key(role, None).await));
    }
    let mut n = 0;
    for rpc in ALL {
        for (role, key) in &keys {
            n += 1;
            let code = match call(&app, rpc, Some(key), n).await {
                Ok(()) => Code::Ok,
                Err(s) => s.code(),
            };
            if allowed(rpc).contains(role) {
                assert!(
                    !matches!(
                        code,
                        Code::PermissionDenied | Code::Unauthenticated | Code::Internal
                    ),
                    "{role} should pass the role check of {rpc:?}, got {code:?}"
                );
            } else {
                assert_eq!(code, Code::PermissionDenied, "{role} must not call {rpc:?}");
            }
        }
    }
}

#[tokio::test]
async fn calls_without_a_valid_key_are_unauthenticated() {
    let app = spawn_app().await;
    app.two_networks().await;
    let forged = format!("bcl_{}", "A".repeat(43));
    for rpc in ALL {
        for key in [None, Some("not-a-key"), Some(forged.as_str())] {
            let status = call(&app, rpc, key, 0).await.expect_err("refused");
            assert_eq!(status.code(), Code::Unauthenticated, "{rpc:?} with {key:?}");
        }
    }
    // The public service needs no key.
    let public = app
        .results()
        .list_published_feedback(pb::ListPublishedFeedbackRequest {
            location_code: "NET-A".into(),
            ..Default::default()
        })
        .await
        .expect("public listing without a key");
    assert!(public.into_inner().feedback.is_empty());
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once() {
    let app = spawn_app().await;
    app.two_networks().await;
    let created = app
        .admin(Some(&app.admin_key))
        .create_api_key(pb::CreateApiKeyRequest {
            api_key: Some(pb::ApiKey {
                name: "Borne accueil".into(),
                role: pb::Role::Collector as i32,
                ..Default::default()
            }),
        })
        .await
        .expect("create key")
        .into_inner();
    let secret = created.secret;
    let key = created.api_key.expect("key");
    assert!(secret.starts_with(&key.prefix));
    call(&app, Rpc::SubmitFeedback, Some(&secret), 0)
        .await
        .expect("the new key works");

    app.admin(Some(&app.admin_key))
        .revoke_api_key(pb::RevokeApiKeyRequest { id: key.id.clone() })
        .await
        .expect("revoke");
    let refused = call(&app, Rpc::SubmitFeedback, Some(&secret), 0)
        .await
        .expect_err("revoked");
    assert_eq!(refused.code(), Code::Unauthenticated);

    let listed = app
        .admin(Some(&app.admin_key))
        .list_api_keys(pb::ListApiKeysRequest {
            show_revoked: true,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .api_keys;
    let revoked = listed.iter().find(|k| k.id == key.id).expect("listed");
    assert!(revoked.revoke_time.is_some());
    let active = app
        .admin(Some(&app.admin_key))
        .list_api_keys(pb::ListApiKeysRequest::default())
        .await
        .expect("list")
        .into_inner()
        .api_keys;
    assert!(!active.iter().any(|k| k.id == key.id));
}

#[tokio::test]
async fn a_key_scoped_to_one_network_cannot_see_another() {
    let app = spawn_app().await;
    app.two_networks().await;
    let collector_a = app.key(Collector, Some("NET-A")).await;
    let collector_all = app.key(Collector, None).await;
    let agent_a = app.key(Agent, Some("NET-A")).await;

    // Locations: B does not exist for A's keys.
    let hidden = app
        .locations(Some(&agent_a))
        .get_location(pb::GetLocationRequest {
            key: Some(pb::get_location_request::Key::Code("B-1".into())),
        })
        .await
        .expect_err("outside scope");
    assert_eq!(hidden.code(), Code::NotFound);
    let visible: Vec<String> = app
        .locations(Some(&agent_a))
        .list_locations(pb::ListLocationsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .locations
        .into_iter()
        .map(|l| l.code)
        .collect();
    assert_eq!(visible, ["A-1", "A-2", "A-REG", "NET-A"]);
    let roots: Vec<String> = app
        .locations(Some(&agent_a))
        .list_locations(pb::ListLocationsRequest {
            roots_only: true,
            ..Default::default()
        })
        .await
        .expect("roots")
        .into_inner()
        .locations
        .into_iter()
        .map(|l| l.code)
        .collect();
    assert_eq!(roots, ["NET-A"]);

    // Feedback: a scoped collector cannot submit outside its scope.
    let outside = app
        .feedback(Some(&collector_a))
        .submit_feedback(pb::SubmitFeedbackRequest {
            feedback: Some(feedback_for("B-1")),
            request_id: String::new(),
        })
        .await
        .expect_err("outside scope");
    assert_eq!(outside.code(), Code::NotFound);
    app.feedback(Some(&collector_a))
        .submit_feedback(pb::SubmitFeedbackRequest {
            feedback: Some(feedback_for("A-1")),
            request_id: String::new(),
        })
        .await
        .expect("inside scope");
    let in_b = app
        .feedback(Some(&collector_all))
        .submit_feedback(pb::SubmitFeedbackRequest {
            feedback: Some(feedback_for("B-2")),
            request_id: String::new(),
        })
        .await
        .expect("unscoped collector")
        .into_inner()
        .feedback
        .expect("feedback");

    let mut agent = app.feedback(Some(&agent_a));
    let listed: Vec<String> = agent
        .list_feedback(pb::ListFeedbackRequest::default())
        .await
        .expect("list")
        .into_inner()
        .feedback
        .into_iter()
        .map(|f| f.location_code)
        .collect();
    assert_eq!(listed, ["A-1"]);
    let get = agent
        .get_feedback(pb::GetFeedbackRequest { id: in_b.id })
        .await
        .expect_err("hidden");
    assert_eq!(get.code(), Code::NotFound);
    let filter = agent
        .list_feedback(pb::ListFeedbackRequest {
            location_id: in_b.location_id,
            ..Default::default()
        })
        .await
        .expect_err("filter outside scope");
    assert_eq!(filter.code(), Code::NotFound);
}

#[tokio::test]
async fn a_scoped_admin_manages_only_its_subtree() {
    let app = spawn_app().await;
    app.two_networks().await;
    let admin_a = app.key(Admin, Some("NET-A")).await;
    let mut locations = app.locations(Some(&admin_a));
    let create = |code: &str, parent: &str| pb::CreateLocationRequest {
        location: Some(pb::Location {
            code: code.into(),
            name: code.into(),
            parent_code: parent.into(),
            ..Default::default()
        }),
        inactive: false,
    };
    let root = locations
        .create_location(create("NET-C", ""))
        .await
        .expect_err("no new network");
    assert_eq!(root.code(), Code::PermissionDenied);
    let in_b = locations
        .create_location(create("B-3", "B-REG"))
        .await
        .expect_err("B is invisible");
    assert_eq!(in_b.code(), Code::NotFound);
    locations
        .create_location(create("A-3", "A-REG"))
        .await
        .expect("inside its subtree");
    let move_out = locations
        .update_location(pb::UpdateLocationRequest {
            location: Some(pb::Location {
                code: "A-3".into(),
                parent_code: "B-REG".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["parent_code".into()],
            }),
        })
        .await
        .expect_err("cannot move out of scope");
    assert_eq!(move_out.code(), Code::NotFound);

    let mut admin = app.admin(Some(&admin_a));
    let unscoped = admin
        .create_api_key(pb::CreateApiKeyRequest {
            api_key: Some(pb::ApiKey {
                name: "trop large".into(),
                role: pb::Role::Agent as i32,
                ..Default::default()
            }),
        })
        .await
        .expect_err("wider than itself");
    assert_eq!(unscoped.code(), Code::PermissionDenied);
    let b_reg = app.location_id("B-REG").await;
    let other_scope = admin
        .create_api_key(pb::CreateApiKeyRequest {
            api_key: Some(pb::ApiKey {
                name: "autre réseau".into(),
                role: pb::Role::Agent as i32,
                scope_location_id: b_reg.to_string(),
                ..Default::default()
            }),
        })
        .await
        .expect_err("other network");
    assert_eq!(other_scope.code(), Code::NotFound);
    let a_reg = app.location_id("A-REG").await;
    let made = admin
        .create_api_key(pb::CreateApiKeyRequest {
            api_key: Some(pb::ApiKey {
                name: "agent région A".into(),
                role: pb::Role::Agent as i32,
                scope_location_id: a_reg.to_string(),
                ..Default::default()
            }),
        })
        .await
        .expect("inside its scope")
        .into_inner()
        .api_key
        .expect("key");
    assert_eq!(made.scope_location_code, "A-REG");
    let listed = admin
        .list_api_keys(pb::ListApiKeysRequest::default())
        .await
        .expect("list")
        .into_inner()
        .api_keys;
    let scopes: Vec<&str> = listed
        .iter()
        .map(|k| k.scope_location_code.as_str())
        .collect();
    assert_eq!(scopes, ["NET-A", "A-REG"], "only keys of its subtree");
}

#[tokio::test]
async fn key_creation_validates_its_fields() {
    let app = spawn_app().await;
    let status = app
        .admin(Some(&app.admin_key))
        .create_api_key(pb::CreateApiKeyRequest {
            api_key: Some(pb::ApiKey {
                name: String::new(),
                role: 0,
                scope_location_id: "x".into(),
                ..Default::default()
            }),
        })
        .await
        .expect_err("invalid");
    assert_eq!(
        boucle_tests::violations(&status),
        ["api_key.name", "api_key.role", "api_key.scope_location_id"]
    );
}

/// A site's administrator cannot change what every network publishes: the SP+ engagements
/// and the indicator catalogue are changed by an unscoped ADMIN only; and even that ADMIN
/// may reword a computed indicator (a new version) but not change its unit, direction or
/// frequency.
#[tokio::test]
async fn a_scoped_admin_cannot_rewrite_what_every_network_publishes() {
    let app = spawn_app().await;
    app.two_networks().await;
    let site_admin = app.key(Role::Admin, Some("A-1")).await;
    let catalogue = |key: String| {
        let mut client = app.indicators(Some(&key));
        async move {
            client
                .list_indicators(pb::ListIndicatorsRequest::default())
                .await
                .expect("catalogue")
                .into_inner()
                .indicators
                .into_iter()
                .find(|i| i.code == "SATISFACTION_RATE")
                .expect("computed indicator")
        }
    };
    let before = catalogue(app.admin_key.clone()).await;

    let engagement = app
        .actions(Some(&site_admin))
        .update_engagement(pb::UpdateEngagementRequest {
            code: "E4".into(),
            title: "Réécrit par un site".into(),
        })
        .await
        .expect_err("a scoped admin edits an engagement");
    assert_eq!(engagement.code(), tonic::Code::PermissionDenied);
    let renamed = app
        .indicators(Some(&site_admin))
        .define_indicator(pb::DefineIndicatorRequest {
            indicator: Some(pb::Indicator {
                title: "Titre d'un site".into(),
                ..before.clone()
            }),
        })
        .await
        .expect_err("a scoped admin renames a computed indicator");
    assert_eq!(renamed.code(), tonic::Code::PermissionDenied);
    assert_eq!(
        catalogue(app.admin_key.clone()).await,
        before,
        "nothing changed"
    );

    let mut admin = app.indicators(Some(&app.admin_key));
    let redefined = admin
        .define_indicator(pb::DefineIndicatorRequest {
            indicator: Some(pb::Indicator {
                unit: "points".into(),
                ..before.clone()
            }),
        })
        .await
        .expect_err("the unit of a computed indicator changes");
    assert_eq!(redefined.code(), tonic::Code::FailedPrecondition);
    let reworded = admin
        .define_indicator(pb::DefineIndicatorRequest {
            indicator: Some(pb::Indicator {
                title: "Part d'usagers satisfaits".into(),
                methodology: "Réponses positives ÷ réponses.".into(),
                ..before.clone()
            }),
        })
        .await
        .expect("reworded")
        .into_inner()
        .indicator
        .expect("indicator");
    assert_eq!(reworded.version, before.version + 1);
    assert_eq!(reworded.unit, before.unit);
}
