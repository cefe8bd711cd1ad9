//! What the back end is told after a write: the twin change event
//! ([S13](crate::semantics#s13-what-the-back-end-is-told-twin-change-events)).

use std::borrow::Cow;
use std::io;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};
use crate::names::{LAST_UPDATED, LAST_UPDATED_BY, LAST_UPDATED_BY_DIGEST, LAST_UPDATED_VERSION, METADATA, VERSION};
use crate::{Section, Timestamp, Twin, WriteOptions};

/// Who a twin is, as its change events name it: shared by the events of all its writes, so that
/// a write whose event is not read copies no id.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) device_id: Option<Box<str>>,
    pub(crate) module_id: Option<Box<str>>,
}

/// The routing properties of a change event: who was written, when, and how.
///
/// They serialize as IoT Hub's message properties: `deviceId`, `moduleId` (module twins only),
/// `hubName` (only when the write named the hub), `operationTimestamp`, `iothub-message-schema`
/// and `opType`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventProperties {
    pub(crate) identity: Arc<Identity>,
    pub(crate) hub_name: Option<String>,
    pub(crate) operation_timestamp: Timestamp,
    pub(crate) message_schema: &'static str,
    pub(crate) op_type: &'static str,
}

impl EventProperties {
    /// The properties of the change event of a patch (`opType` `updateTwin`) by a write with
    /// `options` (its time and hub name) to the twin with these ids: its `deviceId` and, for a
    /// module twin, its `moduleId`, as the document holds them (a twin without a string
    /// `deviceId` has `None`).
    pub fn of_update(device_id: Option<&str>, module_id: Option<&str>, options: &WriteOptions) -> EventProperties {
        EventProperties {
            identity: Arc::new(Identity {
                device_id: device_id.map(Box::from),
                module_id: module_id.map(Box::from),
            }),
            hub_name: options.hub_name.clone(),
            operation_timestamp: options.now,
            message_schema: "twinChangeNotification",
            op_type: "updateTwin",
        }
    }

    /// The twin's `deviceId` (`None` for a document read without one).
    pub fn device_id(&self) -> Option<&str> {
        self.identity.device_id.as_deref()
    }

    /// The twin's `moduleId`, for module twins.
    pub fn module_id(&self) -> Option<&str> {
        self.identity.module_id.as_deref()
    }

    /// The hub's name, when the write's options gave it ([`crate::WriteOptions::hub_name`]).
    pub fn hub_name(&self) -> Option<&str> {
        self.hub_name.as_deref()
    }

    /// The time of the write.
    pub fn operation_timestamp(&self) -> Timestamp {
        self.operation_timestamp
    }

    /// `"twinChangeNotification"` or `"digitalTwinChangeNotification"`.
    pub fn message_schema(&self) -> &'static str {
        self.message_schema
    }

    /// `"updateTwin"` (a patch, or any write's digital twin event) or `"replaceTwin"`.
    pub fn op_type(&self) -> &'static str {
        self.op_type
    }
}

impl Serialize for EventProperties {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(device_id) = self.device_id() {
            map.serialize_entry("deviceId", device_id)?;
        }
        if let Some(module_id) = self.module_id() {
            map.serialize_entry("moduleId", module_id)?;
        }
        if let Some(hub_name) = &self.hub_name {
            map.serialize_entry("hubName", hub_name)?;
        }
        map.serialize_entry("operationTimestamp", &self.operation_timestamp.to_string())?;
        map.serialize_entry("iothub-message-schema", self.message_schema)?;
        map.serialize_entry("opType", self.op_type)?;
        map.end()
    }
}

/// A written body, borrowed from the write (or, for a twin-level null part, owned): kept small,
/// since every outcome carries up to three.
#[derive(Clone, Debug)]
enum Body<'a> {
    Borrowed(&'a Map<String, Value>),
    Owned(Box<Map<String, Value>>),
}

/// Bodies compare by what they hold, borrowed or owned alike.
impl PartialEq for Body<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<'a> Body<'a> {
    #[allow(clippy::ptr_arg)] // as in `ChangeEvent::add_part`
    fn new(body: &Cow<'a, Map<String, Value>>) -> Self {
        match body {
            Cow::Borrowed(body) => Body::Borrowed(body),
            Cow::Owned(body) => Body::Owned(Box::new(body.clone())),
        }
    }

