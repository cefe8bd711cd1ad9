//! JSON text read straight into a twin's compact form: the content into nodes, and each
//! section's `$metadata` into stamps on the members it describes, matched member by member as the
//! text goes by, without building the metadata tree.
//!
//! This path takes the text as IoT Hub and the engine write it. Where the text has a shape it
//! cannot hold exactly (the document is not an object; a key repeated in the document, its
//! `properties` or a section; content after a section's `$metadata`; metadata stamps cannot hold;
//! metadata nested beyond the engine's bound; malformed text), it answers `None` and the caller
//! reads the text the general way, which keeps every such shape as it was (or reports the error).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::node::{KeySeed, Member, Node, Object, StampId, NO_STAMP};
use super::section::MetadataForm;
use super::stamps::Stamps;
use super::stamps::{Interner, StampText};
use crate::limits::MAX_NESTING;
use crate::names::{
    is_section_reserved, LAST_UPDATED, LAST_UPDATED_BY, LAST_UPDATED_BY_DIGEST, LAST_UPDATED_VERSION, METADATA, VERSION,
};

/// A document read by the fast path: its tree, and desired's and reported's metadata forms.
pub(crate) struct Read {
    pub(crate) doc: Object,
    pub(crate) forms: [MetadataForm; 2],
}

/// Reads `text` by the fast path, or `None` when only the general path reads it exactly.
pub(crate) fn read(text: &str) -> Option<Read> {
    let mut state = State {
        exact: true,
        forms: [None, None],
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let doc = OnlyMap(DocumentMap { state: &mut state })
        .deserialize(&mut deserializer)
        .ok()??;
    deserializer.end().ok()?;
    if !state.exact {
        return None;
    }
    let [desired, reported] = state.forms;
    let or_empty = |form: Option<MetadataForm>| form.unwrap_or(MetadataForm::Stamps(Stamps::empty()));
    Some(Read {
        doc,
        forms: [or_empty(desired), or_empty(reported)],
    })
}

struct State {
    /// Cleared as soon as the text has a shape this path does not hold exactly.
    exact: bool,
    forms: [Option<MetadataForm>; 2],
}

/// A seed that reads a map (through `S`) and skips anything else, answering `None` for it.
struct OnlyMap<S>(S);

trait MapSeed<'de> {
    type Output;
    fn map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Output, A::Error>;
}

impl<'de, S: MapSeed<'de>> DeserializeSeed<'de> for OnlyMap<S> {
    type Value = Option<S::Output>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// The visits of a seed that takes one kind of value: every other kind is read past and answers
/// `None`.
macro_rules! others_are_none {
    () => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    };
}

macro_rules! not_a_string {
    () => {
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}

macro_rules! not_a_map {
    () => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    };
}

macro_rules! not_a_u64 {
    () => {
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}

impl<'de, S: MapSeed<'de>> Visitor<'de> for OnlyMap<S> {
    type Value = Option<S::Output>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.map(map).map(Some)
    }

    others_are_none!();
    not_a_string!();
    not_a_u64!();
}

/// A string value, borrowed from the text when it holds no escapes.
struct OnlyStr;

impl<'de> DeserializeSeed<'de> for OnlyStr {
    type Value = Option<Cow<'de, str>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for OnlyStr {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(s.to_owned())))
    }

    others_are_none!();
    not_a_map!();
    not_a_u64!();
}

/// A non-negative integer literal (what `$lastUpdatedVersion` holds).
struct OnlyU64;

impl<'de> DeserializeSeed<'de> for OnlyU64 {
    type Value = Option<u64>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for OnlyU64 {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer")
    }

    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Some(n))
    }

    others_are_none!();
    not_a_map!();
    not_a_string!();
}

struct DocumentMap<'s> {
    state: &'s mut State,
}

impl<'de> MapSeed<'de> for DocumentMap<'_> {
    type Output = Object;

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object, A::Error> {
        let mut doc = Object::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = match &*key {
                "properties" => match map.next_value_seed(OnlyMap(PropertiesMap { state: self.state }))? {
                    Some(properties) => Node::object(properties),
                    None => {
                        self.state.exact = false;
                        Node::Null
                    }
                },
                _ => map.next_value::<Node>()?,
            };
            push(&mut doc, key, value, self.state);
        }
        doc.shrink();
        Ok(doc)
    }
}

/// Appends a member; a repeated key is left to the general path (which keeps the first position
/// and the last value, as `serde_json` does).
fn push(object: &mut Object, key: Box<str>, value: Node, state: &mut State) {
    if object.contains_key(&key) {
        state.exact = false;
        return;
    }
    object.push(Member {
        key,
        value,
        stamp: NO_STAMP,
    });
}

struct PropertiesMap<'s> {
    state: &'s mut State,
}

impl<'de> MapSeed<'de> for PropertiesMap<'_> {
    type Output = Object;

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object, A::Error> {
        let mut properties = Object::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let slot = match &*key {
                "desired" => Some(0),
                "reported" => Some(1),
                _ => None,
            };
            let value = match slot {
                Some(slot) => {
                    let section = SectionMap { desired: slot == 0 };
                    match map.next_value_seed(OnlyMap(section))? {
                        Some((section, form)) => {
                            self.state.exact &= form.is_some() && self.state.forms[slot].is_none();
                            self.state.forms[slot] = form;
                            Node::object(section)
                        }
                        None => {
                            self.state.exact = false;
                            Node::Null
                        }
                    }
                }
                None => map.next_value::<Node>()?,
            };
            push(&mut properties, key, value, self.state);
        }
        properties.shrink();
        Ok(properties)
    }
}

