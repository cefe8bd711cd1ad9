//! The [S4](crate::semantics#s4-size) size formula on `serde_json` values: what a section's
//! content weighs against its size limit. The twin's own tree has it as `Node::size` (in `doc::node`).

use serde_json::{Map, Value};

/// The S4 size of a value: strings their UTF-8 bytes, numbers 8, booleans 4, objects the sum of
/// key bytes plus value sizes, arrays the sum of their elements. `null` counts 0.
pub(crate) fn value_size(value: &Value) -> u64 {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 4,
        Value::Number(_) => 8,
        Value::String(s) => s.len() as u64,
        Value::Array(items) => items.iter().map(value_size).sum(),
        Value::Object(map) => map.iter().map(|(k, v)| k.len() as u64 + value_size(v)).sum(),
    }
}

/// The S4 size of a section's content members.
pub(crate) fn members_size<'a>(members: impl Iterator<Item = (&'a String, &'a Value)>) -> u64 {
    members.map(|(k, v)| k.len() as u64 + value_size(v)).sum()
}

/// The size a value has once written: `null` members of objects dropped, at any depth.
pub(crate) fn written_size(value: &Value) -> u64 {
    match value {
        Value::Object(map) => written_object_size(map),
        other => value_size(other),
    }
}

/// [`written_size`] of an object's members.
pub(crate) fn written_object_size(map: &Map<String, Value>) -> u64 {
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| k.len() as u64 + written_size(v))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::is_section_reserved;
    use serde_json::json;

    #[test]
    fn size_follows_s4() {
        let v = json!({"ab": "héllo", "n": 1.5, "t": true, "o": {"k": [1, "xy", false]}, "$version": 3});
        // ab: 2+6, n: 1+8, t: 1+4, o: 1 + (k: 1 + 8+2+4); $version excluded.
        let members = v.as_object().unwrap().iter().filter(|(k, _)| !is_section_reserved(k));
        assert_eq!(members_size(members), 8 + 9 + 5 + 16);
        assert_eq!(written_size(&json!({"a": null, "b": {"c": null, "d": 1}})), 1 + 1 + 8);
    }
}
