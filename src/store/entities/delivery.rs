use sea_orm::entity::prelude::*;

/// A report version (its SHA-256) sent to a recipient: never sent twice. PENDING is
/// committed before the message leaves, SENT once the relay or the outbox has it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "delivery")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub recipient_id: Uuid,
    pub report_id: Uuid,
    pub sha256: String,
    /// SMTP or OUTBOX.
    pub method: String,
    pub delivered_at: i64,
    /// PENDING or SENT.
    pub status: String,
    /// The Message-ID of the message carrying this version (none before two-phase delivery).
    pub message_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
