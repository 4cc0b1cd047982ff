//! The monthly indicators of docs/product.md, computed from counts. Pure functions: the store
//! gathers the counts (in SQL) and the delays (streamed in order), this module turns them into
//! figures with their sample sizes, 95 % intervals and the suppression rule.
//!
//! Intervals: proportions (rates) carry a Wilson score interval; net scores (satisfaction
//! nette, NPS: share of a category minus share of another) carry the Wald interval of a
//! difference of multinomial proportions; means carry a normal interval. Counts (VOLUME,
//! ACTIONS_*) are never suppressed: they are the sample sizes shown beside every figure. Every
//! other figure whose sample is below the location's `min_sample` is suppressed.

use super::codes::{Direction, Frequency, coded_enum};

/// z for a two-sided 95 % interval.
const Z: f64 = 1.959_963_984_540_054;

/// Everything counted for one location (or subtree) and one month.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    /// Counted experiences (all but rejected as out of scope, spam or duplicate).
    pub volume: u64,
    pub positive: u64,
    pub negative: u64,
    /// Experiences with an NPS answer, and among them 9–10 and 0–6.
    pub nps_answers: u64,
    pub promoters: u64,
    pub detractors: u64,
    /// Experiences with an effort score, among them 5–7, and the sum of the scores.
    pub effort_answers: u64,
    pub effort_easy: u64,
    pub effort_sum: u64,
    pub effort_sum_squares: u64,
    /// Published experiences, those with a published answer, and those answered within the
    /// announced delay of their location.
    pub published: u64,
    pub answered: u64,
    pub answered_on_time: u64,
    /// Median days from submission to first published answer, among answered ones.
    pub median_delay_days: Option<f64>,
    pub actions_done: u64,
    pub actions_open: u64,
}

impl Counts {
    /// Adds the counts of `other` (a descendant's, in a subtree rollup). Every count is a
    /// sum over experiences or actions, so sums of disjoint parts are exact. The median is
    /// not additive and is left alone.
    pub fn add(&mut self, other: &Counts) {
        // Destructured, so that a new count does not compile until it is summed here.
        let Counts {
            volume,
            positive,
            negative,
            nps_answers,
            promoters,
            detractors,
            effort_answers,
            effort_easy,
            effort_sum,
            effort_sum_squares,
            published,
            answered,
            answered_on_time,
            median_delay_days: _,
            actions_done,
            actions_open,
        } = other;
        self.volume += volume;
        self.positive += positive;
        self.negative += negative;
        self.nps_answers += nps_answers;
        self.promoters += promoters;
        self.detractors += detractors;
        self.effort_answers += effort_answers;
        self.effort_easy += effort_easy;
        self.effort_sum += effort_sum;
        self.effort_sum_squares += effort_sum_squares;
        self.published += published;
        self.answered += answered;
        self.answered_on_time += answered_on_time;
        self.actions_done += actions_done;
        self.actions_open += actions_open;
    }
}

coded_enum!(
    /// The indicators boucle computes from the experiences, in catalogue order. Each one's
    /// wording, unit, direction, suppression rule and formula are the `match` arms below:
    /// a new variant does not compile until it has all of them, and the catalogue's row
    /// is derived from [`IndicatorCode::definition`] when the database is migrated
    /// (`store::indicators`), so no step of adding one can be forgotten silently.
    IndicatorCode {
        Volume => "VOLUME",
        SatisfactionRate => "SATISFACTION_RATE",
        NetSatisfaction => "NET_SATISFACTION",
        Nps => "NPS",
        EffortEasyRate => "EFFORT_EASY_RATE",
        EffortMean => "EFFORT_MEAN",
        ResponseRate => "RESPONSE_RATE",
        ResponseDelayMedian => "RESPONSE_DELAY_MEDIAN",
        ResponseOnTimeRate => "RESPONSE_ON_TIME_RATE",
        ActionsDone => "ACTIONS_DONE",
        ActionsOpen => "ACTIONS_OPEN",
    }
);

