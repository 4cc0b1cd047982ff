//! Improvement actions: the status machine, progress rules and the roll-up of sub-actions.
//!
//! PLANNED → IN_PROGRESS → DONE | ABANDONED, and ABANDONED → PLANNED to revive an action.
//! Every other move is refused. Each status brings its progress: PLANNED 0, IN_PROGRESS 10
//! unless given, DONE 100; ABANDONED freezes the progress reached. Progress is set by hand
//! only while IN_PROGRESS, and never on a parent, whose progress is the weighted mean of its
//! active (not abandoned) sub-actions.

use chrono::NaiveDate;

use super::codes::ActionStatus;

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 5_000;
pub const OWNER_MAX: usize = 120;
pub const NOTE_MAX: usize = 1_000;
pub const DEFAULT_WEIGHT: u32 = 1;
pub const START_PROGRESS: u32 = 10;

/// Whether an action may move from `from` to `to`.
pub fn can_transition(from: ActionStatus, to: ActionStatus) -> bool {
    use ActionStatus as S;
    match (from, to) {
        (S::Planned, S::InProgress)
        | (S::InProgress, S::Done)
        | (S::InProgress, S::Abandoned)
        | (S::Abandoned, S::Planned) => true,
        (S::Planned, S::Planned | S::Done | S::Abandoned)
        | (S::InProgress, S::Planned | S::InProgress)
        | (S::Done, _)
        | (S::Abandoned, S::InProgress | S::Done | S::Abandoned) => false,
    }
}

/// The progress an action has after moving to `to` (`requested` only counts when starting).
pub fn progress_after(
    to: ActionStatus,
    current: u32,
    requested: Option<u32>,
) -> Result<u32, String> {
    match (to, requested) {
        (ActionStatus::InProgress, Some(p)) => progress(p),
        (ActionStatus::InProgress, None) => Ok(START_PROGRESS),
        (_, Some(_)) => Err("progress can only be given when starting (IN_PROGRESS)".into()),
        (ActionStatus::Planned, None) => Ok(0),
        (ActionStatus::Done, None) => Ok(100),
        (ActionStatus::Abandoned, None) => Ok(current),
    }
}

pub fn progress(value: u32) -> Result<u32, String> {
    if value <= 100 {
        Ok(value)
    } else {
        Err(format!("must be between 0 and 100 (got {value})"))
    }
}

/// The progress a new action may be given: none, since it starts PLANNED at 0 and takes its
/// progress when TransitionAction starts it. Anything else would be dropped, so it is
/// refused rather than silently replaced.
pub fn progress_at_creation(value: u32) -> Result<(), String> {
    match progress(value)? {
        0 => Ok(()),
        _ => Err(
            "a new action is PLANNED at 0; give the progress when starting it (TransitionAction)"
                .into(),
        ),
    }
}

/// What a parent says of progress set by hand: it is computed from its sub-actions.
const PARENT_PROGRESS: &str = "the progress of a parent action is computed from its sub-actions";

/// Whether progress may be set by hand (UpdateAction) on an action in `status` that has
/// sub-actions or not: only while IN_PROGRESS, and never on a parent.
pub fn check_progress_edit(status: ActionStatus, has_children: bool) -> crate::Result<()> {
    if status != ActionStatus::InProgress {
        return Err(crate::Error::FailedPrecondition(format!(
            "progress can only be set while IN_PROGRESS (the action is {status})"
        )));
    }
    if has_children {
        return Err(crate::Error::FailedPrecondition(PARENT_PROGRESS.into()));
    }
    Ok(())
}

/// (status, progress, weight) of a sub-action, for the roll-up.
pub type Child = (ActionStatus, u32, u32);

