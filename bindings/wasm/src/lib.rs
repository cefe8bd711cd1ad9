//! twindoc for JavaScript: the native engine compiled to WebAssembly, with thin glue.
//!
//! Everything here converts arguments (S10 of `../../../docs/semantics.md`), calls the core and
//! converts the answer;
//! the behaviour is the core's. Errors are thrown as instances of `TwinError` (a JavaScript class
//! extending `Error`, in `js/twin_error.js`) with `code`, `status`, `errorCode` and `path`. A `Twin` stays in WebAssembly memory between calls.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod configuration;
mod convert;
mod events;

use js_sys::{Array, Date, Function, Reflect};
use serde_json::Value;
use twindoc::{
    Condition, DesiredUpdateReport, Error, ErrorKind, Limits, LimitsOverrides, Query, Section, TimeInput, Timestamp,
    ValidationReport, WriteOptions,
};
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::prelude::*;

use crate::convert::{input, text, to_js};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** RFC 3339 text, Unix milliseconds, or a Date. */
export type Time = string | number | Date;
/** A section of a twin; "twin" writes a twin-shaped body's tags and desired parts at once. */
export type SectionName = "tags" | "desired" | "reported";
/** Limits over a base: IoT Hub's ("azure", the default) or none ("none", the numeric limits off). */
export interface LimitsObject {
  base?: "azure" | "none";
  maxKeyBytes?: number; maxValueBytes?: number; maxDepth?: number;
  tagsBytes?: number; desiredBytes?: number; reportedBytes?: number;
}
export interface WriteOptions { now?: Time; ifMatch?: string; ifVersion?: number; limits?: "azure" | "none" | LimitsObject }
/** A JSON object as it comes out of the engine: a plain object, its members any JSON value. */
export type JsonObject = { [name: string]: unknown };
/** What the device sees of its twin (Twin.deviceView, DeviceTwin.fromDeviceView's input). */
export interface DeviceView { desired: DesiredNotification; reported: { $version: number; [name: string]: unknown } }
/** An RFC 6902 operation of jsonPatch. */
export interface JsonPatchOperation { op: "add" | "remove" | "replace"; path: string; value?: unknown }
/**
 * The desired patch IoT Hub sends the device after a write to desired: the members written
 * (null for a deletion) and the new desired $version. DeviceTwin.applyDesiredPatch reads it.
 */
export interface DesiredNotification { $version: number; [name: string]: unknown }
/** What a write did: the twin's new version and etag, the section's new $version (null for
 * tags), and the device's notification (null unless desired changed). */
export interface WriteOutcome {
  version: number; sectionVersion: number | null; etag: string; notification: DesiredNotification | null;
}
/** What DeviceTwin.applyDesiredPatch did with a notification. */
export type DesiredPatchOutcome =
  /** In order: applied; patch is what changed, without $version. */
  | { status: "applied"; version: number; patch: JsonObject }
  /** At or below the replica's version: ignored. */
  | { status: "stale"; version: number }
  /** Past the next version: the replica is unchanged, fetch the full twin. */
  | { status: "gap"; version: number; expected: number };
/** What DeviceTwin.applyFullTwin did: the catch-up patch (null for deletions, with $version). */
export type FullTwinOutcome = { status: "resynced"; patch: DesiredNotification } | { status: "unchanged" };
export interface Violation { code: string; path: string; message: string }
export interface ValidationResult { valid: boolean; violations: Violation[] }
export interface LastUpdated { time: string; version: number | null }
/** A twin given to a query: a Twin, its document as a plain object, or its JSON text (a string or UTF-8 bytes). */
export type TwinInput = Twin | object | string | Uint8Array;
/** A row of a query's result (S11): a whole twin for SELECT *, else the selected members. */
export type QueryRow = { [name: string]: unknown };
"#;

#[wasm_bindgen]
extern "C" {
    /// `WriteOptions` in TypeScript: a plain object, read member by member.
    #[wasm_bindgen(typescript_type = "WriteOptions")]
    pub type JsWriteOptions;
    /// The options of `new Twin(...)`.
    #[wasm_bindgen(typescript_type = "{ moduleId?: string; now?: Time }")]
    pub type JsTwinOptions;
}

