//! The only module that knows printpdf (pinned `=0.12.8`: its API changes with every minor
//! version). It offers a small drawing surface — text, rectangles, lines — in millimetres
//! from the top-left corner of an A4 page, and produces deterministic bytes:
//! - fonts get fixed resource ids (printpdf draws them from a process-wide counter);
//! - the document dates are given by the caller (derived from the period, never the clock);
//! - the trailer `/ID`, random in printpdf, is replaced by a hash of the content of the same
//!   length, so byte offsets stay valid.
//!
//! Every text is set in French typography (`format::typeset`) before it is measured or drawn,
//! and lines break only at breaking spaces, never inside a number and its unit.
//!
//! Streams (page contents, font subsets) are compressed here rather than by printpdf, which
//! always deflates at level 9: deflate was a quarter of the CPU time of a report run.

use printpdf::{
    Color, FontId, Line, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle,
    PdfPage, PdfSaveOptions, Point, Polygon, PolygonRing, Pt, Rgb, TextItem, WindingOrder,
};
use sha2::{Digest, Sha256};

use super::format::{breaks_at, typeset};

pub const PAGE_WIDTH: f32 = 210.0;
pub const PAGE_HEIGHT: f32 = 297.0;

static REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// An RGB colour, components 0–1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Colour(pub f32, pub f32, pub f32);

impl Colour {
    pub const TEXT: Colour = Colour(0.13, 0.13, 0.15);
    pub const MUTED: Colour = Colour(0.40, 0.42, 0.46);
    /// Bleu France.
    pub const BLUE: Colour = Colour(0.0, 0.0, 0.569);
    pub const LIGHT: Colour = Colour(0.925, 0.933, 0.957);
    pub const GREEN: Colour = Colour(0.09, 0.53, 0.30);
    pub const RED: Colour = Colour(0.81, 0.04, 0.18);
    pub const GREY: Colour = Colour(0.75, 0.76, 0.78);

    fn pdf(self) -> Color {
        Color::Rgb(Rgb {
            r: self.0,
            g: self.1,
            b: self.2,
            icc_profile: None,
        })
    }
}

/// The two faces of the embedded font (DejaVu Sans: full French typography).
pub struct Fonts {
    regular: ParsedFont,
    bold: ParsedFont,
    /// Both faces cut once to [`SHARED_EXTRA`] and the Latin-1 range; `None` if the cut fails
    /// (every file then subsets on its own).
    shared: Option<[SharedFace; 2]>,
}

/// Characters beyond printable ASCII and Latin-1 that the shared subset holds: French
/// typography (œ, Ÿ, quotes, dashes, ellipsis, narrow spaces, €) and the few signs the
/// reports draw themselves.
const SHARED_EXTRA: &str = "ŒœŸ‘’‚“”„‹›–—‐‑…•€‰№→←↑↓✓≈≤≥−×\u{2009}\u{202F}";

fn shared_charset() -> impl Iterator<Item = char> {
    (' '..='~')
        .chain('\u{A0}'..='\u{FF}')
        .chain(SHARED_EXTRA.chars())
}

/// One face cut to the shared character set, its program deflated once: a report whose text
/// stays within the set embeds these bytes as they are, so neither subsetting nor font
/// compression is paid per file (they were a fifth of a report's CPU time).
struct SharedFace {
    parsed: ParsedFont,
    program: Vec<u8>,
    deflated: Vec<u8>,
}

impl SharedFace {
    fn cut(full: &ParsedFont) -> Option<Self> {
        let glyphs: std::collections::BTreeMap<u16, String> = shared_charset()
            .filter_map(|c| Some((full.lookup_glyph_index(c as u32)?, c.to_string())))
            .collect();
        let subset = printpdf::subset_font(full, &glyphs).ok()?;
        let parsed = ParsedFont::from_bytes(&subset.bytes, 0, &mut Vec::new())?;
        // The cut must draw every character of the set exactly as the full face measures it.
        let faithful = shared_charset().all(|c| {
            match (
                full.lookup_glyph_index(c as u32),
                parsed.lookup_glyph_index(c as u32),
            ) {
                (None, None) => true,
                (Some(a), Some(b)) => {
                    b != 0 && full.get_horizontal_advance(a) == parsed.get_horizontal_advance(b)
                }
                _ => false,
            }
        });
        if !faithful {
            return None;
        }
        let deflated = deflate(&subset.bytes, 9)?;
        Some(Self {
            parsed,
            program: subset.bytes,
            deflated,
        })
    }

