use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feedback")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub location_id: Uuid,
    pub channel: String,
    pub audience: String,
    pub satisfaction: String,
    pub nps: Option<i16>,
    pub effort: Option<i16>,
    /// Raw texts: internal readers only.
    pub title: String,
    pub story: String,
    pub proposal: String,
    /// What may be published.
    pub redacted_title: String,
    pub redacted_story: String,
    pub redacted_proposal: String,
    /// Comma-separated personal-data kinds found at capture.
    pub personal_data: String,
    pub procedure: String,
    pub occurred_on: Option<String>,
    pub pseudonym: String,
    pub contact_email: Option<String>,
    pub contact_erased_at: Option<i64>,
    pub status: String,
    pub reject_reason: Option<String>,
    pub api_key_id: Uuid,
    pub request_id: Option<String>,
    pub payload_hash: String,
    pub submitted_at: i64,
    pub updated_at: i64,
    /// When its first answer was published (the earliest, if several locations answered).
    pub first_answered_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
