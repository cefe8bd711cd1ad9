//! The twin document and its writes ([S1], [S2], [S5], [S7]).
//!
//! [S1]: crate::semantics#s1-the-document
//! [S2]: crate::semantics#s2-writes
//! [S5]: crate::semantics#s5-versions-etag-and-concurrency
//! [S7]: crate::semantics#s7-what-the-device-is-sent

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::check::check_body;
use crate::doc::inline;
use crate::doc::node::{Member, Node, Object, NO_STAMP};
use crate::doc::read::read;
use crate::doc::section::{
    compact, merge, place_reserved, replace_notification, size_change, DocumentOut, MetadataForm, SectionOut,
};
use crate::doc::stamps::{Configuration as StampConfiguration, Metadata, Stamp, Stamps, Time};
use crate::error::{Error, ErrorKind};
use crate::events::{ChangeEvent, EventProperties, Identity};
use crate::json::check_input_size;
use crate::limits::MAX_NESTING;
use crate::names::{
    is_section_reserved, CONFIGURATIONS, LAST_UPDATED, LAST_UPDATED_BY, LAST_UPDATED_BY_DIGEST, LAST_UPDATED_VERSION,
    METADATA, VERSION,
};
use crate::nesting::{check_nesting, check_node_nesting};
use crate::notification::Notification;
use crate::patch::without_nulls;
use crate::pointer::unescape_pointer_token;
use crate::size::written_object_size;
use crate::{DigitalTwinEvent, Limits, Timestamp};

/// One of the three writable parts of a twin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    /// `tags`: written by the back end only; no `$metadata`, no `$version`.
    Tags,
    /// `properties.desired`: written by the back end, sent to the device.
    Desired,
    /// `properties.reported`: written by the device.
    Reported,
}

impl Section {
    /// All three, in document order.
    pub const ALL: [Section; 3] = [Section::Tags, Section::Desired, Section::Reported];

    /// `"tags"`, `"desired"` or `"reported"`.
    pub fn name(self) -> &'static str {
        match self {
            Section::Tags => "tags",
            Section::Desired => "desired",
            Section::Reported => "reported",
        }
    }

    /// The JSON Pointer of the section in a twin document.
    pub fn pointer(self) -> &'static str {
        match self {
            Section::Tags => "/tags",
            Section::Desired => "/properties/desired",
            Section::Reported => "/properties/reported",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Section {
    type Err = Error;
    fn from_str(name: &str) -> Result<Self, Error> {
        Section::ALL.into_iter().find(|s| s.name() == name).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                "",
                format!("{name:?} is not a section: use tags, desired or reported"),
            )
        })
    }
}

/// How a write is made: its time (the engine reads no clock), its preconditions and its limits.
///
/// ```
/// use twindoc::{Limits, WriteOptions};
/// let now = "2026-11-28T10:00:00Z".parse()?;
/// let options = WriteOptions::new(now).if_match("AAAAAAAAAAE=").limits(Limits::none());
/// assert_eq!(options.if_match.as_deref(), Some("AAAAAAAAAAE="));
/// # Ok::<(), twindoc::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// The time of the write, stamped into `$metadata`.
    pub now: Timestamp,
    /// An If-Match etag: `None` or `*` for an unconditional write; quotes and `W/` are ignored.
    pub if_match: Option<String>,
    /// The section's expected current `$version` (IoT Hub offers this for reported writes).
    pub if_version: Option<u64>,
    /// The limits the write is checked against.
    pub limits: Limits,
    /// The hub's name, for the change events' `hubName` (the engine does not know it).
    pub hub_name: Option<String>,
    /// Whether the write works out its digital twin change event
    /// ([`WriteOutcome::digital_twin_event`]), which costs two views of the twin (S14).
    pub digital_twin_event: bool,
}

impl WriteOptions {
    /// An unconditional write at `now`, with IoT Hub's limits.
    pub fn new(now: Timestamp) -> Self {
        WriteOptions {
            now,
            if_match: None,
            if_version: None,
            limits: Limits::azure(),
            hub_name: None,
            digital_twin_event: false,
        }
    }

    /// Requires the twin's etag to be `etag`.
    pub fn if_match(mut self, etag: impl Into<String>) -> Self {
        self.if_match = Some(etag.into());
        self
    }

    /// Requires the section's `$version` to be `version`.
    pub fn if_version(mut self, version: u64) -> Self {
        self.if_version = Some(version);
        self
    }

    /// Checks the write against `limits`.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Names the hub in the change events (`hubName`).
    pub fn hub_name(mut self, name: impl Into<String>) -> Self {
        self.hub_name = Some(name.into());
        self
    }

    /// Asks for the write's digital twin change event ([`WriteOutcome::digital_twin_event`]).
    pub fn digital_twin_event(mut self, wanted: bool) -> Self {
        self.digital_twin_event = wanted;
        self
    }
}

/// What a successful write did.
///
/// It borrows the write's body (through [`WriteOutcome::notification`] and
/// [`WriteOutcome::event`]), so that a write copies nothing it does not keep;
/// [`WriteOutcome::into_owned`] detaches it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteOutcome<'a> {
    /// The twin's `version` after the write.
    pub version: u64,
    /// The section's `$version` after the write (`None` for tags).
    pub section_version: Option<u64>,
    /// The twin's etag after the write.
    pub etag: String,
    /// What IoT Hub sends the device (desired writes only, S7): the patch with `$version`.
    pub notification: Option<Notification<'a>>,
    /// What IoT Hub tells the back end (S13): every successful write has one.
    pub event: ChangeEvent<'a>,
    /// The digital twin change event (S14): worked out only when
    /// [`WriteOptions::digital_twin_event`] asks for it (and always by
    /// [`Twin::patch_digital_twin`]); `None` when not asked for, or when the write left the
    /// digital twin as it was.
    pub digital_twin_event: Option<DigitalTwinEvent>,
}

impl WriteOutcome<'_> {
    /// The same outcome, owning its notification's body.
    pub fn into_owned(self) -> WriteOutcome<'static> {
        WriteOutcome {
            version: self.version,
            section_version: self.section_version,
            etag: self.etag,
            notification: self.notification.map(Notification::into_owned),
            event: self.event.into_owned(),
            digital_twin_event: self.digital_twin_event,
        }
    }
}

/// When a node of `$metadata` was last written.
///
/// It serializes as `{"time": "...", "version": N}`, `version` being `null` outside desired, as
/// the JavaScript `lastUpdated` answers.
///
/// ```
/// use twindoc::{Section, Twin, WriteOptions};
/// let mut twin = Twin::new("devA", "2026-11-28T10:00:00Z".parse()?);
/// twin.patch(Section::Desired, &serde_json::json!({"fan": 1}), &WriteOptions::new("2026-11-28T10:00:01Z".parse()?))?;
/// let stamp = twin.last_updated(Section::Desired, "/fan").expect("written");
/// assert_eq!(
///     serde_json::to_string(&stamp).unwrap(),
///     r#"{"time":"2026-11-28T10:00:01.0000000Z","version":2}"#
/// );
/// # Ok::<(), twindoc::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LastUpdated {
    /// `$lastUpdated`, as the twin holds it.
    pub time: String,
    /// `$lastUpdatedVersion` (desired only).
    pub version: Option<u64>,
}

/// One section's part of a write, checked and ready to apply.
struct Plan<'b> {
    section: Section,
    body: Cow<'b, Map<String, Value>>,
    /// For a replace, the new content (the body without its nulls) and its size. (A patch's new
    /// size comes out of the merge.)
    replacement: Option<(Map<String, Value>, u64)>,
}

#[derive(Clone, Copy, PartialEq)]
enum WriteKind {
    Patch,
    Replace,
}

