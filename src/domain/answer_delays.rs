//! Answers on time and median answer delays of every location and subtree for one month,
//! from the month's answered experiences fed in ascending delay: exact, in memory that
//! grows with the locations, never with the experiences.

use std::collections::HashMap;

use uuid::Uuid;

use super::indicators::{Counts, StreamingMedian};

/// One day, in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// The tally of one month's answers. Every location and subtree with answers gets a
/// [`StreamingMedian`] sized by its answered count (known beforehand, from the counting
/// statement); each answer then feeds its location's and its ancestors'.
///
/// Locations with answers are numbered when the tally is set up, so that an answer costs one
/// hash lookup (its location's number) rather than one per map and ancestor: at 10M
/// experiences, 3.7M answers stream by.
pub struct AnswerDelays {
    /// Locations with answers of their own, by number.
    locations: Vec<Uuid>,
    number: HashMap<Uuid, usize>,
    /// Each numbered location's announced delay, in milliseconds.
    target_ms: Vec<i64>,
    /// Each numbered location's subtrees (its ancestors' and its own), as subtree numbers.
    chains: Vec<Vec<usize>>,
    subtrees: Vec<Uuid>,
    own: Vec<(StreamingMedian, u64)>,
    subtree: Vec<(StreamingMedian, u64)>,
}

impl AnswerDelays {
    /// `own` and `subtree` hold the month's counts (their `answered` sizes the medians);
    /// `ancestors` maps a location to its ancestors, itself among them; `target_days` gives
    /// a location's announced answer delay.
    pub fn new(
        own: &HashMap<Uuid, Counts>,
        subtree: &HashMap<Uuid, Counts>,
        ancestors: &HashMap<Uuid, Vec<Uuid>>,
        target_days: impl Fn(Uuid) -> u32,
    ) -> Self {
        let locations: Vec<Uuid> = own
            .iter()
            .filter(|(_, c)| c.answered > 0)
            .map(|(id, _)| *id)
            .collect();
        let number = locations
            .iter()
            .enumerate()
            .map(|(n, id)| (*id, n))
            .collect();
        let target_ms = locations
            .iter()
            .map(|id| i64::from(target_days(*id)) * DAY_MS)
            .collect();
        let mut subtrees: Vec<Uuid> = Vec::new();
        let mut subtree_number: HashMap<Uuid, usize> = HashMap::new();
        let chains = locations
            .iter()
            .map(|id| {
                ancestors
                    .get(id)
                    .into_iter()
                    .flatten()
                    .filter(|a| subtree.contains_key(*a))
                    .map(|a| {
                        *subtree_number.entry(*a).or_insert_with(|| {
                            subtrees.push(*a);
                            subtrees.len() - 1
                        })
                    })
                    .collect()
            })
            .collect();
        let sized = |ids: &[Uuid], counts: &HashMap<Uuid, Counts>| {
            ids.iter()
                .map(|id| {
                    let size = counts.get(id).map_or(0, |c| c.answered);
                    (StreamingMedian::new(size), 0)
                })
                .collect()
        };
        Self {
            own: sized(&locations, own),
            subtree: sized(&subtrees, subtree),
            locations,
            number,
            target_ms,
            chains,
            subtrees,
        }
    }

    /// Feeds the next answered experience of `location`, `delay_ms` after its submission
    /// (ascending delay). An answer exactly on the announced delay is on time. An answer of
    /// a location counted with none is left out (the store reads counts and answers from one
    /// snapshot, so this only guards against a caller that does not).
    pub fn add(&mut self, location: Uuid, delay_ms: i64) {
        let Some(&n) = self.number.get(&location) else {
            return;
        };
        let on_time = u64::from(delay_ms <= self.target_ms[n]);
        let (median, count) = &mut self.own[n];
        median.push(delay_ms as f64);
        *count += on_time;
        for &s in &self.chains[n] {
            let (median, count) = &mut self.subtree[s];
            median.push(delay_ms as f64);
            *count += on_time;
        }
    }

