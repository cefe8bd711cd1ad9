//! What the device has not reached yet ([S9](crate::semantics#s9-diff-and-delta)), and IoT Plug
//! and Play acknowledgements ([S8](crate::semantics#s8-the-device-side)).

use serde_json::{Map, Number, Value};

use crate::error::Error;
use crate::names::{is_section_reserved, LAST_UPDATED_VERSION, METADATA, VERSION};
use crate::nesting::object_pair;
use crate::patch::without_nulls;
use crate::{Section, Twin};

/// What the device has not reached yet: every desired member that reported lacks or holds a
/// different value for, with its path from the root ([S9](crate::semantics#s9-diff-and-delta)).
///
/// - Objects on both sides are compared member by member; an object in `desired` facing anything
///   else in `reported` is pending whole, as is a member reported lacks.
/// - Everything else compares by value: numbers by their value (`1` equals `1.0`), arrays whole
///   (same length, elements equal in order, by the same rule), strings and booleans exactly.
/// - Members only `reported` has are ignored, as are `$metadata` and `$version` at the root of
///   either side. The IoT Plug and Play component marker `"__t": "c"` is an ordinary member: a
///   component recurses like any object, and a missing marker is pending.
/// - **IoT Plug and Play:** a desired member whose reported counterpart is an acknowledgement
///   `{"value": v, "ac": 200, "av": n, ...}` counts as reached when `n` is at least the member's
///   `$lastUpdatedVersion`, whatever `v` is (S9 read literally). Any other acknowledgement
///   (`ac` 202, 400, ..., or `av` too old) compares like any value, so it leaves the member
///   pending (an acknowledgement object never equals a scalar).
///
/// The member's `$lastUpdatedVersion` is read from `desired`'s root `$metadata`, at the
/// member's path. Decision: when that node (or its `$lastUpdatedVersion`) is absent, the nearest
/// ancestor node's `$lastUpdatedVersion` is used, then the desired `$version`, then the root
/// node's `$lastUpdatedVersion`, and with none of them 0 (an `ac` 200 acknowledgement is taken at
/// its word). Every fallback is at least the member's true version, so it never declares reached
/// what the device has not acknowledged. `av` must be a non-negative integer (`3.0` counts as 3).
///
/// Decision: `null` members of `desired` are taken as absent (valid twin content has none).
/// Both sides must be objects (`NotAnObject`), nested at most
/// [`MAX_NESTING`](crate::MAX_NESTING) deep (`InvalidJson`).
///
/// ```
/// use serde_json::json;
/// let desired = json!({
///     "fan": {"speed": 3, "mode": "eco"},
///     "levels": [1, 2],
///     "target": 21.5,
///     "$metadata": {"target": {"$lastUpdatedVersion": 6}},
///     "$version": 7,
/// });
/// let reported = json!({
///     "fan": {"speed": 3.0, "rpm": 1200},
///     "levels": [1],
///     "target": {"value": 21.5, "ac": 200, "av": 6},
///     "uptime": 5,
/// });
/// assert_eq!(twindoc::delta(&desired, &reported)?, json!({"fan": {"mode": "eco"}, "levels": [1, 2]}));
/// # Ok::<(), twindoc::Error>(())
/// ```
pub fn delta(desired: &Value, reported: &Value) -> Result<Value, Error> {
    let (want, have) = object_pair(desired, reported, "desired and reported")?;
    Ok(Value::Object(delta_maps(want, have)))
}

