use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::Error;
use crate::domain::feedback::{self as rules, LocationRef, NewFeedback};
use crate::domain::history::{HistoryEvent, HistoryKind};
use crate::domain::location as location_rules;
use crate::domain::validation::{Violations, text, uuid};
use crate::pb;
use crate::store::feedback::{Answer, Comment, FeedbackView};

use super::enums::*;
use super::time::{from_timestamp, timestamp};

/// Clock skew tolerated on imported submission instants.
const FUTURE_SLACK_MS: i64 = 5 * 60 * 1000;
/// 2000-01-01T00:00:00Z.
const OLDEST_MS: i64 = 946_684_800_000;

/// Where the request says when the experience was shared.
#[derive(Clone, Copy, Debug)]
pub enum SubmitTime {
    /// SubmitFeedback: the server's clock decides, `submit_time` is ignored.
    ServerClock,
    /// ImportFeedback: a past instant may be given.
    Imported { now_ms: i64 },
}

/// Validates an experience. `today` is the date in the reporting time zone.
pub fn new_feedback(
    feedback: pb::Feedback,
    prefix: &str,
    today: NaiveDate,
    submit_time: SubmitTime,
) -> Result<NewFeedback, Error> {
    let pb::Feedback {
        id: _,
        location_id,
        location_code,
        channel: channel_value,
        audience: audience_value,
        satisfaction: satisfaction_value,
        nps,
        effort,
        title,
        story,
        proposal,
        procedure,
        tags,
        labels,
        occurred_on,
        pseudonym,
        contact_email,
        status: _,
        reject_reason: _,
        redacted_title: _,
        redacted_story: _,
        redacted_proposal: _,
        personal_data: _,
        submit_time: submit_time_value,
        update_time: _,
        request_id: _,
        responses: _,
        action_ids: _,
        contact_erased: _,
    } = feedback;
    let mut v = Violations::under(prefix);
    let location = match (
        location_id.trim().is_empty(),
        location_code.trim().is_empty(),
    ) {
        (false, _) => v
            .check("location_id", uuid(&location_id))
            .map(LocationRef::Id),
        (true, false) => v
            .check("location_code", location_rules::code(&location_code))
            .map(LocationRef::Code),
        (true, true) => {
            v.add("location_id", "location_id or location_code is required");
            None
        }
    };
    let channel = v.check("channel", channel(channel_value));
    let audience = v.check("audience", audience(audience_value));
    let satisfaction = v.check("satisfaction", satisfaction(satisfaction_value));
    let nps = match nps {
        Some(n) => v.check("nps", rules::nps(n)).map(Some),
        None => Some(None),
    };
    let effort = match effort {
        Some(n) => v.check("effort", rules::effort(n)).map(Some),
        None => Some(None),
    };
    let title = v.check("title", text(&title, rules::TITLE_MAX, false));
    let story = v.check("story", text(&story, rules::STORY_MAX, false));
    let proposal = v.check("proposal", text(&proposal, rules::PROPOSAL_MAX, false));
    let procedure = v.check("procedure", text(&procedure, rules::PROCEDURE_MAX, false));
    let mut tag_set = BTreeSet::new();
    for (i, t) in tags.iter().enumerate() {
        if let Some(t) = v.check(&format!("tags[{i}]"), tag(*t)) {
            tag_set.insert(t);
        }
    }
    let mut label_set = BTreeSet::new();
    if labels.len() > rules::LABELS_MAX {
        v.add(
            "labels",
            format!("must hold at most {} labels", rules::LABELS_MAX),
        );
    }
    for (i, l) in labels.iter().enumerate() {
        if let Some(l) = v.check(&format!("labels[{i}]"), rules::label(l)) {
            label_set.insert(l);
        }
    }
    let occurred_on = v.check("occurred_on", rules::occurred_on(&occurred_on, today));
    let pseudonym = v.check("pseudonym", text(&pseudonym, rules::PSEUDONYM_MAX, false));
    let contact_email = v.check("contact_email", rules::email(&contact_email));
    let submitted_at = match (submit_time, submit_time_value) {
        (SubmitTime::ServerClock, _) | (SubmitTime::Imported { .. }, None) => Some(None),
        (SubmitTime::Imported { now_ms }, Some(ts)) => {
            let parsed = from_timestamp(&ts).and_then(|ms| {
                if ms > now_ms + FUTURE_SLACK_MS {
                    Err("must not be in the future".into())
                } else if ms < OLDEST_MS {
                    Err("must not be before 2000-01-01".into())
                } else {
                    Ok(ms)
                }
            });
            v.check("submit_time", parsed).map(Some)
        }
    };
    v.finish(|| {
        Some(NewFeedback {
            location: location?,
            channel: channel?,
            audience: audience?,
            satisfaction: satisfaction?,
            nps: nps?,
            effort: effort?,
            title: title?,
            story: story?,
            proposal: proposal?,
            procedure: procedure?,
            tags: tag_set,
            labels: label_set,
            occurred_on: occurred_on?,
            pseudonym: pseudonym?,
            contact_email: contact_email?,
            submitted_at: submitted_at?,
        })
    })
}

