//! The public view of an experience. Built only from the redacted columns and published
//! answers: the raw texts, the contact e-mail, labels, comments and drafts have no field here.
//! Every free text goes through [`public_text`] as it is shown, whoever wrote it.

use crate::domain::codes::ResponseStatus;
use crate::domain::redaction::public_text;
use crate::pb;
use crate::store::feedback::FeedbackView;

use super::enums::{channel_to_pb, satisfaction_to_pb, tag_to_pb};
use super::time::timestamp;

pub fn published_feedback_to_pb(view: &FeedbackView) -> pb::PublishedFeedback {
    let m = &view.feedback;
    let code = |id: &uuid::Uuid| view.location_codes.get(id).cloned().unwrap_or_default();
    pb::PublishedFeedback {
        id: m.id.to_string(),
        location_code: code(&m.location_id),
        channel: channel_to_pb(m.channel) as i32,
        satisfaction: satisfaction_to_pb(m.satisfaction) as i32,
        title: public_text(&m.redacted_title),
        story: public_text(&m.redacted_story),
        proposal: public_text(&m.redacted_proposal),
        pseudonym: public_text(&m.pseudonym),
        tags: view.tags.iter().map(|t| tag_to_pb(*t) as i32).collect(),
        occurred_on: m.occurred_on.clone().unwrap_or_default(),
        submit_time: Some(timestamp(m.submitted_at)),
        responses: view
            .responses
            .iter()
            .filter(|r| r.status == ResponseStatus::Published)
            .map(|r| {
                let (useful, not_useful) = view.votes.get(&r.id).copied().unwrap_or_default();
                pb::PublicResponse {
                    id: r.id.to_string(),
                    location_code: code(&r.location_id),
                    author: public_text(&r.author),
                    body: public_text(&r.body),
                    publish_time: r.published_at.map(timestamp),
                    useful_votes: useful,
                    not_useful_votes: not_useful,
                }
            })
            .collect(),
    }
}
