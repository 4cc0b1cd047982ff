//! The history of an experience: everything that happened to it, who did it and when, as
//! the structures involved read it (`ListFeedbackHistory`). Built from the records each
//! change leaves (the experience itself, moderation decisions, reassignments, answers); it
//! never carries a contact e-mail or a key's secret, only the name of the key that acted.

use uuid::Uuid;

use super::codes::{ModerationStatus, RejectReason};

/// What happened. The order of the variants breaks ties between events of the same
/// millisecond: an experience is submitted before it is moderated, moved or answered, and
/// an answer is drafted before it is published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum HistoryKind {
    Submitted,
    Moderated,
    Reassigned,
    AnswerDrafted,
    AnswerPublished,
}

/// One event of an experience's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEvent {
    pub kind: HistoryKind,
    /// When, in milliseconds since the epoch.
    pub at: i64,
    /// The name of the key that acted.
    pub actor: String,
    /// [`HistoryKind::Moderated`]: the decision, and why when it rejects.
    pub decision: Option<ModerationStatus>,
    pub reject_reason: Option<RejectReason>,
    /// The note given with a moderation decision or a move.
    pub note: String,
    /// [`HistoryKind::Reassigned`]: where the experience was before.
    pub from_location_id: Option<Uuid>,
    /// Where it was submitted, moved to, or answered from.
    pub location_id: Option<Uuid>,
    /// The answer drafted or published.
    pub response_id: Option<Uuid>,
}

impl HistoryEvent {
    /// An event of `kind` at `at` by `actor`, every detail empty.
    pub fn new(kind: HistoryKind, at: i64, actor: String) -> Self {
        Self {
            kind,
            at,
            actor,
            decision: None,
            reject_reason: None,
            note: String::new(),
            from_location_id: None,
            location_id: None,
            response_id: None,
        }
    }
}

/// Puts `events` in the order they happened: by time, then by kind (see [`HistoryKind`]),
/// then by the answer they concern, so that the order never depends on the database.
pub fn in_order(mut events: Vec<HistoryEvent>) -> Vec<HistoryEvent> {
    events.sort_by(|a, b| {
        (a.at, a.kind, a.response_id, a.location_id).cmp(&(
            b.at,
            b.kind,
            b.response_id,
            b.location_id,
        ))
    });
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_of_one_millisecond_follow_the_life_of_an_experience() {
        let at = |kind, ms| HistoryEvent::new(kind, ms, "k".into());
        let events = in_order(vec![
            at(HistoryKind::AnswerPublished, 5),
            at(HistoryKind::Moderated, 5),
            at(HistoryKind::AnswerDrafted, 5),
            at(HistoryKind::Reassigned, 3),
            at(HistoryKind::Submitted, 5),
        ]);
        let kinds: Vec<_> = events.iter().map(|e| (e.at, e.kind)).collect();
        assert_eq!(
            kinds,
            [
                (3, HistoryKind::Reassigned),
                (5, HistoryKind::Submitted),
                (5, HistoryKind::Moderated),
                (5, HistoryKind::AnswerDrafted),
                (5, HistoryKind::AnswerPublished),
            ]
        );
    }
}
