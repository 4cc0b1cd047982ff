use sea_orm::entity::prelude::*;

/// An improvement action (« vous nous l'avez demandé, on l'a fait »).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "action")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub location_id: Uuid,
    pub title: String,
    pub description: String,
    pub engagement_code: String,
    pub status: String,
    /// 0–100; computed for a parent.
    pub progress: i32,
    pub parent_id: Option<Uuid>,
    pub weight: i32,
    pub owner: String,
    pub due_on: Option<String>,
    pub public: bool,
    /// Set when DONE.
    pub done_on: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
