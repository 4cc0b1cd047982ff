//! Drawing a report: data in, PDF bytes out. No I/O, no clock: the same model always gives
//! the same bytes.

use super::format::{date_long, decimal, of_period, period_long, period_short, value};
use super::model::{ChildRow, IndicatorCode, KeyFigure, Kind, ReportModel};
use super::pdf::{Colour, Fonts, Meta, PAGE_HEIGHT, PAGE_WIDTH, Page, save};

const MARGIN: f32 = 15.0;
const WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const BOTTOM: f32 = PAGE_HEIGHT - 18.0;
const SUPPRESSED: &str = "données insuffisantes";

/// The figures shown as key figures, in order.
const KEY_FIGURES: [IndicatorCode; 8] = [
    IndicatorCode::SatisfactionRate,
    IndicatorCode::NetSatisfaction,
    IndicatorCode::Nps,
    IndicatorCode::EffortEasyRate,
    IndicatorCode::Volume,
    IndicatorCode::ResponseRate,
    IndicatorCode::ResponseDelayMedian,
    IndicatorCode::ResponseOnTimeRate,
];

/// Lays pages out top to bottom, breaking when a block does not fit.
struct Flow<'a> {
    fonts: &'a Fonts,
    pages: Vec<Page>,
    y: f32,
}

impl<'a> Flow<'a> {
    fn new(fonts: &'a Fonts) -> Self {
        Self {
            fonts,
            pages: vec![Page::default()],
            y: MARGIN,
        }
    }

    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Makes room for `height` mm, starting a new page if needed.
    fn need(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.pages.push(Page::default());
            self.y = MARGIN;
        }
    }

    fn section(&mut self, title: &str) {
        // Keep the title with at least a few lines of what follows it.
        self.need(30.0);
        self.y += 6.0;
        let y = self.y;
        self.page().text(MARGIN, y, 12.0, true, Colour::BLUE, title);
        self.page().rect(MARGIN, y + 1.5, 18.0, 0.6, Colour::BLUE);
        self.y += 7.0;
    }

    /// A small heading kept with the first lines below it.
    fn subheading(&mut self, text: &str) {
        self.need(14.0);
        self.paragraph(text, 9.5, true, Colour::TEXT, 0.0);
    }

    /// A wrapped paragraph.
    fn paragraph(&mut self, text: &str, size: f32, bold: bool, colour: Colour, indent: f32) {
        let line_height = size * 0.45;
        for line in self.fonts.wrap(text, size, bold, WIDTH - indent) {
            self.need(line_height);
            self.y += line_height;
            let y = self.y;
            self.page()
                .text(MARGIN + indent, y, size, bold, colour, &line);
        }
        self.y += 1.0;
    }
}

fn figure(model: &ReportModel, code: IndicatorCode) -> Option<&KeyFigure> {
    model.figures.iter().find(|f| f.figure.code == code)
}

fn header(flow: &mut Flow<'_>, model: &ReportModel) {
    let h = &model.header;
    let page = flow.page();
    page.rect(0.0, 0.0, PAGE_WIDTH, 40.0, Colour::BLUE);
    let white = Colour(1.0, 1.0, 1.0);
    let title = match model.kind {
        Kind::Location => "Rapport de transparence",
        Kind::Summary => "Synthèse du réseau",
    };
    page.text(
        MARGIN,
        12.0,
        10.0,
        false,
        white,
        &format!("{title} — Services Publics +"),
    );
    page.text(MARGIN, 21.0, 17.0, true, white, &h.name);
    page.text(MARGIN, 28.0, 9.0, false, white, &h.hierarchy.join(" › "));
    let place = [h.postal_code.as_str(), h.city.as_str()].join(" ");
    let place = place.trim();
    let line = if place.is_empty() {
        h.typology.clone()
    } else {
        format!("{} · {place}", h.typology)
    };
    page.text(MARGIN, 34.0, 9.0, false, white, &line);
    flow.y = 50.0;
    let y = flow.y;
    flow.page().text(
        MARGIN,
        y,
        13.0,
        true,
        Colour::TEXT,
        &format!("Résultats {}", of_period(&model.period)),
    );
    flow.y += 2.0;
}

