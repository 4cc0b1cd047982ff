//! The labelled corpus of `tests/data/redaction_corpus.tsv`: texts with the personal data they
//! hold, and ordinary texts full of numbers that must stay untouched. This test measures
//! recall (personal data masked) and precision (masks that were personal data) and requires
//! both to be total on the corpus. Figures: `cargo test -p boucle redaction_corpus -- --nocapture`.

use super::redaction::redact;

const CORPUS: &str = include_str!("../../tests/data/redaction_corpus.tsv");

/// (text, personal data it holds).
fn corpus() -> Vec<(&'static str, Vec<&'static str>)> {
    CORPUS
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut fields = l.split('\t');
            let text = fields.next().unwrap_or_default();
            (text, fields.collect())
        })
        .collect()
}

fn masks(text: &str) -> usize {
    text.matches("masqué]").count() + text.matches("masquée]").count()
}

#[test]
fn corpus_recall_and_precision_are_total() {
    let corpus = corpus();
    let (mut items, mut caught, mut total_masks, mut false_masks) = (0, 0, 0, 0);
    let mut ordinary = 0;
    for (text, secrets) in &corpus {
        let out = redact(text).text;
        for secret in secrets {
            items += 1;
            if out.contains(secret) {
                println!("MISSED {secret:?} in {out:?}");
            } else {
                caught += 1;
            }
        }
        let m = masks(&out);
        total_masks += m;
        // More masks than secrets: something that was not personal data was cut.
        false_masks += m.saturating_sub(secrets.len());
        if secrets.is_empty() {
            ordinary += 1;
            assert_eq!(&out, text, "an ordinary text must stay untouched");
        }
    }
    let recall = 100.0 * caught as f64 / items as f64;
    let precision = 100.0 * (total_masks - false_masks) as f64 / total_masks.max(1) as f64;
    println!(
        "redaction corpus: {items} personal-data items in {} texts, {ordinary} ordinary texts: \
         recall {recall:.1} %, precision {precision:.1} % ({total_masks} masks, {false_masks} false)",
        corpus.len() - ordinary
    );
    assert!(items > 30 && ordinary > 15, "the corpus file was read");
    assert_eq!(caught, items, "recall must be total on the corpus");
    assert_eq!(false_masks, 0, "precision must be total on the corpus");
}