    /// Whether every character of `text` is drawn by this face.
    fn draws(&self, text: &str) -> bool {
        text.chars().all(|c| {
            self.parsed
                .lookup_glyph_index(c as u32)
                .is_some_and(|g| g != 0)
        })
    }
}

impl Fonts {
    /// Parses the embedded fonts once, and cuts the shared subset; rendering reuses them.
    pub fn load() -> Option<Self> {
        let regular = ParsedFont::from_bytes(REGULAR_TTF, 0, &mut Vec::new())?;
        let bold = ParsedFont::from_bytes(BOLD_TTF, 0, &mut Vec::new())?;
        let shared = SharedFace::cut(&regular)
            .zip(SharedFace::cut(&bold))
            .map(|(r, b)| [r, b]);
        Some(Self {
            regular,
            bold,
            shared,
        })
    }

    /// The shared faces when every text of `pages` is drawn by them.
    fn shared_for(&self, pages: &[Page]) -> Option<&[SharedFace; 2]> {
        let shared = self.shared.as_ref()?;
        let texts = pages.iter().flat_map(|p| &p.ops).flat_map(|op| match op {
            Op::ShowText { items } => items.as_slice(),
            _ => &[],
        });
        let mut texts = texts.filter_map(|item| match item {
            TextItem::Text(t) => Some(t.as_str()),
            _ => None,
        });
        // Both faces hold the same characters, so one check covers the bold text too.
        texts.all(|t| shared[0].draws(t)).then_some(shared)
    }

    fn face(&self, bold: bool) -> &ParsedFont {
        if bold { &self.bold } else { &self.regular }
    }

    /// Width of `text` at `size` points, in millimetres, once typeset as it is drawn.
    pub fn width_mm(&self, text: &str, size: f32, bold: bool) -> f32 {
        self.set_width_mm(&typeset(text), size, bold)
    }

    /// Width of a text already typeset.
    fn set_width_mm(&self, text: &str, size: f32, bold: bool) -> f32 {
        let font = self.face(bold);
        let units = f32::from(font.font_metrics.units_per_em.max(1));
        let advance: u32 = text
            .chars()
            .map(|c| {
                font.lookup_glyph_index(c as u32)
                    .map_or(0, |g| u32::from(font.get_horizontal_advance(g)))
            })
            .sum();
        advance as f32 / units * size * 25.4 / 72.0
    }

    /// Splits `text` into lines no wider than `width` mm (words are never cut unless a single
    /// word is wider than the line; a no-break space joins what it separates into one word).
    pub fn wrap(&self, text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in typeset(text).split('\n') {
            let mut line = String::new();
            for word in paragraph.split(breaks_at).filter(|w| !w.is_empty()) {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                // Typeset once above: each candidate is measured as it stands.
                if self.set_width_mm(&candidate, size, bold) <= width || line.is_empty() {
                    line = candidate;
                } else {
                    lines.push(std::mem::take(&mut line));
                    line = word.to_owned();
                }
            }
            lines.push(line);
        }
        lines
    }
}

/// One page being drawn. Coordinates: millimetres from the top-left corner.
#[derive(Default)]
pub struct Page {
    ops: Vec<Op>,
}

const REGULAR_ID: &str = "F1";
const BOLD_ID: &str = "F2";

fn pt(x_mm: f32, y_mm_from_top: f32) -> Point {
    Point::new(Mm(x_mm), Mm(PAGE_HEIGHT - y_mm_from_top))
}