fn key_figures(flow: &mut Flow<'_>, model: &ReportModel) {
    flow.section("Chiffres clés");
    let (w, h, gap) = (57.0, 25.0, 4.5);
    for (i, code) in KEY_FIGURES.into_iter().enumerate() {
        let Some(KeyFigure {
            figure: f,
            title,
            unit,
        }) = figure(model, code)
        else {
            continue;
        };
        let col = i % 3;
        if col == 0 {
            flow.need(h + gap);
        }
        let (x, y) = (MARGIN + col as f32 * (w + gap), flow.y);
        let page = flow.page();
        page.rect(x, y, w, h, Colour::LIGHT);
        page.text(x + 3.0, y + 6.0, 8.0, false, Colour::MUTED, title);
        match (f.value, f.suppressed) {
            (Some(v), false) => {
                page.text(x + 3.0, y + 14.5, 16.0, true, Colour::TEXT, &value(v, unit))
            }
            _ => page.text(x + 3.0, y + 14.0, 10.0, true, Colour::MUTED, SUPPRESSED),
        }
        let mut detail = if unit == "count" {
            String::new()
        } else {
            format!("sur {} réponses", f.sample)
        };
        if let (Some((lo, hi)), false) = (f.ci, f.suppressed) {
            detail.push_str(&format!(" · IC 95 % {} – {}", decimal(lo), decimal(hi)));
        }
        if code == IndicatorCode::ResponseDelayMedian {
            detail = format!(
                "objectif {} j · {detail}",
                model.header.response_target_days
            );
        }
        page.text(x + 3.0, y + 21.0, 6.5, false, Colour::MUTED, &detail);
        if col == 2 || i + 1 == KEY_FIGURES.len() {
            flow.y += h + gap;
        }
    }
}

fn trend(flow: &mut Flow<'_>, model: &ReportModel) {
    flow.section("Évolution sur 12 mois");
    let (h, left) = (48.0, MARGIN + 10.0);
    flow.need(h + 12.0);
    let top = flow.y;
    let bottom = top + h;
    let width = WIDTH - 10.0;
    let n = model.trend.len().max(1) as f32;
    let step = width / n;
    let max_volume = model
        .trend
        .iter()
        .map(|t| t.volume)
        .max()
        .unwrap_or(0)
        .max(1) as f32;
    let fonts_y = bottom + 4.5;
    let page = flow.page();
    for pct in [0.0f32, 50.0, 100.0] {
        let y = bottom - h * pct / 100.0;
        page.polyline(&[(left, y), (left + width, y)], Colour::GREY, 0.3);
        page.text(
            MARGIN,
            y + 1.0,
            6.5,
            false,
            Colour::MUTED,
            &format!("{pct:.0} %"),
        );
    }
    let mut line = Vec::new();
    let mut segments = Vec::new();
    for (i, t) in model.trend.iter().enumerate() {
        let x = left + step * i as f32 + step / 2.0;
        let bar = (t.volume as f32 / max_volume) * h * 0.6;
        page.rect(x - step * 0.3, bottom - bar, step * 0.6, bar, Colour::LIGHT);
        page.text(
            x - step * 0.45,
            fonts_y,
            6.0,
            false,
            Colour::MUTED,
            &period_short(&t.period),
        );
        match t.satisfaction {
            Some(s) => line.push((x, bottom - h * (s as f32) / 100.0)),
            None => segments.push(std::mem::take(&mut line)),
        }
    }
    segments.push(line);
    for segment in &segments {
        page.polyline(segment, Colour::BLUE, 1.6);
        for (x, y) in segment {
            page.rect(x - 0.8, y - 0.8, 1.6, 1.6, Colour::BLUE);
        }
    }
    flow.y = fonts_y + 3.0;
    flow.paragraph(
        "Courbe : taux de satisfaction (%). Barres : nombre d'avis. Un mois sans point : données insuffisantes.",
        7.0,
        false,
        Colour::MUTED,
        0.0,
    );
}

