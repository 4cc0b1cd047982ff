//! The audit log: who did what, when. Written in the same transaction as the change it
//! records, so that a change never happens unaudited.

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use super::entities::audit_log;
use super::now_ms;
use crate::domain::Caller;

/// Records one entry. `details` must not hold secrets or contact e-mails.
pub async fn record(
    db: &impl ConnectionTrait,
    caller: Option<&Caller>,
    action: &str,
    target_type: &str,
    target_id: &str,
    details: serde_json::Value,
) -> Result<(), sea_orm::DbErr> {
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(now_ms()),
        api_key_id: Set(caller.map(|c| c.key_id)),
        actor: Set(caller.map_or_else(|| "system".to_owned(), |c| c.name.clone())),
        action: Set(action.to_owned()),
        target_type: Set(target_type.to_owned()),
        target_id: Set(target_id.to_owned()),
        details: Set(details.to_string()),
    }
    .insert(db)
    .await?;
    Ok(())
}
