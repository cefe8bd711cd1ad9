//! The compact JSON tree a twin is held in: boxed strings and slices instead of `String`s and
//! hashed maps, objects searched in order (and through a small position index once they are
//! large), and on every object member the metadata stamp that describes it.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

/// A member's metadata stamp: an index into its section's stamp table, or [`NO_STAMP`].
pub(crate) type StampId = u32;

/// The stamp of a member that has no metadata node (tags, array contents, plain sections).
pub(crate) const NO_STAMP: StampId = u32::MAX;

/// One JSON value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    /// serde_json's number: an integer literal stays an integer, `1.0` stays a float.
    Number(Number),
    String(Box<str>),
    Array(Box<[Node]>),
    Object(Box<Object>),
}

/// An object member: its key, its value and the stamp of its metadata node.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Member {
    pub(crate) key: Box<str>,
    pub(crate) value: Node,
    pub(crate) stamp: StampId,
}

/// Objects with more members than this get a position index; smaller ones are searched in order,
/// which is faster than hashing their few keys.
const INDEXED_FROM: usize = 12;

/// An empty slot of an object's index.
const EMPTY: u32 = u32::MAX;
/// A slot of an object's index whose member was removed (searches go on past it).
const REMOVED: u32 = u32::MAX - 1;

/// An object: members in document order, keys unique.
///
/// A small object is a plain vector searched in order. A large one also has an open-addressed
/// index of member positions by key hash, and a removed member leaves a hole (`None`) instead of
/// shifting the members after it, so that a removal costs the same in an object of 10 members or
/// 10,000; holes are squeezed out once they are as many as half the members.
#[derive(Clone, Debug, Default)]
pub(crate) struct Object {
    slots: Vec<Option<Member>>,
    /// `None` while the object is small (most are: a small object pays one pointer for it).
    index: Option<Box<Index>>,
}

/// A large object's index.
#[derive(Clone, Debug)]
struct Index {
    /// How many slots are holes.
    holes: usize,
    /// Positions in `slots` by key hash (`EMPTY`, `REMOVED` or a position).
    table: Vec<u32>,
}

impl PartialEq for Object {
    fn eq(&self, other: &Object) -> bool {
        self.members().eq(other.members())
    }
}

