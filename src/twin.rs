//! The twin document and its writes (SEMANTICS.md S1, S2, S5, S7).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};
use crate::limits::{check_body, check_nesting, is_section_reserved, members_size, written_object_size, MAX_NESTING};
use crate::metadata::{names_configurations, set, Stamp, LAST_UPDATED, LAST_UPDATED_VERSION};
use crate::patch::{merge_object, replace_notification, size_change, without_nulls, Meta};
use crate::{Limits, Timestamp};

const METADATA: &str = "$metadata";
const VERSION: &str = "$version";

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
                ErrorKind::InvalidTwin,
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
}

impl WriteOptions {
    /// An unconditional write at `now`, with IoT Hub's limits.
    pub fn new(now: Timestamp) -> Self {
        WriteOptions {
            now,
            if_match: None,
            if_version: None,
            limits: Limits::azure(),
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
}

/// What a successful write did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteOutcome {
    /// The twin's `version` after the write.
    pub version: u64,
    /// The section's `$version` after the write (`None` for tags).
    pub section_version: Option<u64>,
    /// The twin's etag after the write.
    pub etag: String,
    /// What IoT Hub sends the device (desired writes only, S7): the patch with `$version`.
    pub notification: Option<Value>,
}

/// When a node of `$metadata` was last written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastUpdated {
    /// `$lastUpdated`, as the twin holds it.
    pub time: String,
    /// `$lastUpdatedVersion` (desired only).
    pub version: Option<u64>,
}

/// One section's part of a write, checked and ready to apply.
struct Plan<'b> {
    section: Section,
    body: &'b Map<String, Value>,
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
#[derive(Clone, Debug)]
pub struct Twin {
    doc: Map<String, Value>,
    /// The S4 size of each section, kept up to date by every write.
    sizes: [u64; 3],
    /// Per section, whether its `$metadata` may name configurations (`$lastUpdatedBy`, which only
    /// a twin read from IoT Hub can hold: the engine never writes it).
    names_configurations: [bool; 3],
}

/// Twins are equal when their documents are (the rest is derived from the document).
impl PartialEq for Twin {
    fn eq(&self, other: &Twin) -> bool {
        self.doc == other.doc
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
        let mut doc = Map::new();
        doc.insert("deviceId".into(), device_id.into());
        if let Some(module_id) = module_id {
            doc.insert("moduleId".into(), module_id.into());
        }
        doc.insert("etag".into(), encode_etag(1).into());
        doc.insert("version".into(), 2.into());
        let mut properties = Map::new();
        for section in [Section::Desired, Section::Reported] {
            let stamp = Stamp::new(now, (section == Section::Desired).then_some(1), false);
            let mut body = Map::new();
            body.insert(METADATA.into(), stamp.tree(&Value::Object(Map::new())));
            body.insert(VERSION.into(), 1.into());
            properties.insert(section.name().into(), Value::Object(body));
        }
        doc.insert("properties".into(), Value::Object(properties));
        Twin {
            doc,
            sizes: [0; 3],
            names_configurations: [false; 3],
        }
    }

    /// Parses a twin from JSON text (at most [`crate::DEFAULT_MAX_INPUT_BYTES`]). The document is
    /// taken as it is: limits are checked by writes and by [`crate::validate`], not here.
    pub fn from_json(text: &str) -> Result<Twin, Error> {
        Twin::from_value(crate::parse_json(text, &Limits::none())?)
    }

