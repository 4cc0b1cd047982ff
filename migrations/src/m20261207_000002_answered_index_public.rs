//! The answered experiences' index, for the publics of the public figures only
//! (`ix_feedback_answered_public`, replacing `ix_feedback_answered`).
//!
//! The monthly medians read, from `ix_feedback_answered` alone, the answered experiences of
//! the publics the public figures describe: every audience but the agents, whose experiences
//! form an internal barometer (`boucle::domain::codes::Audience::is_public`). The statement
//! now says `audience <> 'AGENT'`; a column the index does not hold would cost a table
//! lookup per answered experience, so the condition is also the index's own (it holds no
//! agent's experience) and the column is in it (SQLite checks the condition on every row it
//! reads, and with the column in the index, reads it there): the index stays covering.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000002_answered_index_public"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX ix_feedback_answered_public \
             ON feedback (status, submitted_at, location_id, first_answered_at, audience) \
             WHERE first_answered_at IS NOT NULL AND audience <> 'AGENT'",
        )
        .await?;
        db.execute_unprepared("DROP INDEX ix_feedback_answered")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX ix_feedback_answered \
             ON feedback (status, submitted_at, location_id, first_answered_at) \
             WHERE first_answered_at IS NOT NULL",
        )
        .await?;
        db.execute_unprepared("DROP INDEX ix_feedback_answered_public")
            .await?;
        Ok(())
    }
}