/// The progress of an action moving from `from` to `to` (`current` progress, `requested`
/// by the caller, its sub-actions `children`): FAILED_PRECONDITION for a move the status
/// machine refuses or a progress given to a parent, INVALID_ARGUMENT for a progress the move
/// does not take. A parent takes the roll-up of its sub-actions, except when DONE (100).
pub fn progress_of_transition(
    from: ActionStatus,
    to: ActionStatus,
    current: u32,
    requested: Option<u32>,
    children: &[Child],
) -> crate::Result<u32> {
    if !can_transition(from, to) {
        return Err(crate::Error::FailedPrecondition(format!(
            "an action cannot go from {from} to {to}"
        )));
    }
    if requested.is_some() && !children.is_empty() {
        return Err(crate::Error::FailedPrecondition(PARENT_PROGRESS.into()));
    }
    let own =
        progress_after(to, current, requested).map_err(|d| crate::Error::invalid("progress", d))?;
    Ok(if to == ActionStatus::Done || children.is_empty() {
        own
    } else {
        rollup(children.iter().copied())
    })
}

/// A parent's progress after a change below it: the roll-up of its sub-actions, or `None`
/// when it is DONE (a finished parent stays at 100 whatever happens below).
pub fn parent_progress(status: ActionStatus, children: &[Child]) -> Option<u32> {
    (status != ActionStatus::Done).then(|| rollup(children.iter().copied()))
}

pub fn weight(value: u32) -> Result<u32, String> {
    match value {
        0 => Ok(DEFAULT_WEIGHT),
        1..=1000 => Ok(value),
        _ => Err(format!("must be between 1 and 1000 (got {value})")),
    }
}

/// A parent's progress: the weighted mean of its sub-actions that are not abandoned, rounded
/// to the nearest integer; 0 when none is left.
pub fn rollup(children: impl IntoIterator<Item = (ActionStatus, u32, u32)>) -> u32 {
    let (sum, weights) = children
        .into_iter()
        .filter(|(status, _, _)| *status != ActionStatus::Abandoned)
        .fold((0u64, 0u64), |(sum, weights), (_, progress, weight)| {
            (
                sum + u64::from(progress) * u64::from(weight),
                weights + u64::from(weight),
            )
        });
    (sum + weights / 2)
        .checked_div(weights)
        .map_or(0, |mean| u32::try_from(mean).unwrap_or(100).min(100))
}

/// Past its due date and not finished.
pub fn overdue(status: ActionStatus, due_on: Option<NaiveDate>, today: NaiveDate) -> bool {
    matches!(status, ActionStatus::Planned | ActionStatus::InProgress)
        && due_on.is_some_and(|d| d < today)
}

/// An engagement code: `E` followed by a number.
pub fn engagement_code(value: &str) -> Result<String, String> {
    let v = value.trim();
    let ok = v.len() >= 2
        && v.len() <= 8
        && v.starts_with('E')
        && v[1..].chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(v.to_owned())
    } else {
        Err("must be an engagement code such as E4".into())
    }
}

/// A validated new action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAction {
    pub location_id: uuid::Uuid,
    pub title: String,
    pub description: String,
    pub engagement_code: String,
    pub parent_id: Option<uuid::Uuid>,
    pub weight: u32,
    pub owner: String,
    pub due_on: Option<NaiveDate>,
    pub public: bool,
}

