use sea_orm::entity::prelude::*;

/// The monthly figures of a location for one scope: SELF (its own experiences) or SUBTREE
/// (its whole subtree, computed from raw rows). `figures` is a JSON array of every indicator,
/// ordered by code (see `store::aggregates::Figure` and the migration that made the table).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "location_figures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub location_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    pub figures: String,
    pub job_run_id: Uuid,
    pub computed_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
