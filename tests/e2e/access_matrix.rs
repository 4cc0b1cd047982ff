//! The generated access matrix: every RPC × every role × a target inside the key's scope, a
//! target outside it, and no key. Keys are scoped to network A; network B holds the same
//! kinds of data. Each cell is asserted:
//! - no key → UNAUTHENTICATED;
//! - a role the RPC is not for → PERMISSION_DENIED, whatever the target;
//! - an allowed role, target inside the scope → past every check (anything but
//!   PERMISSION_DENIED, NOT_FOUND, UNAUTHENTICATED, INTERNAL);
//! - an allowed role, target outside the scope → NOT_FOUND (docs/product.md: outside its scope a
//!   location and its data do not exist); a listing without a location filter answers, but
//!   nothing of network B is in it. The shared catalogues (indicators, engagements) have no
//!   scope: both columns expect the same, and changing them is refused to every scoped key
//!   (PERMISSION_DENIED, even to a scoped ADMIN: one site must not rewrite what every network
//!   publishes).

use boucle::domain::Role;
use boucle::pb;
use boucle_tests::{TestApp, feedback_for, spawn_app};
use tonic::{Code, Status};

use super::access::{ALL, Rpc, allowed};

/// One network's targets: locations and data of every kind.
struct Net {
    reg_code: String,
    site_code: String,
    reg_id: String,
    site_id: String,
    other_site_id: String,
    feedback_id: String,
    response_id: String,
    action_id: String,
    recipient_id: String,
    /// A key scoped to the network, for RevokeApiKey (never used to call).
    victim_key_id: String,
}

impl Net {
    /// Every id and code a listing may reveal.
    fn identifiers(&self) -> Vec<&str> {
        vec![
            &self.reg_code,
            &self.site_code,
            &self.reg_id,
            &self.site_id,
            &self.other_site_id,
            &self.feedback_id,
            &self.response_id,
            &self.action_id,
            &self.recipient_id,
            &self.victim_key_id,
        ]
    }
}

const INDICATOR: &str = "TAUX_DECROCHE";

async fn id_of(app: &TestApp, code: &str) -> String {
    app.location_id(code).await.to_string()
}

async fn network(app: &TestApp, name: &str) -> Net {
    let admin = Some(app.admin_key.as_str());
    let (reg_code, site_code) = (format!("{name}-REG"), format!("{name}-1"));
    let site_id = id_of(app, &site_code).await;
    let feedback_id = app
        .feedback(admin)
        .submit_feedback(pb::SubmitFeedbackRequest {
            feedback: Some(pb::Feedback {
                contact_email: "usager@example.org".into(),
                ..feedback_for(&site_code)
            }),
            request_id: format!("matrix-{name}"),
        })
        .await
        .expect("feedback")
        .into_inner()
        .feedback
        .expect("feedback")
        .id;
    let response_id = app
        .feedback(admin)
        .draft_response(pb::DraftResponseRequest {
            feedback_id: feedback_id.clone(),
            author: "L'agence".into(),
            body: "Merci pour votre retour.".into(),
            ..Default::default()
        })
        .await
        .expect("draft")
        .into_inner()
        .response
        .expect("response")
        .id;
    let action_id = app
        .actions(admin)
        .create_action(pb::CreateActionRequest {
            action: Some(action(&site_id, "Réduire l'attente")),
        })
        .await
        .expect("action")
        .into_inner()
        .action
        .expect("action")
        .id;
    let reg_id = id_of(app, &reg_code).await;
    let recipient_id = app
        .admin(admin)
        .create_recipient(pb::CreateRecipientRequest {
            recipient: Some(pb::Recipient {
                email: format!("direction@{}.test", name.to_lowercase()),
                name: "Direction".into(),
                location_id: reg_id.clone(),
                ..Default::default()
            }),
        })
        .await
        .expect("recipient")
        .into_inner()
        .recipient
        .expect("recipient")
        .id;
    let (victim, _) = boucle::app::keys::create(
        &app.store,
        None,
        "victime",
        Role::Agent,
        Some(uuid::Uuid::parse_str(&site_id).expect("uuid")),
    )
    .await
    .expect("key");
    Net {
        other_site_id: id_of(app, &format!("{name}-2")).await,
        reg_code,
        site_code,
        reg_id,
        site_id,
        feedback_id,
        response_id,
        action_id,
        recipient_id,
        victim_key_id: victim.key.id.to_string(),
    }
}

