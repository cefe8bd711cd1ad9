//! Times as IoT Hub writes them into `$metadata` ([S6](crate::semantics#s6-metadata)).

use std::fmt;

use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

use crate::error::{Error, ErrorKind};

/// A UTC instant with 100-nanosecond precision, as IoT Hub stamps `$lastUpdated`.
///
/// The engine never reads a clock: the caller passes the time of every write, as RFC 3339 text
/// with any offset (up to 9 fraction digits, truncated to 7) or as Unix milliseconds. It is shown
/// as `YYYY-MM-DDTHH:MM:SS.fffffffZ`; years outside 0000..=9999 are refused.
///
/// ```
/// use twindoc::Timestamp;
/// let t: Timestamp = "2026-11-28T12:00:00.123456789+02:00".parse()?;
/// assert_eq!(t.to_string(), "2026-11-28T10:00:00.1234567Z");
/// assert_eq!(Timestamp::from_unix_millis(0)?.to_string(), "1970-01-01T00:00:00.0000000Z");
/// # Ok::<(), twindoc::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// 100-nanosecond ticks since the Unix epoch.
    ticks: i64,
}

const NANOS_PER_TICK: i128 = 100;
const TICKS_PER_MILLI: i64 = 10_000;
/// Unix milliseconds of 0000-01-01T00:00:00Z and of the last millisecond of 9999.
const MILLIS_IN_RANGE: std::ops::RangeInclusive<i64> = -62_167_219_200_000..=253_402_300_799_999;

impl Timestamp {
    /// The instant `millis` milliseconds after the Unix epoch (negative before it).
    pub fn from_unix_millis(millis: i64) -> Result<Self, Error> {
        // The range checked on the milliseconds themselves: the same answer as
        // `from_unix_nanos`, without its 128-bit arithmetic (done in software in WebAssembly,
        // where a write's time usually comes as milliseconds).
        if !MILLIS_IN_RANGE.contains(&millis) {
            return Err(bad("the time is outside the years 0000 to 9999".to_string()));
        }
        Ok(Timestamp {
            ticks: millis * TICKS_PER_MILLI,
        })
    }

    /// The instant `nanos` nanoseconds after the Unix epoch, truncated to 100 ns.
    pub fn from_unix_nanos(nanos: i128) -> Result<Self, Error> {
        let out_of_range = || bad("the time is outside the years 0000 to 9999".to_string());
        let datetime = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| out_of_range())?;
        if !(0..=9999).contains(&datetime.year()) {
            return Err(out_of_range());
        }
        // Truncate toward the past, as a 7-digit fraction of the second does.
        let ticks = nanos.div_euclid(NANOS_PER_TICK);
        Ok(Timestamp {
            ticks: i64::try_from(ticks).map_err(|_| out_of_range())?,
        })
    }

    /// Parses RFC 3339 text: `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)` (`t`, `z` and a space for
    /// the `T` are accepted too). A leap second (`:60`) is refused, with a message saying so.
    pub fn parse_rfc3339(text: &str) -> Result<Self, Error> {
        Ok(Timestamp::parse_rfc3339_nanos(text)?.0)
    }

    /// As [`Timestamp::parse_rfc3339`], with the instant to the nanosecond as given (up to 9
    /// fraction digits), which the timestamp truncates: S12 ranks creation times at their full
    /// precision.
    pub(crate) fn parse_rfc3339_nanos(text: &str) -> Result<(Self, i128), Error> {
        let nanos = parse_rfc3339(text).ok_or_else(|| bad(format!("{text:?} is not an RFC 3339 time")))??;
        Ok((Timestamp::from_unix_nanos(nanos)?, nanos))
    }

    /// Nanoseconds since the Unix epoch (a multiple of 100).
    pub fn unix_nanos(&self) -> i128 {
        i128::from(self.ticks) * NANOS_PER_TICK
    }
}

impl std::str::FromStr for Timestamp {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self, Error> {
        Timestamp::parse_rfc3339(text)
    }
}

fn bad(message: String) -> Error {
    Error::new(ErrorKind::InvalidTimestamp, "", message)
}

/// Nanoseconds since the Unix epoch; `None` when the text is not shaped like RFC 3339,
/// `Some(Err)` for a leap second.
fn parse_rfc3339(text: &str) -> Option<Result<i128, Error>> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        part.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let mut pos = 19;
    let mut nanos = 0u32;
    if b[pos] == b'.' {
        let start = pos + 1;
        let end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        let count = end - start;
        if count == 0 || count > 9 {
            return None;
        }
        nanos = digits(start..end)? * 10u32.pow(9 - count as u32);
        pos = end;
    }
    let offset_seconds: i32 = match b.get(pos..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (digits(pos + 1..pos + 3)?, digits(pos + 4..pos + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let magnitude = (h * 3600 + m * 60) as i32;
            if *sign == b'-' {
                -magnitude
            } else {
                magnitude
            }
        }
        _ => return None,
    };
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(year as i32, month, u8::try_from(day).ok()?).ok()?;
    // RFC 3339 allows a leap second (`:60`); the engine counts time without them (as Unix time
    // and IoT Hub's stamps do), so it is refused as such, once the rest of the text is checked.
    let leap_second = second == 60;
    let second = if leap_second { 59 } else { second };
    let time = Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanos).ok()?;
    let offset = UtcOffset::from_whole_seconds(offset_seconds).ok()?;
    if leap_second {
        return Some(Err(bad(format!(
            "{text:?} is a leap second: leap seconds are not supported"
        ))));
    }
    let instant = OffsetDateTime::new_in_offset(date, time, offset);
    Some(Ok(instant.unix_timestamp_nanos()))
}

