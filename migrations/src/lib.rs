//! The schema of boucle. This crate is the only source of the schema: the server, the jobs
//! and the tests all build their database by running these migrations, on SQLite and on
//! PostgreSQL alike.
//!
//! Migrations are written with `DeriveIden` enums, never with entity types, so that an old
//! migration never changes when the code moves on. Add a new dated file; never edit a shipped
//! one.
//!
//! Storage conventions (shared by both databases):
//! - ids are UUIDv7 (`uuid` column: native on PostgreSQL, 16-byte blob on SQLite);
//! - instants are UTC epoch milliseconds in `BIGINT` columns (`*_at`), which compare and index
//!   the same way on both databases (sea-orm stores `DateTimeUtc` as text on SQLite);
//! - dates are `YYYY-MM-DD` text, periods `YYYY-MM` text: both sort correctly as text;
//! - enumerations are upper-case text codes (`IN_PERSON`, `PENDING`, …), readable in SQL.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_initial;
mod m20261122_000002_reference_data;
mod m20261123_000001_delivery_state;
mod m20261123_000002_first_answer_index;
mod m20261129_000001_first_answered_at;
mod m20261129_000002_location_figures;
mod m20261130_000001_answered_index;
mod m20261201_000001_vote_address;
mod m20261201_000002_published_content;
mod m20261202_000001_location_search;
mod m20261202_000002_published_chunks;
mod m20261202_000003_location_search_index;
mod m20261207_000001_location_terms;
mod m20261207_000002_answered_index_public;
mod m20261207_000003_audience_figures;
mod m20261207_000004_location_position;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261122_000002_reference_data::Migration),
            Box::new(m20261123_000001_delivery_state::Migration),
            Box::new(m20261123_000002_first_answer_index::Migration),
            Box::new(m20261129_000001_first_answered_at::Migration),
            Box::new(m20261129_000002_location_figures::Migration),
            Box::new(m20261130_000001_answered_index::Migration),
            Box::new(m20261201_000001_vote_address::Migration),
            Box::new(m20261201_000002_published_content::Migration),
            Box::new(m20261202_000001_location_search::Migration),
            Box::new(m20261202_000002_published_chunks::Migration),
            Box::new(m20261202_000003_location_search_index::Migration),
            Box::new(m20261207_000001_location_terms::Migration),
            Box::new(m20261207_000002_answered_index_public::Migration),
            Box::new(m20261207_000003_audience_figures::Migration),
            Box::new(m20261207_000004_location_position::Migration),
        ]
    }
}