#[wasm_bindgen(raw_module = "./twin_error.js")]
extern "C" {
    /// The class of every thrown error (`js/twin_error.js`, beside the glue in `pkg/` and
    /// `pkg-web/`), exported by the package's entry points.
    #[wasm_bindgen(js_name = TwinError)]
    type JsTwinError;
    #[wasm_bindgen(constructor, js_class = TwinError)]
    fn new(message: &str, fields: &JsValue) -> JsTwinError;
}

/// The `TwinError` for an engine error: the message names the path.
fn js_error(error: Error) -> JsValue {
    // The fields of the core's serialization (the CLI's error line), but the Error's own message,
    // which names the path.
    let fields = to_js(&error);
    JsTwinError::new(&error.to_string(), &fields).into()
}

fn argument(path: &str, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, path, message)
}

std::thread_local! {
    /// The names of the options' members as JavaScript strings, made once (not at every read).
    static KEYS: std::cell::RefCell<Vec<(&'static str, JsValue)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// An optional member of an options object (`undefined` and `null` mean absent).
fn member(options: &JsValue, name: &'static str) -> Result<Option<JsValue>, Error> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    if !options.is_object() {
        return Err(argument("", "options must be an object"));
    }
    let value = KEYS
        .with(|keys| {
            let mut keys = keys.borrow_mut();
            let index = match keys.iter().position(|(known, _)| *known == name) {
                Some(index) => index,
                None => {
                    keys.push((name, JsValue::from_str(name)));
                    keys.len() - 1
                }
            };
            Reflect::get(options, &keys[index].1)
        })
        .map_err(|_| argument(&format!("/{name}"), format!("options.{name} cannot be read")))?;
    Ok((!value.is_undefined() && !value.is_null()).then_some(value))
}

/// A time: a [`TimeInput`] (a string is read as the CLI reads `--now`: all digits are Unix
/// milliseconds), a number of milliseconds or a `Date`; absent means the clock, read here (the
/// core never reads one).
fn time(value: Option<JsValue>) -> Result<Timestamp, Error> {
    let Some(value) = value else {
        return Timestamp::from_unix_millis(Date::now() as i64);
    };
    let input = match value.as_string() {
        Some(text) => text.parse::<TimeInput>()?,
        None => TimeInput::from_unix_millis_f64(match value.dyn_ref::<Date>() {
            Some(date) => date.get_time(),
            None => value.as_f64().unwrap_or(f64::NAN),
        })?,
    };
    input.timestamp()
}

/// A whole, non-negative number that fits the engine's counters and sizes (`NaN` for a value
/// that is not a number).
fn count(n: f64, path: &str) -> Result<u64, Error> {
    match n {
        n if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => Ok(n as u64),
        _ => Err(argument(path, format!("{path} must be a whole non-negative number"))),
    }
}

/// The `limits` option: [`LimitsOverrides`] in its JSON form, read by the core.
fn limits(value: Option<JsValue>) -> Result<Limits, Error> {
    let Some(value) = value else {
        return Ok(Limits::azure());
    };
    let value = convert::from_js(&value).map_err(|e| {
        let at = format!("/limits{}", e.path());
        argument(&at, format!("{at} is not a JSON value: {}", e.message()))
    })?;
    Ok(LimitsOverrides::from_json(&value, "/limits")?.to_limits())
}

fn write_options(options: &JsValue) -> Result<WriteOptions, Error> {
    let mut write = WriteOptions::new(time(member(options, "now")?)?).limits(limits(member(options, "limits")?)?);
    if let Some(etag) = member(options, "ifMatch")? {
        write.if_match = Some(
            etag.as_string()
                .ok_or_else(|| argument("/ifMatch", "ifMatch must be a string"))?,
        );
    }
    if let Some(version) = member(options, "ifVersion")? {
        write.if_version = Some(count(version.as_f64().unwrap_or(f64::NAN), "/ifVersion")?);
    }
    events::event_options(options, write)
}

/// A section name, or `None` for `"twin"` (a twin-level write); an unknown name's error lists
/// the sections and `twin`, which the core's (about sections alone) does not.
fn section(name: &str) -> Result<Option<Section>, Error> {
    match name {
        "twin" => Ok(None),
        name => name.parse().map(Some).map_err(|e: Error| {
            let sections: Vec<&str> = Section::ALL.iter().map(|s| s.name()).collect();
            let message = format!("{name:?} is not a section or twin: use {} or twin", sections.join(", "));
            Error::new(e.kind(), e.path(), message)
        }),
    }
}

/// The change event of a section patch, built when an outcome's `event` is first read: from the
/// twin's ids (`__eventIds`), the section, the body's text, the write's time and `hubName`, and
/// the versions its outcome gave. Hidden: not API.
#[wasm_bindgen(js_name = __patchEvent, skip_typescript)]
pub fn patch_event(
    device_id: Option<String>,
    module_id: Option<String>,
    section_name: &str,
    body: &str,
    version: f64,
    section_version: Option<f64>,
    options: JsValue,
) -> Result<String, JsValue> {
    let event = || -> Result<String, Error> {
        let options = write_options(&options)?;
        let section = section(section_name)?.ok_or_else(|| argument("/section", "a section patch's event"))?;
        let body = twindoc::parse_json(body, &Limits::none())?;
        let properties = twindoc::EventProperties::of_update(device_id.as_deref(), module_id.as_deref(), &options);
        // The versions came out of the write as exact integers.
        let event = twindoc::ChangeEvent::of_patch(
            properties,
            section,
            &body,
            version as u64,
            section_version.map(|v| v as u64),
        )?;
        Ok(event.to_json())
    };
    event().map_err(js_error)
}

/// A notification (S7) made when a write's outcome is first asked for it, from the section, the
/// body's text and the section's `$version` the write gave (`null` for tags and reported, as the
/// write's). Hidden: not API.
#[wasm_bindgen(js_name = __patchNotification, skip_typescript)]
pub fn patch_notification(section_name: &str, body: &str, section_version: Option<f64>) -> Result<String, JsValue> {
    let notification = || -> Result<String, Error> {
        let section = section(section_name)?.ok_or_else(|| argument("/section", "a section patch's notification"))?;
        let body = twindoc::parse_json(body, &Limits::none())?;
        // The version came out of the write as an exact integer.
        let notification = twindoc::Notification::of_patch(section, &body, section_version.map_or(0, |v| v as u64))?;
        Ok(notification.map_or_else(|| "null".to_owned(), |n| n.to_json()))
    };
    notification().map_err(js_error)
}

/// What a section patch given as text answers besides its numbers and etag: the digital twin
/// change event, worked out with the write when asked for.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct LaterOutcome<'e> {
    digital_twin_event: &'e twindoc::DigitalTwinEvent,
}

