//! Properties of section writes (S2-S6 of `../docs/semantics.md`), over random sequences of writes.

#[path = "../fuzz/fuzz_targets/checks/model.rs"]
mod model;

use base64::Engine as _;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Map, Value};
use twindoc::{Limits, Section, Timestamp, Twin, WriteOptions};

/// Keys from a small alphabet so that writes overlap, with a few invalid ones mixed in.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(vec!["a", "b", "c", "d", "e"]).prop_map(String::from),
        1 => prop::sample::select(vec!["a.b", "$x", "c d", "#", "é", ""]).prop_map(String::from),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        Just(json!(4503599627370496_i64)),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z]{0,6}".prop_map(Value::from),
    ]
}

/// JSON values with nulls as members (deletions) and occasionally inside arrays (invalid).
fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(12, 64, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Value> {
    prop_oneof![
        20 => prop::collection::vec((key(), value()), 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        1 => value(),
    ]
}

#[derive(Clone, Debug)]
struct Write {
    section: Section,
    replace: bool,
    body: Value,
    /// Some(true): the right If-Match; Some(false): a wrong one.
    if_match: Option<bool>,
}

fn write() -> impl Strategy<Value = Write> {
    (
        prop::sample::select(Section::ALL.to_vec()),
        prop::bool::weighted(0.2),
        body(),
        prop::option::weighted(0.2, prop::bool::weighted(0.7)),
    )
        .prop_map(|(section, replace, body, if_match)| Write {
            section,
            replace,
            body,
            if_match,
        })
}

/// Small section limits so that size rejections happen too.
fn limits() -> Limits {
    Limits::azure()
        .with_tags_bytes(120)
        .with_desired_bytes(160)
        .with_reported_bytes(160)
}

/// The time of the write numbered `second`.
fn time(second: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_767_225_600_000 + second * 1000).expect("in range")
}

fn apply<'w>(twin: &mut Twin, w: &'w Write, second: i64) -> Result<twindoc::WriteOutcome<'w>, twindoc::Error> {
    let mut options = WriteOptions::new(time(second)).limits(limits());
    match w.if_match {
        Some(true) => options = options.if_match(twin.etag().unwrap_or_default()),
        Some(false) => options = options.if_match("\"AAAAAAAAAAA=\""),
        None => {}
    }
    if w.replace {
        twin.replace(w.section, &w.body, &options)
    } else {
        twin.patch(w.section, &w.body, &options)
    }
}

/// The S4 size, written again independently of the engine.
fn size(value: &Value) -> u64 {
    match value {
        Value::String(s) => s.len() as u64,
        Value::Number(_) => 8,
        Value::Bool(_) => 4,
        Value::Null => 0,
        Value::Array(items) => items.iter().map(size).sum(),
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| *k != "$metadata" && *k != "$version")
            .map(|(k, v)| k.len() as u64 + size(v))
            .sum(),
    }
}