/// The fields an UpdateAction changes: `None` = untouched, `Some(None)` = cleared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub engagement_code: Option<String>,
    pub parent_id: Option<Option<uuid::Uuid>>,
    pub weight: Option<u32>,
    pub owner: Option<String>,
    pub due_on: Option<Option<NaiveDate>>,
    pub public: Option<bool>,
    pub progress: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActionStatus as S;

    #[test]
    fn progress_is_edited_by_hand_only_while_in_progress_and_never_on_a_parent() {
        assert!(check_progress_edit(S::InProgress, false).is_ok());
        for status in [S::Planned, S::Done, S::Abandoned] {
            assert!(matches!(
                check_progress_edit(status, false),
                Err(crate::Error::FailedPrecondition(m)) if m.contains("only be set while IN_PROGRESS")
            ));
        }
        assert!(matches!(
            check_progress_edit(S::InProgress, true),
            Err(crate::Error::FailedPrecondition(m)) if m.contains("parent")
        ));
    }

    #[test]
    fn a_transition_gives_its_progress_and_a_parent_its_roll_up() {
        let kids = [(S::InProgress, 40, 1), (S::Planned, 0, 1)];
        // Starting a parent: the roll-up of its sub-actions, not the default 10.
        assert_eq!(
            progress_of_transition(S::Planned, S::InProgress, 0, None, &kids).ok(),
            Some(20)
        );
        // Finishing it: 100 whatever is below.
        assert_eq!(
            progress_of_transition(S::InProgress, S::Done, 20, None, &kids).ok(),
            Some(100)
        );
        assert!(matches!(
            progress_of_transition(S::Planned, S::InProgress, 0, Some(50), &kids),
            Err(crate::Error::FailedPrecondition(_))
        ));
        assert!(matches!(
            progress_of_transition(S::Done, S::Planned, 100, None, &[]),
            Err(crate::Error::FailedPrecondition(m)) if m.contains("cannot go from DONE")
        ));
        assert!(matches!(
            progress_of_transition(S::InProgress, S::Done, 50, Some(80), &[]),
            Err(crate::Error::InvalidArgument(_))
        ));
        assert_eq!(
            progress_of_transition(S::Planned, S::InProgress, 0, Some(35), &[]).ok(),
            Some(35)
        );
    }

    #[test]
    fn a_done_parent_stays_at_100() {
        let kids = [(S::Abandoned, 10, 1), (S::InProgress, 30, 1)];
        assert_eq!(parent_progress(S::Done, &kids), None);
        assert_eq!(parent_progress(S::InProgress, &kids), Some(30));
    }

    #[test]
    fn a_new_action_takes_no_progress() {
        assert!(progress_at_creation(0).is_ok());
        assert!(progress_at_creation(50).is_err());
        assert!(progress_at_creation(101).is_err_and(|e| e.contains("between 0 and 100")));
    }
    use proptest::prelude::*;

    #[test]
    fn only_the_documented_moves_are_allowed() {
        let allowed = [
            (S::Planned, S::InProgress),
            (S::InProgress, S::Done),
            (S::InProgress, S::Abandoned),
            (S::Abandoned, S::Planned),
        ];
        for from in S::ALL {
            for to in S::ALL {
                assert_eq!(
                    can_transition(*from, *to),
                    allowed.contains(&(*from, *to)),
                    "{from} → {to}"
                );
            }
        }
    }

    #[test]
    fn each_status_brings_its_progress() {
        assert_eq!(progress_after(S::InProgress, 0, None), Ok(START_PROGRESS));
        assert_eq!(progress_after(S::InProgress, 0, Some(40)), Ok(40));
        assert!(progress_after(S::InProgress, 0, Some(101)).is_err());
        assert_eq!(progress_after(S::Done, 40, None), Ok(100));
        assert_eq!(progress_after(S::Abandoned, 40, None), Ok(40));
        assert_eq!(progress_after(S::Planned, 40, None), Ok(0));
        assert!(progress_after(S::Done, 40, Some(90)).is_err());
    }

    #[test]
    fn a_parent_is_the_weighted_mean_of_its_active_children() {
        assert_eq!(rollup([(S::InProgress, 50, 1), (S::Done, 100, 3)]), 88); // (50 + 300) / 4 = 87.5
        assert_eq!(rollup([(S::InProgress, 50, 1), (S::Abandoned, 0, 5)]), 50);
        assert_eq!(rollup(Vec::<(S, u32, u32)>::new()), 0);
        assert_eq!(rollup([(S::Abandoned, 30, 1)]), 0);
    }

    #[test]
    fn overdue_means_late_and_unfinished() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
        let yesterday = today.pred_opt();
        assert!(overdue(S::InProgress, yesterday, today));
        assert!(!overdue(S::Done, yesterday, today));
        assert!(!overdue(S::Planned, Some(today), today));
        assert!(!overdue(S::Planned, None, today));
    }

    proptest! {
        #[test]
        fn rollup_stays_within_the_children_range(children in proptest::collection::vec((0u32..=100, 1u32..=1000), 1..20)) {
            let p = rollup(children.iter().map(|(p, w)| (S::InProgress, *p, *w)));
            let min = children.iter().map(|c| c.0).min().unwrap_or(0);
            let max = children.iter().map(|c| c.0).max().unwrap_or(100);
            prop_assert!(min <= p && p <= max);
        }
    }
}
