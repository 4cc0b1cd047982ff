//! Use cases of improvement actions: their life within the caller's scope. Every change is
//! one transaction that writes its timeline events and rolls the progress up to the actions
//! above it (`domain::action` decides every step).

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::page::{Listed, Page};
use crate::Error;
use crate::domain::action::{self as rules, ActionPatch, NewAction};
use crate::domain::{ActionStatus, Caller};
use crate::store::actions::{
    self as repo, Action, ActionEvent, ActionFilter, ActionView, Engagement, EventCursor, date_text,
};
use crate::store::lifecycle::experience;
use crate::store::locations::in_scope;
use crate::store::{Reach, Store, audit, now_ms};

/// One action of the caller's scope, or NOT_FOUND.
pub async fn get(store: &Store, caller: &Caller, id: Uuid) -> Result<ActionView, Error> {
    let db = store.connection();
    let action = repo::find(db, caller.scope, id).await?;
    one_view(db, action).await
}

/// Actions of the caller's scope (narrowed to the filter's location), newest first.
pub async fn list(
    store: &Store,
    caller: &Caller,
    filter: &ActionFilter,
    page: &Page<Uuid>,
) -> Result<Listed<ActionView>, Error> {
    let db = store.connection();
    let reach = Reach::of(db, caller, filter.location).await?;
    let rows = repo::list(db, &reach, filter, page.fetch_limit(), page.after).await?;
    Ok(page.listed(rows, |a| a.action.id))
}

/// Creates a PLANNED action at a location of the caller's scope, under an optional parent
/// action of the scope.
pub async fn create(store: &Store, caller: &Caller, new: &NewAction) -> Result<ActionView, Error> {
    let txn = store.write_txn().await?;
    if !in_scope(&txn, caller.scope, new.location_id).await? {
        return Err(Error::not_found("location"));
    }
    check_engagement(&txn, &new.engagement_code).await?;
    if let Some(parent) = new.parent_id {
        parent_in_scope(&txn, caller, parent).await?;
    }
    let now = now_ms();
    let action = Action {
        id: Uuid::now_v7(),
        location_id: new.location_id,
        title: new.title.clone(),
        description: new.description.clone(),
        engagement_code: new.engagement_code.clone(),
        status: ActionStatus::Planned,
        progress: 0,
        parent_id: new.parent_id,
        weight: new.weight,
        owner: new.owner.clone(),
        due_on: date_text(new.due_on),
        public: new.public,
        done_on: None,
        created_at: now,
        updated_at: now,
    };
    repo::insert(&txn, &action).await?;
    repo::record_event(
        &txn,
        caller,
        action.id,
        "created",
        "",
        ActionStatus::Planned.code(),
        &new.title,
    )
    .await?;
    roll_up(&txn, caller, new.parent_id).await?;
    let view = one_view(&txn, action).await?;
    txn.commit().await?;
    Ok(view)
}

/// Applies `patch` to an action of the caller's scope, one timeline event per field that
/// changes (none when nothing does).
pub async fn update(
    store: &Store,
    caller: &Caller,
    id: Uuid,
    patch: &ActionPatch,
    note: &str,
) -> Result<ActionView, Error> {
    let txn = store.write_txn().await?;
    let current = repo::find(&txn, caller.scope, id).await?;
    if let Some(code) = &patch.engagement_code {
        check_engagement(&txn, code).await?;
    }
    if let Some(Some(parent)) = patch.parent_id {
        parent_in_scope(&txn, caller, parent).await?;
        check_no_cycle(&txn, id, parent).await?;
    }
    if patch.progress.is_some() {
        let has_children = !repo::children(&txn, id).await?.is_empty();
        rules::check_progress_edit(current.status, has_children)?;
    }
    let (mut next, changes) = patched(&current, patch);
    if changes.is_empty() {
        let view = one_view(&txn, current).await?;
        txn.commit().await?;
        return Ok(view);
    }
    next.updated_at = now_ms();
    repo::save(&txn, &next).await?;
    for (field, from, to) in &changes {
        repo::record_event(&txn, caller, id, field, from, to, note).await?;
    }
    roll_up(&txn, caller, current.parent_id).await?;
    if next.parent_id != current.parent_id {
        roll_up(&txn, caller, next.parent_id).await?;
    }
    let view = one_view(&txn, next).await?;
    txn.commit().await?;
    Ok(view)
}

