//! The locations' position index, both coordinates (`ix_location_position`, replacing
//! `ix_location_latitude`).
//!
//! A search around a point reads the locations of a box. Indexed by latitude alone, SQLite
//! read the box's whole band of latitude from the index and looked each location up in the
//! table to compare its longitude: about 440 lookups for a 10 km radius at 20,000 locations,
//! to keep a handful, and most of a search's time. With the longitude in the index it is
//! compared there, and only the box's locations are looked up.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000004_location_position"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX ix_location_position ON location (latitude, longitude)",
        )
        .await?;
        db.execute_unprepared("DROP INDEX ix_location_latitude")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("CREATE INDEX ix_location_latitude ON location (latitude)")
            .await?;
        db.execute_unprepared("DROP INDEX ix_location_position")
            .await?;
        Ok(())
    }
}
