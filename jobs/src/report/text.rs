//! What a report says in words, once for its two renderings: the PDF (`render.rs`) and its
//! accessible HTML twin (`html.rs`) print the same sentences. They are written with a
//! keyboard's apostrophe and spaces; both renderings set them in French typography
//! (`format::typeset`), and numbers come already set from `format`.

use super::format::{
    NBSP, date_long, days, integer, number, of_period, period_long, score, signed, value,
};
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

/// A computed indicator's value as shown: the NPS as a signed score without unit (its own
/// convention), every other one with its catalogue unit.
pub fn figure_value(code: IndicatorCode, v: f64) -> String {
    match code {
        IndicatorCode::Nps => score(v),
        _ => value(v, code.definition().unit),
    }
}

/// A key figure's value as shown, or « données insuffisantes ».
pub fn shown_value(f: &KeyFigure) -> Option<String> {
    match (f.figure.value, f.figure.suppressed) {
        (Some(v), false) => Some(figure_value(f.figure.code, v)),
        _ => None,
    }
}

/// What a figure's sample counts, singular and plural: experiences for the shares of all
/// experiences, published ones for the answer rates, the answers themselves for the delay,
/// the scores given for the NPS and the effort; `None` for counts, which are their own
/// sample.
fn sample_noun(code: IndicatorCode) -> Option<(&'static str, &'static str)> {
    use IndicatorCode::*;
    match code {
        Volume | ActionsDone | ActionsOpen => None,
        SatisfactionRate | NetSatisfaction => Some(("avis", "avis")),
        ResponseRate | ResponseOnTimeRate => Some(("avis publié", "avis publiés")),
        ResponseDelayMedian => Some(("réponse publiée", "réponses publiées")),
        Nps => Some(("note de recommandation", "notes de recommandation")),
        EffortEasyRate | EffortMean => Some(("note d'effort", "notes d'effort")),
    }
}

/// « sur 15 avis publiés », « sur 1 réponse publiée » (French keeps 0 and 1 singular).
pub fn sample(code: IndicatorCode, n: u64) -> Option<String> {
    let (one, many) = sample_noun(code)?;
    Some(format!(
        "sur {}{NBSP}{}",
        integer(n),
        if n > 1 { many } else { one }
    ))
}

/// A 95 % interval in the French notation of intervals: « IC 95 % [57,2 ; 74,9] ».
fn interval(code: IndicatorCode, (lo, hi): (f64, f64)) -> String {
    let places = if code == IndicatorCode::Nps { 0 } else { 1 };
    format!("IC 95 % [{} ; {}]", number(lo, places), number(hi, places))
}

/// What is printed under a key figure, part by part: the delay's objective, its sample, its
/// interval — two parts at most, since the delay's median has no interval. The HTML twin
/// joins them on one line, the PDF draws one a line.
pub fn figure_detail(model: &ReportModel, f: &KeyFigure) -> Vec<String> {
    let objective = (f.figure.code == IndicatorCode::ResponseDelayMedian)
        .then(|| format!("objectif {}", days(model.header.response_target_days)));
    let interval = match (f.figure.ci, f.figure.suppressed) {
        (Some(ci), false) => Some(interval(f.figure.code, ci)),
        _ => None,
    };
    [objective, sample(f.figure.code, f.figure.sample), interval]
        .into_iter()
        .flatten()
        .collect()
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
    format!("{} ({})", integer(count), value(share * 100.0, "%"))
}

/// An action's progress: « 40 % ».
pub fn progress(a: &ActionLine) -> String {
    format!("{} %", a.progress.min(100))
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

/// A ranking cell: the indicator's value as shown, or « n.d. »; points abbreviated, to fit
/// the table's column.
pub fn ranking_cell(code: IndicatorCode, v: Option<f64>) -> String {
    match (code, v) {
        (_, None) => "n.d.".to_owned(),
        (IndicatorCode::NetSatisfaction, Some(v)) => format!("{}{NBSP}pts", signed(v, 1)),
        (code, Some(v)) => figure_value(code, v),
    }
}

pub fn methodology(model: &ReportModel) -> String {
    let h = &model.header;
    format!(
        "Période : {} (mois civil, fuseau {}). Les résultats portent sur tous les avis déposés pour cette structure \
         et les structures qui lui sont rattachées par les publics qu'elles servent (usagers, professionnels, \
         partenaires, bénévoles, donateurs, patients), hors avis rejetés comme hors sujet, indésirables ou en \
         double ; les avis de leurs agents relèvent d'un baromètre interne et n'y sont jamais comptés. \
         Taux de satisfaction : part des avis positifs. Satisfaction nette : part des avis positifs moins part des \
         avis négatifs, en points. NPS : part des notes de recommandation 9 et 10 moins part des notes 0 à 6, \
         exprimée comme un score de −100 à +100. Facilité : part des notes d'effort de 5 à 7 sur 7. Taux de \
         réponse : part des avis publiés ayant reçu une réponse publiée ; délai médian : médiane des jours entre \
         le dépôt et la première réponse publiée, à comparer au délai annoncé de {}. Chaque résultat est donné \
         avec son effectif (les avis, avis publiés, notes ou réponses sur lesquels il porte) et un intervalle de \
         confiance à 95 % (Wilson). Un résultat dont l'effectif est inférieur à {} n'est pas publié \
         (« données insuffisantes »). \
         Les textes publiés sont relus et les données personnelles masquées.",
        period_long(&model.period),
        model.timezone,
        days(h.response_target_days),
        integer(u64::from(h.min_sample))
    )
}

/// The document's title (PDF metadata, HTML `<title>`) and the footer's words.
pub fn document_title(model: &ReportModel) -> String {
    format!("{} — {}", model.header.name, period_long(&model.period))
}