/// Moves an action along its status machine (`domain::action`); FAILED_PRECONDITION for
/// any other move. DONE records `today`.
pub async fn transition(
    store: &Store,
    caller: &Caller,
    id: Uuid,
    to: ActionStatus,
    requested_progress: Option<u32>,
    note: &str,
    today: NaiveDate,
) -> Result<ActionView, Error> {
    let txn = store.write_txn().await?;
    let current = repo::find(&txn, caller.scope, id).await?;
    let kids: Vec<rules::Child> = repo::children(&txn, id)
        .await?
        .iter()
        .map(Action::as_child)
        .collect();
    let progress = rules::progress_of_transition(
        current.status,
        to,
        current.progress,
        requested_progress,
        &kids,
    )?;
    let next = Action {
        status: to,
        progress,
        done_on: if to == ActionStatus::Done {
            date_text(Some(today))
        } else {
            None
        },
        updated_at: now_ms(),
        ..current.clone()
    };
    repo::save(&txn, &next).await?;
    repo::record_event(
        &txn,
        caller,
        id,
        "status",
        current.status.code(),
        to.code(),
        note,
    )
    .await?;
    if progress != current.progress {
        repo::record_event(
            &txn,
            caller,
            id,
            "progress",
            &current.progress.to_string(),
            &progress.to_string(),
            note,
        )
        .await?;
    }
    roll_up(&txn, caller, next.parent_id).await?;
    let view = one_view(&txn, next).await?;
    txn.commit().await?;
    Ok(view)
}

/// Links (or unlinks) an experience of the caller's scope to an action of it. Idempotent:
/// only a change is recorded in the timeline.
pub async fn link_feedback(
    store: &Store,
    caller: &Caller,
    action_id: Uuid,
    feedback_id: Uuid,
    unlink: bool,
) -> Result<ActionView, Error> {
    let txn = store.write_txn().await?;
    let action = repo::find(&txn, caller.scope, action_id).await?;
    experience(&txn, caller.scope, feedback_id).await?;
    let linked = repo::is_linked(&txn, action_id, feedback_id).await?;
    let id = feedback_id.to_string();
    match (unlink, linked) {
        (false, false) => {
            // A concurrent call may have linked it first: the link exists, as asked.
            if repo::link(&txn, action_id, feedback_id).await? {
                repo::record_event(&txn, caller, action_id, "linked_feedback", "", &id, "").await?;
            }
        }
        (true, true) => {
            repo::unlink(&txn, action_id, feedback_id).await?;
            repo::record_event(&txn, caller, action_id, "unlinked_feedback", &id, "", "").await?;
        }
        (false, true) | (true, false) => {}
    }
    let view = one_view(&txn, action).await?;
    txn.commit().await?;
    Ok(view)
}

/// The timeline of an action of the caller's scope, oldest first.
pub async fn events(
    store: &Store,
    caller: &Caller,
    action_id: Uuid,
    page: &Page<EventCursor>,
) -> Result<Listed<ActionEvent>, Error> {
    let db = store.connection();
    repo::find(db, caller.scope, action_id).await?;
    let rows = repo::events(db, action_id, page.fetch_limit(), page.after).await?;
    Ok(page.listed(rows, |e| (e.created_at, e.id)))
}

/// The engagements of the programme, in its order (every role reads them).
pub async fn engagements(store: &Store) -> Result<Vec<Engagement>, Error> {
    repo::engagements(store.connection()).await
}

