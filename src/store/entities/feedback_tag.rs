use sea_orm::entity::prelude::*;

/// General SP+ tags (upper case) and free labels (lower case) share this table.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feedback_tag")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub feedback_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
