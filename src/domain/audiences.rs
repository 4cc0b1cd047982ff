//! Figures per audience: every public an organisation serves gets its own figures beside the
//! headline, and the agents' barometer stays internal.
//!
//! - The **headline** (the published figures of a location) counts the publics served:
//!   every audience [`Audience::is_public`] keeps, never the agents.
//! - The **breakdown** computes the same indicators for each audience on its own: the
//!   experience and answer indicators ([`measured_for`]); the actions are the location's, not
//!   an audience's, so they stay in the headline only.
//! - **Public audiences** follow the location's `min_sample`, then a complementary
//!   suppression ([`breakdown`]): the headline is the sum of the public audiences, so a
//!   figure withheld for one audience could otherwise be read back as the headline minus the
//!   shown ones.
//! - **Agents** are few per site and their experience is about their employer: their figures
//!   follow `min_sample_agents` (never below `min_sample`), and a location with fewer agents'
//!   experiences than that gets no agent figure at all, not even their number.

use super::codes::Audience;
use super::indicators::{Counts, Figure, IndicatorCode, Suppression};

/// The agents' threshold at the root when no location sets one: stricter than the public
/// [`super::location::DEFAULT_MIN_SAMPLE`], since a handful of agents can be recognised.
pub const DEFAULT_MIN_SAMPLE_AGENTS: u32 = 15;

/// The threshold that applies to agents' figures: the inherited `min_sample_agents`, never
/// looser than the public `min_sample`.
pub fn effective_min_sample_agents(min_sample_agents: u32, min_sample: u32) -> u32 {
    min_sample_agents.max(min_sample)
}

/// The indicators computed for `audience`'s experiences alone, in catalogue order. Every
/// audience gets the experience indicators; the publics served also get the answer
/// indicators (the administration answers them publicly); agents' experiences are not
/// answered publicly, so theirs stop at the experience itself.
pub fn measured_for(audience: Audience) -> impl Iterator<Item = IndicatorCode> {
    IndicatorCode::ALL.iter().copied().filter(move |code| {
        use IndicatorCode::*;
        match code {
            Volume | SatisfactionRate | NetSatisfaction | Nps | EffortEasyRate | EffortMean => true,
            ResponseRate | ResponseDelayMedian | ResponseOnTimeRate => audience.is_public(),
            ActionsDone | ActionsOpen => false,
        }
    })
}

/// One audience's figures for a location (or subtree) and month.
#[derive(Clone, Debug, PartialEq)]
pub struct AudienceFigures {
    pub audience: Audience,
    pub figures: Vec<Figure>,
}

/// The breakdown of one location (or subtree) for one month, from each audience's counts
/// (in any order; an audience may be missing). Returns, in [`Audience::ALL`] order:
///
/// - each public audience with at least one counted experience, its figures suppressed
///   below `min_sample`, then complementary suppression per indicator: while the figures
///   withheld for some audiences rest on fewer than `min_sample` experiences in all (but
///   more than none), the shown figure on the smallest sample is withheld too. The headline
///   minus the shown audiences then never reveals a figure on fewer than `min_sample`
///   experiences.
/// - the agents, only when they counted at least `min_sample_agents` experiences (already
///   made effective, see [`effective_min_sample_agents`]), each figure suppressed below it.
pub fn breakdown(
    counts: &[(Audience, Counts)],
    min_sample: u64,
    min_sample_agents: u64,
) -> Vec<AudienceFigures> {
    let mut out: Vec<AudienceFigures> = Vec::new();
    for audience in Audience::ALL {
        let Some((_, c)) = counts.iter().find(|(a, _)| a == audience) else {
            continue;
        };
        if c.volume == 0 {
            continue;
        }
        let threshold = if audience.is_public() {
            min_sample
        } else if c.volume < min_sample_agents {
            continue;
        } else {
            min_sample_agents
        };
        out.push(AudienceFigures {
            audience: *audience,
            figures: measured_for(*audience)
                .map(|code| code.figure(c, threshold))
                .collect(),
        });
    }
    for code in IndicatorCode::ALL {
        if code.definition().suppression == Suppression::BelowMinSample {
            complement(&mut out, *code, min_sample);
        }
    }
    out
}

