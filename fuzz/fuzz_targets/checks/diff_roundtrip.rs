//! `diff_roundtrip`: two JSON objects `a` and `b`, split on 0xFF. `twindoc::merge(a, diff(a, b))`
//! and `json_patch::patch(a, diff_json_patch(a, b))` both give `b` (as `diff` documents it: root
//! `$metadata` / `$version` stay as in `a`, and `b`'s `null` members are absent unless `a` has
//! `null` at the same place too); `diff(a, a)` and `diff(b, b)` are `{}`, `diff_json_patch` of
//! the same empty. Nothing panics; a pair `diff` refuses is refused by `diff_json_patch` too.

use serde_json::{Map, Value};
use twindoc::Limits;

const SEPARATOR: u8 = 0xFF;

pub fn run(data: &[u8]) {
    let mut parts = data.splitn(2, |&b| b == SEPARATOR);
    let (Some(a), Some(b)) = (parts.next().and_then(object), parts.next().and_then(object)) else {
        // Two JSON values, not both objects: both functions refuse them.
        if let Some((a, b)) = split_values(data) {
            assert!(twindoc::diff(&a, &b).is_err(), "diff of a non-object");
            assert!(
                twindoc::diff_json_patch(&a, &b).is_err(),
                "diff_json_patch of a non-object"
            );
        }
        return;
    };
    let patch = twindoc::diff(&a, &b);
    let ops = twindoc::diff_json_patch(&a, &b);
    let (patch, ops) = match (patch, ops) {
        (Ok(patch), Ok(ops)) => (patch, ops),
        (Err(e), Err(f)) => {
            assert_eq!(e.kind(), f.kind(), "diff and diff_json_patch refuse differently");
            return;
        }
        (patch, ops) => panic!("diff and diff_json_patch disagree: {patch:?} / {ops:?}"),
    };
    let expected = expected(&a, &b);

    let mut merged = a.clone();
    twindoc::merge(&mut merged, &patch).unwrap_or_else(|e| panic!("the diff {patch} does not merge: {e}"));
    assert_eq!(merged, expected, "merge(a, diff(a, b)) != b; diff: {patch}");

    let mut patched = a.clone();
    json_patch::patch(&mut patched, &ops).unwrap_or_else(|e| panic!("the JSON Patch {ops} does not apply: {e}"));
    assert_eq!(patched, expected, "patch(a, diff_json_patch(a, b)) != b; ops: {ops}");

    // Once there, nothing is left to change.
    assert_eq!(
        twindoc::diff(&merged, &b).ok(),
        Some(Value::Object(Map::new())),
        "diff(merged, b)"
    );
    for doc in [&a, &b] {
        assert_eq!(
            twindoc::diff(doc, doc).ok(),
            Some(Value::Object(Map::new())),
            "diff(x, x)"
        );
        assert_eq!(twindoc::diff_json_patch(doc, doc).map(|ops| ops.len()).ok(), Some(0));
    }
}

/// The bytes as a JSON object, if they are one.
fn object(bytes: &[u8]) -> Option<Value> {
    value(bytes).filter(Value::is_object)
}

fn value(bytes: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    twindoc::parse_json(text, &Limits::none()).ok()
}

fn split_values(data: &[u8]) -> Option<(Value, Value)> {
    let mut parts = data.splitn(2, |&b| b == SEPARATOR);
    Some((value(parts.next()?)?, value(parts.next()?)?))
}

/// What merging `diff(a, b)` into `a` must give, by `diff`'s documentation: `b` without its root
/// `$metadata` / `$version` (those of `a` instead) and without its `null` members, except a `null`
/// that `a` has at the same place in an object both sides hold.
fn expected(a: &Value, b: &Value) -> Value {
    let (Value::Object(a), Value::Object(b)) = (a, b) else {
        unreachable!("both sides are objects");
    };
    let reserved = |key: &str| key == "$metadata" || key == "$version";
    let mut out: Map<String, Value> = a
        .iter()
        .filter(|(k, _)| reserved(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let b: Map<String, Value> = b
        .iter()
        .filter(|(k, _)| !reserved(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.extend(expected_members(a, &b));
    Value::Object(out)
}

fn expected_members(a: &Map<String, Value>, b: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, after) in b {
        match (a.get(key), after) {
            (Some(Value::Null), Value::Null) => {
                out.insert(key.clone(), Value::Null);
            }
            (_, Value::Null) => {}
            (Some(Value::Object(before)), Value::Object(after)) => {
                out.insert(key.clone(), Value::Object(expected_members(before, after)));
            }
            (_, after) => {
                out.insert(key.clone(), without_nulls(after));
            }
        }
    }
    out
}

/// A value with the `null` members of its objects dropped, at any depth outside arrays.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}
