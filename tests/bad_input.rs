//! Bad input of every kind gets its typed error quickly, never a panic or a stack overflow, and a
//! rejected write leaves the twin byte for byte as it was.

use serde_json::{json, Value};
use twindoc::{ErrorKind, Limits, Section, Twin, WriteOptions};

fn twin() -> Twin {
    let mut twin = Twin::new("devA", "2026-01-01T00:00:00Z".parse().unwrap());
    let options = WriteOptions::new("2026-01-01T00:00:01Z".parse().unwrap());
    twin.patch(Section::Desired, &json!({"a": {"b": 1}, "list": [1, 2]}), &options)
        .unwrap();
    twin.patch(Section::Tags, &json!({"site": "x"}), &options).unwrap();
    twin
}

fn options(limits: Limits) -> WriteOptions {
    WriteOptions::new("2026-01-01T00:00:02Z".parse().unwrap()).limits(limits)
}

/// Writes `body` to every section with both kinds, expecting `kind` and an unchanged twin.
fn refused(body: &Value, limits: Limits, kind: ErrorKind) {
    let mut twin = twin();
    let before = twin.to_json();
    for section in Section::ALL {
        for replace in [false, true] {
            let result = if replace {
                twin.replace(section, body, &options(limits))
            } else {
                twin.patch(section, body, &options(limits))
            };
            assert_eq!(
                result.map_err(|e| e.kind()).err(),
                Some(kind),
                "{section} replace={replace}"
            );
            assert_eq!(twin.to_json(), before, "the twin changed");
        }
    }
}

/// A value nested `depth` levels deep, built without recursion.
fn nested(depth: usize, array: bool) -> Value {
    let mut value = json!(1);
    for _ in 0..depth {
        value = if array {
            Value::Array(vec![value])
        } else {
            json!({ "k": value })
        };
    }
    value
}

#[test]
fn hundred_thousand_open_brackets_are_invalid_json() {
    for text in [
        "[".repeat(100_000),
        "{\"a\":".repeat(100_000),
        format!("{{\"a\":{}", "[".repeat(100_000)),
    ] {
        let error = twindoc::parse_json(&text, &Limits::none()).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidJson);
        assert_eq!(Twin::from_json(&text).unwrap_err().kind(), ErrorKind::InvalidJson);
    }
}

