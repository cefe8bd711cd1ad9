//! The merge patch and the JSON Patch between two documents
//! ([S9](crate::semantics#s9-diff-and-delta)).

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, Patch, PatchOperation, RemoveOperation, ReplaceOperation};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::names::is_section_reserved;
use crate::nesting::object_pair;
use crate::patch::without_nulls;

/// The smallest merge patch `P` that turns `old` into `new`
/// ([S9](crate::semantics#s9-diff-and-delta)): [`merge`](crate::merge)`(old, P)` gives exactly
/// `new`.
///
/// `P` names only what changed: a member absent from `new` is `null`, an object that is an object
/// on both sides is diffed recursively, and anything else that differs (scalars, arrays, a change
/// of type) is the value of `new`, whole. Values compare exactly (`1` and `1.0` differ, arrays
/// element by element and in order), since the patch must reproduce `new` to the letter. Equal
/// documents give `{}`.
///
/// `$metadata` and `$version` members **at the root** of either side are ignored, so a twin
/// section can be passed as stored; merging `P` leaves them as they are in `old`. Below the root
/// they are ordinary members.
///
/// # Inputs that a merge patch cannot express
///
/// - Both sides must be objects (a merge patch is an object): `NotAnObject` otherwise.
/// - An object nested deeper than [`MAX_NESTING`](crate::MAX_NESTING) is `InvalidJson`.
/// - A `null` member cannot be the *result* of a merge (merging `null` deletes, and nested `null`s
///   are dropped), so valid twin content has none. Decision: a `null` member of `new` is taken as
///   absent, and `P` leads to `new` with its `null` members removed (at any depth outside arrays);
///   a `null` member of `old` is an ordinary member, deleted when `new` lacks it, and unchanged
///   when `new` has `null` there too (as identity fields like `x509Thumbprint` do). Arrays are
///   copied whole, `null`s inside them included.
///
/// ```
/// use serde_json::json;
/// let old = json!({"a": 1, "b": {"c": 1, "d": 2}, "list": [1, 2], "$version": 4});
/// let new = json!({"a": 1, "b": {"c": 5}, "list": [1, 2, 3], "e": {}, "$version": 5});
/// let patch = twindoc::diff(&old, &new)?;
/// assert_eq!(patch, json!({"b": {"c": 5, "d": null}, "list": [1, 2, 3], "e": {}}));
///
/// let mut doc = old.clone();
/// twindoc::merge(&mut doc, &patch)?;
/// assert_eq!(doc, json!({"a": 1, "b": {"c": 5}, "list": [1, 2, 3], "e": {}, "$version": 4}));
/// assert_eq!(twindoc::diff(&new, &new)?, json!({}));
/// # Ok::<(), twindoc::Error>(())
/// ```
pub fn diff(old: &Value, new: &Value) -> Result<Value, Error> {
    let (old, new) = object_pair(old, new, "both sides of a diff")?;
    Ok(Value::Object(diff_maps(old, new, true)))
}

/// The same change as [`diff`], as an RFC 6902 JSON Patch: applying it to `old` with
/// [`json_patch::patch`] gives `new`.
///
/// Each member that [`diff`] would name becomes one operation, with an RFC 6901 pointer from the
/// root: `remove` for a deleted member, `add` for a new one, `replace` for a changed one. Arrays
/// and changes of type are replaced whole (unlike `json_patch::diff`, which works element by
/// element), objects on both sides are walked recursively, and root `$metadata` / `$version` are
/// ignored. Operations come in document order: the members of `new` first, then the deletions.
/// The inputs are checked, and `null` members of `new` taken as absent, as for [`diff`].
///
/// ```
/// use serde_json::json;
/// let old = json!({"a": {"b": 1, "gone": true}, "list": [1, 2], "$version": 4});
/// let new = json!({"a": {"b": 2}, "list": [2], "n/k": "x", "$version": 5});
/// let patch = twindoc::diff_json_patch(&old, &new)?;
/// assert_eq!(
///     serde_json::to_value(&patch).unwrap(),
///     json!([
///         {"op": "replace", "path": "/a/b", "value": 2},
///         {"op": "remove", "path": "/a/gone"},
///         {"op": "replace", "path": "/list", "value": [2]},
///         {"op": "add", "path": "/n~1k", "value": "x"},
///     ])
/// );
/// let mut doc = old.clone();
/// json_patch::patch(&mut doc, &patch).unwrap();
/// assert_eq!(doc, json!({"a": {"b": 2}, "list": [2], "n/k": "x", "$version": 4}));
/// # Ok::<(), twindoc::Error>(())
/// ```
pub fn diff_json_patch(old: &Value, new: &Value) -> Result<Patch, Error> {
    let (old, new) = object_pair(old, new, "both sides of a diff")?;
    let mut ops = Vec::new();
    json_patch_ops(old, new, true, &mut Vec::new(), &mut ops);
    Ok(Patch(ops))
}