/// A write's answer to the entry point (`js/boundary.js`): the version, the section's version
/// (`null` for tags) and the etag's length in UTF-16 units, space-separated, then the etag and
/// `json`, the JSON text of what else the outcome holds (read when first asked for).
fn answer(outcome: &twindoc::WriteOutcome<'_>, json: &str) -> String {
    let mut numbers = itoa::Buffer::new();
    let mut out = String::with_capacity(32 + outcome.etag.len() + json.len());
    out.push_str(numbers.format(outcome.version));
    out.push(' ');
    match outcome.section_version {
        Some(version) => out.push_str(numbers.format(version)),
        None => out.push_str("null"),
    }
    out.push(' ');
    out.push_str(numbers.format(outcome.etag.encode_utf16().count()));
    out.push(' ');
    out.push_str(&outcome.etag);
    out.push_str(json);
    out
}

/// A device or module twin, held in WebAssembly memory.
#[wasm_bindgen(js_name = Twin)]
pub struct JsTwin {
    twin: twindoc::Twin,
}

#[wasm_bindgen(js_class = Twin)]
impl JsTwin {
    /// A new twin, as IoT Hub creates it.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = deviceId)] device_id: String,
        options: Option<JsTwinOptions>,
    ) -> Result<JsTwin, JsValue> {
        let options = options.map(JsValue::from).unwrap_or_default();
        let now = member(&options, "now").and_then(time).map_err(js_error)?;
        let module = member(&options, "moduleId").map_err(js_error)?;
        let twin = match module {
            Some(module) => {
                let module = module
                    .as_string()
                    .ok_or_else(|| js_error(argument("/moduleId", "moduleId must be a string")))?;
                twindoc::Twin::new_module(&device_id, &module, now)
            }
            None => twindoc::Twin::new(&device_id, now),
        };
        Ok(JsTwin { twin })
    }

    /// A twin from its JSON text or a plain object.
    #[wasm_bindgen(js_name = fromJSON)]
    pub fn from_json(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] twin: JsValue,
    ) -> Result<JsTwin, JsValue> {
        let twin = twin_document(&twin).map_err(js_error)?;
        Ok(JsTwin { twin })
    }

    /// A copy of this twin, for a query given this handle (see `query_twin`). Hidden: not API.
    #[wasm_bindgen(js_name = __copyForQuery, skip_typescript)]
    pub fn copy_for_query(&self) -> JsTwin {
        JsTwin {
            twin: self.twin.clone(),
        }
    }

    /// Merges `body` into a section (or, with `"twin"`, a twin-shaped body's tags and desired).
    #[wasm_bindgen(unchecked_return_type = "WriteOutcome")]
    pub fn patch(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "SectionName | \"twin\"")] section: &str,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] body: JsValue,
        options: Option<JsWriteOptions>,
    ) -> Result<String, JsValue> {
        self.write_options_object(section, &body, &options.map(JsValue::from).unwrap_or_default(), false)
            .map_err(js_error)
    }

    /// Makes a section's content `body` (or, with `"twin"`, replaces the parts the body has).
    #[wasm_bindgen(unchecked_return_type = "WriteOutcome")]
    pub fn replace(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "SectionName | \"twin\"")] section: &str,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] body: JsValue,
        options: Option<JsWriteOptions>,
    ) -> Result<String, JsValue> {
        self.write_options_object(section, &body, &options.map(JsValue::from).unwrap_or_default(), true)
            .map_err(js_error)
    }

    /// `patch` and `replace` as the entry point (`js/boundary.js`) calls them, with the options'
    /// members it read (a time as Unix milliseconds or text) and the body as text (a string),
    /// or else as bytes or a value (`body`). A section patch the entry point keeps the text of
    /// (`later`) answers only its numbers, its etag and, when asked for, its digital twin change
    /// event: the entry point asks for the notification (`__patchNotification`) and the change
    /// event (`__patchEvent`) when they are read, so that an outcome nobody reads prints
    /// nothing. Hidden: not API.
    #[wasm_bindgen(js_name = __write, skip_typescript)]
    #[allow(clippy::too_many_arguments)]
    pub fn write_from_entry_point(
        &mut self,
        section: &str,
        body_text: Option<String>,
        body: JsValue,
        later: bool,
        replace: bool,
        now_millis: Option<f64>,
        now_text: Option<String>,
        limits_value: Option<JsValue>,
        if_match: Option<String>,
        if_version: Option<f64>,
        hub_name: Option<String>,
        digital_twin_event: bool,
    ) -> Result<String, JsValue> {
        let write = || -> Result<String, Error> {
            let now = match now_text {
                Some(text) => text.parse::<TimeInput>()?.timestamp()?,
                None => TimeInput::from_unix_millis_f64(now_millis.unwrap_or(f64::NAN))?.timestamp()?,
            };
            let mut options = WriteOptions::new(now).limits(limits(limits_value)?);
            options.if_match = if_match;
            options.if_version = if_version.map(|v| count(v, "/ifVersion")).transpose()?;
            options.hub_name = hub_name;
            options.digital_twin_event = digital_twin_event;
            let section = self::section(section)?;
            let later = later && !replace && section.is_some();
            let body = match body_text {
                Some(text) => twindoc::parse_body_json(&text, &options.limits)?,
                None => convert::body_input(&body, &options.limits)?,
            };
            let outcome = self.write(section, &body, &options, replace)?;
            let json = match (later, &outcome.digital_twin_event) {
                (false, _) => serde_json::to_string(&outcome).unwrap_or_default(),
                (true, None) => String::new(),
                (true, Some(event)) => serde_json::to_string(&LaterOutcome {
                    digital_twin_event: event,
                })
                .unwrap_or_default(),
            };
            Ok(answer(&outcome, &json))
        };
        write().map_err(js_error)
    }

    fn write_options_object(
        &mut self,
        section: &str,
        body: &JsValue,
        options: &JsValue,
        replace: bool,
    ) -> Result<String, Error> {
        let options = write_options(options)?;
        let section = self::section(section)?;
        let body = convert::body_input(body, &options.limits)?;
        let outcome = self.write(section, &body, &options, replace)?;
        Ok(answer(&outcome, &serde_json::to_string(&outcome).unwrap_or_default()))
    }

    fn write<'b>(
        &mut self,
        section: Option<Section>,
        body: &'b Value,
        options: &WriteOptions,
        replace: bool,
    ) -> Result<twindoc::WriteOutcome<'b>, Error> {
        match (section, replace) {
            (Some(section), false) => self.twin.patch(section, body, options),
            (Some(section), true) => self.twin.replace(section, body, options),
            (None, false) => self.twin.update(body, options),
            (None, true) => self.twin.replace_twin(body, options),
        }
    }

    /// The twin's `deviceId` and `moduleId` as its change events name them (`null` when the
    /// document has no such string): the entry point reads them once per handle. Hidden: not API.
    #[wasm_bindgen(js_name = __eventIds, skip_typescript)]
    pub fn event_ids(&self) -> JsValue {
        to_js(&(self.twin.device_id(), self.twin.module_id()))
    }

    /// The etag (`""` for a twin read without one).
    #[wasm_bindgen(getter)]
    pub fn etag(&self) -> String {
        self.twin.etag().unwrap_or_default().to_owned()
    }

    /// The twin's `version`.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> f64 {
        self.twin.version() as f64
    }

    /// The twin document as a plain object (so `JSON.stringify(twin)` gives its JSON).
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "JsonObject")]
    pub fn to_json(&self) -> JsValue {
        to_js(&self.twin)
    }

    /// The twin document as compact JSON text.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        self.twin.to_json()
    }

    /// What the device sees: desired and reported with their `$version`, without `$metadata`.
    #[wasm_bindgen(js_name = deviceView, unchecked_return_type = "DeviceView")]
    pub fn device_view(&self) -> JsValue {
        to_js(&self.twin.device_view())
    }

    /// When the member at `path` (a JSON Pointer in the section, `""` for its root) was last
    /// written, from `$metadata`; `null` when there is no such node.
    #[wasm_bindgen(js_name = lastUpdated, unchecked_return_type = "LastUpdated | null")]
    pub fn last_updated(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SectionName")] section: &str,
        path: &str,
    ) -> Result<JsValue, JsValue> {
        let section: Section = section.parse().map_err(js_error)?;
        Ok(self
            .twin
            .last_updated(section, path)
            .map_or(JsValue::NULL, |stamp| to_js(&stamp)))
    }

    /// What the device has not reached yet (S9), Plug and Play acknowledgements included.
    #[wasm_bindgen(unchecked_return_type = "JsonObject")]
    pub fn delta(&self) -> JsValue {
        to_js(&self.twin.delta())
    }

    /// A section's size by IoT Hub's formula (S4), to compare with its limit.
    pub fn size(&self, #[wasm_bindgen(unchecked_param_type = "SectionName")] section: &str) -> Result<f64, JsValue> {
        let section: Section = section.parse().map_err(js_error)?;
        Ok(self.twin.size(section) as f64)
    }
}

