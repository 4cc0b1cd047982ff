//! The labelled corpus of `tests/data/redaction_corpus.tsv`: texts with the personal data they
//! hold, by kind, and ordinary texts full of numbers (dates, amounts, postal codes, SIRET, case
//! numbers, times) that must stay untouched. This test measures recall (personal data masked)
//! and precision (masks that were personal data) per kind, and requires recall ≥ 99 % and
//! precision ≥ 95 % for every kind. Figures: `cargo test -p boucle redaction_corpus --
//! --nocapture` (RELIABILITY.md keeps the last ones).

use std::collections::BTreeMap;

use super::codes::PersonalDataKind;
use super::redaction::{marker, redact};

const CORPUS: &str = include_str!("../../tests/data/redaction_corpus.tsv");

/// One labelled line: a text and the personal data it holds.
pub(crate) struct Labelled {
    pub text: &'static str,
    pub secrets: Vec<(PersonalDataKind, &'static str)>,
}

fn kind(name: &str) -> PersonalDataKind {
    match name {
        "email" => PersonalDataKind::Email,
        "phone" => PersonalDataKind::Phone,
        "nir" => PersonalDataKind::Nir,
        "iban" => PersonalDataKind::Iban,
        "card" => PersonalDataKind::Card,
        "address" => PersonalDataKind::PostalAddress,
        other => panic!("unknown kind {other:?} in the corpus"),
    }
}

pub(crate) fn corpus() -> Vec<Labelled> {
    CORPUS
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut fields = l.split('\t');
            let text = fields.next().unwrap_or_default();
            let secrets = fields
                .map(|f| {
                    let (k, secret) = f.split_once('=').unwrap_or(("?", f));
                    (kind(k), secret)
                })
                .collect();
            Labelled { text, secrets }
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    items: usize,
    caught: usize,
    masks: usize,
    false_masks: usize,
}

#[test]
fn corpus_recall_and_precision_per_kind_meet_the_targets() {
    let corpus = corpus();
    let mut tallies: BTreeMap<PersonalDataKind, Tally> = BTreeMap::new();
    let mut ordinary = 0;
    let mut ordinary_touched = Vec::new();
    for line in &corpus {
        let out = redact(line.text).text;
        for (kind, secret) in &line.secrets {
            let t = tallies.entry(*kind).or_default();
            t.items += 1;
            if out.contains(secret) {
                println!("MISSED {kind:?} {secret:?} in {out:?}");
            } else {
                t.caught += 1;
            }
        }
        for &kind in PersonalDataKind::ALL {
            let masks = out.matches(marker(kind)).count();
            let expected = line.secrets.iter().filter(|(k, _)| *k == kind).count();
            let t = tallies.entry(kind).or_default();
            t.masks += masks;
            // More masks of a kind than secrets of that kind: something else was cut.
            t.false_masks += masks.saturating_sub(expected);
            if masks > expected && !line.secrets.is_empty() {
                println!("EXTRA {kind:?} mask in {:?} → {out:?}", line.text);
            }
        }
        if line.secrets.is_empty() {
            ordinary += 1;
            if out != line.text {
                println!("FALSE POSITIVE {:?} → {out:?}", line.text);
                ordinary_touched.push(line.text);
            }
        }
    }
    let (mut items, mut caught, mut masks, mut false_masks) = (0, 0, 0, 0);
    for (kind, t) in &tallies {
        let recall = 100.0 * t.caught as f64 / t.items.max(1) as f64;
        let precision = 100.0 * (t.masks - t.false_masks) as f64 / t.masks.max(1) as f64;
        println!(
            "{kind:?}: {} items, recall {recall:.1} %, precision {precision:.1} % ({} masks, {} false)",
            t.items, t.masks, t.false_masks
        );
        assert!(recall >= 99.0, "{kind:?}: recall {recall:.1} % < 99 %");
        assert!(
            precision >= 95.0,
            "{kind:?}: precision {precision:.1} % < 95 %"
        );
        items += t.items;
        caught += t.caught;
        masks += t.masks;
        false_masks += t.false_masks;
    }
    println!(
        "redaction corpus: {items} personal-data items in {} texts, {ordinary} ordinary texts \
         ({} touched): recall {:.1} %, precision {:.1} % ({masks} masks, {false_masks} false)",
        corpus.len() - ordinary,
        ordinary_touched.len(),
        100.0 * caught as f64 / items as f64,
        100.0 * (masks - false_masks) as f64 / masks.max(1) as f64,
    );
    assert!(items > 100 && ordinary > 40, "the corpus file was read");
    assert!(
        tallies.values().all(|t| t.items >= 8),
        "every kind has examples"
    );
}