    /// Takes a twin document: any real IoT Hub twin, unknown fields and missing or partial
    /// `$metadata` included. Refused as `InvalidTwin` when it is not an object, when `tags`,
    /// `properties`, `desired`, `reported` or `$metadata` is present but not an object, or when
    /// `version` or `$version` is present but not a non-negative integer, or `etag` not a string.
    pub fn from_value(value: Value) -> Result<Twin, Error> {
        let Value::Object(doc) = value else {
            return Err(invalid_twin("", "a twin must be a JSON object"));
        };
        check_nesting_of(&doc)?;
        expect_type(&doc, "", "version", "a non-negative integer", |v| v.is_u64())?;
        expect_type(&doc, "", "etag", "a string", Value::is_string)?;
        expect_type(&doc, "", "tags", "an object", Value::is_object)?;
        expect_type(&doc, "", "properties", "an object", Value::is_object)?;
        if let Some(Value::Object(properties)) = doc.get("properties") {
            for section in [Section::Desired, Section::Reported] {
                expect_type(properties, "/properties", section.name(), "an object", Value::is_object)?;
                if let Some(Value::Object(body)) = properties.get(section.name()) {
                    let at = section.pointer();
                    expect_type(body, at, VERSION, "a non-negative integer", |v| v.is_u64())?;
                    expect_type(body, at, METADATA, "an object", Value::is_object)?;
                }
            }
        }
        let mut twin = Twin {
            doc,
            sizes: [0; 3],
            names_configurations: [false; 3],
        };
        for section in Section::ALL {
            twin.sizes[section.index()] = members_size(twin.content(section));
            twin.names_configurations[section.index()] = twin.metadata(section).is_some_and(names_configurations);
        }
        Ok(twin)
    }

    /// The twin document.
    pub fn to_value(&self) -> Value {
        Value::Object(self.doc.clone())
    }

    /// The twin document, without a copy.
    pub fn into_value(self) -> Value {
        Value::Object(self.doc)
    }

    /// The twin document as compact JSON text.
    pub fn to_json(&self) -> String {
        // Serialising a map of `Value`s with string keys cannot fail.
        serde_json::to_string(&self.doc).unwrap_or_default()
    }