/// Merges `patch` into `doc` by the twin merge rules, on plain JSON; returns the new document.
#[wasm_bindgen(unchecked_return_type = "JsonObject")]
pub fn merge(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] doc: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] patch: JsValue,
) -> Result<JsValue, JsValue> {
    let limits = Limits::none();
    let mut doc = input(&doc, &limits).map_err(js_error)?;
    let patch = input(&patch, &limits).map_err(js_error)?;
    twindoc::merge(&mut doc, &patch).map_err(js_error)?;
    Ok(to_js(&doc))
}

/// A twin document given as JSON text (a string or UTF-8 bytes, read straight into the twin's
/// compact form) or a plain object, read as it is (limits are not checked).
fn twin_document(value: &JsValue) -> Result<twindoc::Twin, Error> {
    match text(value)? {
        Some(text) => twindoc::Twin::from_json(&text),
        None => twindoc::Twin::from_value(convert::from_js(value)?),
    }
}

/// Every limit violation in a twin (paths from the twin root).
#[wasm_bindgen(unchecked_return_type = "ValidationResult")]
pub fn validate(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] twin: JsValue,
) -> Result<JsValue, JsValue> {
    let twin = twin_document(&twin).map_err(js_error)?;
    Ok(to_js(&ValidationReport::of(&twin)))
}

