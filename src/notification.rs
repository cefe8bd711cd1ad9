//! What IoT Hub sends the device after a desired write
//! ([S7](crate::semantics#s7-what-the-device-is-sent)).

use std::borrow::Cow;
use std::io;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};
use crate::names::VERSION;
use crate::Section;

/// The desired-properties notification of a write: its body (the patch as given, `null`s
/// included, or for a replace the new content with `null` at every member it removed) and the
/// desired `$version` it brings the device to.
///
/// A patch's notification borrows the patch instead of copying it: printing it
/// ([`Notification::to_json`], [`Notification::write_json`], or any `serde` serializer) writes
/// the body and then `"$version"`, without building a `serde_json::Value`. [`Notification::to_value`]
/// builds one when it is needed.
///
/// ```
/// use serde_json::json;
/// use twindoc::{Section, Twin, WriteOptions};
/// let mut twin = Twin::new("devA", "2026-11-28T10:00:00Z".parse()?);
/// let patch = json!({"fan": {"speed": 3}, "mode": null});
/// let outcome = twin.patch(Section::Desired, &patch, &WriteOptions::new("2026-11-28T10:00:01Z".parse()?))?;
/// let notification = outcome.notification.expect("a desired write notifies the device");
/// assert_eq!(notification.version(), 2);
/// assert_eq!(notification.to_json(), r#"{"fan":{"speed":3},"mode":null,"$version":2}"#);
/// assert_eq!(notification.to_value(), json!({"fan": {"speed": 3}, "mode": null, "$version": 2}));
/// # Ok::<(), twindoc::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Notification<'a> {
    body: Cow<'a, Map<String, Value>>,
    version: u64,
}

impl<'a> Notification<'a> {
    pub(crate) fn new(body: Cow<'a, Map<String, Value>>, version: u64) -> Self {
        Notification { body, version }
    }

    /// The notification of a section patch, made again from its body: for a desired patch, the
    /// body as given with `section_version` (the desired `$version` after the write) as its
    /// `$version`, equal to the one the write gave; tags and reported patches notify no device
    /// (`None`). The body must be an object (else `NotAnObject`).
    ///
    /// It lets a caller that keeps the body (the JavaScript package keeps its text) leave the
    /// notification out of the write's answer and make it when it is asked for.
    ///
    /// ```
    /// use serde_json::json;
    /// use twindoc::{Notification, Section, Twin, WriteOptions};
    /// let mut twin = Twin::new("devA", "2026-11-28T10:00:00Z".parse()?);
    /// let patch = json!({"fan": {"speed": 3}, "mode": null});
    /// let outcome = twin.patch(Section::Desired, &patch, &WriteOptions::new("2026-11-28T10:00:01Z".parse()?))?;
    /// let later = Notification::of_patch(Section::Desired, &patch, outcome.section_version.unwrap_or(0))?;
    /// assert_eq!(later, outcome.notification);
    /// assert_eq!(Notification::of_patch(Section::Tags, &patch, 0)?, None);
    /// # Ok::<(), twindoc::Error>(())
    /// ```
    pub fn of_patch(section: Section, body: &'a Value, section_version: u64) -> Result<Option<Self>, Error> {
        let Value::Object(body) = body else {
            return Err(Error::new(ErrorKind::NotAnObject, "", "the body must be a JSON object"));
        };
        Ok((section == Section::Desired).then(|| Notification::new(Cow::Borrowed(body), section_version)))
    }

    /// The desired `$version` the notification carries.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The body, without `$version`.
    pub fn body(&self) -> &Map<String, Value> {
        &self.body
    }

    /// The notification as a JSON value: the body, then `"$version"`.
    pub fn to_value(&self) -> Value {
        let mut out = self.body.clone().into_owned();
        out.insert(VERSION.into(), self.version.into());
        Value::Object(out)
    }

    /// The notification as compact JSON text.
    pub fn to_json(&self) -> String {
        // String keys and JSON values always serialise.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Writes the notification's compact JSON text to `writer`.
    pub fn write_json<W: io::Write>(&self, writer: W) -> io::Result<()> {
        serde_json::to_writer(writer, self).map_err(io::Error::from)
    }

    /// The same notification, owning its body (a copy of a borrowed patch).
    pub fn into_owned(self) -> Notification<'static> {
        Notification {
            body: Cow::Owned(self.body.into_owned()),
            version: self.version,
        }
    }
}

impl Serialize for Notification<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.body.len() + 1))?;
        for (key, value) in self.body.iter() {
            map.serialize_entry(key, value)?;
        }
        map.serialize_entry(VERSION, &self.version)?;
        map.end()
    }
}
