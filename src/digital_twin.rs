//! The IoT Plug and Play digital twin of a twin: its view, its change events and the Update
//! Digital Twin operation ([S14](crate::semantics#s14-the-iot-plug-and-play-digital-twin)).

use std::collections::HashMap;
use std::io;

use json_patch::jsonptr::PointerBuf;
use json_patch::{
    AddOperation, CopyOperation, MoveOperation, Patch, PatchOperation, RemoveOperation, ReplaceOperation, TestOperation,
};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};
use crate::events::EventProperties;
use crate::limits::MAX_NESTING;
use crate::names::{LAST_UPDATED, LAST_UPDATED_VERSION, METADATA};
use crate::nesting::check_nesting;
use crate::pointer::{escape_pointer_token, unescape_pointer_token};
use crate::{Section, Twin, WriteOptions, WriteOutcome};

/// The member of a view naming the digital twin (the `deviceId`).
const DT_ID: &str = "$dtId";
/// The component marker of a desired or reported object (S8).
const COMPONENT_MARKER: &str = "__t";

/// The digital twin change event of a write
/// ([S14](crate::semantics#s14-the-iot-plug-and-play-digital-twin)): the RFC 6902 operations that
/// turn the digital twin before the write into the one after, and the event's properties.
///
/// It serializes as `{"properties": {...}, "body": [operations]}`.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitalTwinEvent {
    /// The event's properties: those of the write's change event, with
    /// `iothub-message-schema: "digitalTwinChangeNotification"` and `opType: "updateTwin"`
    /// (the operations always update the digital twin, even when the write replaced a section).
    pub properties: EventProperties,
    /// The operations, members visited in sorted key order; applying them to the view before
    /// (with [`json_patch::patch`]) gives the view after.
    pub operations: Patch,
}

impl DigitalTwinEvent {
    /// The event for a change from view `before` to `after`, or `None` when they are equal.
    pub(crate) fn between(before: &Value, after: &Value, properties: &EventProperties) -> Option<Self> {
        let operations = digital_twin_change(before, after);
        (!operations.is_empty()).then(|| DigitalTwinEvent {
            properties: EventProperties {
                message_schema: "digitalTwinChangeNotification",
                op_type: "updateTwin",
                ..properties.clone()
            },
            operations: Patch(operations),
        })
    }

    /// The event as a JSON value.
    pub fn to_value(&self) -> Value {
        // String keys and JSON values always serialise.
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The event as compact JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Writes the event's compact JSON text to `writer`.
    pub fn write_json<W: io::Write>(&self, writer: W) -> io::Result<()> {
        serde_json::to_writer(writer, self).map_err(io::Error::from)
    }
}

impl Serialize for DigitalTwinEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("properties", &self.properties)?;
        map.serialize_entry("body", &self.operations)?;
        map.end()
    }
}

/// The RFC 6902 operations that turn digital twin `before` into `after` (S14): members visited
/// in sorted key order (Unicode code points), a member only in `after` as one `add` of its whole
/// value, a member only in `before` as `remove`, objects on both sides walked, any other value
/// that differs as `replace` (arrays whole). Equal views give none. (`json_patch::diff` orders
/// and groups its operations its own way.) The views are a twin's, so their depth is bounded.
pub(crate) fn digital_twin_change(before: &Value, after: &Value) -> Vec<PatchOperation> {
    let mut out = Vec::new();
    match (before, after) {
        (Value::Object(before), Value::Object(after)) => walk(before, after, &mut Vec::new(), &mut out),
        _ if before != after => out.push(PatchOperation::Replace(ReplaceOperation {
            path: PointerBuf::new(),
            value: after.clone(),
        })),
        _ => {}
    }
    out
}

fn walk<'v>(
    before: &'v Map<String, Value>,
    after: &'v Map<String, Value>,
    path: &mut Vec<&'v str>,
    out: &mut Vec<PatchOperation>,
) {
    let mut keys: Vec<&str> = before.keys().chain(after.keys()).map(String::as_str).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let pointer = |path: &[&str]| PointerBuf::from_tokens(path.iter().copied().chain(std::iter::once(key)));
        match (before.get(key), after.get(key)) {
            (Some(_), None) => out.push(PatchOperation::Remove(RemoveOperation { path: pointer(path) })),
            (None, Some(value)) => out.push(PatchOperation::Add(AddOperation {
                path: pointer(path),
                value: value.clone(),
            })),
            (Some(Value::Object(b)), Some(Value::Object(a))) if path.len() < MAX_NESTING => {
                path.push(key);
                walk(b, a, path, out);
                path.pop();
            }
            (Some(b), Some(a)) if b != a => out.push(PatchOperation::Replace(ReplaceOperation {
                path: pointer(path),
                value: a.clone(),
            })),
            _ => {}
        }
    }
}

