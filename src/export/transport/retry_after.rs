//! The `Retry-After` header of a 429/503 answer, parsed without trusting it: delay-seconds
//! (leniently also fractional or exponent forms) or an HTTP-date. Anything unusable yields
//! `None` (the caller falls back to its own backoff); any usable value, however large, yields a
//! `Duration` the caller compares with its deadline. Never panics.

use std::time::{Duration, SystemTime};

/// The wait a `Retry-After` value asks for, measured from `now` for an HTTP-date.
///
/// - `"120"`, `"1.5"`, `"1e3"`: that many seconds; larger than `Duration` can hold (`"1e300"`,
///   twenty digits, `"inf"`) saturates to `Duration::MAX`.
/// - an HTTP-date (IMF-fixdate, or the obsolete RFC 850 and asctime forms): the time until it;
///   a date in the past is no wait at all.
/// - negative, NaN, empty, or anything else: `None`.
pub fn parse(value: &[u8], now: SystemTime) -> Option<Duration> {
    let text = std::str::from_utf8(value).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        // The standard form. Too many digits for u64 is still "very long".
        return Some(
            text.parse::<u64>()
                .map(Duration::from_secs)
                .unwrap_or(Duration::MAX),
        );
    }
    if let Ok(secs) = text.parse::<f64>() {
        if secs.is_nan() || secs < 0.0 {
            return None;
        }
        // Infinite or beyond u64 seconds: saturate (the caller then gives up at its deadline).
        return Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn p(s: &str) -> Option<Duration> {
        // Sun, 06 Nov 1994 08:49:37 GMT
        parse(s.as_bytes(), at(784_111_777))
    }

    #[test]
    fn integer_seconds() {
        assert_eq!(p("0"), Some(Duration::ZERO));
        assert_eq!(p("1"), Some(Duration::from_secs(1)));
        assert_eq!(p(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(p("007"), Some(Duration::from_secs(7)));
        assert_eq!(
            p("18446744073709551615"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(p("99999999999999999999999999"), Some(Duration::MAX));
    }

    #[test]
    fn fractional_and_exponent_forms() {
        assert_eq!(p("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(p("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(p("1e3"), Some(Duration::from_secs(1000)));
        assert_eq!(p("+2"), Some(Duration::from_secs(2)));
        assert_eq!(p("-0"), Some(Duration::ZERO));
    }

    #[test]
    fn huge_and_infinite_saturate() {
        assert_eq!(p("1e300"), Some(Duration::MAX));
        assert_eq!(p("1e20"), Some(Duration::MAX));
        assert_eq!(p("1.9e19"), Some(Duration::MAX));
        assert_eq!(
            p("1.8e19"),
            Some(Duration::from_secs(18_000_000_000_000_000_000))
        );
        assert_eq!(p("inf"), Some(Duration::MAX));
        assert_eq!(p("Infinity"), Some(Duration::MAX));
        assert_eq!(p("1e400"), Some(Duration::MAX)); // parses as +inf
    }

    #[test]
    fn negative_nan_and_garbage_are_unusable() {
        for bad in [
            "-1",
            "-0.5",
            "-1e300",
            "-inf",
            "NaN",
            "nan",
            "",
            "   ",
            "soon",
            "1 2",
            "1s",
            "0x10",
            "١٢",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
        assert_eq!(parse(b"\xff\xfe", at(0)), None);
        assert_eq!(parse(b"1\x00", at(0)), None);
    }

    #[test]
    fn http_dates_in_all_three_forms() {
        // 30 seconds after "now".
        assert_eq!(
            p("Sun, 06 Nov 1994 08:50:07 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            p("Sunday, 06-Nov-94 08:50:07 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(p("Sun Nov  6 08:50:07 1994"), Some(Duration::from_secs(30)));
        // Surrounding whitespace is tolerated.
        assert_eq!(
            p("  Sun, 06 Nov 1994 08:50:07 GMT "),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn past_dates_mean_no_wait() {
        assert_eq!(p("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(p("Thu, 01 Jan 1970 00:00:00 GMT"), Some(Duration::ZERO));
    }

    #[test]
    fn far_future_dates_are_long_waits() {
        let d = p("Fri, 31 Dec 9999 23:59:59 GMT").expect("a date");
        assert!(d > Duration::from_secs(8_000 * 365 * 86_400), "{d:?}");
    }
}
