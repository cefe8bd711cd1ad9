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
    check_input_size(text, limits)?;
    let value = serde_json::from_str(text)
        .map_err(|e| Error::new(ErrorKind::InvalidJson, "", format!("malformed JSON: {e}")))?;
    if limits.integer_range() && has_long_digit_run(text) {
        if let Some(path) = first_inexact_integer(text) {
            return Err(Error::new(
                ErrorKind::IntegerOutOfRange,
                path,
                "the integer literal is outside -2^52..2^52-1",
            ));
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

/// The JSON Pointer of the first integer literal (no fraction, no exponent) that fits neither
/// `i64` nor `u64`, in well-formed JSON text.
fn first_inexact_integer(text: &str) -> Option<String> {
    /// Where the scan is: inside an object (at a member, once its key is read) or an array.
    enum Frame {
        Object(Option<String>),
        Array(usize),
    }
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
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
                    return Some(pointer.collect());
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

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
