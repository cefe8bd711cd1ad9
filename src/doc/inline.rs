//! Patches of a section whose `$metadata` is held inline, as read (see [`super::section::compact`]):
//! the section is merged as plain JSON with its metadata tree, as `serde_json` values, then read
//! back. Slower than the stamped merge, but exact for any metadata shape a twin may arrive with.

use serde_json::{Map, Value};

use super::node::{Object, NO_STAMP};
use crate::metadata::{names_configurations, set, Stamp};
use crate::names::{METADATA, VERSION};
use crate::patch::{merge_object, Meta};
use crate::Timestamp;

/// Merges `body` into `section` (S2), stamping its inline metadata (S6); returns the change of the
/// section's S4 size.
pub(crate) fn merge(
    section: &mut Object,
    body: &Map<String, Value>,
    desired: bool,
    version: u64,
    now: Timestamp,
) -> i128 {
    let mut target = section.to_map();
    let mut metadata = match target.get_mut(METADATA).map(std::mem::take) {
        Some(Value::Object(node)) => node,
        _ => Map::new(),
    };
    let stamp = Stamp::new(now, desired.then_some(version), names_configurations(&metadata));
    stamp.restamp(&mut metadata);
    let change = merge_object(
        &mut target,
        body,
        Some(Meta {
            node: &mut metadata,
            stamp: &stamp,
        }),
    );
    let mut last = target.keys().rev().map(String::as_str);
    if (last.next(), last.next()) == (Some(VERSION), Some(METADATA)) {
        set(&mut target, METADATA, Value::Object(metadata));
        set(&mut target, VERSION, version.into());
    } else {
        target.shift_remove(METADATA);
        target.shift_remove(VERSION);
        target.insert(METADATA.into(), Value::Object(metadata));
        target.insert(VERSION.into(), version.into());
    }
    *section = Object::from_map(&target, NO_STAMP, false);
    change
}
