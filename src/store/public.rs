//! What the public may read: published experiences and published answers only. Every query
//! here filters on PUBLISHED itself; callers cannot forget it.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::entities::{feedback, response, response_vote};
use super::feedback::{FeedbackCursor, FeedbackView, newest_first};
use super::locations::subtree_ids;
use crate::Error;
use crate::domain::ModerationStatus;
use crate::domain::codes::ResponseStatus;

/// Published experiences of the subtree of `root`, newest first; their answers are reduced
/// to the published ones.
pub async fn published_feedback(
    db: &impl ConnectionTrait,
    root: Uuid,
    submitted: Option<(i64, i64)>,
    limit: u64,
    after: Option<FeedbackCursor>,
) -> Result<Vec<FeedbackView>, Error> {
    let mut cond = Condition::all()
        .add(feedback::Column::Status.eq(ModerationStatus::Published.code()))
        .add(feedback::Column::LocationId.in_subquery(subtree_ids(root)));
    if let Some((start, end)) = submitted {
        cond = cond
            .add(feedback::Column::SubmittedAt.gte(start))
            .add(feedback::Column::SubmittedAt.lt(end));
    }
    let mut views = newest_first(db, cond, limit, after).await?;
    for view in &mut views {
        view.responses
            .retain(|r| r.status == ResponseStatus::Published);
    }
    Ok(views)
}

/// Whether `response_id` is a published answer of a published experience.
pub async fn is_published_answer(
    db: &impl ConnectionTrait,
    response_id: Uuid,
) -> Result<bool, Error> {
    Ok(response::Entity::find_by_id(response_id)
        .filter(response::Column::Status.eq(ResponseStatus::Published.code()))
        .filter(
            response::Column::FeedbackId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(feedback::Column::Id)
                    .from(feedback::Entity)
                    .and_where(feedback::Column::Status.eq(ModerationStatus::Published.code()))
                    .to_owned(),
            ),
        )
        .one(db)
        .await?
        .is_some())
}

/// Whether this voter already voted on the answer.
pub async fn has_voted(
    db: &impl ConnectionTrait,
    response_id: Uuid,
    voter_hash: &str,
) -> Result<bool, Error> {
    Ok(
        response_vote::Entity::find_by_id((response_id, voter_hash.to_owned()))
            .one(db)
            .await?
            .is_some(),
    )
}

/// New votes cast on the answer from an address since `since_ms`.
pub async fn votes_from(
    db: &impl ConnectionTrait,
    response_id: Uuid,
    address_hash: &str,
    since_ms: i64,
) -> Result<u64, Error> {
    Ok(response_vote::Entity::find()
        .filter(response_vote::Column::ResponseId.eq(response_id))
        .filter(response_vote::Column::AddressHash.eq(address_hash))
        .filter(response_vote::Column::CreatedAt.gte(since_ms))
        .count(db)
        .await?)
}

/// Records a vote, or replaces the voter's earlier one.
pub async fn save_vote(
    db: &impl ConnectionTrait,
    response_id: Uuid,
    voter_hash: &str,
    useful: bool,
    address_hash: &str,
    now: i64,
) -> Result<(), Error> {
    response_vote::Entity::insert(response_vote::ActiveModel {
        response_id: Set(response_id),
        voter_hash: Set(voter_hash.to_owned()),
        useful: Set(useful),
        created_at: Set(now),
        address_hash: Set(Some(address_hash.to_owned())),
    })
    .on_conflict(
        OnConflict::columns([
            response_vote::Column::ResponseId,
            response_vote::Column::VoterHash,
        ])
        .update_columns([response_vote::Column::Useful])
        .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// The answer's (useful, not useful) vote counts.
pub async fn vote_counts(
    db: &impl ConnectionTrait,
    response_id: Uuid,
) -> Result<(u64, u64), Error> {
    let count = |useful: bool| {
        response_vote::Entity::find()
            .filter(response_vote::Column::ResponseId.eq(response_id))
            .filter(response_vote::Column::Useful.eq(useful))
            .count(db)
    };
    Ok((count(true).await?, count(false).await?))
}
