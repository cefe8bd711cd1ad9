//! Runs the delta vectors of `tests/vectors/delta.json` (SEMANTICS.md S9).

use std::collections::HashSet;

use serde_json::Value;

#[test]
fn delta_vectors() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/delta.json"))
        .expect("tests/vectors/delta.json is readable");
    let file: Value = serde_json::from_str(&text).expect("delta.json is JSON");
    let cases = file["cases"].as_array().expect("delta.json has cases");
    assert!(!cases.is_empty());
    let mut names = HashSet::new();
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("every case has a name");
        assert!(names.insert(name), "duplicate case name {name}");
        assert_eq!(case["op"], "delta", "{name}: unknown op");
        assert_eq!(case["spec"], "S9", "{name}: unexpected spec");
        match twindoc::delta(&case["desired"], &case["reported"]) {
            Ok(got) if got == case["expect"] => {}
            Ok(got) => failures.push(format!("{name}: expected {}, got {got}", case["expect"])),
            Err(e) => failures.push(format!("{name}: error {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing delta vectors:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
