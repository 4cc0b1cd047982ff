//! French formatting of numbers, dates and periods.

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

/// « de » before a period, elided before a vowel: « de mars 2026 », « d'octobre 2026 ».
pub fn of_period(period: &str) -> String {
    let long = period_long(period);
    if long.starts_with(['a', 'o', 'e', 'i', 'u']) {
        format!("d'{long}")
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

/// `2026-10-05` → « 5 octobre 2026 ».
pub fn date_long(date: &str) -> String {
    let mut parts = date.split('-');
    match (
        parts.next(),
        parts.next().and_then(|m| m.parse::<usize>().ok()),
        parts.next().and_then(|d| d.parse::<u32>().ok()),
    ) {
        (Some(y), Some(m), Some(d)) if (1..=12).contains(&m) => {
            format!("{d} {} {y}", MONTHS[m - 1])
        }
        _ => date.to_owned(),
    }
}

/// One decimal, French decimal comma: 66.7 → « 66,7 ».
pub fn decimal(x: f64) -> String {
    format!("{x:.1}").replace('.', ",")
}

/// A figure with its unit: « 66,7 % », « +35,0 points », « 4,2 jours », « 43 ».
pub fn value(x: f64, unit: &str) -> String {
    match unit {
        "%" => format!("{} %", decimal(x)),
        "points" => format!("{}{} pts", if x > 0.0 { "+" } else { "" }, decimal(x)),
        "jours" => format!("{} j", decimal(x)),
        "/7" => format!("{} / 7", decimal(x)),
        "count" => format!("{}", x.round() as i64),
        other => format!("{} {other}", decimal(x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_formats() {
        assert_eq!(period_long("2026-10"), "octobre 2026");
        assert_eq!(of_period("2026-10"), "d'octobre 2026");
        assert_eq!(of_period("2026-03"), "de mars 2026");
        assert_eq!(period_short("2026-02"), "févr. 26");
        assert_eq!(date_long("2026-10-05"), "5 octobre 2026");
        assert_eq!(value(66.66, "%"), "66,7 %");
        assert_eq!(value(35.0, "points"), "+35,0 pts");
        assert_eq!(value(-5.0, "points"), "-5,0 pts");
        assert_eq!(value(43.0, "count"), "43");
    }
}
