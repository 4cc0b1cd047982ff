use sea_orm::entity::prelude::*;

/// One monthly figure of a location: `scope` SELF (its own experiences) or SUBTREE (its whole
/// subtree, computed from raw rows).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "aggregate")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub location_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub indicator_code: String,
    /// The definition version that produced the figure.
    pub indicator_version: i32,
    /// NULL when suppressed or not computable.
    pub value: Option<f64>,
    pub sample_size: i64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub suppressed: bool,
    pub job_run_id: Uuid,
    pub computed_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