    fn get(&self) -> &Map<String, Value> {
        match self {
            Body::Borrowed(body) => body,
            Body::Owned(body) => body,
        }
    }

    fn into_owned(self) -> Body<'static> {
        match self {
            Body::Borrowed(body) => Body::Owned(Box::new(body.clone())),
            Body::Owned(body) => Body::Owned(body),
        }
    }
}

/// One section's part of an update event: the body as written and the section's new `$version`.
#[derive(Clone, Debug, PartialEq)]
struct WrittenPart<'a> {
    body: Body<'a>,
    version: u64,
    /// The paths configurations own, when the write is their application (S12); empty otherwise.
    owned: Box<[OwnedPath]>,
}

/// A desired path a configuration owns (S12), and what the nodes its application stamps at or
/// below it carry, when no deeper owned path holds them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OwnedPath {
    /// Member names from the section root (empty: the section itself).
    pub(crate) path: Vec<String>,
    /// `$lastUpdatedBy`.
    pub(crate) by: Box<str>,
    /// `$lastUpdatedByDigest`.
    pub(crate) digest: Box<str>,
}

// Patches are the common writes: boxing their variant would allocate on each of them.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
enum EventBody<'a> {
    /// A patch: only what was written, with its metadata worked out from the body when printed.
    Update {
        version: u64,
        tags: Option<Body<'a>>,
        desired: Option<WrittenPart<'a>>,
        reported: Option<WrittenPart<'a>>,
    },
    /// A replace: the twin after the write, limited to the members the event shows.
    Replace(Box<Twin>),
}

/// The twin change event of a write
/// ([S13](crate::semantics#s13-what-the-back-end-is-told-twin-change-events)): its properties, and
/// a body holding what was written (a patch) or the twin after the write (a replace).
///
/// It is built on demand: a patch's event borrows the write's body (as its
/// [`Notification`](crate::Notification) does), and the `$metadata` of the written members is
/// worked out only when the event is printed ([`ChangeEvent::to_json`], [`ChangeEvent::to_value`]
/// or any `serde` serializer), as `{"properties": {...}, "body": {...}}`. A replace's event holds
/// a copy of the twin's document, which costs a copy of the twin.
///
/// ```
/// use serde_json::json;
/// use twindoc::{Section, Twin, WriteOptions};
/// let mut twin = Twin::new("devA", "2026-11-28T10:00:00Z".parse()?);
/// let options = WriteOptions::new("2026-11-28T10:00:01Z".parse()?).hub_name("hub1");
/// let patch = json!({"fan": {"speed": 3}, "mode": null});
/// let outcome = twin.patch(Section::Desired, &patch, &options)?;
/// let t = "2026-11-28T10:00:01.0000000Z";
/// assert_eq!(outcome.event.to_value(), json!({
///     "properties": {"deviceId": "devA", "hubName": "hub1", "operationTimestamp": t,
///                    "iothub-message-schema": "twinChangeNotification", "opType": "updateTwin"},
///     "body": {"version": 3, "properties": {"desired": {
///         "fan": {"speed": 3}, "mode": null,
///         "$metadata": {"$lastUpdated": t, "$lastUpdatedVersion": 2,
///                       "fan": {"$lastUpdated": t, "$lastUpdatedVersion": 2,
///                               "speed": {"$lastUpdated": t, "$lastUpdatedVersion": 2}}},
///         "$version": 2}}}
/// }));
/// # Ok::<(), twindoc::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeEvent<'a> {
    properties: EventProperties,
    body: EventBody<'a>,
}

impl<'a> ChangeEvent<'a> {
    /// The event of a patch, with no part yet ([`ChangeEvent::add_part`]): `version` is the twin's
    /// after the write.
    pub(crate) fn update(properties: EventProperties, version: u64) -> Self {
        ChangeEvent {
            properties,
            body: EventBody::Update {
                version,
                tags: None,
                desired: None,
                reported: None,
            },
        }
    }