#[test]
fn malformed_text_is_invalid_json() {
    for text in [
        "",
        "{",
        "{\"a\":}",
        "{\"a\":1,}",
        "nul",
        "{\"a\":NaN}",
        "{\"a\":1} x",
        "\u{feff}{}",
    ] {
        let error = twindoc::parse_json(text, &Limits::azure()).unwrap_err();
        assert_eq!(
            (error.kind(), error.status(), error.error_code()),
            (ErrorKind::InvalidJson, 400, 400006),
            "{text:?}"
        );
    }
    let small = Limits::azure().with_max_input_bytes(10);
    let error = twindoc::parse_json(r#"{"a": "0123456789"}"#, &small).unwrap_err();
    assert!(error.message().contains("over the engine's maximum"), "{error}");
}

#[test]
fn bodies_that_are_not_objects_are_refused() {
    for body in [json!([1]), json!("s"), json!(null), json!(1), json!(true)] {
        refused(&body, Limits::azure(), ErrorKind::NotAnObject);
    }
}

#[test]
fn deep_values_built_in_code_hit_the_engine_bound_not_the_stack() {
    for array in [false, true] {
        let body = json!({ "deep": nested(1000, array) });
        refused(&body, Limits::azure(), ErrorKind::TooDeep);
        refused(&body, Limits::none(), ErrorKind::InvalidJson);
        let mut doc = json!({});
        assert_eq!(
            twindoc::merge(&mut doc, &body).unwrap_err().kind(),
            ErrorKind::InvalidJson
        );
        assert_eq!(doc, json!({}));
        let twin = json!({"deviceId": "d", "tags": {"deep": nested(1000, array)}});
        assert_eq!(Twin::from_value(twin).unwrap_err().kind(), ErrorKind::InvalidJson);
    }
    // Up to the bound, with limits off, deep bodies are fine.
    let mut twin = twin();
    twin.patch(
        Section::Desired,
        &json!({ "deep": nested(99, false) }),
        &options(Limits::none()),
    )
    .unwrap();
    assert!(
        Twin::from_json(&twin.to_json()).is_ok(),
        "what the engine writes parses again"
    );
}

#[test]
fn a_fifty_megabyte_string_is_too_long() {
    let body = json!({ "blob": "x".repeat(50 << 20) });
    refused(&body, Limits::azure(), ErrorKind::ValueTooLong);
    let text = format!("{{\"blob\": \"{}\"}}", "é".repeat(25 << 20));
    let parsed = twindoc::parse_json(&text, &Limits::azure()).unwrap();
    refused(&parsed, Limits::azure(), ErrorKind::ValueTooLong);
}

#[test]
fn document_model_rules_hold_with_limits_off() {
    refused(&json!({"a.b": 1}), Limits::none(), ErrorKind::InvalidKey);
    refused(&json!({"a": {"$metadata": {}}}), Limits::none(), ErrorKind::InvalidKey);
    refused(&json!({"a": [1, null]}), Limits::none(), ErrorKind::NullInArray);
    refused(&json!({"k\u{0}": 1}), Limits::none(), ErrorKind::InvalidKey);
    refused(
        &json!({"k": 4503599627370496_i64}),
        Limits::azure(),
        ErrorKind::IntegerOutOfRange,
    );
    refused(
        &json!({"k": -4503599627370497_i64}),
        Limits::azure(),
        ErrorKind::IntegerOutOfRange,
    );
    refused(&json!({ "k".repeat(1025): 1 }), Limits::azure(), ErrorKind::KeyTooLong);
}

#[test]
fn malformed_twins_are_invalid_twins() {
    for (doc, path) in [
        (json!([]), ""),
        (json!({"properties": 1}), "/properties"),
        (
            json!({"properties": {"desired": {"$version": "7"}}}),
            "/properties/desired/$version",
        ),
        (
            json!({"properties": {"reported": {"$version": -1}}}),
            "/properties/reported/$version",
        ),
        (
            json!({"properties": {"desired": {"$metadata": []}}}),
            "/properties/desired/$metadata",
        ),
        (json!({"version": 1.5}), "/version"),
        (json!({"etag": 7}), "/etag"),
        (json!({"tags": "x"}), "/tags"),
    ] {
        let error = Twin::from_value(doc.clone()).unwrap_err();
        assert_eq!((error.kind(), error.path()), (ErrorKind::InvalidTwin, path), "{doc}");
    }
}

#[test]
fn preconditions_are_checked_and_change_nothing() {
    let mut twin = twin();
    let before = twin.to_json();
    for etag in ["AAAAAAAAAAA=", "", "\"AAAAAAAAAAA=\"", "W/\"x\""] {
        let error = twin
            .patch(
                Section::Tags,
                &json!({"a": 1}),
                &options(Limits::azure()).if_match(etag),
            )
            .unwrap_err();
        assert_eq!(
            (error.kind(), error.path(), error.status()),
            (ErrorKind::PreconditionFailed, "", 412)
        );
    }
    let error = twin
        .patch(
            Section::Reported,
            &json!({"a": 1}),
            &options(Limits::azure()).if_version(7),
        )
        .unwrap_err();
    assert_eq!(error.error_code(), 412001);
    assert_eq!(twin.to_json(), before);
    let etag = format!("W/\"{}\"", twin.etag().unwrap());
    assert!(twin
        .patch(
            Section::Tags,
            &json!({"a": 1}),
            &options(Limits::azure()).if_match(etag)
        )
        .is_ok());
}

#[test]
fn counters_at_their_end_refuse_the_write() {
    let mut twin = Twin::from_value(json!({"deviceId": "d", "version": u64::MAX, "etag": "opaque"})).unwrap();
    let error = twin
        .patch(Section::Tags, &json!({"a": 1}), &options(Limits::azure()))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidTwin);
    assert_eq!(
        twin.to_value(),
        json!({"deviceId": "d", "version": u64::MAX, "etag": "opaque"})
    );
}
