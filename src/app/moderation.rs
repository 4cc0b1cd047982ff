//! Use cases of an experience after capture: moderation, reassignment, internal comments,
//! answers and contact erasure. Each one is a transaction with its audit entry; the rules
//! are the domain's (`moderation`, `answer`, `location`).

use uuid::Uuid;

use super::page::{Listed, Page};
use crate::Error;
use crate::domain::answer::Draft;
use crate::domain::history::{HistoryEvent, in_order};
use crate::domain::location::check_active;
use crate::domain::moderation::{self, Moderation};
use crate::domain::redaction::redact;
use crate::domain::{Caller, answer};
use crate::store::feedback::{Answer, Comment, FeedbackView};
use crate::store::lifecycle::{self as repo, CommentCursor};
use crate::store::locations::{self, LocationKey};
use crate::store::{Store, audit, now_ms};

/// Publishes or rejects an experience of the caller's scope.
pub async fn moderate(
    store: &Store,
    caller: &Caller,
    m: &Moderation,
) -> Result<FeedbackView, Error> {
    let txn = store.write_txn().await?;
    let current = repo::experience(&txn, caller.scope, m.id).await?;
    moderation::check(current.status, m.decision).map_err(Error::FailedPrecondition)?;
    let texts = m.edit.redacted();
    repo::save_decision(
        &txn,
        m.id,
        m.decision,
        &texts,
        caller.key_id,
        &m.note,
        now_ms(),
    )
    .await?;
    audit::record(
        &txn,
        Some(caller),
        "feedback.moderate",
        "feedback",
        &m.id.to_string(),
        serde_json::json!({
            "from": current.status.code(),
            "to": m.decision.status().code(),
            "reason": m.decision.reason().map(|r| r.code()),
            "texts_edited": !m.edit.is_empty(),
        }),
    )
    .await?;
    txn.commit().await?;
    super::feedback::get(store, caller, m.id).await
}

/// Moves an experience to another (active) location of the caller's scope, keeping the
/// history.
pub async fn reassign(
    store: &Store,
    caller: &Caller,
    id: Uuid,
    to: Uuid,
    note: &str,
) -> Result<FeedbackView, Error> {
    let txn = store.write_txn().await?;
    let current = repo::experience(&txn, caller.scope, id).await?;
    let target = locations::location_in_scope(&txn, caller.scope, &LocationKey::Id(to)).await?;
    check_active(target.active, &target.code)?;
    if current.location_id == to {
        return Err(Error::FailedPrecondition(
            "the experience is already at this location".into(),
        ));
    }
    let from = current.location_id;
    repo::save_move(&txn, id, from, to, caller.key_id, note, now_ms()).await?;
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
    super::feedback::get(store, caller, id).await
}

/// An internal note on an experience of the caller's scope, signed with the key's name.
pub async fn add_comment(
    store: &Store,
    caller: &Caller,
    feedback_id: Uuid,
    body: &str,
) -> Result<Comment, Error> {
    let txn = store.write_txn().await?;
    repo::experience(&txn, caller.scope, feedback_id).await?;
    let comment = repo::insert_comment(
        &txn,
        feedback_id,
        caller.key_id,
        &caller.name,
        body,
        now_ms(),
    )
    .await?;
    txn.commit().await?;
    Ok(comment)
}

/// Internal notes of an experience of the caller's scope, oldest first.
pub async fn list_comments(
    store: &Store,
    caller: &Caller,
    feedback_id: Uuid,
    page: &Page<CommentCursor>,
) -> Result<Listed<Comment>, Error> {
    let db = store.connection();
    repo::experience(db, caller.scope, feedback_id).await?;
    let rows = repo::comments(db, feedback_id, page.fetch_limit(), page.after).await?;
    Ok(page.listed(rows, |c| (c.created_at, c.id)))
}

