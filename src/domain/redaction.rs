//! Personal-data detection in free texts, at capture.
//!
//! What is found is replaced by a visible marker (« [courriel masqué] », …) in the redacted
//! copy; the raw text is kept for internal readers only. Detectors run in a fixed order on
//! the output of the previous one, and markers contain no digits or `@`, so a marker is never
//! matched again.
//!
//! Number detectors check what they can (IBAN mod 97, card Luhn, NIR key) and require that
//! a match is not glued to other digits, so ordinary numbers — dates, amounts, file
//! numbers — are left alone.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use super::codes::PersonalDataKind;

/// A redacted text and the kinds of personal data that were masked in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Redacted {
    pub text: String,
    pub kinds: BTreeSet<PersonalDataKind>,
}

pub fn marker(kind: PersonalDataKind) -> &'static str {
    match kind {
        PersonalDataKind::Email => "[courriel masqué]",
        PersonalDataKind::Phone => "[téléphone masqué]",
        PersonalDataKind::Nir => "[n° de sécurité sociale masqué]",
        PersonalDataKind::Iban => "[IBAN masqué]",
        PersonalDataKind::Card => "[n° de carte masqué]",
        PersonalDataKind::PostalAddress => "[adresse masquée]",
    }
}

// The patterns are constants checked by the unit tests below; a typo fails every test run,
// never a request.
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("invalid built-in pattern {pattern}: {e}"))
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)[a-z0-9](?:[a-z0-9._%+-]*[a-z0-9_])?\s?(?:@|\(at\)|\[at\]|\sarobase\s)\s?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\s?\.\s?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\s?\.\s?[a-z]{2,24}\b",
    )
});
/// An IBAN candidate: country, check digits, then 11–30 alphanumerics in groups. Trimmed to
/// the longest prefix that passes mod 97.
static IBAN: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b[a-z]{2}\s?\d{2}(?:[ .-]?[a-z0-9]){11,30}"));
/// NIR: sex, year, month (or 20–99 for special cases), department (2A/2B for Corsica),
/// commune, order, optional key.
static NIR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)[12][ .-]?\d{2}[ .-]?(?:0[1-9]|1[0-2]|[2-9]\d)[ .-]?(?:\d{2}|2[ab])[ .-]?\d{3}[ .-]?\d{3}(?:[ .-]?\d{2})?",
    )
});
/// 13–19 digits, optionally grouped by spaces, dots or dashes.
static CARD: LazyLock<Regex> = LazyLock::new(|| re(r"\d(?:[ .-]?\d){12,18}"));
/// French numbers: 0X XX XX XX XX, +33 X…, 0033 X…, +33 (0)X…, with any usual separator.
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?[ .-]?|\b0)[1-9](?:[ .-]?\d{2}){4}"));
/// A street number, a street type and the words of its name (capitalised, or the small
/// words that join them). Only this « number + street type » shape is considered reliable.
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b\d{1,4}(?:\s?(?i:bis|ter|b|c))?,?\s+(?i:rue|avenue|av\.|bd|boulevard|place|chemin|allée|allee|impasse|quai|route|cours|square|passage|résidence|residence|lotissement|lieu-dit|chaussée|faubourg|rond-point|sentier|hameau|villa|cité|cite)\b(?:\s+(?:de|du|des|la|le|les|l'|l’|d'|d’|et|à|au|aux|[\p{Lu}][\p{L}’'.-]*)){0,7}\s+[\p{Lu}][\p{L}’'.-]*",
    )
});

/// Detects and masks personal data in `input`.
pub fn redact(input: &str) -> Redacted {
    redact_with(input, true)
}

/// [`redact`], with the prefilters on or off (off: the tests' reference).
fn redact_with(input: &str, prefilters: bool) -> Redacted {
    let mut kinds = BTreeSet::new();
    let mut text = input.to_owned();
    // Exact prefilters: a detector whose pattern cannot match is not run. Most texts hold no
    // e-mail marker and many no digit at all, and running six regexes over every text of
    // every submission is a measurable share of capture (see BENCHMARKS.md, ingest).
    if !prefilters || may_hold_email(&text) {
        text = replace_checked(text, &EMAIL, PersonalDataKind::Email, &mut kinds, |_, _| {
            Some(0)
        });
    }
    // IBAN, NIR, card, phone and address patterns all require a digit (`\d` is any Unicode
    // decimal digit; `char::is_numeric` is a superset of it).
    if prefilters && !text.chars().any(char::is_numeric) {
        return Redacted { text, kinds };
    }
    text = replace_checked(
        text,
        &IBAN,
        PersonalDataKind::Iban,
        &mut kinds,
        iban_prefix_len,
    );
    text = replace_checked(text, &NIR, PersonalDataKind::Nir, &mut kinds, |m, _| {
        nir_len(m)
    });
    text = replace_checked(text, &CARD, PersonalDataKind::Card, &mut kinds, |m, _| {
        card_len(m)
    });
    text = replace_checked(text, &PHONE, PersonalDataKind::Phone, &mut kinds, |_, _| {
        Some(0)
    });
    text = replace_checked(
        text,
        &ADDRESS,
        PersonalDataKind::PostalAddress,
        &mut kinds,
        |_, _| Some(0),
    );
    Redacted { text, kinds }
}

