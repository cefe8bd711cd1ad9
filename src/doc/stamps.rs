//! `$metadata` kept out of the document tree (S6): every member of a desired or reported section
//! refers to a stamp (`$lastUpdated`, `$lastUpdatedVersion`, `$lastUpdatedBy`,
//! `$lastUpdatedByDigest`) in its section's table, and the metadata tree is written out from the
//! content and those references only when the twin is printed.
//!
//! A write adds one stamp to the table and points every node it touches at it; a twin read from
//! IoT Hub shares one stamp among all the nodes of each write it went through. A section whose
//! metadata this shape cannot hold exactly (a member without a node, a node for an absent member,
//! nodes in another order than their members, unknown members in a node, stamps of another type or
//! order) keeps its `$metadata` tree as it was read instead: see `super::section`.

use std::collections::HashMap;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::node::{Member, Node, Object, StampId, NO_STAMP};
use crate::names::{is_section_reserved, LAST_UPDATED, LAST_UPDATED_BY, LAST_UPDATED_BY_DIGEST, LAST_UPDATED_VERSION};

/// What a metadata node holds besides its children, written in this order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Stamp {
    pub(crate) time: Option<Time>,
    pub(crate) version: Option<u64>,
    /// `$lastUpdatedBy` and `$lastUpdatedByDigest`, which only a twin read from IoT Hub holds.
    pub(crate) configuration: Option<Box<Configuration>>,
}

/// The configuration that last wrote a node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Configuration {
    pub(crate) by: Option<Box<str>>,
    pub(crate) digest: Option<Box<str>>,
}

/// A `$lastUpdated` value: the S6 text of a time the engine wrote, kept inline (a write allocates
/// nothing for it), or whatever string a twin arrived with, kept as it was.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Time {
    Written([u8; 28]),
    Read(Box<str>),
}

impl Time {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            // The text of a `Timestamp` is ASCII.
            Time::Written(text) => std::str::from_utf8(text).unwrap_or_default(),
            Time::Read(text) => text,
        }
    }
}

/// One section's stamps and the stamp of its root node.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stamps {
    entries: Vec<Stamp>,
    /// The root `$metadata` node's stamp (`NO_STAMP` while the section has no `$metadata`).
    pub(crate) root: StampId,
    /// Entries past this count trigger a collection of the ones no node refers to any more.
    collect_at: usize,
}

/// A section's table is never collected below this many entries.
const MIN_COLLECT_AT: usize = 64;

impl Stamps {
    pub(crate) fn empty() -> Stamps {
        Stamps {
            entries: Vec::new(),
            root: NO_STAMP,
            collect_at: MIN_COLLECT_AT,
        }
    }

    pub(crate) fn get(&self, id: StampId) -> Option<&Stamp> {
        self.entries.get(id as usize)
    }

    /// How many stamps the table holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds the stamp of a write, collecting unreferenced stamps first when the table has grown
    /// (so that a twin written a million times holds as many stamps as it has distinct ones).
    pub(crate) fn add(&mut self, stamp: Stamp, content: &mut Object) -> StampId {
        if self.entries.len() >= self.collect_at {
            self.collect(content);
        }
        self.entries.push(stamp);
        (self.entries.len() - 1) as StampId
    }

    /// Keeps only the stamps that a node refers to, renumbered. The next collection comes after
    /// as many new stamps as there are live ones, or a quarter of the nodes walked, so that its
    /// walk costs a write at most four node visits on average (a stamp is 48 bytes), and unreferenced stamps never outweigh the
    /// metadata they replaced.
    fn collect(&mut self, content: &mut Object) {
        let mut renumbered = vec![NO_STAMP; self.entries.len()];
        let mut kept = Vec::new();
        let mut nodes = 0;
        let mut keep = |id: &mut StampId| {
            nodes += 1;
            if let Some(slot) = renumbered.get_mut(*id as usize) {
                if *slot == NO_STAMP {
                    *slot = kept.len() as StampId;
                    kept.push(std::mem::take(&mut self.entries[*id as usize]));
                }
                *id = *slot;
            }
        };
        keep(&mut self.root);
        visit_stamps(content, &mut keep);
        self.entries = kept;
        self.collect_at = (self.entries.len() * 2).max(nodes / 4).max(MIN_COLLECT_AT);
    }
}

