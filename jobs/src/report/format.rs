//! French formatting of numbers, dates and periods, and French typography: the spaces,
//! apostrophe and minus sign of the Imprimerie nationale's rules, for every text a report or
//! a mail shows.

/// Espace fine insécable: before `%`, `;`, `!`, `?`, inside « », between thousands.
pub const NNBSP: char = '\u{202F}';
/// Espace insécable: before `:`, between a number and its unit, inside a date.
pub const NBSP: char = '\u{A0}';
/// The true minus sign of a negative value (a hyphen is not a minus).
pub const MINUS: char = '\u{2212}';

/// Whether a line may break at `c`: a space, but not a no-break one.
pub fn breaks_at(c: char) -> bool {
    c.is_whitespace() && !matches!(c, NBSP | NNBSP | '\u{2007}' | '\u{2060}')
}

/// French typography for a text written with a keyboard's ASCII: the apostrophe becomes ’,
/// the space before `:` becomes no-break, the space before `; ! ? %` and inside « » becomes
/// a narrow no-break one (added inside « » where it is missing). Idempotent, so it may be
/// applied to a text already set. Nothing else changes: `10:30` and `50%` stay as written.
pub fn typeset(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        match c {
            '\'' => out.push('’'),
            ' ' | NBSP | NNBSP if next == Some(':') => out.push(NBSP),
            ' ' | NBSP | NNBSP if matches!(next, Some(';' | '!' | '?' | '%' | '»')) => {
                out.push(NNBSP)
            }
            '«' => {
                out.push('«');
                match next {
                    Some(' ' | NBSP | NNBSP) | None => {}
                    Some(_) => out.push(NNBSP),
                }
            }
            ' ' | NBSP if i > 0 && chars[i - 1] == '«' => out.push(NNBSP),
            '»' => {
                if i > 0 && !matches!(chars[i - 1], ' ' | NBSP | NNBSP) {
                    out.push(NNBSP);
                }
                out.push('»');
            }
            c => out.push(c),
        }
    }
    out
}

/// « text » with narrow no-break spaces inside the guillemets.
pub fn quoted(text: &str) -> String {
    format!("«{NNBSP}{text}{NNBSP}»")
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const SHORT: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

fn month_index(period: &str) -> Option<(i32, usize)> {
    let (y, m) = period.split_once('-')?;
    let m: usize = m.parse().ok()?;
    (1..=12).contains(&m).then_some((y.parse().ok()?, m - 1))
}

/// `2026-10` → « octobre 2026 ».
pub fn period_long(period: &str) -> String {
    month_index(period).map_or_else(|| period.to_owned(), |(y, m)| format!("{} {y}", MONTHS[m]))
}

/// « de » before a period, elided before a vowel: « de mars 2026 », « d’octobre 2026 ».
pub fn of_period(period: &str) -> String {
    let long = period_long(period);
    if long.starts_with(['a', 'o', 'e', 'i', 'u']) {
        format!("d’{long}")
    } else {
        format!("de {long}")
    }
}

/// `2026-10` → « oct. 26 ».
pub fn period_short(period: &str) -> String {
    month_index(period).map_or_else(
        || period.to_owned(),
        |(y, m)| format!("{} {:02}", SHORT[m], y % 100),
    )
}

/// `2026-10-05` → « 5 octobre 2026 », `2026-10-01` → « 1er octobre 2026 »; the day stays
/// with its month.
pub fn date_long(date: &str) -> String {
    let mut parts = date.split('-');
    match (
        parts.next(),
        parts.next().and_then(|m| m.parse::<usize>().ok()),
        parts.next().and_then(|d| d.parse::<u32>().ok()),
    ) {
        (Some(y), Some(m), Some(d)) if (1..=12).contains(&m) => {
            let day = if d == 1 {
                "1er".to_owned()
            } else {
                d.to_string()
            };
            format!("{day}{NBSP}{} {y}", MONTHS[m - 1])
        }
        _ => date.to_owned(),
    }
}

/// Digits grouped by three with a narrow no-break space: 12345 → « 12 345 ».
fn grouped(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(NNBSP);
        }
        out.push(d);
    }
    out
}

/// `x` with `decimals` places, a decimal comma, thousands grouped and a true minus:
/// −1234.56 → « −1 234,6 ». A value that rounds to zero has no sign.
pub fn number(x: f64, decimals: usize) -> String {
    let abs = format!("{:.*}", decimals, x.abs());
    let (int, frac) = abs.split_once('.').unwrap_or((abs.as_str(), ""));
    let mut out = String::new();
    if x < 0.0 && abs.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        out.push(MINUS);
    }
    out.push_str(&grouped(int));
    if !frac.is_empty() {
        out.push(',');
        out.push_str(frac);
    }
    out
}

/// One decimal: 66.66 → « 66,7 ».
pub fn decimal(x: f64) -> String {
    number(x, 1)
}