impl Twin {
    /// The [`delta`] of this twin's desired and reported sections, using the desired section's
    /// `$metadata` for the IoT Plug and Play acknowledgement versions. An absent section counts
    /// as empty.
    ///
    /// ```
    /// use serde_json::json;
    /// use twindoc::{Section, Twin, WriteOptions};
    /// let mut twin = Twin::new("devA", "2026-11-28T10:00:00Z".parse()?);
    /// let options = WriteOptions::new("2026-11-28T10:00:01Z".parse()?);
    /// twin.patch(Section::Desired, &json!({"interval": 5, "unit": "s"}), &options)?; // $version 2
    /// twin.patch(Section::Reported, &json!({"unit": "s"}), &options)?;
    /// assert_eq!(twin.delta(), json!({"interval": 5}));
    ///
    /// let ack = twindoc::writable_property_ack("interval", json!(5), 200, 2, None);
    /// twin.patch(Section::Reported, &ack, &options)?;
    /// assert_eq!(twin.delta(), json!({}));
    /// # Ok::<(), twindoc::Error>(())
    /// ```
    pub fn delta(&self) -> Value {
        // A twin's sections are within the engine's nesting bound (checked when it was read,
        // and by every write), so no further check is needed here.
        let section = |s| match self.section_value(s) {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        Value::Object(delta_maps(&section(Section::Desired), &section(Section::Reported)))
    }
}

/// [`delta`] on two section maps (root `$metadata` and `$version` skipped).
pub(crate) fn delta_maps(desired: &Map<String, Value>, reported: &Map<String, Value>) -> Map<String, Value> {
    let meta = desired.get(METADATA).and_then(Value::as_object);
    let version = desired
        .get(VERSION)
        .and_then(as_version)
        .or_else(|| meta.and_then(node_version))
        .unwrap_or(0);
    walk(desired, reported, meta, version, true)
}

/// The pending members of `desired` against `reported`; `meta` is the metadata node of
/// `desired`, `inherited` the version that applies where a node has none.
fn walk(
    desired: &Map<String, Value>,
    reported: &Map<String, Value>,
    meta: Option<&Map<String, Value>>,
    inherited: u64,
    root: bool,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, want) in desired {
        if (root && is_section_reserved(key)) || want.is_null() {
            continue;
        }
        let node = meta.and_then(|m| m.get(key)).and_then(Value::as_object);
        let version = node.and_then(node_version).unwrap_or(inherited);
        let pending = match (want, reported.get(key)) {
            (_, Some(have)) if acknowledged(have, version) => None,
            (Value::Object(want), Some(Value::Object(have))) => Some(walk(want, have, node, version, false))
                .filter(|inner| !inner.is_empty())
                .map(Value::Object),
            (want, Some(have)) if same_value(want, have) => None,
            (Value::Object(want), _) => Some(Value::Object(without_nulls(want))),
            (want, _) => Some(want.clone()),
        };
        if let Some(pending) = pending {
            out.insert(key.clone(), pending);
        }
    }
    out
}

/// The `$lastUpdatedVersion` of a metadata node.
fn node_version(node: &Map<String, Value>) -> Option<u64> {
    node.get(LAST_UPDATED_VERSION).and_then(as_version)
}

/// A non-negative integer, written as an integer or as an integral float.
fn as_version(value: &Value) -> Option<u64> {
    let n = value.as_number()?;
    n.as_u64().or_else(|| {
        let f = n.as_f64()?;
        // Saturating conversion; the range check keeps it exact.
        (f.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&f)).then_some(f as u64)
    })
}

/// Whether `reported` is an IoT Plug and Play acknowledgement that reaches `version`:
/// `{"value": .., "ac": 200, "av": n}` with `n >= version`.
fn acknowledged(reported: &Value, version: u64) -> bool {
    let Value::Object(ack) = reported else {
        return false;
    };
    let accepted = ack.get("ac").and_then(as_version) == Some(200);
    let recent = ack.get("av").and_then(as_version).is_some_and(|av| av >= version);
    ack.contains_key("value") && accepted && recent
}

/// Equality with numbers compared by value (`1 == 1.0`), at any depth.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => same_number(x, y),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        (a, b) => a == b,
    }
}

fn same_number(x: &Number, y: &Number) -> bool {
    fn integer(n: &Number) -> Option<i128> {
        n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from))
    }
    // `f as i128` saturates, and a saturated value lies outside every i64/u64 integer.
    let float_is = |f: Option<f64>, i: i128| f.is_some_and(|f| f.fract() == 0.0 && f as i128 == i);
    match (integer(x), integer(y)) {
        (Some(a), Some(b)) => a == b,
        (Some(i), None) => float_is(y.as_f64(), i),
        (None, Some(i)) => float_is(x.as_f64(), i),
        (None, None) => x.as_f64() == y.as_f64(),
    }
}