/// The merge patch that turns `oldDoc` into `newDoc` (`null` for removed members).
#[wasm_bindgen(unchecked_return_type = "JsonObject")]
pub fn diff(
    #[wasm_bindgen(js_name = oldDoc, unchecked_param_type = "string | Uint8Array | object")] old_doc: JsValue,
    #[wasm_bindgen(js_name = newDoc, unchecked_param_type = "string | Uint8Array | object")] new_doc: JsValue,
) -> Result<JsValue, JsValue> {
    let (old, new) = pair(&old_doc, &new_doc)?;
    Ok(to_js(&twindoc::diff(&old, &new).map_err(js_error)?))
}

/// The same change as RFC 6902 JSON Patch operations.
#[wasm_bindgen(js_name = jsonPatch, unchecked_return_type = "JsonPatchOperation[]")]
pub fn json_patch(
    #[wasm_bindgen(js_name = oldDoc, unchecked_param_type = "string | Uint8Array | object")] old_doc: JsValue,
    #[wasm_bindgen(js_name = newDoc, unchecked_param_type = "string | Uint8Array | object")] new_doc: JsValue,
) -> Result<JsValue, JsValue> {
    let (old, new) = pair(&old_doc, &new_doc)?;
    Ok(to_js(&twindoc::diff_json_patch(&old, &new).map_err(js_error)?))
}