coded_enum!(
    /// Which experiences a figure describes.
    Scope {
        /// The location's own experiences.
        SelfOnly => "SELF",
        /// The location and everything below it.
        Subtree => "SUBTREE",
    }
);

/// A value with its 95 % interval when it has one, unrounded.
type Estimate = (f64, Option<(f64, f64)>);

/// When a figure is withheld.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suppression {
    /// A count: it is the sample size shown beside every other figure, never withheld.
    Never,
    /// Withheld when its sample is below the location's `min_sample`.
    BelowMinSample,
}

/// What the catalogue says of a computed indicator when it is first seeded (the wording
/// may be versioned later by an administrator; unit, direction and frequency may not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Definition {
    pub title: &'static str,
    pub unit: &'static str,
    pub direction: Direction,
    pub frequency: Frequency,
    pub methodology: &'static str,
    pub suppression: Suppression,
}

impl IndicatorCode {
    /// The indicator's definition: its catalogue text and its rules.
    pub const fn definition(self) -> Definition {
        use Direction::{HigherIsBetter as Up, LowerIsBetter as Down, Neutral};
        use IndicatorCode::*;
        let (title, unit, direction, methodology) = match self {
            Volume => (
                "Nombre d'expériences",
                "count",
                Neutral,
                "Expériences déposées dans le mois, hors expériences rejetées comme hors sujet, spam ou doublon.",
            ),
            SatisfactionRate => (
                "Taux de satisfaction",
                "%",
                Up,
                "Part des expériences positives parmi les expériences comptées.",
            ),
            NetSatisfaction => (
                "Satisfaction nette",
                "points",
                Up,
                "Part des expériences positives moins part des expériences négatives, en points.",
            ),
            Nps => (
                "Net Promoter Score",
                "points",
                Up,
                "Part des notes 9–10 moins part des notes 0–6, parmi les expériences notées.",
            ),
            EffortEasyRate => (
                "Facilité des démarches",
                "%",
                Up,
                "Part des notes d'effort 5 à 7 (7 = très facile) parmi les expériences notées.",
            ),
            EffortMean => (
                "Note d'effort moyenne",
                "/7",
                Up,
                "Moyenne des notes d'effort (1 à 7, 7 = très facile).",
            ),
            ResponseRate => (
                "Taux de réponse",
                "%",
                Up,
                "Part des expériences publiées ayant reçu une réponse publiée.",
            ),
            ResponseDelayMedian => (
                "Délai médian de réponse",
                "jours",
                Down,
                "Médiane des jours entre le dépôt et la première réponse publiée.",
            ),
            ResponseOnTimeRate => (
                "Réponses dans le délai annoncé",
                "%",
                Up,
                "Part des expériences publiées ayant reçu une réponse publiée dans le délai annoncé.",
            ),
            ActionsDone => (
                "Actions d'amélioration réalisées",
                "count",
                Up,
                "Actions d'amélioration passées au statut réalisé dans le mois.",
            ),
            ActionsOpen => (
                "Actions d'amélioration en cours",
                "count",
                Neutral,
                "Actions d'amélioration prévues ou en cours à la fin du mois.",
            ),
        };
        let suppression = match self {
            Volume | ActionsDone | ActionsOpen => Suppression::Never,
            SatisfactionRate | NetSatisfaction | Nps | EffortEasyRate | EffortMean
            | ResponseRate | ResponseDelayMedian | ResponseOnTimeRate => {
                Suppression::BelowMinSample
            }
        };
        Definition {
            title,
            unit,
            direction,
            frequency: Frequency::Monthly,
            methodology,
            suppression,
        }
    }