    /// Adds a section's part to a patch's event: its body as written, and for desired and
    /// reported the section's new `$version`.
    // The `Cow` itself is needed: a borrowed body is kept borrowed, only an owned one is copied.
    #[allow(clippy::ptr_arg)]
    pub(crate) fn add_part(&mut self, section: Section, body: &Cow<'a, Map<String, Value>>, version: u64) {
        if let EventBody::Update {
            tags,
            desired,
            reported,
            ..
        } = &mut self.body
        {
            let body = Body::new(body);
            match section {
                Section::Tags => *tags = Some(body),
                Section::Desired => {
                    *desired = Some(WrittenPart {
                        body,
                        version,
                        owned: Box::default(),
                    })
                }
                Section::Reported => {
                    *reported = Some(WrittenPart {
                        body,
                        version,
                        owned: Box::default(),
                    })
                }
            }
        }
    }

    /// Makes the desired part's `$metadata` show the marks a configurations' application gives
    /// the nodes it stamps (S12): `$lastUpdatedBy` and `$lastUpdatedByDigest` of the deepest of
    /// `owned` holding each node, as the twin's nodes carry them after the write.
    pub(crate) fn mark_configured(&mut self, owned: Vec<OwnedPath>) {
        if let EventBody::Update {
            desired: Some(part), ..
        } = &mut self.body
        {
            part.owned = owned.into_boxed_slice();
        }
    }

    /// The change event of a patch of one section, built again after the write from its body:
    /// equal to the [`WriteOutcome::event`](crate::WriteOutcome::event) of the
    /// `patch(section, body, options)` whose outcome gave `version` and `section_version` (`None`
    /// for tags), `properties` being [`EventProperties::of_update`] of the twin's ids and the same
    /// options. It is for a caller that keeps the body and builds the event only when it is read:
    /// the JavaScript package does, since printing every unread event would cost a write a third
    /// of its time there. A body that is not an object is `NotAnObject`.
    ///
    /// ```
    /// use serde_json::json;
    /// use twindoc::{ChangeEvent, EventProperties, Section, Twin, WriteOptions};
    /// let mut twin = Twin::new("devA", "2026-11-28T10:00:00Z".parse()?);
    /// let options = WriteOptions::new("2026-11-28T10:00:01Z".parse()?);
    /// let patch = json!({"fan": {"speed": 3}});
    /// let outcome = twin.patch(Section::Desired, &patch, &options)?.into_owned();
    /// let properties = EventProperties::of_update(Some("devA"), None, &options);
    /// let later = ChangeEvent::of_patch(properties, Section::Desired, &patch, outcome.version, outcome.section_version)?;
    /// assert_eq!(later, outcome.event);
    /// # Ok::<(), twindoc::Error>(())
    /// ```
    pub fn of_patch(
        properties: EventProperties,
        section: Section,
        body: &'a Value,
        version: u64,
        section_version: Option<u64>,
    ) -> Result<Self, Error> {
        let Value::Object(body) = body else {
            return Err(Error::new(ErrorKind::NotAnObject, "", "the body must be a JSON object"));
        };
        let mut event = ChangeEvent::update(properties, version);
        event.add_part(section, &Cow::Borrowed(body), section_version.unwrap_or(0));
        Ok(event)
    }

    /// The event of a replace: `twin` is the twin after the write, limited to what the event
    /// shows.
    pub(crate) fn replace(properties: EventProperties, twin: Twin) -> Self {
        ChangeEvent {
            properties,
            body: EventBody::Replace(Box::new(twin)),
        }
    }

    /// The event's properties.
    pub fn properties(&self) -> &EventProperties {
        &self.properties
    }

    /// The event's body as a JSON value.
    pub fn body_value(&self) -> Value {
        serde_json::to_value(BodyOut(self)).unwrap_or_default()
    }

    /// The event as a JSON value: `{"properties": {...}, "body": {...}}`.
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

    /// The same event, owning the bodies it borrowed.
    pub fn into_owned(self) -> ChangeEvent<'static> {
        let owned = |part: WrittenPart<'_>| WrittenPart {
            body: part.body.into_owned(),
            version: part.version,
            owned: part.owned,
        };
        let body = match self.body {
            EventBody::Update {
                version,
                tags,
                desired,
                reported,
            } => EventBody::Update {
                version,
                tags: tags.map(Body::into_owned),
                desired: desired.map(owned),
                reported: reported.map(owned),
            },
            EventBody::Replace(twin) => EventBody::Replace(twin),
        };
        ChangeEvent {
            properties: self.properties,
            body,
        }
    }
}

