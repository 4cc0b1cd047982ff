//! Public answers of a location to an experience: what may be drafted and published.
//!
//! Each answering location has one answer per experience: a DRAFT that its agents edit,
//! then PUBLISHED, after which it no longer changes. An answer is published only on a
//! published experience: the public must be able to read what it answers.

use super::codes::{ModerationStatus, ResponseStatus};
use crate::Error;

/// A draft answer: by `location_id` (default: the experience's own location), which must
/// be the experience's location or one of its ancestors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub feedback_id: uuid::Uuid,
    pub location_id: Option<uuid::Uuid>,
    pub author: String,
    pub body: String,
}

/// Whether a location's existing answer may still be edited as a draft.
pub fn check_draft(existing: ResponseStatus) -> Result<(), Error> {
    match existing {
        ResponseStatus::Draft => Ok(()),
        ResponseStatus::Published => Err(Error::FailedPrecondition(
            "this location's answer is already published".into(),
        )),
    }
}

/// Whether an answer in state `answer` may be published on an experience in state
/// `experience`.
pub fn check_publish(answer: ResponseStatus, experience: ModerationStatus) -> Result<(), Error> {
    match (answer, experience) {
        (ResponseStatus::Published, _) => Err(Error::FailedPrecondition(
            "the answer is already published".into(),
        )),
        (ResponseStatus::Draft, ModerationStatus::Published) => Ok(()),
        (ResponseStatus::Draft, ModerationStatus::Pending | ModerationStatus::Rejected) => Err(
            Error::FailedPrecondition("the experience must be published before its answer".into()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_draft_on_a_published_experience_is_published() {
        use ModerationStatus as M;
        use ResponseStatus as R;
        assert!(check_publish(R::Draft, M::Published).is_ok());
        for experience in [M::Pending, M::Rejected] {
            let refused = check_publish(R::Draft, experience);
            assert!(
                matches!(&refused, Err(Error::FailedPrecondition(m)) if m.contains("experience must be published")),
                "{refused:?}"
            );
        }
        for experience in ModerationStatus::ALL {
            assert!(matches!(
                check_publish(R::Published, *experience),
                Err(Error::FailedPrecondition(m)) if m.contains("already published")
            ));
        }
    }

    #[test]
    fn a_published_answer_is_no_longer_a_draft() {
        assert!(check_draft(ResponseStatus::Draft).is_ok());
        assert!(matches!(
            check_draft(ResponseStatus::Published),
            Err(Error::FailedPrecondition(_))
        ));
    }
}
