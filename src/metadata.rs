//! `$metadata` trees (SEMANTICS.md S6): which node a write stamps, and what a stamp holds.

use serde_json::{Map, Value};

use crate::Timestamp;

pub(crate) const LAST_UPDATED: &str = "$lastUpdated";
pub(crate) const LAST_UPDATED_VERSION: &str = "$lastUpdatedVersion";
/// Name the configuration that last wrote a node: no longer true once the engine re-stamps it.
const LAST_UPDATED_BY: &str = "$lastUpdatedBy";
const LAST_UPDATED_BY_DIGEST: &str = "$lastUpdatedByDigest";

/// What one write stamps on the nodes it touches: its time and, in desired, the new `$version`.
pub(crate) struct Stamp {
    time: Value,
    version: Option<Value>,
}

impl Stamp {
    pub(crate) fn new(time: Timestamp, version: Option<u64>) -> Self {
        Stamp {
            time: Value::String(time.to_string()),
            version: version.map(Value::from),
        }
    }

    /// A fresh node for a leaf (scalar or array) or an empty object.
    fn leaf(&self) -> Map<String, Value> {
        let mut node = Map::new();
        node.insert(LAST_UPDATED.to_owned(), self.time.clone());
        if let Some(version) = &self.version {
            node.insert(LAST_UPDATED_VERSION.to_owned(), version.clone());
        }
        node
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
        node.insert(LAST_UPDATED.to_owned(), self.time.clone());
        if let Some(version) = &self.version {
            node.insert(LAST_UPDATED_VERSION.to_owned(), version.clone());
        }
        node.shift_remove(LAST_UPDATED_BY);
        node.shift_remove(LAST_UPDATED_BY_DIGEST);
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
