use sea_orm::entity::prelude::*;

/// A measurement of a reported indicator for a location and period.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "measurement")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub indicator_code: String,
    pub indicator_version: i32,
    pub location_id: Uuid,
    pub period: String,
    pub value: f64,
    pub sample_size: Option<i64>,
    pub target: Option<f64>,
    pub api_key_id: Uuid,
    pub recorded_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
