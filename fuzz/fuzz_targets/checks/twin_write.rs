//! `twin_write`: a twin (new, or read from text) takes a few writes. Nothing panics; a refused write
//! changes nothing; an accepted one keeps the invariants of S4-S7 (`../../../docs/semantics.md`).
//!
//! Input: byte 0 chooses the twin (even: `Twin::new`; odd: the first segment is twin text). The
//! rest is split on 0xFF (a byte UTF-8 never holds); each write segment is one selector byte (see
//! [`Write::decode`]) followed by the JSON body.
//!
//! A twin made by `Twin::new` is also written, write for write, into the plain-`Value` model of
//! `model.rs`, and the two documents must stay equal.

#[path = "model.rs"]
mod model;

use base64::Engine as _;
use serde_json::{Map, Value};
use twindoc::{Limits, Section, Timestamp, Twin, WriteOptions, WriteOutcome};

const SEPARATOR: u8 = 0xFF;
const MAX_WRITES: usize = 8;
const VERSION: &str = "$version";

pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut segments = rest.split(|&b| b == SEPARATOR);
    let made_new = mode % 2 == 0;
    let mut twin = if made_new {
        Twin::new("fuzz", time(0))
    } else {
        let Some(Ok(text)) = segments.next().map(std::str::from_utf8) else {
            return;
        };
        let Ok(twin) = Twin::from_json(text) else {
            return;
        };
        twin
    };
    check_sizes(&twin);
    let mut model = made_new.then(|| model::TwinModel::new(twin.to_value()));
    for (i, segment) in segments.take(MAX_WRITES).enumerate() {
        let Some((&selector, body)) = segment.split_first() else {
            continue;
        };
        let Some(body) = std::str::from_utf8(body)
            .ok()
            .and_then(|text| twindoc::parse_json(text, &Limits::none()).ok())
        else {
            continue;
        };
        let write = Write::decode(selector, &twin, time(i as i64 + 1));
        write.apply_and_check(&mut twin, &body, model.as_mut());
    }
}

/// The time of the `n`th write.
fn time(n: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_795_860_000_000 + n * 1_500).expect("in range")
}

/// One write, as a selector byte chooses it.
struct Write {
    section: Section,
    replace: bool,
    options: WriteOptions,
    /// The precondition chosen cannot hold, so the write must be refused.
    must_fail: bool,
}

impl Write {
    /// `selector % 3`: the section; `/ 3 % 2`: patch or replace; `/ 6 % 3`: IoT Hub's limits, none,
    /// or small ones; `/ 18 % 4`: no precondition, the right If-Match, a wrong one, or the current
    /// `$version`.
    fn decode(selector: u8, twin: &Twin, now: Timestamp) -> Write {
        let section = Section::ALL[usize::from(selector % 3)];
        let limits = match selector / 6 % 3 {
            0 => Limits::azure(),
            1 => Limits::none(),
            _ => Limits::azure()
                .with_max_depth(4)
                .with_tags_bytes(64)
                .with_desired_bytes(96)
                .with_reported_bytes(96),
        };
        let mut options = WriteOptions::new(now).limits(limits);
        let mut must_fail = false;
        match selector / 18 % 4 {
            0 => {}
            1 => {
                options = options.if_match(format!("\"{}\"", twin.etag().unwrap_or_default()));
                must_fail = twin.etag().is_none();
            }
            2 => options = options.if_match(format!("{}x", twin.etag().unwrap_or_default())),
            _ => {
                // A missing `$version` reads as 0; tags have none, so they always fail.
                options = options.if_version(twin.section_version(section).unwrap_or(0));
                must_fail = section == Section::Tags;
            }
        }
        must_fail |= selector / 18 % 4 == 2;
        Write {
            section,
            replace: selector / 3 % 2 == 1,
            options,
            must_fail,
        }
    }

