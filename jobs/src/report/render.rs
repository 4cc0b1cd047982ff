//! Drawing a report: data in, PDF bytes out. No I/O, no clock: the same model always gives
//! the same bytes.

use super::format::{NNBSP, integer, of_period, period_long, period_short, quoted};
use super::model::{ChildRow, IndicatorCode, Kind, ReportModel};
use super::pdf::{Colour, Fonts, Meta, PAGE_HEIGHT, PAGE_WIDTH, Page, save};
use super::text::{self, KEY_FIGURES, SUPPRESSED};

const MARGIN: f32 = 15.0;
const WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const BOTTOM: f32 = PAGE_HEIGHT - 18.0;

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

fn header(flow: &mut Flow<'_>, model: &ReportModel) {
    let h = &model.header;
    let page = flow.page();
    page.rect(0.0, 0.0, PAGE_WIDTH, 40.0, Colour::BLUE);
    let white = Colour(1.0, 1.0, 1.0);
    let title = text::kind_title(model.kind);
    page.text(
        MARGIN,
        12.0,
        10.0,
        false,
        white,
        &format!("{title} — Services Publics +"),
    );
    page.text(MARGIN, 21.0, 17.0, true, white, &h.name);
    // The structures above this one, when there are any: a network's name shows once.
    let mut y = 28.0;
    if !h.ancestors.is_empty() {
        page.text(MARGIN, y, 9.0, false, white, &h.ancestors.join(" › "));
        y += 6.0;
    }
    page.text(MARGIN, y, 9.0, false, white, &text::place_line(model));
    flow.y = 50.0;
    let y = flow.y;
    flow.page().text(
        MARGIN,
        y,
        13.0,
        true,
        Colour::TEXT,
        &text::results_heading(model),
    );
    flow.y += 2.0;
}

fn key_figures(flow: &mut Flow<'_>, model: &ReportModel) {
    flow.section("Chiffres clés");
    let (w, h, gap) = (57.0, 27.0, 4.5);
    for (i, code) in KEY_FIGURES.into_iter().enumerate() {
        let Some(f) = text::figure(model, code) else {
            continue;
        };
        let col = i % 3;
        if col == 0 {
            flow.need(h + gap);
        }
        let (x, y) = (MARGIN + col as f32 * (w + gap), flow.y);
        let page = flow.page();
        page.rect(x, y, w, h, Colour::LIGHT);
        page.text(x + 3.0, y + 6.0, 8.0, false, Colour::MUTED, &f.title);
        match text::shown_value(f) {
            Some(v) => page.text(x + 3.0, y + 14.5, 16.0, true, Colour::TEXT, &v),
            None => page.text(x + 3.0, y + 14.0, 10.0, true, Colour::MUTED, SUPPRESSED),
        }
        // One line per part of the detail (two at most); a line too wide for the box shrinks
        // rather than cross its edge.
        for (k, line) in text::figure_detail(model, f).iter().enumerate() {
            let size = fitted(flow.fonts, line, 6.5, w - 6.0);
            let page = flow.page();
            page.text(
                x + 3.0,
                y + 20.5 + 3.3 * k as f32,
                size,
                false,
                Colour::MUTED,
                line,
            );
        }
        if col == 2 || i + 1 == KEY_FIGURES.len() {
            flow.y += h + gap;
        }
    }
}

/// The size, from `size` down to 5.5 points, at which `text` fits in `width` mm.
fn fitted(fonts: &Fonts, text: &str, size: f32, width: f32) -> f32 {
    let mut size = size;
    while size > 5.5 && fonts.width_mm(text, size, false) > width {
        size -= 0.25;
    }
    size
}

fn trend(flow: &mut Flow<'_>, model: &ReportModel) {
    flow.section(text::TREND_TITLE);
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
            &format!("{pct:.0}{NNBSP}%"),
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
    flow.paragraph(text::TREND_CAPTION, 7.0, false, Colour::MUTED, 0.0);
}

fn channels(flow: &mut Flow<'_>, model: &ReportModel) {
    flow.section(text::CHANNELS_TITLE);
    let total: u64 = model.channels.iter().map(|c| c.1).sum();
    if total == 0 {
        flow.paragraph(text::NO_EXPERIENCE, 9.0, false, Colour::MUTED, 0.0);
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
            &text::channel_share(*count, total),
        );
    }
    flow.y += 2.0;
}