/// The merge patch from `old` to `new`; with `root`, the section-root `$metadata` and `$version`
/// are skipped. Recursion follows the objects of `new`, so its depth is bounded by the inputs'.
pub(crate) fn diff_maps(old: &Map<String, Value>, new: &Map<String, Value>, root: bool) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, after) in new {
        if (root && is_section_reserved(key)) || after.is_null() {
            continue;
        }
        match (old.get(key), after) {
            (Some(Value::Object(before)), Value::Object(after)) => {
                let inner = diff_maps(before, after, false);
                if !inner.is_empty() {
                    out.insert(key.clone(), Value::Object(inner));
                }
            }
            (Some(before), after) if before == after => {}
            (_, Value::Object(after)) => {
                out.insert(key.clone(), Value::Object(without_nulls(after)));
            }
            (_, after) => {
                out.insert(key.clone(), after.clone());
            }
        }
    }
    for (key, before) in old {
        if !(root && is_section_reserved(key)) && removed(before, new.get(key)) {
            out.insert(key.clone(), Value::Null);
        }
    }
    out
}

/// Whether a member of `old` must be deleted: `new` lacks it, or has `null` (absent) where `old`
/// has a value. A `null` on both sides is no change: merging nothing keeps it, as `new` has it.
fn removed(before: &Value, after: Option<&Value>) -> bool {
    match after {
        None => true,
        Some(after) => after.is_null() && !before.is_null(),
    }
}