fn pair(first: &JsValue, second: &JsValue) -> Result<(Value, Value), JsValue> {
    let limits = Limits::none();
    Ok((
        input(first, &limits).map_err(js_error)?,
        input(second, &limits).map_err(js_error)?,
    ))
}

/// What the device has not reached yet: desired members missing from or different in reported.
#[wasm_bindgen(unchecked_return_type = "JsonObject")]
pub fn delta(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] desired: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] reported: JsValue,
) -> Result<JsValue, JsValue> {
    let (desired, reported) = pair(&desired, &reported)?;
    Ok(to_js(&twindoc::delta(&desired, &reported).map_err(js_error)?))
}

/// The IoT Plug and Play acknowledgement patch of writable property `name`.
#[wasm_bindgen(js_name = writablePropertyAck, unchecked_return_type = "JsonObject")]
pub fn writable_property_ack(
    name: &str,
    #[wasm_bindgen(unchecked_param_type = "unknown")] value: JsValue,
    code: f64,
    version: f64,
    description: Option<String>,
) -> Result<JsValue, JsValue> {
    let (value, code, version) = ack_input(&value, code, version)?;
    Ok(to_js(&twindoc::writable_property_ack(
        name,
        value,
        code,
        version,
        description.as_deref(),
    )))
}

/// The acknowledgement of a writable property inside a component (`"__t": "c"`).
#[wasm_bindgen(js_name = componentPropertyAck, unchecked_return_type = "JsonObject")]
pub fn component_property_ack(
    component: &str,
    name: &str,
    #[wasm_bindgen(unchecked_param_type = "unknown")] value: JsValue,
    code: f64,
    version: f64,
    description: Option<String>,
) -> Result<JsValue, JsValue> {
    let (value, code, version) = ack_input(&value, code, version)?;
    Ok(to_js(&twindoc::component_property_ack(
        component,
        name,
        value,
        code,
        version,
        description.as_deref(),
    )))
}

/// An acknowledgement's value (any JSON value as a JavaScript value: a string stays a string) and
/// its desired version.
/// An acknowledgement's value, status code and version. The code is checked, not narrowed:
/// 65736 is refused rather than sent as 200.
fn ack_input(value: &JsValue, code: f64, version: f64) -> Result<(Value, u16, u64), JsValue> {
    let value = convert::from_js(value).map_err(js_error)?;
    let code = count(code, "/code")
        .ok()
        .and_then(|c| u16::try_from(c).ok())
        .ok_or_else(|| js_error(argument("/code", "code must be a whole number from 0 to 65535")))?;
    let version = count(version, "/version").map_err(js_error)?;
    Ok((value, code, version))
}

