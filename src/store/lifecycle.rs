//! The repository of an experience's life after capture: moderation decisions,
//! reassignments, internal comments, answers and contact erasure. Plain reads and writes
//! over a connection or a transaction; the use cases (`app::moderation`) decide, audit and
//! commit.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{
    api_key, audit_log, comment, feedback, feedback_reassignment, location_closure,
    moderation_decision, response,
};
use super::feedback::{Answer, Comment, Experience};
use super::locations::subtree_ids;
use super::{Order, is_unique_violation, keyset, sql, stored_code};
use crate::Error;
use crate::domain::codes::ResponseStatus;
use crate::domain::history::{HistoryEvent, HistoryKind};
use crate::domain::moderation::{Decision, RedactionEdit};
use crate::domain::{ModerationStatus, RejectReason};

/// The keyset position of a comment: oldest first.
pub type CommentCursor = (i64, Uuid);

/// One moderation decision as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModerationRecord {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub decision: ModerationStatus,
    pub reject_reason: Option<RejectReason>,
    pub api_key_id: Uuid,
    pub note: String,
    pub created_at: i64,
}

/// One move of an experience from a location to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassignment {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub from_location_id: Uuid,
    pub to_location_id: Uuid,
    pub api_key_id: Uuid,
    pub note: String,
    pub created_at: i64,
}

/// The experience `id` if its location lies in `scope`, or NOT_FOUND.
pub async fn experience(
    db: &impl ConnectionTrait,
    scope: Option<Uuid>,
    id: Uuid,
) -> Result<Experience, Error> {
    scoped_row(db, scope, id).await?.try_into()
}

/// The stored row of the experience `id` if its location lies in `scope`, or NOT_FOUND: the
/// one scope check of every read of an experience.
async fn scoped_row(
    db: &impl ConnectionTrait,
    scope: Option<Uuid>,
    id: Uuid,
) -> Result<feedback::Model, Error> {
    let mut query = feedback::Entity::find_by_id(id);
    if let Some(root) = scope {
        query = query.filter(feedback::Column::LocationId.in_subquery(subtree_ids(root)));
    }
    query
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("feedback"))
}

/// Whether `ancestor` is `descendant` or one of its ancestors.
pub async fn is_ancestor_or_self(
    db: &impl ConnectionTrait,
    ancestor: Uuid,
    descendant: Uuid,
) -> Result<bool, Error> {
    Ok(location_closure::Entity::find_by_id((ancestor, descendant))
        .one(db)
        .await?
        .is_some())
}