/// Calls `f` on the stamp of every member of `object` that has metadata, at any depth.
fn visit_stamps(object: &mut Object, f: &mut impl FnMut(&mut StampId)) {
    for member in object.members_mut() {
        if member.stamp != NO_STAMP {
            f(&mut member.stamp);
            if let Node::Object(inner) = &mut member.value {
                visit_stamps(inner, f);
            }
        }
    }
}

/// Turns a section's `$metadata` tree into stamps on its members, when the tree has exactly the
/// shape that [`Metadata`] writes back (see the module docs). On success the members carry their
/// stamps and the tree can be dropped; on `None` nothing is to be relied on.
pub(crate) fn read_metadata(content: &mut Object, metadata: &Object, desired: bool) -> Option<Stamps> {
    let mut interner = Interner::default();
    let root = read_node(&mut interner, metadata, Some(content), true, desired)?;
    Some(interner.finish(root))
}

/// Reads one node: its stamp, then (for an object member) one child node per member, in member
/// order. Returns the node's stamp.
fn read_node(
    interner: &mut Interner,
    node: &Object,
    content: Option<&mut Object>,
    root: bool,
    desired: bool,
) -> Option<StampId> {
    let mut members = node.members().peekable();
    let empty = members.peek().is_none();
    let mut stamp = StampText::default();
    if let Some(m) = members.next_if(|m| &*m.key == LAST_UPDATED) {
        stamp.time = Some(m.value.as_str()?);
    }
    if let Some(m) = members.next_if(|m| &*m.key == LAST_UPDATED_VERSION) {
        stamp.version = Some(m.value.as_u64()?);
    }
    if let Some(m) = members.next_if(|m| &*m.key == LAST_UPDATED_BY) {
        stamp.by = Some(m.value.as_str()?);
    }
    if let Some(m) = members.next_if(|m| &*m.key == LAST_UPDATED_BY_DIGEST) {
        stamp.digest = Some(m.value.as_str()?);
    }
    if !stamp.admissible(empty, members.peek().is_some(), desired) {
        return None;
    }
    let mut content_members = content
        .into_iter()
        .flat_map(|c| c.members_mut())
        .filter(|m| !(root && is_section_reserved(&m.key)));
    for child in members {
        let member = content_members.next()?;
        if member.key != child.key {
            return None;
        }
        let child_node = child.value.as_object()?;
        member.stamp = match &mut member.value {
            Node::Object(inner) => read_node(interner, child_node, Some(&mut **inner), false, desired)?,
            _ => read_node(interner, child_node, None, false, desired)?,
        };
    }
    // Every member has a node.
    if content_members.next().is_some() {
        return None;
    }
    Some(interner.intern(&stamp))
}

/// A node's stamp as read, before it is interned.
#[derive(Default)]
pub(crate) struct StampText<'a> {
    pub(crate) time: Option<&'a str>,
    pub(crate) version: Option<u64>,
    pub(crate) by: Option<&'a str>,
    pub(crate) digest: Option<&'a str>,
}

impl StampText<'_> {
    /// Whether a node with this stamp (`empty`: nothing else either; `has_children`: member
    /// nodes after it) is held exactly as a stamp: a re-stamp writes `$lastUpdatedVersion` in
    /// desired only, and a node's missing stamps after its children, so a node is held as a stamp
    /// only where a re-stamp leaves it in the shape it is written back in.
    pub(crate) fn admissible(&self, empty: bool, has_children: bool, desired: bool) -> bool {
        if self.version.is_some() != desired && (self.version.is_some() || has_children) {
            return false;
        }
        self.time.is_some() || empty
    }
}