impl Page {
    /// Text with its baseline at `y`.
    pub fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, colour: Colour, text: &str) {
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFillColor { col: colour.pdf() },
            Op::SetFont {
                font: PdfFontHandle::External(FontId(
                    if bold { BOLD_ID } else { REGULAR_ID }.into(),
                )),
                size: Pt(size),
            },
            Op::SetTextCursor { pos: pt(x, y) },
            Op::ShowText {
                items: vec![TextItem::Text(typeset(text))],
            },
            Op::EndTextSection,
        ]);
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Colour) {
        let corners = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)];
        self.ops.extend([
            Op::SetFillColor { col: fill.pdf() },
            Op::DrawPolygon {
                polygon: Polygon {
                    rings: vec![PolygonRing {
                        points: corners
                            .iter()
                            .map(|(cx, cy)| LinePoint {
                                p: pt(*cx, *cy),
                                bezier: false,
                            })
                            .collect(),
                    }],
                    mode: PaintMode::Fill,
                    winding_order: WindingOrder::NonZero,
                },
            },
        ]);
    }

    pub fn polyline(&mut self, points: &[(f32, f32)], colour: Colour, thickness: f32) {
        if points.len() < 2 {
            return;
        }
        self.ops.extend([
            Op::SetOutlineColor { col: colour.pdf() },
            Op::SetOutlineThickness { pt: Pt(thickness) },
            Op::DrawLine {
                line: Line {
                    points: points
                        .iter()
                        .map(|(x, y)| LinePoint {
                            p: pt(*x, *y),
                            bezier: false,
                        })
                        .collect(),
                    is_closed: false,
                },
            },
        ]);
    }
}

/// Document metadata, all derived from the report's data.
pub struct Meta<'a> {
    pub title: &'a str,
    pub subject: &'a str,
    /// Seconds since the epoch of the document date.
    pub date_unix: i64,
}

/// Assembles the pages into PDF bytes.
pub fn save(fonts: &Fonts, meta: &Meta<'_>, pages: Vec<Page>) -> Vec<u8> {
    let mut doc = PdfDocument::new(meta.title);
    let shared = fonts.shared_for(&pages);
    match shared {
        Some([regular, bold]) => {
            // Already cut: printpdf embeds the program whole.
            let whole = printpdf::PrintpdfFontMeta {
                embedding_mode: printpdf::FontEmbeddingMode::Full,
                requires_subsetting: false,
                ..Default::default()
            };
            for (id, face) in [(REGULAR_ID, regular), (BOLD_ID, bold)] {
                doc.resources.fonts.map.insert(
                    FontId(id.into()),
                    printpdf::PdfFont::with_meta(face.parsed.clone(), whole.clone()),
                );
            }
        }
        None => {
            for (id, face) in [(REGULAR_ID, &fonts.regular), (BOLD_ID, &fonts.bold)] {
                doc.resources
                    .fonts
                    .map
                    .insert(FontId(id.into()), printpdf::PdfFont::new(face.clone()));
            }
        }
    }
    // An out-of-range date keeps printpdf's default (the epoch), never the clock.
    let info = &mut doc.metadata.info;
    if let Ok(date) = printpdf::OffsetDateTime::from_unix_timestamp(meta.date_unix) {
        info.creation_date = date;
        info.modification_date = date;
        info.metadata_date = date;
    }
    info.subject = meta.subject.to_owned();
    info.author = "boucle".into();
    info.creator = "boucle-jobs".into();
    info.producer = "boucle-jobs (printpdf)".into();
    let pages = pages
        .into_iter()
        .map(|p| PdfPage::new(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), p.ops))
        .collect();
    // `optimize: false`: printpdf neither compresses (done below) nor prunes — it has
    // nothing unreferenced to prune in these documents.
    let options = PdfSaveOptions {
        optimize: false,
        ..PdfSaveOptions::default()
    };
    let mut document = doc
        .with_pages(pages)
        .to_lopdf_document(&options, &mut Vec::new());
    compress_streams(&mut document, shared.map_or(&[][..], |s| &s[..]));
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail; an error would leave the bytes short, and the reader
    // tests (pdftotext, qpdf) would catch it.
    let _ = document.save_to(&mut bytes);
    stable_id(bytes)
}

/// Flate level of every stream. Measured on the 21,064 reports of the benchmark month
/// (BENCHMARKS.md, reports): level 9 (printpdf's) and 6 cost the same here, 139 reports per
/// CPU-second, 36.6 KB each; level 1 gives 168 per CPU-second for 45.4 KB — far below the
/// 200 KB budget of a report, so speed wins.
const DEFLATE_LEVEL: u32 = 1;

