use sea_orm::entity::prelude::*;

/// A public vote on whether an answer was useful: one per hashed voter token and answer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "response_vote")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub response_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub voter_hash: String,
    pub useful: bool,
    pub created_at: i64,
    /// Hex SHA-256 of the answer's id and the voter's address (none before it was kept).
    pub address_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
