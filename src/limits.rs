//! IoT Hub's limits ([S3](crate::semantics#s3-validation)) and the checks of a body.

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, PathStack, Token};
use crate::nesting::too_nested;

/// How deep the engine itself walks a document, section root being depth 0, whatever the limits.
///
/// Every walk of the engine is recursive and bounded by this, so no input can overflow the stack.
/// Deeper input is rejected as `InvalidJson`. It sits below serde_json's own parser bound (128
/// levels for a whole document) so that every twin the engine writes parses again.
pub const MAX_NESTING: usize = 100;

/// The default for [`Limits::max_input_bytes`]: 128 MiB of JSON text.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 128 << 20;

const INTEGER_MAX: i64 = (1 << 52) - 1;
const INTEGER_MIN: i64 = -(1 << 52);

/// The limits a write is checked against ([S3](crate::semantics#s3-validation)).
///
/// [`Limits::azure`] (the default) holds IoT Hub's numbers; [`Limits::none`] switches the numeric
/// limits off. The document-model rules (body is an object, key characters, no `$` keys, no `null`
/// in arrays) and the engine's own safety bounds ([`MAX_NESTING`], [`Limits::max_input_bytes`])
/// always apply. Each number can be changed with the `with_*` builders:
///
/// ```
/// let limits = twindoc::Limits::azure().with_max_depth(12).with_desired_bytes(64 * 1024);
/// assert_eq!(limits.max_depth(), Some(12));
/// assert_eq!(limits.max_key_bytes(), Some(1024));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    max_key_bytes: Option<usize>,
    max_value_bytes: Option<usize>,
    max_depth: Option<usize>,
    integer_range: bool,
    tags_bytes: Option<u64>,
    desired_bytes: Option<u64>,
    reported_bytes: Option<u64>,
    max_input_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::azure()
    }
}

impl Limits {
    /// IoT Hub's limits: keys 1024 bytes, strings 4096 bytes, integers within ±2^52, depth 10,
    /// tags 8 KiB, desired and reported 32 KiB each.
    pub const fn azure() -> Self {
        Limits {
            max_key_bytes: Some(1024),
            max_value_bytes: Some(4096),
            max_depth: Some(10),
            integer_range: true,
            tags_bytes: Some(8192),
            desired_bytes: Some(32768),
            reported_bytes: Some(32768),
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }

    /// No numeric limits (key and value length, integer range, depth, section sizes). The
    /// document-model rules and the engine's safety bounds still apply.
    pub const fn none() -> Self {
        Limits {
            max_key_bytes: None,
            max_value_bytes: None,
            max_depth: None,
            integer_range: false,
            tags_bytes: None,
            desired_bytes: None,
            reported_bytes: None,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }

    /// The longest key allowed, in UTF-8 bytes.
    pub fn max_key_bytes(&self) -> Option<usize> {
        self.max_key_bytes
    }
    /// The longest string value allowed, in UTF-8 bytes.
    pub fn max_value_bytes(&self) -> Option<usize> {
        self.max_value_bytes
    }
    /// The deepest object or array allowed, section root being depth 0.
    pub fn max_depth(&self) -> Option<usize> {
        self.max_depth
    }
    /// Whether integer literals must lie within ±2^52.
    pub fn integer_range(&self) -> bool {
        self.integer_range
    }
    /// The largest size (S4) of each section: tags, desired, reported.
    pub fn section_bytes(&self, section: crate::Section) -> Option<u64> {
        match section {
            crate::Section::Tags => self.tags_bytes,
            crate::Section::Desired => self.desired_bytes,
            crate::Section::Reported => self.reported_bytes,
        }
    }
    /// The largest JSON text the engine parses, in bytes (an engine bound, kept by `none()`).
    pub fn max_input_bytes(&self) -> usize {
        self.max_input_bytes
    }

    /// Sets the longest key, in UTF-8 bytes.
    pub fn with_max_key_bytes(mut self, bytes: usize) -> Self {
        self.max_key_bytes = Some(bytes);
        self
    }
    /// Sets the longest string value, in UTF-8 bytes.
    pub fn with_max_value_bytes(mut self, bytes: usize) -> Self {
        self.max_value_bytes = Some(bytes);
        self
    }
    /// Sets the deepest object or array (at most [`MAX_NESTING`] takes effect).
    pub fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = Some(depth);
        self
    }
    /// Turns the ±2^52 integer range check on or off.
    pub fn with_integer_range(mut self, check: bool) -> Self {
        self.integer_range = check;
        self
    }
    /// Sets the largest tags section, by the S4 formula.
    pub fn with_tags_bytes(mut self, bytes: u64) -> Self {
        self.tags_bytes = Some(bytes);
        self
    }
    /// Sets the largest desired section, by the S4 formula.
    pub fn with_desired_bytes(mut self, bytes: u64) -> Self {
        self.desired_bytes = Some(bytes);
        self
    }
    /// Sets the largest reported section, by the S4 formula.
    pub fn with_reported_bytes(mut self, bytes: u64) -> Self {
        self.reported_bytes = Some(bytes);
        self
    }
    /// Sets the largest JSON text the engine parses, in bytes.
    pub fn with_max_input_bytes(mut self, bytes: usize) -> Self {
        self.max_input_bytes = bytes;
        self
    }
}

/// Whether `key` breaks the key character rule: C0/C1 control characters, `.`, `$`, `#`, space.
pub(crate) fn forbidden_key_char(key: &str) -> Option<char> {
    // Keys are nearly always printable ASCII: bytes are checked without decoding characters.
    let suspect = |b: &u8| *b < 0x20 || *b >= 0x7f || matches!(b, b'.' | b'$' | b'#' | b' ');
    if !key.as_bytes().iter().any(suspect) {
        return None;
    }
    key.chars()
        .find(|&c| matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '.' | '$' | '#' | ' '))
}

fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_string(),
        '.' | '$' | '#' => format!("'{c}'"),
        c => format!("the control character U+{:04X}", c as u32),
    }
}

/// Checks every rule of S3 on a body (or any section content), in document order, and reports
/// the first violation with its pointer relative to the section root.
pub(crate) fn check_body(body: &Map<String, Value>, limits: &Limits) -> Result<(), Error> {
    Checker::new(limits, Mode::First).object(body, 0, false)
}

/// Collects every violation in a section's content members instead of stopping at the first.
pub(crate) fn collect_violations<'a>(
    members: impl Iterator<Item = (&'a String, &'a Value)>,
    limits: &Limits,
) -> Vec<Error> {
    let mut found = Vec::new();
    for (key, value) in members {
        let mut checker = Checker::new(limits, Mode::All);
        checker.path.push(Token::Key(key));
        // In `All` mode only the engine bound ends a walk with an error.
        if let Err(bound) = checker.key(key).and_then(|()| checker.value(value, 0, false)) {
            checker.found.push(bound);
        }
        found.append(&mut checker.found);
    }
    found
}

#[derive(PartialEq)]
enum Mode {
    First,
    All,
}

struct Checker<'l, 'a> {
    limits: &'l Limits,
    mode: Mode,
    path: PathStack<'a>,
    found: Vec<Error>,
}

impl<'l, 'a> Checker<'l, 'a> {
    fn new(limits: &'l Limits, mode: Mode) -> Self {
        Checker {
            limits,
            mode,
            path: PathStack::default(),
            found: Vec::new(),
        }
    }

    /// Records a violation at the current path; in `First` mode it ends the walk (and its path is
    /// written on the way out, by [`Checker::child`]).
    fn violation(&mut self, kind: ErrorKind, message: String) -> Result<(), Error> {
        let error = Error::new(kind, self.path.pointer(), message);
        match self.mode {
            Mode::First => Err(error),
            Mode::All => {
                self.found.push(error);
                Ok(())
            }
        }
    }

    /// Checks one child (`token` names it) with `check`. In `All` mode the path is kept as the
    /// walk goes, for the violations it records; in `First` mode, where a violation is rare and
    /// ends the walk, the path is written only then, as the error leaves each level.
    fn child(&mut self, token: Token<'a>, check: impl FnOnce(&mut Self) -> Result<(), Error>) -> Result<(), Error> {
        if self.mode == Mode::First {
            return check(self).map_err(|e| match token {
                Token::Key(key) => e.under(&format!("/{}", crate::error::escaped(key))),
                Token::Index(i) => e.under(&format!("/{i}")),
            });
        }
        self.path.push(token);
        check(self)?;
        self.path.pop();
        Ok(())
    }

    /// `depth` is the depth of `map` itself; `in_array` whether it lies inside an array.
    fn object(&mut self, map: &'a Map<String, Value>, depth: usize, in_array: bool) -> Result<(), Error> {
        for (key, value) in map {
            self.child(Token::Key(key), |checker| {
                checker.key(key)?;
                checker.value(value, depth, in_array)
            })?;
        }
        Ok(())
    }

    fn key(&mut self, key: &str) -> Result<(), Error> {
        if let Some(max) = self.limits.max_key_bytes {
            if key.len() > max {
                return self.violation(
                    ErrorKind::KeyTooLong,
                    format!("the key is {} bytes long, over the limit of {max}", key.len()),
                );
            }
        }
        if let Some(c) = forbidden_key_char(key) {
            return self.violation(
                ErrorKind::InvalidKey,
                format!("keys may not contain {}", describe_char(c)),
            );
        }
        Ok(())
    }

