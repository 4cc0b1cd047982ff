//! The repository of improvement actions, their links to experiences, their timeline, and
//! the engagements they name. Plain reads and writes; `app::actions` decides, records the
//! timeline and rolls progress up in one transaction.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{action, action_event, action_feedback, engagement};
use super::locations::subtree_ids;
use super::{Order, Reach, is_unique_violation, keyset, now_ms, sql, stored_code};
use crate::Error;
use crate::domain::action as rules;
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

/// `YYYY-MM-DD`, as dates are stored.
pub fn date_text(date: Option<NaiveDate>) -> Option<String> {
    date.map(|d| d.format("%Y-%m-%d").to_string())
}

impl Action {
    /// The action as the roll-up of its parent sees it.
    pub fn as_child(&self) -> rules::Child {
        (self.status, self.progress, self.weight.max(1))
    }
}

impl From<&Action> for action::ActiveModel {
    fn from(a: &Action) -> Self {
        let int = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        action::ActiveModel {
            id: Set(a.id),
            location_id: Set(a.location_id),
            title: Set(a.title.clone()),
            description: Set(a.description.clone()),
            engagement_code: Set(a.engagement_code.clone()),
            status: Set(a.status.code().to_owned()),
            progress: Set(int(a.progress)),
            parent_id: Set(a.parent_id),
            weight: Set(int(a.weight)),
            owner: Set(a.owner.clone()),
            due_on: Set(a.due_on.clone()),
            public: Set(a.public),
            done_on: Set(a.done_on.clone()),
            created_at: Set(a.created_at),
            updated_at: Set(a.updated_at),
        }
    }
}

/// The action `id` if its location lies in `scope`, or NOT_FOUND.
pub async fn find(
    db: &impl ConnectionTrait,
    scope: Option<Uuid>,
    id: Uuid,
) -> Result<Action, Error> {
    let mut query = action::Entity::find_by_id(id);
    if let Some(root) = scope {
        query = query.filter(action::Column::LocationId.in_subquery(subtree_ids(root)));
    }
    query
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("action"))?
        .try_into()
}

/// The parent of the action `id`: `None` when there is no such action.
pub async fn parent_of(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Option<Uuid>>, Error> {
    Ok(action::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|a| a.parent_id))
}

pub async fn insert(db: &impl ConnectionTrait, a: &Action) -> Result<(), Error> {
    action::ActiveModel::from(a).insert(db).await?;
    Ok(())
}

/// Writes every column of `a` over the stored action.
pub async fn save(db: &impl ConnectionTrait, a: &Action) -> Result<(), Error> {
    let mut row = action::ActiveModel::from(a).reset_all();
    row.id = sea_orm::ActiveValue::Unchanged(a.id);
    row.update(db).await?;
    Ok(())
}

/// The direct sub-actions of `id`.
pub async fn children(db: &impl ConnectionTrait, id: Uuid) -> Result<Vec<Action>, Error> {
    action::Entity::find()
        .filter(action::Column::ParentId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(Action::try_from)
        .collect()
}

/// Records one change in the timeline, signed by the caller.
pub async fn record_event(
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

/// The timeline of an action, oldest first, after `after`.
pub async fn events(
    db: &impl ConnectionTrait,
    action_id: Uuid,
    limit: u64,
    after: Option<EventCursor>,
) -> Result<Vec<ActionEvent>, Error> {
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
        .all(db)
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

/// Whether `action_id` and `feedback_id` are linked.
pub async fn is_linked(
    db: &impl ConnectionTrait,
    action_id: Uuid,
    feedback_id: Uuid,
) -> Result<bool, Error> {
    Ok(
        action_feedback::Entity::find_by_id((action_id, feedback_id))
            .one(db)
            .await?
            .is_some(),
    )
}

/// Links an experience to an action; `false` when a concurrent call linked it first.
pub async fn link(
    db: &impl ConnectionTrait,
    action_id: Uuid,
    feedback_id: Uuid,
) -> Result<bool, Error> {
    let inserted = action_feedback::ActiveModel {
        action_id: Set(action_id),
        feedback_id: Set(feedback_id),
        created_at: Set(now_ms()),
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn unlink(
    db: &impl ConnectionTrait,
    action_id: Uuid,
    feedback_id: Uuid,
) -> Result<(), Error> {
    action_feedback::Entity::delete_by_id((action_id, feedback_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The engagement `code`, if any.
pub async fn engagement(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<Engagement>, Error> {
    Ok(engagement::Entity::find_by_id(code.to_owned())
        .one(db)
        .await?
        .map(Engagement::from))
}

/// Every engagement, in the programme's order.
pub async fn engagements(db: &impl ConnectionTrait) -> Result<Vec<Engagement>, Error> {
    Ok(engagement::Entity::find()
        .order_by_asc(engagement::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(Engagement::from)
        .collect())
}

/// Rewords an engagement.
pub async fn save_engagement_title(
    db: &impl ConnectionTrait,
    code: &str,
    title: &str,
    now: i64,
) -> Result<Engagement, Error> {
    Ok(engagement::ActiveModel {
        code: Set(code.to_owned()),
        title: Set(title.to_owned()),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?
    .into())
}

/// The actions with the experiences linked to them.
pub async fn views(
    db: &impl ConnectionTrait,
    actions: Vec<Action>,
) -> Result<Vec<ActionView>, Error> {
    if actions.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = actions.iter().map(|a| a.id).collect();
    let mut links: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for l in action_feedback::Entity::find()
        .filter(action_feedback::Column::ActionId.is_in(ids))
        .order_by_asc(action_feedback::Column::CreatedAt)
        .all(db)
        .await?
    {
        links.entry(l.action_id).or_default().push(l.feedback_id);
    }
    Ok(actions
        .into_iter()
        .map(|action| ActionView {
            feedback_ids: links.remove(&action.id).unwrap_or_default(),
            action,
        })
        .collect())
}

/// Actions within `reach` matching `filter`, newest first, after id `after`
/// (`filter.location` is already in `reach`).
pub async fn list(
    db: &impl ConnectionTrait,
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
    let actions = action::Entity::find()
        .filter(cond)
        .order_by_desc(action::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Action::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    views(db, actions).await
}

/// Public actions of the subtree of `root`, most recently changed first.
pub async fn public(
    db: &impl ConnectionTrait,
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
        .all(db)
        .await?;
    let titles: HashMap<String, String> = engagements(db)
        .await?
        .into_iter()
        .map(|e| (e.code, e.title))
        .collect();
    let location_ids: Vec<Uuid> = models.iter().map(|m| m.location_id).collect();
    let codes = super::locations::codes(db, location_ids).await?;
    // Published experiences linked to each action of the page, in one grouped query.
    let ids: Vec<sea_orm::Value> = models.iter().map(|m| m.id.into()).collect();
    let mut linked: HashMap<Uuid, u64> = HashMap::new();
    if !ids.is_empty() {
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let rows = db
            .query_all_raw(sql(
                db.get_database_backend(),
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
