//! The rules of boucle, free of transport and storage: validated types, personal-data
//! detection, periods, authorization rules. Imports neither tonic nor sea_orm.

pub mod action;
pub mod answer_delays;
pub mod api_key;
pub mod auth;
pub mod codes;
pub mod feedback;
pub mod indicators;
pub mod location;
pub mod moderation;
pub mod page;
pub mod period;
pub mod redaction;
#[cfg(test)]
mod redaction_corpus;
pub mod validation;
pub mod vote;

pub use auth::{Caller, Permission, Role};
pub use codes::{
    ActionStatus, Audience, Channel, ModerationStatus, PersonalDataKind, RejectReason,
    Satisfaction, Tag,
};
pub use period::Period;
