//! Moderation decisions and what they may change.
//!
//! PENDING → PUBLISHED | REJECTED is the normal path. A published experience may later be
//! withdrawn (PUBLISHED → REJECTED, e.g. after a complaint) or re-published with a corrected
//! redaction (PUBLISHED → PUBLISHED); a rejected one may be reconsidered (REJECTED →
//! PUBLISHED). Rejecting twice is refused: there is nothing to decide.

use super::codes::{ModerationStatus, RejectReason};

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
