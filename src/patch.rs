//! The S2 merge, with or without metadata, and what it costs in size.

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};
use crate::limits::MAX_NESTING;
use crate::metadata::Stamp;
use crate::nesting::check_nesting;
use crate::size::{value_size, written_size};

/// Merges `patch` into `doc` by the twin rules of [S2](crate::semantics#s2-writes), on plain
/// JSON (no metadata, no counters, no limits).
///
/// A `null` member deletes, an object merges into an object (and otherwise becomes the value with
/// its `null` members dropped, enclosing objects kept even when empty), anything else (arrays
/// included) replaces. On valid twin bodies this agrees with RFC 7396.
///
/// Both `doc` and `patch` must be objects (`NotAnObject` otherwise); a patch nested deeper than
/// [`MAX_NESTING`](crate::MAX_NESTING) is `InvalidJson`. On error `doc` is unchanged.
///
/// ```
/// use serde_json::json;
/// let mut doc = json!({"a": {"b": 1, "c": 2}, "list": [1, 2]});
/// twindoc::merge(&mut doc, &json!({"a": {"b": null, "d": {"e": null}}, "list": [3]}))?;
/// assert_eq!(doc, json!({"a": {"c": 2, "d": {}}, "list": [3]}));
/// # Ok::<(), twindoc::Error>(())
/// ```
pub fn merge(doc: &mut Value, patch: &Value) -> Result<(), Error> {
    let Value::Object(patch_members) = patch else {
        return Err(Error::new(
            ErrorKind::NotAnObject,
            "",
            "the patch must be a JSON object",
        ));
    };
    check_nesting(patch, 0, MAX_NESTING)?;
    let Value::Object(target) = doc else {
        return Err(Error::new(
            ErrorKind::NotAnObject,
            "",
            "the document must be a JSON object",
        ));
    };
    merge_object(target, patch_members, None);
    Ok(())
}

/// Where a stamped merge writes metadata: the node mirroring the object being merged into.
pub(crate) struct Meta<'a> {
    pub(crate) node: &'a mut Map<String, Value>,
    pub(crate) stamp: &'a Stamp,
}

/// The S2 merge of `patch` into `target`; with `meta`, the S6 stamps along the way. Returns how
/// much the S4 size of `target` changed (the values it replaces are at hand, so the size costs
/// no lookups of its own).
///
/// `patch` must have passed the body checks: this cannot fail.
pub(crate) fn merge_object(
    target: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    mut meta: Option<Meta<'_>>,
) -> i128 {
    let mut change = 0;
    for (key, value) in patch {
        let key_bytes = key.len() as i128;
        match value {
            Value::Null => {
                if let Some(old) = target.shift_remove(key) {
                    change -= key_bytes + value_size(&old) as i128;
                }
                if let Some(meta) = meta.as_mut() {
                    meta.node.shift_remove(key);
                }
            }
            Value::Object(inner) => match target.get_mut(key) {
                Some(Value::Object(existing)) => {
                    // The node mirroring `existing`, re-stamped (made afresh when missing or
                    // malformed); found with one lookup in the usual case.
                    let child = match meta.as_mut() {
                        Some(m) => {
                            let node = match m.node.get_mut(key) {
                                Some(Value::Object(node)) => Some(node),
                                _ => m.stamp.fresh_child(m.node, key),
                            };
                            node.map(|node| {
                                m.stamp.restamp(node);
                                Meta { node, stamp: m.stamp }
                            })
                        }
                        None => None,
                    };
                    change += merge_object(existing, inner, child);
                }
                slot => {
                    let written = Value::Object(without_nulls(inner));
                    if let Some(meta) = meta.as_mut() {
                        meta.stamp.tree_at(meta.node, key, &written);
                    }
                    change += value_size(&written) as i128 - replaced_size(key_bytes, slot.as_deref());
                    match slot {
                        Some(slot) => *slot = written,
                        None => {
                            target.insert(key.clone(), written);
                        }
                    }
                }
            },
            leaf => {
                if let Some(meta) = meta.as_mut() {
                    meta.stamp.leaf_at(meta.node, key);
                }
                let slot = target.get_mut(key);
                change += value_size(leaf) as i128 - replaced_size(key_bytes, slot.as_deref());
                match slot {
                    Some(slot) => *slot = leaf.clone(),
                    None => {
                        target.insert(key.clone(), leaf.clone());
                    }
                }
            }
        }
    }
    change
}