impl Serialize for ChangeEvent<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("properties", &self.properties)?;
        map.serialize_entry("body", &BodyOut(self))?;
        map.end()
    }
}

struct BodyOut<'e, 'a>(&'e ChangeEvent<'a>);

impl Serialize for BodyOut<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (version, tags, desired, reported) = match &self.0.body {
            EventBody::Replace(twin) => return twin.serialize(serializer),
            EventBody::Update {
                version,
                tags,
                desired,
                reported,
            } => (version, tags, desired, reported),
        };
        let time = self.0.properties.operation_timestamp.to_string();
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("version", version)?;
        if let Some(tags) = tags {
            map.serialize_entry("tags", tags.get())?;
        }
        if desired.is_some() || reported.is_some() {
            let properties = PropertiesOut {
                desired: desired.as_ref().map(|part| PartOut::new(part, &time, true)),
                reported: reported.as_ref().map(|part| PartOut::new(part, &time, false)),
            };
            map.serialize_entry("properties", &properties)?;
        }
        map.end()
    }
}

struct PropertiesOut<'b> {
    desired: Option<PartOut<'b>>,
    reported: Option<PartOut<'b>>,
}

impl Serialize for PropertiesOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(desired) = &self.desired {
            map.serialize_entry("desired", desired)?;
        }
        if let Some(reported) = &self.reported {
            map.serialize_entry("reported", reported)?;
        }
        map.end()
    }
}

/// What every node a write stamped holds: its time, and in desired the section's new `$version`.
#[derive(Clone, Copy)]
struct StampOut<'t> {
    time: &'t str,
    version: Option<u64>,
}

/// A desired or reported part of an update event: the body as written, its `$metadata`, then
/// `$version`.
struct PartOut<'b> {
    body: &'b Map<String, Value>,
    stamp: StampOut<'b>,
    version: u64,
    owned: &'b [OwnedPath],
}

impl<'b> PartOut<'b> {
    fn new(part: &'b WrittenPart<'_>, time: &'b str, desired: bool) -> Self {
        PartOut {
            body: part.body.get(),
            stamp: StampOut {
                time,
                version: desired.then_some(part.version),
            },
            version: part.version,
            owned: &part.owned,
        }
    }
}

impl Serialize for PartOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.body.len() + 2))?;
        for (key, value) in self.body {
            map.serialize_entry(key, value)?;
        }
        let metadata = WrittenMetadata {
            members: Some(self.body),
            stamp: self.stamp,
            owned: self.owned.iter().collect(),
            depth: 0,
        };
        map.serialize_entry(METADATA, &metadata)?;
        map.serialize_entry(VERSION, &self.version)?;
        map.end()
    }
}

/// The metadata node of a written member: the write's stamp, then the node of every non-null
/// member it wrote, recursively (every node a write names or creates is stamped by it, S6, so
/// the body alone says what they hold). The body was checked against the engine's nesting bound,
/// which bounds the recursion.
struct WrittenMetadata<'b> {
    members: Option<&'b Map<String, Value>>,
    stamp: StampOut<'b>,
    /// The owned paths (S12) that hold the node or lie below it: their first `depth` names are
    /// the node's path.
    owned: Vec<&'b OwnedPath>,
    depth: usize,
}

impl Serialize for WrittenMetadata<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(LAST_UPDATED, self.stamp.time)?;
        if let Some(version) = self.stamp.version {
            map.serialize_entry(LAST_UPDATED_VERSION, &version)?;
        }
        let holder = self
            .owned
            .iter()
            .filter(|o| o.path.len() <= self.depth)
            .max_by_key(|o| o.path.len());
        if let Some(holder) = holder {
            map.serialize_entry(LAST_UPDATED_BY, &*holder.by)?;
            map.serialize_entry(LAST_UPDATED_BY_DIGEST, &*holder.digest)?;
        }
        for (key, value) in self.members.into_iter().flatten() {
            if value.is_null() {
                continue;
            }
            let child = WrittenMetadata {
                members: value.as_object(),
                stamp: self.stamp,
                // No allocation for the writes of no configuration (`owned` empty).
                owned: self
                    .owned
                    .iter()
                    .copied()
                    .filter(|o| o.path.get(self.depth).is_none_or(|name| name == key))
                    .collect(),
                depth: self.depth + 1,
            };
            map.serialize_entry(key, &child)?;
        }
        map.end()
    }
}
