//! The « symétrie des attentions »: whether the sites where agents are satisfied are those
//! where the publics are, measured across a network's sites as a Spearman rank correlation.
//!
//! It is a correlation between sites, not a cause: a site where both are high may owe it to
//! a third thing (its size, its premises), and nothing here says that raising one raises the
//! other. Each site's two rates come from its own experiences of the month (computed from
//! raw rows like every figure); only sites where both rates are published take part.

/// One site's two satisfaction rates, in %.
#[derive(Clone, Debug, PartialEq)]
pub struct SitePair<K> {
    pub site: K,
    pub publics: f64,
    pub agents: f64,
}

/// A network's rank correlation.
#[derive(Clone, Debug, PartialEq)]
pub struct Symmetry<K> {
    /// Sites taking part.
    pub sites: usize,
    /// Spearman's ρ, from −1 to 1; `None` when it is undefined (a constant rate).
    pub rho: Option<f64>,
    /// Its 95 % interval (Fisher's z with the Fieller–Hartley–Pearson variance 1.06/(n−3)),
    /// from 5 sites on.
    pub ci: Option<(f64, f64)>,
    /// The sites whose two ranks differ most (largest gap first; ties by key), at most
    /// [`DIVERGENT`] of them, with their gap in ranks (agents' rank minus the publics').
    pub divergent: Vec<(K, f64)>,
}

/// How many diverging sites are named.
pub const DIVERGENT: usize = 5;

/// Fewest sites for a correlation at all.
pub const MIN_SITES: usize = 3;

/// Ranks from 1, ties sharing the mean of their ranks.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = mean;
        }
        i = j + 1;
    }
    out
}

/// Pearson's correlation of two equally long samples; `None` when either is constant.
fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// The rank correlation of `pairs` (fewer than [`MIN_SITES`]: `None`).
pub fn symmetry<K: Clone + Ord>(pairs: &[SitePair<K>]) -> Option<Symmetry<K>> {
    let n = pairs.len();
    if n < MIN_SITES {
        return None;
    }
    let publics = ranks(&pairs.iter().map(|p| p.publics).collect::<Vec<_>>());
    let agents = ranks(&pairs.iter().map(|p| p.agents).collect::<Vec<_>>());
    let rho = pearson(&publics, &agents);
    let ci = rho.filter(|_| n >= 5).map(|r| {
        const Z: f64 = 1.959_963_984_540_054;
        let z = r.clamp(-0.999_999, 0.999_999).atanh();
        let half = Z * (1.06 / (n as f64 - 3.0)).sqrt();
        ((z - half).tanh(), (z + half).tanh())
    });
    let mut divergent: Vec<(K, f64)> = pairs
        .iter()
        .enumerate()
        .map(|(i, p)| (p.site.clone(), agents[i] - publics[i]))
        .collect();
    divergent.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));
    divergent.retain(|(_, gap)| *gap != 0.0);
    divergent.truncate(DIVERGENT);
    Some(Symmetry {
        sites: n,
        rho,
        ci,
        divergent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(values: &[(f64, f64)]) -> Vec<SitePair<usize>> {
        values
            .iter()
            .enumerate()
            .map(|(site, &(publics, agents))| SitePair {
                site,
                publics,
                agents,
            })
            .collect()
    }

    #[test]
    fn ties_share_their_mean_rank() {
        assert_eq!(ranks(&[10.0, 30.0, 10.0, 20.0]), [1.5, 4.0, 1.5, 3.0]);
    }

    #[test]
    fn matches_a_hand_computation() {
        // Publics' ranks 1..6; agents' 2,1,4,3,6,5: Σd² = 6, ρ = 1 − 6·6/(6·35) = 0.828571…
        let s = symmetry(&pairs(&[
            (50.0, 62.0),
            (55.0, 60.0),
            (60.0, 70.0),
            (65.0, 66.0),
            (70.0, 90.0),
            (75.0, 80.0),
        ]))
        .expect("six sites");
        let rho = s.rho.expect("rho");
        assert!((rho - 29.0 / 35.0).abs() < 1e-12, "{rho}");
        // z = atanh(29/35) = 1.183562, half = 1.959964·√(1.06/3) = 1.165039
        let (low, high) = s.ci.expect("ci");
        assert!((low - 0.018521).abs() < 1e-5, "{low}");
        assert!((high - 0.981923).abs() < 1e-5, "{high}");
        assert_eq!(s.sites, 6);
        // Every site is one rank off; the largest gaps first, ties by site.
        assert_eq!(s.divergent.len(), DIVERGENT);
        assert_eq!(s.divergent[0], (0, 1.0));
        assert_eq!(s.divergent[1], (1, -1.0));
    }

    #[test]
    fn too_few_sites_or_a_constant_rate_give_no_correlation() {
        assert!(symmetry(&pairs(&[(50.0, 60.0), (55.0, 65.0)])).is_none());
        let s = symmetry(&pairs(&[(50.0, 60.0), (55.0, 60.0), (70.0, 60.0)])).expect("three");
        assert_eq!(s.rho, None);
        assert_eq!(s.ci, None);
        let s = symmetry(&pairs(&[(50.0, 60.0), (55.0, 65.0), (70.0, 61.0)])).expect("three");
        assert!(
            s.rho.is_some() && s.ci.is_none(),
            "no interval under five sites"
        );
    }

    #[test]
    fn opposite_orders_are_minus_one() {
        let s = symmetry(&pairs(&[
            (1.0, 5.0),
            (2.0, 4.0),
            (3.0, 3.0),
            (4.0, 2.0),
            (5.0, 1.0),
        ]))
        .expect("five");
        assert_eq!(s.rho, Some(-1.0));
        let (low, high) = s.ci.expect("ci");
        assert!(low >= -1.0 && high <= -0.99, "{low} {high}");
    }
}