    /// The twin document as indented JSON text.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.doc).unwrap_or_default()
    }

    /// The etag, as stored (`None` for a document read without one).
    pub fn etag(&self) -> Option<&str> {
        self.doc.get("etag").and_then(Value::as_str)
    }

    /// The twin's `version` (0 for a document read without one).
    pub fn version(&self) -> u64 {
        self.doc.get("version").and_then(Value::as_u64).unwrap_or(0)
    }

    /// A section as stored: for desired and reported, with `$metadata` and `$version`.
    pub fn section(&self, section: Section) -> Option<&Map<String, Value>> {
        let holder = match section {
            Section::Tags => &self.doc,
            _ => self.doc.get("properties")?.as_object()?,
        };
        holder.get(section.name())?.as_object()
    }

    /// A section's content members: for desired and reported, all but `$metadata` and `$version`.
    pub(crate) fn content(&self, section: Section) -> impl Iterator<Item = (&String, &Value)> {
        self.section(section)
            .into_iter()
            .flatten()
            .filter(move |(k, _)| section == Section::Tags || !is_section_reserved(k))
    }

    /// A section's `$version` (`None` for tags, or when absent).
    pub fn section_version(&self, section: Section) -> Option<u64> {
        self.section(section)?.get(VERSION)?.as_u64()
    }

    /// A section's size by the S4 formula (what IoT Hub's size limits count).
    pub fn size(&self, section: Section) -> u64 {
        self.sizes[section.index()]
    }

    /// A section's `$metadata` tree (`None` for tags).
    pub fn metadata(&self, section: Section) -> Option<&Map<String, Value>> {
        self.section(section)?.get(METADATA)?.as_object()
    }

    /// When the member at `pointer` (a JSON Pointer relative to the section, `""` for the
    /// section root) was last written, from `$metadata`. `None` when there is no such node.
    pub fn last_updated(&self, section: Section, pointer: &str) -> Option<LastUpdated> {
        let mut node = self.metadata(section)?;
        if !pointer.is_empty() {
            for token in pointer.strip_prefix('/')?.split('/') {
                let key = token.replace("~1", "/").replace("~0", "~");
                node = node.get(&key)?.as_object()?;
            }
        }
        Some(LastUpdated {
            time: node.get(LAST_UPDATED)?.as_str()?.to_owned(),
            version: node.get(LAST_UPDATED_VERSION).and_then(Value::as_u64),
        })
    }

    /// What a device sees (S1): `{"desired": {..., "$version": N}, "reported": {..., "$version": M}}`.
    pub fn device_view(&self) -> Value {
        let mut view = Map::new();
        for section in [Section::Desired, Section::Reported] {
            let mut out: Map<String, Value> = self.content(section).map(|(k, v)| (k.clone(), v.clone())).collect();
            out.insert(VERSION.into(), self.section_version(section).unwrap_or(0).into());
            view.insert(section.name().into(), Value::Object(out));
        }
        Value::Object(view)
    }

    /// Merges `body` into a section (S2 patch), as IoT Hub's PATCH does.
    ///
    /// The write is checked in full (S3 body rules, then the section size, then the
    /// preconditions) before anything changes: on error the twin is unchanged.
    pub fn patch(&mut self, section: Section, body: &Value, options: &WriteOptions) -> Result<WriteOutcome, Error> {
        let plan = self.plan(section, WriteKind::Patch, body, &options.limits)?;
        self.write(vec![plan], section, options)
    }

    /// Makes a section's content `body` (S2 replace; `null` members dropped at any depth).
    pub fn replace(&mut self, section: Section, body: &Value, options: &WriteOptions) -> Result<WriteOutcome, Error> {
        let plan = self.plan(section, WriteKind::Replace, body, &options.limits)?;
        self.write(vec![plan], section, options)
    }

    /// IoT Hub's "update twin": merges a twin-shaped body's `tags` and `properties.desired`
    /// parts as **one** atomic write (S2): both checked before either changes, `version` and the
    /// etag advanced once, desired `$version` only when a desired part is present.
    ///
    /// Identity fields in the body (`deviceId`, `etag`, `version`, ...) are ignored, as SDKs send
    /// them back; a `null` or absent part is left alone; `properties.reported` is refused
    /// (`InvalidTwin`), since the service cannot write it. Error paths are relative to the body
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
    pub fn update(&mut self, body: &Value, options: &WriteOptions) -> Result<WriteOutcome, Error> {
        self.write_twin(body, WriteKind::Patch, options)
    }

    /// IoT Hub's "replace twin": as [`Twin::update`], but each part present replaces its section.
    pub fn replace_twin(&mut self, body: &Value, options: &WriteOptions) -> Result<WriteOutcome, Error> {
        self.write_twin(body, WriteKind::Replace, options)
    }

    fn write_twin(&mut self, body: &Value, kind: WriteKind, options: &WriteOptions) -> Result<WriteOutcome, Error> {
        let Value::Object(body) = body else {
            return Err(Error::new(
                ErrorKind::NotAnObject,
                "",
                "the twin body must be a JSON object",
            ));
        };
        let properties = match body.get("properties") {
            None | Some(Value::Null) => None,
            Some(Value::Object(properties)) => Some(properties),
            Some(_) => {
                return Err(Error::new(
                    ErrorKind::NotAnObject,
                    "/properties",
                    "properties must be an object",
                ))
            }
        };
        if properties.is_some_and(|p| p.get("reported").is_some_and(|r| !r.is_null())) {
            return Err(invalid_twin(
                "/properties/reported",
                "the service cannot write reported properties",
            ));
        }
        let mut plans = Vec::with_capacity(2);
        for (section, part) in [
            (Section::Tags, body.get("tags")),
            (Section::Desired, properties.and_then(|p| p.get("desired"))),
        ] {
            if let Some(part) = part.filter(|p| !p.is_null()) {
                // Size errors keep the empty path of S3; the others point into the body.
                let plan = self
                    .plan(section, kind, part, &options.limits)
                    .map_err(|e| match e.kind() {
                        ErrorKind::SizeLimitExceeded => e,
                        _ => e.under(section.pointer()),
                    })?;
                plans.push(plan);
            }
        }
        // The write counts as a tags-and-desired write even when both parts are absent.
        let main = if plans.iter().any(|p| p.section == Section::Desired) {
            Section::Desired
        } else {
            Section::Tags
        };
        self.write(plans, main, options)
    }

    /// Checks one section's part of a write and works out what it will do, changing nothing.
    fn plan<'b>(&self, section: Section, kind: WriteKind, body: &'b Value, limits: &Limits) -> Result<Plan<'b>, Error> {
        let Value::Object(body) = body else {
            return Err(Error::new(ErrorKind::NotAnObject, "", "the body must be a JSON object"));
        };
        check_body(body, limits)?;
        let old_size = self.sizes[section.index()];
        let max = limits.section_bytes(section);
        let (replacement, new_size) = match kind {
            // A patch adds at most its written members' sizes: when even that fits, the exact
            // change (a lookup per member) need not be worked out before the merge.
            WriteKind::Patch if max.is_none_or(|max| old_size.saturating_add(written_object_size(body)) <= max) => {
                (None, old_size)
            }
            WriteKind::Patch => {
                let change = size_change(self.section(section).unwrap_or(&Map::new()), body);
                (None, u64::try_from(i128::from(old_size) + change).unwrap_or(0))
            }
            WriteKind::Replace => {
                let new_size = written_object_size(body);
                (Some((without_nulls(body), new_size)), new_size)
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

    /// Checks the preconditions, then applies the planned parts as one write counted against
    /// `main` (the section whose `$version` `if_version` names and the outcome reports).
    fn write(&mut self, plans: Vec<Plan<'_>>, main: Section, options: &WriteOptions) -> Result<WriteOutcome, Error> {
        // Everything that can fail is checked before the first change; what follows cannot fail.
        self.check_preconditions(main, options)?;
        let current_version = self.version();
        let version = next(current_version, "version")?;
        let mut section_version = None;
        for plan in &plans {
            if plan.section != Section::Tags {
                section_version = Some(next(self.section_version(plan.section).unwrap_or(0), "$version")?);
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
        let mut notification = None;
        for plan in plans {
            if plan.section == Section::Desired {
                notification = Some(self.notification(&plan, section_version.unwrap_or(0)));
            }
            self.commit(plan, section_version, options.now);
        }
        set(&mut self.doc, "version", version.into());
        if main != Section::Reported {
            set(&mut self.doc, "etag", etag.clone().into());
        }
        Ok(WriteOutcome {
            version,
            section_version: section_version.filter(|_| main != Section::Tags),
            etag,
            notification,
        })
    }

    /// What IoT Hub sends the device for a desired write (S7).
    fn notification(&self, plan: &Plan<'_>, section_version: u64) -> Value {
        let mut notification = match &plan.replacement {
            Some((new, _)) => replace_notification(self.section(plan.section).unwrap_or(&Map::new()), new),
            None => plan.body.clone(),
        };
        notification.insert(VERSION.into(), section_version.into());
        Value::Object(notification)
    }

    /// Applies a planned part: the content, and for desired and reported the metadata and
    /// `$version`. Cannot fail.
    fn commit(&mut self, plan: Plan<'_>, section_version: Option<u64>, now: Timestamp) {
        let index = plan.section.index();
        let names_configurations = self.names_configurations[index];
        let change = match plan.replacement {
            Some((new, new_size)) => {
                self.sizes[index] = new_size;
                // A replace stamps every node afresh.
                self.names_configurations[index] = false;
                self.replace_content(plan.section, new, section_version, now);
                return;
            }
            None => self.merge_content(plan.section, plan.body, section_version, now, names_configurations),
        };
        self.sizes[index] = u64::try_from(i128::from(self.sizes[index]) + change).unwrap_or(0);
    }

    /// A section's content becomes `new`; desired and reported get fresh metadata throughout.
    fn replace_content(
        &mut self,
        section: Section,
        new: Map<String, Value>,
        section_version: Option<u64>,
        now: Timestamp,
    ) {
        let target = self.section_mut(section);
        if section == Section::Tags {
            *target = new;
            return;
        }
        let section_version = section_version.unwrap_or(0);
        let stamp = Stamp::new(now, (section == Section::Desired).then_some(section_version), false);
        let metadata = stamp.object_tree(&new);
        *target = new;
        target.insert(METADATA.into(), Value::Object(metadata));
        target.insert(VERSION.into(), section_version.into());
    }

    /// Merges `body` into a section, stamping desired and reported; returns the size change.
    fn merge_content(
        &mut self,
        section: Section,
        body: &Map<String, Value>,
        section_version: Option<u64>,
        now: Timestamp,
        names_configurations: bool,
    ) -> i128 {
        let target = self.section_mut(section);
        if section == Section::Tags {
            return merge_object(target, body, None);
        }
        let section_version = section_version.unwrap_or(0);
        let stamp = Stamp::new(
            now,
            (section == Section::Desired).then_some(section_version),
            names_configurations,
        );
        // `$metadata` is taken out while the content is merged (a body holds no `$` key, so the
        // merge cannot touch it), then put back: last, after any new member.
        let mut metadata = match target.get_mut(METADATA).map(std::mem::take) {
            Some(Value::Object(node)) => node,
            _ => Map::new(),
        };
        stamp.restamp(&mut metadata);
        let change = merge_object(
            target,
            body,
            Some(Meta {
                node: &mut metadata,
                stamp: &stamp,
            }),
        );
        let mut last = target.keys().rev().map(String::as_str);
        if (last.next(), last.next()) == (Some(VERSION), Some(METADATA)) {
            set(target, METADATA, Value::Object(metadata));
            set(target, VERSION, section_version.into());
        } else {
            target.shift_remove(METADATA);
            target.shift_remove(VERSION);
            target.insert(METADATA.into(), Value::Object(metadata));
            target.insert(VERSION.into(), section_version.into());
        }
        change
    }

    fn check_preconditions(&self, section: Section, options: &WriteOptions) -> Result<(), Error> {
        if let Some(expected) = &options.if_match {
            let bare = expected.strip_prefix("W/").unwrap_or(expected);
            let bare = bare.strip_prefix('"').and_then(|b| b.strip_suffix('"')).unwrap_or(bare);
            if bare != "*" && Some(bare) != self.etag() {
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
            let current = self.section_version(section);
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

    /// The section's object, created (empty, with `$version` 0) when the document has none.
    fn section_mut(&mut self, section: Section) -> &mut Map<String, Value> {
        let (holder, name) = match section {
            Section::Tags => {
                if !self.doc.contains_key("tags") {
                    // IoT Hub shows tags just before properties.
                    let at = self
                        .doc
                        .keys()
                        .position(|k| k == "properties")
                        .unwrap_or(self.doc.len());
                    self.doc.shift_insert(at, "tags".into(), Value::Object(Map::new()));
                }
                (&mut self.doc, "tags")
            }
            _ => {
                let properties = self
                    .doc
                    .entry("properties")
                    .or_insert_with(|| Value::Object(Map::new()));
                (ensure_object(properties), section.name())
            }
        };
        ensure_object(holder.entry(name).or_insert_with(|| Value::Object(Map::new())))
    }
}

/// The object in `value`, which the twin's shape checks guarantee; made one if it is not.
fn ensure_object(value: &mut Value) -> &mut Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => {
            *other = Value::Object(Map::new());
            ensure_object(other)
        }
    }
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

fn expect_type(
    holder: &Map<String, Value>,
    at: &str,
    key: &str,
    what: &str,
    ok: impl Fn(&Value) -> bool,
) -> Result<(), Error> {
    match holder.get(key) {
        Some(value) if !ok(value) => Err(invalid_twin(&format!("{at}/{key}"), &format!("{key} must be {what}"))),
        _ => Ok(()),
    }
}

/// The engine's nesting bound over the whole document: section content lies two levels below its
/// root, and a metadata node one level below the member it describes.
fn check_nesting_of(doc: &Map<String, Value>) -> Result<(), Error> {
    doc.iter().try_for_each(|(key, value)| {
        check_nesting(value, 1, MAX_NESTING + 3).map_err(|e| e.under(&format!("/{}", crate::error::escaped(key))))
    })
}

impl fmt::Display for Twin {
    /// The compact JSON text of the twin.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl Serialize for Twin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.doc.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Twin {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Twin::from_value(Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}