/// Whether [`EMAIL`] can match: it needs `@`, `(at)`, `[at]` or `arobase` in any case. The
/// pattern's `(?i)` is Unicode case folding, under which `s` also matches `ſ` (U+017F, the
/// only non-ASCII fold of these letters): a text holding one is always searched.
fn may_hold_email(text: &str) -> bool {
    let contains = |needle: &[u8]| {
        text.as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    };
    text.contains(['@', 'ſ']) || contains(b"(at)") || contains(b"[at]") || contains(b"arobase")
}

/// Replaces each match of `pattern` in `text` that `accept` validates. `accept` is given
/// the match and the character that follows it in the text, and returns the length (in
/// bytes of the match) of the part that is personal data, `Some(0)` for the whole match,
/// `None` to keep the match as it is. A match glued to a digit or letter on either side is kept (it is part
/// of a larger number or word).
fn replace_checked(
    text: String,
    pattern: &Regex,
    kind: PersonalDataKind,
    kinds: &mut BTreeSet<PersonalDataKind>,
    accept: impl Fn(&str, Option<char>) -> Option<usize>,
) -> String {
    // Allocated at the first replacement: a text without personal data is returned as is.
    let mut out: Option<String> = None;
    let mut last = 0;
    let mut search_from = 0;
    while let Some(m) = pattern.find_at(&text, search_from) {
        let matched = m.as_str();
        let glued_before = text[..m.start()]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() && kind != PersonalDataKind::PostalAddress);
        let accepted = if glued_before {
            None
        } else {
            let following = text[m.end()..].chars().next();
            accept(matched, following).map(|len| if len == 0 { matched.len() } else { len })
        };
        let end = accepted.map(|len| m.start() + len);
        let glued_after = end.is_some_and(|end| {
            text[end..].chars().next().is_some_and(|c| {
                c.is_ascii_digit()
                    || (kind != PersonalDataKind::PostalAddress
                        && kind != PersonalDataKind::Email
                        && c.is_alphanumeric())
            })
        });
        match end {
            Some(end) if !glued_after => {
                let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
                out.push_str(&text[last..m.start()]);
                out.push_str(marker(kind));
                kinds.insert(kind);
                last = end;
                search_from = end;
            }
            _ => {
                // Try again one character further: a valid match may start inside this one.
                search_from = m.start() + matched.chars().next().map_or(1, char::len_utf8);
            }
        }
        if search_from >= text.len() {
            break;
        }
    }
    match out {
        Some(mut out) => {
            out.push_str(&text[last..]);
            out
        }
        None => text,
    }
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Longest prefix of the candidate (in bytes) that is a valid IBAN of 15–34 characters.
fn iban_prefix_len(candidate: &str, following: Option<char>) -> Option<usize> {
    // Byte offset in `candidate` after each alphanumeric character.
    let ends: Vec<(usize, char)> = candidate
        .char_indices()
        .filter(|(_, c)| c.is_ascii_alphanumeric())
        .map(|(i, c)| (i + c.len_utf8(), c.to_ascii_uppercase()))
        .collect();
    // A prefix that ends inside a group (a digit or letter follows it in the candidate) is
    // not an IBAN that ends there: without this, a longer prefix that passes mod 97 by chance
    // (digits of a phone number written just after) would hide the real, shorter one.
    (15..=ends.len().min(34)).rev().find_map(|n| {
        let end = ends[n - 1].0;
        let inside_a_group = candidate[end..]
            .chars()
            .next()
            .or(following)
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let compact: String = ends[..n].iter().map(|(_, c)| *c).collect();
        (!inside_a_group && iban_valid(&compact)).then_some(end)
    })
}

/// ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97.
pub fn iban_valid(compact: &str) -> bool {
    let bytes = compact.as_bytes();
    if bytes.len() < 15
        || bytes.len() > 34
        || !bytes[..2].iter().all(u8::is_ascii_uppercase)
        || !bytes[2..4].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let mut remainder: u32 = 0;
    for &b in bytes[4..].iter().chain(&bytes[..4]) {
        let value = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

/// NIR: 13 characters (without key) or 15 (with key) in the strict NIR shape. A wrong key is
/// still masked: usagers mistype, and a near-NIR identifies a person just as well.
fn nir_len(candidate: &str) -> Option<usize> {
    matches!(digits(candidate).len(), 13 | 15).then_some(0)
}

/// Payment card: 13, 15, 16 or 19 digits passing Luhn. 14 digits is left out on purpose:
/// SIRET numbers (public identifiers of organisations) are 14 Luhn-valid digits.
fn card_len(candidate: &str) -> Option<usize> {
    let compact = digits(candidate);
    (matches!(compact.len(), 13 | 15 | 16 | 19) && luhn_valid(&compact)).then_some(0)
}

pub fn luhn_valid(number: &str) -> bool {
    let mut sum = 0;
    for (i, c) in number.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else {
            return false;
        };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn masked(input: &str) -> Redacted {
        redact(input)
    }

    #[test]
    fn emails_are_masked_in_their_usual_forms() {
        for input in [
            "écrivez-moi à jean.dupont@example.fr merci",
            "JEAN.DUPONT@EXAMPLE.FR",
            "contact: marie-claire+caf@sous.domaine.gouv.fr.",
            "jean.dupont (at) example.fr",
            "jean.dupont arobase example.fr",
        ] {
            let r = masked(input);
            assert!(
                r.text.contains(marker(PersonalDataKind::Email)),
                "{input} → {}",
                r.text
            );
            assert!(
                !r.text.contains("dupont") || !r.text.contains("example"),
                "{}",
                r.text
            );
            assert_eq!(r.kinds.iter().next(), Some(&PersonalDataKind::Email));
        }
    }

    #[test]
    fn french_phone_numbers_are_masked_whatever_the_separators() {
        for input in [
            "appelez le 06 12 34 56 78 svp",
            "appelez le 0612345678",
            "tel 06.12.34.56.78",
            "tel 06-12-34-56-78",
            "+33 6 12 34 56 78",
            "+33612345678",
            "0033 6 12 34 56 78",
            "+33 (0)6 12 34 56 78",
            "01 44 55 66 77",
        ] {
            let r = masked(input);
            assert!(
                r.kinds.contains(&PersonalDataKind::Phone),
                "{input} → {}",
                r.text
            );
            assert!(!r.text.contains("34"), "{input} → {}", r.text);
        }
    }

    #[test]
    fn nir_is_masked_with_or_without_spaces_and_key() {
        // 1 85 05 78 006 084 + key 97 - (1850578006084 mod 97)
        let body = 1_850_578_006_084u64;
        let key = 97 - body % 97;
        for input in [
            format!("mon numéro {body}{key:02} merci"),
            format!("mon numéro 1 85 05 78 006 084 {key:02}"),
            "mon numéro 2 90 12 2A 123 456".to_owned(),
        ] {
            let r = masked(&input);
            assert!(
                r.kinds.contains(&PersonalDataKind::Nir),
                "{input} → {}",
                r.text
            );
        }
    }

    #[test]
    fn ibans_are_masked_including_lowercase_and_grouped() {
        for input in [
            "IBAN FR76 3000 6000 0112 3456 7890 189 merci",
            "iban fr7630006000011234567890189",
            "virement sur FR7630006000011234567890189.",
            "DE89 3704 0044 0532 0130 00",
        ] {
            let r = masked(input);
            assert!(
                r.kinds.contains(&PersonalDataKind::Iban),
                "{input} → {}",
                r.text
            );
            assert!(!r.text.contains("3456"), "{input} → {}", r.text);
        }
        // The words after the IBAN survive.
        assert!(
            masked("IBAN FR76 3000 6000 0112 3456 7890 189 merci")
                .text
                .ends_with(" merci")
        );
    }

    #[test]
    fn card_numbers_passing_luhn_are_masked() {
        for input in [
            "carte 4970 1012 3456 7893",
            "carte 4556737586899855",
            "5555-5555-5555-4444",
        ] {
            let r = masked(input);
            assert!(
                r.kinds.contains(&PersonalDataKind::Card),
                "{input} → {}",
                r.text
            );
        }
    }

    #[test]
    fn postal_addresses_are_masked_when_reliably_shaped() {
        for input in [
            "j'habite au 12 rue de la Paix à Lyon",
            "envoyé au 3 bis avenue Jean Jaurès",
            "45, boulevard Saint-Michel",
        ] {
            let r = masked(input);
            assert!(
                r.kinds.contains(&PersonalDataKind::PostalAddress),
                "{input} → {}",
                r.text
            );
        }
    }

    #[test]
    fn ordinary_numbers_are_left_alone() {
        for input in [
            "Rendez-vous le 12/03/2026 à 14h30, attente de 45 minutes.",
            "J'ai reçu 1 250,50 € le 3 mars 2026.",
            "Dossier n° 2026-000123, guichet 4, 3 agents présents.",
            "Ouvert de 8h30 à 12h00, 2 jours sur 5.",
            "Code postal 69003, bureau 12.",
            "Montant 123456789 centimes",
            "Le 15 rue est fermée",
            "Année 2025 puis 2026, 100 % satisfait, 10/10.",
        ] {
            let r = masked(input);
            assert_eq!(r.text, input);
            assert!(r.kinds.is_empty(), "{input} → {:?}", r.kinds);
        }
    }

    #[test]
    fn checksums_are_right() {
        assert!(iban_valid("FR7630006000011234567890189"));
        assert!(!iban_valid("FR7630006000011234567890188"));
        assert!(luhn_valid("4970101234567893"));
        assert!(!luhn_valid("4970101234567897"));
    }

    #[test]
    fn an_iban_followed_by_a_phone_number_is_masked_in_one_pass() {
        let r = redact("FR7630006000011234567890189 06 75 31 40 00 ");
        assert_eq!(r.text, "[IBAN masqué] [téléphone masqué] ");
        // Found by the fuzz target: "FR76…189 06 0" passes mod 97 by chance and is glued to
        // the next digit; the real IBAN used to survive the first pass.
        let r = redact("IBAN FR7630006000011234567890189 06 00 00 00 00 merci");
        assert_eq!(r.text, "IBAN [IBAN masqué] [téléphone masqué] merci");
        assert_eq!(redact(&r.text).text, r.text);
    }

    #[test]
    fn the_email_prefilter_follows_unicode_case_folding() {
        // `(?i)` folds `ſ` to `s`: the prefilter must not skip what the pattern would find.
        let input = "jean.dupont AROBAſE example.fr";
        assert_eq!(redact_with(input, true), redact_with(input, false));
        assert!(redact(input).kinds.contains(&PersonalDataKind::Email));
    }

    proptest! {
        #[test]
        fn prefilters_never_change_what_is_masked(
            parts in proptest::collection::vec(prop_oneof![
                "\\PC{0,12}",
                "[a-zé]{1,8}",
                "[0-9]{1,4}",
                "[ .-]",
                Just("@".to_owned()),
                Just(" (AT) ".to_owned()),
                Just(" [at] ".to_owned()),
                Just(" Arobase ".to_owned()),
                Just(" AROBAſE ".to_owned()),
                Just(".fr".to_owned()),
                Just("FR76".to_owned()),
                Just("06".to_owned()),
                Just("rue de la Paix".to_owned()),
                Just("١٢٣".to_owned()),
                Just("１２".to_owned()),
            ], 0..24)
        ) {
            let s: String = parts.concat();
            prop_assert_eq!(redact_with(&s, true), redact_with(&s, false));
        }

        #[test]
        fn redaction_never_panics_and_is_idempotent(s in "\\PC{0,200}") {
            let once = redact(&s);
            let twice = redact(&once.text);
            prop_assert_eq!(&once.text, &twice.text);
        }

        #[test]
        fn an_embedded_email_never_survives(local in "[a-z]{1,10}(\\.[a-z]{1,8})?", domain in "[a-z]{2,10}", tld in "(fr|com|org|gouv\\.fr)", before in "[A-Za-zé ]{0,20}", after in "[A-Za-zé ]{0,20}") {
            let email = format!("{local}@{domain}.{tld}");
            let r = redact(&format!("{before} {email} {after}"));
            prop_assert!(!r.text.contains(&email));
        }

        #[test]
        fn an_embedded_mobile_number_never_survives(n in 10_000_000u32..99_999_999u32, sep in "( |\\.|-|)") {
            let s = format!("{n:08}");
            let phone = format!("06{sep}{}{sep}{}{sep}{}{sep}{}", &s[0..2], &s[2..4], &s[4..6], &s[6..8]);
            let r = redact(&format!("mon numéro {phone} merci"));
            prop_assert!(!r.text.contains(&phone), "{}", r.text);
        }
    }
}
