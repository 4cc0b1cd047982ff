use sea_orm::entity::prelude::*;

/// A published PDF report: one per location, period and kind; the file lives on disk.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "report")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub location_id: Uuid,
    pub period: String,
    /// LOCATION or SUMMARY.
    pub kind: String,
    /// Absolute path of the file.
    pub path: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
