//! Instants as people type them and as obsctl prints them: RFC 3339 or unix seconds in, RFC 3339
//! UTC out. One place, on `jiff`, so every command agrees on calendars, offsets and rounding.

use std::time::SystemTime;

use jiff::Timestamp;

/// Parses `--at`/`--from`/`--to`: RFC 3339 (`2026-01-31T00:00:00Z`, `…+02:00`, fractional
/// seconds allowed) or unix seconds; returns unix seconds.
pub fn parse_instant(text: &str) -> Result<f64, String> {
    let bad = || {
        format!("invalid time `{text}`: expected RFC 3339 such as `2026-01-31T23:59:59Z` or unix seconds such as `1769903999`")
    };
    if let Ok(secs) = text.parse::<f64>() {
        return if secs.is_finite() && secs >= 0.0 {
            Ok(secs)
        } else {
            Err(bad())
        };
    }
    // jiff reads ISO 8601 generously (`+0200`, bare dates); RFC 3339 wants a full time and an
    // offset written `Z` or `±HH:MM`, so the shape is checked first.
    if !has_rfc3339_shape(text) {
        return Err(bad());
    }
    let ts: Timestamp = text.parse().map_err(|_| bad())?;
    let secs = ts.as_nanosecond() as f64 / 1e9;
    if secs < 0.0 {
        return Err(bad());
    }
    Ok(secs)
}

fn has_rfc3339_shape(text: &str) -> bool {
    let b = text.as_bytes();
    let offset_ok = text.ends_with(['Z', 'z'])
        || (b.len() > 6 && matches!(b[b.len() - 6], b'+' | b'-') && b[b.len() - 3] == b':');
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':'
        && offset_ok
}

/// Unix seconds → `2026-01-31T23:59:59Z`, with milliseconds when the instant has a fraction
/// (rounded to the nearest millisecond, carrying into the next second).
pub fn format_instant(secs: f64) -> String {
    let millis = (secs * 1000.0).round() as i64;
    let ts = Timestamp::from_millisecond(millis).unwrap_or(Timestamp::UNIX_EPOCH);
    if millis % 1000 == 0 {
        ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }
}

/// A wall-clock instant as RFC 3339 UTC with milliseconds, e.g. `2026-11-23T09:15:02.117Z`
/// (truncated, as clocks are read).
pub fn format_millis(at: SystemTime) -> String {
    let ts = Timestamp::try_from(at).unwrap_or(Timestamp::UNIX_EPOCH);
    let ts = Timestamp::from_millisecond(ts.as_millisecond()).unwrap_or(ts);
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Now, in unix seconds (negative before 1970: a wrong clock is not an error to report).
pub fn now_unix() -> f64 {
    Timestamp::now().as_nanosecond() as f64 / 1e9
}

/// Now, as [`format_millis`] prints it.
pub fn now_millis() -> String {
    format_millis(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn parses_rfc3339_and_unix_seconds() {
        assert_eq!(parse_instant("1970-01-01T00:00:00Z").unwrap(), 0.0);
        assert_eq!(
            parse_instant("2026-01-31T23:59:59Z").unwrap(),
            1_769_903_999.0
        );
        assert_eq!(
            parse_instant("2026-02-01T01:59:59+02:00").unwrap(),
            1_769_903_999.0
        );
        assert_eq!(
            parse_instant("2024-02-29T12:00:00.5Z").unwrap(),
            1_709_208_000.5
        );
        assert_eq!(parse_instant("1769903999").unwrap(), 1_769_903_999.0);
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-01-31 25:00:00Z",
            "2026-01-31T00:00:00",
            "2026-01-31T00:00:00+0200",
            "2026-01-31",
            "-5",
            "NaN",
            "inf",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn formats_back_to_rfc3339() {
        for text in [
            "1970-01-01T00:00:00Z",
            "2026-01-31T23:59:59Z",
            "2024-02-29T12:00:00.500Z",
            "2000-03-01T00:00:00Z",
        ] {
            assert_eq!(format_instant(parse_instant(text).unwrap()), text);
        }
    }

    #[test]
    fn a_fraction_that_rounds_up_carries_into_the_next_second() {
        // The hand-written formatter this replaced printed `…:59Z` here, a second early.
        assert_eq!(format_instant(1_769_903_998.999_6), "2026-01-31T23:59:59Z");
        assert_eq!(format_instant(1_769_903_999.999_5), "2026-02-01T00:00:00Z");
        assert_eq!(format_instant(1_769_903_999.000_4), "2026-01-31T23:59:59Z");
        assert_eq!(
            format_instant(1_769_903_999.000_6),
            "2026-01-31T23:59:59.001Z"
        );
    }

    #[test]
    fn wall_clock_stamps_keep_milliseconds() {
        assert_eq!(format_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // A leap day.
        assert_eq!(
            format_millis(UNIX_EPOCH + Duration::from_millis(1_709_210_096_789)),
            "2024-02-29T12:34:56.789Z"
        );
        assert_eq!(
            format_millis(UNIX_EPOCH + Duration::from_nanos(4_102_444_799_999_999_999)),
            "2099-12-31T23:59:59.999Z"
        );
    }
}