/// The reported patch acknowledging a writable property (IoT Plug and Play,
/// [S8](crate::semantics#s8-the-device-side)):
/// `{name: {"value": value, "ac": code, "av": version, "ad": description}}`.
///
/// `code` is 200 (accepted), 202 (in progress), 203 (set by the device, with `version` 0), 400
/// (rejected) or 500 (error); `version` is the desired `$version` being acknowledged. Decision:
/// `"ad"` is left out when `description` is `None` (the convention makes it optional). Nothing is
/// validated here: the patch is checked when it is written (e.g. by [`DeviceTwin::report`](crate::DeviceTwin::report)).
///
/// ```
/// use serde_json::json;
/// let ack = twindoc::writable_property_ack("targetTemperature", json!(21.5), 200, 7, Some("done"));
/// assert_eq!(
///     ack,
///     json!({"targetTemperature": {"value": 21.5, "ac": 200, "av": 7, "ad": "done"}})
/// );
/// let ack = twindoc::writable_property_ack("fan", json!("on"), 202, 8, None);
/// assert_eq!(ack, json!({"fan": {"value": "on", "ac": 202, "av": 8}}));
/// ```
pub fn writable_property_ack(name: &str, value: Value, code: u16, version: u64, description: Option<&str>) -> Value {
    let mut out = Map::new();
    out.insert(name.to_owned(), ack_body(value, code, version, description));
    Value::Object(out)
}

/// The reported patch acknowledging writable property `name` of component `component`:
/// `{component: {"__t": "c", name: {"value": .., "ac": .., "av": .., "ad": ..}}}`, with the
/// component marker as IoT Plug and Play requires (see [`writable_property_ack`]).
///
/// ```
/// use serde_json::json;
/// let ack = twindoc::component_property_ack("thermostat1", "target", json!(20), 400, 9, Some("too cold"));
/// assert_eq!(
///     ack,
///     json!({"thermostat1": {"__t": "c", "target": {"value": 20, "ac": 400, "av": 9, "ad": "too cold"}}})
/// );
/// ```
pub fn component_property_ack(
    component: &str,
    name: &str,
    value: Value,
    code: u16,
    version: u64,
    description: Option<&str>,
) -> Value {
    let mut inner = Map::new();
    inner.insert("__t".to_owned(), Value::from("c"));
    inner.insert(name.to_owned(), ack_body(value, code, version, description));
    let mut out = Map::new();
    out.insert(component.to_owned(), Value::Object(inner));
    Value::Object(out)
}

