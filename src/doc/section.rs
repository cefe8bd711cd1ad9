//! The S2 merge on the compact tree, with the S6 stamps and the S4 size change along the way, and
//! the twin written out with its `$metadata` materialised from the stamps.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::node::{Member, Node, Object, StampId, NO_STAMP};
use super::stamps::{read_metadata, Metadata, Stamps};
use crate::names::{is_section_reserved, METADATA, VERSION};
use crate::size::written_size;

/// How a section's `$metadata` is held.
#[derive(Clone, Debug)]
pub(crate) enum MetadataForm {
    /// Tags: no metadata.
    None,
    /// On the members, as stamps; the `$metadata` member is a placeholder.
    Stamps(Stamps),
    /// As read, in the `$metadata` member (a twin whose metadata stamps cannot hold exactly).
    Inline,
}

/// Reads the metadata of a desired or reported section into stamps when it has their shape
/// (the `$metadata` tree is then dropped); otherwise leaves it inline.
pub(crate) fn compact(section: &mut Object, desired: bool) -> MetadataForm {
    let Some(member) = section.member_mut(METADATA) else {
        let has_content = section.iter().any(|(k, _)| !is_section_reserved(k));
        return match has_content {
            true => MetadataForm::Inline,
            false => MetadataForm::Stamps(Stamps::empty()),
        };
    };
    let tree = std::mem::replace(&mut member.value, Node::Null);
    let stamps = tree
        .as_object()
        .and_then(|metadata| read_metadata(section, metadata, desired));
    match stamps {
        Some(stamps) => MetadataForm::Stamps(stamps),
        None => {
            if let Some(member) = section.member_mut(METADATA) {
                member.value = tree;
            }
            MetadataForm::Inline
        }
    }
}

/// Merges `patch` into `target` (S2); every member the patch names, and every node it creates,
/// gets `stamp` (`NO_STAMP` in tags). Returns the change of `target`'s S4 size. `patch` must have
/// passed the body checks: this cannot fail.
pub(crate) fn merge(target: &mut Object, patch: &Map<String, Value>, stamp: StampId) -> i128 {
    let mut change = 0;
    for (key, value) in patch {
        let key_bytes = key.len() as i128;
        match value {
            Value::Null => {
                if let Some(old) = target.remove(key) {
                    change -= key_bytes + old.value.size() as i128;
                }
            }
            Value::Object(inner) => {
                if let Some(Member {
                    value: Node::Object(existing),
                    stamp: existing_stamp,
                    ..
                }) = target.member_mut(key)
                {
                    *existing_stamp = stamp;
                    change += merge(existing, inner, stamp);
                    continue;
                }
                let written = Node::object(Object::from_map(inner, stamp, true));
                change += written.size() as i128;
                set(target, key, written, stamp, &mut change, key_bytes);
            }
            leaf => {
                let written = Node::from_value(leaf, NO_STAMP, false);
                change += written.size() as i128;
                set(target, key, written, stamp, &mut change, key_bytes);
            }
        }
    }
    change
}

/// Writes `key`, taking the size of what it replaces off `change`.
fn set(target: &mut Object, key: &str, value: Node, stamp: StampId, change: &mut i128, key_bytes: i128) {
    match target.member_mut(key) {
        Some(member) => {
            *change -= member.value.size() as i128;
            member.value = value;
            member.stamp = stamp;
        }
        None => {
            *change += key_bytes;
            target.push(Member {
                key: key.into(),
                value,
                stamp,
            });
        }
    }
}

/// How much the S4 size of `target` changes when `patch` is merged into it, without merging.
// `patch::size_change` is this walk on `serde_json` values; see there why they are two.
pub(crate) fn size_change(target: Option<&Object>, patch: &Map<String, Value>) -> i128 {
    patch
        .iter()
        .map(|(key, value)| {
            let key_bytes = key.len() as i128;
            match (value, target.and_then(|t| t.get(key))) {
                (Value::Null, None) => 0,
                (Value::Null, Some(old)) => -(key_bytes + old.size() as i128),
                (Value::Object(inner), Some(Node::Object(old))) => size_change(Some(old), inner),
                (new, Some(old)) => written_size(new) as i128 - old.size() as i128,
                (new, None) => key_bytes + written_size(new) as i128,
            }
        })
        .sum()
}