struct SectionMap {
    desired: bool,
}

impl<'de> MapSeed<'de> for SectionMap {
    /// The section, and its metadata form (`None` when this path cannot hold it).
    type Output = (Object, Option<MetadataForm>);

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Output, A::Error> {
        let mut section = Object::new();
        let mut exact = true;
        let mut stamps = None;
        let mut metadata_seen = false;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            exact &= !section.contains_key(&key) && (!metadata_seen || &*key == VERSION);
            if &*key == METADATA && exact {
                let mut interner = Interner::default();
                let root = NodeMap {
                    interner: &mut interner,
                    content: Some(&mut section),
                    root: true,
                    desired: self.desired,
                    depth: 3,
                };
                match map.next_value_seed(OnlyMap(root))?.flatten() {
                    Some(root) => stamps = Some(interner.finish(root)),
                    None => exact = false,
                }
                metadata_seen = true;
                section.push(Member {
                    key,
                    value: Node::Null,
                    stamp: NO_STAMP,
                });
                continue;
            }
            let value = map.next_value::<Node>()?;
            if exact {
                section.push(Member {
                    key,
                    value,
                    stamp: NO_STAMP,
                });
            }
        }
        section.shrink();
        let form = match stamps {
            _ if !exact => None,
            Some(stamps) => Some(MetadataForm::Stamps(stamps)),
            // No `$metadata`: stamps hold an empty section; content without metadata stays inline.
            None if section.iter().all(|(k, _)| is_section_reserved(k)) => Some(MetadataForm::Stamps(Stamps::empty())),
            None => Some(MetadataForm::Inline),
        };
        Ok((section, form))
    }
}

/// One metadata node, read against the members it describes (`content`, `None` for a leaf):
/// its stamp, then one child node per member, in member order. Answers the node's stamp, or
/// `None` when stamps cannot hold the node exactly (see `super::stamps`).
struct NodeMap<'a> {
    interner: &'a mut Interner,
    content: Option<&'a mut Object>,
    root: bool,
    desired: bool,
    /// The depth of this node in the document (the document itself being 0).
    depth: usize,
}

impl<'de> MapSeed<'de> for NodeMap<'_> {
    type Output = Option<StampId>;

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<StampId>, A::Error> {
        // The general path reports metadata nested beyond the engine's bound, as it does content.
        let mut matched = self.depth <= MAX_NESTING + 3;
        let (mut time, mut version, mut by, mut digest) = (None, None, None, None);
        let mut stage = 0;
        let mut empty = true;
        let mut has_children = false;
        let root = self.root;
        let interner = self.interner;
        let mut members = self
            .content
            .into_iter()
            .flat_map(|c| c.members_mut())
            .filter(|m| !(root && is_section_reserved(&m.key)));
        while let Some(key) = map.next_key_seed(CowKey)? {
            empty = false;
            if !matched {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            // The stamps come first, in this order, each at most once; any other key is a child.
            match (stage, &*key) {
                (0, LAST_UPDATED) => {
                    stage = 1;
                    time = map.next_value_seed(OnlyStr)?;
                    matched = time.is_some();
                }
                (0..=1, LAST_UPDATED_VERSION) => {
                    stage = 2;
                    version = map.next_value_seed(OnlyU64)?;
                    matched = version.is_some();
                }
                (0..=2, LAST_UPDATED_BY) => {
                    stage = 3;
                    by = map.next_value_seed(OnlyStr)?;
                    matched = by.is_some();
                }
                (0..=3, LAST_UPDATED_BY_DIGEST) => {
                    stage = 4;
                    digest = map.next_value_seed(OnlyStr)?;
                    matched = digest.is_some();
                }
                _ => {
                    stage = 4;
                    has_children = true;
                    match members.next().filter(|m| *m.key == *key) {
                        Some(member) => {
                            let child = NodeMap {
                                interner: &mut *interner,
                                content: member.value.as_object_mut(),
                                root: false,
                                desired: self.desired,
                                depth: self.depth + 1,
                            };
                            match map.next_value_seed(OnlyMap(child))?.flatten() {
                                Some(stamp) => member.stamp = stamp,
                                None => matched = false,
                            }
                        }
                        None => {
                            matched = false;
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
            }
        }
        // Every member has a node.
        if !matched || members.next().is_some() {
            return Ok(None);
        }
        let stamp = StampText {
            time: time.as_deref(),
            version,
            by: by.as_deref(),
            digest: digest.as_deref(),
        };
        if !stamp.admissible(empty, has_children, self.desired) {
            return Ok(None);
        }
        Ok(Some(interner.intern(&stamp)))
    }
}

/// A key, borrowed from the text when it holds no escapes.
struct CowKey;

impl<'de> DeserializeSeed<'de> for CowKey {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for CowKey {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(s))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
}