fn channels(flow: &mut Flow<'_>, model: &ReportModel) {
    flow.section("Canaux de dépôt des avis");
    let total: u64 = model.channels.iter().map(|c| c.1).sum();
    if total == 0 {
        flow.paragraph("Aucun avis ce mois-ci.", 9.0, false, Colour::MUTED, 0.0);
        return;
    }
    for (label, count) in &model.channels {
        flow.need(6.0);
        flow.y += 5.5;
        let y = flow.y;
        let share = *count as f32 / total as f32;
        let page = flow.page();
        page.text(MARGIN, y, 8.5, false, Colour::TEXT, label);
        page.rect(MARGIN + 40.0, y - 3.2, 100.0, 3.6, Colour::LIGHT);
        page.rect(MARGIN + 40.0, y - 3.2, 100.0 * share, 3.6, Colour::BLUE);
        page.text(
            MARGIN + 143.0,
            y,
            8.5,
            false,
            Colour::TEXT,
            &format!("{count} ({} %)", decimal(f64::from(share) * 100.0)),
        );
    }
    flow.y += 2.0;
}

fn actions(flow: &mut Flow<'_>, model: &ReportModel) {
    flow.section("Vous nous l'avez demandé, nous l'avons fait");
    if model.actions_done.is_empty() && model.actions_in_progress.is_empty() {
        flow.paragraph(
            "Aucune action d'amélioration publique pour le moment.",
            9.0,
            false,
            Colour::MUTED,
            0.0,
        );
        return;
    }
    if !model.actions_done.is_empty() {
        flow.subheading("Réalisées ce mois-ci");
        for a in &model.actions_done {
            flow.paragraph(
                &format!(
                    "✓ {} ({}, le {})",
                    a.title,
                    a.engagement,
                    date_long(&a.date)
                ),
                9.0,
                false,
                Colour::GREEN,
                3.0,
            );
        }
    }
    if !model.actions_in_progress.is_empty() {
        flow.subheading("En cours");
        for a in &model.actions_in_progress {
            let due = if a.date.is_empty() {
                String::new()
            } else {
                format!(" — échéance {}", date_long(&a.date))
            };
            flow.paragraph(
                &format!("{} ({}){due}", a.title, a.engagement),
                9.0,
                false,
                Colour::TEXT,
                3.0,
            );
            flow.need(5.0);
            let y = flow.y;
            let page = flow.page();
            page.rect(MARGIN + 3.0, y, 60.0, 2.8, Colour::LIGHT);
            page.rect(
                MARGIN + 3.0,
                y,
                60.0 * a.progress.min(100) as f32 / 100.0,
                2.8,
                Colour::BLUE,
            );
            page.text(
                MARGIN + 66.0,
                y + 2.5,
                8.0,
                false,
                Colour::MUTED,
                &format!("{} %", a.progress),
            );
            flow.y += 5.0;
        }
    }
}

fn reported(flow: &mut Flow<'_>, model: &ReportModel) {
    if model.reported.is_empty() {
        return;
    }
    flow.section("Indicateurs de service");
    for r in &model.reported {
        let status = match r.target {
            Some(t)
                if (r.higher_is_better && r.value >= t)
                    || (!r.higher_is_better && r.value <= t) =>
            {
                format!(" — objectif {} atteint", value(t, &r.unit))
            }
            Some(t) => format!(" — objectif {} non atteint", value(t, &r.unit)),
            None => String::new(),
        };
        flow.paragraph(
            &format!("{} : {}{status}", r.title, value(r.value, &r.unit)),
            9.0,
            false,
            Colour::TEXT,
            0.0,
        );
    }
}

fn verbatims(flow: &mut Flow<'_>, model: &ReportModel) {
    if model.verbatims.is_empty() {
        return;
    }
    flow.section("Paroles d'usagers et nos réponses");
    for v in &model.verbatims {
        let who = if v.pseudonym.is_empty() {
            "Anonyme".to_owned()
        } else {
            v.pseudonym.clone()
        };
        flow.paragraph(
            &format!(
                "{} — {who}, {} ({})",
                v.title,
                date_long(&v.date),
                v.satisfaction
            ),
            9.0,
            true,
            Colour::TEXT,
            0.0,
        );
        flow.paragraph(&format!("« {} »", v.story), 9.0, false, Colour::TEXT, 3.0);
        for (author, body) in &v.answers {
            flow.paragraph(
                &format!("Réponse de {author} : {body}"),
                8.5,
                false,
                Colour::BLUE,
                6.0,
            );
        }
        flow.y += 2.0;
    }
}

