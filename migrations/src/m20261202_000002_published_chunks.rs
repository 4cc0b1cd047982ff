//! Published files in pieces: the cumulated open-data files grow with every month (a million
//! published experiences is half a gigabyte of CSV), too big to write or read as one value.
//! `published_chunk` holds a file's bytes as numbered pieces of at most 1 MiB, written in
//! one transaction with its `published_file` row (whose `bytes` is then empty) and read in
//! order, so neither the jobs nor a replica serving the file holds more than a piece.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000002_published_chunks"
    }
}

#[derive(DeriveIden)]
enum PublishedChunk {
    Table,
    Name,
    Seq,
    Bytes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PublishedChunk::Table)
                    .col(ColumnDef::new(PublishedChunk::Name).string().not_null())
                    .col(ColumnDef::new(PublishedChunk::Seq).integer().not_null())
                    .col(ColumnDef::new(PublishedChunk::Bytes).blob().not_null())
                    .primary_key(
                        Index::create()
                            .col(PublishedChunk::Name)
                            .col(PublishedChunk::Seq),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PublishedChunk::Table).to_owned())
            .await
    }
}