/// Stores a moderation decision: the experience's new status and texts (`edit` already
/// redacted), and the decision record.
pub async fn save_decision(
    db: &impl ConnectionTrait,
    id: Uuid,
    decision: Decision,
    edit: &RedactionEdit,
    api_key_id: Uuid,
    note: &str,
    now: i64,
) -> Result<(), Error> {
    let status = decision.status().code().to_owned();
    let reason = decision.reason().map(|r| r.code().to_owned());
    let mut row = feedback::ActiveModel {
        id: Set(id),
        status: Set(status.clone()),
        reject_reason: Set(reason.clone()),
        updated_at: Set(now),
        ..Default::default()
    };
    if let Some(t) = &edit.title {
        row.redacted_title = Set(t.clone());
    }
    if let Some(t) = &edit.story {
        row.redacted_story = Set(t.clone());
    }
    if let Some(t) = &edit.proposal {
        row.redacted_proposal = Set(t.clone());
    }
    feedback::Entity::update(row).exec(db).await?;
    moderation_decision::ActiveModel {
        id: Set(Uuid::now_v7()),
        feedback_id: Set(id),
        decision: Set(status),
        reject_reason: Set(reason),
        api_key_id: Set(api_key_id),
        note: Set(note.to_owned()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Moves an experience and records the move.
pub async fn save_move(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: Uuid,
    to: Uuid,
    api_key_id: Uuid,
    note: &str,
    now: i64,
) -> Result<(), Error> {
    feedback::Entity::update(feedback::ActiveModel {
        id: Set(id),
        location_id: Set(to),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?;
    feedback_reassignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        feedback_id: Set(id),
        from_location_id: Set(from),
        to_location_id: Set(to),
        api_key_id: Set(api_key_id),
        note: Set(note.to_owned()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The moves of an experience, oldest first.
pub async fn reassignments(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Vec<Reassignment>, Error> {
    Ok(feedback_reassignment::Entity::find()
        .filter(feedback_reassignment::Column::FeedbackId.eq(id))
        .order_by_asc(feedback_reassignment::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|m| Reassignment {
            id: m.id,
            feedback_id: m.feedback_id,
            from_location_id: m.from_location_id,
            to_location_id: m.to_location_id,
            api_key_id: m.api_key_id,
            note: m.note,
            created_at: m.created_at,
        })
        .collect())
}

/// The moderation decisions of an experience, oldest first.
pub async fn moderation_decisions(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Vec<ModerationRecord>, Error> {
    moderation_decision::Entity::find()
        .filter(moderation_decision::Column::FeedbackId.eq(id))
        .order_by_asc(moderation_decision::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let row = format!("moderation_decision {}", m.id);
            Ok(ModerationRecord {
                decision: stored_code(ModerationStatus::from_code, &row, "decision", &m.decision)?,
                reject_reason: m
                    .reject_reason
                    .as_deref()
                    .map(|r| stored_code(RejectReason::from_code, &row, "reject_reason", r))
                    .transpose()?,
                id: m.id,
                feedback_id: m.feedback_id,
                api_key_id: m.api_key_id,
                note: m.note,
                created_at: m.created_at,
            })
        })
        .collect()
}

pub async fn insert_comment(
    db: &impl ConnectionTrait,
    feedback_id: Uuid,
    api_key_id: Uuid,
    author: &str,
    body: &str,
    now: i64,
) -> Result<Comment, Error> {
    let model = comment::ActiveModel {
        id: Set(Uuid::now_v7()),
        feedback_id: Set(feedback_id),
        api_key_id: Set(api_key_id),
        author: Set(author.to_owned()),
        body: Set(body.to_owned()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(model.into())
}

/// Internal notes of an experience, oldest first, after `after`.
pub async fn comments(
    db: &impl ConnectionTrait,
    feedback_id: Uuid,
    limit: u64,
    after: Option<CommentCursor>,
) -> Result<Vec<Comment>, Error> {
    let mut cond = Condition::all().add(comment::Column::FeedbackId.eq(feedback_id));
    if let Some((at, id)) = after {
        cond = cond.add(keyset(
            Order::Ascending,
            comment::Column::CreatedAt,
            comment::Column::Id,
            at,
            id,
        ));
    }
    Ok(comment::Entity::find()
        .filter(cond)
        .order_by_asc(comment::Column::CreatedAt)
        .order_by_asc(comment::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Comment::from)
        .collect())
}

/// An answer by id.
pub async fn answer(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Answer>, Error> {
    response::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(Answer::try_from)
        .transpose()
}

/// The answer of `location` to an experience, if any.
pub async fn answer_of(
    db: &impl ConnectionTrait,
    feedback_id: Uuid,
    location_id: Uuid,
) -> Result<Option<Answer>, Error> {
    response::Entity::find()
        .filter(response::Column::FeedbackId.eq(feedback_id))
        .filter(response::Column::LocationId.eq(location_id))
        .one(db)
        .await?
        .map(Answer::try_from)
        .transpose()
}

/// Rewrites a draft answer.
pub async fn update_draft(
    db: &impl ConnectionTrait,
    id: Uuid,
    author: &str,
    body: &str,
    api_key_id: Uuid,
    now: i64,
) -> Result<Answer, Error> {
    response::ActiveModel {
        id: Set(id),
        author: Set(author.to_owned()),
        body: Set(body.to_owned()),
        api_key_id: Set(api_key_id),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?
    .try_into()
}

/// Creates the draft answer of `location_id`. Two drafts of one location created at once:
/// the unique index keeps one, the other is FAILED_PRECONDITION (retry edits it).
pub async fn insert_draft(
    db: &impl ConnectionTrait,
    feedback_id: Uuid,
    location_id: Uuid,
    author: &str,
    body: &str,
    api_key_id: Uuid,
    now: i64,
) -> Result<Answer, Error> {
    let inserted = response::ActiveModel {
        id: Set(Uuid::now_v7()),
        feedback_id: Set(feedback_id),
        location_id: Set(location_id),
        author: Set(author.to_owned()),
        body: Set(body.to_owned()),
        status: Set(ResponseStatus::Draft.code().to_owned()),
        api_key_id: Set(api_key_id),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set(None),
    }
    .insert(db)
    .await;
    match inserted {
        Ok(m) => m.try_into(),
        Err(e) if is_unique_violation(&e) => Err(Error::FailedPrecondition(
            "another draft of this location was created at the same time; retry".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Publishes an answer with its (redacted) body. The experience keeps the instant of its
/// first published answer (the aggregation's answered count and delay); concurrent
/// publications by two locations both run this update, the row lock orders them and the
/// earliest instant stays.
pub async fn publish_answer(
    db: &impl ConnectionTrait,
    id: Uuid,
    body: &str,
    now: i64,
) -> Result<Answer, Error> {
    let published: Answer = response::ActiveModel {
        id: Set(id),
        status: Set(ResponseStatus::Published.code().to_owned()),
        body: Set(body.to_owned()),
        published_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?
    .try_into()?;
    db.execute_raw(sql(
        db.get_database_backend(),
        "UPDATE feedback SET first_answered_at = $1 \
         WHERE id = $2 AND (first_answered_at IS NULL OR first_answered_at > $1)",
        vec![now.into(), published.feedback_id.into()],
    ))
    .await?;
    Ok(published)
}

/// Removes the contact e-mail of an experience.
pub async fn erase_contact(db: &impl ConnectionTrait, id: Uuid, now: i64) -> Result<(), Error> {
    feedback::Entity::update(feedback::ActiveModel {
        id: Set(id),
        contact_email: Set(None),
        contact_erased_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Erases the contact e-mails of experiences submitted before `cutoff_ms`; how many.
pub async fn purge_contact_emails(
    db: &impl ConnectionTrait,
    cutoff_ms: i64,
    now: i64,
) -> Result<u64, Error> {
    let result = feedback::Entity::update_many()
        .col_expr(
            feedback::Column::ContactEmail,
            Expr::value(Option::<String>::None),
        )
        .col_expr(feedback::Column::ContactErasedAt, Expr::value(now))
        .filter(feedback::Column::ContactEmail.is_not_null())
        .filter(feedback::Column::SubmittedAt.lt(cutoff_ms))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Every event of the experience `id` if its location lies in `scope` (NOT_FOUND
/// otherwise), in no particular order ([`crate::domain::history::in_order`] orders them):
/// its submission, moderation decisions, moves and answers, each with the name of the key
/// that acted. The publisher of an answer is read from the audit log, which records the
/// publishing key (the answer row keeps its last drafter).
pub async fn history(
    db: &impl ConnectionTrait,
    scope: Option<Uuid>,
    id: Uuid,
) -> Result<Vec<HistoryEvent>, Error> {
    use std::collections::HashMap;

    let experience = scoped_row(db, scope, id).await?;
    let decisions = moderation_decisions(db, id).await?;
    let moves = reassignments(db, id).await?;
    let answers = response::Entity::find()
        .filter(response::Column::FeedbackId.eq(id))
        .all(db)
        .await?;
    let mut keys: Vec<Uuid> = vec![experience.api_key_id];
    keys.extend(decisions.iter().map(|d| d.api_key_id));
    keys.extend(moves.iter().map(|m| m.api_key_id));
    keys.extend(answers.iter().map(|a| a.api_key_id));
    keys.sort_unstable();
    keys.dedup();
    let names: HashMap<Uuid, String> = api_key::Entity::find()
        .filter(api_key::Column::Id.is_in(keys))
        .all(db)
        .await?
        .into_iter()
        .map(|k| (k.id, k.name))
        .collect();
    let name = |key: Uuid| names.get(&key).cloned().unwrap_or_else(|| key.to_string());
    let publishers: HashMap<String, String> = if answers.is_empty() {
        HashMap::new()
    } else {
        audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("response.publish"))
            .filter(audit_log::Column::TargetType.eq("response"))
            .filter(
                audit_log::Column::TargetId
                    .is_in(answers.iter().map(|a| a.id.to_string()).collect::<Vec<_>>()),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.target_id, e.actor))
            .collect()
    };

    let mut events = Vec::with_capacity(1 + decisions.len() + moves.len() + 2 * answers.len());
    let mut submitted = HistoryEvent::new(
        HistoryKind::Submitted,
        experience.submitted_at,
        name(experience.api_key_id),
    );
    // Where it was submitted: before its first move, if it moved.
    submitted.location_id = Some(
        moves
            .first()
            .map_or(experience.location_id, |m| m.from_location_id),
    );
    events.push(submitted);
    for d in decisions {
        let mut e = HistoryEvent::new(HistoryKind::Moderated, d.created_at, name(d.api_key_id));
        e.decision = Some(d.decision);
        e.reject_reason = d.reject_reason;
        e.note = d.note;
        events.push(e);
    }
    for m in moves {
        let mut e = HistoryEvent::new(HistoryKind::Reassigned, m.created_at, name(m.api_key_id));
        e.from_location_id = Some(m.from_location_id);
        e.location_id = Some(m.to_location_id);
        e.note = m.note;
        events.push(e);
    }
    for a in answers {
        let mut drafted =
            HistoryEvent::new(HistoryKind::AnswerDrafted, a.created_at, name(a.api_key_id));
        drafted.location_id = Some(a.location_id);
        drafted.response_id = Some(a.id);
        if let Some(at) = a.published_at {
            let actor = publishers
                .get(&a.id.to_string())
                .cloned()
                .unwrap_or_else(|| "system".to_owned());
            let mut published = HistoryEvent::new(HistoryKind::AnswerPublished, at, actor);
            published.location_id = Some(a.location_id);
            published.response_id = Some(a.id);
            events.push(published);
        }
        events.push(drafted);
    }
    Ok(events)
}