    /// The formula: the figure's sample size and, when computable, its value with its 95 %
    /// interval (unrounded).
    fn measure(self, c: &Counts) -> (u64, Option<Estimate>) {
        use IndicatorCode::*;
        match self {
            Volume => (c.volume, Some((c.volume as f64, None))),
            SatisfactionRate => (c.volume, percent(c.positive, c.volume)),
            NetSatisfaction => (c.volume, points(c.positive, c.negative, c.volume)),
            Nps => (
                c.nps_answers,
                points(c.promoters, c.detractors, c.nps_answers),
            ),
            EffortEasyRate => (c.effort_answers, percent(c.effort_easy, c.effort_answers)),
            EffortMean => (
                c.effort_answers,
                mean(c.effort_sum, c.effort_sum_squares, c.effort_answers),
            ),
            ResponseRate => (c.published, percent(c.answered, c.published)),
            ResponseDelayMedian => (c.answered, c.median_delay_days.map(|d| (d, None))),
            ResponseOnTimeRate => (c.published, percent(c.answered_on_time, c.published)),
            ActionsDone => (c.actions_done, Some((c.actions_done as f64, None))),
            ActionsOpen => (c.actions_open, Some((c.actions_open as f64, None))),
        }
    }

    /// This indicator's figure for `counts`, withheld below `min_sample` when its rule says so.
    pub fn figure(self, counts: &Counts, min_sample: u64) -> Figure {
        let (sample, measured) = self.measure(counts);
        let withheld = match self.definition().suppression {
            Suppression::Never => false,
            Suppression::BelowMinSample => sample < min_sample,
        };
        match measured {
            Some((value, ci)) if !withheld => Figure {
                code: self,
                value: Some(round1(value)),
                sample,
                ci: ci.map(|(l, h)| (round1(l), round1(h))),
                suppressed: false,
            },
            _ => Figure {
                code: self,
                value: None,
                sample,
                ci: None,
                suppressed: true,
            },
        }
    }
}

/// One figure of a computed indicator, from the aggregation to the PDF, the open data and
/// the API: `value` and `ci` are `None` when suppressed (or not computable, which is
/// published the same way).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figure {
    pub code: IndicatorCode,
    pub value: Option<f64>,
    pub sample: u64,
    pub ci: Option<(f64, f64)>,
    pub suppressed: bool,
}

