//! sea-orm entities: the Rust view of the tables created by `boucle-migrations`. They are
//! storage types only; the wire types live in `pb`, the rules in `domain`.

pub mod action;
pub mod action_event;
pub mod action_feedback;
pub mod api_key;
pub mod audience_figures;
pub mod audit_log;
pub mod comment;
pub mod delivery;
pub mod engagement;
pub mod feedback;
pub mod feedback_reassignment;
pub mod feedback_tag;
pub mod indicator;
pub mod indicator_version;
pub mod job_run;
pub mod location;
pub mod location_closure;
pub mod location_figures;
pub mod location_term;
pub mod measurement;
pub mod moderation_decision;
pub mod published_chunk;
pub mod published_file;
pub mod recipient;
pub mod report;
pub mod report_content;
pub mod response;
pub mod response_vote;
