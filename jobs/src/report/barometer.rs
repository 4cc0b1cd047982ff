//! The agents' barometer, as an internal section of the message delivered to a location's
//! administrators: never in a PDF, an HTML twin or anything published. The agents'
//! satisfaction beside the publics', month by month with their intervals, and, for a
//! location with sites below it, the « symétrie des attentions » across them.

use boucle::domain::Period;
use boucle::domain::indicators::{Figure, IndicatorCode, Scope};
use boucle::domain::symmetry::{SitePair, Symmetry};
use boucle::domain::{Audience, french};
use boucle::store::Store;
use boucle::store::locations::LocationView;

use super::format::{decimal, integer, number, period_long, quoted};
use crate::JobError;

/// What the section says.
#[derive(Clone, Debug, PartialEq)]
pub struct Barometer {
    pub location_name: String,
    pub min_sample_agents: u32,
    /// Oldest first, the months that have figures: the publics' satisfaction rate and the
    /// agents' (`None`: fewer agents' experiences than the threshold).
    pub months: Vec<(Period, Figure, Option<Figure>)>,
    /// The correlation across the subtree, with each location's two rates.
    pub symmetry: Option<(Symmetry<String>, Vec<SitePair<String>>)>,
}

/// Reads the barometer of `location` (its whole subtree) for the twelve months ending with
/// `period`.
pub async fn read(
    store: &Store,
    location: &LocationView,
    period: Period,
) -> Result<Barometer, JobError> {
    let id = location.location.id;
    let mut first = period;
    for _ in 1..boucle::app::results::HISTORY_MONTHS {
        first = first.previous();
    }
    let rate = |f: &&boucle::store::aggregates::StoredFigure| {
        f.figure.code == IndicatorCode::SatisfactionRate
    };
    let publics = store
        .aggregates_of(id, Scope::Subtree, first, period)
        .await?;
    let agents = store
        .audience_aggregates_of(id, Scope::Subtree, Audience::Agent, first, period)
        .await?;
    let mut months = Vec::new();
    for p in publics.iter().filter(rate) {
        let Ok(month) = p.period.parse::<Period>() else {
            continue;
        };
        let agent = agents
            .iter()
            .filter(rate)
            .find(|a| a.period == p.period)
            .map(|a| a.figure);
        months.push((month, p.figure, agent));
    }
    let (symmetry, pairs) = boucle::app::indicators::symmetry_of(store, id, period).await?;
    Ok(Barometer {
        location_name: location.location.name.clone(),
        min_sample_agents: location.effective_min_sample_agents,
        months,
        symmetry: symmetry.map(|s| (s, pairs)),
    })
}

/// A satisfaction figure with its sample and interval: « 62,5 % sur 16 avis
/// (intervalle à 95 % : 38,6 à 81,5 %) », or why it is not shown.
fn satisfaction(f: &Figure) -> String {
    match (f.value, f.suppressed) {
        (Some(v), false) => {
            let interval =
                f.ci.map(|(low, high)| {
                    format!(
                        " (intervalle à 95 % : {} à {} %)",
                        decimal(low),
                        decimal(high)
                    )
                })
                .unwrap_or_default();
            format!("{} % sur {} avis{interval}", decimal(v), integer(f.sample))
        }
        _ => format!("données insuffisantes ({} avis)", integer(f.sample)),
    }
}