fn ranking(flow: &mut Flow<'_>, model: &ReportModel) {
    flow.section("Classement des structures");
    let columns: [(&str, f32); 7] = [
        ("Structure", 0.0),
        ("Avis", 70.0),
        ("Satisfaction", 85.0),
        ("Sat. nette", 108.0),
        ("NPS", 128.0),
        ("Réponse", 145.0),
        ("Délai", 165.0),
    ];
    flow.need(8.0);
    flow.y += 5.0;
    let y = flow.y;
    for (title, x) in columns {
        flow.page()
            .text(MARGIN + x, y, 8.0, true, Colour::MUTED, title);
    }
    let show = |v: Option<f64>, unit: &str| v.map_or_else(|| "n.d.".to_owned(), |v| value(v, unit));
    for (rank, c) in model.children.iter().enumerate() {
        flow.need(6.0);
        flow.y += 5.5;
        let y = flow.y;
        let ChildRow {
            name,
            volume,
            satisfaction,
            net_satisfaction,
            nps,
            response_rate,
            median_delay,
            ..
        } = c;
        let cells = [
            format!("{}. {}", rank + 1, name),
            volume.to_string(),
            show(*satisfaction, "%"),
            show(*net_satisfaction, "points"),
            show(*nps, "points"),
            show(*response_rate, "%"),
            show(*median_delay, "jours"),
        ];
        let fonts = flow.fonts;
        let page = flow.page();
        if rank % 2 == 0 {
            page.rect(MARGIN - 1.0, y - 4.0, WIDTH + 2.0, 5.5, Colour::LIGHT);
        }
        for ((_, x), cell) in columns.iter().zip(cells) {
            let mut text = cell;
            while *x == 0.0 && fonts.width_mm(&text, 8.0, false) > 68.0 && text.chars().count() > 4
            {
                let keep = text.chars().count() - 2;
                text = text.chars().take(keep).collect::<String>() + "…";
            }
            page.text(MARGIN + x, y, 8.0, false, Colour::TEXT, &text);
        }
    }
    flow.y += 2.0;
    flow.paragraph("n.d. : données insuffisantes. Structures classées par taux de satisfaction ; les structures sans taux publiable sont en fin de liste.", 7.0, false, Colour::MUTED, 0.0);
}

fn methodology(flow: &mut Flow<'_>, model: &ReportModel) {
    flow.section("Méthodologie");
    let h = &model.header;
    let text = format!(
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
    );
    flow.paragraph(&text, 8.0, false, Colour::MUTED, 0.0);
}

/// Draws the report.
pub fn render(fonts: &Fonts, model: &ReportModel) -> Vec<u8> {
    let mut flow = Flow::new(fonts);
    header(&mut flow, model);
    key_figures(&mut flow, model);
    match model.kind {
        Kind::Location => {
            trend(&mut flow, model);
            channels(&mut flow, model);
            actions(&mut flow, model);
            reported(&mut flow, model);
            verbatims(&mut flow, model);
        }
        Kind::Summary => {
            ranking(&mut flow, model);
            trend(&mut flow, model);
        }
    }
    methodology(&mut flow, model);
    let total = flow.pages.len();
    let footer = format!(
        "boucle — {} — {}",
        model.header.name,
        period_long(&model.period)
    );
    for (i, page) in flow.pages.iter_mut().enumerate() {
        page.text(
            MARGIN,
            PAGE_HEIGHT - 8.0,
            7.0,
            false,
            Colour::MUTED,
            &format!("{footer} — page {} / {total}", i + 1),
        );
    }
    let title = format!("{} — {}", model.header.name, period_long(&model.period));
    let subject = format!("Résultats Services Publics + {}", of_period(&model.period));
    // The document is dated the 1st of the month after the period (its publication date).
    let date_unix = next_month_unix(&model.period);
    save(
        fonts,
        &Meta {
            title: &title,
            subject: &subject,
            date_unix,
        },
        flow.pages,
    )
}

fn next_month_unix(period: &str) -> i64 {
    period
        .parse::<boucle::domain::Period>()
        .ok()
        .and_then(|p| p.next().first_day().and_hms_opt(0, 0, 0))
        .map_or(0, |t| t.and_utc().timestamp())
}