/// A device or module twin: the whole document, kept as IoT Hub returns it.
///
/// Identity fields (`deviceId`, `status`, unknown ones...) are carried through untouched; writes
/// change only `etag`, `version`, `tags` and `properties`. Member order is kept.
///
/// The twin is held compactly (its `$metadata` as one stamp per write, referred to by the members
/// it describes) and printed with exactly the bytes of the document it holds: read it with
/// [`Twin::to_json`], [`Twin::to_value`], [`Twin::get`], [`Twin::section_value`] or
/// [`Twin::metadata_value`].
#[derive(Clone, Debug)]
pub struct Twin {
    doc: Object,
    /// The S4 size of each section, kept up to date by every write.
    sizes: [u64; 3],
    /// How desired's and reported's `$metadata` is held.
    forms: [MetadataForm; 2],
    /// The ids the change events name, read at the first write (writes never change them).
    identity: OnceLock<Arc<Identity>>,
}

/// Twins are equal when their documents are.
impl PartialEq for Twin {
    fn eq(&self, other: &Twin) -> bool {
        self.to_value() == other.to_value()
    }
}

impl Twin {
    /// A new device twin, as IoT Hub creates it: etag counter 1, `version` 2, desired and
    /// reported at `$version` 1 with root metadata stamped `now`, no `tags`.
    pub fn new(device_id: &str, now: Timestamp) -> Twin {
        Twin::create(device_id, None, now)
    }

    /// A new module twin (as [`Twin::new`], with `moduleId`).
    pub fn new_module(device_id: &str, module_id: &str, now: Timestamp) -> Twin {
        Twin::create(device_id, Some(module_id), now)
    }

    fn create(device_id: &str, module_id: Option<&str>, now: Timestamp) -> Twin {
        let mut doc = Object::new();
        doc.insert("deviceId", Node::String(device_id.into()), NO_STAMP);
        if let Some(module_id) = module_id {
            doc.insert("moduleId", Node::String(module_id.into()), NO_STAMP);
        }
        doc.insert("etag", Node::String(encode_etag(1).into()), NO_STAMP);
        doc.insert("version", Node::Number(2.into()), NO_STAMP);
        let mut properties = Object::new();
        let mut forms = [MetadataForm::None, MetadataForm::None];
        for section in [Section::Desired, Section::Reported] {
            let mut body = Object::new();
            let mut stamps = Stamps::empty();
            stamps.root = stamps.add(write_stamp(section, now, 1), &mut body);
            place_reserved(&mut body, 1);
            properties.insert(section.name(), Node::object(body), NO_STAMP);
            forms[section.index() - 1] = MetadataForm::Stamps(stamps);
        }
        doc.insert("properties", Node::object(properties), NO_STAMP);
        Twin {
            doc,
            sizes: [0; 3],
            forms,
            identity: OnceLock::new(),
        }
    }

    /// Parses a twin from JSON text (at most [`crate::DEFAULT_MAX_INPUT_BYTES`]), straight into
    /// its compact form. The document is taken as it is: limits are checked by writes and by
    /// [`crate::validate`], not here.
    pub fn from_json(text: &str) -> Result<Twin, Error> {
        check_input_size(text, &Limits::none())?;
        if let Some(read) = read(text) {
            return Twin::from_parts(read.doc, Some(read.forms));
        }
        let node: Node = serde_json::from_str(text)
            .map_err(|e| Error::new(ErrorKind::InvalidJson, "", format!("malformed JSON: {e}")))?;
        Twin::from_node(node)
    }

    /// Takes a twin document: any real IoT Hub twin, unknown fields and missing or partial
    /// `$metadata` included. Refused as `InvalidTwin` when it is not an object, when `tags`,
    /// `properties`, `desired`, `reported` or `$metadata` is present but not an object, or when
    /// `version` or `$version` is present but not a non-negative integer, or `etag` not a string.
    pub fn from_value(value: Value) -> Result<Twin, Error> {
        let Value::Object(doc) = &value else {
            return Err(invalid_twin("", "a twin must be a JSON object"));
        };
        // Checked before the conversion, which recurses.
        doc.iter().try_for_each(|(key, value)| {
            check_nesting(value, 1, MAX_NESTING + 3)
                .map_err(|e| e.under(&format!("/{}", crate::pointer::escape_pointer_token(key))))
        })?;
        Twin::from_node(Node::from_value(&value, NO_STAMP, false))
    }

    fn from_node(node: Node) -> Result<Twin, Error> {
        let Node::Object(doc) = node else {
            return Err(invalid_twin("", "a twin must be a JSON object"));
        };
        Twin::from_parts(*doc, None)
    }

    /// Checks a document read into nodes; `forms` when its metadata was read into stamps
    /// already, else it is read here.
    fn from_parts(mut doc: Object, forms: Option<[MetadataForm; 2]>) -> Result<Twin, Error> {
        for (key, value) in doc.iter() {
            check_node_nesting(
                value,
                1,
                MAX_NESTING + 3,
                &format!("/{}", crate::pointer::escape_pointer_token(key)),
            )?;
        }
        expect_type(&doc, "", "version", "a non-negative integer", |v| v.as_u64().is_some())?;
        expect_type(&doc, "", "etag", "a string", |v| v.as_str().is_some())?;
        expect_type(&doc, "", "tags", "an object", |v| v.as_object().is_some())?;
        expect_type(&doc, "", "properties", "an object", |v| v.as_object().is_some())?;
        if let Some(Node::Object(properties)) = doc.get("properties") {
            for section in [Section::Desired, Section::Reported] {
                expect_type(properties, "/properties", section.name(), "an object", |v| {
                    v.as_object().is_some()
                })?;
                if let Some(Node::Object(body)) = properties.get(section.name()) {
                    let at = section.pointer();
                    expect_type(body, at, VERSION, "a non-negative integer", |v| v.as_u64().is_some())?;
                    if forms.is_none() {
                        expect_type(body, at, METADATA, "an object", |v| v.as_object().is_some())?;
                    }
                }
            }
        }
        let forms = match forms {
            Some(forms) => forms,
            None => {
                let mut forms = [
                    MetadataForm::Stamps(Stamps::empty()),
                    MetadataForm::Stamps(Stamps::empty()),
                ];
                if let Some(properties) = doc.get_mut("properties").and_then(Node::as_object_mut) {
                    for section in [Section::Desired, Section::Reported] {
                        if let Some(body) = properties.get_mut(section.name()).and_then(Node::as_object_mut) {
                            forms[section.index() - 1] = compact(body, section == Section::Desired);
                        }
                    }
                }
                forms
            }
        };
        let mut twin = Twin {
            doc,
            sizes: [0; 3],
            forms,
            identity: OnceLock::new(),
        };
        for section in Section::ALL {
            twin.sizes[section.index()] = twin.content(section).map(|(k, v)| k.len() as u64 + v.size()).sum();
        }
        Ok(twin)
    }

    /// The twin document.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The twin document (kept for symmetry with [`Twin::from_value`]; the same as
    /// [`Twin::to_value`]).
    pub fn into_value(self) -> Value {
        self.to_value()
    }

