//! Figures per audience, and the agents' own publication threshold.
//!
//! `location_figures` keeps the headline: the figures of the publics served, every audience
//! but the agents. `audience_figures` holds the same month's breakdown, one row per
//! location, scope and audience that counted experiences (the agents' only above their
//! threshold), in the JSON form of `location_figures.figures`. A separate table rather than
//! an audience column in the headline's key: every public read of the headline stays what
//! it was, and the agents' rows live where only the internal reads look.
//!
//! `location.min_sample_agents` is the agents' threshold, inherited like `min_sample`
//! (unset: the parent's, 15 at the root; never looser than `min_sample`).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000003_audience_figures"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AudienceFigures::Table)
                    .col(
                        ColumnDef::new(AudienceFigures::LocationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AudienceFigures::Period)
                            .string_len(7)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AudienceFigures::Scope)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AudienceFigures::Audience)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AudienceFigures::Figures).text().not_null())
                    .col(ColumnDef::new(AudienceFigures::JobRunId).uuid().not_null())
                    .col(
                        ColumnDef::new(AudienceFigures::ComputedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(AudienceFigures::LocationId)
                            .col(AudienceFigures::Period)
                            .col(AudienceFigures::Scope)
                            .col(AudienceFigures::Audience),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AudienceFigures::Table, AudienceFigures::LocationId)
                            .to(Location::Table, Location::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audience_figures_period")
                    .table(AudienceFigures::Table)
                    .col(AudienceFigures::Period)
                    .col(AudienceFigures::Audience)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Location::Table)
                    .add_column(ColumnDef::new(Location::MinSampleAgents).integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Location::Table)
                    .drop_column(Location::MinSampleAgents)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(AudienceFigures::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AudienceFigures {
    Table,
    LocationId,
    Period,
    Scope,
    Audience,
    Figures,
    JobRunId,
    ComputedAt,
}

#[derive(DeriveIden)]
enum Location {
    Table,
    Id,
    MinSampleAgents,
}