/// The section's text (before [`super::format::typeset`], which the message applies).
pub fn text(b: &Barometer) -> String {
    let mut out = String::from(
        "Baromètre interne des agents — réservé à l'administration, à ne pas diffuser\n\n",
    );
    let threshold = integer(u64::from(b.min_sample_agents));
    if b.months.iter().all(|(_, _, agents)| agents.is_none()) {
        out.push_str(&format!(
            "Les agents de {} et des structures rattachées ont déposé moins de {threshold} avis chaque mois : \
             aucun résultat n'est communiqué, pour qu'aucun agent ne puisse être reconnu.\n",
            quoted(&b.location_name)
        ));
    } else {
        out.push_str(&format!(
            "Satisfaction des agents de {} et des structures rattachées, à côté de celle des publics qu'elles servent ({}) :\n",
            quoted(&b.location_name),
            Audience::ALL
                .iter()
                .filter(|a| a.is_public())
                .map(|a| french::audience(*a))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for (month, publics, agents) in &b.months {
            let agents = match agents {
                Some(f) => satisfaction(f),
                None => format!("moins de {threshold} avis, non communiqué"),
            };
            out.push_str(&format!(
                "- {} : agents {agents} ; publics {}\n",
                period_long(&month.to_string()),
                satisfaction(publics)
            ));
        }
    }
    if let Some((s, pairs)) = &b.symmetry {
        out.push_str(&format!(
            "\nSymétrie des attentions entre les {} structures où les deux taux sont publiés ce mois-ci : ",
            integer(s.sites as u64)
        ));
        match s.rho {
            Some(rho) => {
                out.push_str(&format!(
                    "corrélation de rang de Spearman {}",
                    number(rho, 2)
                ));
                if let Some((low, high)) = s.ci {
                    out.push_str(&format!(
                        " (intervalle à 95 % : {} à {})",
                        number(low, 2),
                        number(high, 2)
                    ));
                }
                out.push_str(".\n");
            }
            None => out.push_str("non calculable (un des taux est le même partout).\n"),
        }
        let divergent: Vec<String> = s
            .divergent
            .iter()
            .filter_map(|(code, _)| {
                let p = pairs.iter().find(|p| &p.site == code)?;
                Some(format!(
                    "{code} (agents {} %, publics {} %)",
                    decimal(p.agents),
                    decimal(p.publics)
                ))
            })
            .collect();
        if !divergent.is_empty() {
            out.push_str(&format!(
                "Classements les plus éloignés : {}.\n",
                divergent.join(", ")
            ));
        }
        out.push_str(
            "Une corrélation entre structures n'est pas une cause : des structures où les deux \
             taux sont hauts peuvent le devoir à autre chose (leur taille, leurs locaux).\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(value: Option<f64>, sample: u64, ci: Option<(f64, f64)>) -> Figure {
        Figure {
            code: IndicatorCode::SatisfactionRate,
            value,
            sample,
            ci,
            suppressed: value.is_none(),
        }
    }

    #[test]
    fn months_side_by_side_and_the_symmetry_with_its_caveat() {
        let b = Barometer {
            location_name: "Réseau S".into(),
            min_sample_agents: 15,
            months: vec![
                (
                    "2026-09".parse().expect("p"),
                    rate(Some(70.0), 230, Some((64.0, 75.5))),
                    None,
                ),
                (
                    "2026-10".parse().expect("p"),
                    rate(Some(71.0), 1_230, Some((68.4, 73.4))),
                    Some(rate(Some(62.5), 16, Some((38.6, 81.5)))),
                ),
            ],
            symmetry: Some((
                Symmetry {
                    sites: 5,
                    rho: Some(0.820_783),
                    ci: Some((-0.26145, 0.98872)),
                    divergent: vec![("S-3".into(), 1.5)],
                },
                vec![SitePair {
                    site: "S-3".into(),
                    publics: 60.0,
                    agents: 100.0,
                }],
            )),
        };
        let t = text(&b);
        assert!(t.contains("- septembre 2026 : agents moins de 15 avis, non communiqué ; publics 70,0 % sur 230 avis"), "{t}");
        assert!(t.contains("- octobre 2026 : agents 62,5 % sur 16 avis (intervalle à 95 % : 38,6 à 81,5 %) ; publics 71,0 % sur 1\u{202f}230 avis"), "{t}");
        assert!(
            t.contains("Spearman 0,82 (intervalle à 95 % : \u{2212}0,26 à 0,99)"),
            "{t}"
        );
        assert!(t.contains("S-3 (agents 100,0 %, publics 60,0 %)"), "{t}");
        assert!(t.contains("n'est pas une cause"));
    }

    #[test]
    fn too_few_agents_every_month_says_so_and_nothing_else() {
        let b = Barometer {
            location_name: "Site".into(),
            min_sample_agents: 15,
            months: vec![(
                "2026-10".parse().expect("p"),
                rate(Some(50.0), 40, None),
                None,
            )],
            symmetry: None,
        };
        let t = text(&b);
        assert!(t.contains("moins de 15 avis chaque mois"), "{t}");
        assert!(!t.contains("publics 50"), "{t}");
    }
}