    /// The twin document as compact JSON text.
    pub fn to_json(&self) -> String {
        // Serialising string keys and finite numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The twin document as indented JSON text.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes the twin's compact JSON text to `writer`, without building it in memory first.
    pub fn write_json<W: std::io::Write>(&self, writer: W) -> Result<(), std::io::Error> {
        serde_json::to_writer(writer, self).map_err(std::io::Error::from)
    }

    /// The etag, as stored (`None` for a document read without one).
    pub fn etag(&self) -> Option<&str> {
        self.doc.get("etag").and_then(Node::as_str)
    }

    /// The twin's `version` (0 for a document read without one).
    pub fn version(&self) -> u64 {
        self.doc.get("version").and_then(Node::as_u64).unwrap_or(0)
    }

    /// The section's object, as held (for desired and reported with `$version`, and `$metadata`
    /// when it is held inline).
    fn section_object(&self, section: Section) -> Option<&Object> {
        let holder = match section {
            Section::Tags => &self.doc,
            _ => self.doc.get("properties")?.as_object()?,
        };
        holder.get(section.name())?.as_object()
    }

    fn form(&self, section: Section) -> &MetadataForm {
        match section {
            Section::Tags => &MetadataForm::None,
            _ => &self.forms[section.index() - 1],
        }
    }

    /// A section as stored: for desired and reported, with `$metadata` and `$version`. (A copy:
    /// the twin does not hold `serde_json` values.)
    pub fn section_value(&self, section: Section) -> Option<Value> {
        let object = self.section_object(section)?;
        let out = SectionOut {
            section: object,
            form: self.form(section),
        };
        serde_json::to_value(out).ok()
    }

    /// A section's content members: for desired and reported, all but `$metadata` and `$version`.
    pub(crate) fn content(&self, section: Section) -> impl Iterator<Item = (&str, &Node)> {
        self.section_object(section)
            .into_iter()
            .flat_map(Object::iter)
            .filter(move |(k, _)| section == Section::Tags || !is_section_reserved(k))
    }

    /// A section's content as a JSON object (for desired and reported, without `$metadata` and
    /// `$version`).
    pub fn content_value(&self, section: Section) -> Value {
        Value::Object(
            self.content(section)
                .map(|(k, v)| (k.to_owned(), v.to_value()))
                .collect(),
        )
    }

    /// The content value at `pointer` (a JSON Pointer relative to the section's content; `""` is
    /// the content itself, as [`Twin::content_value`]), copied out. `None` when there is no such
    /// value, or when the pointer names `$metadata` or `$version` (see [`Twin::metadata_value`]
    /// and [`Twin::section_version`]).
    ///
    /// ```
    /// use serde_json::json;
    /// use twindoc::{Section, Twin, WriteOptions};
    /// let mut twin = Twin::new("devA", "2026-11-28T10:00:00Z".parse()?);
    /// let options = WriteOptions::new("2026-11-28T10:00:01Z".parse()?);
    /// twin.patch(Section::Reported, &json!({"wifi": {"ip": "10.0.0.2", "dns": ["1.1.1.1"]}}), &options)?;
    /// assert_eq!(twin.get(Section::Reported, "/wifi/dns/0"), Some(json!("1.1.1.1")));
    /// assert_eq!(twin.get(Section::Reported, "/wifi/mask"), None);
    /// # Ok::<(), twindoc::Error>(())
    /// ```
    pub fn get(&self, section: Section, pointer: &str) -> Option<Value> {
        if pointer.is_empty() {
            return Some(self.content_value(section));
        }
        let mut tokens = pointer.strip_prefix('/')?.split('/').map(unescape_pointer_token);
        let first = tokens.next()?;
        if section != Section::Tags && is_section_reserved(&first) {
            return None;
        }
        let mut node = self.section_object(section)?.get(&first)?;
        for token in tokens {
            node = match node {
                Node::Object(object) => object.get(&token)?,
                Node::Array(items) => items.get(array_index(&token)?)?,
                _ => return None,
            };
        }
        Some(node.to_value())
    }

    /// The value at `path` (member names from the document root), for queries (S11): borrowed
    /// from the tree or, under a `$metadata` held as stamps (rare in queries), written out first.
    /// Arrays are not indexed: a path through an array or a scalar resolves to nothing.
    pub(crate) fn resolve<S: AsRef<str>>(&self, path: &[S]) -> Option<Cow<'_, Node>> {
        fn walk<'n, S: AsRef<str>>(object: &'n Object, path: &[S]) -> Option<&'n Node> {
            let (first, rest) = path.split_first()?;
            let mut node = object.get(first.as_ref())?;
            for name in rest {
                node = node.as_object()?.get(name.as_ref())?;
            }
            Some(node)
        }
        if let [properties, section, metadata, rest @ ..] = path {
            let section = match section.as_ref() {
                "desired" => Some(Section::Desired),
                "reported" => Some(Section::Reported),
                _ => None,
            };
            if let (Some(section), "properties", METADATA) = (section, properties.as_ref(), metadata.as_ref()) {
                if let MetadataForm::Stamps(stamps) = self.form(section) {
                    return self.resolve_stamped(section, stamps, rest);
                }
            }
        }
        walk(&self.doc, path).map(Cow::Borrowed)
    }

    /// The `$metadata` node at `path` below a section's metadata root, or one of its stamps'
    /// members, written out from the stamps: only that node, since the path follows the
    /// content's members (a query naming `$metadata` of every twin must not write out every tree).
    fn resolve_stamped<S: AsRef<str>>(&self, section: Section, stamps: &Stamps, path: &[S]) -> Option<Cow<'_, Node>> {
        let content = self.section_object(section)?;
        // A section read without `$metadata` has an empty stamp table, not a metadata tree.
        content.get(METADATA)?;
        let mut node = Metadata {
            stamps,
            stamp: stamps.root,
            content: Some(content),
            root: true,
        };
        let mut rest = path;
        while let Some((name, tail)) = rest.split_first() {
            let name = name.as_ref();
            if name.starts_with('$') {
                // A stamp's member (`$lastUpdated`, ...): a scalar, so it ends the path.
                let stamp = Metadata { content: None, ..node }.to_value();
                return match tail.is_empty() {
                    true => stamp
                        .get(name)
                        .map(|v| Cow::Owned(Node::from_value(v, NO_STAMP, false))),
                    false => None,
                };
            }
            // A member without a stamp has no metadata node (a twin read with partial metadata).
            let member = node.content?.member(name).filter(|m| m.stamp != NO_STAMP)?;
            node = Metadata {
                stamps,
                stamp: member.stamp,
                content: member.value.as_object(),
                root: false,
            };
            rest = tail;
        }
        Some(Cow::Owned(Node::from_value(&node.to_value(), NO_STAMP, false)))
    }

    /// As [`Twin::resolve`], for a value that is copied out whole (a query's row): `properties`,
    /// desired and reported come with their `$metadata` written out from the stamps, where the
    /// tree holds only a placeholder.
    pub(crate) fn resolve_written<S: AsRef<str>>(&self, path: &[S]) -> Option<Cow<'_, Node>> {
        let stamped = |section: Section| matches!(self.form(section), MetadataForm::Stamps(_));
        let section = match path {
            [properties, section] if properties.as_ref() == "properties" => match section.as_ref() {
                "desired" => Some(Section::Desired),
                "reported" => Some(Section::Reported),
                _ => None,
            },
            _ => None,
        };
        let written = match (path, section) {
            ([properties], _)
                if properties.as_ref() == "properties" && (stamped(Section::Desired) || stamped(Section::Reported)) =>
            {
                self.to_value().get("properties").cloned()
            }
            (_, Some(section)) if stamped(section) => self.section_value(section),
            _ => return self.resolve(path),
        };
        written.map(|value| Cow::Owned(Node::from_value(&value, NO_STAMP, false)))
    }

    /// The twin's `deviceId`, when the document holds one as a string.
    pub fn device_id(&self) -> Option<&str> {
        self.identity_field("deviceId")
    }

    /// The twin's `moduleId` (module twins only), when the document holds one as a string.
    pub fn module_id(&self) -> Option<&str> {
        self.identity_field("moduleId")
    }

    /// A section's `$version` (`None` for tags, or when absent).
    pub fn section_version(&self, section: Section) -> Option<u64> {
        if section == Section::Tags {
            return None;
        }
        self.section_object(section)?.get(VERSION)?.as_u64()
    }

    /// A section's size by the S4 formula (what IoT Hub's size limits count).
    pub fn size(&self, section: Section) -> u64 {
        self.sizes[section.index()]
    }

    /// A section's `$metadata` tree, as the twin prints it (`None` for tags, or when absent).
    pub fn metadata_value(&self, section: Section) -> Option<Value> {
        if section == Section::Tags {
            return None;
        }
        let out = SectionOut {
            section: self.section_object(section)?,
            form: self.form(section),
        };
        out.metadata().map(|m| m.to_value()).filter(Value::is_object)
    }

    /// When the member at `pointer` (a JSON Pointer relative to the section, `""` for the
    /// section root) was last written, from `$metadata`. `None` when there is no such node.
    pub fn last_updated(&self, section: Section, pointer: &str) -> Option<LastUpdated> {
        let object = self.section_object(section)?;
        let tokens: Vec<String> = match pointer {
            "" => Vec::new(),
            _ => pointer
                .strip_prefix('/')?
                .split('/')
                .map(|t| unescape_pointer_token(t).into_owned())
                .collect(),
        };
        match self.form(section) {
            MetadataForm::None => None,
            MetadataForm::Stamps(stamps) => {
                object.get(METADATA)?;
                let mut stamp = stamps.root;
                let mut content = Some(object);
                for (depth, token) in tokens.iter().enumerate() {
                    if depth == 0 && is_section_reserved(token) {
                        return None;
                    }
                    let member = content?.member(token)?;
                    stamp = member.stamp;
                    content = member.value.as_object();
                }
                let stamp = stamps.get(stamp)?;
                Some(LastUpdated {
                    time: stamp.time.as_ref()?.as_str().to_owned(),
                    version: stamp.version,
                })
            }
            MetadataForm::Inline => {
                let mut node = object.get(METADATA)?.as_object()?;
                for token in &tokens {
                    node = node.get(token)?.as_object()?;
                }
                Some(LastUpdated {
                    time: node.get(LAST_UPDATED)?.as_str()?.to_owned(),
                    version: node.get(LAST_UPDATED_VERSION).and_then(Node::as_u64),
                })
            }
        }
    }

    /// What a device sees (S1): `{"desired": {..., "$version": N}, "reported": {..., "$version": M}}`.
    pub fn device_view(&self) -> Value {
        let mut view = Map::new();
        for section in [Section::Desired, Section::Reported] {
            let Value::Object(mut out) = self.content_value(section) else {
                continue;
            };
            out.insert(VERSION.into(), self.section_version(section).unwrap_or(0).into());
            view.insert(section.name().into(), Value::Object(out));
        }
        Value::Object(view)
    }

    /// Merges `body` into a section (S2 patch), as IoT Hub's PATCH does.
    ///
    /// The write is checked in full (S3 body rules, then the section size, then the
    /// preconditions) before anything changes: on error the twin is unchanged.
    pub fn patch<'b>(
        &mut self,
        section: Section,
        body: &'b Value,
        options: &WriteOptions,
    ) -> Result<WriteOutcome<'b>, Error> {
        let plan = self.plan(section, WriteKind::Patch, section_body(body)?, &options.limits)?;
        self.write(vec![plan], WriteKind::Patch, section, section, options)
    }

    /// Makes a section's content `body` (S2 replace; `null` members dropped at any depth).
    pub fn replace<'b>(
        &mut self,
        section: Section,
        body: &'b Value,
        options: &WriteOptions,
    ) -> Result<WriteOutcome<'b>, Error> {
        let plan = self.plan(section, WriteKind::Replace, section_body(body)?, &options.limits)?;
        self.write(vec![plan], WriteKind::Replace, section, section, options)
    }

    /// IoT Hub's "update twin": merges a twin-shaped body's `tags` and `properties.desired`
    /// parts as **one** atomic write (S2): both checked before either changes, `version` and the
    /// etag advanced once, desired `$version` only when a desired part is present.
    ///
    /// Identity fields in the body (`deviceId`, `etag`, `version`, ...) are ignored, as SDKs send
    /// them back; an absent part is left alone; a `null` part (`"tags": null`,
    /// `"properties": {"desired": null}`) clears its section, as a patch with `null` for every
    /// member it holds (so a null desired part moves desired `$version` and notifies the device);
    /// `properties.reported` (even `null`) and `"properties": null` are refused (`InvalidTwin`),
    /// since the service cannot write reported properties. Error paths are relative to the body
    /// (`/tags/a.b`, `/properties/desired/x`). `if_version`, when given, is the desired
    /// `$version`.
    ///
    /// ```
    /// use serde_json::json;
    /// use twindoc::{Twin, WriteOptions};
    /// let mut twin = Twin::new("devA", "2026-11-28T10:00:00Z".parse()?);
    /// let body = json!({"deviceId": "devA", "tags": {"site": "a"}, "properties": {"desired": {"on": true}}});
    /// let outcome = twin.update(&body, &WriteOptions::new("2026-11-28T10:00:01Z".parse()?))?;
    /// assert_eq!((outcome.version, outcome.section_version, outcome.etag.as_str()), (3, Some(2), "AAAAAAAAAAI="));
    /// # Ok::<(), twindoc::Error>(())
    /// ```
    pub fn update<'b>(&mut self, body: &'b Value, options: &WriteOptions) -> Result<WriteOutcome<'b>, Error> {
        self.write_twin(body, WriteKind::Patch, options)
    }

    /// IoT Hub's "replace twin": as [`Twin::update`], but each part present replaces its section.
    pub fn replace_twin<'b>(&mut self, body: &'b Value, options: &WriteOptions) -> Result<WriteOutcome<'b>, Error> {
        self.write_twin(body, WriteKind::Replace, options)
    }

    fn write_twin<'b>(
        &mut self,
        body: &'b Value,
        kind: WriteKind,
        options: &WriteOptions,
    ) -> Result<WriteOutcome<'b>, Error> {
        let Value::Object(body) = body else {
            return Err(Error::new(
                ErrorKind::NotAnObject,
                "",
                "the twin body must be a JSON object",
            ));
        };
        let properties =
            match body.get("properties") {
                None => None,
                Some(Value::Object(properties)) => Some(properties),
                Some(Value::Null) => return Err(invalid_twin(
                    "/properties",
                    "properties cannot be null: it would remove reported properties, which the service cannot write",
                )),
                Some(_) => {
                    return Err(Error::new(
                        ErrorKind::NotAnObject,
                        "/properties",
                        "properties must be an object",
                    ))
                }
            };
        if properties.is_some_and(|p| p.contains_key("reported")) {
            return Err(invalid_twin(
                "/properties/reported",
                "the service cannot write reported properties",
            ));
        }
        // Both parts' shapes are checked before either part's rules.
        let mut parts = Vec::with_capacity(2);
        for (section, part) in [
            (Section::Tags, body.get("tags")),
            (Section::Desired, properties.and_then(|p| p.get("desired"))),
        ] {
            match part {
                None => {}
                // A null part clears the section: a patch with `null` for every member it holds.
                Some(Value::Null) => parts.push((
                    section,
                    WriteKind::Patch,
                    Cow::Owned(
                        self.content(section)
                            .map(|(k, _)| (k.to_owned(), Value::Null))
                            .collect(),
                    ),
                )),
                Some(Value::Object(part)) => parts.push((section, kind, Cow::Borrowed(part))),
                Some(_) => {
                    return Err(Error::new(
                        ErrorKind::NotAnObject,
                        section.pointer(),
                        format!("{} must be an object", &section.pointer()[1..]),
                    ))
                }
            }
        }
        let mut plans = Vec::with_capacity(2);
        for (section, kind, part) in parts {
            // Size errors keep the empty path of S3; the others point into the body.
            let plan = self
                .plan(section, kind, part, &options.limits)
                .map_err(|e| match e.kind() {
                    ErrorKind::SizeLimitExceeded => e,
                    _ => e.under(section.pointer()),
                })?;
            plans.push(plan);
        }
        // The write counts as a tags-and-desired write even when both parts are absent; the
        // $version a precondition names is desired's, whichever parts the body has.
        let main = if plans.iter().any(|p| p.section == Section::Desired) {
            Section::Desired
        } else {
            Section::Tags
        };
        self.write(plans, kind, main, Section::Desired, options)
    }

    /// Checks one section's part of a write and works out what it will do, changing nothing.
    fn plan<'b>(
        &self,
        section: Section,
        kind: WriteKind,
        body: Cow<'b, Map<String, Value>>,
        limits: &Limits,
    ) -> Result<Plan<'b>, Error> {
        check_body(&body, limits)?;
        let old_size = self.sizes[section.index()];
        let max = limits.section_bytes(section);
        let (replacement, new_size) = match kind {
            // A patch adds at most its written members' sizes: when even that fits, the exact
            // change (a lookup per member) need not be worked out before the merge.
            WriteKind::Patch if max.is_none_or(|max| old_size.saturating_add(written_object_size(&body)) <= max) => {
                (None, old_size)
            }
            WriteKind::Patch => {
                let change = size_change(self.section_object(section), &body);
                (None, u64::try_from(i128::from(old_size) + change).unwrap_or(0))
            }
            WriteKind::Replace => {
                let new_size = written_object_size(&body);
                (Some((without_nulls(&body), new_size)), new_size)
            }
        };
        if let Some(max) = max {
            if new_size > max && new_size > old_size {
                return Err(Error::new(
                    ErrorKind::SizeLimitExceeded,
                    "",
                    format!("{section} would be {new_size} bytes, over the limit of {max}"),
                ));
            }
        }
        Ok(Plan {
            section,
            body,
            replacement,
        })
    }

    /// Checks the preconditions (`if_version` against `versioned`'s `$version`), then applies the
    /// planned parts as one write counted against `main` (the section the outcome reports).
    fn write<'b>(
        &mut self,
        plans: Vec<Plan<'b>>,
        kind: WriteKind,
        main: Section,
        versioned: Section,
        options: &WriteOptions,
    ) -> Result<WriteOutcome<'b>, Error> {
        // Everything that can fail is checked before the first change; what follows cannot fail.
        self.check_preconditions(versioned, options)?;
        let current_version = self.version();
        let version = next(current_version, "version")?;
        let mut section_version = None;
        for plan in &plans {
            if plan.section != Section::Tags {
                section_version = Some(next(self.section_version(plan.section).unwrap_or(0), VERSION)?);
            }
        }
        let current_etag = self.etag();
        let etag = match main {
            Section::Reported => current_etag.unwrap_or_default().to_owned(),
            _ => encode_etag(
                current_etag
                    .and_then(decode_etag)
                    .unwrap_or(current_version)
                    .wrapping_add(1),
            ),
        };
        // Only desired and reported show in the digital twin: a tags write cannot change it.
        let view_names = (options.digital_twin_event && plans.iter().any(|p| p.section != Section::Tags))
            .then(|| self.view_names(&plans));
        let view_before = view_names.as_ref().map(|names| self.digital_twin_of(names));
        let mut notification = None;
        let properties = self.event_properties(options, kind);
        let mut event = ChangeEvent::update(properties, version);
        for mut plan in plans {
            let version = section_version.unwrap_or(0);
            if kind == WriteKind::Patch {
                event.add_part(plan.section, &plan.body, version);
            }
            if plan.section == Section::Desired {
                // A patch notifies its body as given; a replace what the device must merge.
                let body = match &plan.replacement {
                    Some((new, _)) => Cow::Owned(replace_notification(self.section_object(Section::Desired), new)),
                    None => plan.body.clone(),
                };
                notification = Some(Notification::new(body, version));
            }
            self.commit(&mut plan, version, options.now);
        }
        self.doc.insert("version", Node::Number(version.into()), NO_STAMP);
        if main != Section::Reported {
            self.doc.insert("etag", Node::String(etag.as_str().into()), NO_STAMP);
        }
        let digital_twin_event = view_before.zip(view_names).and_then(|(before, names)| {
            DigitalTwinEvent::between(&before, &self.digital_twin_of(&names), event.properties())
        });
        if kind == WriteKind::Replace {
            event = ChangeEvent::replace(event.properties().clone(), self.event_document());
        }
        Ok(WriteOutcome {
            version,
            section_version: section_version.filter(|_| main != Section::Tags),
            etag,
            notification,
            event,
            digital_twin_event,
        })
    }

    /// Applies a planned part: the content, and for desired and reported the metadata and
    /// `$version`. Cannot fail.
    fn commit(&mut self, plan: &mut Plan<'_>, section_version: u64, now: Timestamp) {
        let section = plan.section;
        let index = section.index();
        let target = section_mut(&mut self.doc, section);
        if section == Section::Tags {
            match plan.replacement.take() {
                Some((new, new_size)) => {
                    *target = Object::from_map(&new, NO_STAMP, false);
                    self.sizes[index] = new_size;
                }
                None => {
                    let change = merge(target, &plan.body, NO_STAMP);
                    self.sizes[index] = apply_change(self.sizes[index], change);
                }
            }
            return;
        }
        let form = &mut self.forms[index - 1];
        let stamp = write_stamp(section, now, section_version);
        match (plan.replacement.take(), form) {
            // A replace stamps every node afresh, whatever shape the metadata had.
            (Some((new, new_size)), form) => {
                let mut stamps = Stamps::empty();
                let mut content = Object::new();
                let id = stamps.add(stamp, &mut content);
                stamps.root = id;
                content = Object::from_map(&new, id, false);
                place_reserved(&mut content, section_version);
                *target = content;
                *form = MetadataForm::Stamps(stamps);
                self.sizes[index] = new_size;
            }
            (None, MetadataForm::Stamps(stamps)) => {
                let id = stamps.add(stamp, target);
                stamps.root = id;
                let change = merge(target, &plan.body, id);
                place_reserved(target, section_version);
                self.sizes[index] = apply_change(self.sizes[index], change);
            }
            (None, form) => {
                let desired = section == Section::Desired;
                let change = inline::merge(target, &plan.body, desired, section_version, now);
                *form = compact(target, desired);
                self.sizes[index] = apply_change(self.sizes[index], change);
            }
        }
    }

    /// Whether the twin is a module twin (it has a `moduleId` that is not `null`), as queries
    /// decide it.
    pub(crate) fn is_module(&self) -> bool {
        !matches!(self.doc.get("moduleId"), None | Some(Node::Null))
    }

    /// Sets the identity-level member `configurations` (S12), or removes it (`None`). It is not
    /// a write: neither `version` nor the etag moves. A new member goes at the end of the
    /// document.
    pub(crate) fn set_configurations(&mut self, statuses: Option<&Value>) {
        match statuses {
            Some(value) => self
                .doc
                .insert(CONFIGURATIONS, Node::from_value(value, NO_STAMP, false), NO_STAMP),
            None => {
                self.doc.remove(CONFIGURATIONS);
            }
        }
    }

    /// After a desired write by configurations (S12): gives the metadata node of each path in
    /// `marks` (member names from the desired root, each a node the write just stamped; an empty
    /// path is the section root) the write's stamp plus `$lastUpdatedBy` and
    /// `$lastUpdatedByDigest`, the configuration naming it being `owners[i]` for a mark `(path, i)`.
    pub(crate) fn mark_configured(&mut self, marks: &[(Vec<&str>, usize)], owners: &[(&str, &str)]) {
        let index = Section::Desired.index();
        let target = section_mut(&mut self.doc, Section::Desired);
        match &mut self.forms[index - 1] {
            MetadataForm::Stamps(stamps) => {
                let Some(written) = stamps.get(stamps.root).cloned() else {
                    return;
                };
                // Each configuration's stamp is added, then given to its nodes at once: adding the
                // next may collect the table, which keeps only the stamps nodes refer to.
                for (owner, (by, digest)) in owners.iter().enumerate() {
                    if !marks.iter().any(|(_, o)| *o == owner) {
                        continue;
                    }
                    let configured = Stamp {
                        configuration: Some(Box::new(StampConfiguration {
                            by: Some((*by).into()),
                            digest: Some((*digest).into()),
                        })),
                        ..written.clone()
                    };
                    let id = stamps.add(configured, target);
                    for (path, _) in marks.iter().filter(|(_, o)| *o == owner) {
                        // The section root (owned through a `properties.desired` key) is the
                        // table's root stamp.
                        if path.is_empty() {
                            stamps.root = id;
                        } else if let Some(member) = member_at(target, path) {
                            member.stamp = id;
                        }
                    }
                }
            }
            MetadataForm::Inline => {
                let Some(Node::Object(metadata)) = target.get_mut(METADATA) else {
                    return;
                };
                for (path, owner) in marks {
                    let Some((by, digest)) = owners.get(*owner) else {
                        continue;
                    };
                    let Some(node) = object_at(metadata, path) else {
                        continue;
                    };
                    // After `$lastUpdated` and `$lastUpdatedVersion`, as IoT Hub writes them.
                    let at = node
                        .members()
                        .take_while(|m| &*m.key == LAST_UPDATED || &*m.key == LAST_UPDATED_VERSION)
                        .count();
                    for (offset, (key, value)) in [(LAST_UPDATED_BY, by), (LAST_UPDATED_BY_DIGEST, digest)]
                        .into_iter()
                        .enumerate()
                    {
                        node.remove(key);
                        node.insert_at(at + offset, key, Node::String((*value).into()));
                    }
                }
                self.forms[index - 1] = compact(target, true);
            }
            MetadataForm::None => {}
        }
    }

    /// The members of desired and reported whose part of the digital twin the write can change:
    /// those its bodies name, all of a replaced section's, and after a desired write those whose
    /// `desiredVersion` is desired's `$version`. The rest of the view stays as it is, so the
    /// digital twin change event needs only these (S14).
    fn view_names(&self, plans: &[Plan<'_>]) -> Vec<String> {
        let mut names = Vec::new();
        for plan in plans.iter().filter(|p| p.section != Section::Tags) {
            names.extend(plan.body.keys().cloned());
            if plan.replacement.is_some() {
                names.extend(self.content(plan.section).map(|(k, _)| k.to_owned()));
            }
            if plan.section == Section::Desired {
                names.extend(self.unversioned_desired_names());
            }
        }
        names.sort_unstable();
        names.dedup();
        names
    }

    /// A string identity field (`deviceId`, `moduleId`, `modelId`), as stored.
    pub(crate) fn identity_field(&self, name: &str) -> Option<&str> {
        self.doc.get(name).and_then(Node::as_str)
    }

    /// The properties of this twin's change events for a write with `options`.
    fn event_properties(&self, options: &WriteOptions, kind: WriteKind) -> EventProperties {
        let identity = self.identity.get_or_init(|| {
            Arc::new(Identity {
                device_id: self.identity_field("deviceId").map(Box::from),
                module_id: self.identity_field("moduleId").map(Box::from),
            })
        });
        EventProperties {
            identity: Arc::clone(identity),
            hub_name: options.hub_name.clone(),
            operation_timestamp: options.now,
            message_schema: "twinChangeNotification",
            op_type: match kind {
                WriteKind::Patch => "updateTwin",
                WriteKind::Replace => "replaceTwin",
            },
        }
    }

    /// The twin as a replace's change event shows it: `deviceId`, `moduleId`, `etag`, `version`,
    /// `tags` and `properties`, a copy.
    fn event_document(&self) -> Twin {
        let mut doc = Object::new();
        for (key, value) in self.doc.iter() {
            if matches!(
                key,
                "deviceId" | "moduleId" | "etag" | "version" | "tags" | "properties"
            ) {
                doc.insert(key, value.clone(), NO_STAMP);
            }
        }
        Twin {
            doc,
            sizes: self.sizes,
            forms: self.forms.clone(),
            identity: self.identity.clone(),
        }
    }

    fn check_preconditions(&self, section: Section, options: &WriteOptions) -> Result<(), Error> {
        if let Some(expected) = &options.if_match {
            let bare = expected.strip_prefix("W/").unwrap_or(expected);
            let bare = bare.strip_prefix('"').and_then(|b| b.strip_suffix('"')).unwrap_or(bare);
            // Only a bare `*` is the wildcard: `"*"` is an etag (RFC 7232), compared as any.
            // An empty If-Match names no etag, so it matches none, even a twin's empty one.
            if expected != "*" && (bare.is_empty() || Some(bare) != self.etag()) {
                return Err(Error::new(
                    ErrorKind::PreconditionFailed,
                    "",
                    format!(
                        "If-Match {expected:?} does not match the twin's etag {:?}",
                        self.etag().unwrap_or_default()
                    ),
                ));
            }
        }
        if let Some(expected) = options.if_version {
            // A missing `$version` reads as 0, as the write itself counts it; tags have none.
            let current = match section {
                Section::Tags => None,
                _ => Some(self.section_version(section).unwrap_or(0)),
            };
            if current != Some(expected) {
                let current = current.map_or_else(|| "none".to_string(), |v| v.to_string());
                return Err(Error::new(
                    ErrorKind::PreconditionFailed,
                    "",
                    format!("expected {section} $version {expected}, but it is {current}"),
                ));
            }
        }
        Ok(())
    }
}

