//! What a report says in words, once for its two renderings: the PDF (`render.rs`) and its
//! accessible HTML twin (`html.rs`) print the same sentences.

use super::format::{date_long, decimal, of_period, period_long, value};
use super::model::{ActionLine, IndicatorCode, KeyFigure, Kind, ReportModel, Reported, Verbatim};

pub const SUPPRESSED: &str = "données insuffisantes";

/// The figures shown as key figures, in order.
pub const KEY_FIGURES: [IndicatorCode; 8] = [
    IndicatorCode::SatisfactionRate,
    IndicatorCode::NetSatisfaction,
    IndicatorCode::Nps,
    IndicatorCode::EffortEasyRate,
    IndicatorCode::Volume,
    IndicatorCode::ResponseRate,
    IndicatorCode::ResponseDelayMedian,
    IndicatorCode::ResponseOnTimeRate,
];

pub fn kind_title(kind: Kind) -> &'static str {
    match kind {
        Kind::Location => "Rapport de transparence",
        Kind::Summary => "Synthèse du réseau",
    }
}

/// The line under the name: typology, postal code and city.
pub fn place_line(model: &ReportModel) -> String {
    let h = &model.header;
    let place = [h.postal_code.as_str(), h.city.as_str()].join(" ");
    let place = place.trim();
    if place.is_empty() {
        h.typology.clone()
    } else {
        format!("{} · {place}", h.typology)
    }
}

pub fn results_heading(model: &ReportModel) -> String {
    format!("Résultats {}", of_period(&model.period))
}

pub fn figure(model: &ReportModel, code: IndicatorCode) -> Option<&KeyFigure> {
    model.figures.iter().find(|f| f.figure.code == code)
}

/// A key figure's value as shown, or « données insuffisantes ».
pub fn shown_value(f: &KeyFigure) -> Option<String> {
    match (f.figure.value, f.figure.suppressed) {
        (Some(v), false) => Some(value(v, &f.unit)),
        _ => None,
    }
}

/// What is printed under a key figure: its sample, interval, and the delay's objective.
pub fn figure_detail(model: &ReportModel, f: &KeyFigure) -> String {
    let mut detail = if f.unit == "count" {
        String::new()
    } else {
        format!("sur {} réponses", f.figure.sample)
    };
    if let (Some((lo, hi)), false) = (f.figure.ci, f.figure.suppressed) {
        detail.push_str(&format!(" · IC 95 % {} – {}", decimal(lo), decimal(hi)));
    }
    if f.figure.code == IndicatorCode::ResponseDelayMedian {
        detail = format!(
            "objectif {} j · {detail}",
            model.header.response_target_days
        );
    }
    detail
}

pub const TREND_TITLE: &str = "Évolution sur 12 mois";
pub const TREND_CAPTION: &str = "Courbe : taux de satisfaction (%). Barres : nombre d'avis. Un mois sans point : données insuffisantes.";
pub const CHANNELS_TITLE: &str = "Canaux de dépôt des avis";
pub const NO_EXPERIENCE: &str = "Aucun avis ce mois-ci.";
pub const ACTIONS_TITLE: &str = "Vous nous l'avez demandé, nous l'avons fait";
pub const NO_ACTION: &str = "Aucune action d'amélioration publique pour le moment.";
pub const DONE_TITLE: &str = "Réalisées ce mois-ci";
pub const IN_PROGRESS_TITLE: &str = "En cours";
pub const REPORTED_TITLE: &str = "Indicateurs de service";
pub const VERBATIMS_TITLE: &str = "Paroles d'usagers et nos réponses";
pub const RANKING_TITLE: &str = "Classement des structures";
pub const RANKING_NOTE: &str = "n.d. : données insuffisantes. Structures classées par taux de satisfaction ; les structures sans taux publiable sont en fin de liste.";
pub const RANKING_COLUMNS: [&str; 7] = [
    "Structure",
    "Avis",
    "Satisfaction",
    "Sat. nette",
    "NPS",
    "Réponse",
    "Délai",
];
pub const METHODOLOGY_TITLE: &str = "Méthodologie";

/// A channel's share: « 12 (40,0 %) ».
pub fn channel_share(count: u64, total: u64) -> String {
    let share = count as f64 / total.max(1) as f64;
    format!("{count} ({} %)", decimal(share * 100.0))
}

pub fn action_done(a: &ActionLine) -> String {
    format!("{} ({}, le {})", a.title, a.engagement, date_long(&a.date))
}

pub fn action_in_progress(a: &ActionLine) -> String {
    let due = if a.date.is_empty() {
        String::new()
    } else {
        format!(" — échéance {}", date_long(&a.date))
    };
    format!("{} ({}){due}", a.title, a.engagement)
}

pub fn reported_line(r: &Reported) -> String {
    let status = match r.target {
        Some(t)
            if (r.higher_is_better && r.value >= t) || (!r.higher_is_better && r.value <= t) =>
        {
            format!(" — objectif {} atteint", value(t, &r.unit))
        }
        Some(t) => format!(" — objectif {} non atteint", value(t, &r.unit)),
        None => String::new(),
    };
    format!("{} : {}{status}", r.title, value(r.value, &r.unit))
}

pub fn verbatim_heading(v: &Verbatim) -> String {
    let who = if v.pseudonym.is_empty() {
        "Anonyme"
    } else {
        v.pseudonym.as_str()
    };
    format!(
        "{} — {who}, {} ({})",
        v.title,
        date_long(&v.date),
        v.satisfaction
    )
}

pub fn answer_line(author: &str, body: &str) -> String {
    format!("Réponse de {author} : {body}")
}

/// A ranking cell: the value with its unit, or « n.d. ».
pub fn ranking_cell(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "n.d.".to_owned(), |v| value(v, unit))
}

pub fn methodology(model: &ReportModel) -> String {
    let h = &model.header;
    format!(
        "Période : {} (mois civil, fuseau {}). Les résultats portent sur tous les avis déposés pour cette structure \
         et les structures qui lui sont rattachées, hors avis rejetés comme hors sujet, indésirables ou en double. \
         Taux de satisfaction : part des avis positifs. Satisfaction nette : part des avis positifs moins part des \
         avis négatifs. NPS : part des notes 9 et 10 moins part des notes 0 à 6. Facilité : part des notes d'effort \
         de 5 à 7 sur 7. Taux de réponse : part des avis publiés ayant reçu une réponse publiée ; délai médian : \
         médiane des jours entre le dépôt et la première réponse publiée, à comparer au délai annoncé de {} jours. \
         Chaque taux est donné avec son nombre de réponses et un intervalle de confiance à 95 % (Wilson). \
         Un résultat calculé sur moins de {} réponses n'est pas publié (« données insuffisantes »). \
         Les textes publiés sont relus et les données personnelles masquées.",
        period_long(&model.period),
        model.timezone,
        h.response_target_days,
        h.min_sample
    )
}

/// The document's title (PDF metadata, HTML `<title>`) and the footer's words.
pub fn document_title(model: &ReportModel) -> String {
    format!("{} — {}", model.header.name, period_long(&model.period))
}
