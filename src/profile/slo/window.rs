//! An SLO's window: rolling (`30d`, `28d`) or a calendar period (`1mo`, the calendar month in
//! UTC; `1w`, the ISO week, Monday to Monday in UTC).
//!
//! The choice for calendar periods: reports (`slo report`, `slo explain`) compute the budget over
//! the exact period (31 days in December, 28 in February), while the alerts keep rolling windows
//! of the period's typical length (30d for a month, 7d for a week). A burn rate is a speed, and a
//! speed measured against a budget that shrinks to nothing on the 1st of each month would page on
//! the 1st for a handful of errors and never on the 30th; so the alerts see the typical length
//! and the burn rates stay those of a 30d (or 7d) SLO. `Deref` gives that typical length as a
//! rolling [`PromDuration`], so everything that works on windows works on calendar SLOs unchanged.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::profile::types::format_seconds;
use crate::profile::PromDuration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calendar {
    /// The calendar month, UTC.
    Month,
    /// The ISO week (Monday 00:00 UTC to the next Monday), UTC.
    Week,
}

impl Calendar {
    /// `1mo` or `1w`.
    pub fn as_str(self) -> &'static str {
        match self {
            Calendar::Month => "1mo",
            Calendar::Week => "1w",
        }
    }

    /// The rolling window the alerts use: 30d for a month, 7d for a week.
    pub fn typical_secs(self) -> u64 {
        match self {
            Calendar::Month => 30 * 86_400,
            Calendar::Week => 7 * 86_400,
        }
    }

    /// The first day of the period that holds `date`.
    fn start_of(self, date: Date) -> Date {
        match self {
            Calendar::Month => date.first_of_month(),
            // The Monday on or before `date`.
            Calendar::Week => date
                .checked_sub(i64::from(date.weekday().to_monday_zero_offset()).days())
                .unwrap_or(date),
        }
    }

    fn next(self, start: Date) -> Date {
        let step = match self {
            Calendar::Month => 1.month(),
            Calendar::Week => 1.week(),
        };
        start.checked_add(step).unwrap_or(start)
    }

    /// The period a report at unix time `at` is about, as unix seconds `(start, end)`: the
    /// period that holds `at`, where an instant on a boundary closes the period before it (so
    /// `--at 2027-03-01T00:00:00Z` is the whole of February).
    pub fn period_ending(self, at: f64) -> (i64, i64) {
        let secs = at.ceil() as i64;
        let ts = Timestamp::from_second(secs.saturating_sub(1)).unwrap_or(Timestamp::UNIX_EPOCH);
        let date = jiff::tz::Offset::UTC.to_datetime(ts).date();
        let start = self.start_of(date);
        let end = self.next(start);
        (midnight(start), midnight(end))
    }
}

fn midnight(date: Date) -> i64 {
    jiff::tz::Offset::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .map(|ts| ts.as_second())
        .unwrap_or(0)
}

/// `slos[].window`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SloWindow {
    calendar: Option<Calendar>,
    /// The rolling window itself, or a calendar period's typical length.
    rolling: PromDuration,
}

impl SloWindow {
    pub fn rolling(duration: PromDuration) -> SloWindow {
        SloWindow {
            calendar: None,
            rolling: duration,
        }
    }

    pub fn calendar(calendar: Calendar) -> SloWindow {
        SloWindow {
            calendar: Some(calendar),
            rolling: PromDuration::from_secs(calendar.typical_secs()),
        }
    }

    /// `Some` for `1mo` and `1w`.
    pub fn period(&self) -> Option<Calendar> {
        self.calendar
    }

    /// The window a report at `at` covers, as unix seconds `(start, end)`; `end` is `at` itself
    /// for a rolling window, the period's end for a calendar one (which may be after `at`).
    pub fn report_span(&self, at: f64) -> (i64, i64) {
        match self.calendar {
            Some(c) => c.period_ending(at),
            None => {
                let end = at.floor() as i64;
                (end - self.rolling.as_secs() as i64, end)
            }
        }
    }
}

