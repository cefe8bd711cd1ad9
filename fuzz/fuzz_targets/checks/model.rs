//! A twin as a plain `serde_json::Value` document, written the way S2, S5 and S6 of
//! `../../../docs/semantics.md` describe, independently of the engine: the model the compact
//! twin is compared with.
//!
//! It covers twins the engine made (`Twin::new` and accepted section writes), where every node
//! has its metadata; twins read from elsewhere keep shapes the engine decides about, which the
//! model does not guess. Only accepted writes are applied: the model does not validate.

use base64::Engine as _;
use serde_json::{Map, Value};
use twindoc::Section;

pub struct TwinModel {
    doc: Value,
}

impl TwinModel {
    /// The model of a twin, from the document of a twin the engine made.
    pub fn new(doc: Value) -> TwinModel {
        TwinModel { doc }
    }

    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// An accepted section write at `now` (the time as the twin writes it).
    pub fn write(&mut self, section: Section, replace: bool, body: &Value, now: &str) {
        let Value::Object(doc) = &mut self.doc else {
            panic!("the model holds an object");
        };
        let version = doc.get("version").and_then(Value::as_u64).expect("a twin version");
        doc.insert("version".into(), Value::from(version + 1));
        if section != Section::Reported {
            let etag = doc.get("etag").and_then(Value::as_str).expect("an etag");
            let bytes = base64::engine::general_purpose::STANDARD.decode(etag).expect("base64");
            let counter = u64::from_be_bytes(bytes.try_into().expect("8 bytes"));
            let next = base64::engine::general_purpose::STANDARD.encode((counter + 1).to_be_bytes());
            doc.insert("etag".into(), Value::String(next));
        }
        let body = body.as_object().expect("an accepted body is an object");
        if section == Section::Tags {
            let tags = doc.entry("tags").or_insert_with(|| Value::Object(Map::new()));
            if replace {
                *tags = without_nulls(&Value::Object(body.clone()));
            } else {
                json_patch::merge(tags, &Value::Object(body.clone()));
            }
            return;
        }
        let name = if section == Section::Desired {
            "desired"
        } else {
            "reported"
        };
        let part = doc
            .get_mut("properties")
            .and_then(|p| p.get_mut(name))
            .and_then(Value::as_object_mut)
            .expect("a properties section");
        let version = part.get("$version").and_then(Value::as_u64).expect("a $version") + 1;
        let stamp = Stamp {
            time: now,
            version: (section == Section::Desired).then_some(version),
        };
        let mut metadata = match part.shift_remove("$metadata") {
            Some(Value::Object(metadata)) => metadata,
            _ => panic!("a section the engine made has $metadata"),
        };
        part.shift_remove("$version");
        if replace {
            *part = match without_nulls(&Value::Object(body.clone())) {
                Value::Object(content) => content,
                _ => unreachable!("an object stays an object"),
            };
            metadata = stamp.fresh(&Value::Object(part.clone()));
        } else {
            stamp.patch(part, &mut metadata, body);
            stamp.apply(&mut metadata);
        }
        part.insert("$metadata".into(), Value::Object(metadata));
        part.insert("$version".into(), Value::from(version));
    }
}

/// A value with every `null` object member dropped, at any depth (S2: replace bodies, and
/// objects patched onto an absent or non-object member).
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

/// What S6 writes on every node a write touches.
struct Stamp<'t> {
    time: &'t str,
    version: Option<u64>,
}

impl Stamp<'_> {
    /// Stamps one metadata node: the write's time (and version, in desired); the configuration
    /// that last wrote it no longer did.
    fn apply(&self, node: &mut Map<String, Value>) {
        node.insert("$lastUpdated".into(), Value::from(self.time));
        if let Some(version) = self.version {
            node.insert("$lastUpdatedVersion".into(), Value::from(version));
        }
        node.shift_remove("$lastUpdatedBy");
        node.shift_remove("$lastUpdatedByDigest");
    }

    /// The metadata of newly written content: every object node and every leaf stamped.
    fn fresh(&self, value: &Value) -> Map<String, Value> {
        let mut node = Map::new();
        self.apply(&mut node);
        if let Value::Object(members) = value {
            for (key, child) in members {
                node.insert(key.clone(), Value::Object(self.fresh(child)));
            }
        }
        node
    }

    /// S2's patch of `content` by `body`, with S6 on `metadata` (the node of `content`). The
    /// caller stamps `metadata` itself.
    fn patch(&self, content: &mut Map<String, Value>, metadata: &mut Map<String, Value>, body: &Map<String, Value>) {
        for (key, value) in body {
            match (value, content.get_mut(key)) {
                (Value::Null, _) => {
                    content.shift_remove(key);
                    metadata.shift_remove(key);
                }
                (Value::Object(inner), Some(Value::Object(target))) => {
                    let node = metadata.entry(key.clone()).or_insert_with(|| Value::Object(Map::new()));
                    let Value::Object(node) = node else {
                        panic!("the metadata node of an object is an object");
                    };
                    self.patch(target, node, inner);
                    self.apply(node);
                }
                _ => {
                    let written = without_nulls(value);
                    metadata.insert(key.clone(), Value::Object(self.fresh(&written)));
                    content.insert(key.clone(), written);
                }
            }
        }
    }
}
