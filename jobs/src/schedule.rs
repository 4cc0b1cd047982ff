//! When the monthly batch runs: a cron expression evaluated in the reporting time zone
//! (croner + chrono-tz: correct across daylight-saving changes), and which periods were missed.

use std::str::FromStr;

use boucle::domain::Period;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// 1st of each month, 02:00 local time.
pub const DEFAULT_SCHEDULE: &str = "0 2 1 * *";

pub fn parse(expression: &str) -> Result<Cron, String> {
    Cron::from_str(expression).map_err(|e| format!("invalid cron expression {expression:?}: {e}"))
}

/// The first run strictly after `after`, in UTC.
pub fn next_run(cron: &Cron, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&after.with_timezone(&tz), false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The last complete month before `now`.
pub fn previous_period(now_ms: i64, tz: Tz) -> Period {
    Period::containing(now_ms, tz).previous()
}

/// Periods from the month of the first experience to the last complete month that have not
/// yet been run successfully, oldest first.
pub fn missed_periods(
    first_submission_ms: Option<i64>,
    succeeded: &[String],
    now_ms: i64,
    tz: Tz,
) -> Vec<Period> {
    let Some(first) = first_submission_ms else {
        return Vec::new();
    };
    let last = previous_period(now_ms, tz);
    let mut period = Period::containing(first, tz);
    let mut out = Vec::new();
    while period <= last {
        if !succeeded.iter().any(|s| *s == period.to_string()) {
            out.push(period);
        }
        period = period.next();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn the_default_schedule_follows_paris_time_across_dst() {
        let cron = parse(DEFAULT_SCHEDULE).unwrap_or_else(|e| panic!("{e}"));
        let paris = chrono_tz::Europe::Paris;
        // Winter (UTC+1): 02:00 Paris is 01:00 UTC.
        assert_eq!(
            next_run(&cron, utc("2026-02-15T00:00:00Z"), paris),
            Some(utc("2026-03-01T01:00:00Z"))
        );
        // Across the spring-forward of 2026-03-29 (UTC+2): 02:00 Paris is 00:00 UTC.
        assert_eq!(
            next_run(&cron, utc("2026-03-01T01:00:00Z"), paris),
            Some(utc("2026-04-01T00:00:00Z"))
        );
        // Across the fall-back of 2026-10-25: back to 01:00 UTC.
        assert_eq!(
            next_run(&cron, utc("2026-10-01T00:00:00Z"), paris),
            Some(utc("2026-11-01T01:00:00Z"))
        );
    }

    #[test]
    fn missed_periods_run_from_the_first_experience_to_last_month() {
        let paris = chrono_tz::Europe::Paris;
        let first = utc("2026-07-10T12:00:00Z").timestamp_millis();
        let now = utc("2026-11-22T12:00:00Z").timestamp_millis();
        let missed = missed_periods(Some(first), &["2026-08".into()], now, paris);
        let text: Vec<String> = missed.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["2026-07", "2026-09", "2026-10"]);
        assert!(missed_periods(None, &[], now, paris).is_empty());
    }

    #[test]
    fn bad_expressions_are_refused() {
        assert!(parse("every month").is_err());
    }
}
