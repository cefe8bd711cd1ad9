//! JSON text in: the engine's bounds on what it parses.

use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::pointer::escape_pointer_token;
use crate::Limits;

/// Parses JSON text as the engine does for every text input (bodies, documents).
///
/// Text longer than [`Limits::max_input_bytes`] is refused unread, and text nested deeper than
/// serde_json's bound of 128 levels is refused without deep recursion; both, like malformed text,
/// are `InvalidJson`. With [`Limits::integer_range`] on, an integer literal too large for a 64-bit
/// integer (which a parser can only keep as an inexact float) is `IntegerOutOfRange` at its path,
/// as any integer beyond ±2^52 is.
///
/// ```
/// let limits = twindoc::Limits::azure();
/// assert_eq!(twindoc::parse_json(r#"{"a": 1}"#, &limits)?, serde_json::json!({"a": 1}));
/// let deep = "[".repeat(100_000);
/// assert_eq!(twindoc::parse_json(&deep, &limits).unwrap_err().code(), "InvalidJson");
/// let huge = twindoc::parse_json(r#"{"a": [100000000000000000000]}"#, &limits).unwrap_err();
/// assert_eq!((huge.code(), huge.path()), ("IntegerOutOfRange", "/a/0"));
/// # Ok::<(), twindoc::Error>(())
/// ```
pub fn parse_json(text: &str, limits: &Limits) -> Result<Value, Error> {
    parse(text, limits, false)
}

/// Parses the JSON text of a write's body: as [`parse_json`], except that an integer literal too
/// large for 64 bits does not fail the parse. With [`Limits::integer_range`] on it stands in the
/// body as the 64-bit integer of its sign farthest from zero, which the write's integer range
/// rule refuses (`IntegerOutOfRange` at its path) in the order of the body's rules (S3): a
/// violation before it is the write's error, as for any other value. (A parser can keep such a
/// literal only as an inexact float, which the rule would not see as an integer.) Use it for
/// text given to [`Twin::patch`](crate::Twin::patch) and the other writes, whose checks refuse
/// the stand-in; elsewhere [`parse_json`] refuses the literal itself.
///
/// ```
/// use twindoc::{Limits, Section, Twin, WriteOptions};
/// let body = twindoc::parse_body_json(r#"{"a b": 1, "c": 100000000000000000000}"#, &Limits::azure())?;
/// let mut twin = Twin::new("devA", "2026-11-28T10:00:00Z".parse()?);
/// let error = twin.patch(Section::Tags, &body, &WriteOptions::new("2026-11-28T10:00:01Z".parse()?)).unwrap_err();
/// assert_eq!((error.code(), error.path()), ("InvalidKey", "/a b"));
/// # Ok::<(), twindoc::Error>(())
/// ```
pub fn parse_body_json(text: &str, limits: &Limits) -> Result<Value, Error> {
    parse(text, limits, true)
}

/// [`parse_json`], or with `body` [`parse_body_json`].
fn parse(text: &str, limits: &Limits, body: bool) -> Result<Value, Error> {
    check_input_size(text, limits)?;
    let mut value: Value = serde_json::from_str(text)
        .map_err(|e| Error::new(ErrorKind::InvalidJson, "", format!("malformed JSON: {e}")))?;
    if limits.integer_range() && has_long_digit_run(text) {
        for path in inexact_integers(text) {
            if !body {
                return Err(Error::new(
                    ErrorKind::IntegerOutOfRange,
                    path,
                    "the integer literal is outside -2^52..2^52-1",
                ));
            }
            // Where the literal landed it is a float; a later duplicate key may have put another
            // value there, which stays.
            if let Some(slot) = value.pointer_mut(&path).filter(|slot| slot.is_f64()) {
                let negative = slot.as_f64().is_some_and(|n| n < 0.0);
                let stand_in: serde_json::Number = if negative { i64::MIN.into() } else { u64::MAX.into() };
                *slot = Value::Number(stand_in);
            }
        }
    }
    Ok(value)
}

/// Refuses text longer than [`Limits::max_input_bytes`] unread.
pub(crate) fn check_input_size(text: &str, limits: &Limits) -> Result<(), Error> {
    let max = limits.max_input_bytes();
    if text.len() > max {
        return Err(Error::new(
            ErrorKind::InvalidJson,
            "",
            format!("the input is {} bytes, over the engine's maximum of {max}", text.len()),
        ));
    }
    Ok(())
}