fn action(location_id: &str, title: &str) -> pb::Action {
    pb::Action {
        location_id: location_id.into(),
        title: title.into(),
        description: "Suite aux avis".into(),
        engagement_code: "E4".into(),
        owner: "Cheffe d'agence".into(),
        due_on: "2027-03-31".into(),
        ..Default::default()
    }
}

/// Item errors of a streamed import, as the status the item would have had alone.
fn item_status(code: i32, message: &str) -> Result<(), Status> {
    match Code::from(code) {
        Code::Ok => Ok(()),
        code => Err(Status::new(code, message)),
    }
}

/// Calls `rpc` with a valid request aimed at `t`; returns the ids and codes the answer shows.
async fn call(
    app: &TestApp,
    rpc: Rpc,
    key: Option<&str>,
    t: &Net,
    n: usize,
) -> Result<Vec<String>, Status> {
    fn none<T>(_: T) -> Vec<String> {
        Vec::new()
    }
    Ok(match rpc {
        Rpc::CreateLocation => app
            .locations(key)
            .create_location(pb::CreateLocationRequest {
                location: Some(pb::Location {
                    code: format!("NEW-{n}"),
                    name: "Nouveau site".into(),
                    parent_code: t.reg_code.clone(),
                    ..Default::default()
                }),
                inactive: false,
            })
            .await
            .map(none)?,
        Rpc::GetLocation => app
            .locations(key)
            .get_location(pb::GetLocationRequest {
                key: Some(pb::get_location_request::Key::Code(t.site_code.clone())),
            })
            .await
            .map(none)?,
        Rpc::ListLocations => app
            .locations(key)
            .list_locations(pb::ListLocationsRequest {
                subtree_of: t.reg_id.clone(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .locations
            .into_iter()
            .map(|l| l.id)
            .collect(),
        Rpc::UpdateLocation => app
            .locations(key)
            .update_location(pb::UpdateLocationRequest {
                location: Some(pb::Location {
                    code: t.site_code.clone(),
                    name: format!("Renommé {n}"),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["name".into()],
                }),
            })
            .await
            .map(none)?,
        Rpc::ImportLocations => {
            let answer = app
                .locations(key)
                .import_locations(tokio_stream::iter(vec![pb::ImportLocationsRequest {
                    location: Some(pb::Location {
                        code: format!("IMP-{n}"),
                        name: "Site importé".into(),
                        parent_code: t.reg_code.clone(),
                        ..Default::default()
                    }),
                }]))
                .await?
                .into_inner();
            for o in answer.outcomes {
                item_status(o.error_code, &o.error_message)?;
            }
            Vec::new()
        }
        Rpc::SubmitFeedback => app
            .feedback(key)
            .submit_feedback(pb::SubmitFeedbackRequest {
                feedback: Some(feedback_for(&t.site_code)),
                request_id: String::new(),
            })
            .await
            .map(none)?,
        Rpc::ImportFeedback => {
            let answer = app
                .feedback(key)
                .import_feedback(tokio_stream::iter(vec![pb::ImportFeedbackRequest {
                    feedback: Some(feedback_for(&t.site_code)),
                    request_id: format!("import-{n}"),
                }]))
                .await?
                .into_inner();
            for o in answer.outcomes {
                item_status(o.error_code, &o.error_message)?;
            }
            Vec::new()
        }
        Rpc::GetFeedback => app
            .feedback(key)
            .get_feedback(pb::GetFeedbackRequest {
                id: t.feedback_id.clone(),
            })
            .await
            .map(none)?,
        Rpc::ListFeedback => app
            .feedback(key)
            .list_feedback(pb::ListFeedbackRequest {
                location_id: t.site_id.clone(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .feedback
            .into_iter()
            .map(|f| f.id)
            .collect(),
        Rpc::ModerateFeedback => app
            .feedback(key)
            .moderate_feedback(pb::ModerateFeedbackRequest {
                id: t.feedback_id.clone(),
                decision: pb::moderate_feedback_request::Decision::Publish as i32,
                ..Default::default()
            })
            .await
            .map(none)?,
        Rpc::ReassignFeedback => app
            .feedback(key)
            .reassign_feedback(pb::ReassignFeedbackRequest {
                id: t.feedback_id.clone(),
                location_id: t.other_site_id.clone(),
                note: "Mauvais site".into(),
            })
            .await
            .map(none)?,
        Rpc::AddComment => app
            .feedback(key)
            .add_comment(pb::AddCommentRequest {
                feedback_id: t.feedback_id.clone(),
                body: "Note interne".into(),
            })
            .await
            .map(none)?,
        Rpc::ListFeedbackHistory => app
            .feedback(key)
            .list_feedback_history(pb::ListFeedbackHistoryRequest {
                feedback_id: t.feedback_id.clone(),
            })
            .await
            .map(none)?,
        Rpc::ListComments => app
            .feedback(key)
            .list_comments(pb::ListCommentsRequest {
                feedback_id: t.feedback_id.clone(),
                ..Default::default()
            })
            .await
            .map(none)?,
        Rpc::DraftResponse => app
            .feedback(key)
            .draft_response(pb::DraftResponseRequest {
                feedback_id: t.feedback_id.clone(),
                author: "L'agence".into(),
                body: format!("Réponse {n}"),
                ..Default::default()
            })
            .await
            .map(none)?,
        Rpc::PublishResponse => app
            .feedback(key)
            .publish_response(pb::PublishResponseRequest {
                response_id: t.response_id.clone(),
            })
            .await
            .map(none)?,
        Rpc::EraseContact => app
            .feedback(key)
            .erase_contact(pb::EraseContactRequest {
                feedback_id: t.feedback_id.clone(),
            })
            .await
            .map(none)?,
        Rpc::CreateAction => app
            .actions(key)
            .create_action(pb::CreateActionRequest {
                action: Some(action(&t.site_id, &format!("Action {n}"))),
            })
            .await
            .map(none)?,
        Rpc::GetAction => app
            .actions(key)
            .get_action(pb::GetActionRequest {
                id: t.action_id.clone(),
            })
            .await
            .map(none)?,
        Rpc::ListActions => app
            .actions(key)
            .list_actions(pb::ListActionsRequest {
                location_id: t.site_id.clone(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .actions
            .into_iter()
            .map(|a| a.id)
            .collect(),
        Rpc::UpdateAction => app
            .actions(key)
            .update_action(pb::UpdateActionRequest {
                action: Some(pb::Action {
                    id: t.action_id.clone(),
                    title: format!("Réduire l'attente ({n})"),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["title".into()],
                }),
                note: String::new(),
            })
            .await
            .map(none)?,
        Rpc::TransitionAction => app
            .actions(key)
            .transition_action(pb::TransitionActionRequest {
                id: t.action_id.clone(),
                to: pb::ActionStatus::InProgress as i32,
                progress: Some(10),
                note: String::new(),
            })
            .await
            .map(none)?,
        Rpc::LinkFeedback => app
            .actions(key)
            .link_feedback(pb::LinkFeedbackRequest {
                action_id: t.action_id.clone(),
                feedback_id: t.feedback_id.clone(),
                unlink: false,
            })
            .await
            .map(none)?,
        Rpc::ListActionEvents => app
            .actions(key)
            .list_action_events(pb::ListActionEventsRequest {
                action_id: t.action_id.clone(),
                ..Default::default()
            })
            .await
            .map(none)?,
        Rpc::ListEngagements => app
            .actions(key)
            .list_engagements(pb::ListEngagementsRequest {})
            .await
            .map(none)?,
        Rpc::UpdateEngagement => app
            .actions(key)
            .update_engagement(pb::UpdateEngagementRequest {
                code: "E8".into(),
                title: format!("Titre {n}"),
            })
            .await
            .map(none)?,
        Rpc::ListIndicators => app
            .indicators(key)
            .list_indicators(pb::ListIndicatorsRequest::default())
            .await
            .map(none)?,
        Rpc::DefineIndicator => app
            .indicators(key)
            .define_indicator(pb::DefineIndicatorRequest {
                indicator: Some(reported(&format!("Taux de décroché {n}"))),
            })
            .await
            .map(none)?,
        Rpc::RecordMeasurement => app
            .indicators(key)
            .record_measurement(pb::RecordMeasurementRequest {
                measurement: Some(pb::Measurement {
                    indicator_code: INDICATOR.into(),
                    location_id: t.site_id.clone(),
                    period: "2026-10".into(),
                    value: 80.0,
                    ..Default::default()
                }),
            })
            .await
            .map(none)?,
        Rpc::ListMeasurements => app
            .indicators(key)
            .list_measurements(pb::ListMeasurementsRequest {
                location_id: t.site_id.clone(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .measurements
            .into_iter()
            .map(|m| m.location_id)
            .collect(),
        Rpc::GetInternalResults => {
            let answer = app
                .indicators(key)
                .get_internal_results(pb::GetInternalResultsRequest {
                    location_code: t.site_code.clone(),
                    ..Default::default()
                })
                .await?
                .into_inner();
            std::iter::once(answer.location_code)
                .chain(
                    answer
                        .symmetry
                        .into_iter()
                        .flat_map(|s| s.divergent)
                        .map(|d| d.location_code),
                )
                .collect()
        }
        Rpc::CreateApiKey => app
            .admin(key)
            .create_api_key(pb::CreateApiKeyRequest {
                api_key: Some(pb::ApiKey {
                    name: format!("clé {n}"),
                    role: pb::Role::Agent as i32,
                    scope_location_id: t.site_id.clone(),
                    ..Default::default()
                }),
            })
            .await
            .map(none)?,
        Rpc::ListApiKeys => app
            .admin(key)
            .list_api_keys(pb::ListApiKeysRequest {
                page_size: 1000,
                show_revoked: true,
                ..Default::default()
            })
            .await?
            .into_inner()
            .api_keys
            .into_iter()
            .flat_map(|k| [k.id, k.scope_location_id])
            .collect(),
        Rpc::RevokeApiKey => app
            .admin(key)
            .revoke_api_key(pb::RevokeApiKeyRequest {
                id: t.victim_key_id.clone(),
            })
            .await
            .map(none)?,
        Rpc::CreateRecipient => app
            .admin(key)
            .create_recipient(pb::CreateRecipientRequest {
                recipient: Some(pb::Recipient {
                    email: format!("r{n}@x.test"),
                    name: "Direction".into(),
                    location_id: t.reg_id.clone(),
                    ..Default::default()
                }),
            })
            .await
            .map(none)?,
        Rpc::ListRecipients => app
            .admin(key)
            .list_recipients(pb::ListRecipientsRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await?
            .into_inner()
            .recipients
            .into_iter()
            .flat_map(|r| [r.id, r.location_id])
            .collect(),
        Rpc::DeleteRecipient => app
            .admin(key)
            .delete_recipient(pb::DeleteRecipientRequest {
                id: t.recipient_id.clone(),
            })
            .await
            .map(none)?,
    })
}

fn reported(title: &str) -> pb::Indicator {
    pb::Indicator {
        code: INDICATOR.into(),
        title: title.into(),
        unit: "%".into(),
        kind: pb::indicator::Kind::Reported as i32,
        direction: pb::indicator::Direction::HigherIsBetter as i32,
        methodology: "Appels décrochés ÷ appels reçus.".into(),
        ..Default::default()
    }
}

/// RPCs over catalogues shared by every scope.
fn shared(rpc: Rpc) -> bool {
    matches!(
        rpc,
        Rpc::ListEngagements | Rpc::UpdateEngagement | Rpc::ListIndicators | Rpc::DefineIndicator
    )
}

/// RPCs that change the shared catalogues: only an unscoped ADMIN may call them.
fn global(rpc: Rpc) -> bool {
    matches!(rpc, Rpc::UpdateEngagement | Rpc::DefineIndicator)
}

/// Listings whose request has no location filter: scope shows in what they return.
fn unfiltered(rpc: Rpc) -> bool {
    matches!(rpc, Rpc::ListApiKeys | Rpc::ListRecipients)
}

#[tokio::test]
async fn every_rpc_role_and_scope_cell_is_enforced() {
    let app = spawn_app().await;
    app.two_networks().await;
    app.indicators(Some(&app.admin_key))
        .define_indicator(pb::DefineIndicatorRequest {
            indicator: Some(reported("Taux de décroché")),
        })
        .await
        .expect("reported indicator");
    let (a, b) = (network(&app, "A").await, network(&app, "B").await);
    // The month aggregated, so that the internal results have figures to show.
    let tz = chrono_tz::Europe::Paris;
    let month = boucle::domain::Period::containing(boucle::store::now_ms(), tz);
    let run = app
        .store
        .start_job_run(&month.to_string(), "aggregate", "matrix")
        .await
        .expect("run");
    boucle_jobs::aggregate::aggregate(&app.store, month, tz, None, run, &mut |_, _| Ok(()))
        .await
        .expect("aggregate");
    let roles = [
        Role::Collector,
        Role::Agent,
        Role::Validator,
        Role::Moderator,
        Role::Admin,
    ];
    let mut keys = Vec::new();
    for role in roles {
        keys.push((role, app.key(role, Some("NET-A")).await));
    }
    let mut cells = 0;
    let mut n = 0;
    for rpc in ALL {
        n += 1;
        let status = call(&app, rpc, None, &a, n).await.expect_err("no key");
        assert_eq!(
            status.code(),
            Code::Unauthenticated,
            "{rpc:?} without a key"
        );
        cells += 1;
        for (role, key) in &keys {
            for (inside, target) in [(true, &a), (false, &b)] {
                n += 1;
                cells += 1;
                let answer = call(&app, rpc, Some(key), target, n).await;
                let code = answer.as_ref().err().map_or(Code::Ok, Status::code);
                let cell = format!(
                    "{rpc:?} × {role} × {}",
                    if inside { "in scope" } else { "out of scope" }
                );
                if !allowed(rpc).contains(role) || global(rpc) {
                    assert_eq!(code, Code::PermissionDenied, "{cell}: {answer:?}");
                } else if inside || shared(rpc) {
                    assert!(
                        !matches!(
                            code,
                            Code::PermissionDenied
                                | Code::NotFound
                                | Code::Unauthenticated
                                | Code::Internal
                        ),
                        "{cell}: {answer:?}"
                    );
                } else if unfiltered(rpc) {
                    let shown = answer.unwrap_or_else(|s| panic!("{cell}: {s:?}"));
                    let leaked: Vec<_> = shown
                        .iter()
                        .filter(|id| b.identifiers().contains(&id.as_str()))
                        .collect();
                    assert!(leaked.is_empty(), "{cell} shows {leaked:?}");
                } else {
                    assert_eq!(code, Code::NotFound, "{cell}: {answer:?}");
                }
            }
        }
    }
    assert_eq!(cells, ALL.len() * (1 + 2 * roles.len()));
}
