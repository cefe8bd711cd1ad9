//! Properties of the change events (S13) and of the digital twin (S14) of `../docs/semantics.md`,
//! over random sequences of writes.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Map, Value};
use twindoc::{Section, Timestamp, Twin, WriteOptions};

/// Keys from a small alphabet so that writes overlap.
fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "c", "t1", "t2"]).prop_map(String::from)
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        (-5i64..5).prop_map(Value::from),
        "[a-c]{0,3}".prop_map(Value::from),
        Just(json!([1, "x"])),
    ]
}

/// Values with nulls as members (deletions), components (`"__t": "c"`) and Plug and Play
/// acknowledgements, so that the digital twin has all its shapes.
fn value() -> impl Strategy<Value = Value> {
    let plain = leaf().prop_recursive(3, 16, 3, |inner| {
        prop::collection::vec((key(), prop_oneof![4 => inner, 1 => Just(Value::Null)]), 0..3)
            .prop_map(|members| Value::Object(members.into_iter().collect()))
    });
    prop_oneof![
        4 => plain.clone(),
        1 => Just(Value::Null),
        1 => prop::collection::vec((key(), plain.clone()), 0..3).prop_map(|members| {
            let mut component: Map<String, Value> = members.into_iter().collect();
            component.insert("__t".into(), "c".into());
            Value::Object(component)
        }),
        1 => (leaf(), prop::sample::select(vec![200, 202, 400]), 0u64..6)
            .prop_map(|(value, ac, av)| json!({"value": value, "ac": ac, "av": av})),
    ]
}

fn body() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), value()), 0..4).prop_map(|m| Value::Object(m.into_iter().collect()))
}

#[derive(Clone, Debug)]
enum Write {
    Section(Section, bool, Value),
    /// A twin-level update: tags and desired parts.
    Twin(Value),
}

fn write() -> impl Strategy<Value = Write> {
    prop_oneof![
        4 => (prop::sample::select(Section::ALL.to_vec()), prop::bool::weighted(0.2), body())
            .prop_map(|(section, replace, body)| Write::Section(section, replace, body)),
        1 => (body(), body()).prop_map(|(tags, desired)| Write::Twin(json!({"tags": tags, "properties": {"desired": desired}}))),
    ]
}

fn time(second: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_767_225_600_000 + second * 1000).expect("in range")
}

fn apply<'w>(twin: &mut Twin, write: &'w Write, options: &WriteOptions) -> twindoc::WriteOutcome<'w> {
    match write {
        Write::Section(section, false, body) => twin.patch(*section, body, options),
        Write::Section(section, true, body) => twin.replace(*section, body, options),
        Write::Twin(body) => twin.update(body, options),
    }
    .expect("the generated writes are valid")
}

