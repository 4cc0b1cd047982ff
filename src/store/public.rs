//! What the public may read: published experiences and published answers only. Every query
//! here filters on PUBLISHED itself; callers cannot forget it.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{feedback, response, response_vote};
use super::feedback::{FeedbackCursor, FeedbackView, feedback_views};
use super::locations::subtree_ids;
use super::{Order, Store, keyset, now_ms};
use crate::Error;
use crate::domain::ModerationStatus;
use crate::domain::codes::ResponseStatus;
use crate::domain::vote::VotePolicy;

impl Store {
    /// Published experiences of the subtree of `root`, newest first; their answers are
    /// reduced to the published ones.
    pub async fn list_published_feedback(
        &self,
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
        if let Some((at, id)) = after {
            cond = cond.add(keyset(
                Order::Descending,
                feedback::Column::SubmittedAt,
                feedback::Column::Id,
                at,
                id,
            ));
        }
        let models = feedback::Entity::find()
            .filter(cond)
            .order_by_desc(feedback::Column::SubmittedAt)
            .order_by_desc(feedback::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        let mut views = feedback_views(&self.db, models).await?;
        for view in &mut views {
            view.responses
                .retain(|r| r.status == ResponseStatus::Published);
        }
        Ok(views)
    }

    /// Records (or replaces) a vote on a published answer of a published experience, from an
    /// address (`address_hash`, see `domain::vote`) that may cast at most `policy` new votes
    /// on that answer in its window. Returns the answer's (useful, not useful) counts.
    pub async fn vote_response(
        &self,
        response_id: Uuid,
        voter_hash: &str,
        useful: bool,
        address_hash: &str,
        policy: VotePolicy,
    ) -> Result<(u64, u64), Error> {
        let published = response::Entity::find_by_id(response_id)
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
            .one(&self.db)
            .await?;
        if published.is_none() {
            return Err(Error::not_found("response"));
        }
        let now = now_ms();
        let txn = self.write_txn().await?;
        let own = response_vote::Entity::find_by_id((response_id, voter_hash.to_owned()))
            .one(&txn)
            .await?;
        // Replacing one's own vote is always allowed; a new one counts against the address.
        if own.is_none() {
            let already = response_vote::Entity::find()
                .filter(response_vote::Column::ResponseId.eq(response_id))
                .filter(response_vote::Column::AddressHash.eq(address_hash))
                .filter(response_vote::Column::CreatedAt.gte(now - policy.window_ms))
                .count(&txn)
                .await?;
            policy.allows(already)?;
        }
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
        .exec(&txn)
        .await?;
        txn.commit().await?;
        let count = |useful: bool| {
            response_vote::Entity::find()
                .filter(response_vote::Column::ResponseId.eq(response_id))
                .filter(response_vote::Column::Useful.eq(useful))
                .count(&self.db)
        };
        Ok((count(true).await?, count(false).await?))
    }
}
