use sea_orm::entity::prelude::*;

/// The current definition of an indicator of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "indicator")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    /// COMPUTED (from experiences) or REPORTED (measured by the administration).
    pub kind: String,
    pub title: String,
    pub unit: String,
    pub direction: String,
    pub frequency: String,
    pub methodology: String,
    pub version: i32,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