/// Everything that happened to an experience of the caller's scope, oldest first (NOT_FOUND
/// outside it, as for every read of an experience). Its records are read in one snapshot,
/// so that an answer published meanwhile is either whole in it (with its publisher) or
/// absent.
pub async fn history(
    store: &Store,
    caller: &Caller,
    feedback_id: Uuid,
) -> Result<Vec<HistoryEvent>, Error> {
    let snapshot = store.read_snapshot().await?;
    let events = repo::history(&snapshot, caller.scope, feedback_id).await?;
    snapshot.commit().await?;
    Ok(in_order(events))
}

/// Creates the draft answer of a location, or edits it while it is a draft.
pub async fn draft_answer(store: &Store, caller: &Caller, d: &Draft) -> Result<Answer, Error> {
    let txn = store.write_txn().await?;
    let experience = repo::experience(&txn, caller.scope, d.feedback_id).await?;
    let answering = d.location_id.unwrap_or(experience.location_id);
    if !locations::in_scope(&txn, caller.scope, answering).await? {
        return Err(Error::not_found("location"));
    }
    if !repo::is_ancestor_or_self(&txn, answering, experience.location_id).await? {
        return Err(Error::invalid(
            "location_id",
            "must be the experience's location or one of its ancestors",
        ));
    }
    let now = now_ms();
    let answer = match repo::answer_of(&txn, d.feedback_id, answering).await? {
        Some(current) => {
            answer::check_draft(current.status)?;
            repo::update_draft(&txn, current.id, &d.author, &d.body, caller.key_id, now).await?
        }
        None => {
            repo::insert_draft(
                &txn,
                d.feedback_id,
                answering,
                &d.author,
                &d.body,
                caller.key_id,
                now,
            )
            .await?
        }
    };
    txn.commit().await?;
    Ok(answer)
}

/// Publishes a draft answer of the caller's scope. Its experience must be published; the
/// published body is redacted like every public text.
pub async fn publish_answer(store: &Store, caller: &Caller, id: Uuid) -> Result<Answer, Error> {
    let not_found = || Error::not_found("response");
    let txn = store.write_txn().await?;
    let draft = repo::answer(&txn, id).await?.ok_or_else(not_found)?;
    if !locations::in_scope(&txn, caller.scope, draft.location_id).await? {
        return Err(not_found());
    }
    let experience = repo::experience(&txn, caller.scope, draft.feedback_id)
        .await
        .map_err(|_| not_found())?;
    answer::check_publish(draft.status, experience.status)?;
    let published = repo::publish_answer(&txn, id, &redact(&draft.body).text, now_ms()).await?;
    audit::record(
        &txn,
        Some(caller),
        "response.publish",
        "response",
        &id.to_string(),
        serde_json::json!({ "feedback": published.feedback_id, "location": published.location_id }),
    )
    .await?;
    txn.commit().await?;
    Ok(published)
}

/// Removes the contact e-mail of an experience of the caller's scope (idempotent, audited
/// every time).
pub async fn erase_contact(
    store: &Store,
    caller: &Caller,
    feedback_id: Uuid,
) -> Result<FeedbackView, Error> {
    let txn = store.write_txn().await?;
    let experience = repo::experience(&txn, caller.scope, feedback_id).await?;
    let had_contact = experience.contact_email.is_some();
    if had_contact {
        repo::erase_contact(&txn, feedback_id, now_ms()).await?;
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
    super::feedback::get(store, caller, feedback_id).await
}

/// Retention, for the jobs: erases the contact e-mails of experiences submitted before
/// `cutoff_ms`. Returns how many were erased.
pub async fn purge_contact_emails(store: &Store, cutoff_ms: i64) -> Result<u64, Error> {
    let txn = store.write_txn().await?;
    let erased = repo::purge_contact_emails(&txn, cutoff_ms, now_ms()).await?;
    audit::record(
        &txn,
        None,
        "feedback.purge_contacts",
        "feedback",
        "*",
        serde_json::json!({ "cutoff_ms": cutoff_ms, "erased": erased }),
    )
    .await?;
    txn.commit().await?;
    Ok(erased)
}