/// The size a member being written takes back: its old value's, or, when it is new, minus its
/// key's.
fn replaced_size(key_bytes: i128, old: Option<&Value>) -> i128 {
    match old {
        Some(old) => value_size(old) as i128,
        None => -key_bytes,
    }
}

/// A copy of an object with its `null` members dropped, at any depth (arrays hold no nulls).
pub(crate) fn without_nulls(object: &Map<String, Value>) -> Map<String, Value> {
    // Most bodies hold no null below a written object: a plain copy keeps the hashed table.
    if !has_null_member(object) {
        return object.clone();
    }
    object
        .iter()
        .filter_map(|(k, v)| match v {
            Value::Null => None,
            Value::Object(inner) => Some((k.clone(), Value::Object(without_nulls(inner)))),
            other => Some((k.clone(), other.clone())),
        })
        .collect()
}

/// Whether an object has a `null` member at any depth (arrays are not searched).
fn has_null_member(object: &Map<String, Value>) -> bool {
    object.values().any(|v| match v {
        Value::Null => true,
        Value::Object(inner) => has_null_member(inner),
        _ => false,
    })
}

/// How much the S4 size of `target` changes when `patch` is merged into it, without merging.
// `doc::section::size_change` is this walk on the twin's own tree. One definition for both would
// need a trait over the two trees (member lookup, object, size): more code than the copy saves.
pub(crate) fn size_change(target: &Map<String, Value>, patch: &Map<String, Value>) -> i128 {
    patch
        .iter()
        .map(|(key, value)| {
            let key_bytes = key.len() as i128;
            match (value, target.get(key)) {
                (Value::Null, None) => 0,
                (Value::Null, Some(old)) => -(key_bytes + value_size(old) as i128),
                (Value::Object(inner), Some(Value::Object(old))) => size_change(old, inner),
                (new, Some(old)) => written_size(new) as i128 - value_size(old) as i128,
                (new, None) => key_bytes + written_size(new) as i128,
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merged(doc: Value, patch: Value) -> Value {
        let mut doc = doc;
        merge(&mut doc, &patch).unwrap();
        doc
    }

    #[test]
    fn nulls_delete_and_nested_nulls_are_dropped() {
        assert_eq!(merged(json!({"a": 1}), json!({"a": null, "b": null})), json!({}));
        assert_eq!(merged(json!({}), json!({"p1": {"p2": null}})), json!({"p1": {}}));
        assert_eq!(merged(json!({}), json!({"p1": null})), json!({}));
        assert_eq!(
            merged(json!({"a": {"x": 1}}), json!({"a": {"x": null}})),
            json!({"a": {}})
        );
    }

    #[test]
    fn arrays_and_types_are_replaced_whole() {
        assert_eq!(merged(json!({"a": [1, 2, 3]}), json!({"a": [4]})), json!({"a": [4]}));
        assert_eq!(
            merged(json!({"a": 1}), json!({"a": {"b": {"c": null}}})),
            json!({"a": {"b": {}}})
        );
        assert_eq!(merged(json!({"a": {"b": 1}}), json!({"a": "s"})), json!({"a": "s"}));
    }

    #[test]
    fn non_objects_are_refused_and_leave_the_document() {
        let mut doc = json!([1]);
        assert_eq!(
            merge(&mut doc, &json!({"a": 1})).unwrap_err().kind(),
            ErrorKind::NotAnObject
        );
        let mut doc = json!({"a": 1});
        assert_eq!(merge(&mut doc, &json!([1])).unwrap_err().kind(), ErrorKind::NotAnObject);
        assert_eq!(doc, json!({"a": 1}));
    }

    #[test]
    fn size_change_matches_recomputation() {
        let doc = json!({"a": {"b": "xyz", "c": [1, 2]}, "d": true});
        let patch = json!({"a": {"b": null, "c": "q", "e": {"f": null, "g": 1}}, "d": null, "h": {}});
        let before = value_size(&doc) as i128;
        let after = value_size(&merged(doc.clone(), patch.clone())) as i128;
        let change = size_change(doc.as_object().unwrap(), patch.as_object().unwrap());
        assert_eq!(before + change, after);
        let mut target = doc.as_object().unwrap().clone();
        let merged_change = merge_object(&mut target, patch.as_object().unwrap(), None);
        assert_eq!(before + merged_change, after);
    }
}
