//! The accessible twin of every PDF report: the same model, the same sentences
//! (`text.rs`), as a semantic HTML page — `lang="fr"`, one `h1` and sections under `h2`,
//! data tables with a caption and header cells, the trend chart as an SVG image with a text
//! alternative and its data as a table, colours with at least 4.5:1 contrast. No script, no
//! external resource, no clock: the same model always gives the same bytes. It answers
//! RGAA's requirement that a downloadable document have an accessible version. Every text is
//! set in French typography (`format::typeset`) as it is escaped, like the PDF's.

use std::fmt::Write;

use super::format::{NNBSP, of_period, period_long, period_short, quoted, typeset, value};
use super::model::{IndicatorCode, Kind, ReportModel};
use super::text::{self, KEY_FIGURES, SUPPRESSED};

/// Text set in French typography, then escaped for HTML content and attribute values.
fn esc(s: &str) -> String {
    let s = typeset(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// DSFR's blue France (#000091: 16:1 on white), dark grey text (#1e1e1e), muted (#3a3a3a).
const STYLE: &str = "body{font-family:Marianne,Arial,sans-serif;color:#1e1e1e;background:#fff;max-width:60rem;margin:0 auto;padding:1rem;line-height:1.5}\
header{background:#000091;color:#fff;padding:1rem 1.5rem}header p{margin:.2rem 0}header h1{margin:.3rem 0;font-size:1.8rem}\
h2{color:#000091;border-bottom:2px solid #000091;padding-bottom:.2rem;margin-top:2rem}\
table{border-collapse:collapse;width:100%;margin:.5rem 0}caption{text-align:left;font-weight:bold;padding:.3rem 0}\
th,td{border:1px solid #929292;padding:.3rem .5rem;text-align:left;vertical-align:top}thead th{background:#e3e3fd}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#3a3a3a}\
blockquote{margin:.5rem 0 .5rem 1rem;padding-left:.8rem;border-left:4px solid #000091}\
.answer{margin-left:2rem;color:#000091}footer{margin-top:2rem;color:#3a3a3a;font-size:.9rem}\
figure{margin:0}svg{max-width:100%;height:auto}";

/// Renders the report's HTML twin.
pub fn render(model: &ReportModel) -> Vec<u8> {
    let mut h = String::with_capacity(16 * 1024);
    let title = text::document_title(model);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    header(&mut h, model);
    h.push_str("<main>\n");
    let _ = writeln!(
        h,
        "<p><strong>{}</strong></p>",
        esc(&text::results_heading(model))
    );
    key_figures(&mut h, model);
    match model.kind {
        Kind::Location => {
            trend(&mut h, model);
            channels(&mut h, model);
            actions(&mut h, model);
            reported(&mut h, model);
            verbatims(&mut h, model);
        }
        Kind::Summary => {
            ranking(&mut h, model);
            trend(&mut h, model);
            channels(&mut h, model);
            actions(&mut h, model);
        }
    }
    section(&mut h, "methodologie", text::METHODOLOGY_TITLE);
    let _ = writeln!(
        h,
        "<p class=\"muted\">{}</p>\n</section>",
        esc(&text::methodology(model))
    );
    let _ = write!(
        h,
        "</main>\n<footer><p>boucle — {} — {}</p></footer>\n</body>\n</html>\n",
        esc(&model.header.name),
        esc(&period_long(&model.period))
    );
    h.into_bytes()
}

fn header(h: &mut String, model: &ReportModel) {
    let head = &model.header;
    let _ = write!(
        h,
        "<header>\n<p>{} — Services Publics +</p>\n<h1>{}</h1>\n",
        esc(text::kind_title(model.kind)),
        esc(&head.name)
    );
    if !head.ancestors.is_empty() {
        let _ = writeln!(
            h,
            "<nav aria-label=\"Rattachement\"><p>{}</p></nav>",
            esc(&head.ancestors.join(" › "))
        );
    }
    let _ = writeln!(h, "<p>{}</p>\n</header>", esc(&text::place_line(model)));
}

fn section(h: &mut String, id: &str, title: &str) {
    let _ = writeln!(
        h,
        "<section aria-labelledby=\"{id}\">\n<h2 id=\"{id}\">{}</h2>",
        esc(title)
    );
}

fn key_figures(h: &mut String, model: &ReportModel) {
    section(h, "chiffres-cles", "Chiffres clés");
    let _ = writeln!(
        h,
        "<table>\n<caption>Chiffres clés {}</caption>\n<thead><tr><th scope=\"col\">Indicateur</th>\
         <th scope=\"col\">Résultat</th><th scope=\"col\">Échantillon et précision</th></tr></thead>\n<tbody>",
        esc(&of_period(&model.period))
    );
    for code in KEY_FIGURES {
        let Some(f) = text::figure(model, code) else {
            continue;
        };
        let shown = text::shown_value(f).unwrap_or_else(|| SUPPRESSED.to_owned());
        let _ = writeln!(
            h,
            "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&f.title),
            esc(&shown),
            esc(&text::figure_detail(model, f).join(" · "))
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn trend(h: &mut String, model: &ReportModel) {
    section(h, "evolution", text::TREND_TITLE);
    // The chart, drawn for the eye; its data follows as a table for everyone.
    let (width, height, left, bottom) = (600.0_f64, 220.0_f64, 40.0_f64, 190.0_f64);
    let n = model.trend.len().max(1) as f64;
    let step = (width - left) / n;
    let max_volume = model
        .trend
        .iter()
        .map(|t| t.volume)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let chart_h = 170.0;
    let described: Vec<String> = model
        .trend
        .iter()
        .map(|t| {
            format!(
                "{} : {}",
                period_long(&t.period),
                t.satisfaction
                    .map_or_else(|| SUPPRESSED.to_owned(), |s| value(s, "%"))
            )
        })
        .collect();
    let _ = write!(
        h,
        "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-labelledby=\"evolution-titre evolution-desc\">\n<title id=\"evolution-titre\">{}</title>\n\
         <desc id=\"evolution-desc\">Taux de satisfaction par mois — {}.</desc>\n",
        esc(text::TREND_TITLE),
        esc(&described.join(" ; "))
    );
    for pct in [0.0, 50.0, 100.0] {
        let y = bottom - chart_h * pct / 100.0;
        let _ = writeln!(
            h,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{width}\" y2=\"{y:.1}\" stroke=\"#929292\" stroke-width=\"0.5\"/>\
             <text x=\"0\" y=\"{:.1}\" font-size=\"11\" fill=\"#3a3a3a\">{pct:.0}{NNBSP}%</text>",
            y + 4.0
        );
    }
    // The line breaks where a month's satisfaction is not published, as in the PDF.
    let mut segments: Vec<Vec<String>> = vec![Vec::new()];
    for (i, t) in model.trend.iter().enumerate() {
        let x = left + step * i as f64 + step / 2.0;
        let bar = t.volume as f64 / max_volume * chart_h * 0.6;
        let _ = writeln!(
            h,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bar:.1}\" fill=\"#cacafb\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#3a3a3a\">{}</text>",
            x - step * 0.3,
            bottom - bar,
            step * 0.6,
            x - step * 0.45,
            bottom + 16.0,
            esc(&period_short(&t.period))
        );
        match t.satisfaction {
            Some(s) => {
                if let Some(segment) = segments.last_mut() {
                    segment.push(format!("{x:.1},{:.1}", bottom - chart_h * s / 100.0));
                }
            }
            None => segments.push(Vec::new()),
        }
    }
    for points in segments.iter().filter(|p| !p.is_empty()) {
        let _ = writeln!(
            h,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#000091\" stroke-width=\"2\"/>",
            points.join(" ")
        );
        for point in points {
            if let Some((x, y)) = point.split_once(',') {
                let _ = writeln!(
                    h,
                    "<circle cx=\"{x}\" cy=\"{y}\" r=\"3\" fill=\"#000091\"/>"
                );
            }
        }
    }
    let _ = writeln!(
        h,
        "</svg>\n<figcaption class=\"muted\">{}</figcaption>\n</figure>",
        esc(text::TREND_CAPTION)
    );
    let _ = writeln!(
        h,
        "<table>\n<caption>{}</caption>\n<thead><tr><th scope=\"col\">Mois</th>\
         <th scope=\"col\">Nombre d’avis</th><th scope=\"col\">Taux de satisfaction</th></tr></thead>\n<tbody>",
        esc(&format!("{} : les données du graphique", text::TREND_TITLE))
    );
    for t in &model.trend {
        let _ = writeln!(
            h,
            "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&period_long(&t.period)),
            super::format::integer(t.volume),
            esc(&t
                .satisfaction
                .map_or_else(|| SUPPRESSED.to_owned(), |s| value(s, "%")))
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn channels(h: &mut String, model: &ReportModel) {
    section(h, "canaux", text::CHANNELS_TITLE);
    let total: u64 = model.channels.iter().map(|c| c.1).sum();
    if total == 0 {
        let _ = writeln!(h, "<p>{}</p>\n</section>", esc(text::NO_EXPERIENCE));
        return;
    }
    let _ = writeln!(
        h,
        "<table>\n<caption>{}</caption>\n<thead><tr><th scope=\"col\">Canal</th>\
         <th scope=\"col\">Avis (part)</th></tr></thead>\n<tbody>",
        esc(text::CHANNELS_TITLE)
    );
    for (label, count) in &model.channels {
        let _ = writeln!(
            h,
            "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td></tr>",
            esc(label),
            esc(&text::channel_share(*count, total))
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn actions(h: &mut String, model: &ReportModel) {
    section(h, "actions", text::ACTIONS_TITLE);
    if model.actions_done.is_empty() && model.actions_in_progress.is_empty() {
        let _ = writeln!(h, "<p>{}</p>\n</section>", esc(text::NO_ACTION));
        return;
    }
    if !model.actions_done.is_empty() {
        let _ = writeln!(h, "<h3>{}</h3>\n<ul>", esc(text::DONE_TITLE));
        for a in &model.actions_done {
            let _ = writeln!(h, "<li>{}</li>", esc(&text::action_done(a)));
        }
        h.push_str("</ul>\n");
    }
    if !model.actions_in_progress.is_empty() {
        let _ = writeln!(h, "<h3>{}</h3>\n<ul>", esc(text::IN_PROGRESS_TITLE));
        for a in &model.actions_in_progress {
            let _ = writeln!(
                h,
                "<li>{}</li>",
                esc(&format!(
                    "{} — avancement {}",
                    text::action_in_progress(a),
                    text::progress(a)
                ))
            );
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</section>\n");
}

fn reported(h: &mut String, model: &ReportModel) {
    if model.reported.is_empty() {
        return;
    }
    section(h, "indicateurs-de-service", text::REPORTED_TITLE);
    h.push_str("<ul>\n");
    for r in &model.reported {
        let _ = writeln!(h, "<li>{}</li>", esc(&text::reported_line(r)));
    }
    h.push_str("</ul>\n</section>\n");
}

fn verbatims(h: &mut String, model: &ReportModel) {
    if model.verbatims.is_empty() {
        return;
    }
    section(h, "paroles", text::VERBATIMS_TITLE);
    for v in &model.verbatims {
        let _ = writeln!(
            h,
            "<article>\n<h3>{}</h3>\n<blockquote><p>{}</p></blockquote>",
            esc(&text::verbatim_heading(v)),
            esc(&quoted(&v.story))
        );
        for (author, body) in &v.answers {
            let _ = writeln!(
                h,
                "<p class=\"answer\">{}</p>",
                esc(&text::answer_line(author, body))
            );
        }
        h.push_str("</article>\n");
    }
    h.push_str("</section>\n");
}

fn ranking(h: &mut String, model: &ReportModel) {
    section(h, "classement", text::RANKING_TITLE);
    let _ = write!(
        h,
        "<table>\n<caption>{} {}</caption>\n<thead><tr><th scope=\"col\">Rang</th>",
        esc(text::RANKING_TITLE),
        esc(&of_period(&model.period))
    );
    for column in text::RANKING_COLUMNS {
        let _ = write!(h, "<th scope=\"col\">{}</th>", esc(column));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (rank, c) in model.children.iter().enumerate() {
        let cells = [
            super::format::integer(c.volume),
            text::ranking_cell(IndicatorCode::SatisfactionRate, c.satisfaction),
            text::ranking_cell(IndicatorCode::NetSatisfaction, c.net_satisfaction),
            text::ranking_cell(IndicatorCode::Nps, c.nps),
            text::ranking_cell(IndicatorCode::ResponseRate, c.response_rate),
            text::ranking_cell(IndicatorCode::ResponseDelayMedian, c.median_delay),
        ];
        let _ = write!(
            h,
            "<tr><td class=\"n\">{}</td><th scope=\"row\">{}</th>",
            rank + 1,
            esc(&c.name)
        );
        for cell in cells {
            let _ = write!(h, "<td class=\"n\">{}</td>", esc(&cell));
        }
        h.push_str("</tr>\n");
    }
    let _ = writeln!(
        h,
        "</tbody>\n</table>\n<p class=\"muted\">{}</p>\n</section>",
        esc(text::RANKING_NOTE)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_twin_says_what_the_pdf_says_in_semantic_html() {
        let model = super::super::fixture::local();
        let html = String::from_utf8(render(&model)).expect("utf-8");
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"));
        assert_eq!(html.matches("<h1>").count(), 1);
        assert!(html.contains(&esc(&text::methodology(&model))));
        assert!(html.contains("<caption>"));
        assert!(html.contains("role=\"img\""));
        assert!(!html.contains("<script"));
        // Same model, same bytes.
        assert_eq!(render(&model), render(&model));
        assert_eq!(
            esc("<a href=\"x\">l'été & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;l’été &amp; co&lt;/a&gt;"
        );
    }

    /// What a reader sees of the page: the text outside tags, style and markup.
    fn visible_text(html: &str) -> String {
        let body = html.split("</style>").nth(1).unwrap_or(html);
        let mut text = String::new();
        let mut in_tag = false;
        for c in body.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    text.push('\n');
                }
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        text
    }

    #[test]
    fn every_word_of_the_twin_is_set_in_french_typography() {
        for model in [
            super::super::fixture::local(),
            super::super::fixture::network(6),
        ] {
            let html = String::from_utf8(render(&model)).expect("utf-8");
            let text = visible_text(&html);
            for wrong in ["'", " :", " ;", " !", " ?", " %", "« ", " »", "&#39;"] {
                assert!(!text.contains(wrong), "{wrong:?} in:\n{text}");
            }
            let chars: Vec<char> = text.chars().collect();
            let hyphen_minus = chars
                .windows(3)
                .any(|w| !w[0].is_alphanumeric() && w[1] == '-' && w[2].is_ascii_digit());
            assert!(!hyphen_minus, "a hyphen for a minus in:\n{text}");
        }
        let network = String::from_utf8(render(&super::super::fixture::network(6))).expect("utf-8");
        assert!(
            network.contains("−10,0\u{a0}pts"),
            "a true minus in the ranking"
        );
        assert!(network.contains("1\u{202f}200"), "thousands grouped");
        assert!(
            !network.contains("aria-label=\"Rattachement\""),
            "a network has no parents"
        );
    }
}