/// A reported value that is a writable property's acknowledgement, for the view: an object with
/// `value` and `ac`, and nothing but `value`, `ac`, `av` and `ad`.
fn acknowledgement(value: &Value) -> Option<&Map<String, Value>> {
    let object = value.as_object()?;
    let only_ack = object
        .keys()
        .all(|k| matches!(k.as_str(), "value" | "ac" | "av" | "ad"));
    (only_ack && object.contains_key("value") && object.contains_key("ac")).then_some(object)
}

fn is_component(value: Option<&Value>) -> bool {
    value
        .and_then(Value::as_object)
        .is_some_and(|object| object.get(COMPONENT_MARKER).and_then(Value::as_str) == Some("c"))
}

/// Member names in the order of the view: `reported`'s, then those only `desired` has.
fn names<'v>(reported: Option<&'v Map<String, Value>>, desired: Option<&'v Map<String, Value>>) -> Vec<&'v str> {
    let only_desired = desired
        .into_iter()
        .flatten()
        .filter(|(k, _)| !reported.is_some_and(|r| r.contains_key(*k)));
    reported
        .into_iter()
        .flatten()
        .chain(only_desired)
        .map(|(k, _)| k.as_str())
        .collect()
}

/// One level of the view (the root, or a component): desired's and reported's members there and
/// their metadata nodes.
struct Level<'v> {
    reported: Option<&'v Map<String, Value>>,
    desired: Option<&'v Map<String, Value>>,
    reported_metadata: Option<&'v Map<String, Value>>,
    desired_metadata: Option<&'v Map<String, Value>>,
    /// Desired `$version`: a property's `desiredVersion` when its node has no version.
    desired_version: Option<u64>,
}

impl<'v> Level<'v> {
    fn child(&self, name: &str) -> Level<'v> {
        let object = |map: Option<&'v Map<String, Value>>| map.and_then(|m| m.get(name)).and_then(Value::as_object);
        Level {
            reported: object(self.reported),
            desired: object(self.desired),
            reported_metadata: object(self.reported_metadata),
            desired_metadata: object(self.desired_metadata),
            desired_version: self.desired_version,
        }
    }

    /// The level's members in view order, components written with `components`, and its
    /// metadata entries.
    fn write(&self, out: &mut Map<String, Value>, metadata: &mut Map<String, Value>, components: bool) {
        for name in names(self.reported, self.desired) {
            if name == COMPONENT_MARKER && !components {
                continue;
            }
            let reported = self.reported.and_then(|m| m.get(name));
            let desired = self.desired.and_then(|m| m.get(name));
            if components && (is_component(reported) || is_component(desired)) {
                let mut component = Map::new();
                let mut entries = Map::new();
                self.child(name).write(&mut component, &mut entries, false);
                component.insert(METADATA.into(), Value::Object(entries));
                out.insert(name.into(), Value::Object(component));
                continue;
            }
            let ack = reported.and_then(acknowledgement);
            let value = match ack {
                Some(ack) => ack.get("value"),
                None => reported,
            };
            if let Some(value) = value {
                out.insert(name.into(), value.clone());
            }
            let node = |map: Option<&'v Map<String, Value>>| map.and_then(|m| m.get(name));
            let mut entry = Map::new();
            if let Some(desired) = desired {
                entry.insert("desiredValue".into(), desired.clone());
                let version = node(self.desired_metadata)
                    .and_then(|n| n.get(LAST_UPDATED_VERSION))
                    .and_then(Value::as_u64)
                    .or(self.desired_version);
                if let Some(version) = version {
                    entry.insert("desiredVersion".into(), version.into());
                }
            }
            for (from, to) in [("av", "ackVersion"), ("ac", "ackCode"), ("ad", "ackDescription")] {
                if let Some(value) = ack.and_then(|ack| ack.get(from)) {
                    entry.insert(to.into(), value.clone());
                }
            }
            if reported.is_some() {
                if let Some(time) = node(self.reported_metadata).and_then(|n| n.get(LAST_UPDATED)) {
                    entry.insert("lastUpdateTime".into(), time.clone());
                }
            }
            if !entry.is_empty() {
                metadata.insert(name.into(), Value::Object(entry));
            }
        }
    }
}