/// FNV-1a as a `Hasher`, for the tables built while a twin is read: fixed (the engine reads no
/// randomness) and fast on short keys.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

/// Builds a section's stamp table while its metadata is read: equal stamps are stored once, and a
/// stamp already seen costs no allocation.
#[derive(Default)]
pub(crate) struct Interner {
    times: FnvMap<Box<str>, u32>,
    plain: FnvMap<(u32, Option<u64>), StampId>,
    configured: FnvMap<Stamp, StampId>,
    entries: Vec<Stamp>,
}

impl Interner {
    pub(crate) fn intern(&mut self, text: &StampText<'_>) -> StampId {
        if text.by.is_some() || text.digest.is_some() {
            let stamp = Stamp {
                time: text.time.map(|t| Time::Read(t.into())),
                version: text.version,
                configuration: Some(Box::new(Configuration {
                    by: text.by.map(Into::into),
                    digest: text.digest.map(Into::into),
                })),
            };
            if let Some(id) = self.configured.get(&stamp) {
                return *id;
            }
            let id = self.entries.len() as StampId;
            self.entries.push(stamp.clone());
            self.configured.insert(stamp, id);
            return id;
        }
        let time = match text.time {
            None => u32::MAX,
            Some(time) => match self.times.get(time) {
                Some(id) => *id,
                None => {
                    let id = self.times.len() as u32;
                    self.times.insert(time.into(), id);
                    id
                }
            },
        };
        let entries = &mut self.entries;
        *self.plain.entry((time, text.version)).or_insert_with(|| {
            entries.push(Stamp {
                time: text.time.map(|t| Time::Read(t.into())),
                version: text.version,
                configuration: None,
            });
            (entries.len() - 1) as StampId
        })
    }

    /// The section's table, its root node stamped `root`.
    pub(crate) fn finish(self, root: StampId) -> Stamps {
        Stamps {
            collect_at: (self.entries.len() * 2).max(MIN_COLLECT_AT),
            entries: self.entries,
            root,
        }
    }
}

/// The `$metadata` tree of a section, written out from its members' stamps.
pub(crate) struct Metadata<'a> {
    pub(crate) stamps: &'a Stamps,
    pub(crate) stamp: StampId,
    /// The members the node mirrors (`None` for a leaf).
    pub(crate) content: Option<&'a Object>,
    /// Whether `content` is a section root, whose `$metadata` and `$version` have no node.
    pub(crate) root: bool,
}

impl Metadata<'_> {
    fn children(&self) -> impl Iterator<Item = &Member> {
        let root = self.root;
        self.content
            .into_iter()
            .flat_map(Object::members)
            .filter(move |m| m.stamp != NO_STAMP && !(root && is_section_reserved(&m.key)))
    }

    pub(crate) fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl Serialize for Metadata<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let stamp = self.stamps.get(self.stamp);
        let mut map = serializer.serialize_map(None)?;
        if let Some(stamp) = stamp {
            if let Some(time) = &stamp.time {
                map.serialize_entry(LAST_UPDATED, time.as_str())?;
            }
            if let Some(version) = stamp.version {
                map.serialize_entry(LAST_UPDATED_VERSION, &version)?;
            }
            if let Some(configuration) = &stamp.configuration {
                if let Some(by) = &configuration.by {
                    map.serialize_entry(LAST_UPDATED_BY, by)?;
                }
                if let Some(digest) = &configuration.digest {
                    map.serialize_entry(LAST_UPDATED_BY_DIGEST, digest)?;
                }
            }
        }
        for member in self.children() {
            let child = Metadata {
                stamps: self.stamps,
                stamp: member.stamp,
                content: member.value.as_object(),
                root: false,
            };
            map.serialize_entry(&*member.key, &child)?;
        }
        map.end()
    }
}