/// The device-side replica (S8), held in WebAssembly memory.
#[wasm_bindgen(js_name = DeviceTwin)]
pub struct JsDeviceTwin {
    replica: twindoc::DeviceTwin,
}

#[wasm_bindgen(js_class = DeviceTwin)]
impl JsDeviceTwin {
    /// A replica from a device view `{"desired": {..., "$version": N}, "reported": {..., "$version": M}}`.
    #[wasm_bindgen(js_name = fromDeviceView)]
    pub fn from_device_view(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] view: JsValue,
    ) -> Result<JsDeviceTwin, JsValue> {
        let view = input(&view, &Limits::none()).map_err(js_error)?;
        let replica = twindoc::DeviceTwin::from_device_view(&view).map_err(js_error)?;
        Ok(JsDeviceTwin { replica })
    }

    /// The desired `$version` the replica holds.
    #[wasm_bindgen(getter, js_name = desiredVersion)]
    pub fn desired_version(&self) -> f64 {
        self.replica.desired_version() as f64
    }

    /// The reported `$version` the hub last confirmed.
    #[wasm_bindgen(getter, js_name = reportedVersion)]
    pub fn reported_version(&self) -> f64 {
        self.replica.reported_version() as f64
    }

    /// The desired state, without `$version`.
    #[wasm_bindgen(unchecked_return_type = "JsonObject")]
    pub fn desired(&self) -> JsValue {
        to_js(self.replica.desired())
    }

    /// The device's current reported state, without `$version`.
    #[wasm_bindgen(unchecked_return_type = "JsonObject")]
    pub fn reported(&self) -> JsValue {
        to_js(self.replica.reported())
    }

    /// Applies a desired patch notification (with `$version`): applied, stale (ignored) or gap
    /// (unchanged: fetch the full twin).
    #[wasm_bindgen(
        js_name = applyDesiredPatch,
        unchecked_return_type = "DesiredPatchOutcome"
    )]
    pub fn apply_desired_patch(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] patch: JsValue,
    ) -> Result<JsValue, JsValue> {
        let patch = input(&patch, &Limits::none()).map_err(js_error)?;
        let update = self.replica.apply_desired_patch(&patch).map_err(js_error)?;
        Ok(to_js(&DesiredUpdateReport::new(update, self.replica.desired_version())))
    }

    /// Replaces the desired state from a full device view; returns the catch-up patch (with
    /// `null` for deletions and the new `$version`) when anything changed.
    #[wasm_bindgen(
        js_name = applyFullTwin,
        unchecked_return_type = "FullTwinOutcome"
    )]
    pub fn apply_full_twin(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] view: JsValue,
    ) -> Result<JsValue, JsValue> {
        let view = input(&view, &Limits::none()).map_err(js_error)?;
        let answer = match self.replica.apply_full_twin(&view).map_err(js_error)? {
            Some(patch) => serde_json::json!({"status": "resynced", "patch": patch}),
            None => serde_json::json!({"status": "unchanged"}),
        };
        Ok(to_js(&answer))
    }

    /// Merges a reported patch into the local reported state (checked against IoT Hub's limits).
    pub fn report(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] patch: JsValue,
    ) -> Result<(), JsValue> {
        let patch = convert::body_input(&patch, &Limits::azure()).map_err(js_error)?;
        self.replica.report(&patch).map_err(js_error)
    }

    /// The reported patch to send now (`diff(confirmed, local)`), or `null` when nothing differs.
    #[wasm_bindgen(js_name = takeReportedPatch, unchecked_return_type = "JsonObject | null")]
    pub fn take_reported_patch(&mut self) -> JsValue {
        self.replica
            .take_reported_patch()
            .map_or(JsValue::NULL, |patch| to_js(&patch))
    }

    /// The hub accepted the patch in flight at reported `$version` `version`.
    #[wasm_bindgen(js_name = confirmReported)]
    pub fn confirm_reported(&mut self, version: f64) -> Result<(), JsValue> {
        let version = count(version, "/version").map_err(js_error)?;
        self.replica.confirm_reported(version);
        Ok(())
    }
}

