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