/// A whole number: 1234 → « 1 234 ».
pub fn integer(n: u64) -> String {
    grouped(&n.to_string())
}

/// A whole number of days: « 1 jour », « 15 jours ».
pub fn days(n: u32) -> String {
    format!(
        "{}{NBSP}{}",
        integer(u64::from(n)),
        if n > 1 { "jours" } else { "jour" }
    )
}

/// A difference, always signed: « +35,0 », « −5,0 », « 0,0 ».
pub fn signed(x: f64, decimals: usize) -> String {
    let shown = number(x, decimals);
    if shown.starts_with(MINUS) || !shown.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        shown
    } else {
        format!("+{shown}")
    }
}

/// A Net Promoter Score, as its convention writes it: a signed whole number from −100 to
/// +100, without unit.
pub fn score(x: f64) -> String {
    signed(x, 0)
}

/// A figure with its unit, never broken across lines: « 66,7 % », « +35,0 points »,
/// « 4,2 jours », « 5,1 / 7 », « 1 043 ».
pub fn value(x: f64, unit: &str) -> String {
    match unit {
        "%" => format!("{}{NNBSP}%", decimal(x)),
        "points" => format!("{}{NBSP}points", signed(x, 1)),
        // French puts a quantity below two in the singular: « 1,5 jour ».
        "jours" if x.abs() < 2.0 => format!("{}{NBSP}jour", decimal(x)),
        "jours" => format!("{}{NBSP}jours", decimal(x)),
        "/7" => format!("{}{NNBSP}/{NNBSP}7", decimal(x)),
        "count" => integer(x.round().max(0.0) as u64),
        other => format!("{}{NBSP}{other}", decimal(x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes the expected text with visible spaces: `_` narrow no-break, `~` no-break.
    fn set(s: &str) -> String {
        s.replace('_', "\u{202F}").replace('~', "\u{A0}")
    }

    #[test]
    fn french_formats() {
        assert_eq!(period_long("2026-10"), "octobre 2026");
        assert_eq!(of_period("2026-10"), "d’octobre 2026");
        assert_eq!(of_period("2026-03"), "de mars 2026");
        assert_eq!(period_short("2026-02"), "févr. 26");
        assert_eq!(date_long("2026-10-05"), set("5~octobre 2026"));
        assert_eq!(date_long("2026-10-01"), set("1er~octobre 2026"));
        assert_eq!(value(66.66, "%"), set("66,7_%"));
        assert_eq!(value(35.0, "points"), set("+35,0~points"));
        assert_eq!(value(-5.0, "points"), set("−5,0~points"));
        assert_eq!(value(0.0, "points"), set("0,0~points"));
        assert_eq!(value(1.5, "jours"), set("1,5~jour"));
        assert_eq!(value(4.26, "jours"), set("4,3~jours"));
        assert_eq!(value(5.14, "/7"), set("5,1_/_7"));
        assert_eq!(value(43.0, "count"), "43");
        assert_eq!(days(1), set("1~jour"));
        assert_eq!(days(15), set("15~jours"));
        assert_eq!(value(1043.0, "count"), set("1_043"));
        assert_eq!(value(12.0, "appels"), set("12,0~appels"));
    }

    #[test]
    fn numbers_group_thousands_and_use_a_true_minus() {
        assert_eq!(number(1_234_567.891, 2), set("1_234_567,89"));
        assert_eq!(number(-1234.56, 1), set("−1_234,6"));
        assert_eq!(number(999.0, 0), "999");
        assert_eq!(number(-0.04, 1), "0,0", "what rounds to zero has no sign");
        assert_eq!(integer(1_000_000), set("1_000_000"));
        assert_eq!(score(35.4), "+35");
        assert_eq!(score(-12.6), "−13");
        assert_eq!(score(0.2), "0");
        assert!(!value(-5.0, "points").contains('-'), "never a hyphen");
    }

    #[test]
    fn typeset_sets_french_spaces_and_apostrophes() {
        assert_eq!(
            typeset("L'accueil : « à refaire » ; vraiment ! 50 %"),
            set("L’accueil~: «_à refaire_»_; vraiment_! 50_%")
        );
        assert_eq!(typeset("«bien»"), set("«_bien_»"));
        assert_eq!(
            typeset("10:30, 50%, a-b"),
            "10:30, 50%, a-b",
            "only spaces change"
        );
        let once = typeset("Réponse de l'équipe : « oui » ?");
        assert_eq!(typeset(&once), once, "idempotent");
        assert_eq!(quoted("oui"), set("«_oui_»"));
    }

    #[test]
    fn lines_never_break_at_a_no_break_space() {
        assert!(breaks_at(' ') && breaks_at('\n'));
        assert!(!breaks_at(NBSP) && !breaks_at(NNBSP));
    }
}
