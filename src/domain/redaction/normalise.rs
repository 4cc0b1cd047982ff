//! What detection reads: a normalised view of a text, and the way back to the original.
//!
//! People type and paste personal data in forms that are the same to a reader and different
//! to a pattern: no-break spaces between digit groups, full-width digits and `＠`, zero-width
//! characters, accents written as a letter and a combining mark, or a number stored backwards
//! inside a right-to-left override so that it displays forwards. The view undoes all of that:
//!
//! - every character is taken in its NFKC form (with its combining marks, so `é` is one
//!   letter however it was typed): `０６` is `06`, `＠` is `@`, U+00A0 and U+202F are spaces;
//! - every run of whitespace or control characters is one ASCII space;
//! - invisible characters (zero-width spaces and joiners, soft hyphens, variation selectors,
//!   bidirectional controls, tags) are removed;
//! - [`views`] also gives the text as it displays inside right-to-left embeddings and
//!   overrides, where a number stored backwards reads forwards.
//!
//! Each character of a view remembers the byte range of the original it came from, so a
//! detection in the view masks exactly the original characters that a reader would see.

use std::borrow::Cow;
use std::ops::Range;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// A normalised view of a text.
pub struct View<'a> {
    pub text: Cow<'a, str>,
    /// For each character of `text`, its byte offset in `text` and the byte range of the
    /// original it comes from. Empty when `text` is the original itself.
    origins: Vec<(usize, Range<usize>)>,
}

impl View<'_> {
    /// The original bytes behind `range` of the view (the smallest range holding all of
    /// them: in a reordered view they are contiguous but in another order).
    pub fn original(&self, range: Range<usize>) -> Range<usize> {
        if self.origins.is_empty() {
            return range;
        }
        let first = self.origins.partition_point(|(at, _)| *at < range.start);
        let (mut start, mut end) = (usize::MAX, 0);
        for (_, origin) in self.origins[first..]
            .iter()
            .take_while(|(at, _)| *at < range.end)
        {
            start = start.min(origin.start);
            end = end.max(origin.end);
        }
        if start > end { range } else { start..end }
    }
}

/// Characters a reader does not see, removed from the view: zero-width spaces and joiners,
/// soft hyphen, word joiner and invisible operators, Hangul fillers, Mongolian selectors,
/// variation selectors, byte-order mark, shorthand format controls, tags, and the
/// bidirectional controls.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2065}'
            | '\u{206A}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{E0000}'..='\u{E007F}'
    ) || is_bidi_control(c)
}

/// The bidirectional formatting characters (marks, embeddings, overrides, isolates). They
/// are also removed from the published copy: they can only serve to make a text display
/// otherwise than it is stored.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Starts a right-to-left embedding, override or isolate.
fn starts_right_to_left(c: char) -> bool {
    matches!(c, '\u{202B}' | '\u{202E}' | '\u{2067}')
}

/// Ends an embedding (pop, pop isolate, or the end of a paragraph).
fn ends_embedding(c: char) -> bool {
    matches!(
        c,
        '\u{202C}' | '\u{2069}' | '\n' | '\r' | '\u{0085}' | '\u{2029}'
    )
}

/// The views detection must read: the text in its stored order, and, when it holds
/// right-to-left controls, the two orders it may display in — every character of an
/// embedding reversed (an override), and its words in reverse order (an embedding, where
/// each number still reads left to right).
pub fn views(text: &str) -> Vec<View<'_>> {
    let mut views = vec![logical(text)];
    if text.contains(starts_right_to_left) {
        views.push(build(reordered(text, Reorder::Characters)));
        views.push(build(reordered(text, Reorder::Words)));
    }
    views
}

fn logical(text: &str) -> View<'_> {
    if is_plain(text) {
        return View {
            text: Cow::Borrowed(text),
            origins: Vec::new(),
        };
    }
    build(text.char_indices().map(|(i, c)| (c, i..i + c.len_utf8())))
}

/// Whether the view of `text` is `text` itself: single ASCII spaces only, no control or
/// invisible character, already NFKC.
fn is_plain(text: &str) -> bool {
    let mut previous_space = false;
    for c in text.chars() {
        let space = c == ' ';
        if space && previous_space {
            return false;
        }
        previous_space = space;
        if !space && (c.is_whitespace() || c.is_control() || is_invisible(c)) {
            return false;
        }
    }
    text.is_ascii() || is_nfkc_quick(text.chars()) == IsNormalized::Yes
}

#[derive(Clone, Copy)]
enum Reorder {
    Characters,
    Words,
}

