//! Personal-data detection in free texts, and the one redaction every public output applies.
//!
//! What is found is replaced by a visible marker (« [courriel masqué] », …). Experiences are
//! redacted at capture (moderators see that copy beside the raw text, which only internal
//! readers get); every text that a public output shows — experiences, answers and their
//! signatures, public actions, PDF reports — goes through [`public_text`] again at the
//! moment it is shown, whoever wrote it, so a text stored before a detector improved is
//! published with today's detectors.
//!
//! Detection reads a normalised view of the text ([`normalise`]: NFKC, every space and
//! control a single space, invisible characters removed, right-to-left segments also read as
//! they display), and masks the original characters behind each match. Detectors run in a
//! fixed order; what one masks is out of reach of the next. Markers contain no digit, `@` or
//! keyword, so redacting twice changes nothing. Bidirectional controls are removed from the
//! redacted copy: they can only make a text display otherwise than it is stored.
//!
//! Recall comes first: a masked date is a small harm, a published phone number is not. Number
//! detectors accept any usual separator between any two digits (spaces, dots, dashes,
//! slashes, one at a time or in groups), and check what they can (IBAN mod 97, card Luhn,
//! NIR shape) so that ordinary numbers — dates, amounts, SIRET, file numbers — are left
//! alone; a number glued to other digits is part of a larger number. E-mail addresses are
//! found in their obfuscated spellings too (`at`, `arobase`, `[at]`, `(dot)`, `point`).

mod normalise;

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::codes::PersonalDataKind;
use normalise::{View, is_bidi_control, views};

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
// never a request. They read the normalised view, where whitespace is a single ASCII space.
fn re(pattern: &str) -> Regex {
    let pattern = pattern.replace("SEP", r"(?:[ ]?[./-][ ]?|[ ])?");
    Regex::new(&pattern).unwrap_or_else(|e| panic!("invalid built-in pattern {pattern}: {e}"))
}

/// `local AT domain DOT tld`, where AT is `@`, `at`, `arobase` or `[at]`/`(at)` and DOT is
/// `.`, `dot`, `point` or `[dot]`/`(point)`; letters of any script, combining marks kept.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    let word = r"[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}_%+-]*[\p{L}\p{M}\p{N}_])?";
    let label = r"[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}-]*[\p{L}\p{M}\p{N}])?";
    let spelled_dot = r"(?:[ ]?[\[(][ ]?(?:dot|point)[ ]?[\])][ ]?|[ ](?:dot|point)[ ])";
    let dot = format!(r"(?:[ ]?\.[ ]?|{spelled_dot})");
    let at = r"(?:[ ]?@[ ]?|[ ]?[\[(][ ]?(?:at|arobase)[ ]?[\])][ ]?|[ ](?:at|arobase)[ ])";
    re(&format!(
        r"(?i){word}(?:(?:\.|{spelled_dot}){word})*{at}{label}(?:{dot}{label})*{dot}[a-z]{{2,24}}\b"
    ))
});
/// An IBAN candidate: country, check digits, then 11–30 alphanumerics with any separators.
/// Trimmed to the longest prefix that passes mod 97.
static IBAN: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b[a-z]SEP[a-z]SEP[0-9]SEP[0-9](?:SEP[a-z0-9]){11,30}"));
/// NIR: sex, year, month (or 20–99 for special cases), department (2A/2B for Corsica),
/// commune, order, optional key; any separator between any two characters.
static NIR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)[12]SEP[0-9]SEP[0-9]SEP(?:0SEP[1-9]|1SEP[0-2]|[2-9]SEP[0-9])SEP(?:[0-9]SEP[0-9]|2SEP[ab])(?:SEP[0-9]){6}(?:SEP[0-9]SEP[0-9])?",
    )
});
/// A NIR-shaped number that starts with a year and a separator (`2026-11-0004512`) is a
/// reference or a date, not a NIR: a NIR's first group is its one-digit sex.
static YEAR_FIRST: LazyLock<Regex> = LazyLock::new(|| re(r"^(?:19|20)[0-9]{2}[ ]?[./-]"));
/// 13–19 digits with any separators; trimmed to the longest valid card number.
static CARD: LazyLock<Regex> = LazyLock::new(|| re(r"[0-9](?:SEP[0-9]){12,18}"));
/// French numbers: 0X XX XX XX XX, +33 X…, 0033 X…, +33 (0)X…, in any grouping.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?:(?:\+SEP|0SEP0SEP)3SEP3SEP(?:\(SEP0SEP\)SEP)?|0SEP)[1-9](?:SEP[0-9]){8}")
});
/// A date written with slashes inside a phone-shaped match (`01/02/2026 15 personnes`): not a
/// phone number. Only slashes: a French number is written with dots or dashes far more often
/// than a date followed by two more digits, and recall comes first.
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\b(?:0?[1-9]|[12][0-9]|3[01])[ ]?/[ ]?(?:0?[1-9]|1[0-2])[ ]?/[ ]?(?:19|20)[0-9]{2}\b")
});
/// A street number, a street type and the words that follow; [`address_len`] decides how
/// many of them are the street's name.
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b[0-9]{{1,4}}(?:[ ]?(?i:bis|ter|b|c))?,?[ ](?i:{STREET_TYPES})\b(?:[ ][\p{{L}}][\p{{L}}’'.-]*){{1,8}}"
    ))
});
/// The street types an address is recognised by.
const STREET_TYPES: &str = r"rue|avenue|av\.|bd|boulevard|place|chemin|allée|allee|impasse|quai|route|cours|square|passage|résidence|residence|lotissement|lieu-dit|chaussée|faubourg|rond-point|sentier|hameau|villa|cité|cite";

