//! Moderation decisions and what they may change.
//!
//! PENDING → PUBLISHED | REJECTED is the normal path. A published experience may later be
//! withdrawn (PUBLISHED → REJECTED, e.g. after a complaint) or re-published with a corrected
//! redaction (PUBLISHED → PUBLISHED); a rejected one may be reconsidered (REJECTED →
//! PUBLISHED). Rejecting twice is refused: there is nothing to decide.

use super::codes::{ModerationStatus, RejectReason};
use super::redaction::redact;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Publish,
    Reject(RejectReason),
}

impl Decision {
    pub fn status(self) -> ModerationStatus {
        match self {
            Decision::Publish => ModerationStatus::Published,
            Decision::Reject(_) => ModerationStatus::Rejected,
        }
    }

    pub fn reason(self) -> Option<RejectReason> {
        match self {
            Decision::Publish => None,
            Decision::Reject(reason) => Some(reason),
        }
    }
}

/// What a moderator decided about an experience.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moderation {
    pub id: uuid::Uuid,
    pub decision: Decision,
    pub edit: RedactionEdit,
    pub note: String,
}

/// Replacement redacted texts chosen by a moderator (`None` keeps the current one).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RedactionEdit {
    pub title: Option<String>,
    pub story: Option<String>,
    pub proposal: Option<String>,
}

impl RedactionEdit {
    /// The texts to store: a moderator's replacement is redacted again, so a moderator may
    /// add masks, never remove them.
    pub fn redacted(&self) -> Self {
        let again = |t: &Option<String>| t.as_deref().map(|t| redact(t).text);
        Self {
            title: again(&self.title),
            story: again(&self.story),
            proposal: again(&self.proposal),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.story.is_none() && self.proposal.is_none()
    }
}

/// Whether `decision` may be taken on an experience in state `current`.
pub fn check(current: ModerationStatus, decision: Decision) -> Result<(), String> {
    use ModerationStatus as S;
    match (current, decision) {
        (S::Pending, _) | (S::Published, _) | (S::Rejected, Decision::Publish) => Ok(()),
        (S::Rejected, Decision::Reject(_)) => Err("the experience is already rejected".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_text_is_redacted_again_and_an_absent_one_stays_absent() {
        let edit = RedactionEdit {
            title: Some("Appelez le 06 12 34 56 78".into()),
            story: None,
            proposal: Some("rien à masquer".into()),
        };
        let stored = edit.redacted();
        assert!(
            !stored
                .title
                .as_deref()
                .unwrap_or_default()
                .contains("06 12")
        );
        assert_eq!(stored.story, None);
        assert_eq!(stored.proposal.as_deref(), Some("rien à masquer"));
        assert!(!stored.is_empty());
        assert!(RedactionEdit::default().is_empty());
    }

    #[test]
    fn every_transition_is_decided() {
        use ModerationStatus as S;
        let reject = Decision::Reject(RejectReason::Spam);
        let table = [
            (S::Pending, Decision::Publish, true),
            (S::Pending, reject, true),
            (S::Published, Decision::Publish, true),
            (S::Published, reject, true),
            (S::Rejected, Decision::Publish, true),
            (S::Rejected, reject, false),
        ];
        for (from, decision, allowed) in table {
            assert_eq!(
                check(from, decision).is_ok(),
                allowed,
                "{from:?} {decision:?}"
            );
        }
    }

    #[test]
    fn a_decision_names_its_status_and_reason() {
        assert_eq!(Decision::Publish.status(), ModerationStatus::Published);
        assert_eq!(
            Decision::Reject(RejectReason::Duplicate).reason(),
            Some(RejectReason::Duplicate)
        );
    }
}
