//! `$metadata` trees (SEMANTICS.md S6): which node a write stamps, and what a stamp holds.

use serde_json::{Map, Value};

use crate::Timestamp;

pub(crate) const LAST_UPDATED: &str = "$lastUpdated";
pub(crate) const LAST_UPDATED_VERSION: &str = "$lastUpdatedVersion";
/// Name the configuration that last wrote a node: no longer true once the engine re-stamps it.
const LAST_UPDATED_BY: &str = "$lastUpdatedBy";
const LAST_UPDATED_BY_DIGEST: &str = "$lastUpdatedByDigest";

/// Sets `map[key]`, allocating the key only when it is new.
pub(crate) fn set(map: &mut Map<String, Value>, key: &str, value: Value) {
    match map.get_mut(key) {
        Some(slot) => *slot = value,
        None => {
            map.insert(key.to_owned(), value);
        }
    }
}

/// What one write stamps on the nodes it touches: its time and, in desired, the new `$version`.
pub(crate) struct Stamp {
    time: Value,
    version: Option<Value>,
    /// A fresh leaf node, built once per write: cloning it copies the hashed table instead of
    /// hashing its keys again for every node.
    leaf: Map<String, Value>,
}

impl Stamp {
    pub(crate) fn new(time: Timestamp, version: Option<u64>) -> Self {
        let time = Value::String(time.to_string());
        let version = version.map(Value::from);
        let mut leaf = Map::with_capacity(2);
        leaf.insert(LAST_UPDATED.to_owned(), time.clone());
        if let Some(version) = &version {
            leaf.insert(LAST_UPDATED_VERSION.to_owned(), version.clone());
        }
        Stamp { time, version, leaf }
    }

    /// A fresh node for a leaf (scalar or array) or an empty object.
    fn leaf(&self) -> Map<String, Value> {
        self.leaf.clone()
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
        set(node, LAST_UPDATED, self.time.clone());
        let mut stamp_keys = 1;
        if let Some(version) = &self.version {
            set(node, LAST_UPDATED_VERSION, version.clone());
            stamp_keys += 1;
        }
        // A node holding only its stamps names no configuration: skip the two lookups.
        if node.len() > stamp_keys {
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

    /// The node of `parent`'s member `key`, re-stamped; created when missing or malformed.
    /// (Always `Some`; an `Option` rather than a panic path.)
    pub(crate) fn child<'m>(
        &self,
        parent: &'m mut Map<String, Value>,
        key: &str,
    ) -> Option<&'m mut Map<String, Value>> {
        if !matches!(parent.get(key), Some(Value::Object(_))) {
            parent.insert(key.to_owned(), Value::Object(Map::new()));
        }
        let node = parent.get_mut(key)?.as_object_mut()?;
        self.restamp(node);
        Some(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stamp(version: Option<u64>) -> Stamp {
        Stamp::new("2026-01-01T00:00:00Z".parse().unwrap(), version)
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
    fn child_creates_missing_and_replaces_malformed_nodes() {
        let mut parent = json!({"bad": 3}).as_object().unwrap().clone();
        stamp(None).child(&mut parent, "bad");
        stamp(None).child(&mut parent, "new");
        assert_eq!(parent["bad"], json!({"$lastUpdated": "2026-01-01T00:00:00.0000000Z"}));
        assert_eq!(parent["new"], parent["bad"]);
    }
}
