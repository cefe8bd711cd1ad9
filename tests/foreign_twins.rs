//! Writes to twins the engine did not write itself: members in another order, metadata missing
//! or naming configurations. The write path has shortcuts for the twins it writes (stamps first
//! in a node, `$metadata` and `$version` last in a section, no configuration names); these twins
//! must come out as if there were none.

use serde_json::{json, Value};
use twindoc::{Section, Twin, WriteOptions};

fn options() -> WriteOptions {
    WriteOptions::new("2026-11-28T10:00:00Z".parse().expect("a time"))
}

const T: &str = "2026-11-28T10:00:00.0000000Z";

fn patched(twin: Value, section: Section, body: Value) -> Value {
    let mut twin = Twin::from_value(twin).expect("a twin");
    twin.patch(section, &body, &options()).expect("accepted");
    twin.to_value()
}

#[test]
fn metadata_and_version_end_the_section_whatever_order_they_were_in() {
    let twin = json!({"properties": {"desired": {
        "$version": 3, "a": 1, "$metadata": {"a": {"$lastUpdated": "old", "$lastUpdatedVersion": 3}}
    }}});
    let after = patched(twin, Section::Desired, json!({"a": 2}));
    let desired = &after["properties"]["desired"];
    let keys: Vec<&str> = desired.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["a", "$metadata", "$version"]);
    assert_eq!(desired["$version"], 4);
    let stamped = json!({"$lastUpdated": T, "$lastUpdatedVersion": 4});
    assert_eq!(desired["$metadata"]["a"], stamped);
}

#[test]
fn a_section_without_metadata_gets_stamps_for_what_is_written_only() {
    let twin = json!({"properties": {"reported": {"old": {"x": 1}, "$version": 7}}});
    let after = patched(twin, Section::Reported, json!({"new": {"y": 2}}));
    let reported = &after["properties"]["reported"];
    let keys: Vec<&str> = reported.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["old", "new", "$metadata", "$version"]);
    assert_eq!(
        reported["$metadata"],
        json!({"$lastUpdated": T, "new": {"$lastUpdated": T, "y": {"$lastUpdated": T}}})
    );
}

#[test]
fn configuration_names_go_only_from_the_nodes_a_write_stamps() {
    let by = |version: u64| {
        json!({"$lastUpdated": "old", "$lastUpdatedVersion": version,
               "$lastUpdatedBy": "cfg", "$lastUpdatedByDigest": "1"})
    };
    let mut metadata = by(2);
    metadata["a"] = json!({"$lastUpdated": "old", "$lastUpdatedVersion": 2});
    metadata["a"]["b"] = by(2);
    metadata["z"] = by(1);
    let twin = json!({"properties": {"desired": {"a": {"b": 1}, "z": 0, "$metadata": metadata, "$version": 2}}});
    let stamped = |extra: Value| {
        let mut node = json!({"$lastUpdated": T, "$lastUpdatedVersion": 3});
        if let Value::Object(extra) = extra {
            node.as_object_mut().unwrap().extend(extra);
        }
        node
    };

    // Writing a/c stamps the root and a (neither keeps a name), not a/b or z.
    let after = patched(twin.clone(), Section::Desired, json!({"a": {"c": 1}}));
    let meta = &after["properties"]["desired"]["$metadata"];
    assert_eq!(meta["a"]["b"], by(2));
    assert_eq!(meta["z"], by(1));
    assert_eq!(meta["a"]["c"], stamped(json!(null)));
    assert!(meta.get("$lastUpdatedBy").is_none() && meta.get("$lastUpdatedByDigest").is_none());

    // Writing a/b re-stamps it: its names go.
    let after = patched(twin, Section::Desired, json!({"a": {"b": 2}}));
    let meta = &after["properties"]["desired"]["$metadata"];
    assert_eq!(meta["a"]["b"], stamped(json!(null)));
    assert_eq!(meta["z"], by(1));
}