impl Twin {
    /// The twin's IoT Plug and Play digital twin
    /// ([S14](crate::semantics#s14-the-iot-plug-and-play-digital-twin)): `$dtId`, then every
    /// property at its current (reported) value and every component, then `$metadata` with the
    /// model (`$model`) and each property's desired value, acknowledgement and times.
    ///
    /// ```
    /// use serde_json::json;
    /// use twindoc::{Section, Twin, WriteOptions};
    /// let mut twin = Twin::new("devA", "2026-11-28T10:00:00Z".parse()?);
    /// let options = WriteOptions::new("2026-11-28T10:00:01Z".parse()?);
    /// twin.patch(Section::Desired, &json!({"target": 21}), &options)?;
    /// twin.patch(Section::Reported, &json!({"target": {"value": 21, "ac": 200, "av": 2}, "temp": 20.5}), &options)?;
    /// let t = "2026-11-28T10:00:01.0000000Z";
    /// assert_eq!(twin.digital_twin(), json!({
    ///     "$dtId": "devA", "target": 21, "temp": 20.5,
    ///     "$metadata": {
    ///         "target": {"desiredValue": 21, "desiredVersion": 2, "ackVersion": 2, "ackCode": 200, "lastUpdateTime": t},
    ///         "temp": {"lastUpdateTime": t}}
    /// }));
    /// # Ok::<(), twindoc::Error>(())
    /// ```
    pub fn digital_twin(&self) -> Value {
        let content = |section| match self.content_value(section) {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let metadata = |section| match self.metadata_value(section) {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let sections = [
            content(Section::Reported),
            content(Section::Desired),
            metadata(Section::Reported),
            metadata(Section::Desired),
        ];
        self.view_of(sections)
    }

    /// The digital twin restricted to the members `names` of desired and reported (with
    /// `$dtId` and the model): what a write that names only those members can change, read
    /// without copying the rest of the twin.
    pub(crate) fn digital_twin_of(&self, names: &[String]) -> Value {
        let mut sections: [Map<String, Value>; 4] = Default::default();
        for name in names {
            let pointer = format!("/{}", escape_pointer_token(name));
            for (i, section) in [Section::Reported, Section::Desired].into_iter().enumerate() {
                if let Some(value) = self.get(section, &pointer) {
                    sections[i].insert(name.clone(), value);
                }
                if let Some(node) = self.resolve(&["properties", section.name(), METADATA, name]) {
                    sections[i + 2].insert(name.clone(), node.to_value());
                }
            }
        }
        self.view_of(sections)
    }

    /// The names of desired members whose `desiredVersion` in the view is desired's `$version`
    /// (their metadata node, or that of a member of theirs, has no version): every desired
    /// write changes their entry.
    pub(crate) fn unversioned_desired_names(&self) -> Vec<String> {
        let versioned = |pointer: &str| {
            self.last_updated(Section::Desired, pointer)
                .is_some_and(|s| s.version.is_some())
        };
        self.content(Section::Desired)
            .filter(|(name, node)| {
                let pointer = format!("/{}", escape_pointer_token(name));
                // The members of an object may be a component's properties (S14).
                let members = node.as_object().into_iter().flat_map(|o| o.iter());
                !versioned(&pointer)
                    || members
                        .map(|(k, _)| k)
                        .any(|k| !versioned(&format!("{pointer}/{}", escape_pointer_token(k))))
            })
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    /// The view of reported's and desired's content and metadata (`[reported, desired,
    /// reported metadata, desired metadata]`, all or some of their members).
    fn view_of(&self, sections: [Map<String, Value>; 4]) -> Value {
        let [reported, desired, reported_metadata, desired_metadata] = &sections;
        let level = Level {
            reported: Some(reported),
            desired: Some(desired),
            reported_metadata: Some(reported_metadata),
            desired_metadata: Some(desired_metadata),
            desired_version: self.section_version(Section::Desired),
        };
        let mut view = Map::new();
        if let Some(id) = self.identity_field("deviceId") {
            view.insert(DT_ID.into(), id.into());
        }
        let mut entries = Map::new();
        if let Some(model) = self.identity_field("modelId").filter(|m| !m.is_empty()) {
            entries.insert("$model".into(), model.into());
        }
        level.write(&mut view, &mut entries, true);
        view.insert(METADATA.into(), Value::Object(entries));
        Value::Object(view)
    }

    /// IoT Hub's Update Digital Twin
    /// ([S14](crate::semantics#s14-the-iot-plug-and-play-digital-twin)): RFC 6902 `operations` on
    /// the digital twin, applied in order, made into one desired patch and written as
    /// [`Twin::patch`] writes it. The outcome owns its notification and events, and always has
    /// its [`WriteOutcome::digital_twin_event`] worked out (`None` only when the view did not
    /// change).
    ///
    /// Operations IoT Hub refuses are `InvalidArgument` with the path of the operation in the
    /// list (`/2`), and nothing is written: `move`, `copy` and `test`; `replace` or `remove` of a
    /// property or component the view does not have; a path at the root, into `$metadata` or
    /// `$dtId`, below a property (`/x/p` where `x` is not a component) or deeper than `/c/p`; a
    /// component replaced by anything but an object with `"$metadata": {}`, or given a
    /// `$metadata` that is not `{}`. The write itself is then checked as any desired patch (S3,
    /// paths in the desired body).
    ///
    /// ```
    /// use serde_json::json;
    /// use twindoc::{Section, Twin, WriteOptions};
    /// let mut twin = Twin::new("devA", "2026-11-28T10:00:00Z".parse()?);
    /// let operations = twindoc::digital_twin_operations(&json!([
    ///     {"op": "add", "path": "/thermostat1", "value": {"targetTemperature": 21.5, "$metadata": {}}},
    ///     {"op": "add", "path": "/thermostat1/mode", "value": "eco"},
    /// ]))?;
    /// let outcome = twin.patch_digital_twin(&operations, &WriteOptions::new("2026-11-28T10:00:01Z".parse()?))?;
    /// assert_eq!(
    ///     outcome.notification.unwrap().to_value(),
    ///     json!({"thermostat1": {"__t": "c", "targetTemperature": 21.5, "mode": "eco"}, "$version": 2})
    /// );
    /// assert!(outcome.digital_twin_event.is_some());
    /// # Ok::<(), twindoc::Error>(())
    /// ```
    pub fn patch_digital_twin(
        &mut self,
        operations: &[PatchOperation],
        options: &WriteOptions,
    ) -> Result<WriteOutcome<'static>, Error> {
        let before = self.digital_twin();
        let body = Value::Object(digital_twin_body(
            &before,
            &self.content_value(Section::Desired),
            operations,
        )?);
        let options = options.clone().digital_twin_event(false);
        let mut outcome = self.patch(Section::Desired, &body, &options)?.into_owned();
        outcome.digital_twin_event =
            DigitalTwinEvent::between(&before, &self.digital_twin(), outcome.event.properties());
        Ok(outcome)
    }
}

/// Reads RFC 6902 operations from JSON (an array of operation objects), for
/// [`Twin::patch_digital_twin`]: anything else is `InvalidArgument`.
///
/// ```
/// let operations = twindoc::digital_twin_operations(&serde_json::json!([{"op": "remove", "path": "/fan"}]))?;
/// assert_eq!(operations.len(), 1);
/// let refused = twindoc::digital_twin_operations(&serde_json::json!({"op": "remove"})).unwrap_err();
/// assert_eq!(refused.code(), "InvalidArgument");
/// # Ok::<(), twindoc::Error>(())
/// ```
pub fn digital_twin_operations(value: &Value) -> Result<Vec<PatchOperation>, Error> {
    check_nesting(value, 0, MAX_NESTING + 2)?;
    let Value::Array(items) = value else {
        return Err(argument("", "the digital twin operations must be a JSON array"));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            operation(item).map_err(|why| argument(&format!("/{index}"), &format!("not an RFC 6902 operation: {why}")))
        })
        .collect()
}

/// One RFC 6902 operation, read by hand rather than by the json-patch crate's `Deserialize`,
/// which would add a tagged-enum deserializer and a JSON Pointer parser to the WebAssembly module.
fn operation(item: &Value) -> Result<PatchOperation, String> {
    let Value::Object(members) = item else {
        return Err("an operation must be an object".into());
    };
    let pointer = |name: &str| -> Result<PointerBuf, String> {
        let text = members
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{name:?} must be a JSON Pointer string"))?;
        pointer(text).ok_or_else(|| format!("{text:?} is not a JSON Pointer"))
    };
    let value = || members.get("value").cloned().ok_or("the operation needs a \"value\"");
    Ok(match members.get("op").and_then(Value::as_str) {
        Some("add") => PatchOperation::Add(AddOperation {
            path: pointer("path")?,
            value: value()?,
        }),
        Some("remove") => PatchOperation::Remove(RemoveOperation { path: pointer("path")? }),
        Some("replace") => PatchOperation::Replace(ReplaceOperation {
            path: pointer("path")?,
            value: value()?,
        }),
        Some("move") => PatchOperation::Move(MoveOperation {
            from: pointer("from")?,
            path: pointer("path")?,
        }),
        Some("copy") => PatchOperation::Copy(CopyOperation {
            from: pointer("from")?,
            path: pointer("path")?,
        }),
        Some("test") => PatchOperation::Test(TestOperation {
            path: pointer("path")?,
            value: value()?,
        }),
        Some(other) => return Err(format!("{other:?} is not an operation")),
        None => return Err("\"op\" must be a string".into()),
    })
}

/// An RFC 6901 pointer: `""`, or `/` and tokens in which `~` is always followed by `0` or `1`.
fn pointer(text: &str) -> Option<PointerBuf> {
    if text.is_empty() {
        return Some(PointerBuf::new());
    }
    let valid = |token: &str| token.split('~').skip(1).all(|after| after.starts_with(['0', '1']));
    let tokens: Vec<_> = text
        .strip_prefix('/')?
        .split('/')
        .map(|t| valid(t).then(|| unescape_pointer_token(t)))
        .collect::<Option<_>>()?;
    Some(PointerBuf::from_tokens(tokens.iter().map(|t| t.as_ref())))
}

/// An operation's name and path, for its error messages.
fn describe(operation: &PatchOperation) -> String {
    let name = match operation {
        PatchOperation::Add(_) => "add",
        PatchOperation::Remove(_) => "remove",
        PatchOperation::Replace(_) => "replace",
        PatchOperation::Move(_) => "move",
        PatchOperation::Copy(_) => "copy",
        PatchOperation::Test(_) => "test",
    };
    format!("{name} {:?}", operation.path().as_str())
}

fn argument(path: &str, message: &str) -> Error {
    Error::new(ErrorKind::InvalidArgument, path, message)
}

/// What the request knows of a member of the digital twin's root as its operations go.
#[derive(Clone)]
enum Member {
    Absent,
    Property,
    /// A component, with the names of the properties it has (as the keys of a JSON map: its
    /// code is in the WebAssembly module already, where a set of names would add its own).
    Component(Map<String, Value>),
}

/// A member as the view before the request has it.
fn member_of(view: &Value, name: &str) -> Member {
    let entries = view.get(METADATA).and_then(Value::as_object);
    let desired = |entries: Option<&Map<String, Value>>, name: &str| {
        entries
            .and_then(|e| e.get(name))
            .is_some_and(|entry| entry.get("desiredValue").is_some())
    };
    match view.get(name) {
        Some(Value::Object(component)) if component.contains_key(METADATA) => {
            let entries = component.get(METADATA).and_then(Value::as_object);
            let mut properties: Map<String, Value> = component
                .keys()
                .filter(|k| *k != METADATA)
                .map(|k| (k.clone(), Value::Null))
                .collect();
            properties.extend(
                entries
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| desired(entries, k))
                    .map(|(k, _)| (k.clone(), Value::Null)),
            );
            Member::Component(properties)
        }
        Some(_) => Member::Property,
        None if desired(entries, name) => Member::Property,
        None => Member::Absent,
    }
}

