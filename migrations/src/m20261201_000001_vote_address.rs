//! The address each vote on an answer came from, hashed, so that one address can cast only a
//! few votes on one answer per day whatever voter tokens it invents (`VoteResponseUseful`
//! counted 5,000 votes from one client in 12 s). The column holds the hex SHA-256 of the
//! answer's id and the address, never the address: it can only tell whether two votes on
//! the same answer came from one address. Votes cast before this migration have none.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000001_vote_address"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ResponseVote::Table)
                    .add_column(
                        ColumnDef::new(ResponseVote::AddressHash)
                            .string_len(64)
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_response_vote_address")
                    .table(ResponseVote::Table)
                    .col(ResponseVote::ResponseId)
                    .col(ResponseVote::AddressHash)
                    .col(ResponseVote::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_response_vote_address")
                    .table(ResponseVote::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ResponseVote::Table)
                    .drop_column(ResponseVote::AddressHash)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ResponseVote {
    Table,
    ResponseId,
    AddressHash,
    CreatedAt,
}