/// 95 % Wilson score interval of `successes` out of `n`, as fractions.
pub fn wilson(successes: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Share of `a` minus share of `b` among `n`, with its Wald interval, as fractions.
fn net(a: u64, b: u64, n: u64) -> Option<(f64, (f64, f64))> {
    if n == 0 {
        return None;
    }
    let n_f = n as f64;
    let (pa, pb) = (a as f64 / n_f, b as f64 / n_f);
    let d = pa - pb;
    let variance = ((pa + pb) - d * d) / n_f;
    let half = Z * variance.max(0.0).sqrt();
    Some((d, ((d - half).max(-1.0), (d + half).min(1.0))))
}

/// Rounds to one decimal, so that stored and published figures are stable across databases.
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn percent(successes: u64, n: u64) -> Option<Estimate> {
    (n > 0).then(|| {
        (
            100.0 * successes as f64 / n as f64,
            wilson(successes, n).map(|(l, h)| (100.0 * l, 100.0 * h)),
        )
    })
}

fn points(a: u64, b: u64, n: u64) -> Option<Estimate> {
    net(a, b, n).map(|(d, (l, h))| (100.0 * d, Some((100.0 * l, 100.0 * h))))
}

fn mean(sum: u64, sum_squares: u64, n: u64) -> Option<Estimate> {
    if n == 0 {
        return None;
    }
    let n_f = n as f64;
    let m = sum as f64 / n_f;
    let ci = (n > 1).then(|| {
        let variance = ((sum_squares as f64 - n_f * m * m) / (n_f - 1.0)).max(0.0);
        let half = Z * (variance / n_f).sqrt();
        (m - half, m + half)
    });
    Some((m, ci))
}

/// Every indicator of the catalogue for `counts`, suppressing below `min_sample`.
pub fn compute(c: &Counts, min_sample: u64) -> Vec<Figure> {
    IndicatorCode::ALL
        .iter()
        .map(|code| code.figure(c, min_sample))
        .collect()
}

/// The median of a sorted sample (mean of the two middle values for an even count).
pub fn median_of_sorted(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Finds the median of a group while its values stream by in ascending order, knowing the
/// group's size in advance: memory stays constant whatever the size.
#[derive(Debug)]
pub struct StreamingMedian {
    size: u64,
    seen: u64,
    lower: Option<f64>,
    result: Option<f64>,
}

impl StreamingMedian {
    pub fn new(size: u64) -> Self {
        Self {
            size,
            seen: 0,
            lower: None,
            result: None,
        }
    }

    /// Feeds the next value (ascending order).
    pub fn push(&mut self, value: f64) {
        self.seen += 1;
        if self.size == 0 || self.result.is_some() {
            return;
        }
        if self.size % 2 == 1 {
            if self.seen == self.size / 2 + 1 {
                self.result = Some(value);
            }
        } else if self.seen == self.size / 2 {
            self.lower = Some(value);
        } else if self.seen == self.size / 2 + 1 {
            self.result = self.lower.map(|l| (l + value) / 2.0);
        }
    }

    pub fn median(&self) -> Option<f64> {
        self.result
    }
}

/// What gives an indicator's figures their meaning: a definition changes it or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meaning<'a> {
    pub unit: &'a str,
    pub direction: Direction,
    pub frequency: Frequency,
}

/// Whether an indicator defined as `current` may be defined again as `next`. A computed
/// indicator's figures come from boucle's own formula: its unit, direction and frequency are
/// that formula's, and changing them would publish the same numbers under another meaning on
/// every network. Only its wording (title, methodology) may change, as a new version. A
/// reported indicator is the administration's own and may be redefined entirely.
pub fn check_redefinition(
    kind: super::codes::IndicatorKind,
    current: Meaning<'_>,
    next: Meaning<'_>,
) -> crate::Result<()> {
    use super::codes::IndicatorKind;
    match kind {
        IndicatorKind::Reported => Ok(()),
        IndicatorKind::Computed => {
            let changed: Vec<&str> = [
                ("unit", current.unit != next.unit),
                ("direction", current.direction != next.direction),
                ("frequency", current.frequency != next.frequency),
            ]
            .into_iter()
            .filter_map(|(field, changed)| changed.then_some(field))
            .collect();
            if changed.is_empty() {
                Ok(())
            } else {
                Err(crate::Error::FailedPrecondition(format!(
                    "a computed indicator's {} cannot change (it is boucle's formula); only \
                     its title and methodology can",
                    changed.join(", ")
                )))
            }
        }
    }
}

/// What ranks a network's children against each other.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankKey<'a> {
    /// The published satisfaction rate; `None` when suppressed or absent.
    pub satisfaction: Option<f64>,
    pub volume: u64,
    pub code: &'a str,
}