/// The notification of a replace (S7): the new content plus `null` at every member the replace
/// removed, at any depth, so that merging it into the old content gives the new.
pub(crate) fn replace_notification(old: Option<&Object>, new: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in new {
        let entry = match (old.and_then(|o| o.get(key)), value) {
            (Some(Node::Object(before)), Value::Object(after)) => {
                Value::Object(replace_notification(Some(before), after))
            }
            _ => value.clone(),
        };
        out.insert(key.clone(), entry);
    }
    for (key, _) in old.into_iter().flat_map(Object::iter) {
        if !new.contains_key(key) && !is_section_reserved(key) {
            out.insert(key.to_owned(), Value::Null);
        }
    }
    out
}

/// Puts `$metadata` (a placeholder: the stamps hold it) and `$version` back after a write, as IoT
/// Hub shows them: where they are when they are the last two members, else moved to the end.
pub(crate) fn place_reserved(section: &mut Object, version: u64) {
    let version = Node::Number(version.into());
    {
        let mut last = section.members_mut().rev();
        if let (Some(v), Some(m)) = (last.next(), last.next()) {
            if &*v.key == VERSION && &*m.key == METADATA {
                v.value = version;
                return;
            }
        }
    }
    section.remove(METADATA);
    section.remove(VERSION);
    section.insert(METADATA, Node::Null, NO_STAMP);
    section.insert(VERSION, version, NO_STAMP);
}

/// A twin document written out: sections with stamps get their `$metadata` from them.
pub(crate) struct DocumentOut<'a> {
    pub(crate) doc: &'a Object,
    /// Desired's and reported's metadata forms.
    pub(crate) forms: [&'a MetadataForm; 2],
}

impl Serialize for DocumentOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.doc.len()))?;
        for (key, value) in self.doc.iter() {
            match (key, value) {
                ("properties", Node::Object(properties)) => map.serialize_entry(
                    key,
                    &PropertiesOut {
                        properties,
                        forms: self.forms,
                    },
                )?,
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

struct PropertiesOut<'a> {
    properties: &'a Object,
    forms: [&'a MetadataForm; 2],
}

impl Serialize for PropertiesOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.properties.len()))?;
        for (key, value) in self.properties.iter() {
            let form = match key {
                "desired" => Some(self.forms[0]),
                "reported" => Some(self.forms[1]),
                _ => None,
            };
            match (form, value) {
                (Some(form), Node::Object(section)) => map.serialize_entry(key, &SectionOut { section, form })?,
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

/// A desired or reported section written out.
pub(crate) struct SectionOut<'a> {
    pub(crate) section: &'a Object,
    pub(crate) form: &'a MetadataForm,
}

impl SectionOut<'_> {
    /// The section's `$metadata` tree, written out when it is held as stamps.
    pub(crate) fn metadata(&self) -> Option<MetadataOut<'_>> {
        let node = self.section.get(METADATA)?;
        Some(match self.form {
            MetadataForm::Stamps(stamps) => MetadataOut::Stamps(Metadata {
                stamps,
                stamp: stamps.root,
                content: Some(self.section),
                root: true,
            }),
            _ => MetadataOut::Inline(node),
        })
    }
}

impl Serialize for SectionOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.section.len()))?;
        for (key, value) in self.section.iter() {
            match self.metadata().filter(|_| key == METADATA) {
                Some(metadata) => map.serialize_entry(key, &metadata)?,
                None => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

/// A section's `$metadata`, from stamps or as read.
pub(crate) enum MetadataOut<'a> {
    Stamps(Metadata<'a>),
    Inline(&'a Node),
}

impl MetadataOut<'_> {
    pub(crate) fn to_value(&self) -> Value {
        match self {
            MetadataOut::Stamps(metadata) => metadata.to_value(),
            MetadataOut::Inline(node) => node.to_value(),
        }
    }
}

impl Serialize for MetadataOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            MetadataOut::Stamps(metadata) => metadata.serialize(serializer),
            MetadataOut::Inline(node) => node.serialize(serializer),
        }
    }
}