    fn apply_and_check(&self, twin: &mut Twin, body: &Value, model: Option<&mut model::TwinModel>) {
        let before = twin.clone();
        let before_text = twin.to_json();
        let result = if self.replace {
            twin.replace(self.section, body, &self.options)
        } else {
            twin.patch(self.section, body, &self.options)
        };
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(error) => {
                assert_eq!(
                    twin.to_json(),
                    before_text,
                    "the refused write ({error}) changed the twin"
                );
                assert_eq!(*twin, before, "the refused write ({error}) changed the twin");
                return;
            }
        };
        assert!(!self.must_fail, "a write whose precondition cannot hold was accepted");
        check_counters(&before, twin, self.section, &outcome);
        check_sizes(twin);
        if self.section != Section::Tags {
            let content = content(twin, self.section);
            let metadata = twin
                .metadata_value(self.section)
                .expect("a written section has $metadata");
            let metadata = metadata.as_object().expect("$metadata is an object");
            let version = (self.section == Section::Desired).then(|| twin.section_version(self.section).unwrap_or(0));
            let stamp = (self.options.now.to_string(), version);
            check_stamp(metadata, &stamp, "");
            let body = body.as_object().expect("an accepted body is an object");
            if self.replace {
                check_all_stamped(&content, metadata, &stamp, "");
            } else {
                check_named_stamped(body, &content, metadata, &stamp, "");
            }
        }
        if let Some(model) = model {
            model.write(self.section, self.replace, body, &self.options.now.to_string());
            assert_eq!(
                twin.to_value(),
                *model.doc(),
                "the twin and its plain-Value model differ"
            );
            for section in [Section::Desired, Section::Reported] {
                let metadata = twin.metadata_value(section).expect("a new twin has $metadata");
                let metadata = metadata.as_object().expect("$metadata is an object");
                check_mirror(&content(twin, section), metadata, section == Section::Desired, "");
            }
        }
        check_notification(&before, twin, self.section, &outcome);
        let text = twin.to_json();
        let again = Twin::from_json(&text).unwrap_or_else(|e| panic!("the written twin does not read again: {e}"));
        assert_eq!(again, *twin, "the twin changed through its JSON text");
        assert_eq!(again.to_json(), text);
    }
}

/// S5: `version` +1, the section's `$version` +1, the etag counter +1 for tags and desired.
fn check_counters(before: &Twin, after: &Twin, section: Section, outcome: &WriteOutcome) {
    assert_eq!(after.version(), before.version() + 1, "version");
    assert_eq!(outcome.version, after.version());
    for other in [Section::Desired, Section::Reported] {
        let expected = if other == section {
            Some(before.section_version(other).unwrap_or(0) + 1)
        } else {
            before.section_version(other)
        };
        assert_eq!(after.section_version(other), expected, "{other} $version");
    }
    let expected_section_version = (section != Section::Tags)
        .then(|| after.section_version(section))
        .flatten();
    assert_eq!(outcome.section_version, expected_section_version);
    if section == Section::Reported {
        assert_eq!(after.etag(), before.etag(), "a reported write moved the etag");
        assert_eq!(outcome.etag, before.etag().unwrap_or_default());
    } else {
        let counter = before.etag().and_then(etag_counter).unwrap_or(before.version());
        let expected = base64::engine::general_purpose::STANDARD.encode(counter.wrapping_add(1).to_be_bytes());
        assert_eq!(after.etag(), Some(expected.as_str()), "etag");
        assert_eq!(outcome.etag, expected);
    }
}

/// The counter of an etag that is base64 of 8 big-endian bytes.
fn etag_counter(etag: &str) -> Option<u64> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(etag).ok()?;
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// S4: each section's size, recomputed from scratch, is what the twin reports.
fn check_sizes(twin: &Twin) {
    for section in Section::ALL {
        let size: u64 = content(twin, section)
            .iter()
            .map(|(k, v)| k.len() as u64 + s4_size(v))
            .sum();
        assert_eq!(twin.size(section), size, "{section} size");
    }
}

/// The S4 size of a value (a `null`, which only a twin read from elsewhere holds, counts 0).
fn s4_size(value: &Value) -> u64 {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 4,
        Value::Number(_) => 8,
        Value::String(s) => s.len() as u64,
        Value::Array(items) => items.iter().map(s4_size).sum(),
        Value::Object(members) => members.iter().map(|(k, v)| k.len() as u64 + s4_size(v)).sum(),
    }
}