/// How a network's children are ranked, in the summary report and in the public comparison
/// alike: by satisfaction as it is shown (to one decimal, so that two equal-looking figures
/// tie), those without a published one last; then by volume, largest first; then by code.
pub fn rank_order(a: RankKey<'_>, b: RankKey<'_>) -> std::cmp::Ordering {
    let shown = |k: &RankKey<'_>| k.satisfaction.map(|s| (s * 10.0).round() as i64);
    match (shown(&a), shown(&b)) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
    .then_with(|| b.volume.cmp(&a.volume))
    .then_with(|| a.code.cmp(b.code))
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_computed_indicator_keeps_its_meaning_and_a_reported_one_may_change() {
        use super::{Direction, Frequency, Meaning, check_redefinition};
        use crate::domain::codes::IndicatorKind;
        let rate = Meaning {
            unit: "%",
            direction: Direction::HigherIsBetter,
            frequency: Frequency::Monthly,
        };
        let reworded = rate;
        assert!(check_redefinition(IndicatorKind::Computed, rate, reworded).is_ok());
        let other = Meaning {
            unit: "points",
            direction: Direction::LowerIsBetter,
            ..rate
        };
        let refused = check_redefinition(IndicatorKind::Computed, rate, other);
        assert!(
            matches!(&refused, Err(crate::Error::FailedPrecondition(m)) if m.contains("unit, direction")),
            "{refused:?}"
        );
        assert!(check_redefinition(IndicatorKind::Reported, rate, other).is_ok());
    }

    #[test]
    fn rollup_adds_every_count_and_leaves_the_median() {
        let part = Counts {
            volume: 10,
            positive: 6,
            negative: 2,
            nps_answers: 8,
            promoters: 3,
            detractors: 1,
            effort_answers: 5,
            effort_easy: 4,
            effort_sum: 27,
            effort_sum_squares: 151,
            published: 9,
            answered: 7,
            answered_on_time: 5,
            median_delay_days: Some(2.5),
            actions_done: 1,
            actions_open: 2,
        };
        let mut total = Counts::default();
        total.add(&part);
        total.add(&part);
        assert_eq!(total.volume, 20);
        assert_eq!(total.effort_sum_squares, 302);
        assert_eq!(total.answered_on_time, 10);
        assert_eq!(total.actions_open, 4);
        assert_eq!(total.median_delay_days, None);
        // Figures from summed counts equal figures computed on the whole.
        let doubled = Counts {
            median_delay_days: None,
            ..part.clone()
        };
        let whole = Counts {
            volume: 20,
            positive: 12,
            negative: 4,
            nps_answers: 16,
            promoters: 6,
            detractors: 2,
            effort_answers: 10,
            effort_easy: 8,
            effort_sum: 54,
            effort_sum_squares: 302,
            published: 18,
            answered: 14,
            answered_on_time: 10,
            actions_done: 2,
            actions_open: 4,
            ..doubled
        };
        assert_eq!(total, whole);
    }
    use super::*;
    use proptest::prelude::*;

    fn by_code<'a>(figures: &'a [Figure], code: &str) -> &'a Figure {
        figures
            .iter()
            .find(|f| f.code.code() == code)
            .unwrap_or(&figures[0])
    }

    #[test]
    fn wilson_matches_a_published_value() {
        // 8 successes out of 10: Wilson 95 % interval ≈ [0.490, 0.943].
        let (l, h) = wilson(8, 10).unwrap_or_default();
        assert!(
            (l - 0.4902).abs() < 1e-3 && (h - 0.9433).abs() < 1e-3,
            "{l} {h}"
        );
        assert_eq!(wilson(0, 0), None);
        let (l, h) = wilson(0, 5).unwrap_or_default();
        assert!(l == 0.0 && h > 0.0);
    }

    #[test]
    fn a_hand_computed_month() {
        let c = Counts {
            volume: 20,
            positive: 12,
            negative: 5,
            nps_answers: 10,
            promoters: 4,
            detractors: 3,
            effort_answers: 8,
            effort_easy: 6,
            effort_sum: 40,
            effort_sum_squares: 220,
            published: 16,
            answered: 12,
            answered_on_time: 9,
            median_delay_days: Some(3.25),
            actions_done: 2,
            actions_open: 5,
        };
        let f = compute(&c, 5);
        assert_eq!(by_code(&f, "VOLUME").value, Some(20.0));
        assert_eq!(by_code(&f, "SATISFACTION_RATE").value, Some(60.0));
        assert_eq!(by_code(&f, "NET_SATISFACTION").value, Some(35.0));
        assert_eq!(by_code(&f, "NPS").value, Some(10.0));
        assert_eq!(by_code(&f, "EFFORT_EASY_RATE").value, Some(75.0));
        assert_eq!(by_code(&f, "EFFORT_MEAN").value, Some(5.0));
        assert_eq!(by_code(&f, "RESPONSE_RATE").value, Some(75.0));
        assert_eq!(by_code(&f, "RESPONSE_DELAY_MEDIAN").value, Some(3.3));
        assert_eq!(by_code(&f, "RESPONSE_ON_TIME_RATE").value, Some(56.3));
        assert_eq!(by_code(&f, "ACTIONS_DONE").value, Some(2.0));
        let sat = by_code(&f, "SATISFACTION_RATE");
        assert_eq!(sat.sample, 20);
        assert_eq!(sat.ci, Some((38.7, 78.1)));
    }

    #[test]
    fn below_the_threshold_figures_are_suppressed_and_at_it_they_are_not() {
        let c = Counts {
            volume: 9,
            positive: 9,
            ..Counts::default()
        };
        let below = compute(&c, 10);
        let sat = by_code(&below, "SATISFACTION_RATE");
        assert!(sat.suppressed && sat.value.is_none() && sat.ci.is_none());
        assert_eq!(sat.sample, 9, "the sample size is still given");
        assert!(
            !by_code(&below, "VOLUME").suppressed,
            "counts are never suppressed"
        );
        let at = compute(
            &Counts {
                volume: 10,
                positive: 10,
                ..c
            },
            10,
        );
        assert_eq!(by_code(&at, "SATISFACTION_RATE").value, Some(100.0));
    }

    #[test]
    fn counts_are_never_withheld_and_every_other_figure_follows_min_sample() {
        let c = Counts {
            volume: 3,
            positive: 3,
            nps_answers: 3,
            promoters: 3,
            effort_answers: 3,
            effort_easy: 3,
            effort_sum: 21,
            effort_sum_squares: 147,
            published: 3,
            answered: 3,
            answered_on_time: 3,
            median_delay_days: Some(1.0),
            actions_done: 3,
            actions_open: 3,
            ..Counts::default()
        };
        for code in IndicatorCode::ALL {
            let below = code.figure(&c, 4);
            let at = code.figure(&c, 3);
            assert_eq!(below.code, *code);
            assert!(!at.suppressed && at.value.is_some(), "{code} at min_sample");
            match code.definition().suppression {
                Suppression::Never => assert!(!below.suppressed, "{code}"),
                Suppression::BelowMinSample => {
                    assert!(below.suppressed && below.value.is_none() && below.ci.is_none())
                }
            }
        }
    }

    #[test]
    fn an_empty_month_has_zero_counts_and_no_rates() {
        let f = compute(&Counts::default(), 1);
        assert_eq!(by_code(&f, "VOLUME").value, Some(0.0));
        assert!(by_code(&f, "SATISFACTION_RATE").suppressed);
        assert!(by_code(&f, "RESPONSE_DELAY_MEDIAN").suppressed);
    }

    #[test]
    fn medians() {
        assert_eq!(median_of_sorted(&[1.0, 2.0, 10.0]), Some(2.0));
        assert_eq!(median_of_sorted(&[1.0, 2.0, 4.0, 10.0]), Some(3.0));
        assert_eq!(median_of_sorted(&[]), None);
    }

    proptest! {
        #[test]
        fn wilson_contains_the_observed_rate(n in 1u64..10_000, k_frac in 0.0f64..=1.0) {
            let k = ((n as f64) * k_frac).floor() as u64;
            let (l, h) = wilson(k, n).unwrap_or((1.0, 0.0));
            let p = k as f64 / n as f64;
            prop_assert!(0.0 <= l && l <= p + 1e-12 && p <= h + 1e-12 && h <= 1.0);
        }

        #[test]
        fn streaming_median_equals_the_sorted_median(mut values in proptest::collection::vec(0.0f64..1000.0, 0..200)) {
            values.sort_by(f64::total_cmp);
            let mut s = StreamingMedian::new(values.len() as u64);
            for v in &values {
                s.push(*v);
            }
            prop_assert_eq!(s.median(), median_of_sorted(&values));
        }
    }

    #[test]
    fn children_rank_by_shown_satisfaction_then_volume_then_code() {
        let key = |satisfaction, volume, code| RankKey {
            satisfaction,
            volume,
            code,
        };
        let mut keys = [
            key(None, 900, "A"),
            key(Some(80.04), 10, "B"),
            key(Some(80.0), 20, "C"),
            key(Some(91.0), 1, "D"),
            key(None, 900, "0"),
            key(Some(80.0), 20, "A"),
        ];
        keys.sort_by(|a, b| rank_order(*a, *b));
        let codes: Vec<&str> = keys.iter().map(|k| k.code).collect();
        // 80.04 shows as 80.0: it ties with 80.0, and volume decides.
        assert_eq!(codes, ["D", "A", "C", "B", "0", "A"]);
    }
}