/// A section write's body, which must be an object.
fn section_body(body: &Value) -> Result<Cow<'_, Map<String, Value>>, Error> {
    match body {
        Value::Object(body) => Ok(Cow::Borrowed(body)),
        _ => Err(Error::new(ErrorKind::NotAnObject, "", "the body must be a JSON object")),
    }
}

/// What a write stamps: its time, and in desired the section's new `$version`.
fn write_stamp(section: Section, now: Timestamp, section_version: u64) -> Stamp {
    Stamp {
        time: Some(Time::Written(now.text())),
        version: (section == Section::Desired).then_some(section_version),
        configuration: None,
    }
}

fn apply_change(size: u64, change: i128) -> u64 {
    u64::try_from(i128::from(size) + change).unwrap_or(0)
}

/// The section's object in `doc`, created (empty) when the document has none.
fn section_mut(doc: &mut Object, section: Section) -> &mut Object {
    let holder = match section {
        Section::Tags => {
            if !doc.contains_key("tags") {
                // IoT Hub shows tags just before properties.
                let at = doc.index_of("properties").unwrap_or(doc.len());
                doc.insert_at(at, "tags", Node::object(Object::new()));
            }
            doc
        }
        _ => doc.entry("properties").make_object(),
    };
    holder.entry(section.name()).make_object()
}

