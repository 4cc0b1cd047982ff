//! Requests of the experience lifecycle, parsed into domain values with every violation.

use uuid::Uuid;

use crate::Error;
use crate::domain::answer::Draft;
use crate::domain::feedback::{PROPOSAL_MAX, STORY_MAX, TITLE_MAX};
use crate::domain::moderation::RedactionEdit;
use crate::domain::moderation::{Decision, Moderation};
use crate::domain::validation::{Violations, text, uuid};
use crate::pb;
use crate::pb::moderate_feedback_request::Decision as PbDecision;

use super::enums::reject_reason;

pub const NOTE_MAX: usize = 1_000;
pub const BODY_MAX: usize = 5_000;
pub const AUTHOR_MAX: usize = 120;

pub fn moderation(request: pb::ModerateFeedbackRequest) -> Result<Moderation, Error> {
    let pb::ModerateFeedbackRequest {
        id,
        decision,
        reject_reason: reason,
        redacted_title,
        redacted_story,
        redacted_proposal,
        note,
    } = request;
    let mut v = Violations::default();
    let id = v.check("id", uuid(&id));
    let decision = match PbDecision::try_from(decision) {
        Ok(PbDecision::Publish) => {
            if reason != 0 {
                v.add("reject_reason", "must be unset when publishing");
            }
            Some(Decision::Publish)
        }
        Ok(PbDecision::Reject) => v
            .check("reject_reason", reject_reason(reason))
            .map(Decision::Reject),
        Ok(PbDecision::Unspecified) => {
            v.add("decision", "is required");
            None
        }
        Err(_) => {
            v.add("decision", format!("unknown value {decision}"));
            None
        }
    };
    let mut optional = |field: &str, value: Option<String>, max: usize| match value {
        Some(t) => v.check(field, text(&t, max, false)).map(Some),
        None => Some(None),
    };
    let title = optional("redacted_title", redacted_title, TITLE_MAX);
    let story = optional("redacted_story", redacted_story, STORY_MAX);
    let proposal = optional("redacted_proposal", redacted_proposal, PROPOSAL_MAX);
    let note = v.check("note", text(&note, NOTE_MAX, false));
    v.finish(|| {
        Some(Moderation {
            id: id?,
            decision: decision?,
            edit: RedactionEdit {
                title: title?,
                story: story?,
                proposal: proposal?,
            },
            note: note?,
        })
    })
}

pub fn draft(request: pb::DraftResponseRequest) -> Result<Draft, Error> {
    let pb::DraftResponseRequest {
        feedback_id,
        location_id,
        author,
        body,
    } = request;
    let mut v = Violations::default();
    let feedback_id = v.check("feedback_id", uuid(&feedback_id));
    let location_id = if location_id.trim().is_empty() {
        Some(None)
    } else {
        v.check("location_id", uuid(&location_id)).map(Some)
    };
    let author = v.check("author", text(&author, AUTHOR_MAX, true));
    let body = v.check("body", text(&body, BODY_MAX, true));
    v.finish(|| {
        Some(Draft {
            feedback_id: feedback_id?,
            location_id: location_id?,
            author: author?,
            body: body?,
        })
    })
}

/// `(feedback id, target location, note)` of a reassignment.
pub fn reassignment(request: pb::ReassignFeedbackRequest) -> Result<(Uuid, Uuid, String), Error> {
    let pb::ReassignFeedbackRequest {
        id,
        location_id,
        note,
    } = request;
    let mut v = Violations::default();
    let id = v.check("id", uuid(&id));
    let to = v.check("location_id", uuid(&location_id));
    let note = v.check("note", text(&note, NOTE_MAX, false));
    v.finish(|| Some((id?, to?, note?)))
}

/// `(feedback id, body)` of a comment.
pub fn comment(request: pb::AddCommentRequest) -> Result<(Uuid, String), Error> {
    let pb::AddCommentRequest { feedback_id, body } = request;
    let mut v = Violations::default();
    let id = v.check("feedback_id", uuid(&feedback_id));
    let body = v.check("body", text(&body, BODY_MAX, true));
    v.finish(|| Some((id?, body?)))
}

/// An opaque voter token: 16–128 printable ASCII characters; stored hashed.
pub fn voter_token(value: &str) -> Result<String, String> {
    if (16..=128).contains(&value.len()) && value.chars().all(|c| c.is_ascii_graphic()) {
        Ok(crate::domain::api_key::hash(value))
    } else {
        Err("must be 16–128 printable ASCII characters".into())
    }
}
