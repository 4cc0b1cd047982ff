//! The life of an experience after capture: moderation, reassignment, internal comments,
//! answers and their publication, contact erasure and retention. Every change is written in
//! one transaction with its audit entry.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{
    comment, feedback, feedback_reassignment, location, location_closure, moderation_decision,
    response,
};
use super::feedback::{Answer, Comment, FeedbackView};
use super::locations::subtree_ids;
use super::{Order, Store, audit, is_unique_violation, keyset, now_ms, sql, stored_code};
use crate::Error;
use crate::domain::answer;
use crate::domain::codes::ResponseStatus;
use crate::domain::moderation::{self, Decision};
use crate::domain::redaction::redact;
use crate::domain::{Caller, ModerationStatus};

/// Replacement redacted texts chosen by a moderator (`None` keeps the current one).
#[derive(Clone, Debug, Default)]
pub struct RedactionEdit {
    pub title: Option<String>,
    pub story: Option<String>,
    pub proposal: Option<String>,
}

/// The keyset position of a comment: oldest first.
pub type CommentCursor = (i64, Uuid);

/// The experience `id` if its location lies in `scope`, locked for the transaction's writes.
async fn feedback_in_scope(
    txn: &DatabaseTransaction,
    scope: Option<Uuid>,
    id: Uuid,
) -> Result<feedback::Model, Error> {
    let mut query = feedback::Entity::find_by_id(id);
    if let Some(root) = scope {
        query = query.filter(feedback::Column::LocationId.in_subquery(subtree_ids(root)));
    }
    query
        .one(txn)
        .await?
        .ok_or_else(|| Error::not_found("feedback"))
}

async fn is_ancestor_or_self(
    db: &impl ConnectionTrait,
    ancestor: Uuid,
    descendant: Uuid,
) -> Result<bool, Error> {
    Ok(location_closure::Entity::find_by_id((ancestor, descendant))
        .one(db)
        .await?
        .is_some())
}

