//! The document rules of [S3](crate::semantics#s3-validation) a body is checked against: key
//! length and characters, string length, the integer range, depth and `null` inside arrays.

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, PathStack, Token};
use crate::limits::{Limits, MAX_NESTING};
use crate::nesting::too_nested;

const INTEGER_MAX: i64 = (1 << 52) - 1;
const INTEGER_MIN: i64 = -(1 << 52);

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
                Token::Key(key) => e.under(&format!("/{}", crate::pointer::escape_pointer_token(key))),
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
        if let Some(max) = self.limits.max_key_bytes() {
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
            Value::String(s) => match self.limits.max_value_bytes() {
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
                if self.limits.integer_range() && out_of_range {
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
                if let Some(max) = self.limits.max_depth() {
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