impl Deref for SloWindow {
    type Target = PromDuration;
    fn deref(&self) -> &PromDuration {
        &self.rolling
    }
}

impl FromStr for SloWindow {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "1mo" => return Ok(SloWindow::calendar(Calendar::Month)),
            "1w" => return Ok(SloWindow::calendar(Calendar::Week)),
            _ => {}
        }
        if let Some(n) = text.strip_suffix("mo") {
            return Err(format!(
                "`{text}`: calendar periods are one month (`1mo`) or one ISO week (`1w`); for {n} months write a rolling window such as `{}d`",
                n.parse::<u64>().unwrap_or(3) * 30
            ));
        }
        let rolling: PromDuration = text.parse()?;
        if text.contains('w') {
            return Err(format!(
                "`{text}`: `1w` alone is the calendar (ISO) week; write a rolling window in days, `{}`",
                format_seconds(rolling.as_secs())
            ));
        }
        Ok(SloWindow::rolling(rolling))
    }
}

impl fmt::Display for SloWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.calendar {
            Some(c) => f.write_str(c.as_str()),
            None => self.rolling.fmt(f),
        }
    }
}

impl<'de> Deserialize<'de> for SloWindow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

impl Serialize for SloWindow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for SloWindow {
    fn schema_name() -> Cow<'static, str> {
        "SloWindow".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^(1mo|1w|([0-9]+[smhdy])+)$",
            "description": "A rolling window such as 30d or 28d, or a calendar period: 1mo (the month, UTC) or 1w (the ISO week, UTC)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{format_instant, parse_instant};

    fn span(c: Calendar, at: &str) -> (String, String, i64) {
        let (s, e) = c.period_ending(parse_instant(at).unwrap());
        (
            format_instant(s as f64),
            format_instant(e as f64),
            (e - s) / 86_400,
        )
    }

    #[test]
    fn months_have_their_calendar_length() {
        let feb = span(Calendar::Month, "2027-02-14T12:00:00Z");
        assert_eq!(
            feb,
            (
                "2027-02-01T00:00:00Z".into(),
                "2027-03-01T00:00:00Z".into(),
                28
            )
        );
        assert_eq!(span(Calendar::Month, "2028-02-29T23:00:00Z").2, 29);
        assert_eq!(span(Calendar::Month, "2026-12-31T23:59:59Z").2, 31);
        assert_eq!(span(Calendar::Month, "2026-04-30T10:00:00Z").2, 30);
    }

    #[test]
    fn an_instant_on_a_boundary_closes_the_period_before() {
        assert_eq!(
            span(Calendar::Month, "2027-03-01T00:00:00Z").0,
            "2027-02-01T00:00:00Z"
        );
        assert_eq!(
            span(Calendar::Month, "2027-03-01T00:00:01Z").0,
            "2027-03-01T00:00:00Z"
        );
        // 2027-01-04 is a Monday.
        assert_eq!(
            span(Calendar::Week, "2027-01-04T00:00:00Z"),
            (
                "2026-12-28T00:00:00Z".into(),
                "2027-01-04T00:00:00Z".into(),
                7
            )
        );
        assert_eq!(
            span(Calendar::Week, "2027-01-06T09:00:00Z").0,
            "2027-01-04T00:00:00Z"
        );
    }

    #[test]
    fn windows_parse_as_rolling_or_calendar() {
        let w: SloWindow = "1mo".parse().unwrap();
        assert_eq!(w.period(), Some(Calendar::Month));
        assert_eq!(w.as_secs(), 30 * 86_400, "alerts see the typical length");
        assert_eq!(w.to_string(), "1mo");
        let w: SloWindow = "28d".parse().unwrap();
        assert_eq!((w.period(), w.as_secs()), (None, 28 * 86_400));
        assert!("2w".parse::<SloWindow>().unwrap_err().contains("`14d`"));
        assert!("3mo".parse::<SloWindow>().unwrap_err().contains("`90d`"));
        assert!("month".parse::<SloWindow>().is_err());
    }
}