/// Detects and masks personal data in `input`.
pub fn redact(input: &str) -> Redacted {
    redact_with(input, true)
}

/// The redacted copy of a text about to be shown publicly: the one function every public
/// output calls on every free text it shows.
pub fn public_text(input: &str) -> String {
    redact(input).text
}

/// [`redact`], with the prefilters on or off (off: the tests' reference). One pass finds
/// everything a second one would (numbers back to back included, see [`scan`]): redacting
/// the result again changes nothing, which the fuzz target and the tests check.
fn redact_with(input: &str, prefilters: bool) -> Redacted {
    let mut found: Vec<(Range<usize>, PersonalDataKind)> = Vec::new();
    for view in views(input) {
        detect(&view, prefilters, &mut found);
    }
    render(input, found)
}

/// Runs every detector over `view`, adding what it finds as ranges of the original.
fn detect(view: &View<'_>, prefilters: bool, found: &mut Vec<(Range<usize>, PersonalDataKind)>) {
    // Exact prefilters: a detector whose pattern cannot match is not run. Most texts hold no
    // e-mail marker and many no digit at all, and running six patterns over every text of
    // every submission is a measurable share of capture (see BENCHMARKS.md, ingest). Both
    // are read before anything is masked: a superset of what remains after.
    let emails = !prefilters || may_hold_email(&view.text);
    // The number and address patterns all require an ASCII digit.
    let numbers = !prefilters || view.text.bytes().any(|b| b.is_ascii_digit());
    if !emails && !numbers {
        return;
    }
    // What a detector masked is overwritten with `#` (same byte length, so offsets hold),
    // which no pattern matches and no glue check takes for a digit or letter.
    let mut work = view.text.clone().into_owned();
    let mut run = |work: &mut String,
                   pattern: &Regex,
                   kind,
                   accept: &dyn Fn(&str, Option<char>) -> Option<usize>| {
        for range in scan(work, pattern, kind, accept) {
            found.push((view.original(range.clone()), kind));
            work.replace_range(range.clone(), &"#".repeat(range.len()));
        }
    };
    if emails {
        run(&mut work, &EMAIL, PersonalDataKind::Email, &|_, _| Some(0));
    }
    if !numbers {
        return;
    }
    run(&mut work, &IBAN, PersonalDataKind::Iban, &iban_prefix_len);
    run(&mut work, &NIR, PersonalDataKind::Nir, &|m, _| {
        (!YEAR_FIRST.is_match(m)).then(|| nir_len(m)).flatten()
    });
    run(&mut work, &CARD, PersonalDataKind::Card, &|m, _| {
        card_len(m)
    });
    run(&mut work, &PHONE, PersonalDataKind::Phone, &|m, _| {
        (!DATE.is_match(m)).then_some(0)
    });
    run(
        &mut work,
        &ADDRESS,
        PersonalDataKind::PostalAddress,
        &|m, _| address_len(m),
    );
}