    /// Checks `value`, a child of a container at depth `parent_depth`.
    fn value(&mut self, value: &'a Value, parent_depth: usize, in_array: bool) -> Result<(), Error> {
        match value {
            Value::Null if in_array => self.violation(
                ErrorKind::NullInArray,
                "null is not allowed inside an array".to_string(),
            ),
            Value::Null | Value::Bool(_) => Ok(()),
            Value::String(s) => match self.limits.max_value_bytes {
                Some(max) if s.len() > max => self.violation(
                    ErrorKind::ValueTooLong,
                    format!("the string is {} bytes long, over the limit of {max}", s.len()),
                ),
                _ => Ok(()),
            },
            Value::Number(n) => {
                let out_of_range = match (n.as_i64(), n.as_u64()) {
                    (Some(i), _) => !(INTEGER_MIN..=INTEGER_MAX).contains(&i),
                    (None, Some(_)) => true,
                    (None, None) => false,
                };
                if self.limits.integer_range && out_of_range {
                    self.violation(
                        ErrorKind::IntegerOutOfRange,
                        format!("the integer {n} is outside -2^52..2^52-1"),
                    )
                } else {
                    Ok(())
                }
            }
            Value::Object(_) | Value::Array(_) => {
                let depth = parent_depth + 1;
                if depth > MAX_NESTING {
                    // Past the engine bound nothing more is walked, in either mode.
                    return Err(too_nested(self.path.pointer()));
                }
                if let Some(max) = self.limits.max_depth {
                    if depth > max {
                        return self.violation(
                            ErrorKind::TooDeep,
                            format!("this value is nested at depth {depth}, over the limit of {max}"),
                        );
                    }
                }
                match value {
                    Value::Object(map) => self.object(map, depth, in_array),
                    Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            self.child(Token::Index(i), |checker| checker.value(item, depth, true))?;
                        }
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(body: Value, limits: &Limits) -> Result<(), Error> {
        check_body(body.as_object().unwrap(), limits)
    }

    #[test]
    fn key_rules_report_the_key_path() {
        let e = check(json!({"a": {"b.c": 1}}), &Limits::azure()).unwrap_err();
        assert_eq!((e.kind(), e.path()), (ErrorKind::InvalidKey, "/a/b.c"));
        let e = check(json!({"x": {"a/b": {"c\u{85}": 1}}}), &Limits::none()).unwrap_err();
        assert_eq!((e.kind(), e.path()), (ErrorKind::InvalidKey, "/x/a~1b/c\u{85}"));
        assert!(check(json!({"": 1, "a\u{a0}-_": 2}), &Limits::azure()).is_ok());
    }

    #[test]
    fn key_length_is_checked_before_characters() {
        let key = format!("{}$", "a".repeat(1024));
        let e = check(json!({ key.clone(): 1 }), &Limits::azure()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::KeyTooLong);
        let e = check(json!({ key: 1 }), &Limits::none()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidKey);
    }

    #[test]
    fn depth_counts_objects_and_arrays_not_leaves() {
        let mut ok = json!({"x": 1});
        for i in (1..=10).rev() {
            ok = json!({ format!("l{i}"): ok });
        }
        // ok is {"l1": ... {"l10": {"x": 1}}}: l10's value sits at depth 10.
        let ok = ok.as_object().unwrap().clone();
        assert!(check_body(&ok, &Limits::azure()).is_ok());
        let too_deep = json!({"l0": ok});
        let e = check(too_deep.clone(), &Limits::azure()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooDeep);
        assert_eq!(e.path(), "/l0/l1/l2/l3/l4/l5/l6/l7/l8/l9/l10");
        assert!(check(too_deep, &Limits::none()).is_ok());
        let e = check(json!({"a": [[[[[[[[[[[]]]]]]]]]]]}), &Limits::azure()).unwrap_err();
        assert_eq!(e.path(), "/a/0/0/0/0/0/0/0/0/0/0");
    }

    #[test]
    fn integers_are_checked_against_2_pow_52() {
        let limits = Limits::azure();
        assert!(check(json!({"a": 4503599627370495_i64, "b": -4503599627370496_i64}), &limits).is_ok());
        let e = check(json!({"a": 4503599627370496_i64}), &limits).unwrap_err();
        assert_eq!((e.kind(), e.path()), (ErrorKind::IntegerOutOfRange, "/a"));
        let e = check(json!({"a": [1, u64::MAX]}), &limits).unwrap_err();
        assert_eq!(e.path(), "/a/1");
        assert!(check(json!({"a": 1e300, "b": u64::MAX}), &Limits::none()).is_ok());
    }

    #[test]
    fn nulls_are_refused_anywhere_inside_arrays() {
        for body in [
            json!({"a": [1, null]}),
            json!({"a": [{"b": null}]}),
            json!({"a": [[{"c": [null]}]]}),
        ] {
            let e = check(body, &Limits::none()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NullInArray);
        }
        assert!(check(json!({"a": {"b": null}}), &Limits::azure()).is_ok());
    }

    #[test]
    fn all_violations_are_collected() {
        let content = json!({"a b": 1, "c": "x".repeat(5000), "d": [null]});
        let found = collect_violations(content.as_object().unwrap().iter(), &Limits::azure());
        let kinds: Vec<_> = found.iter().map(|e| (e.kind(), e.path().to_string())).collect();
        assert_eq!(
            kinds,
            vec![
                (ErrorKind::InvalidKey, "/a b".to_string()),
                (ErrorKind::ValueTooLong, "/c".to_string()),
                (ErrorKind::NullInArray, "/d/0".to_string()),
            ]
        );
    }
}
