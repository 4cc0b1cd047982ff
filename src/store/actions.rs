//! Improvement actions, their links to experiences, their timeline, and the engagements they
//! name. Every change writes its timeline events in the same transaction, and recomputes the
//! progress of the parents above it.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{action, action_event, action_feedback, engagement, feedback};
use super::locations::subtree_ids;
use super::{Order, Reach, Store, audit, is_unique_violation, keyset, now_ms, stored_code};
use crate::Error;
use crate::domain::action::{self as rules, ActionPatch, NewAction};
use crate::domain::{ActionStatus, Caller};

/// An improvement action as stored, its status typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub id: Uuid,
    pub location_id: Uuid,
    pub title: String,
    pub description: String,
    pub engagement_code: String,
    pub status: ActionStatus,
    pub progress: u32,
    pub parent_id: Option<Uuid>,
    pub weight: u32,
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub due_on: Option<String>,
    pub public: bool,
    /// `YYYY-MM-DD`.
    pub done_on: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<action::Model> for Action {
    type Error = Error;

    fn try_from(m: action::Model) -> Result<Self, Error> {
        Ok(Self {
            status: status_of(&m)?,
            id: m.id,
            location_id: m.location_id,
            title: m.title,
            description: m.description,
            engagement_code: m.engagement_code,
            progress: u32::try_from(m.progress).unwrap_or(0),
            parent_id: m.parent_id,
            weight: u32::try_from(m.weight).unwrap_or(rules::DEFAULT_WEIGHT),
            owner: m.owner,
            due_on: m.due_on,
            public: m.public,
            done_on: m.done_on,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// An entry of an action's timeline: one field's change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionEvent {
    pub id: Uuid,
    pub action_id: Uuid,
    pub actor: String,
    pub created_at: i64,
    pub field: String,
    pub from_value: String,
    pub to_value: String,
    pub note: String,
}

/// A Services Publics + engagement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Engagement {
    pub code: String,
    pub pillar: String,
    pub title: String,
    pub position: u32,
    pub updated_at: i64,
}

impl From<engagement::Model> for Engagement {
    fn from(e: engagement::Model) -> Self {
        Self {
            code: e.code,
            pillar: e.pillar,
            title: e.title,
            position: u32::try_from(e.position).unwrap_or(0),
            updated_at: e.updated_at,
        }
    }
}

/// An action with the experiences linked to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionView {
    pub action: Action,
    pub feedback_ids: Vec<Uuid>,
}

#[derive(Clone, Debug, Default)]
pub struct ActionFilter {
    pub location: Option<Uuid>,
    pub status: Option<ActionStatus>,
    pub engagement: Option<String>,
    /// Only actions overdue on this date.
    pub overdue_on: Option<NaiveDate>,
    pub feedback: Option<Uuid>,
}

/// A public action with what portals show beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicActionView {
    pub action: Action,
    pub location_code: String,
    pub engagement_title: String,
    /// Published experiences linked to the action.
    pub linked_published: u64,
}

/// The keyset position of a timeline event: oldest first.
pub type EventCursor = (i64, Uuid);

fn status_of(model: &action::Model) -> Result<ActionStatus, Error> {
    stored_code(
        ActionStatus::from_code,
        format_args!("action {}", model.id),
        "status",
        &model.status,
    )
}

fn date_text(date: Option<NaiveDate>) -> Option<String> {
    date.map(|d| d.format("%Y-%m-%d").to_string())
}

/// The action `id` if its location lies in `scope`.
async fn action_in_scope(
    db: &impl ConnectionTrait,
    scope: Option<Uuid>,
    id: Uuid,
) -> Result<action::Model, Error> {
    let mut query = action::Entity::find_by_id(id);
    if let Some(root) = scope {
        query = query.filter(action::Column::LocationId.in_subquery(subtree_ids(root)));
    }
    query
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("action"))
}

/// Records one change in the timeline.
async fn event(
    db: &impl ConnectionTrait,
    caller: &Caller,
    action_id: Uuid,
    field: &str,
    from: &str,
    to: &str,
    note: &str,
) -> Result<(), Error> {
    action_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        action_id: Set(action_id),
        api_key_id: Set(caller.key_id),
        actor: Set(caller.name.clone()),
        field: Set(field.to_owned()),
        from_value: Set(from.to_owned()),
        to_value: Set(to.to_owned()),
        note: Set(note.to_owned()),
        created_at: Set(now_ms()),
    }
    .insert(db)
    .await?;
    Ok(())
}