    /// Writes the answers on time and the median delays (in days) into the counts.
    pub fn finish(self, own: &mut HashMap<Uuid, Counts>, subtree: &mut HashMap<Uuid, Counts>) {
        for (ids, tallies, counts) in [
            (self.locations, self.own, own),
            (self.subtrees, self.subtree, subtree),
        ] {
            for (id, (median, on_time)) in ids.into_iter().zip(tallies) {
                if let Some(c) = counts.get_mut(&id) {
                    c.answered_on_time = on_time;
                    c.median_delay_days = median.median().map(|ms| ms / DAY_MS as f64);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::indicators::median_of_sorted;
    use proptest::prelude::*;

    /// Root 0 → regions 1, 2 → sites 3, 4 (under 1) and 5, 6 (under 2).
    fn hierarchy() -> (Vec<Uuid>, HashMap<Uuid, Vec<Uuid>>) {
        let ids: Vec<Uuid> = (0..7u128).map(|n| Uuid::from_u128(n + 1)).collect();
        let parent = [None, Some(0), Some(0), Some(1), Some(1), Some(2), Some(2)];
        let mut ancestors = HashMap::new();
        for n in 0..7 {
            let mut chain = vec![ids[n]];
            let mut at = parent[n];
            while let Some(p) = at {
                chain.push(ids[p]);
                at = parent[p];
            }
            ancestors.insert(ids[n], chain);
        }
        (ids, ancestors)
    }

    proptest! {
        /// Against the definition: every delay of the location (or of its subtree), sorted,
        /// its median, and those within the delay announced by the answer's own location.
        #[test]
        fn medians_and_answers_on_time_equal_the_definition(
            answers in proptest::collection::vec((0usize..7, 0i64..40 * DAY_MS), 0..300),
            targets in proptest::collection::vec(1u32..30, 7),
            on_target in proptest::collection::vec(0usize..7, 0..10),
        ) {
            let (ids, ancestors) = hierarchy();
            // Some answers exactly on their location's announced delay.
            let mut answers = answers;
            answers.extend(on_target.iter().map(|&l| (l, i64::from(targets[l]) * DAY_MS)));
            let target_of = |id: Uuid| targets[ids.iter().position(|i| *i == id).unwrap_or(0)];
            let mut own: HashMap<Uuid, Counts> = HashMap::new();
            for (l, _) in &answers {
                own.entry(ids[*l]).or_default().answered += 1;
            }
            let mut subtree: HashMap<Uuid, Counts> = HashMap::new();
            for (id, c) in &own {
                for a in &ancestors[id] {
                    subtree.entry(*a).or_default().add(c);
                }
            }
            let mut tally = AnswerDelays::new(&own, &subtree, &ancestors, target_of);
            let mut sorted = answers.clone();
            sorted.sort_by_key(|(_, d)| *d);
            for (l, d) in &sorted {
                tally.add(ids[*l], *d);
            }
            tally.finish(&mut own, &mut subtree);

            for (n, id) in ids.iter().enumerate() {
                for (counts, of_scope) in [
                    (&own, Box::new(|l: usize| l == n) as Box<dyn Fn(usize) -> bool>),
                    (&subtree, Box::new(|l: usize| ancestors[&ids[l]].contains(id))),
                ] {
                    let mine: Vec<&(usize, i64)> =
                        answers.iter().filter(|(l, _)| of_scope(*l)).collect();
                    let mut delays: Vec<f64> = mine.iter().map(|(_, d)| *d as f64).collect();
                    delays.sort_by(f64::total_cmp);
                    let on_time = mine
                        .iter()
                        .filter(|(l, d)| *d <= i64::from(targets[*l]) * DAY_MS)
                        .count() as u64;
                    let c = counts.get(id).cloned().unwrap_or_default();
                    prop_assert_eq!(c.answered, mine.len() as u64);
                    prop_assert_eq!(c.answered_on_time, on_time);
                    prop_assert_eq!(
                        c.median_delay_days,
                        median_of_sorted(&delays).map(|ms| ms / DAY_MS as f64)
                    );
                }
            }
        }
    }

    #[test]
    fn an_answer_of_a_location_counted_with_none_is_left_out() {
        let (ids, ancestors) = hierarchy();
        let mut own = HashMap::from([(
            ids[3],
            Counts {
                answered: 1,
                ..Counts::default()
            },
        )]);
        let mut subtree = HashMap::new();
        for a in &ancestors[&ids[3]] {
            subtree.insert(*a, own[&ids[3]].clone());
        }
        let mut tally = AnswerDelays::new(&own, &subtree, &ancestors, |_| 15);
        tally.add(ids[4], DAY_MS);
        tally.add(ids[3], 2 * DAY_MS);
        tally.finish(&mut own, &mut subtree);
        assert_eq!(own[&ids[3]].median_delay_days, Some(2.0));
        assert_eq!(subtree[&ids[0]].median_delay_days, Some(2.0));
        assert_eq!(subtree[&ids[0]].answered_on_time, 1);
        assert!(!own.contains_key(&ids[4]));
    }
}
