//! `$metadata` trees ([S6](crate::semantics#s6-metadata)): which node a write stamps, and what
//! a stamp holds.

use std::cell::OnceCell;

use serde_json::{Map, Value};

use crate::names::{LAST_UPDATED, LAST_UPDATED_BY, LAST_UPDATED_BY_DIGEST, LAST_UPDATED_VERSION};
use crate::Timestamp;

/// Sets `map[key]`, allocating the key only when it is new.
pub(crate) fn set(map: &mut Map<String, Value>, key: &str, value: Value) {
    match map.get_mut(key) {
        Some(slot) => *slot = value,
        None => {
            map.insert(key.to_owned(), value);
        }
    }
}

/// Whether a metadata tree names a configuration anywhere (`$lastUpdatedBy` or
/// `$lastUpdatedByDigest`). The recursion is bounded by the twin's nesting check.
pub(crate) fn names_configurations(node: &Map<String, Value>) -> bool {
    node.iter().any(|(key, value)| {
        key == LAST_UPDATED_BY || key == LAST_UPDATED_BY_DIGEST || value.as_object().is_some_and(names_configurations)
    })
}

/// What one write stamps on the nodes it touches: its time and, in desired, the new `$version`.
pub(crate) struct Stamp {
    time: String,
    version: Option<u64>,
    /// Whether the section's metadata may hold `$lastUpdatedBy`/`$lastUpdatedByDigest`: when it
    /// cannot, a re-stamp need not look them up.
    names_configurations: bool,
    /// A fresh leaf node, built on first use: cloning it copies the hashed table instead of
    /// hashing its keys again for every node.
    leaf: OnceCell<Map<String, Value>>,
}

impl Stamp {
    pub(crate) fn new(time: Timestamp, version: Option<u64>, names_configurations: bool) -> Self {
        Stamp {
            time: time.to_string(),
            version,
            names_configurations,
            leaf: OnceCell::new(),
        }
    }

    /// A fresh node for a leaf (scalar or array) or an empty object.
    fn leaf(&self) -> Map<String, Value> {
        self.leaf
            .get_or_init(|| {
                let mut leaf = Map::with_capacity(2);
                leaf.insert(LAST_UPDATED.to_owned(), Value::String(self.time.clone()));
                if let Some(version) = self.version {
                    leaf.insert(LAST_UPDATED_VERSION.to_owned(), version.into());
                }
                leaf
            })
            .clone()
    }

    /// A fresh metadata tree for a value the write created: a node for it and, for an object,
    /// one for every member, recursively. Arrays get one node for the whole array.
    pub(crate) fn tree(&self, value: &Value) -> Value {
        Value::Object(match value {
            Value::Object(members) => self.object_tree(members),
            _ => self.leaf(),
        })
    }

    /// [`Stamp::tree`] of an object.
    pub(crate) fn object_tree(&self, members: &Map<String, Value>) -> Map<String, Value> {
        let mut node = self.leaf();
        for (key, child) in members {
            node.insert(key.clone(), self.tree(child));
        }
        node
    }

    /// Stamps an existing node in place: the time, the version (desired only), and drops what
    /// named the configuration that wrote it before. Its children are left as they are.
    pub(crate) fn restamp(&self, node: &mut Map<String, Value>) {
        // The engine writes a node's stamps first, in this order: overwrite them where they are,
        // without hashing their keys (the string keeps its buffer).
        let stamp_keys = 1 + usize::from(self.version.is_some());
        let mut in_place = 0;
        for (key, value) in node.iter_mut().take(stamp_keys) {
            match (in_place, key.as_str(), value) {
                (0, LAST_UPDATED, Value::String(time)) => {
                    time.clear();
                    time.push_str(&self.time);
                }
                (1, LAST_UPDATED_VERSION, value) => *value = self.version.into(),
                _ => break,
            }
            in_place += 1;
        }
        if in_place < stamp_keys {
            set(node, LAST_UPDATED, Value::String(self.time.clone()));
            if let Some(version) = self.version {
                set(node, LAST_UPDATED_VERSION, version.into());
            }
        }
        // A node holding only its stamps names no configuration.
        if self.names_configurations && node.len() > stamp_keys {
            node.shift_remove(LAST_UPDATED_BY);
            node.shift_remove(LAST_UPDATED_BY_DIGEST);
        }
    }

    /// Makes `parent`'s member `key` a stamped leaf node (the member is now a scalar or an
    /// array). An existing leaf node is re-stamped in place, which leaves it exactly as a fresh
    /// one would be, without building one.
    pub(crate) fn leaf_at(&self, parent: &mut Map<String, Value>, key: &str) {
        match parent.get_mut(key) {
            Some(Value::Object(node)) if node.keys().all(|k| self.is_leaf_key(k)) => self.restamp(node),
            Some(slot) => *slot = Value::Object(self.leaf()),
            None => {
                parent.insert(key.to_owned(), Value::Object(self.leaf()));
            }
        }
    }