fn actions(flow: &mut Flow<'_>, model: &ReportModel) {
    flow.section(text::ACTIONS_TITLE);
    if model.actions_done.is_empty() && model.actions_in_progress.is_empty() {
        flow.paragraph(text::NO_ACTION, 9.0, false, Colour::MUTED, 0.0);
        return;
    }
    if !model.actions_done.is_empty() {
        flow.subheading(text::DONE_TITLE);
        for a in &model.actions_done {
            flow.paragraph(
                &format!("✓ {}", text::action_done(a)),
                9.0,
                false,
                Colour::GREEN,
                3.0,
            );
        }
    }
    if !model.actions_in_progress.is_empty() {
        flow.subheading(text::IN_PROGRESS_TITLE);
        for a in &model.actions_in_progress {
            flow.paragraph(&text::action_in_progress(a), 9.0, false, Colour::TEXT, 3.0);
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
                &text::progress(a),
            );
            flow.y += 5.0;
        }
    }
}

fn reported(flow: &mut Flow<'_>, model: &ReportModel) {
    if model.reported.is_empty() {
        return;
    }
    flow.section(text::REPORTED_TITLE);
    for r in &model.reported {
        flow.paragraph(&text::reported_line(r), 9.0, false, Colour::TEXT, 0.0);
    }
}

fn verbatims(flow: &mut Flow<'_>, model: &ReportModel) {
    if model.verbatims.is_empty() {
        return;
    }
    flow.section(text::VERBATIMS_TITLE);
    for v in &model.verbatims {
        flow.paragraph(&text::verbatim_heading(v), 9.0, true, Colour::TEXT, 0.0);
        flow.paragraph(&quoted(&v.story), 9.0, false, Colour::TEXT, 3.0);
        for (author, body) in &v.answers {
            flow.paragraph(
                &text::answer_line(author, body),
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
    flow.section(text::RANKING_TITLE);
    let columns: [(&str, f32); 7] = [
        (text::RANKING_COLUMNS[0], 0.0),
        (text::RANKING_COLUMNS[1], 70.0),
        (text::RANKING_COLUMNS[2], 85.0),
        (text::RANKING_COLUMNS[3], 108.0),
        (text::RANKING_COLUMNS[4], 128.0),
        (text::RANKING_COLUMNS[5], 145.0),
        (text::RANKING_COLUMNS[6], 165.0),
    ];
    flow.need(8.0);
    flow.y += 5.0;
    let y = flow.y;
    for (title, x) in columns {
        flow.page()
            .text(MARGIN + x, y, 8.0, true, Colour::MUTED, title);
    }
    let show = text::ranking_cell;
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
            integer(*volume),
            show(IndicatorCode::SatisfactionRate, *satisfaction),
            show(IndicatorCode::NetSatisfaction, *net_satisfaction),
            show(IndicatorCode::Nps, *nps),
            show(IndicatorCode::ResponseRate, *response_rate),
            show(IndicatorCode::ResponseDelayMedian, *median_delay),
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
    flow.paragraph(text::RANKING_NOTE, 7.0, false, Colour::MUTED, 0.0);
}

fn methodology(flow: &mut Flow<'_>, model: &ReportModel) {
    let text = text::methodology(model);
    let (size, lines) = (8.0, flow.fonts.wrap(&text, 8.0, false, WIDTH).len() as f32);
    // Kept whole with its title: a page never ends on its first lines or starts with its last.
    flow.need(6.0 + 7.0 + lines * size * 0.45 + 1.0);
    flow.section(text::METHODOLOGY_TITLE);
    flow.paragraph(&text, size, false, Colour::MUTED, 0.0);
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
            channels(&mut flow, model);
            actions(&mut flow, model);
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
    let title = text::document_title(model);
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

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::super::model::IndicatorCode;
    use super::*;

    /// Every line of the widest detail a key figure can have fits its box, legibly.
    #[test]
    fn a_key_figure_s_widest_detail_fits_its_box() {
        let fonts = Fonts::load().unwrap_or_else(|| panic!("embedded fonts"));
        let mut model = fixture::local();
        model.header.response_target_days = 365;
        for f in &mut model.figures {
            f.figure.sample = 999_999;
            // Every figure with an interval (the delay's median has none), at its widest.
            if f.figure.ci.is_some() || f.figure.code == IndicatorCode::Nps {
                f.figure.ci = Some((-100.0, 100.0));
            }
            f.figure.suppressed = false;
        }
        for f in &model.figures {
            let parts = text::figure_detail(&model, f);
            assert!(parts.len() <= 2, "{parts:?}: the box holds two lines");
            for line in parts {
                let size = fitted(&fonts, &line, 6.5, 57.0 - 6.0);
                assert!(fonts.width_mm(&line, size, false) <= 57.0 - 6.0, "{line}");
                assert!(size >= 6.0, "{line} shrinks to {size}");
            }
        }
    }
}
