use sea_orm::entity::prelude::*;

/// A published file of a period other than a report: the manifest, the open data.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "published_file")]
pub struct Model {
    /// `2026-10/manifest.json`, `resultats-2026-10.csv`: its path under `--out`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub period: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub bytes: Vec<u8>,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