/// Deflates every stream that allows it and is not already filtered, keeping the raw bytes
/// where deflate would not make them smaller (as lopdf's own `compress` does). The program of
/// a shared face gets the bytes deflated once at load.
fn compress_streams(document: &mut lopdf::Document, shared: &[SharedFace]) {
    for object in document.objects.values_mut() {
        let lopdf::Object::Stream(stream) = object else {
            continue;
        };
        if !stream.allows_compression || stream.dict.get(b"Filter").is_ok() {
            continue;
        }
        let compressed = match shared.iter().find(|f| f.program == stream.content) {
            Some(face) => Some(face.deflated.clone()),
            None => deflate(&stream.content, DEFLATE_LEVEL),
        };
        let Some(compressed) = compressed else {
            continue;
        };
        if compressed.len() + 19 < stream.content.len() {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(compressed);
        }
    }
}

/// Zlib-deflated `bytes` at `level`.
fn deflate(bytes: &[u8], level: u32) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(bytes.len() / 2),
        flate2::Compression::new(level),
    );
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

/// Replaces the two 32-character strings of the trailer `/ID` by hex digits of the SHA-256
/// of the rest of the file.
fn stable_id(mut bytes: Vec<u8>) -> Vec<u8> {
    let Some(start) = find(&bytes, b"/ID") else {
        return bytes;
    };
    // Both strings are literal `(…)` of 32 characters after `/ID [`.
    let mut ranges = Vec::new();
    let mut i = start;
    while ranges.len() < 2 && i < bytes.len() {
        if bytes[i] == b'(' && i + 33 < bytes.len() && bytes[i + 33] == b')' {
            ranges.push(i + 1..i + 33);
            i += 34;
        } else {
            i += 1;
        }
    }
    if ranges.len() != 2 {
        return bytes;
    }
    let mut hasher = Sha256::new();
    hasher.update(&bytes[..ranges[0].start]);
    hasher.update(&bytes[ranges[1].end..]);
    let digest = hex::encode(hasher.finalize());
    let digest = digest.as_bytes();
    bytes[ranges[0].clone()].copy_from_slice(&digest[..32]);
    bytes[ranges[1].clone()].copy_from_slice(&digest[32..64]);
    bytes
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> Page {
        let mut page = Page::default();
        page.text(20.0, 20.0, 10.0, false, Colour::TEXT, text);
        page.text(20.0, 30.0, 10.0, true, Colour::TEXT, "Résultats d'octobre");
        page
    }

    #[test]
    fn french_text_uses_the_shared_subset_and_other_scripts_do_not() {
        let fonts = Fonts::load().unwrap_or_else(|| panic!("embedded fonts"));
        assert!(fonts.shared.is_some(), "the shared subset could not be cut");
        let french = page("L'œuvre « à refaire » — 12,5 % · 3 € ✓ → Ÿ…");
        assert!(fonts.shared_for(std::slice::from_ref(&french)).is_some());
        let cyrillic = page("Здравствуйте");
        assert!(fonts.shared_for(std::slice::from_ref(&cyrillic)).is_none());
    }

    #[test]
    fn a_file_within_the_set_embeds_both_shared_programs_deflated_once() {
        let fonts = Fonts::load().unwrap_or_else(|| panic!("embedded fonts"));
        let Some(shared) = fonts.shared.as_ref() else {
            panic!("the shared subset could not be cut");
        };
        let meta = Meta {
            title: "t",
            subject: "s",
            date_unix: 0,
        };
        let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        let within = save(&fonts, &meta, vec![page("Accueil « Part-Dieu »")]);
        for face in shared {
            assert!(contains(&within, &face.deflated));
        }
        let outside = save(&fonts, &meta, vec![page("Здравствуйте")]);
        for face in shared {
            assert!(!contains(&outside, &face.deflated));
        }
    }

    #[test]
    fn a_line_never_breaks_inside_a_number_and_its_unit() {
        let fonts = Fonts::load().unwrap_or_else(|| panic!("embedded fonts"));
        // A line too narrow for any two words: every breaking space breaks.
        let text = format!(
            "Taux {} le {} : fin",
            super::super::format::value(66.7, "%"),
            super::super::format::date_long("2026-10-01")
        );
        let lines = fonts.wrap(&text, 9.0, false, 1.0);
        assert!(lines.contains(&"66,7\u{202F}%".to_owned()), "{lines:?}");
        assert!(lines.contains(&"1er\u{A0}octobre".to_owned()), "{lines:?}");
        assert!(
            lines.iter().all(|l| !l.starts_with([':', '%'])),
            "{lines:?}"
        );
    }
}