/// The original text with every found range replaced by its marker (overlapping ranges are
/// one mask, of the kind found first) and bidirectional controls removed.
fn render(input: &str, mut found: Vec<(Range<usize>, PersonalDataKind)>) -> Redacted {
    let mut kinds = BTreeSet::new();
    if found.is_empty() && !input.contains(is_bidi_control) {
        return Redacted {
            text: input.to_owned(),
            kinds,
        };
    }
    found.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
    let mut text = String::with_capacity(input.len());
    let mut at = 0;
    for (range, kind) in found {
        kinds.insert(kind);
        if range.end <= at {
            continue;
        }
        if range.start >= at {
            text.extend(
                input[at..range.start]
                    .chars()
                    .filter(|c| !is_bidi_control(*c)),
            );
            text.push_str(marker(kind));
        }
        at = range.end;
    }
    text.extend(input[at..].chars().filter(|c| !is_bidi_control(*c)));
    Redacted { text, kinds }
}

/// Whether [`EMAIL`] can match the view: it needs `@`, or the word `at` or `arobase` in any
/// case (bounded by anything but a letter or digit). The view is NFKC, so no other character
/// folds to these letters.
fn may_hold_email(text: &str) -> bool {
    if text.contains('@') {
        return true;
    }
    let bytes = text.as_bytes();
    let word_char = |b: u8| b.is_ascii_alphanumeric() || b >= 0x80;
    [b"at".as_slice(), b"arobase".as_slice()]
        .iter()
        .any(|needle| {
            bytes.windows(needle.len()).enumerate().any(|(i, w)| {
                w.eq_ignore_ascii_case(needle)
                    && (i == 0 || !word_char(bytes[i - 1]))
                    && bytes.get(i + needle.len()).is_none_or(|&b| !word_char(b))
            })
        })
}

/// Which neighbours make a match part of something larger.
fn glued_before(kind: PersonalDataKind, c: char) -> bool {
    match kind {
        PersonalDataKind::PostalAddress => false,
        // A phone number glued to a word (`Tel0612345678`) is still one.
        PersonalDataKind::Phone => c.is_ascii_digit(),
        _ => c.is_alphanumeric(),
    }
}

fn glued_after(kind: PersonalDataKind, c: char) -> bool {
    match kind {
        PersonalDataKind::PostalAddress | PersonalDataKind::Email | PersonalDataKind::Phone => {
            c.is_ascii_digit()
        }
        _ => c.is_alphanumeric(),
    }
}