fn ack_body(value: Value, code: u16, version: u64, description: Option<&str>) -> Value {
    let mut ack = Map::new();
    ack.insert("value".to_owned(), value);
    ack.insert("ac".to_owned(), code.into());
    ack.insert("av".to_owned(), version.into());
    if let Some(description) = description {
        ack.insert("ad".to_owned(), description.into());
    }
    Value::Object(ack)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, MAX_NESTING};
    use serde_json::json;

    fn d(desired: Value, reported: Value) -> Value {
        delta(&desired, &reported).unwrap()
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(
            d(json!({"a": 1, "b": [1, 2.0]}), json!({"a": 1.0, "b": [1.0, 2]})),
            json!({})
        );
        assert_eq!(d(json!({"a": 1}), json!({"a": 1.5})), json!({"a": 1}));
        assert_eq!(d(json!({"a": -3}), json!({"a": -3.0})), json!({}));
        assert_eq!(d(json!({"a": u64::MAX}), json!({"a": -1})), json!({"a": u64::MAX}));
        assert_eq!(
            d(json!({"a": 9007199254740993_i64}), json!({"a": 9007199254740992.0})),
            json!({"a": 9007199254740993_i64})
        );
        assert_eq!(d(json!({"a": 1e300}), json!({"a": 1e300})), json!({}));
    }

    #[test]
    fn members_missing_or_different_keep_their_path() {
        assert_eq!(
            d(
                json!({"a": {"b": {"c": 1, "d": 2}}, "e": [1], "f": {}, "$version": 3}),
                json!({"a": {"b": {"c": 1, "d": 3}}, "e": [1, 2], "f": 5, "g": 1, "$version": 9})
            ),
            json!({"a": {"b": {"d": 2}}, "e": [1], "f": {}})
        );
        assert_eq!(d(json!({"a": {"b": 1}}), json!({})), json!({"a": {"b": 1}}));
        assert_eq!(d(json!({"a": {}}), json!({"a": {"x": 1}})), json!({}));
        assert_eq!(d(json!({"a": "x"}), json!({"a": {"x": 1}})), json!({"a": "x"}));
    }

    #[test]
    fn acknowledgements_reach_their_version() {
        let desired = json!({
            "p": 1, "q": 2, "r": 3, "s": 4,
            "$metadata": {"p": {"$lastUpdatedVersion": 5}, "q": {"$lastUpdatedVersion": 5},
                          "r": {"$lastUpdatedVersion": 5}},
            "$version": 8
        });
        let reported = json!({
            "p": {"value": 0, "ac": 200, "av": 5},
            "q": {"value": 2, "ac": 202, "av": 5},
            "r": {"value": 3, "ac": 200, "av": 4},
            "s": {"value": 4, "ac": 200, "av": 7}
        });
        // s has no metadata node: the desired $version (8) applies.
        assert_eq!(d(desired, reported), json!({"q": 2, "r": 3, "s": 4}));
    }

    #[test]
    fn ancestors_lend_their_version() {
        let desired = json!({
            "c": {"__t": "c", "p": 1},
            "$metadata": {"$lastUpdatedVersion": 9, "c": {"$lastUpdatedVersion": 4}},
        });
        let acked = json!({"c": {"__t": "c", "p": {"value": 1, "ac": 200, "av": 4}}});
        assert_eq!(d(desired.clone(), acked), json!({}));
        let old = json!({"c": {"__t": "c", "p": {"value": 1, "ac": 200, "av": 3}}});
        assert_eq!(d(desired.clone(), old), json!({"c": {"p": 1}}));
        let no_marker = json!({"c": {"p": {"value": 1, "ac": 200, "av": 4}}});
        assert_eq!(d(desired, no_marker), json!({"c": {"__t": "c"}}));
        // No version anywhere: an ac 200 is taken at its word.
        assert_eq!(
            d(json!({"p": 1}), json!({"p": {"value": 1, "ac": 200, "av": 0}})),
            json!({})
        );
    }

    #[test]
    fn acks_need_value_ac_and_av() {
        let desired = json!({"p": {"x": 1}, "$version": 2});
        assert_eq!(
            d(desired.clone(), json!({"p": {"ac": 200, "av": 2}})),
            json!({"p": {"x": 1}})
        );
        assert_eq!(
            d(desired.clone(), json!({"p": {"value": 0, "ac": 200, "av": 2.0}})),
            json!({})
        );
        assert_eq!(
            d(desired, json!({"p": {"value": 0, "ac": "200", "av": 2}})),
            json!({"p": {"x": 1}})
        );
    }

    #[test]
    fn refuses_bad_input() {
        assert_eq!(delta(&json!(1), &json!({})).unwrap_err().kind(), ErrorKind::NotAnObject);
        let mut deep = json!(1);
        for _ in 0..=MAX_NESTING + 1 {
            deep = json!([deep]);
        }
        let err = delta(&json!({}), &json!({ "a": deep })).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidJson);
    }

    #[test]
    fn ack_builders() {
        assert_eq!(
            writable_property_ack("p", json!({"a": 1}), 203, 0, None),
            json!({"p": {"value": {"a": 1}, "ac": 203, "av": 0}})
        );
        assert_eq!(
            component_property_ack("c", "p", json!(true), 500, 3, None),
            json!({"c": {"__t": "c", "p": {"value": true, "ac": 500, "av": 3}}})
        );
    }
}
