//! `parse`: arbitrary bytes as JSON text and as a twin. Nothing panics; `parse_json` agrees with
//! serde_json within its bounds; a twin that reads once reads again, the same.

use serde_json::Value;
use twindoc::{Limits, Section, Twin};

/// The input bound of the small-limits parse, to reach the over-the-maximum refusal.
const SMALL_INPUT: usize = 64;

pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let ours = twindoc::parse_json(&text, &Limits::none());
    let reference = serde_json::from_str::<Value>(&text);
    match (&ours, &reference) {
        (Ok(ours), Ok(reference)) => assert_eq!(ours, reference),
        (Err(error), Err(_)) => assert_eq!(error.code(), "InvalidJson"),
        _ => panic!("parse_json and serde_json disagree: {ours:?} / {reference:?}"),
    }
    // With the integer range on, text serde_json reads may still be refused: an integer literal
    // beyond 64 bits (which serde_json keeps as an inexact float) is out of range.
    match (twindoc::parse_json(&text, &Limits::azure()), &ours) {
        (Ok(checked), Ok(ours)) => assert_eq!(&checked, ours),
        (Err(error), Ok(_)) => assert_eq!(error.code(), "IntegerOutOfRange", "{error}"),
        (Err(error), Err(_)) => assert_eq!(error.code(), "InvalidJson"),
        (Ok(_), Err(_)) => panic!("the integer range check accepted text parse_json refuses"),
    }
    let small = twindoc::parse_json(&text, &Limits::none().with_max_input_bytes(SMALL_INPUT));
    if text.len() > SMALL_INPUT {
        assert_eq!(
            small.map_err(|e| e.code()).err(),
            Some("InvalidJson"),
            "over the input bound"
        );
    } else {
        assert_eq!(small.ok(), ours.ok());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(twin) = Twin::from_json(text) {
            check_twin(&twin);
        }
    }
}

fn check_twin(twin: &Twin) {
    let json = twin.to_json();
    let again = Twin::from_json(&json).unwrap_or_else(|e| panic!("a twin read once does not read again: {e}"));
    assert_eq!(&again, twin);
    assert_eq!(again.to_json(), json);
    assert_eq!(Twin::from_json(&twin.to_json_pretty()).ok().as_ref(), Some(twin));
    let _ = twindoc::validate(twin);
    let view = twin.device_view();
    for section in Section::ALL {
        let _ = (
            twin.size(section),
            twin.last_updated(section, ""),
            twin.last_updated(section, "/a/b"),
        );
    }
    for section in [Section::Desired, Section::Reported] {
        assert!(view[section.name()]["$version"].is_u64(), "device view {section}");
        assert!(view[section.name()].get("$metadata").is_none(), "device view {section}");
    }
}