/// The ranges of `text` where `pattern` matches and `accept` validates. `accept` is given
/// the match and the character that follows it in the text, and returns the length (in
/// bytes of the match) of the part that is personal data, `Some(0)` for the whole match,
/// `None` to keep the match as it is. A match glued to other digits (or letters, depending
/// on the kind) on either side is kept: it is part of a larger number or word.
fn scan(
    text: &str,
    pattern: &Regex,
    kind: PersonalDataKind,
    accept: &dyn Fn(&str, Option<char>) -> Option<usize>,
) -> Vec<Range<usize>> {
    let mut found: Vec<Range<usize>> = Vec::new();
    let mut search_from = 0;
    while let Some(m) = pattern.find_at(text, search_from) {
        let matched = m.as_str();
        let mut before = text[..m.start()].chars().rev();
        let previous = before.next();
        // `5105-1051-…`: a number is not found inside another one written with separators.
        // A number right after one just found is not inside it: that one is masked, and
        // the next is read as a second look at the masked text would read it.
        let separator_at = m.start() - previous.map_or(0, char::len_utf8);
        let after_a_match = found.last().is_some_and(|r| r.end >= separator_at);
        let continues_a_number = kind != PersonalDataKind::PostalAddress
            && kind != PersonalDataKind::Email
            && !after_a_match
            && previous.is_some_and(|c| matches!(c, '.' | '/' | '-'))
            && before.next().is_some_and(|c| c.is_ascii_digit());
        let end = if continues_a_number || previous.is_some_and(|c| glued_before(kind, c)) {
            None
        } else {
            let following = text[m.end()..].chars().next();
            accept(matched, following)
                .map(|len| m.start() + if len == 0 { matched.len() } else { len })
        };
        match end {
            Some(end)
                if !text[end..]
                    .chars()
                    .next()
                    .is_some_and(|c| glued_after(kind, c)) =>
            {
                found.push(m.start()..end);
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
    found
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
        // Any letter counts (`é` too), as for the glue check that follows: a prefix ending
        // before a letter of the same word would be found, then refused as glued, and the
        // real, shorter IBAN lost.
        let inside_a_group = candidate[end..]
            .chars()
            .next()
            .or(following)
            .is_some_and(char::is_alphanumeric);
        let compact: String = ends[..n].iter().map(|(_, c)| *c).collect();
        (!inside_a_group && iban_valid(&compact)).then_some(end)
    })
}

/// The countries of the IBAN registry (ISO 13616, SWIFT) and the length of their IBANs. A
/// candidate must start with one of them and have its length: letters that are no country
/// (« dU 1850… ») or a length that is not the country's no longer pass mod 97 by chance.
const IBAN_LENGTHS: [(&str, usize); 89] = [
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HN", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// ISO 13616 check: a registry country with its IBAN length, then move the first four
/// characters to the end, letters to numbers, mod 97.
pub fn iban_valid(compact: &str) -> bool {
    let bytes = compact.as_bytes();
    if bytes.len() < 15
        || bytes.len() > 34
        || !bytes[..2].iter().all(u8::is_ascii_uppercase)
        || !bytes[2..4].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let country = &compact[..2];
    if !IBAN_LENGTHS
        .iter()
        .any(|(c, len)| *c == country && *len == bytes.len())
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

/// Payment card: the longest prefix of the candidate, ending between two groups, of 13, 15,
/// 16 or 19 digits passing Luhn. 14 digits is left out on purpose: SIRET numbers (public
/// identifiers of organisations) are 14 Luhn-valid digits.
fn card_len(candidate: &str) -> Option<usize> {
    let ends: Vec<(usize, char)> = candidate
        .char_indices()
        .filter(|(_, c)| c.is_ascii_digit())
        .map(|(i, c)| (i + c.len_utf8(), c))
        .collect();
    [19, 16, 15, 13].into_iter().find_map(|n| {
        let end = ends.get(n - 1)?.0;
        let inside_a_group = candidate[end..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit());
        let compact: String = ends[..n].iter().map(|(_, c)| *c).collect();
        (!inside_a_group && luhn_valid(&compact)).then_some(end)
    })
}

/// Words after a street type that end an address: what follows « 15 rue » in a sentence
/// that names no street (« le 15 rue est fermée »), and the words that lead away from it.
const NOT_A_STREET_NAME: [&str; 62] = [
    "est", "était", "sont", "sera", "a", "ont", "avait", "fermée", "fermé", "barrée", "bloquée",
    "ouverte", "ouvert", "en", "ou", "mais", "donc", "car", "pour", "par", "avec", "sans", "sous",
    "sur", "dans", "entre", "vers", "chez", "je", "j'", "j’", "il", "elle", "on", "nous", "vous",
    "ils", "elles", "qui", "que", "qu'", "qu’", "où", "à", "ce", "cette", "ces", "mon", "ma",
    "mes", "son", "sa", "ses", "notre", "votre", "ne", "n'", "pas", "très", "depuis", "puis",
    "pendant",
];
/// Words that join the words of a street's name; an address never ends on one.
const JOINING: [&str; 11] = [
    "de", "du", "des", "la", "le", "les", "l'", "l’", "d'", "d’", "et",
];

/// How much of an address candidate (number, street type, words) is the address: up to the
/// last word of the street's name, `None` when no word after the type can be one.
fn address_len(candidate: &str) -> Option<usize> {
    let type_end = ADDRESS_TYPE.find(candidate)?.end();
    let mut end = None;
    for word in candidate[type_end..].split(' ').filter(|w| !w.is_empty()) {
        let lower = word.to_lowercase();
        let bare = lower.trim_end_matches(['.', '-']);
        if NOT_A_STREET_NAME.contains(&bare) {
            break;
        }
        // `l'Église`, `d'Alsace`: the article and the name are one word here.
        let offset = word.as_ptr() as usize - candidate.as_ptr() as usize;
        if !JOINING.contains(&bare) {
            end = Some(offset + word.trim_end_matches(['.', '-']).len());
        }
    }
    end
}

/// The street type of an [`ADDRESS`] match (what its name words follow).
static ADDRESS_TYPE: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"(?i)\b(?:{STREET_TYPES})\b")));

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

    /// Found by the fuzz target: numbers back to back (`⒈` reads `1.`) showed the second
    /// one until the first was masked, so a second redaction still found something.
    #[test]
    fn numbers_back_to_back_are_all_masked_at_once() {
        for input in [
            "⒈".repeat(30),
            "⒈".repeat(60),
            "⒈".repeat(4_995),
            "1.".repeat(30),
            "1 85 05 78 006 084 36 1 85 05 78 006 084 36".to_owned(),
            "06.12.34.56.78.06.12.34.56.78".to_owned(),
        ] {
            let once = masked(&input);
            assert_eq!(masked(&once.text).text, once.text, "{input:?}");
            assert!(
                !once.text.contains("1 85 05") && !once.text.contains("06.12.34"),
                "{}",
                once.text
            );
        }
        let twice = masked("1 85 05 78 006 084 36 1 85 05 78 006 084 36").text;
        assert_eq!(
            twice.matches(marker(PersonalDataKind::Nir)).count(),
            2,
            "{twice}"
        );
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

    /// Numbers every detector finds, in several writings.
    const DETECTED: [(PersonalDataKind, &str); 12] = [
        (PersonalDataKind::Phone, "0612345678"),
        (PersonalDataKind::Phone, "06 12 34 56 78"),
        (PersonalDataKind::Phone, "06.12.34.56.78"),
        (PersonalDataKind::Phone, "+33 6 12 34 56 78"),
        (PersonalDataKind::Phone, "0033612345678"),
        (PersonalDataKind::Iban, "FR7630006000011234567890189"),
        (PersonalDataKind::Iban, "FR76 3000 6000 0112 3456 7890 189"),
        (PersonalDataKind::Nir, "185057800608491"),
        (PersonalDataKind::Nir, "1 85 05 78 006 084 91"),
        (PersonalDataKind::Card, "4970101234567893"),
        (PersonalDataKind::Card, "4970-1012-3456-7893"),
        (PersonalDataKind::Card, "378282246310005"),
    ];

    /// Every Unicode space separator, the usual controls and line separators, the invisible
    /// characters and the bidirectional controls.
    const INSERTED: [char; 44] = [
        ' ', '\u{00A0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}',
        '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200A}', '\u{202F}',
        '\u{205F}', '\u{3000}', '\t', '\n', '\r', '\u{000B}', '\u{000C}', '\u{0085}', '\u{2028}',
        '\u{2029}', '\u{0000}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}',
        '\u{00AD}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
        '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{061C}',
    ];

    /// The property below, exhaustively: every inserted character at every position.
    #[test]
    fn every_space_or_control_at_every_position_keeps_numbers_masked() {
        let mut tried = 0;
        for (_, number) in DETECTED {
            for (at, _) in number.char_indices().skip(1) {
                for inserted in INSERTED {
                    let spaced = format!("{}{inserted}{}", &number[..at], &number[at..]);
                    let r = redact(&format!("voici {spaced} merci"));
                    assert!(
                        !r.kinds.is_empty() && !r.text.chars().any(|c| c.is_ascii_digit()),
                        "{spaced:?} → {:?}",
                        r.text
                    );
                    tried += 1;
                }
            }
        }
        assert!(tried > 8_000, "{tried}");
    }

    #[test]
    fn obfuscated_emails_are_masked() {
        for input in [
            "prenom.nom at example.fr",
            "prenom.nom AT example.fr",
            "jean arobase orange point com",
            "marie [at] free [dot] fr",
            "luc＠example.fr",
            "josé@example.fr",
        ] {
            let r = redact(&format!("écrivez à {input} merci"));
            assert_eq!(r.text, "écrivez à [courriel masqué] merci", "{input}");
        }
        // The whole local part goes, accents included.
        assert_eq!(
            redact("françois.dupont@example.fr").text,
            "[courriel masqué]"
        );
    }

    #[test]
    fn a_number_hidden_by_a_right_to_left_override_is_masked_and_the_controls_go() {
        let r = redact("appelez le \u{202E}87 65 43 21 60\u{202C} merci");
        assert_eq!(r.text, "appelez le [téléphone masqué] merci");
        // Controls around ordinary text are removed from the published copy too.
        assert_eq!(redact("a\u{202E}bc\u{202C}d").text, "abcd");
    }

    #[test]
    fn checksums_are_right() {
        assert!(iban_valid("FR7630006000011234567890189"));
        // Right digits, wrong country or length: not an IBAN.
        assert!(!iban_valid("DU7630006000011234567890189"));
        assert!(!iban_valid("DE7630006000011234567890189"));
        assert!(
            IBAN_LENGTHS.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no repeat"
        );
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
    fn an_iban_before_a_word_that_passes_mod_97_with_it_is_still_found() {
        // Found by the property test: a longer candidate ending before « é », a letter, was
        // taken, then refused by the glue check, and the IBAN went unmasked.
        let r = redact(" F R7630006000011234567890189 EyJqhUé");
        assert_eq!(r.text, " [IBAN masqué] EyJqhUé");
    }

    #[test]
    fn letters_before_a_number_make_no_iban_of_it() {
        // Found by the property test: « dU 1850… » passed mod 97 as an IBAN of « DU ».
        let r = redact("dU 18505780060849 1");
        assert_eq!(r.text, "dU [n° de sécurité sociale masqué]");
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

        /// Whatever Unicode space, control or invisible character is slipped into a number
        /// that is detected, it is still detected and none of its digits is published.
        #[test]
        fn a_space_or_control_inserted_into_a_number_keeps_it_masked(
            number in prop::sample::select(DETECTED.to_vec()),
            inserted in prop::sample::select(INSERTED.to_vec()),
            position in any::<prop::sample::Index>(),
            before in "[A-Za-zé ]{0,12}",
            after in "[A-Za-zé ]{0,12}",
        ) {
            // The kind may differ (a NIR also passes Luhn now and then, and is then masked as
            // a card); what matters is that the number is masked.
            let (_kind, number) = number;
            let boundaries: Vec<usize> = number.char_indices().map(|(i, _)| i).skip(1).collect();
            let at = boundaries[position.index(boundaries.len())];
            let spaced = format!("{}{inserted}{}", &number[..at], &number[at..]);
            let r = redact(&format!("{before} {spaced} {after}"));
            prop_assert!(!r.kinds.is_empty(), "{spaced:?} → {:?}", r.text);
            prop_assert!(!r.text.chars().any(|c| c.is_ascii_digit()), "{spaced:?} → {:?}", r.text);
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
