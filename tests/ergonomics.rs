//! The public types behave as Rust users expect: Send + Sync, Clone, Debug, PartialEq, serde,
//! and `Error` as a `std::error::Error`.

use serde_json::json;
use twindoc::{
    DesiredUpdate, DeviceTwin, Error, LastUpdated, Limits, Section, Timestamp, Twin, WriteOptions, WriteOutcome,
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