/// Complementary suppression of `code` among the public audiences of `out`.
fn complement(out: &mut [AudienceFigures], code: IndicatorCode, min_sample: u64) {
    loop {
        let mut hidden = 0;
        let mut smallest_shown: Option<(u64, usize, usize)> = None;
        for (i, a) in out.iter().enumerate() {
            if !a.audience.is_public() {
                continue;
            }
            let Some((j, f)) = a.figures.iter().enumerate().find(|(_, f)| f.code == code) else {
                continue;
            };
            if f.suppressed {
                hidden += f.sample;
            } else if smallest_shown.is_none_or(|(sample, _, _)| f.sample < sample) {
                smallest_shown = Some((f.sample, i, j));
            }
        }
        match smallest_shown {
            Some((_, i, j)) if hidden > 0 && hidden < min_sample => {
                let f = &mut out[i].figures[j];
                f.value = None;
                f.ci = None;
                f.suppressed = true;
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::indicators::compute;
    use proptest::prelude::*;

    fn counts(volume: u64, positive: u64) -> Counts {
        Counts {
            volume,
            positive,
            negative: volume - positive,
            ..Counts::default()
        }
    }

    fn figure(of: &[AudienceFigures], audience: Audience, code: IndicatorCode) -> Option<Figure> {
        of.iter()
            .find(|a| a.audience == audience)
            .and_then(|a| a.figures.iter().find(|f| f.code == code).copied())
    }

    #[test]
    fn agents_measure_their_experience_not_the_answers_and_nobody_the_actions() {
        let agents: Vec<_> = measured_for(Audience::Agent).collect();
        assert!(agents.contains(&IndicatorCode::SatisfactionRate));
        assert!(!agents.contains(&IndicatorCode::ResponseRate));
        for audience in Audience::ALL {
            assert!(
                measured_for(*audience)
                    .all(|c| !matches!(c, IndicatorCode::ActionsDone | IndicatorCode::ActionsOpen)),
                "{audience}"
            );
        }
        assert_eq!(measured_for(Audience::Usager).count(), 9);
    }

    #[test]
    fn a_small_team_of_agents_gets_no_figure_at_all() {
        let of = breakdown(
            &[
                (Audience::Usager, counts(40, 30)),
                (Audience::Agent, counts(14, 3)),
            ],
            10,
            15,
        );
        assert_eq!(of.len(), 1, "{of:?}");
        assert_eq!(of[0].audience, Audience::Usager);
        let of = breakdown(&[(Audience::Agent, counts(15, 3))], 10, 15);
        let rate = figure(&of, Audience::Agent, IndicatorCode::SatisfactionRate).expect("rate");
        assert_eq!(rate.value, Some(20.0));
        assert_eq!(rate.sample, 15);
    }

    #[test]
    fn the_agents_threshold_is_never_looser_than_the_public_one() {
        assert_eq!(effective_min_sample_agents(15, 10), 15);
        assert_eq!(effective_min_sample_agents(5, 20), 20);
    }

    #[test]
    fn one_withheld_audience_takes_the_smallest_shown_one_with_it() {
        // Headline 60 experiences; volunteers (4) withheld, so the partners (12) must go
        // too, or the headline minus usagers and partners would give the volunteers' rate.
        let of = breakdown(
            &[
                (Audience::Usager, counts(44, 30)),
                (Audience::Partner, counts(12, 6)),
                (Audience::Volunteer, counts(4, 1)),
            ],
            10,
            15,
        );
        let rate = |a| figure(&of, a, IndicatorCode::SatisfactionRate).expect("rate");
        assert!(rate(Audience::Volunteer).suppressed);
        assert!(rate(Audience::Partner).suppressed, "complementary");
        assert!(!rate(Audience::Usager).suppressed);
        // Counts are never withheld: they are the samples shown beside every figure.
        let volume = figure(&of, Audience::Volunteer, IndicatorCode::Volume).expect("volume");
        assert_eq!(volume.value, Some(4.0));
    }

    #[test]
    fn withheld_audiences_together_above_the_threshold_need_nothing_more() {
        let of = breakdown(
            &[
                (Audience::Usager, counts(44, 30)),
                (Audience::Partner, counts(12, 6)),
                (Audience::Volunteer, counts(6, 1)),
                (Audience::Donor, counts(5, 1)),
            ],
            10,
            15,
        );
        let rate = |a| figure(&of, a, IndicatorCode::SatisfactionRate).expect("rate");
        assert!(rate(Audience::Volunteer).suppressed && rate(Audience::Donor).suppressed);
        assert!(!rate(Audience::Partner).suppressed, "11 withheld together");
    }

    #[test]
    fn an_audience_with_no_experience_is_not_listed() {
        let of = breakdown(
            &[
                (Audience::Usager, counts(20, 10)),
                (Audience::Donor, Counts::default()),
            ],
            10,
            15,
        );
        assert_eq!(of.len(), 1);
    }

    proptest! {
        /// Whatever the audiences' sizes, the headline minus every shown public figure
        /// leaves either nothing or at least `min_sample` experiences.
        #[test]
        fn no_figure_below_the_threshold_can_be_read_by_difference(
            sizes in proptest::collection::vec((0u64..30, 0u64..30), 6),
            min_sample in 1u64..15,
        ) {
            let publics: Vec<Audience> =
                Audience::ALL.iter().copied().filter(|a| a.is_public()).collect();
            let input: Vec<(Audience, Counts)> = publics
                .iter()
                .zip(&sizes)
                .map(|(a, (v, p))| (*a, counts(*v, (*p).min(*v))))
                .collect();
            let total = input.iter().fold(Counts::default(), |mut t, (_, c)| {
                t.add(c);
                t
            });
            let headline = compute(&total, min_sample);
            let of = breakdown(&input, min_sample, 15);
            for code in IndicatorCode::ALL {
                let Some(h) = headline.iter().find(|f| f.code == *code) else { continue };
                if h.suppressed || code.definition().suppression == Suppression::Never {
                    continue;
                }
                let shown: u64 = publics
                    .iter()
                    .filter_map(|a| figure(&of, *a, *code))
                    .filter(|f| !f.suppressed)
                    .map(|f| f.sample)
                    .sum();
                let rest = h.sample - shown;
                prop_assert!(rest == 0 || rest >= min_sample, "{code}: {rest} left");
            }
        }
    }
}