fn content(twin: &Twin, section: Section) -> Map<String, Value> {
    match twin.content_value(section) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Every node has a metadata node, and no metadata node lacks its member (S6 invariant).
fn check_metadata(
    content: &Map<String, Value>,
    meta: &Map<String, Value>,
    desired: bool,
    path: &str,
) -> Result<(), String> {
    let stamped = meta.get("$lastUpdated").is_some_and(Value::is_string);
    let versioned = !desired || meta.get("$lastUpdatedVersion").is_some_and(Value::is_u64);
    if !stamped || !versioned {
        return Err(format!("metadata node at {path:?} is not fully stamped: {meta:?}"));
    }
    for key in meta.keys().filter(|k| !k.starts_with('$')) {
        if !content.contains_key(key) {
            return Err(format!("orphan metadata node {path}/{key}"));
        }
    }
    for (key, value) in content {
        let node = meta
            .get(key)
            .and_then(Value::as_object)
            .ok_or(format!("no metadata for {path}/{key}"))?;
        match value {
            Value::Object(inner) => check_metadata(inner, node, desired, &format!("{path}/{key}"))?,
            _ if node.keys().any(|k| !k.starts_with('$')) => {
                return Err(format!("leaf {path}/{key} has child metadata"))
            }
            _ => {}
        }
    }
    Ok(())
}

fn etag_counter(twin: &Twin) -> u64 {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(twin.etag().unwrap_or_default())
        .unwrap_or_default();
    u64::from_be_bytes(bytes.try_into().unwrap_or_default())
}

fn new_twin() -> Twin {
    Twin::new("devA", "2026-01-01T00:00:00Z".parse().expect("valid time"))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/properties.txt"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn writes_keep_every_invariant(writes in prop::collection::vec(write(), 1..12)) {
        let mut twin = new_twin();
        let mut model = model::TwinModel::new(twin.to_value());
        for (i, w) in writes.iter().enumerate() {
            let before = twin.clone();
            let before_text = twin.to_json();
            match apply(&mut twin, w, i as i64) {
                Err(_) => prop_assert_eq!(twin.to_json(), before_text, "a rejected write changed the twin"),
                Ok(outcome) => {
                    // S5 counters.
                    prop_assert_eq!(twin.version(), before.version() + 1);
                    prop_assert_eq!(outcome.version, twin.version());
                    let etag_step = u64::from(w.section != Section::Reported);
                    prop_assert_eq!(etag_counter(&twin), etag_counter(&before) + etag_step);
                    prop_assert_eq!(outcome.etag.as_str(), twin.etag().unwrap_or_default());
                    for s in Section::ALL {
                        let step = u64::from(s == w.section && s != Section::Tags);
                        prop_assert_eq!(twin.section_version(s), before.section_version(s).map(|v| v + step));
                    }
                    prop_assert_eq!(outcome.section_version, twin.section_version(w.section));
                    // S7: only desired writes notify, with the new $version.
                    let notified = outcome.notification.as_ref().map(|n| json!(n.version()));
                    let expected = (w.section == Section::Desired).then(|| json!(twin.section_version(w.section)));
                    prop_assert_eq!(notified, expected);
                    // The whole document, against the plain-Value model written the same way.
                    model.write(w.section, w.replace, &w.body, &time(i as i64).to_string());
                    prop_assert_eq!(&twin.to_value(), model.doc(), "the twin and its plain-Value model differ");
                }
            }
            let doc = twin.to_value();
            for s in Section::ALL {
                // S4: the tracked size is the size recomputed from scratch.
                prop_assert_eq!(twin.size(s), size(&twin.content_value(s)));
                if s != Section::Tags {
                    let meta = twin.metadata_value(s).and_then(|m| m.as_object().cloned()).unwrap_or_default();
                    if let Err(problem) = check_metadata(&content(&twin, s), &meta, s == Section::Desired, "") {
                        return Err(TestCaseError::fail(format!("{problem} after write {i} {w:?}\n{doc}")));
                    }
                }
            }
            // What the engine writes parses back to the same twin.
            prop_assert_eq!(&Twin::from_json(&twin.to_json()).expect("re-parses"), &twin);
        }
    }

    #[test]
    fn a_patch_applied_twice_gives_the_content_of_once(setup in prop::collection::vec(write(), 0..6), w in write()) {
        let mut twin = new_twin();
        for (i, s) in setup.iter().enumerate() {
            let _ = apply(&mut twin, s, i as i64);
        }
        let patch = Write { replace: false, if_match: None, ..w };
        if apply(&mut twin, &patch, 100).is_ok() {
            let once = content(&twin, patch.section);
            let size_once = twin.size(patch.section);
            prop_assert!(apply(&mut twin, &patch, 101).is_ok(), "the second application must be accepted too");
            prop_assert_eq!(content(&twin, patch.section), once);
            prop_assert_eq!(twin.size(patch.section), size_once);
        }
    }

    #[test]
    fn section_merge_is_the_plain_merge(setup in prop::collection::vec(write(), 0..6), w in write()) {
        let mut twin = new_twin();
        for (i, s) in setup.iter().enumerate() {
            let _ = apply(&mut twin, s, i as i64);
        }
        let mut expected = Value::Object(content(&twin, w.section));
        let patch = Write { replace: false, if_match: None, ..w };
        if apply(&mut twin, &patch, 100).is_ok() {
            twindoc::merge(&mut expected, &patch.body).expect("a body the twin took merges");
            prop_assert_eq!(Value::Object(content(&twin, patch.section)), expected);
        }
    }
}
