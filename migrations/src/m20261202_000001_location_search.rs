//! What a public search compares, stored beside each location: the folded terms of its
//! name, typology, city and code (`search_key`), of its name alone (`name_key`, to rank),
//! and its département (from the postal code). `boucle::domain::search` defines them; the
//! store writes them with every location and fills the rows of earlier versions right after
//! migrating (a migration does not know the rules). Indexed for the filters a portal uses:
//! département, postal code, and latitude for the box around a point.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000001_location_search"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds a single column per ALTER TABLE.
        for column in [
            ColumnDef::new(Location::SearchKey).text().null().to_owned(),
            ColumnDef::new(Location::NameKey).text().null().to_owned(),
            ColumnDef::new(Location::Departement)
                .string_len(3)
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Location::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for (name, column) in [
            ("ix_location_departement", Location::Departement),
            ("ix_location_postal_code", Location::PostalCode),
            ("ix_location_latitude", Location::Latitude),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Location::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "ix_location_departement",
            "ix_location_postal_code",
            "ix_location_latitude",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Location::Table).to_owned())
                .await?;
        }
        for column in [
            Location::SearchKey,
            Location::NameKey,
            Location::Departement,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Location::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Location {
    Table,
    SearchKey,
    NameKey,
    Departement,
    PostalCode,
    Latitude,
}
