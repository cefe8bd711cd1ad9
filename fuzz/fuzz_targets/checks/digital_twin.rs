//! `digital_twin`: desired and reported patches and Update Digital Twin requests on one twin
//! (S13, S14). Nothing panics; a refused write leaves the twin byte for byte; an accepted one's
//! digital twin change event, applied to the view before (by the json-patch crate), gives the
//! view after (no event: the view did not change); the desired part of its change event, merged
//! into desired before, gives desired after.
//!
//! Input: segments split on 0xFF (a byte UTF-8 never holds): a twin text (a new twin when it does
//! not read), then up to 8 writes, each one selector byte and a JSON body. Selector `% 3`: a
//! desired patch, a reported patch, or the body as Update Digital Twin operations.

use serde_json::Value;
use twindoc::{Limits, Section, Timestamp, Twin, WriteOptions};

const SEPARATOR: u8 = 0xFF;
const MAX_WRITES: usize = 8;

pub fn run(data: &[u8]) {
    let mut segments = data.split(|&b| b == SEPARATOR);
    let first = segments.next().and_then(|s| std::str::from_utf8(s).ok());
    let mut twin = first
        .and_then(|text| Twin::from_json(text).ok())
        .unwrap_or_else(|| Twin::new("d", Timestamp::from_unix_millis(1_767_225_600_000).expect("in range")));
    let _ = twin.digital_twin();
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
        let now = Timestamp::from_unix_millis(1_767_225_601_000 + i as i64 * 1000).expect("in range");
        let options = WriteOptions::new(now).limits(Limits::none()).digital_twin_event(true);
        let before = twin.to_json();
        let view_before = twin.digital_twin();
        let desired_before = twin.content_value(Section::Desired);
        let result = match selector % 3 {
            0 => twin.patch(Section::Desired, &body, &options).map(|o| o.into_owned()),
            1 => twin.patch(Section::Reported, &body, &options).map(|o| o.into_owned()),
            _ => twindoc::digital_twin_operations(&body).and_then(|ops| twin.patch_digital_twin(&ops, &options)),
        };
        let outcome = match result {
            Err(_) => {
                assert_eq!(twin.to_json(), before, "a refused write changed the twin");
                continue;
            }
            Ok(outcome) => outcome,
        };
        let view_after = twin.digital_twin();
        match &outcome.digital_twin_event {
            None => assert_eq!(view_before, view_after, "no event, yet the view changed"),
            Some(event) => {
                let mut view = view_before.clone();
                json_patch::patch(&mut view, &event.operations).expect("the event's operations apply");
                assert_eq!(view, view_after, "the event does not lead to the view after");
            }
        }
        let event = outcome.event.to_value();
        if let Some(Value::Object(part)) = event.pointer("/body/properties/desired") {
            let mut written = part.clone();
            written.remove("$metadata");
            written.remove("$version");
            let mut merged = desired_before;
            twindoc::merge(&mut merged, &Value::Object(written)).expect("two objects");
            assert_eq!(merged, twin.content_value(Section::Desired), "before + event != after");
        }
    }
}
