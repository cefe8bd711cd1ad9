//! The public types behave as Rust users expect: Send + Sync, Clone, Debug, PartialEq, serde,
//! and `Error` as a `std::error::Error`.

use serde_json::json;
use twindoc::{
    ChangeEvent, DesiredUpdate, DeviceTwin, DigitalTwinEvent, Error, EventProperties, LastUpdated, Limits, Section,
    Timestamp, Twin, WriteOptions, WriteOutcome,
};

fn send_sync<T: Send + Sync + 'static>() {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<Twin>();
    send_sync::<DeviceTwin>();
    send_sync::<DesiredUpdate>();
    send_sync::<Error>();
    send_sync::<Limits>();
    send_sync::<Section>();
    send_sync::<Timestamp>();
    send_sync::<WriteOptions>();
    send_sync::<WriteOutcome>();
    send_sync::<LastUpdated>();
    send_sync::<ChangeEvent>();
    send_sync::<EventProperties>();
    send_sync::<DigitalTwinEvent>();
}

#[test]
fn an_outcome_detached_from_its_body_keeps_its_event() {
    let mut twin = Twin::new_module("devA", "m1", "2026-01-01T00:00:00Z".parse().unwrap());
    let options = WriteOptions::new("2026-01-01T00:00:01Z".parse().unwrap()).hub_name("hub1");
    let outcome = {
        let body = json!({"a": {"b": 1}});
        twin.patch(Section::Desired, &body, &options).unwrap().into_owned()
    };
    let properties = outcome.event.properties();
    assert_eq!(
        (properties.device_id(), properties.module_id(), properties.hub_name()),
        (Some("devA"), Some("m1"), Some("hub1"))
    );
    assert_eq!(
        (properties.message_schema(), properties.op_type()),
        ("twinChangeNotification", "updateTwin")
    );
    assert_eq!(properties.operation_timestamp(), options.now);
    assert_eq!(
        outcome.event.body_value()["properties"]["desired"]["a"],
        json!({"b": 1})
    );
    assert_eq!(outcome.event.to_value()["body"], outcome.event.body_value());
    let mut written = Vec::new();
    outcome.event.write_json(&mut written).unwrap();
    assert_eq!(String::from_utf8(written).unwrap(), outcome.event.to_json());
    // The digital twin event was not asked for.
    assert_eq!(outcome.digital_twin_event, None);
}

#[test]
fn twins_serialize_and_deserialize_as_their_document() {
    let mut twin = Twin::new("devA", "2026-01-01T00:00:00Z".parse().unwrap());
    let options = WriteOptions::new("2026-01-01T00:00:01Z".parse().unwrap());
    twin.patch(Section::Desired, &json!({"a": 1}), &options).unwrap();
    let text = serde_json::to_string(&twin).unwrap();
    assert_eq!(text, twin.to_json());
    let back: Twin = serde_json::from_str(&text).unwrap();
    assert_eq!(back, twin);
    assert_eq!(back.size(Section::Desired), 9, "sizes are recomputed on the way in");
    let refused = serde_json::from_str::<Twin>(r#"{"properties": 3}"#).unwrap_err();
    assert!(refused.to_string().contains("/properties"), "{refused}");
    let copy = twin.clone();
    assert_eq!(format!("{copy:?}"), format!("{twin:?}"));
}

#[test]
fn errors_are_std_errors_that_name_their_path() {
    let mut twin = Twin::new("devA", "2026-01-01T00:00:00Z".parse().unwrap());
    let options = WriteOptions::new("2026-01-01T00:00:01Z".parse().unwrap());
    // The outcome borrows the body (its notification is the body itself), so the body outlives it.
    let body = json!({"a": {"b c": 1}});
    let result: Result<_, Box<dyn std::error::Error + Send + Sync>> =
        twin.patch(Section::Tags, &body, &options).map_err(Into::into);
    let error = result.unwrap_err();
    assert_eq!(
        error.to_string(),
        "InvalidKey at \"/a/b c\": keys may not contain a space"
    );
}
