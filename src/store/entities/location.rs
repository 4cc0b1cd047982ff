use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "location")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub typology: String,
    pub parent_id: Option<Uuid>,
    pub postal_code: String,
    pub city: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// NULL when inherited from the parent.
    pub response_target_days: Option<i32>,
    /// NULL when inherited from the parent.
    pub min_sample: Option<i32>,
    /// The agents' threshold; NULL when inherited from the parent.
    pub min_sample_agents: Option<i32>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// What search compares (`domain::search`); NULL only between a migration and the
    /// backfill that follows it.
    pub search_key: Option<String>,
    pub name_key: Option<String>,
    pub departement: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
