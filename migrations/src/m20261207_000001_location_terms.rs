//! The terms a public search finds a location by, one row per (term, location): a search by
//! words reads, for each word, the range of terms it begins (`term >= word AND term <
//! word + U+10FFFF`) instead of scanning every location's key. `boucle::domain::search`
//! says what the terms are; the store writes them with every location and fills them for
//! locations written before this migration right after migrating. The second index answers
//! « does this location have a term beginning with … » for the words after the first. The
//! covering index of the scan it replaces goes.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000001_location_terms"
    }
}

#[derive(DeriveIden)]
enum LocationTerm {
    Table,
    Term,
    LocationId,
}

#[derive(DeriveIden)]
enum Location {
    Table,
    Id,
    SearchKey,
    NameKey,
    Code,
    Active,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Ranges compare bytes: SQLite's default (BINARY) does; PostgreSQL's database
        // collation may not, and an index serves a range only in the column's collation.
        let mut term = ColumnDef::new(LocationTerm::Term);
        term.text().not_null();
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
            term.extra("COLLATE \"C\"");
        }
        manager
            .create_table(
                Table::create()
                    .table(LocationTerm::Table)
                    .col(term)
                    .col(ColumnDef::new(LocationTerm::LocationId).uuid().not_null())
                    .primary_key(
                        Index::create()
                            .col(LocationTerm::Term)
                            .col(LocationTerm::LocationId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LocationTerm::Table, LocationTerm::LocationId)
                            .to(Location::Table, Location::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_location_term_location")
                    .table(LocationTerm::Table)
                    .col(LocationTerm::LocationId)
                    .col(LocationTerm::Term)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_location_search")
                    .table(Location::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
            .await?;
        manager
            .drop_table(Table::drop().table(LocationTerm::Table).to_owned())
            .await
    }
}