/// Rewords an engagement (audited).
pub async fn reword_engagement(
    store: &Store,
    caller: &Caller,
    code: &str,
    title: &str,
) -> Result<Engagement, Error> {
    let txn = store.write_txn().await?;
    let before = repo::engagement(&txn, code)
        .await?
        .ok_or_else(|| Error::not_found("engagement"))?;
    let updated = repo::save_engagement_title(&txn, code, title, now_ms()).await?;
    audit::record(
        &txn,
        Some(caller),
        "engagement.update",
        "engagement",
        code,
        serde_json::json!({ "from": before.title, "to": title }),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

async fn one_view(db: &impl ConnectionTrait, action: Action) -> Result<ActionView, Error> {
    repo::views(db, vec![action])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("an action vanished while read".into()))
}

async fn check_engagement(db: &impl ConnectionTrait, code: &str) -> Result<(), Error> {
    match repo::engagement(db, code).await? {
        Some(_) => Ok(()),
        None => Err(Error::invalid(
            "action.engagement_code",
            format!("unknown engagement {code}"),
        )),
    }
}

async fn parent_in_scope(
    db: &impl ConnectionTrait,
    caller: &Caller,
    parent: Uuid,
) -> Result<(), Error> {
    repo::find(db, caller.scope, parent)
        .await
        .map(|_| ())
        .map_err(|_| Error::not_found("parent action"))
}

/// The patched action and its changes `(field, from, to)`, in the timeline's wording.
fn patched(current: &Action, patch: &ActionPatch) -> (Action, Vec<(&'static str, String, String)>) {
    let mut next = current.clone();
    let mut changes = Vec::new();
    let mut change = |field: &'static str, from: String, to: String| {
        if from != to {
            changes.push((field, from, to));
        }
    };
    if let Some(v) = &patch.title {
        change("title", next.title.clone(), v.clone());
        next.title = v.clone();
    }
    if let Some(v) = &patch.description {
        change("description", next.description.clone(), v.clone());
        next.description = v.clone();
    }
    if let Some(v) = &patch.engagement_code {
        change("engagement_code", next.engagement_code.clone(), v.clone());
        next.engagement_code = v.clone();
    }
    if let Some(v) = patch.weight {
        change("weight", next.weight.to_string(), v.to_string());
        next.weight = v;
    }
    if let Some(v) = &patch.owner {
        change("owner", next.owner.clone(), v.clone());
        next.owner = v.clone();
    }
    if let Some(v) = patch.due_on {
        let text = date_text(v);
        change(
            "due_on",
            next.due_on.clone().unwrap_or_default(),
            text.clone().unwrap_or_default(),
        );
        next.due_on = text;
    }
    if let Some(v) = patch.public {
        change("public", next.public.to_string(), v.to_string());
        next.public = v;
    }
    if let Some(parent) = patch.parent_id {
        let show = |p: Option<Uuid>| p.map(|p| p.to_string()).unwrap_or_default();
        change("parent_id", show(next.parent_id), show(parent));
        next.parent_id = parent;
    }
    if let Some(p) = patch.progress {
        change("progress", next.progress.to_string(), p.to_string());
        next.progress = p;
    }
    (next, changes)
}

/// Recomputes the progress of `start` and of every action above it
/// (`domain::action::parent_progress`), each change in the timeline.
async fn roll_up(
    db: &impl ConnectionTrait,
    caller: &Caller,
    start: Option<Uuid>,
) -> Result<(), Error> {
    let mut next = start;
    // The hierarchy is acyclic (checked on every parent change); the bound is a safety net.
    for _ in 0..64 {
        let Some(id) = next else {
            return Ok(());
        };
        let Ok(parent) = repo::find(db, None, id).await else {
            return Ok(());
        };
        next = parent.parent_id;
        let children: Vec<rules::Child> = repo::children(db, id)
            .await?
            .iter()
            .map(Action::as_child)
            .collect();
        let Some(progress) = rules::parent_progress(parent.status, &children) else {
            continue;
        };
        if progress != parent.progress {
            let from = parent.progress;
            repo::save(
                db,
                &Action {
                    progress,
                    updated_at: now_ms(),
                    ..parent
                },
            )
            .await?;
            repo::record_event(
                db,
                caller,
                id,
                "progress",
                &from.to_string(),
                &progress.to_string(),
                "recalculé depuis les sous-actions",
            )
            .await?;
        }
    }
    Err(Error::Internal(
        "action hierarchy deeper than 64 levels".into(),
    ))
}

/// Refuses a parent that is the action itself or one of its descendants.
async fn check_no_cycle(db: &impl ConnectionTrait, id: Uuid, parent: Uuid) -> Result<(), Error> {
    let mut cursor = Some(parent);
    for _ in 0..64 {
        match cursor {
            None => return Ok(()),
            Some(current) if current == id => {
                return Err(Error::FailedPrecondition(
                    "an action cannot be the parent of itself or of an action above it".into(),
                ));
            }
            Some(current) => cursor = repo::parent_of(db, current).await?.flatten(),
        }
    }
    Err(Error::FailedPrecondition(
        "action hierarchy too deep".into(),
    ))
}
