//! Reporting periods: calendar months in the reporting time zone (default Europe/Paris).
//! A feedback submitted 2026-10-31T23:30Z belongs to November in Paris.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u32,
}

impl Period {
    pub fn new(year: i32, month: u32) -> Result<Self, String> {
        if !(2000..=2100).contains(&year) {
            return Err("year must be between 2000 and 2100".into());
        }
        if !(1..=12).contains(&month) {
            return Err("month must be between 01 and 12".into());
        }
        Ok(Self { year, month })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    /// The month that contains `instant_ms` (UTC epoch milliseconds) in `tz`.
    pub fn containing(instant_ms: i64, tz: Tz) -> Self {
        let local = Utc
            .timestamp_millis_opt(instant_ms)
            .single()
            .unwrap_or_default()
            .with_timezone(&tz);
        Self {
            year: local.year(),
            month: local.month(),
        }
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn previous(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    /// `[start, end)` in UTC epoch milliseconds: from local midnight on the 1st of this month
    /// to local midnight on the 1st of the next one.
    pub fn bounds_ms(self, tz: Tz) -> (i64, i64) {
        (
            local_month_start_ms(self, tz),
            local_month_start_ms(self.next(), tz),
        )
    }
}

/// Local midnight of the 1st.
fn local_month_start_ms(period: Period, tz: Tz) -> i64 {
    local_midnight_ms(period.first_day(), tz)
}

/// Local midnight of `day` in UTC epoch milliseconds; where a zone skips midnight (a DST
/// change at 00:00), the first instant that exists after it.
pub fn local_midnight_ms(day: NaiveDate, tz: Tz) -> i64 {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(t) => t.timestamp_millis(),
        LocalResult::Ambiguous(earliest, _) => earliest.timestamp_millis(),
        LocalResult::None => {
            // Skipped hour: the gap is at most a few hours; the next existing hour starts it.
            (1..=3)
                .filter_map(|h| {
                    tz.from_local_datetime(&(midnight + chrono::Duration::hours(h)))
                        .earliest()
                })
                .map(|t| t.timestamp_millis())
                .next()
                .unwrap_or_else(|| midnight.and_utc().timestamp_millis())
        }
    }
}

/// An optional period of a request: empty means none.
pub fn parse_optional(text: &str) -> Result<Option<Period>, String> {
    if text.is_empty() {
        Ok(None)
    } else {
        text.parse().map(Some)
    }
}

impl FromStr for Period {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || "must be a month YYYY-MM".to_owned();
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        Period::new(year, month)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .map(|t| t.timestamp_millis())
            .unwrap_or_default()
    }

    #[test]
    fn a_days_local_midnight_follows_the_zone() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default();
        assert_eq!(
            local_midnight_ms(day(18), chrono_tz::Europe::Paris),
            ms("2026-11-17T23:00:00Z")
        );
        // Santiago skipped midnight on 2026-09-06: the day starts at 01:00 local time.
        assert_eq!(
            local_midnight_ms(
                NaiveDate::from_ymd_opt(2026, 9, 6).unwrap_or_default(),
                chrono_tz::America::Santiago
            ),
            ms("2026-09-06T04:00:00Z")
        );
    }

    #[test]
    fn late_october_evening_utc_is_november_in_paris() {
        let p = Period::containing(ms("2026-10-31T23:30:00Z"), chrono_tz::Europe::Paris);
        assert_eq!(p.to_string(), "2026-11");
        let p = Period::containing(ms("2026-10-31T22:59:59Z"), chrono_tz::Europe::Paris);
        assert_eq!(p.to_string(), "2026-10");
    }

    #[test]
    fn bounds_follow_daylight_saving_time() {
        let (start, end) = "2026-10"
            .parse::<Period>()
            .map(|p| p.bounds_ms(chrono_tz::Europe::Paris))
            .unwrap_or_default();
        // October starts in summer time (UTC+2) and ends in winter time (UTC+1).
        assert_eq!(start, ms("2026-09-30T22:00:00Z"));
        assert_eq!(end, ms("2026-10-31T23:00:00Z"));
    }

    #[test]
    fn parse_refuses_malformed_months() {
        for bad in [
            "2026-13", "2026-1", "26-10", "2026/10", "", "2026-00", "1999-05", "abcd-ef",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
        assert_eq!(
            "2026-03".parse::<Period>().map(|p| p.to_string()),
            Ok("2026-03".into())
        );
    }

    #[test]
    fn previous_and_next_cross_years() {
        let jan: Period = "2027-01".parse().unwrap_or(Period { year: 0, month: 0 });
        assert_eq!(jan.previous().to_string(), "2026-12");
        assert_eq!(jan.previous().next(), jan);
    }

    proptest! {
        #[test]
        fn every_instant_lies_within_the_bounds_of_its_period(t in 946_684_800_000i64..4_102_444_800_000i64) {
            let tz = chrono_tz::Europe::Paris;
            let p = Period::containing(t, tz);
            let (start, end) = p.bounds_ms(tz);
            prop_assert!(start <= t && t < end);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,12}") {
            let _ = s.parse::<Period>();
        }
    }
}