async fn check_engagement(db: &impl ConnectionTrait, code: &str) -> Result<(), Error> {
    if engagement::Entity::find_by_id(code.to_owned())
        .one(db)
        .await?
        .is_none()
    {
        return Err(Error::invalid(
            "action.engagement_code",
            format!("unknown engagement {code}"),
        ));
    }
    Ok(())
}

async fn children(db: &impl ConnectionTrait, id: Uuid) -> Result<Vec<action::Model>, Error> {
    Ok(action::Entity::find()
        .filter(action::Column::ParentId.eq(id))
        .all(db)
        .await?)
}

/// A sub-action as the roll-up sees it.
fn child_of(child: &action::Model) -> Result<rules::Child, Error> {
    Ok((
        status_of(child)?,
        child.progress.max(0) as u32,
        child.weight.max(1) as u32,
    ))
}

/// Recomputes the progress of `start` and of every action above it.
async fn recompute_upwards(
    txn: &DatabaseTransaction,
    caller: &Caller,
    start: Option<Uuid>,
) -> Result<(), Error> {
    let mut next = start;
    // The hierarchy is acyclic (checked on every parent change); the bound is a safety net.
    for _ in 0..64 {
        let Some(id) = next else {
            return Ok(());
        };
        let Some(parent) = action::Entity::find_by_id(id).one(txn).await? else {
            return Ok(());
        };
        next = parent.parent_id;
        let mut roll = Vec::new();
        for child in children(txn, id).await? {
            roll.push(child_of(&child)?);
        }
        let Some(progress) = rules::parent_progress(status_of(&parent)?, &roll) else {
            continue;
        };
        let progress = progress as i32;
        if progress != parent.progress {
            let from = parent.progress;
            let mut row: action::ActiveModel = parent.into();
            row.progress = Set(progress);
            row.updated_at = Set(now_ms());
            row.update(txn).await?;
            event(
                txn,
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
            Some(current) => {
                cursor = action::Entity::find_by_id(current)
                    .one(db)
                    .await?
                    .and_then(|a| a.parent_id);
            }
        }
    }
    Err(Error::FailedPrecondition(
        "action hierarchy too deep".into(),
    ))
}

async fn views(
    db: &impl ConnectionTrait,
    models: Vec<action::Model>,
) -> Result<Vec<ActionView>, Error> {
    if models.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let mut links: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for l in action_feedback::Entity::find()
        .filter(action_feedback::Column::ActionId.is_in(ids))
        .order_by_asc(action_feedback::Column::CreatedAt)
        .all(db)
        .await?
    {
        links.entry(l.action_id).or_default().push(l.feedback_id);
    }
    models
        .into_iter()
        .map(|model| {
            Ok(ActionView {
                feedback_ids: links.remove(&model.id).unwrap_or_default(),
                action: Action::try_from(model)?,
            })
        })
        .collect()
}

impl Store {
    pub async fn create_action(
        &self,
        caller: &Caller,
        new: &NewAction,
    ) -> Result<ActionView, Error> {
        let txn = self.write_txn().await?;
        if !super::locations::in_scope(&txn, caller.scope, new.location_id).await? {
            return Err(Error::not_found("location"));
        }
        check_engagement(&txn, &new.engagement_code).await?;
        if let Some(parent) = new.parent_id {
            action_in_scope(&txn, caller.scope, parent)
                .await
                .map_err(|_| Error::not_found("parent action"))?;
        }
        let now = now_ms();
        let model = action::ActiveModel {
            id: Set(Uuid::now_v7()),
            location_id: Set(new.location_id),
            title: Set(new.title.clone()),
            description: Set(new.description.clone()),
            engagement_code: Set(new.engagement_code.clone()),
            status: Set(ActionStatus::Planned.code().to_owned()),
            progress: Set(0),
            parent_id: Set(new.parent_id),
            weight: Set(new.weight as i32),
            owner: Set(new.owner.clone()),
            due_on: Set(date_text(new.due_on)),
            public: Set(new.public),
            done_on: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        event(
            &txn,
            caller,
            model.id,
            "created",
            "",
            ActionStatus::Planned.code(),
            &new.title,
        )
        .await?;
        recompute_upwards(&txn, caller, new.parent_id).await?;
        let view = views(&txn, vec![model]).await?.pop();
        txn.commit().await?;
        view.ok_or_else(|| Error::Internal("created action vanished".into()))
    }

    pub async fn get_action(&self, scope: Option<Uuid>, id: Uuid) -> Result<ActionView, Error> {
        let model = action_in_scope(&self.db, scope, id).await?;
        views(&self.db, vec![model])
            .await?
            .pop()
            .ok_or_else(|| Error::not_found("action"))
    }

    /// Actions within `reach` matching `filter`, newest first, after id `after`
    /// (`filter.location` is already in `reach`).
    pub async fn list_actions(
        &self,
        reach: &Reach,
        filter: &ActionFilter,
        limit: u64,
        after: Option<Uuid>,
    ) -> Result<Vec<ActionView>, Error> {
        let mut cond = Condition::all();
        for root in reach.roots() {
            cond = cond.add(action::Column::LocationId.in_subquery(subtree_ids(root)));
        }
        if let Some(status) = filter.status {
            cond = cond.add(action::Column::Status.eq(status.code()));
        }
        if let Some(code) = &filter.engagement {
            cond = cond.add(action::Column::EngagementCode.eq(code.as_str()));
        }
        if let Some(today) = filter.overdue_on {
            cond = cond
                .add(action::Column::DueOn.lt(today.format("%Y-%m-%d").to_string()))
                .add(action::Column::Status.is_in([
                    ActionStatus::Planned.code(),
                    ActionStatus::InProgress.code(),
                ]));
        }
        if let Some(feedback_id) = filter.feedback {
            cond = cond.add(
                action::Column::Id.in_subquery(
                    Query::select()
                        .column(action_feedback::Column::ActionId)
                        .from(action_feedback::Entity)
                        .and_where(action_feedback::Column::FeedbackId.eq(feedback_id))
                        .to_owned(),
                ),
            );
        }
        if let Some(after) = after {
            cond = cond.add(action::Column::Id.lt(after));
        }
        let models = action::Entity::find()
            .filter(cond)
            .order_by_desc(action::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        views(&self.db, models).await
    }

    pub async fn update_action(
        &self,
        caller: &Caller,
        id: Uuid,
        patch: &ActionPatch,
        note: &str,
    ) -> Result<ActionView, Error> {
        let txn = self.write_txn().await?;
        let current = action_in_scope(&txn, caller.scope, id).await?;
        let status = status_of(&current)?;
        let mut next = current.clone();
        let mut changes: Vec<(&str, String, String)> = Vec::new();
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
            check_engagement(&txn, v).await?;
            change("engagement_code", next.engagement_code.clone(), v.clone());
            next.engagement_code = v.clone();
        }
        if let Some(v) = patch.weight {
            change("weight", next.weight.to_string(), v.to_string());
            next.weight = v as i32;
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
            if let Some(p) = parent {
                action_in_scope(&txn, caller.scope, p)
                    .await
                    .map_err(|_| Error::not_found("parent action"))?;
                check_no_cycle(&txn, id, p).await?;
            }
            let show = |p: Option<Uuid>| p.map(|p| p.to_string()).unwrap_or_default();
            change("parent_id", show(next.parent_id), show(parent));
            next.parent_id = parent;
        }
        if let Some(p) = patch.progress {
            rules::check_progress_edit(status, !children(&txn, id).await?.is_empty())?;
            change("progress", next.progress.to_string(), p.to_string());
            next.progress = p as i32;
        }
        if changes.is_empty() {
            txn.commit().await?;
            return self.get_action(caller.scope, id).await;
        }
        next.updated_at = now_ms();
        let old_parent = current.parent_id;
        let new_parent = next.parent_id;
        let updated = action::ActiveModel::from(next)
            .reset_all()
            .update(&txn)
            .await?;
        for (field, from, to) in &changes {
            event(&txn, caller, id, field, from, to, note).await?;
        }
        recompute_upwards(&txn, caller, old_parent).await?;
        if new_parent != old_parent {
            recompute_upwards(&txn, caller, new_parent).await?;
        }
        let view = views(&txn, vec![updated]).await?.pop();
        txn.commit().await?;
        view.ok_or_else(|| Error::Internal("updated action vanished".into()))
    }

    /// Moves an action along its status machine; FAILED_PRECONDITION for any other move.
    pub async fn transition_action(
        &self,
        caller: &Caller,
        id: Uuid,
        to: ActionStatus,
        requested_progress: Option<u32>,
        note: &str,
        today: NaiveDate,
    ) -> Result<ActionView, Error> {
        let txn = self.write_txn().await?;
        let current = action_in_scope(&txn, caller.scope, id).await?;
        let from = status_of(&current)?;
        let mut kids = Vec::new();
        for child in children(&txn, id).await? {
            kids.push(child_of(&child)?);
        }
        let progress = rules::progress_of_transition(
            from,
            to,
            current.progress.max(0) as u32,
            requested_progress,
            &kids,
        )? as i32;
        let mut row: action::ActiveModel = current.clone().into();
        row.status = Set(to.code().to_owned());
        row.progress = Set(progress);
        row.done_on = Set(if to == ActionStatus::Done {
            date_text(Some(today))
        } else {
            None
        });
        row.updated_at = Set(now_ms());
        let updated = row.update(&txn).await?;
        event(&txn, caller, id, "status", from.code(), to.code(), note).await?;
        if progress != current.progress {
            event(
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
        recompute_upwards(&txn, caller, updated.parent_id).await?;
        let view = views(&txn, vec![updated]).await?.pop();
        txn.commit().await?;
        view.ok_or_else(|| Error::Internal("transitioned action vanished".into()))
    }

    /// Links (or unlinks) an experience of the caller's scope to an action. Idempotent.
    pub async fn link_feedback(
        &self,
        caller: &Caller,
        action_id: Uuid,
        feedback_id: Uuid,
        unlink: bool,
    ) -> Result<ActionView, Error> {
        let txn = self.write_txn().await?;
        let action = action_in_scope(&txn, caller.scope, action_id).await?;
        let mut find = feedback::Entity::find_by_id(feedback_id);
        if let Some(root) = caller.scope {
            find = find.filter(feedback::Column::LocationId.in_subquery(subtree_ids(root)));
        }
        if find.one(&txn).await?.is_none() {
            return Err(Error::not_found("feedback"));
        }
        let existing = action_feedback::Entity::find_by_id((action_id, feedback_id))
            .one(&txn)
            .await?;
        match (unlink, existing) {
            (false, None) => {
                let inserted = action_feedback::ActiveModel {
                    action_id: Set(action_id),
                    feedback_id: Set(feedback_id),
                    created_at: Set(now_ms()),
                }
                .insert(&txn)
                .await;
                match inserted {
                    Ok(_) => {
                        event(
                            &txn,
                            caller,
                            action_id,
                            "linked_feedback",
                            "",
                            &feedback_id.to_string(),
                            "",
                        )
                        .await?
                    }
                    // A concurrent call linked it first: the link exists, as asked.
                    Err(e) if is_unique_violation(&e) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            (true, Some(link)) => {
                action_feedback::Entity::delete_by_id((link.action_id, link.feedback_id))
                    .exec(&txn)
                    .await?;
                event(
                    &txn,
                    caller,
                    action_id,
                    "unlinked_feedback",
                    &feedback_id.to_string(),
                    "",
                    "",
                )
                .await?;
            }
            (false, Some(_)) | (true, None) => {}
        }
        let view = views(&txn, vec![action]).await?.pop();
        txn.commit().await?;
        view.ok_or_else(|| Error::Internal("linked action vanished".into()))
    }

    /// The timeline of an action of the caller's scope, oldest first.
    pub async fn list_action_events(
        &self,
        scope: Option<Uuid>,
        action_id: Uuid,
        limit: u64,
        after: Option<EventCursor>,
    ) -> Result<Vec<ActionEvent>, Error> {
        action_in_scope(&self.db, scope, action_id).await?;
        let mut cond = Condition::all().add(action_event::Column::ActionId.eq(action_id));
        if let Some((at, id)) = after {
            cond = cond.add(keyset(
                Order::Ascending,
                action_event::Column::CreatedAt,
                action_event::Column::Id,
                at,
                id,
            ));
        }
        Ok(action_event::Entity::find()
            .filter(cond)
            .order_by_asc(action_event::Column::CreatedAt)
            .order_by_asc(action_event::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| ActionEvent {
                id: e.id,
                action_id: e.action_id,
                actor: e.actor,
                created_at: e.created_at,
                field: e.field,
                from_value: e.from_value,
                to_value: e.to_value,
                note: e.note,
            })
            .collect())
    }

    pub async fn list_engagements(&self) -> Result<Vec<Engagement>, Error> {
        Ok(engagement::Entity::find()
            .order_by_asc(engagement::Column::Position)
            .all(&self.db)
            .await?
            .into_iter()
            .map(Engagement::from)
            .collect())
    }

    pub async fn update_engagement(
        &self,
        caller: &Caller,
        code: &str,
        title: &str,
    ) -> Result<Engagement, Error> {
        let txn = self.write_txn().await?;
        let current = engagement::Entity::find_by_id(code.to_owned())
            .one(&txn)
            .await?
            .ok_or_else(|| Error::not_found("engagement"))?;
        let before = current.title.clone();
        let mut row: engagement::ActiveModel = current.into();
        row.title = Set(title.to_owned());
        row.updated_at = Set(now_ms());
        let updated = row.update(&txn).await?;
        audit::record(
            &txn,
            Some(caller),
            "engagement.update",
            "engagement",
            code,
            serde_json::json!({ "from": before, "to": title }),
        )
        .await?;
        txn.commit().await?;
        Ok(updated.into())
    }

    /// Public actions of the subtree of `root`, most recently changed first.
    pub async fn list_public_actions(
        &self,
        root: Uuid,
        limit: u64,
        after: Option<(i64, Uuid)>,
    ) -> Result<Vec<PublicActionView>, Error> {
        let mut cond = Condition::all()
            .add(action::Column::Public.eq(true))
            .add(action::Column::LocationId.in_subquery(subtree_ids(root)));
        if let Some((at, id)) = after {
            cond = cond.add(keyset(
                Order::Descending,
                action::Column::UpdatedAt,
                action::Column::Id,
                at,
                id,
            ));
        }
        let models = action::Entity::find()
            .filter(cond)
            .order_by_desc(action::Column::UpdatedAt)
            .order_by_desc(action::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        let titles: HashMap<String, String> = self
            .list_engagements()
            .await?
            .into_iter()
            .map(|e| (e.code, e.title))
            .collect();
        let location_ids: Vec<Uuid> = models.iter().map(|m| m.location_id).collect();
        let codes = super::locations::codes(&self.db, location_ids).await?;
        // Published experiences linked to each action of the page, in one grouped query.
        let ids: Vec<sea_orm::Value> = models.iter().map(|m| m.id.into()).collect();
        let mut linked: HashMap<Uuid, u64> = HashMap::new();
        if !ids.is_empty() {
            let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
            let rows = self
                .db
                .query_all_raw(super::sql(
                    self.backend(),
                    &format!(
                        "SELECT af.action_id AS action_id, COUNT(*) AS n FROM action_feedback af \
                         JOIN feedback f ON f.id = af.feedback_id \
                         WHERE f.status = 'PUBLISHED' AND af.action_id IN ({}) GROUP BY af.action_id",
                        placeholders.join(", ")
                    ),
                    ids,
                ))
                .await?;
            for row in rows {
                let n: i64 = row.try_get("", "n")?;
                linked.insert(row.try_get("", "action_id")?, u64::try_from(n).unwrap_or(0));
            }
        }
        models
            .into_iter()
            .map(|model| {
                Ok(PublicActionView {
                    location_code: codes.get(&model.location_id).cloned().unwrap_or_default(),
                    engagement_title: titles
                        .get(&model.engagement_code)
                        .cloned()
                        .unwrap_or_default(),
                    linked_published: linked.get(&model.id).copied().unwrap_or(0),
                    action: Action::try_from(model)?,
                })
            })
            .collect()
    }
}