impl Store {
    /// Publishes or rejects an experience. Replacement texts are redacted again (a moderator
    /// may add masks, never remove them).
    pub async fn moderate_feedback(
        &self,
        caller: &Caller,
        id: Uuid,
        decision: Decision,
        edit: &RedactionEdit,
        note: &str,
    ) -> Result<FeedbackView, Error> {
        let txn = self.write_txn().await?;
        let current = feedback_in_scope(&txn, caller.scope, id).await?;
        let status = stored_code(
            ModerationStatus::from_code,
            format_args!("feedback {id}"),
            "status",
            &current.status,
        )?;
        moderation::check(status, decision).map_err(Error::FailedPrecondition)?;
        let now = now_ms();
        let mut row: feedback::ActiveModel = current.into();
        row.status = Set(decision.status().code().to_owned());
        row.reject_reason = Set(decision.reason().map(|r| r.code().to_owned()));
        if let Some(t) = &edit.title {
            row.redacted_title = Set(redact(t).text);
        }
        if let Some(t) = &edit.story {
            row.redacted_story = Set(redact(t).text);
        }
        if let Some(t) = &edit.proposal {
            row.redacted_proposal = Set(redact(t).text);
        }
        row.updated_at = Set(now);
        row.update(&txn).await?;
        moderation_decision::ActiveModel {
            id: Set(Uuid::now_v7()),
            feedback_id: Set(id),
            decision: Set(decision.status().code().to_owned()),
            reject_reason: Set(decision.reason().map(|r| r.code().to_owned())),
            api_key_id: Set(caller.key_id),
            note: Set(note.to_owned()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            Some(caller),
            "feedback.moderate",
            "feedback",
            &id.to_string(),
            serde_json::json!({
                "from": status.code(),
                "to": decision.status().code(),
                "reason": decision.reason().map(|r| r.code()),
                "texts_edited": edit.title.is_some() || edit.story.is_some() || edit.proposal.is_some(),
            }),
        )
        .await?;
        txn.commit().await?;
        self.get_feedback(caller.scope, id).await
    }

    /// Moves an experience to another location of the caller's scope, keeping the history.
    pub async fn reassign_feedback(
        &self,
        caller: &Caller,
        id: Uuid,
        to: Uuid,
        note: &str,
    ) -> Result<FeedbackView, Error> {
        let txn = self.write_txn().await?;
        let current = feedback_in_scope(&txn, caller.scope, id).await?;
        let target = location::Entity::find_by_id(to).one(&txn).await?;
        let target = match target {
            Some(t) if self.in_scope(caller.scope, t.id).await? => t,
            _ => return Err(Error::not_found("location")),
        };
        crate::domain::location::check_active(target.active, &target.code)?;
        if current.location_id == to {
            return Err(Error::FailedPrecondition(
                "the experience is already at this location".into(),
            ));
        }
        let from = current.location_id;
        let now = now_ms();
        let mut row: feedback::ActiveModel = current.into();
        row.location_id = Set(to);
        row.updated_at = Set(now);
        row.update(&txn).await?;
        feedback_reassignment::ActiveModel {
            id: Set(Uuid::now_v7()),
            feedback_id: Set(id),
            from_location_id: Set(from),
            to_location_id: Set(to),
            api_key_id: Set(caller.key_id),
            note: Set(note.to_owned()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            Some(caller),
            "feedback.reassign",
            "feedback",
            &id.to_string(),
            serde_json::json!({ "from": from, "to": to }),
        )
        .await?;
        txn.commit().await?;
        self.get_feedback(caller.scope, id).await
    }

    /// The moves of an experience, oldest first.
    pub async fn reassignments(
        &self,
        id: Uuid,
    ) -> Result<Vec<feedback_reassignment::Model>, Error> {
        Ok(feedback_reassignment::Entity::find()
            .filter(feedback_reassignment::Column::FeedbackId.eq(id))
            .order_by_asc(feedback_reassignment::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    /// The moderation decisions of an experience, oldest first.
    pub async fn moderation_decisions(
        &self,
        id: Uuid,
    ) -> Result<Vec<moderation_decision::Model>, Error> {
        Ok(moderation_decision::Entity::find()
            .filter(moderation_decision::Column::FeedbackId.eq(id))
            .order_by_asc(moderation_decision::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    pub async fn add_comment(
        &self,
        caller: &Caller,
        feedback_id: Uuid,
        body: &str,
    ) -> Result<Comment, Error> {
        let txn = self.write_txn().await?;
        feedback_in_scope(&txn, caller.scope, feedback_id).await?;
        let model = comment::ActiveModel {
            id: Set(Uuid::now_v7()),
            feedback_id: Set(feedback_id),
            api_key_id: Set(caller.key_id),
            author: Set(caller.name.clone()),
            body: Set(body.to_owned()),
            created_at: Set(now_ms()),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(model.into())
    }

    /// Internal notes of an experience of the caller's scope, oldest first.
    pub async fn list_comments(
        &self,
        caller: &Caller,
        feedback_id: Uuid,
        limit: u64,
        after: Option<CommentCursor>,
    ) -> Result<Vec<Comment>, Error> {
        self.get_feedback(caller.scope, feedback_id).await?;
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
            .all(&self.db)
            .await?
            .into_iter()
            .map(Comment::from)
            .collect())
    }

    /// Creates the draft answer of `location` (default: the experience's own) or edits it
    /// while it is a draft. The answering location must be the experience's location or one
    /// of its ancestors, inside the caller's scope.
    pub async fn draft_response(
        &self,
        caller: &Caller,
        feedback_id: Uuid,
        location: Option<Uuid>,
        author: &str,
        body: &str,
    ) -> Result<Answer, Error> {
        let txn = self.write_txn().await?;
        let f = feedback_in_scope(&txn, caller.scope, feedback_id).await?;
        let answering = location.unwrap_or(f.location_id);
        if !self.in_scope(caller.scope, answering).await? {
            return Err(Error::not_found("location"));
        }
        if !is_ancestor_or_self(&txn, answering, f.location_id).await? {
            return Err(Error::invalid(
                "location_id",
                "must be the experience's location or one of its ancestors",
            ));
        }
        let now = now_ms();
        let existing = response::Entity::find()
            .filter(response::Column::FeedbackId.eq(feedback_id))
            .filter(response::Column::LocationId.eq(answering))
            .one(&txn)
            .await?;
        let model = match existing {
            Some(r) => {
                answer::check_draft(response_status(&r)?)?;
                let mut row: response::ActiveModel = r.into();
                row.author = Set(author.to_owned());
                row.body = Set(body.to_owned());
                row.api_key_id = Set(caller.key_id);
                row.updated_at = Set(now);
                row.update(&txn).await?
            }
            None => {
                let inserted = response::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    feedback_id: Set(feedback_id),
                    location_id: Set(answering),
                    author: Set(author.to_owned()),
                    body: Set(body.to_owned()),
                    status: Set(ResponseStatus::Draft.code().to_owned()),
                    api_key_id: Set(caller.key_id),
                    created_at: Set(now),
                    updated_at: Set(now),
                    published_at: Set(None),
                }
                .insert(&txn)
                .await;
                match inserted {
                    Ok(m) => m,
                    Err(e) if is_unique_violation(&e) => {
                        return Err(Error::FailedPrecondition(
                            "another draft of this location was created at the same time; retry"
                                .into(),
                        ));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        txn.commit().await?;
        Answer::try_from(model)
    }

    /// Publishes a draft answer. Its experience must be published; the published body is
    /// redacted like every public text.
    pub async fn publish_response(
        &self,
        caller: &Caller,
        response_id: Uuid,
    ) -> Result<Answer, Error> {
        let txn = self.write_txn().await?;
        let r = response::Entity::find_by_id(response_id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::not_found("response"))?;
        if !self.in_scope(caller.scope, r.location_id).await? {
            return Err(Error::not_found("response"));
        }
        let f = feedback_in_scope(&txn, caller.scope, r.feedback_id)
            .await
            .map_err(|_| Error::not_found("response"))?;
        let experience = stored_code(
            ModerationStatus::from_code,
            format_args!("feedback {}", f.id),
            "status",
            &f.status,
        )?;
        answer::check_publish(response_status(&r)?, experience)?;
        let now = now_ms();
        let redacted = redact(&r.body).text;
        let mut row: response::ActiveModel = r.into();
        row.status = Set(ResponseStatus::Published.code().to_owned());
        row.body = Set(redacted);
        row.published_at = Set(Some(now));
        row.updated_at = Set(now);
        let published = row.update(&txn).await?;
        // The experience keeps the instant of its first published answer (the aggregation's
        // answered count and delay). Concurrent publications by two locations both run this
        // update; the row lock orders them and the earliest instant stays.
        txn.execute_raw(sql(
            self.backend(),
            "UPDATE feedback SET first_answered_at = $1 \
             WHERE id = $2 AND (first_answered_at IS NULL OR first_answered_at > $1)",
            vec![now.into(), published.feedback_id.into()],
        ))
        .await?;
        audit::record(
            &txn,
            Some(caller),
            "response.publish",
            "response",
            &response_id.to_string(),
            serde_json::json!({ "feedback": published.feedback_id, "location": published.location_id }),
        )
        .await?;
        txn.commit().await?;
        Answer::try_from(published)
    }

    /// Removes the contact e-mail of an experience (idempotent).
    pub async fn erase_contact(
        &self,
        caller: &Caller,
        feedback_id: Uuid,
    ) -> Result<FeedbackView, Error> {
        let txn = self.write_txn().await?;
        let f = feedback_in_scope(&txn, caller.scope, feedback_id).await?;
        let had_contact = f.contact_email.is_some();
        if had_contact {
            let now = now_ms();
            let mut row: feedback::ActiveModel = f.into();
            row.contact_email = Set(None);
            row.contact_erased_at = Set(Some(now));
            row.updated_at = Set(now);
            row.update(&txn).await?;
        }
        audit::record(
            &txn,
            Some(caller),
            "feedback.erase_contact",
            "feedback",
            &feedback_id.to_string(),
            serde_json::json!({ "had_contact": had_contact }),
        )
        .await?;
        txn.commit().await?;
        self.get_feedback(caller.scope, feedback_id).await
    }

    /// Retention: erases the contact e-mails of experiences submitted before `cutoff_ms`.
    /// Returns how many were erased. Meant for the jobs binary.
    pub async fn purge_contact_emails(&self, cutoff_ms: i64) -> Result<u64, Error> {
        let txn = self.write_txn().await?;
        let now = now_ms();
        let result = feedback::Entity::update_many()
            .col_expr(
                feedback::Column::ContactEmail,
                Expr::value(Option::<String>::None),
            )
            .col_expr(feedback::Column::ContactErasedAt, Expr::value(now))
            .filter(feedback::Column::ContactEmail.is_not_null())
            .filter(feedback::Column::SubmittedAt.lt(cutoff_ms))
            .exec(&txn)
            .await?;
        audit::record(
            &txn,
            None,
            "feedback.purge_contacts",
            "feedback",
            "*",
            serde_json::json!({ "cutoff_ms": cutoff_ms, "erased": result.rows_affected }),
        )
        .await?;
        txn.commit().await?;
        Ok(result.rows_affected)
    }
}

fn response_status(r: &response::Model) -> Result<ResponseStatus, Error> {
    stored_code(
        ResponseStatus::from_code,
        format_args!("response {}", r.id),
        "status",
        &r.status,
    )
}