/// The object at `path` (member names from `object`), through objects only.
fn object_at<'o>(object: &'o mut Object, path: &[&str]) -> Option<&'o mut Object> {
    let mut object = object;
    for name in path {
        object = object.get_mut(name)?.as_object_mut()?;
    }
    Some(object)
}

/// The member at `path` (member names from `object`), through objects only.
fn member_at<'o>(object: &'o mut Object, path: &[&str]) -> Option<&'o mut Member> {
    let (last, parents) = path.split_last()?;
    let mut object = object;
    for name in parents {
        object = object.get_mut(name)?.as_object_mut()?;
    }
    object.member_mut(last)
}

/// An RFC 6901 array index: digits, without a leading zero.
fn array_index(token: &str) -> Option<usize> {
    if token.is_empty() || (token.len() > 1 && token.starts_with('0')) || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

fn next(counter: u64, name: &str) -> Result<u64, Error> {
    counter
        .checked_add(1)
        .ok_or_else(|| invalid_twin("", &format!("the twin's {name} cannot be incremented past {counter}")))
}

/// The etag of counter `n`: base64 of its 8 big-endian bytes.
fn encode_etag(counter: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(counter.to_be_bytes())
}

/// The counter of an etag made by [`encode_etag`], or `None` for any other (opaque) etag.
fn decode_etag(etag: &str) -> Option<u64> {
    // Exactly 8 bytes fit 12 base64 characters; anything longer is not a counter.
    if etag.len() != 12 {
        return None;
    }
    let mut bytes = [0u8; 8];
    let written = base64::engine::general_purpose::STANDARD
        .decode_slice(etag, &mut bytes)
        .ok()?;
    (written == 8).then(|| u64::from_be_bytes(bytes))
}

fn invalid_twin(path: &str, message: &str) -> Error {
    Error::new(ErrorKind::InvalidTwin, path, message)
}

fn expect_type(holder: &Object, at: &str, key: &str, what: &str, ok: impl Fn(&Node) -> bool) -> Result<(), Error> {
    match holder.get(key) {
        Some(value) if !ok(value) => Err(invalid_twin(&format!("{at}/{key}"), &format!("{key} must be {what}"))),
        _ => Ok(()),
    }
}

impl fmt::Display for Twin {
    /// The compact JSON text of the twin.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl Serialize for Twin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        DocumentOut {
            doc: &self.doc,
            forms: [&self.forms[0], &self.forms[1]],
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Twin {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Twin::from_node(Node::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    impl Twin {
        /// Whether a section's metadata is held as stamps.
        fn holds_stamps(&self, section: Section) -> bool {
            matches!(self.form(section), MetadataForm::Stamps(_))
        }

        /// The same twin with desired's and reported's metadata held inline, so that its patches
        /// take the general path.
        fn inline(&self) -> Twin {
            let mut twin = self.clone();
            for section in [Section::Desired, Section::Reported] {
                if let Some(Value::Object(metadata)) = self.metadata_value(section) {
                    let node = Node::object(Object::from_map(&metadata, NO_STAMP, false));
                    section_mut(&mut twin.doc, section).insert(METADATA, node, NO_STAMP);
                    twin.forms[section.index() - 1] = MetadataForm::Inline;
                }
            }
            twin
        }
    }

    #[test]
    fn a_metadata_path_resolves_to_what_the_written_tree_holds() {
        fn every_path(value: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
            out.push((path.clone(), value.clone()));
            if let Value::Object(members) = value {
                for (key, child) in members {
                    path.push(key.clone());
                    every_path(child, path, out);
                    path.pop();
                }
            }
        }
        for text in [
            include_str!("../tests/fixtures/fleet-device.json"),
            include_str!("../tests/fixtures/pnp-thermostat.json"),
            include_str!("../tests/fixtures/edge-module.json"),
        ] {
            let twin = Twin::from_json(text).unwrap();
            for section in [Section::Desired, Section::Reported] {
                assert!(twin.holds_stamps(section));
                let mut paths = Vec::new();
                every_path(&twin.metadata_value(section).unwrap(), &mut Vec::new(), &mut paths);
                assert!(paths.len() > 3, "{section}");
                for (path, expected) in paths {
                    let full: Vec<String> = ["properties", section.name(), METADATA]
                        .into_iter()
                        .map(String::from)
                        .chain(path.iter().cloned())
                        .collect();
                    let found = twin.resolve(&full).map(|node| node.to_value());
                    assert_eq!(found, Some(expected), "{full:?}");
                    // One step further: below a stamp, or a member with no node.
                    let mut further = full.clone();
                    further.push("absent".into());
                    assert_eq!(twin.resolve(&further).map(|node| node.to_value()), None, "{further:?}");
                }
            }
        }
    }

    #[test]
    fn a_section_name_is_an_argument_not_a_document() {
        assert_eq!("reported".parse::<Section>().unwrap(), Section::Reported);
        let e = "sideways".parse::<Section>().unwrap_err();
        assert_eq!((e.code(), e.status(), e.error_code()), ("InvalidArgument", 400, 400004));
    }

    #[test]
    fn the_fixtures_metadata_is_held_as_stamps_and_prints_back_exactly() {
        for text in [
            include_str!("../tests/fixtures/fleet-device.json"),
            include_str!("../tests/fixtures/pnp-thermostat.json"),
            include_str!("../tests/fixtures/edge-module.json"),
        ] {
            let twin = Twin::from_json(text).unwrap();
            assert!(twin.holds_stamps(Section::Desired) && twin.holds_stamps(Section::Reported));
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(twin.to_json(), value.to_string());
            assert_eq!(Twin::from_value(value.clone()).unwrap().to_json(), value.to_string());
        }
    }

    #[test]
    fn metadata_stamps_cannot_hold_stays_inline_and_prints_back_exactly() {
        let t = "2026-01-01T00:00:00.0000000Z";
        let section = |metadata: Value| json!({"deviceId": "d", "properties": {"desired": {"a": {"b": 1}, "c": 2, "$metadata": metadata, "$version": 3}}});
        let canonical = json!({"$lastUpdated": t, "$lastUpdatedVersion": 3,
            "a": {"$lastUpdated": t, "$lastUpdatedVersion": 3, "$lastUpdatedBy": "cfg", "$lastUpdatedByDigest": "1",
                  "b": {"$lastUpdated": t, "$lastUpdatedVersion": 2}},
            "c": {"$lastUpdated": t, "$lastUpdatedVersion": 1}});
        let twin = Twin::from_value(section(canonical.clone())).unwrap();
        assert!(twin.holds_stamps(Section::Desired));
        assert_eq!(twin.to_value(), section(canonical.clone()));
        let leaf = json!({"$lastUpdated": t, "$lastUpdatedVersion": 1});
        for foreign in [
            // A member without a node, nodes in another order, a node for an absent member.
            json!({"$lastUpdated": t, "$lastUpdatedVersion": 3, "c": leaf}),
            json!({"$lastUpdated": t, "$lastUpdatedVersion": 3, "c": leaf, "a": canonical["a"]}),
            json!({"$lastUpdated": t, "$lastUpdatedVersion": 3, "a": canonical["a"], "c": leaf, "z": leaf}),
            // Stamps in another order or of another type, unknown members, a child in a leaf.
            json!({"$lastUpdatedVersion": 3, "$lastUpdated": t, "a": canonical["a"], "c": leaf}),
            json!({"$lastUpdated": t, "$lastUpdatedVersion": 3.0, "a": canonical["a"], "c": leaf}),
            json!({"$lastUpdated": t, "$lastUpdatedVersion": 3, "a": canonical["a"], "c": {"$lastUpdated": t, "$lastUpdatedVersion": 1, "x": 1}}),
            json!({"$lastUpdated": t, "$lastUpdatedVersion": 3, "a": canonical["a"], "c": {"$lastUpdated": t, "$lastUpdatedVersion": 1, "z": {}}}),
            json!({"$lastUpdated": t, "$lastUpdatedVersion": 3, "a": {"b": leaf, "$lastUpdated": t, "$lastUpdatedVersion": 2}, "c": leaf}),
            // Desired without `$lastUpdatedVersion` on a node with children: a re-stamp appends it.
            json!({"$lastUpdated": t, "a": canonical["a"], "c": leaf}),
        ] {
            let twin = Twin::from_value(section(foreign.clone())).unwrap();
            assert!(!twin.holds_stamps(Section::Desired), "{foreign}");
            assert_eq!(twin.to_json(), section(foreign.clone()).to_string());
        }
    }

    #[test]
    fn writes_after_a_foreign_shape_is_written_over_come_back_to_stamps() {
        let t = "2026-01-01T00:00:00.0000000Z";
        let doc = json!({"properties": {"reported": {"a": 1, "$metadata": {"$lastUpdated": t}, "$version": 1}}});
        let mut twin = Twin::from_value(doc).unwrap();
        assert!(!twin.holds_stamps(Section::Reported));
        let options = WriteOptions::new("2026-01-02T00:00:00Z".parse().unwrap());
        twin.replace(Section::Reported, &json!({"b": 2}), &options).unwrap();
        assert!(twin.holds_stamps(Section::Reported));
        assert_eq!(
            twin.metadata_value(Section::Reported).unwrap()["b"]["$lastUpdated"],
            "2026-01-02T00:00:00.0000000Z"
        );
    }

    #[test]
    fn stamps_no_member_refers_to_are_collected() {
        let mut twin = Twin::new("d", "2026-01-01T00:00:00Z".parse().unwrap());
        for i in 0..1000 {
            let options = WriteOptions::new(Timestamp::from_unix_millis(1_000_000 + i).unwrap());
            twin.patch(Section::Desired, &json!({"a": i, "b": {"c": i % 7}}), &options)
                .unwrap();
        }
        let MetadataForm::Stamps(stamps) = twin.form(Section::Desired) else {
            panic!("desired is held as stamps");
        };
        assert!(stamps.len() <= 128, "{} stamps", stamps.len());
        assert_eq!(twin.last_updated(Section::Desired, "/b/c").unwrap().version, Some(1001));
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (-5i64..5).prop_map(Value::from),
            Just(json!(1.0)),
            "[a-c]{0,3}".prop_map(Value::from),
        ]
    }

    fn body() -> impl Strategy<Value = Value> {
        let value = leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone().prop_filter("no null in arrays", |v| !v.is_null()), 0..3).prop_map(
                    |items| json!(items
                        .into_iter()
                        .filter(|v| !v.to_string().contains("null"))
                        .collect::<Vec<_>>())
                ),
                prop::collection::btree_map("[a-e]", inner, 0..4).prop_map(|m| json!(m)),
            ]
        });
        prop::collection::vec(("[a-e]", value), 0..5).prop_map(|members| Value::Object(members.into_iter().collect()))
    }

    /// The general reading of a twin's text: a tree of nodes, then the metadata into stamps.
    fn read_generally(text: &str) -> Twin {
        Twin::from_node(serde_json::from_str(text).unwrap()).unwrap()
    }

    /// Changes a twin document's metadata, or the place of its parts, in one of the ways a twin
    /// from elsewhere may differ from what the engine writes; `pick` chooses where and how.
    fn disturb(doc: &mut Value, pick: usize) {
        let section = &mut doc["properties"][["desired", "reported"][pick % 2]];
        let Some(section) = section.as_object_mut() else { return };
        let mut nodes = vec![Vec::<String>::new()];
        fn collect(node: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            for (k, v) in node
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| !k.starts_with('$'))
            {
                path.push(k.clone());
                out.push(path.clone());
                collect(v, path, out);
                path.pop();
            }
        }
        collect(&section["$metadata"], &mut Vec::new(), &mut nodes);
        let path = &nodes[(pick / 2) % nodes.len()];
        let mut node = &mut section["$metadata"];
        for key in path {
            node = &mut node[key];
        }
        let Some(node) = node.as_object_mut() else { return };
        match (pick / 16) % 7 {
            0 => {
                let last = node.keys().next_back().cloned();
                last.map(|k| node.shift_remove(&k));
            }
            1 => {
                let reversed: Map<String, Value> = std::mem::take(node).into_iter().rev().collect();
                *node = reversed;
            }
            2 => {
                node.insert("extra".into(), json!(1));
            }
            3 => {
                node.insert("$lastUpdatedVersion".into(), json!(1.0));
            }
            4 => {
                node.shift_remove("$lastUpdated");
            }
            5 => {
                let metadata = section.shift_remove("$metadata").unwrap_or_default();
                section.shift_insert(0, "$metadata".into(), metadata);
            }
            _ => {
                let first = section.keys().next().cloned();
                if let Some((k, v)) = first.and_then(|k| section.shift_remove_entry(&k)) {
                    section.insert(k, v);
                }
            }
        }
    }

    proptest! {
        /// Text read straight into stamps makes the twin the general reading makes, whatever its
        /// metadata's shape, and writes to it agree.
        #[test]
        fn reading_text_straight_into_stamps_agrees_with_the_general_reading(
            writes in prop::collection::vec((0..3usize, body()), 1..6),
            picks in prop::collection::vec(any::<usize>(), 0..3),
            patch in body(),
        ) {
            let mut twin = Twin::new("d", "2026-01-01T00:00:00Z".parse().unwrap());
            for (i, (section, body)) in writes.iter().enumerate() {
                let options = WriteOptions::new(Timestamp::from_unix_millis(1_000 * i as i64).unwrap());
                twin.patch(Section::ALL[*section], body, &options).unwrap();
            }
            let mut doc = twin.to_value();
            for pick in &picks {
                disturb(&mut doc, *pick);
            }
            let text = doc.to_string();
            let (mut fast, mut general) = (Twin::from_json(&text).unwrap(), read_generally(&text));
            prop_assert_eq!(fast.to_json(), text.clone());
            prop_assert_eq!(general.to_json(), text);
            for section in [Section::Desired, Section::Reported] {
                prop_assert_eq!(fast.holds_stamps(section), general.holds_stamps(section));
            }
            let options = WriteOptions::new(Timestamp::from_unix_millis(99_000).unwrap());
            let a = fast.patch(Section::Desired, &patch, &options).map(|o| o.into_owned());
            let b = general.patch(Section::Desired, &patch, &options).map(|o| o.into_owned());
            prop_assert_eq!(a, b);
            prop_assert_eq!(fast.to_json(), general.to_json());
        }

        /// The stamped merge writes exactly what the general (inline) merge writes.
        #[test]
        fn stamps_and_inline_metadata_write_the_same_bytes(
            writes in prop::collection::vec((0..3usize, any::<bool>(), body()), 1..12)
        ) {
            let mut compact = Twin::new("d", "2026-01-01T00:00:00Z".parse().unwrap());
            let mut inline = compact.inline();
            for (i, (section, replace, body)) in writes.iter().enumerate() {
                let section = Section::ALL[*section];
                let options = WriteOptions::new(Timestamp::from_unix_millis(1_000 * i as i64).unwrap());
                let (a, b) = match replace {
                    true => (compact.replace(section, body, &options), inline.replace(section, body, &options)),
                    false => (compact.patch(section, body, &options), inline.patch(section, body, &options)),
                };
                prop_assert_eq!(a, b);
                prop_assert_eq!(compact.to_json(), inline.to_json());
                prop_assert!(compact.holds_stamps(Section::Desired) && compact.holds_stamps(Section::Reported));
                for s in Section::ALL {
                    prop_assert_eq!(compact.size(s), inline.size(s));
                }
                // Keep one side inline (a replace brings it back to stamps).
                inline = Twin::from_json(&inline.to_json()).unwrap().inline();
            }
        }
    }
}
