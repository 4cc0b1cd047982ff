//! An index that holds everything a text search reads and ranks: the folded terms, the name
//! key, the code, whether the location is active, and its id. A search by words must look at
//! every location (a word may begin anywhere in the key); through this index it reads the
//! keys alone rather than whole rows, then fetches the page's rows by id (BENCHMARKS.md,
//! public search).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000003_location_search_index"
    }
}

#[derive(DeriveIden)]
enum Location {
    Table,
    SearchKey,
    NameKey,
    Code,
    Active,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_location_search")
                    .table(Location::Table)
                    .col(Location::SearchKey)
                    .col(Location::NameKey)
                    .col(Location::Code)
                    .col(Location::Active)
                    .col(Location::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_location_search")
                    .table(Location::Table)
                    .to_owned(),
            )
            .await
    }
}
