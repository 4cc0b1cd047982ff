//! PDF transparency reports: `model` (what a report says), `build` (reading it from the
//! database), `render` (drawing it: data in, bytes out), `pdf` (the printpdf wrapper),
//! `files` (atomic writes and the manifest).

pub mod build;
pub mod format;
pub mod model;
pub mod pdf;
pub mod render;

#[cfg(test)]
pub(crate) mod fixture {
    use super::model::*;

    fn figure(code: &str, title: &str, unit: &str, value: Option<f64>, sample: u64) -> Figure {
        Figure {
            code: code.into(),
            title: title.into(),
            unit: unit.into(),
            suppressed: value.is_none(),
            ci: value.filter(|_| unit == "%").map(|v| (v - 9.5, v + 8.2)),
            value,
            sample,
        }
    }

    /// A local site's October with every section filled, and a suppressed figure.
    pub fn local() -> ReportModel {
        ReportModel {
            kind: Kind::Location,
            header: Header {
                code: "CAF69-LYON".into(),
                name: "Accueil CAF Lyon Part-Dieu".into(),
                typology: "Caisse d'allocations familiales".into(),
                hierarchy: vec!["Réseau CAF".into(), "CAF du Rhône".into(), "Accueil CAF Lyon Part-Dieu".into()],
                postal_code: "69003".into(),
                city: "Lyon".into(),
                response_target_days: 15,
                min_sample: 10,
            },
            period: "2026-10".into(),
            timezone: "Europe/Paris".into(),
            figures: vec![
                figure("SATISFACTION_RATE", "Taux de satisfaction", "%", Some(66.7), 43),
                figure("NET_SATISFACTION", "Satisfaction nette", "points", Some(35.0), 43),
                figure("NPS", "Net Promoter Score", "points", None, 7),
                figure("EFFORT_EASY_RATE", "Facilité des démarches", "%", Some(60.5), 21),
                figure("VOLUME", "Nombre d'expériences", "count", Some(43.0), 43),
                figure("RESPONSE_RATE", "Taux de réponse", "%", Some(75.0), 36),
                figure("RESPONSE_DELAY_MEDIAN", "Délai médian de réponse", "jours", Some(4.5), 27),
                figure("RESPONSE_ON_TIME_RATE", "Réponses dans le délai annoncé", "%", Some(69.4), 36),
            ],
            trend: (0..12)
                .map(|i| TrendPoint {
                    period: format!("{}-{:02}", if i < 2 { 2025 } else { 2026 }, (i + 10) % 12 + 1),
                    satisfaction: if i == 4 { None } else { Some(55.0 + i as f64) },
                    volume: 20 + i * 2,
                })
                .collect(),
            channels: vec![("Au guichet".into(), 20), ("Téléphone".into(), 12), ("En ligne".into(), 11)],
            actions_done: vec![ActionLine {
                title: "Rappel par SMS quand le dossier avance".into(),
                engagement: "E4".into(),
                progress: 100,
                date: "2026-10-14".into(),
            }],
            actions_in_progress: vec![ActionLine {
                title: "Ouvrir un créneau le samedi matin".into(),
                engagement: "E2".into(),
                progress: 40,
                date: "2027-01-31".into(),
            }],
            reported: vec![Reported {
                title: "Taux de décroché".into(),
                unit: "%".into(),
                value: 81.5,
                target: Some(85.0),
                higher_is_better: true,
            }],
            verbatims: vec![Verbatim {
                satisfaction: "négatif".into(),
                title: "Attente trop longue".into(),
                story: "Deux heures d'attente debout ; rappelez-moi au [téléphone masqué]. L'œuvre de l'accueil « à refaire » — vraiment.".into(),
                pseudonym: "Camille".into(),
                date: "2026-10-05".into(),
                answers: vec![("L'équipe d'accueil".into(), "Nous avons ouvert un second guichet le lundi.".into())],
            }],
            children: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::local;
    use super::pdf::Fonts;
    use super::render::render;

    #[test]
    fn the_same_model_gives_the_same_bytes() {
        let fonts = Fonts::load().unwrap_or_else(|| panic!("embedded fonts"));
        let a = render(&fonts, &local());
        let b = render(&fonts, &local());
        assert_eq!(a, b);
        assert!(a.starts_with(b"%PDF-"));
        let mut other = local();
        other.header.name.push('!');
        assert_ne!(render(&fonts, &other), a);
    }

    #[test]
    fn a_local_report_is_small_thanks_to_font_subsetting() {
        let fonts = Fonts::load().unwrap_or_else(|| panic!("embedded fonts"));
        let bytes = render(&fonts, &local());
        assert!(bytes.len() < 200_000, "{} bytes", bytes.len());
    }
}

#[cfg(test)]
mod write_fixture {
    /// `BOUCLE_WRITE_FIXTURE=/path.pdf cargo test -p boucle-jobs write_fixture` writes the
    /// fixture report for a look with PDF tools.
    #[test]
    fn write_fixture() {
        if let Ok(path) = std::env::var("BOUCLE_WRITE_FIXTURE") {
            let fonts = super::pdf::Fonts::load().unwrap_or_else(|| panic!("fonts"));
            let bytes = super::render::render(&fonts, &super::fixture::local());
            std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