impl Timestamp {
    /// The S6 text of the time, `YYYY-MM-DDTHH:MM:SS.fffffffZ`, as bytes (ASCII).
    pub(crate) fn text(&self) -> [u8; 28] {
        let mut text = *b"0000-00-00T00:00:00.0000000Z";
        // In range by construction: every Timestamp was checked to lie in the years 0000..=9999.
        let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(self.unix_nanos()) else {
            return text;
        };
        // Written digit by digit: every write stamps a time, and this is cheaper than `write!`.
        let fields = [
            (0, 4, t.year() as u32),
            (5, 2, u32::from(u8::from(t.month()))),
            (8, 2, u32::from(t.day())),
            (11, 2, u32::from(t.hour())),
            (14, 2, u32::from(t.minute())),
            (17, 2, u32::from(t.second())),
            (20, 7, t.nanosecond() / 100),
        ];
        for (start, width, mut value) in fields {
            for digit in text[start..start + width].iter_mut().rev() {
                *digit = b'0' + (value % 10) as u8;
                value /= 10;
            }
        }
        text
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.text()).map_err(|_| fmt::Error)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(text: &str) -> String {
        Timestamp::parse_rfc3339(text)
            .map(|t| t.to_string())
            .unwrap_or_else(|e| e.code().to_string())
    }

    #[test]
    fn offsets_are_normalised_to_utc() {
        assert_eq!(show("2026-03-01T10:00:00+02:00"), "2026-03-01T08:00:00.0000000Z");
        assert_eq!(show("2026-03-01t00:30:00-01:30"), "2026-03-01T02:00:00.0000000Z");
        assert_eq!(show("2026-12-31T23:59:59.5-00:01"), "2027-01-01T00:00:59.5000000Z");
        assert_eq!(show("2026-03-01 10:00:00z"), "2026-03-01T10:00:00.0000000Z");
    }

    #[test]
    fn fractions_are_truncated_to_seven_digits() {
        assert_eq!(show("2026-01-01T00:00:00.1Z"), "2026-01-01T00:00:00.1000000Z");
        assert_eq!(show("2026-01-01T00:00:00.123456789Z"), "2026-01-01T00:00:00.1234567Z");
        assert_eq!(show("2026-01-01T00:00:00.9999999999Z"), "InvalidTimestamp");
    }

    #[test]
    fn malformed_or_out_of_range_text_is_refused() {
        for text in [
            "",
            "2026-02-30T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+2:00",
            "0000-01-01T00:00:00+00:01",
            "2026-01-01T00:00:00Z ",
            "２０２6-01-01T00:00:00Z",
        ] {
            assert_eq!(show(text), "InvalidTimestamp", "{text:?}");
        }
        assert_eq!(show("9999-12-31T23:59:59.9999999Z"), "9999-12-31T23:59:59.9999999Z");
    }

    #[test]
    fn a_leap_second_is_refused_as_one() {
        let error = Timestamp::parse_rfc3339("2026-12-31T23:59:60Z").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidTimestamp);
        assert!(
            error.message().contains("leap seconds are not supported"),
            "{}",
            error.message()
        );
        let error = Timestamp::parse_rfc3339("2026-12-31T23:59:60.5+01:00").unwrap_err();
        assert!(error.message().contains("leap second"), "{}", error.message());
        // Text that is not RFC 3339 otherwise is still said to be so.
        let error = Timestamp::parse_rfc3339("2026-02-30T23:59:60Z").unwrap_err();
        assert!(
            error.message().contains("is not an RFC 3339 time"),
            "{}",
            error.message()
        );
        let error = Timestamp::parse_rfc3339("2026-12-31T23:59:61Z").unwrap_err();
        assert!(
            error.message().contains("is not an RFC 3339 time"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn unix_millis_round_trip() {
        let t = Timestamp::from_unix_millis(1_767_225_600_123).unwrap();
        assert_eq!(t.to_string(), "2026-01-01T00:00:00.1230000Z");
        assert_eq!(
            Timestamp::from_unix_millis(-1).unwrap().to_string(),
            "1969-12-31T23:59:59.9990000Z"
        );
        assert!(Timestamp::from_unix_millis(i64::MAX).is_err());
        assert!(Timestamp::from_unix_nanos(i128::MIN).is_err());
    }

    #[test]
    fn millis_answer_as_nanos_do() {
        let (first, last) = (*MILLIS_IN_RANGE.start(), *MILLIS_IN_RANGE.end());
        assert_eq!(
            Timestamp::from_unix_millis(first).unwrap().to_string(),
            "0000-01-01T00:00:00.0000000Z"
        );
        assert_eq!(
            Timestamp::from_unix_millis(last).unwrap().to_string(),
            "9999-12-31T23:59:59.9990000Z"
        );
        let mut samples = vec![i64::MIN, i64::MAX, 0, -1, 1, first - 1, first, last, last + 1];
        samples.extend((0..2000).map(|i: i64| first - 5 + i * (last - first + 10) / 1999));
        for millis in samples {
            let nanos = Timestamp::from_unix_nanos(i128::from(millis) * 1_000_000);
            let via_millis = Timestamp::from_unix_millis(millis);
            assert_eq!(via_millis.as_ref().ok(), nanos.as_ref().ok(), "{millis}");
            if let (Err(a), Err(b)) = (via_millis, nanos) {
                assert_eq!((a.kind(), a.message()), (b.kind(), b.message()), "{millis}");
            }
        }
    }
}
