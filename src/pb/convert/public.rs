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

/// What the public may know of a location.
pub fn public_location_to_pb(view: &crate::store::locations::LocationView) -> pb::PublicLocation {
    let m = &view.location;
    pb::PublicLocation {
        code: m.code.clone(),
        name: m.name.clone(),
        typology: m.typology.clone(),
        postal_code: m.postal_code.clone(),
        city: m.city.clone(),
        parent_code: view.parent_code.clone().unwrap_or_default(),
        latitude: m.latitude,
        longitude: m.longitude,
        response_target_days: view.effective_response_target_days,
    }
}

/// A published figure with its indicator's wording.
pub fn indicator_result_to_pb(f: &crate::store::indicators::LabelledFigure) -> pb::IndicatorResult {
    pb::IndicatorResult {
        code: f.figure.code.code().to_owned(),
        title: f.title.clone(),
        unit: f.unit.clone(),
        figure: Some(super::indicator::figure_to_pb(&f.figure)),
    }
}

/// A search hit.
pub fn location_hit_to_pb(hit: &crate::app::results::SearchHit) -> pb::LocationHit {
    let (period, headline) = match &hit.headline {
        Some((period, figures)) => (
            period.to_string(),
            figures.iter().map(indicator_result_to_pb).collect(),
        ),
        None => (String::new(), Vec::new()),
    };
    pb::LocationHit {
        location: Some(public_location_to_pb(&hit.location)),
        // Ten metres: what a portal shows, and no more precision than the coordinates.
        distance_km: hit.distance_km.map(|d| (d * 100.0).round() / 100.0),
        period,
        headline,
    }
}

/// A comparison of children.
pub fn compared_children_to_pb(
    c: &crate::app::results::ComparedChildren,
) -> pb::CompareChildrenResponse {
    pb::CompareChildrenResponse {
        location: Some(public_location_to_pb(&c.location)),
        period: c.period.to_string(),
        children: c
            .children
            .iter()
            .map(|(child, rank, figures)| pb::ChildResults {
                location: Some(public_location_to_pb(child)),
                rank: *rank,
                indicators: figures.iter().map(indicator_result_to_pb).collect(),
            })
            .collect(),
    }
}
