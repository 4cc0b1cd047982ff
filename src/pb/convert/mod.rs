//! Conversions between wire types and domain/store types.

mod action;
mod api_key;
mod enums;
mod feedback;
pub mod indicator;
pub mod lifecycle;
mod location;
mod public;
mod time;

pub use action::{
    action_event_to_pb, action_patch, action_to_pb, engagement_to_pb, new_action,
    public_action_to_pb,
};
pub use api_key::{api_key_to_pb, recipient_to_pb};
pub use enums::*;
pub use feedback::{
    SubmitTime, comment_to_pb, feedback_to_pb, history_event_to_pb, new_feedback, response_to_pb,
};
pub use indicator::internal_results_to_pb;
pub use location::{location_patch, location_spec, location_to_pb};
pub use public::{
    compared_children_to_pb, indicator_result_to_pb, location_hit_to_pb, public_location_to_pb,
    published_feedback_to_pb,
};
pub use time::{from_timestamp, timestamp};

/// Parses an id field (`field` is its request path).
pub fn id(field: &str, value: &str) -> Result<uuid::Uuid, crate::Error> {
    if value.trim().is_empty() {
        return Err(crate::Error::invalid(field, "is required"));
    }
    crate::domain::validation::uuid(value).map_err(|d| crate::Error::invalid(field, d))
}

/// Parses an optional id field: empty means none.
pub fn optional_id(field: &str, value: &str) -> Result<Option<uuid::Uuid>, crate::Error> {
    crate::domain::validation::optional_uuid(value).map_err(|d| crate::Error::invalid(field, d))
}

/// Most paths an update mask may name: more than any message has fields. A longer mask is
/// refused as a whole, before its paths are looked at, so a hostile mask of 100,000 paths
/// costs one violation, not 100,000.
pub const MAX_MASK_PATHS: usize = 32;

/// The paths of an update mask, refused when there are more than [`MAX_MASK_PATHS`].
pub fn mask_paths(paths: &[String]) -> Result<&[String], crate::Error> {
    if paths.len() > MAX_MASK_PATHS {
        Err(crate::Error::invalid(
            "update_mask",
            format!("names {} paths; at most {MAX_MASK_PATHS}", paths.len()),
        ))
    } else {
        Ok(paths)
    }
}