/// FNV-1a over the key's bytes: fixed (the engine reads no randomness), and cheap for the short
/// keys twins hold. Collisions only cost probes: keys are always compared.
fn hash(key: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_bytes() {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    // FNV's low bits depend only on the low bits of the bytes: a finaliser (MurmurHash3's) mixes
    // every byte into the bits that pick a slot.
    h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    (h ^ (h >> 33)) as usize
}

impl Object {
    pub(crate) fn new() -> Object {
        Object::default()
    }

    pub(crate) fn with_capacity(capacity: usize) -> Object {
        Object {
            slots: Vec::with_capacity(capacity),
            index: None,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len() - self.index.as_ref().map_or(0, |index| index.holes)
    }

    /// The members, in order.
    pub(crate) fn members(&self) -> impl DoubleEndedIterator<Item = &Member> {
        self.slots.iter().flatten()
    }

    pub(crate) fn members_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut Member> {
        self.slots.iter_mut().flatten()
    }

    /// The slot of `key`.
    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            None => self
                .slots
                .iter()
                .position(|m| m.as_ref().is_some_and(|m| &*m.key == key)),
            Some(index) => self.index_slot(key).map(|slot| index.table[slot] as usize),
        }
    }

    /// The index slot holding `key`'s position.
    fn index_slot(&self, key: &str) -> Option<usize> {
        let table = &self.index.as_ref()?.table;
        let mask = table.len() - 1;
        let mut slot = hash(key) & mask;
        loop {
            match table[slot] {
                EMPTY => return None,
                REMOVED => {}
                at => {
                    if self
                        .slots
                        .get(at as usize)
                        .is_some_and(|m| m.as_ref().is_some_and(|m| &*m.key == key))
                    {
                        return Some(slot);
                    }
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    pub(crate) fn member(&self, key: &str) -> Option<&Member> {
        self.position(key).and_then(|at| self.slots.get(at)?.as_ref())
    }

    pub(crate) fn member_mut(&mut self, key: &str) -> Option<&mut Member> {
        self.position(key).and_then(|at| self.slots.get_mut(at)?.as_mut())
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.member(key).map(|m| &m.value)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.member_mut(key).map(|m| &mut m.value)
    }

    /// Appends a member whose key the object does not hold.
    pub(crate) fn push(&mut self, member: Member) {
        self.slots.push(Some(member));
        match &self.index {
            None if self.slots.len() <= INDEXED_FROM => {}
            Some(index) if self.slots.len() * 2 <= index.table.len() => self.index_insert(self.slots.len() - 1),
            _ => self.reindex(),
        }
    }

    /// Sets `key` to `value` where it is, or appends it; the member's stamp is `stamp`.
    /// A key given boxed (as a reader holds it) is moved in, not copied.
    pub(crate) fn insert<K: AsRef<str> + Into<Box<str>>>(&mut self, key: K, value: Node, stamp: StampId) {
        match self.member_mut(key.as_ref()) {
            Some(member) => {
                member.value = value;
                member.stamp = stamp;
            }
            None => self.push(Member {
                key: key.into(),
                value,
                stamp,
            }),
        }
    }

    /// The value of `key`, added as `null` when absent.
    pub(crate) fn entry(&mut self, key: &str) -> &mut Node {
        let at = match self.position(key) {
            Some(at) => at,
            None => {
                self.push(Member {
                    key: key.into(),
                    value: Node::Null,
                    stamp: NO_STAMP,
                });
                self.slots.len() - 1
            }
        };
        // A position found or just pushed holds a member: the closure never runs.
        let member = self.slots[at].get_or_insert_with(|| Member {
            key: key.into(),
            value: Node::Null,
            stamp: NO_STAMP,
        });
        &mut member.value
    }

    /// Inserts a member whose key the object does not hold before the `at`-th member.
    pub(crate) fn insert_at(&mut self, at: usize, key: &str, value: Node) {
        self.squeeze();
        let member = Member {
            key: key.into(),
            value,
            stamp: NO_STAMP,
        };
        self.slots.insert(at.min(self.slots.len()), Some(member));
        self.reindex();
    }

    /// The position among the members (holes not counted) of `key`.
    pub(crate) fn index_of(&self, key: &str) -> Option<usize> {
        self.members().position(|m| &*m.key == key)
    }

    /// Removes `key`; the members after it keep their order.
    pub(crate) fn remove(&mut self, key: &str) -> Option<Member> {
        if self.index.is_none() {
            let at = self.position(key)?;
            return self.slots.remove(at);
        }
        let slot = self.index_slot(key)?;
        let index = self.index.as_mut()?;
        let at = index.table[slot] as usize;
        index.table[slot] = REMOVED;
        index.holes += 1;
        let holes = index.holes;
        let member = self.slots.get_mut(at)?.take();
        if holes * 2 > self.slots.len() {
            self.reindex();
        }
        member
    }

    fn index_insert(&mut self, at: usize) {
        let (Some(index), Some(Some(member))) = (self.index.as_mut(), self.slots.get(at)) else {
            return;
        };
        let mask = index.table.len() - 1;
        let mut slot = hash(&member.key) & mask;
        // The key is not in the index: the first slot left by a removal may take it, so that a
        // key removed and added again, over and over, does not lengthen its probe run.
        while !matches!(index.table[slot], EMPTY | REMOVED) {
            slot = (slot + 1) & mask;
        }
        index.table[slot] = at as u32;
    }

    /// Drops the holes.
    fn squeeze(&mut self) {
        if let Some(index) = self.index.as_mut().filter(|index| index.holes > 0) {
            self.slots.retain(Option::is_some);
            index.holes = 0;
        }
    }

    /// Drops the holes and rebuilds the index for the members (none while the object is small).
    fn reindex(&mut self) {
        self.squeeze();
        if self.slots.len() <= INDEXED_FROM {
            self.index = None;
            return;
        }
        // At most a third full when rebuilt, so that at least half as many pushes as there are
        // members come before the next rebuild.
        let size = (self.slots.len() * 3).next_power_of_two();
        self.index = Some(Box::new(Index {
            holes: 0,
            table: vec![EMPTY; size],
        }));
        for at in 0..self.slots.len() {
            self.index_insert(at);
        }
    }

    /// Frees spare capacity (after a parse, whose vectors grow by doubling).
    pub(crate) fn shrink(&mut self) {
        self.slots.shrink_to_fit();
    }

    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &Node)> {
        self.members().map(|m| (&*m.key, &m.value))
    }
}

impl Node {
    pub(crate) fn as_object(&self) -> Option<&Object> {
        match self {
            Node::Object(object) => Some(object),
            _ => None,
        }
    }

    pub(crate) fn as_object_mut(&mut self) -> Option<&mut Object> {
        match self {
            Node::Object(object) => Some(object),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Node::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// This node as an object, made an empty one first when it is not an object.
    pub(crate) fn make_object(&mut self) -> &mut Object {
        match self {
            Node::Object(object) => object,
            other => {
                *other = Node::object(Object::new());
                other.make_object()
            }
        }
    }

    pub(crate) fn object(object: Object) -> Node {
        Node::Object(Box::new(object))
    }

    /// The S4 size: strings their UTF-8 bytes, numbers 8, booleans 4, objects their keys' bytes
    /// plus their values' sizes, arrays their elements' sizes, `null` 0.
    // `size::value_size` is the same formula on `serde_json` values.
    pub(crate) fn size(&self) -> u64 {
        match self {
            Node::Null => 0,
            Node::Bool(_) => 4,
            Node::Number(_) => 8,
            Node::String(s) => s.len() as u64,
            Node::Array(items) => items.iter().map(Node::size).sum(),
            Node::Object(object) => object.iter().map(|(k, v)| k.len() as u64 + v.size()).sum(),
        }
    }

    /// The node of a JSON value; object members get `stamp`, members inside arrays none. With
    /// `drop_nulls`, `null` object members are left out at any depth (S2's written values).
    pub(crate) fn from_value(value: &Value, stamp: StampId, drop_nulls: bool) -> Node {
        match value {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(n.clone()),
            Value::String(s) => Node::String(s.as_str().into()),
            Value::Array(items) => Node::Array(
                items
                    .iter()
                    .map(|item| Node::from_value(item, NO_STAMP, drop_nulls))
                    .collect(),
            ),
            Value::Object(map) => Node::object(Object::from_map(map, stamp, drop_nulls)),
        }
    }

    /// The JSON value of this node (metadata stamps are not part of it).
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(s) => Value::String(s.to_string()),
            Node::Array(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            Node::Object(object) => Value::Object(object.to_map()),
        }
    }
}

impl Object {
    /// See [`Node::from_value`].
    pub(crate) fn from_map(map: &Map<String, Value>, stamp: StampId, drop_nulls: bool) -> Object {
        let mut object = Object::with_capacity(map.len());
        for (key, value) in map {
            if drop_nulls && value.is_null() {
                continue;
            }
            object.push(Member {
                key: key.as_str().into(),
                value: Node::from_value(value, stamp, drop_nulls),
                stamp,
            });
        }
        object
    }

    pub(crate) fn to_map(&self) -> Map<String, Value> {
        self.iter().map(|(k, v)| (k.to_owned(), v.to_value())).collect()
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => serializer.serialize_unit(),
            Node::Bool(b) => serializer.serialize_bool(*b),
            Node::Number(n) => n.serialize(serializer),
            Node::String(s) => serializer.serialize_str(s),
            Node::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Object(object) => object.serialize(serializer),
        }
    }
}

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self.iter() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// Reads JSON straight into nodes, without a `serde_json::Value` in between. A repeated key keeps
/// its first position and its last value, as `serde_json::Value` (with `preserve_order`) does.
impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Node, E> {
        Ok(Node::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Node, E> {
        Ok(Node::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Node, E> {
        Ok(Node::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Node, E> {
        Number::from_f64(n)
            .map(Node::Number)
            .ok_or_else(|| E::custom("a number must be finite"))
    }

    fn visit_str<E>(self, s: &str) -> Result<Node, E> {
        Ok(Node::String(s.into()))
    }

    fn visit_string<E>(self, s: String) -> Result<Node, E> {
        Ok(Node::String(s.into_boxed_str()))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items.into_boxed_slice()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut object = Object::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(key) = map.next_key_seed(KeySeed)? {
            // A repeated member: the last one counts, in the first one's place.
            let value: Node = map.next_value()?;
            object.insert(key, value, NO_STAMP);
        }
        object.shrink();
        Ok(Node::object(object))
    }
}

/// A key read as a boxed string (borrowed from the text when it holds no escapes).
pub(crate) struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Box<str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Box<str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Box<str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E>(self, s: &str) -> Result<Box<str>, E> {
        Ok(s.into())
    }

    fn visit_string<E>(self, s: String) -> Result<Box<str>, E> {
        Ok(s.into_boxed_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_prints_as_serde_json_does() {
        for text in [
            r#"{"a":1,"b":1.0,"c":-3,"d":1e2,"e":[1,{"x":null}],"f":"\u00e9\n","g":true,"a":2}"#,
            r#"{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k3":33}"#,
            "18446744073709551615",
        ] {
            let node: Node = serde_json::from_str(text).unwrap();
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&node).unwrap(), value.to_string(), "{text}");
            assert_eq!(node.to_value(), value);
        }
    }

    #[test]
    fn large_objects_find_every_key_after_inserts_and_removals() {
        let mut object = Object::new();
        for i in 0..100 {
            object.insert(format!("k{i}").as_str(), Node::Number(i.into()), NO_STAMP);
        }
        for i in (0..100).step_by(3) {
            assert!(object.remove(&format!("k{i}")).is_some());
        }
        for i in 0..100 {
            let found = object.get(&format!("k{i}")).and_then(Node::as_u64);
            assert_eq!(found, (i % 3 != 0).then_some(i), "k{i}");
        }
        let keys: Vec<&str> = object.iter().map(|(k, _)| k).take(3).collect();
        assert_eq!(keys, ["k1", "k2", "k4"]);
        assert!(object.get("absent").is_none());
    }

    proptest::proptest! {
        /// Inserts and removals keep the members in order and every key findable, whether the
        /// object is searched in order or through its index.
        #[test]
        fn objects_behave_as_ordered_maps(ops in proptest::collection::vec((0u8..40, proptest::bool::ANY), 0..400)) {
            let mut object = Object::new();
            let mut model: Vec<(String, u64)> = Vec::new();
            for (i, (key, insert)) in ops.into_iter().enumerate() {
                let key = format!("k{key}");
                if insert {
                    object.insert(key.as_str(), Node::Number((i as u64).into()), NO_STAMP);
                    match model.iter_mut().find(|(k, _)| *k == key) {
                        Some(slot) => slot.1 = i as u64,
                        None => model.push((key, i as u64)),
                    }
                } else {
                    let removed = object.remove(&key).and_then(|m| m.value.as_u64());
                    let at = model.iter().position(|(k, _)| *k == key);
                    proptest::prop_assert_eq!(removed, at.map(|at| model.remove(at).1));
                }
                let members: Vec<(String, u64)> = object.iter().map(|(k, v)| (k.to_owned(), v.as_u64().unwrap())).collect();
                proptest::prop_assert_eq!(&members, &model);
                for n in 0..40 {
                    let key = format!("k{n}");
                    let expected = model.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
                    proptest::prop_assert_eq!(object.get(&key).and_then(Node::as_u64), expected);
                }
            }
        }
    }

    #[test]
    fn sizes_follow_s4() {
        let value = json!({"ab": "xyz", "n": 1, "t": true, "o": {"k": [1, "ab"]}, "z": null});
        let node = Node::from_value(&value, NO_STAMP, false);
        assert_eq!(node.size(), 2 + 3 + 1 + 8 + 1 + 4 + 1 + 1 + 8 + 2 + 1);
        let written = Node::from_value(&value, NO_STAMP, true);
        assert!(written.as_object().unwrap().get("z").is_none());
    }
}