/// A section's content: for desired and reported, without `$metadata` and `$version`.
fn content(twin: &Twin, section: Section) -> Map<String, Value> {
    match twin.content_value(section) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `$lastUpdated` and, in desired, `$lastUpdatedVersion` of a write.
type Stamp = (String, Option<u64>);

fn check_stamp(node: &Map<String, Value>, (time, version): &Stamp, path: &str) {
    assert_eq!(
        node.get("$lastUpdated").and_then(Value::as_str),
        Some(time.as_str()),
        "{path}"
    );
    if let Some(version) = version {
        assert_eq!(
            node.get("$lastUpdatedVersion").and_then(Value::as_u64),
            Some(*version),
            "{path}"
        );
    }
    assert!(
        !node.contains_key("$lastUpdatedBy"),
        "{path} keeps $lastUpdatedBy after a stamp"
    );
}

fn child_node<'m>(metadata: &'m Map<String, Value>, key: &str, path: &str) -> &'m Map<String, Value> {
    metadata
        .get(key)
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no metadata node for {path}"))
}

/// S6 on replace: every node of the new content is stamped by the write.
fn check_all_stamped(content: &Map<String, Value>, metadata: &Map<String, Value>, stamp: &Stamp, path: &str) {
    for (key, value) in content {
        let path = format!("{path}/{key}");
        let node = child_node(metadata, key, &path);
        check_stamp(node, stamp, &path);
        if let Value::Object(members) = value {
            check_all_stamped(members, node, stamp, &path);
        }
    }
}

/// S6 on patch: every key named in the body that exists after the write is stamped, and every
/// node the write created.
fn check_named_stamped(
    body: &Map<String, Value>,
    content: &Map<String, Value>,
    metadata: &Map<String, Value>,
    stamp: &Stamp,
    path: &str,
) {
    for (key, value) in body {
        let Some(written) = content.get(key) else {
            continue;
        };
        let path = format!("{path}/{key}");
        let node = child_node(metadata, key, &path);
        check_stamp(node, stamp, &path);
        if let (Value::Object(inner), Value::Object(members)) = (value, written) {
            check_named_stamped(inner, members, node, stamp, &path);
        }
    }
}

/// S6 invariant for twins the engine made: every member has a stamped node, objects recursively,
/// and no node names an absent member.
fn check_mirror(content: &Map<String, Value>, metadata: &Map<String, Value>, desired: bool, path: &str) {
    assert!(
        metadata.get("$lastUpdated").is_some_and(Value::is_string),
        "{path}: no $lastUpdated"
    );
    if desired {
        assert!(
            metadata.get("$lastUpdatedVersion").is_some_and(Value::is_u64),
            "{path}: no $lastUpdatedVersion"
        );
    }
    for (key, value) in content {
        let path = format!("{path}/{key}");
        let node = child_node(metadata, key, &path);
        // A leaf or an array has one node, with no children.
        let no_members = Map::new();
        check_mirror(value.as_object().unwrap_or(&no_members), node, desired, &path);
    }
    for key in metadata.keys().filter(|k| !k.starts_with('$')) {
        assert!(content.contains_key(key), "{path}/{key}: metadata for an absent member");
    }
}

/// S7: a desired write notifies a patch that turns the old content into the new one; other
/// sections notify nothing.
fn check_notification(before: &Twin, after: &Twin, section: Section, outcome: &WriteOutcome) {
    let Some(Value::Object(mut notification)) = outcome.notification.as_ref().map(twindoc::Notification::to_value)
    else {
        assert!(outcome.notification.is_none(), "a notification that is not an object");
        assert_ne!(section, Section::Desired, "a desired write without a notification");
        return;
    };
    assert_eq!(section, Section::Desired, "a {section} write notified the device");
    let version = notification.shift_remove(VERSION);
    assert_eq!(
        version.and_then(|v| v.as_u64()),
        after.section_version(Section::Desired)
    );
    let mut state = Value::Object(content(before, Section::Desired));
    twindoc::merge(&mut state, &Value::Object(notification)).expect("the notification merges");
    assert_eq!(
        state,
        Value::Object(content(after, Section::Desired)),
        "old + notification != new"
    );
}
