use chrono::NaiveDate;
use uuid::Uuid;

use crate::Error;
use crate::domain::action::{self as rules, ActionPatch, NewAction};
use crate::domain::validation::{Violations, date, optional_uuid, text, uuid};
use crate::pb;
use crate::store::actions::{ActionEvent, ActionView, Engagement, PublicActionView};

use super::enums::action_status_to_pb;
use super::mask_paths;
use super::time::timestamp;

fn optional_date(value: &str) -> Result<Option<NaiveDate>, String> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        date(value).map(Some)
    }
}

/// A new action. Status, progress and dates are set by the server.
pub fn new_action(action: pb::Action) -> Result<NewAction, Error> {
    let pb::Action {
        id: _,
        location_id,
        title,
        description,
        engagement_code,
        status: _,
        progress,
        parent_id,
        weight,
        owner,
        due_on,
        public,
        done_on: _,
        feedback_ids: _,
        create_time: _,
        update_time: _,
    } = action;
    let mut v = Violations::under("action");
    v.check("progress", rules::progress_at_creation(progress));
    let location_id = v.check("location_id", uuid(&location_id));
    let title = v.check("title", text(&title, rules::TITLE_MAX, true));
    let description = v.check(
        "description",
        text(&description, rules::DESCRIPTION_MAX, false),
    );
    let engagement_code = v.check("engagement_code", rules::engagement_code(&engagement_code));
    let parent_id = v.check("parent_id", optional_uuid(&parent_id));
    let weight = v.check("weight", rules::weight(weight));
    let owner = v.check("owner", text(&owner, rules::OWNER_MAX, false));
    let due_on = v.check("due_on", optional_date(&due_on));
    v.finish(|| {
        Some(NewAction {
            location_id: location_id?,
            title: title?,
            description: description?,
            engagement_code: engagement_code?,
            parent_id: parent_id?,
            weight: weight?,
            owner: owner?,
            due_on: due_on?,
            public,
        })
    })
}

/// The action named by an update and the patch of the fields in `paths`.
pub fn action_patch(action: pb::Action, paths: &[String]) -> Result<(Uuid, ActionPatch), Error> {
    let pb::Action {
        id,
        location_id: _,
        title,
        description,
        engagement_code,
        status: _,
        progress,
        parent_id,
        weight,
        owner,
        due_on,
        public,
        done_on: _,
        feedback_ids: _,
        create_time: _,
        update_time: _,
    } = action;
    let mut v = Violations::under("action");
    let id = v.check("id", uuid(&id));
    let mut patch = ActionPatch::default();
    let mut mask = Violations::default();
    let paths = mask_paths(paths)?;
    if paths.is_empty() {
        mask.add("update_mask", "must name at least one field");
    }
    for path in paths {
        match path.as_str() {
            "title" => patch.title = v.check("title", text(&title, rules::TITLE_MAX, true)),
            "description" => {
                patch.description = v.check(
                    "description",
                    text(&description, rules::DESCRIPTION_MAX, false),
                )
            }
            "engagement_code" => {
                patch.engagement_code =
                    v.check("engagement_code", rules::engagement_code(&engagement_code))
            }
            "parent_id" => patch.parent_id = v.check("parent_id", optional_uuid(&parent_id)),
            "weight" => patch.weight = v.check("weight", rules::weight(weight)),
            "owner" => patch.owner = v.check("owner", text(&owner, rules::OWNER_MAX, false)),
            "due_on" => patch.due_on = v.check("due_on", optional_date(&due_on)),
            "public" => patch.public = Some(public),
            "progress" => patch.progress = v.check("progress", rules::progress(progress)),
            "status" => mask.add("update_mask", "status changes go through TransitionAction"),
            other => mask.add("update_mask", format!("unknown or read-only field {other}")),
        }
    }
    v.absorb(mask);
    if let Some(e) = v.into_error() {
        return Err(e);
    }
    let id = id.ok_or_else(|| Error::invalid("action.id", "is required"))?;
    Ok((id, patch))
}

pub fn action_to_pb(view: &ActionView) -> pb::Action {
    let m = &view.action;
    pb::Action {
        id: m.id.to_string(),
        location_id: m.location_id.to_string(),
        title: m.title.clone(),
        description: m.description.clone(),
        engagement_code: m.engagement_code.clone(),
        status: action_status_to_pb(m.status) as i32,
        progress: m.progress,
        parent_id: m.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        weight: m.weight,
        owner: m.owner.clone(),
        due_on: m.due_on.clone().unwrap_or_default(),
        public: m.public,
        done_on: m.done_on.clone().unwrap_or_default(),
        feedback_ids: view.feedback_ids.iter().map(Uuid::to_string).collect(),
        create_time: Some(timestamp(m.created_at)),
        update_time: Some(timestamp(m.updated_at)),
    }
}

pub fn action_event_to_pb(e: &ActionEvent) -> pb::ActionEvent {
    pb::ActionEvent {
        id: e.id.to_string(),
        action_id: e.action_id.to_string(),
        actor: e.actor.clone(),
        time: Some(timestamp(e.created_at)),
        field: e.field.clone(),
        from_value: e.from_value.clone(),
        to_value: e.to_value.clone(),
        note: e.note.clone(),
    }
}

pub fn engagement_to_pb(e: &Engagement) -> pb::Engagement {
    pb::Engagement {
        code: e.code.clone(),
        pillar: e.pillar.clone(),
        title: e.title.clone(),
        position: e.position,
        update_time: Some(timestamp(e.updated_at)),
    }
}

/// What the public sees of an action: no owner, no internal ids of experiences; its texts,
/// written by agents who may quote an usager, redacted as they are shown.
pub fn public_action_to_pb(view: &PublicActionView) -> pb::PublicAction {
    use crate::domain::redaction::public_text;
    let m = &view.action;
    pb::PublicAction {
        id: m.id.to_string(),
        location_code: view.location_code.clone(),
        title: public_text(&m.title),
        description: public_text(&m.description),
        engagement_code: m.engagement_code.clone(),
        engagement_title: public_text(&view.engagement_title),
        status: action_status_to_pb(m.status) as i32,
        progress: m.progress,
        due_on: m.due_on.clone().unwrap_or_default(),
        done_on: m.done_on.clone().unwrap_or_default(),
        linked_feedback: view.linked_published,
        update_time: Some(timestamp(m.updated_at)),
    }
}