/// Every pointer of a metadata tree's nodes, below its root, with the node.
fn metadata_nodes<'v>(node: &'v Value, path: String, out: &mut Vec<(String, &'v Value)>) {
    for (key, child) in node.as_object().into_iter().flatten() {
        if !key.starts_with('$') {
            let path = format!("{path}/{}", twindoc::escape_pointer_token(key));
            out.push((path.clone(), child));
            metadata_nodes(child, path, out);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/events_props.txt"))),
        ..ProptestConfig::default()
    })]

    /// A section patch's event built again after the write from its body
    /// (`ChangeEvent::of_patch`, what the JavaScript package does when an event is read) is the
    /// write's own event, even after later writes.
    #[test]
    fn a_patch_event_built_again_from_its_body_is_the_write_s_event(
        writes in prop::collection::vec((prop::sample::select(Section::ALL.to_vec()), body()), 1..8),
        hub in prop::option::of("[a-z]{1,4}"),
    ) {
        let mut twin = Twin::new_module("devA", "m1", time(0));
        let mut events = Vec::new();
        for (i, (section, body)) in writes.iter().enumerate() {
            let mut options = WriteOptions::new(time(i as i64 + 1));
            if let Some(hub) = &hub {
                options = options.hub_name(hub.as_str());
            }
            let outcome = twin.patch(*section, body, &options).expect("the generated writes are valid");
            let properties = twindoc::EventProperties::of_update(Some("devA"), Some("m1"), &options);
            let again = twindoc::ChangeEvent::of_patch(properties, *section, body, outcome.version, outcome.section_version)
                .expect("an object body");
            prop_assert_eq!(&again, &outcome.event);
            events.push((outcome.event.into_owned(), *section, body, outcome.version, outcome.section_version, options));
        }
        for (event, section, body, version, section_version, options) in &events {
            let properties = twindoc::EventProperties::of_update(Some("devA"), Some("m1"), options);
            let again = twindoc::ChangeEvent::of_patch(properties, *section, body, *version, *section_version)
                .expect("an object body");
            prop_assert_eq!(&again, event);
            prop_assert_eq!(again.to_json(), event.to_json());
        }
    }

    /// S13: each part of an update event, merged into the section before the write (its
    /// `$metadata` and `$version` set aside), gives the section after; its `$metadata` holds the
    /// twin's own stamps for the nodes it names, and its `$version` is the section's.
    #[test]
    fn an_update_event_merged_into_the_twin_before_gives_the_twin_after(
        writes in prop::collection::vec(write(), 1..8)
    ) {
        let mut twin = Twin::new("devA", time(0));
        for (i, write) in writes.iter().enumerate() {
            let options = WriteOptions::new(time(i as i64 + 1)).hub_name("hub");
            let before = twin.clone();
            let event = apply(&mut twin, write, &options).event.to_value();
            prop_assert_eq!(&event["properties"]["hubName"], "hub");
            prop_assert_eq!(&event["properties"]["operationTimestamp"], &json!(time(i as i64 + 1).to_string()));
            if matches!(write, Write::Section(_, true, _)) {
                prop_assert_eq!(&event["properties"]["opType"], "replaceTwin");
                let mut shown = twin.to_value();
                shown.as_object_mut().unwrap().retain(|k, _| ["deviceId", "etag", "version", "tags", "properties"].contains(&k.as_str()));
                prop_assert_eq!(&event["body"], &shown);
                continue;
            }
            prop_assert_eq!(&event["properties"]["opType"], "updateTwin");
            let body = &event["body"];
            prop_assert_eq!(&body["version"], &json!(twin.version()));
            let parts = [
                (Section::Tags, body.get("tags")),
                (Section::Desired, body.pointer("/properties/desired")),
                (Section::Reported, body.pointer("/properties/reported")),
            ];
            for (section, part) in parts {
                let Some(part) = part else {
                    prop_assert_eq!(before.content_value(section), twin.content_value(section), "{} untouched", section);
                    continue;
                };
                let mut content = part.clone();
                let metadata = content.as_object_mut().unwrap().remove("$metadata");
                let version = content.as_object_mut().unwrap().remove("$version");
                let mut merged = before.content_value(section);
                twindoc::merge(&mut merged, &content).unwrap();
                prop_assert_eq!(&merged, &twin.content_value(section), "{}", section);
                if section == Section::Tags {
                    prop_assert!(metadata.is_none() && version.is_none());
                    continue;
                }
                prop_assert_eq!(version, twin.section_version(section).map(Value::from));
                let metadata = metadata.expect("desired and reported carry $metadata");
                let mut nodes = vec![(String::new(), &metadata)];
                metadata_nodes(&metadata, String::new(), &mut nodes);
                for (path, node) in nodes {
                    let stamp = twin.last_updated(section, &path).expect("a written node has metadata");
                    prop_assert_eq!(&node["$lastUpdated"], &json!(stamp.time));
                    prop_assert_eq!(node.get("$lastUpdatedVersion").and_then(Value::as_u64), stamp.version);
                }
            }
        }
    }

    /// S14: a write's digital twin change event, applied to the view before (by the json-patch
    /// crate), gives the view after; no event means the view did not change. Its operations come
    /// in sorted key order. (The event is worked out from the members the write can change:
    /// this checks it against the whole view, also on twins with partial metadata.)
    #[test]
    fn a_digital_twin_event_applied_to_the_view_before_gives_the_view_after(
        writes in prop::collection::vec(write(), 1..8),
        foreign in any::<bool>(),
    ) {
        let mut twin = Twin::new("devA", time(0));
        for (i, write) in writes.iter().enumerate() {
            if foreign && i == writes.len() / 2 {
                // A twin from elsewhere, whose desired metadata has only its root: every desired
                // write then moves the desiredVersion of every desired property.
                let mut doc = twin.to_value();
                if let Some(metadata) = doc.pointer_mut("/properties/desired/$metadata").and_then(Value::as_object_mut) {
                    metadata.retain(|key, _| key.starts_with('$'));
                }
                twin = Twin::from_value(doc).unwrap();
            }
            let options = WriteOptions::new(time(i as i64 + 1)).digital_twin_event(true);
            let before = twin.digital_twin();
            let outcome = apply(&mut twin, write, &options);
            let after = twin.digital_twin();
            let Some(event) = outcome.digital_twin_event else {
                prop_assert_eq!(before, after);
                continue;
            };
            prop_assert_eq!(event.properties.message_schema(), "digitalTwinChangeNotification");
            let paths: Vec<Vec<String>> = event
                .operations
                .iter()
                .map(|op| op.path().tokens().map(|t| t.decoded().into_owned()).collect())
                .collect();
            prop_assert!(paths.windows(2).all(|w| w[0] < w[1]), "sorted: {:?}", paths);
            let mut view = before;
            json_patch::patch(&mut view, &event.operations).expect("the operations apply");
            prop_assert_eq!(view, after);
        }
    }

    /// S14: an accepted Update Digital Twin makes desired `p` (or `c.p`) exactly the value of the
    /// last operation at that path, or removes it; a refused one leaves the twin byte for byte.
    #[test]
    fn update_digital_twin_makes_each_path_what_its_last_operation_says(
        setup in prop::collection::vec(write(), 0..4),
        operations in prop::collection::vec(
            (prop::sample::select(vec!["add", "replace", "remove"]), key(), prop::option::of(key()), value()),
            0..5,
        ),
    ) {
        let mut twin = Twin::new("devA", time(0));
        for (i, write) in setup.iter().enumerate() {
            apply(&mut twin, write, &WriteOptions::new(time(i as i64 + 1)));
        }
        let operations: Vec<Value> = operations
            .iter()
            .map(|(op, name, property, value)| {
                let path = match property {
                    Some(property) => format!("/{name}/{property}"),
                    None => format!("/{name}"),
                };
                // A null value would delete; components are written with `"$metadata": {}`.
                let value = match value {
                    Value::Null => json!(1),
                    Value::Object(members) if members.contains_key("__t") => {
                        let mut members = members.clone();
                        members.remove("__t");
                        members.insert("$metadata".into(), json!({}));
                        Value::Object(members)
                    }
                    other => other.clone(),
                };
                match *op {
                    "remove" => json!({"op": op, "path": path}),
                    _ => json!({"op": op, "path": path, "value": value}),
                }
            })
            .collect();
        let before = twin.to_json();
        let parsed = twindoc::digital_twin_operations(&Value::Array(operations.clone())).expect("operations");
        match twin.patch_digital_twin(&parsed, &WriteOptions::new(time(9))) {
            Err(e) => {
                prop_assert!(["InvalidArgument", "InvalidKey", "NullInArray"].contains(&e.code()), "{}", e);
                prop_assert_eq!(twin.to_json(), before);
            }
            Ok(_) => {
                let desired = twin.content_value(Section::Desired);
                for (i, op) in operations.iter().enumerate() {
                    let path = op["path"].as_str().unwrap();
                    // An operation decides alone when no later one is at its path, above it
                    // (which replaces it) or below it (which goes inside it).
                    let later = operations[i + 1..].iter().any(|o| {
                        let other = o["path"].as_str().unwrap();
                        path == other || path.starts_with(&format!("{other}/")) || other.starts_with(&format!("{path}/"))
                    });
                    if later {
                        continue;
                    }
                    let got = desired.pointer(path);
                    match op["op"].as_str() {
                        Some("remove") => prop_assert_eq!(got, None, "{}", op),
                        _ => {
                            let mut want = op["value"].clone();
                            if let Some(members) = want.as_object_mut().filter(|m| m.contains_key("$metadata")) {
                                members.remove("$metadata");
                                members.insert("__t".into(), "c".into());
                            }
                            // Nested nulls inside a written value delete, as in any patch.
                            let mut written = json!({});
                            twindoc::merge(&mut written, &json!({"v": want})).unwrap();
                            prop_assert_eq!(got, Some(&written["v"]), "{}", op);
                        }
                    }
                }
            }
        }
    }
}