/// The JSON Patch operations of [`diff_maps`], `path` being the tokens of the object walked.
fn json_patch_ops<'a>(
    old: &'a Map<String, Value>,
    new: &'a Map<String, Value>,
    root: bool,
    path: &mut Vec<&'a str>,
    out: &mut Vec<PatchOperation>,
) {
    let pointer = |path: &[&str], key: &str| PointerBuf::from_tokens(path.iter().copied().chain(std::iter::once(key)));
    for (key, after) in new {
        if (root && is_section_reserved(key)) || after.is_null() {
            continue;
        }
        let value = || match after {
            Value::Object(map) => Value::Object(without_nulls(map)),
            other => other.clone(),
        };
        match (old.get(key), after) {
            (Some(Value::Object(before)), Value::Object(after)) => {
                path.push(key);
                json_patch_ops(before, after, false, path, out);
                path.pop();
            }
            (Some(before), after) if before == after => {}
            (Some(_), _) => out.push(PatchOperation::Replace(ReplaceOperation {
                path: pointer(path, key),
                value: value(),
            })),
            (None, _) => out.push(PatchOperation::Add(AddOperation {
                path: pointer(path, key),
                value: value(),
            })),
        }
    }
    for (key, before) in old {
        if !(root && is_section_reserved(key)) && removed(before, new.get(key)) {
            out.push(PatchOperation::Remove(RemoveOperation {
                path: pointer(path, key),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, MAX_NESTING};
    use serde_json::json;

    fn round_trip(old: Value, new: Value) -> Value {
        let patch = diff(&old, &new).unwrap();
        let mut merged = old.clone();
        crate::merge(&mut merged, &patch).unwrap();
        assert_eq!(merged, new, "merge patch {patch}");
        let ops = diff_json_patch(&old, &new).unwrap();
        let mut patched = old;
        json_patch::patch(&mut patched, &ops).unwrap();
        assert_eq!(patched, new, "json patch {ops}");
        patch
    }

    #[test]
    fn a_null_on_both_sides_is_no_change() {
        let old = json!({"x509": {"primary": null, "secondary": null}, "a": null, "b": 1});
        let new = json!({"x509": {"primary": null, "secondary": null}, "a": null, "b": null});
        assert_eq!(diff(&old, &new).unwrap(), json!({"b": null}));
        assert_eq!(diff_json_patch(&old, &new).unwrap().len(), 1);
        assert_eq!(diff(&old, &old).unwrap(), json!({}));
    }

    #[test]
    fn only_changes_are_named() {
        assert_eq!(
            round_trip(json!({"a": 1, "b": 2}), json!({"a": 1, "b": 3})),
            json!({"b": 3})
        );
        assert_eq!(round_trip(json!({"a": 1}), json!({})), json!({"a": null}));
        assert_eq!(
            round_trip(json!({"a": {"b": {"c": 1}}}), json!({"a": {"b": {"c": 1}}})),
            json!({})
        );
        assert_eq!(
            round_trip(json!({"a": {"b": 1, "c": 2}}), json!({"a": {"b": 1}})),
            json!({"a": {"c": null}})
        );
    }

    #[test]
    fn arrays_and_numbers_compare_exactly() {
        assert_eq!(
            round_trip(json!({"a": [1, 2]}), json!({"a": [2, 1]})),
            json!({"a": [2, 1]})
        );
        assert_eq!(round_trip(json!({"a": 1}), json!({"a": 1.0})), json!({"a": 1.0}));
        assert_eq!(round_trip(json!({"a": [1]}), json!({"a": [1]})), json!({}));
    }

    #[test]
    fn type_changes_are_whole() {
        assert_eq!(round_trip(json!({"k": 1}), json!({"k": {}})), json!({"k": {}}));
        assert_eq!(
            round_trip(json!({"k": [1]}), json!({"k": {"a": {"b": 1}}})),
            json!({"k": {"a": {"b": 1}}})
        );
        assert_eq!(round_trip(json!({"k": {"a": 1}}), json!({"k": "s"})), json!({"k": "s"}));
        assert_eq!(
            round_trip(json!({"k": {"a": 1}}), json!({"k": {}})),
            json!({"k": {"a": null}})
        );
        assert_eq!(round_trip(json!({}), json!({"k": {}})), json!({"k": {}}));
    }

    #[test]
    fn root_reserved_members_are_ignored_only_at_the_root() {
        let old = json!({"a": 1, "$version": 3, "$metadata": {"a": {}}, "o": {"$version": 1}});
        let new = json!({"a": 1, "$version": 4, "o": {"$version": 2}});
        assert_eq!(diff(&old, &new).unwrap(), json!({"o": {"$version": 2}}));
        let ops = diff_json_patch(&old, &new).unwrap();
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].path().as_str(), "/o/$version");
    }

    #[test]
    fn nulls_in_new_are_absent() {
        assert_eq!(diff(&json!({"a": 1}), &json!({"a": null})).unwrap(), json!({"a": null}));
        assert_eq!(diff(&json!({}), &json!({"a": null})).unwrap(), json!({}));
        assert_eq!(diff(&json!({"a": null}), &json!({})).unwrap(), json!({"a": null}));
        assert_eq!(
            diff(&json!({}), &json!({"a": {"b": null, "c": [null]}})).unwrap(),
            json!({"a": {"c": [null]}})
        );
        let ops = diff_json_patch(&json!({"a": null}), &json!({"b": {"c": null}})).unwrap();
        assert_eq!(
            serde_json::to_value(&ops).unwrap(),
            json!([{"op": "add", "path": "/b", "value": {}}, {"op": "remove", "path": "/a"}])
        );
    }

    #[test]
    fn escapes_pointer_tokens() {
        let ops = diff_json_patch(&json!({"a/b": {"~": 1}}), &json!({"a/b": {"~": 2}, "": 0})).unwrap();
        let paths: Vec<_> = ops.iter().map(|op| op.path().as_str().to_string()).collect();
        assert_eq!(paths, ["/a~1b/~0", "/"]);
        round_trip(json!({"a/b": {"~": 1}}), json!({"a/b": {"~": 2}, "": 0}));
    }

    #[test]
    fn refuses_non_objects_and_deep_input() {
        assert_eq!(
            diff(&json!([1]), &json!({})).unwrap_err().kind(),
            ErrorKind::NotAnObject
        );
        assert_eq!(diff(&json!({}), &json!(1)).unwrap_err().kind(), ErrorKind::NotAnObject);
        let mut deep = json!({});
        for _ in 0..=MAX_NESTING + 1 {
            deep = json!({ "a": deep });
        }
        assert_eq!(diff(&json!({}), &deep).unwrap_err().kind(), ErrorKind::InvalidJson);
        assert_eq!(
            diff_json_patch(&deep, &json!({})).unwrap_err().kind(),
            ErrorKind::InvalidJson
        );
    }
}