/// The characters of `text` with every right-to-left segment reordered.
fn reordered(text: &str, how: Reorder) -> Vec<(char, Range<usize>)> {
    let mut out = Vec::with_capacity(text.len());
    let mut segment: Vec<(char, Range<usize>)> = Vec::new();
    let mut inside = false;
    let flush = |segment: &mut Vec<(char, Range<usize>)>, out: &mut Vec<_>| match how {
        Reorder::Characters => out.extend(segment.drain(..).rev()),
        Reorder::Words => {
            let words: Vec<Vec<_>> = segment
                .split(|(c, _)| c.is_whitespace())
                .map(<[_]>::to_vec)
                .collect();
            for (i, word) in words.into_iter().rev().enumerate() {
                if i > 0 {
                    out.push((' ', 0..0));
                }
                out.extend(word);
            }
            segment.clear();
        }
    };
    for (i, c) in text.char_indices() {
        let unit = (c, i..i + c.len_utf8());
        if starts_right_to_left(c) {
            flush(&mut segment, &mut out);
            inside = true;
        } else if inside && ends_embedding(c) {
            flush(&mut segment, &mut out);
            inside = false;
            out.push(unit);
        } else if inside {
            segment.push(unit);
        } else {
            out.push(unit);
        }
    }
    flush(&mut segment, &mut out);
    // The spaces put between reversed words come from nowhere: give them the range of a
    // neighbour so that a match never maps to an empty range.
    for k in 0..out.len() {
        if out[k].1.is_empty() {
            let near = out[..k]
                .iter()
                .rev()
                .chain(out[k + 1..].iter())
                .find(|(_, r)| !r.is_empty())
                .map(|(_, r)| r.clone());
            out[k].1 = near.unwrap_or(0..0);
        }
    }
    out
}

/// Normalises a sequence of (character, original range).
fn build<'a>(units: impl IntoIterator<Item = (char, Range<usize>)>) -> View<'a> {
    let mut text = String::new();
    let mut origins: Vec<(usize, Range<usize>)> = Vec::new();
    let mut cluster = String::new();
    let mut cluster_range: Option<Range<usize>> = None;

    fn push(text: &mut String, origins: &mut Vec<(usize, Range<usize>)>, c: char, r: Range<usize>) {
        if c.is_whitespace() || c.is_control() {
            if text.is_empty() || text.ends_with(' ') {
                return;
            }
            origins.push((text.len(), r));
            text.push(' ');
        } else {
            origins.push((text.len(), r));
            text.push(c);
        }
    }
    let flush = |cluster: &mut String,
                 range: &mut Option<Range<usize>>,
                 text: &mut String,
                 origins: &mut Vec<(usize, Range<usize>)>| {
        if let Some(r) = range.take() {
            for c in cluster.nfkc() {
                push(text, origins, c, r.clone());
            }
            cluster.clear();
        }
    };
    for (c, r) in units {
        if is_invisible(c) {
            continue;
        }
        if is_combining_mark(c) && cluster_range.is_some() {
            cluster.push(c);
            if let Some(range) = &mut cluster_range {
                range.end = range.end.max(r.end);
            }
            continue;
        }
        flush(&mut cluster, &mut cluster_range, &mut text, &mut origins);
        cluster.push(c);
        cluster_range = Some(r);
    }
    flush(&mut cluster, &mut cluster_range, &mut text, &mut origins);
    View {
        text: Cow::Owned(text),
        origins,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(text: &str) -> String {
        logical(text).text.into_owned()
    }

    #[test]
    fn spaces_controls_and_invisibles_are_normalised() {
        assert_eq!(view("06\u{00A0}12\u{202F}34"), "06 12 34");
        assert_eq!(view("06  12\t\n34"), "06 12 34");
        assert_eq!(view("06\u{200B}12\u{00AD}34\u{FEFF}"), "061234");
        assert_eq!(view("０６ jean＠example．fr"), "06 jean@example.fr");
        assert_eq!(view("jose\u{0301}"), "josé");
    }

    #[test]
    fn a_plain_text_is_its_own_view() {
        let v = logical("Accueil rapide, 3 agents présents.");
        assert!(matches!(v.text, Cow::Borrowed(_)));
        assert_eq!(v.original(3..7), 3..7);
    }

    #[test]
    fn a_range_of_the_view_maps_back_to_the_original_characters() {
        let text = "tel\u{00A0}06\u{200B}12";
        let v = logical(text);
        assert_eq!(v.text, "tel 0612");
        let start = v.text.find('0').unwrap_or_default();
        assert_eq!(&text[v.original(start..v.text.len())], "06\u{200B}12");
    }

    #[test]
    fn right_to_left_segments_are_read_as_they_display() {
        let text = "au \u{202E}87 65 43 21 60\u{202C} merci";
        let all = views(text);
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].text, "au 87 65 43 21 60 merci");
        assert_eq!(all[1].text, "au 06 12 34 56 78 merci");
        let at = all[1].text.find("06").unwrap_or_default();
        let r = all[1].original(at..at + 14);
        assert_eq!(&text[r], "87 65 43 21 60");
        let embedded = views("au \u{202B}78 56 34 12 06\u{202C}");
        assert_eq!(embedded[2].text, "au 06 12 34 56 78");
    }
}