/// An answer in the internal view (drafts included). `votes` are (useful, not useful).
pub fn response_to_pb(r: &Answer, votes: (u64, u64)) -> pb::Response {
    pb::Response {
        id: r.id.to_string(),
        feedback_id: r.feedback_id.to_string(),
        location_id: r.location_id.to_string(),
        author: r.author.clone(),
        body: r.body.clone(),
        status: response_status_to_pb(r.status) as i32,
        create_time: Some(timestamp(r.created_at)),
        update_time: Some(timestamp(r.updated_at)),
        publish_time: r.published_at.map(timestamp),
        useful_votes: votes.0,
        not_useful_votes: votes.1,
    }
}

pub fn comment_to_pb(c: &Comment) -> pb::Comment {
    pb::Comment {
        id: c.id.to_string(),
        feedback_id: c.feedback_id.to_string(),
        author: c.author.clone(),
        body: c.body.clone(),
        create_time: Some(timestamp(c.created_at)),
    }
}

/// One event of an experience's history (ListFeedbackHistory).
pub fn history_event_to_pb(e: &HistoryEvent) -> pb::FeedbackHistoryEvent {
    use pb::feedback_history_event::Kind;
    let kind = match e.kind {
        HistoryKind::Submitted => Kind::Submitted,
        HistoryKind::Moderated => Kind::Moderated,
        HistoryKind::Reassigned => Kind::Reassigned,
        HistoryKind::AnswerDrafted => Kind::AnswerDrafted,
        HistoryKind::AnswerPublished => Kind::AnswerPublished,
    };
    let id = |v: Option<uuid::Uuid>| v.map(|v| v.to_string()).unwrap_or_default();
    pb::FeedbackHistoryEvent {
        kind: kind as i32,
        time: Some(timestamp(e.at)),
        actor: e.actor.clone(),
        decision: e
            .decision
            .map_or(pb::ModerationStatus::Unspecified, moderation_status_to_pb)
            as i32,
        reject_reason: e
            .reject_reason
            .map_or(pb::RejectReason::Unspecified, reject_reason_to_pb)
            as i32,
        note: e.note.clone(),
        from_location_id: id(e.from_location_id),
        location_id: id(e.location_id),
        response_id: id(e.response_id),
    }
}

/// The internal view of an experience (raw texts and contact e-mail included): for
/// authenticated readers of its scope only, never for ResultsService.
pub fn feedback_to_pb(view: &FeedbackView) -> pb::Feedback {
    let m = &view.feedback;
    pb::Feedback {
        id: m.id.to_string(),
        location_id: m.location_id.to_string(),
        location_code: view.location_code.clone(),
        channel: channel_to_pb(m.channel) as i32,
        audience: audience_to_pb(m.audience) as i32,
        satisfaction: satisfaction_to_pb(m.satisfaction) as i32,
        nps: m.nps.map(u32::from),
        effort: m.effort.map(u32::from),
        title: m.title.clone(),
        story: m.story.clone(),
        proposal: m.proposal.clone(),
        procedure: m.procedure.clone(),
        tags: view.tags.iter().map(|t| tag_to_pb(*t) as i32).collect(),
        labels: view.labels.clone(),
        occurred_on: m.occurred_on.clone().unwrap_or_default(),
        pseudonym: m.pseudonym.clone(),
        contact_email: m.contact_email.clone().unwrap_or_default(),
        status: moderation_status_to_pb(m.status) as i32,
        reject_reason: m
            .reject_reason
            .map_or(pb::RejectReason::Unspecified, reject_reason_to_pb)
            as i32,
        redacted_title: m.redacted_title.clone(),
        redacted_story: m.redacted_story.clone(),
        redacted_proposal: m.redacted_proposal.clone(),
        personal_data: m
            .personal_data
            .iter()
            .map(|k| personal_data_to_pb(*k) as i32)
            .collect(),
        submit_time: Some(timestamp(m.submitted_at)),
        update_time: Some(timestamp(m.updated_at)),
        request_id: m.request_id.clone().unwrap_or_default(),
        responses: view
            .responses
            .iter()
            .map(|r| response_to_pb(r, view.votes.get(&r.id).copied().unwrap_or_default()))
            .collect(),
        action_ids: view.action_ids.iter().map(|a| a.to_string()).collect(),
        contact_erased: m.contact_erased_at.is_some(),
    }
}
