use sea_orm::entity::prelude::*;

/// The monthly figures of one audience of a location for one scope (see
/// [`super::location_figures`] for the headline, and the migration
/// `m20261207_000003_audience_figures`). `audience` is an audience code; `figures` has the
/// JSON form of `location_figures.figures`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audience_figures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub location_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub audience: String,
    pub figures: String,
    pub job_run_id: Uuid,
    pub computed_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
