//! The answered experiences of a month, read from an index alone.
//!
//! The monthly aggregation reads, for every answered experience of the month, its location
//! and the delay to its first answer (`first_answered_at - submitted_at`), in delay order, to
//! compute exact medians. Without this index that is a second walk over the whole month with
//! one table lookup per experience: at 10M experiences on SQLite, whose table no longer fits
//! in memory, it doubled the time of the step (BENCHMARKS.md, aggregation, 9th session).
//!
//! The index is partial: only experiences that have an answer are in it, so a new
//! experience (unanswered) costs nothing to index at submission, and it holds every column
//! the statement reads. It leads with `status` although the statement wants only published
//! experiences: SQLite without statistics (`ANALYZE` is never run on a deployment) estimates
//! an equality on `ix_feedback_status_submitted` as far more selective than a range alone,
//! and would prefer that index, with a table lookup per row; with the same equality and
//! range on both, the covering index wins. The same syntax works on both databases, and both
//! planners use a partial index when the statement repeats its condition.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000001_answered_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_feedback_answered \
                 ON feedback (status, submitted_at, location_id, first_answered_at) \
                 WHERE first_answered_at IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ix_feedback_answered")
            .await?;
        Ok(())
    }
}