/// A twin given to a query or condition: a `Twin` handle, a plain object or JSON text.
///
/// A handle is copied inside WebAssembly memory (no JSON crosses the boundary): wasm-bindgen can
/// turn a JavaScript value into a Rust object only by taking it away from JavaScript, which would
/// leave the caller's handle freed, and borrowing it instead needs `unsafe`, which this crate
/// forbids. So the handle is asked for a copy through a hidden method.
fn query_twin(value: &JsValue) -> Result<twindoc::Twin, Error> {
    if value.is_object() {
        let copy = Reflect::get(value, &JsValue::from_str("__copyForQuery")).unwrap_or_default();
        if let Some(copy) = copy.dyn_ref::<Function>() {
            return copy
                .call0(value)
                .ok()
                .and_then(|twin| JsTwin::try_from_js_value(twin).ok())
                .map(|handle| handle.twin)
                .ok_or_else(|| argument("", "the Twin cannot be read (was it freed?)"));
        }
    }
    twin_document(value)
}

/// The twins of a query, in order; an error names the index of the twin at fault (`/2/tags`).
fn query_twins(twins: &JsValue) -> Result<Vec<twindoc::Twin>, Error> {
    let twins = twins.dyn_ref::<Array>().ok_or_else(|| {
        argument(
            "",
            "twins must be an array of twins (Twin handles, plain objects or JSON text)",
        )
    })?;
    twins
        .iter()
        .enumerate()
        .map(|(index, twin)| {
            query_twin(&twin).map_err(|e| Error::new(e.kind(), format!("/{index}{}", e.path()), e.message()))
        })
        .collect()
}

/// The rows of query `text` over `twins`, in their order (S11 of the semantics).
#[wasm_bindgen(unchecked_return_type = "QueryRow[]")]
pub fn query(
    text: &str,
    #[wasm_bindgen(unchecked_param_type = "TwinInput[]")] twins: JsValue,
) -> Result<JsValue, JsValue> {
    JsQuery::new(text)?.run(twins)
}

/// A query over twins (S11), parsed once, run over any array of twins.
#[wasm_bindgen(js_name = Query)]
pub struct JsQuery {
    query: Query,
}

#[wasm_bindgen(js_class = Query)]
impl JsQuery {
    /// Parses `SELECT ... FROM devices|devices.modules [WHERE ...] [GROUP BY ...]`; malformed
    /// text throws `InvalidQuery`, its message naming the character offset.
    #[wasm_bindgen(constructor)]
    pub fn new(text: &str) -> Result<JsQuery, JsValue> {
        let query = Query::parse(text).map_err(js_error)?;
        Ok(JsQuery { query })
    }

    /// Whether the query selects `twin`: in its collection and with its `WHERE` condition true.
    pub fn matches(&self, #[wasm_bindgen(unchecked_param_type = "TwinInput")] twin: JsValue) -> Result<bool, JsValue> {
        Ok(self.query.matches(&query_twin(&twin).map_err(js_error)?))
    }

    /// The rows of the query over `twins`, in their order.
    #[wasm_bindgen(unchecked_return_type = "QueryRow[]")]
    pub fn run(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TwinInput[]")] twins: JsValue,
    ) -> Result<JsValue, JsValue> {
        let twins = query_twins(&twins).map_err(js_error)?;
        Ok(to_js(&self.query.run(&twins)))
    }
}

/// A condition alone (S11), as an automatic configuration's `targetCondition`: `*` for every twin.
#[wasm_bindgen(js_name = Condition)]
pub struct JsCondition {
    condition: Condition,
}

#[wasm_bindgen(js_class = Condition)]
impl JsCondition {
    /// Parses a condition (or `*`, or `FROM devices.modules WHERE <condition>`); malformed text
    /// throws `InvalidQuery`.
    #[wasm_bindgen(constructor)]
    pub fn new(text: &str) -> Result<JsCondition, JsValue> {
        let condition = Condition::parse(text).map_err(js_error)?;
        Ok(JsCondition { condition })
    }

    /// Whether the condition is true for `twin` (undefined counts as false).
    pub fn matches(&self, #[wasm_bindgen(unchecked_param_type = "TwinInput")] twin: JsValue) -> Result<bool, JsValue> {
        Ok(self.condition.matches(&query_twin(&twin).map_err(js_error)?))
    }
}