/// The properties of a component value (an object with `"$metadata": {}`), or `None` when the
/// value is not one; an error when its `$metadata` holds anything. The marker is `"__t": "c"`
/// first, whatever `__t` the value holds: the member must stay a component.
fn component_value(value: &Value, index: usize) -> Result<Option<Map<String, Value>>, Error> {
    let Some(object) = value.as_object() else {
        return Ok(None);
    };
    match object.get(METADATA) {
        None => Ok(None),
        Some(Value::Object(m)) if m.is_empty() => {
            let mut properties = Map::new();
            properties.insert(COMPONENT_MARKER.into(), "c".into());
            properties.extend(
                object
                    .iter()
                    .filter(|(k, _)| *k != METADATA && *k != COMPONENT_MARKER)
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
            Ok(Some(properties))
        }
        Some(_) => Err(argument(
            &format!("/{index}"),
            "a component's value must hold \"$metadata\": {} and nothing else under $metadata",
        )),
    }
}

/// `new` plus `null` for every member, at any depth, that it lacks of `old` (S7's replace
/// notification), so that merging it into `old` gives exactly `new`. The recursion follows
/// `old`, a twin's content, bounded in depth.
fn with_removals(new: &Value, old: Option<&Value>) -> Value {
    match (new, old) {
        (Value::Object(new), Some(Value::Object(old))) => {
            let mut out: Map<String, Value> = new
                .iter()
                .map(|(k, v)| (k.clone(), with_removals(v, old.get(k))))
                .collect();
            for key in old.keys() {
                if !new.contains_key(key) {
                    out.insert(key.clone(), Value::Null);
                }
            }
            Value::Object(out)
        }
        _ => new.clone(),
    }
}

/// The desired patch of an Update Digital Twin request: `view` is the digital twin before it,
/// `desired` desired's content.
fn digital_twin_body(
    view: &Value,
    desired: &Value,
    operations: &[PatchOperation],
) -> Result<Map<String, Value>, Error> {
    let mut body = Map::new();
    let mut members: HashMap<String, Member> = HashMap::new();
    for (index, operation) in operations.iter().enumerate() {
        let at = format!("/{index}");
        let refuse = |why: &str| argument(&at, &format!("{}: {why}", describe(operation)));
        let value = match operation {
            PatchOperation::Add(op) => Some(&op.value),
            PatchOperation::Replace(op) => Some(&op.value),
            PatchOperation::Remove(_) => None,
            _ => return Err(refuse("only add, replace and remove can update a digital twin")),
        };
        if let Some(value) = value {
            check_nesting(value, 1, MAX_NESTING).map_err(|e| e.under(&format!("{at}/value")))?;
        }
        let is_replace = matches!(operation, PatchOperation::Replace(_));
        let tokens: Vec<String> = operation.path().tokens().map(|t| t.decoded().into_owned()).collect();
        let (name, property) = match tokens.as_slice() {
            [] => return Err(refuse("the whole digital twin cannot be written")),
            [name] => (name, None),
            [name, property] => (name, Some(property)),
            _ => return Err(refuse("a path can go no deeper than /component/property")),
        };
        if name == METADATA || name == DT_ID || property.is_some_and(|p| p == METADATA) {
            return Err(refuse("$metadata and $dtId cannot be written"));
        }
        let member = members.entry(name.clone()).or_insert_with(|| member_of(view, name));
        let old = desired.get(name);
        match property {
            None => {
                let was_component = matches!(member, Member::Component(_));
                if matches!(member, Member::Absent) && value.is_none_or(|_| is_replace) {
                    return Err(refuse("the digital twin has no such property or component"));
                }
                let Some(value) = value else {
                    body.insert(name.clone(), Value::Null);
                    *member = Member::Absent;
                    continue;
                };
                match component_value(value, index)? {
                    Some(properties) => {
                        *member = Member::Component(
                            properties
                                .keys()
                                .filter(|k| *k != COMPONENT_MARKER)
                                .map(|k| (k.clone(), Value::Null))
                                .collect(),
                        );
                        body.insert(name.clone(), with_removals(&Value::Object(properties), old));
                    }
                    None if was_component => {
                        return Err(refuse(
                            "a component can only be replaced by an object with \"$metadata\": {}",
                        ))
                    }
                    None => {
                        *member = Member::Property;
                        body.insert(name.clone(), with_removals(value, old));
                    }
                }
            }
            Some(property) => {
                let Member::Component(properties) = member else {
                    return Err(refuse("only a component has properties below it"));
                };
                if property == COMPONENT_MARKER {
                    return Err(refuse("__t is the component marker, not a property"));
                }
                if !properties.contains_key(property.as_str()) && value.is_none_or(|_| is_replace) {
                    return Err(refuse("the component has no such property"));
                }
                let entry = match value {
                    Some(value) => {
                        properties.insert(property.clone(), Value::Null);
                        with_removals(value, old.and_then(|c| c.get(property)))
                    }
                    None => {
                        properties.shift_remove(property.as_str());
                        Value::Null
                    }
                };
                let slot = body.entry(name.clone()).or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(component) = slot {
                    if !component.contains_key(COMPONENT_MARKER) {
                        component.shift_insert(0, COMPONENT_MARKER.into(), "c".into());
                    }
                    component.insert(property.clone(), entry);
                }
            }
        }
    }
    Ok(body)
}