/// Whether the text holds 19 digits in a row: every integer literal outside the 64-bit range
/// does, so text without such a run needs no second look.
fn has_long_digit_run(text: &str) -> bool {
    let mut run = 0;
    text.bytes().any(|b| {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        run >= 19
    })
}

/// The JSON Pointers of the integer literals (no fraction, no exponent) that fit neither `i64`
/// nor `u64`, in well-formed JSON text, in document order.
fn inexact_integers(text: &str) -> Vec<String> {
    /// Where the scan is: inside an object (at a member, once its key is read) or an array.
    enum Frame {
        Object(Option<String>),
        Array(usize),
    }
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => stack.push(Frame::Object(None)),
            b'[' => stack.push(Frame::Array(0)),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => {
                if let Some(Frame::Array(index)) = stack.last_mut() {
                    *index += 1;
                }
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                // A string just before a ':' is a member's key.
                let rest = text.get(i + 1..).unwrap_or_default().trim_start();
                if let (true, Some(Frame::Object(key))) = (rest.starts_with(':'), stack.last_mut()) {
                    // Through `Value`, whose parser the engine has anyway (keys may hold escapes).
                    let parsed = serde_json::from_str::<Value>(text.get(start..=i).unwrap_or_default());
                    *key = parsed.ok().and_then(|v| v.as_str().map(str::to_owned));
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i + 1 < bytes.len() && matches!(bytes[i + 1], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                let literal = text.get(start..=i).unwrap_or_default();
                let integral = !literal.contains(['.', 'e', 'E']);
                if integral && literal.parse::<i64>().is_err() && literal.parse::<u64>().is_err() {
                    let pointer = stack.iter().map(|frame| match frame {
                        Frame::Object(Some(key)) => format!("/{}", escape_pointer_token(key)),
                        Frame::Object(None) => String::new(),
                        Frame::Array(index) => format!("/{index}"),
                    });
                    found.push(pointer.collect());
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body's integer literals past 64 bits become the 64-bit integer of their sign farthest
    /// from zero, and only them; with the integer range off they stay floats.
    #[test]
    fn a_body_keeps_its_inexact_integers_for_the_range_rule() {
        let text = r#"{"a": [1, 100000000000000000000, 1e20], "b~/": {"c": -9223372036854775809}, "d": "99999999999999999999", "e": 18446744073709551615}"#;
        let body = parse_body_json(text, &Limits::azure()).expect("parses");
        assert_eq!(
            body,
            serde_json::json!({"a": [1, u64::MAX, 1e20], "b~/": {"c": i64::MIN}, "d": "99999999999999999999", "e": u64::MAX})
        );
        // A duplicate key's later value is the body's, and stays.
        let duplicate = parse_body_json(r#"{"a": 100000000000000000000, "a": 1}"#, &Limits::azure());
        assert_eq!(duplicate.expect("parses"), serde_json::json!({"a": 1}));
        let lenient = parse_body_json(text, &Limits::none()).expect("parses");
        assert_eq!(lenient["a"][1], serde_json::json!(1e20));
        assert_eq!(parse_json(text, &Limits::none()).expect("parses"), lenient);
    }

    #[test]
    fn inexact_integers_are_found_at_their_path() {
        let limits = Limits::azure();
        let cases = [
            (r#"{"a": 100000000000000000000}"#, "/a"),
            (r#"{"x": {"b~/": [1, 2, -9223372036854775809]}}"#, "/x/b~0~1/2"),
            (
                r#"{"s": "12345678901234567890", "t": [{"u": 18446744073709551616}]}"#,
                "/t/0/u",
            ),
        ];
        for (text, path) in cases {
            let error = parse_json(text, &limits).unwrap_err();
            assert_eq!(
                (error.kind(), error.path()),
                (ErrorKind::IntegerOutOfRange, path),
                "{text}"
            );
        }
        for text in [
            r#"{"a": 1e20, "b": 123456789012345678901.5}"#,
            r#"{"s": "12345678901234567890123"}"#,
        ] {
            assert!(parse_json(text, &limits).is_ok(), "{text}");
        }
        assert!(parse_json(r#"{"a": 100000000000000000000}"#, &Limits::none()).is_ok());
    }
}