    /// Makes `parent`'s member `key` the fresh tree of `value`, a value the write created.
    pub(crate) fn tree_at(&self, parent: &mut Map<String, Value>, key: &str, value: &Value) {
        match parent.get_mut(key) {
            Some(slot) => *slot = self.tree(value),
            None => {
                parent.insert(key.to_owned(), self.tree(value));
            }
        }
    }

    /// The members a leaf node may hold that a re-stamp sets or drops.
    fn is_leaf_key(&self, key: &str) -> bool {
        key == LAST_UPDATED
            || key == LAST_UPDATED_BY
            || key == LAST_UPDATED_BY_DIGEST
            || (key == LAST_UPDATED_VERSION && self.version.is_some())
    }

    /// A fresh node replacing (or added as) `parent`'s member `key`, when the node there is
    /// missing or malformed: the caller re-stamps it. (Always `Some`; an `Option` rather than a
    /// panic path.)
    pub(crate) fn fresh_child<'m>(
        &self,
        parent: &'m mut Map<String, Value>,
        key: &str,
    ) -> Option<&'m mut Map<String, Value>> {
        set(parent, key, Value::Object(Map::new()));
        parent.get_mut(key)?.as_object_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stamp(version: Option<u64>) -> Stamp {
        Stamp::new("2026-01-01T00:00:00Z".parse().unwrap(), version, true)
    }

    #[test]
    fn trees_mirror_objects_and_stop_at_arrays() {
        let tree = stamp(Some(4)).tree(&json!({"a": {"b": 1}, "c": [1, {"d": 2}]}));
        let t = json!({"$lastUpdated": "2026-01-01T00:00:00.0000000Z", "$lastUpdatedVersion": 4});
        let mut expected = t.clone();
        expected["a"] = t.clone();
        expected["a"]["b"] = t.clone();
        expected["c"] = t.clone();
        assert_eq!(tree, expected);
    }

    #[test]
    fn restamp_keeps_children_and_drops_configuration_names() {
        let mut node = json!({"$lastUpdated": "old", "$lastUpdatedBy": "cfg", "$lastUpdatedByDigest": "1", "x": {"$lastUpdated": "old"}});
        stamp(None).restamp(node.as_object_mut().unwrap());
        assert_eq!(
            node,
            json!({"$lastUpdated": "2026-01-01T00:00:00.0000000Z", "x": {"$lastUpdated": "old"}})
        );
    }

    #[test]
    fn restamp_sets_stamps_where_they_are_in_any_order_or_type() {
        let time = json!("2026-01-01T00:00:00.0000000Z");
        for (before, after) in [
            (
                json!({"x": {}, "$lastUpdatedVersion": 1, "$lastUpdated": "old"}),
                json!({"x": {}, "$lastUpdatedVersion": 4, "$lastUpdated": time}),
            ),
            (
                json!({"$lastUpdated": 5, "$lastUpdatedVersion": "x"}),
                json!({"$lastUpdated": time, "$lastUpdatedVersion": 4}),
            ),
            (
                json!({"$lastUpdated": "old", "y": 1}),
                json!({"$lastUpdated": time, "y": 1, "$lastUpdatedVersion": 4}),
            ),
            (json!({}), json!({"$lastUpdated": time, "$lastUpdatedVersion": 4})),
        ] {
            let mut node = before.clone();
            stamp(Some(4)).restamp(node.as_object_mut().unwrap());
            assert_eq!(
                serde_json::to_string(&node).unwrap(),
                serde_json::to_string(&after).unwrap(),
                "{before}"
            );
        }
    }

    #[test]
    fn configuration_names_are_found_at_any_depth() {
        let tree = json!({"$lastUpdated": "t", "a": {"$lastUpdated": "t", "b": {"$lastUpdatedByDigest": "1"}}});
        assert!(names_configurations(tree.as_object().unwrap()));
        let tree = json!({"$lastUpdated": "t", "a": {"$lastUpdated": "t", "b": {"c": [{"$lastUpdatedBy": "x"}]}}});
        assert!(!names_configurations(tree.as_object().unwrap()));
    }

    #[test]
    fn child_creates_missing_and_replaces_malformed_nodes() {
        let mut parent = json!({"bad": 3}).as_object().unwrap().clone();
        for key in ["bad", "new"] {
            let node = stamp(None).fresh_child(&mut parent, key).unwrap();
            stamp(None).restamp(node);
        }
        assert_eq!(parent["bad"], json!({"$lastUpdated": "2026-01-01T00:00:00.0000000Z"}));
        assert_eq!(parent["new"], parent["bad"]);
    }
}
