//! The realistic twins of `tests/fixtures/` (copied from the project's shared fixtures): they
//! load, validate, round-trip, and take writes like any twin.

use serde_json::{json, Value};
use twindoc::{Section, Twin, WriteOptions};

fn fixtures() -> Vec<(&'static str, Twin)> {
    [
        ("fleet-device", include_str!("fixtures/fleet-device.json")),
        ("pnp-thermostat", include_str!("fixtures/pnp-thermostat.json")),
        ("edge-module", include_str!("fixtures/edge-module.json")),
    ]
    .into_iter()
    .map(|(name, text)| (name, Twin::from_json(text).unwrap_or_else(|e| panic!("{name}: {e}"))))
    .collect()
}

#[test]
fn fixtures_are_valid_and_round_trip() {
    for (name, twin) in fixtures() {
        assert_eq!(twindoc::validate(&twin), vec![], "{name}");
        assert_eq!(Twin::from_json(&twin.to_json()).unwrap(), twin, "{name}");
        let view = twin.device_view();
        assert!(
            view["desired"]["$version"].is_u64() && view["desired"].get("$metadata").is_none(),
            "{name}"
        );
    }
}

#[test]
fn edge_module_desired_is_about_8_kb() {
    let (_, edge) = fixtures().into_iter().find(|(n, _)| *n == "edge-module").unwrap();
    let size = edge.size(Section::Desired);
    assert!((7000..=9000).contains(&size), "{size}");
}

#[test]
fn a_desired_write_on_each_fixture_follows_s5_and_s6() {
    for (name, mut twin) in fixtures() {
        let (version, desired) = (twin.version(), twin.section_version(Section::Desired).unwrap());
        let untouched: Vec<(String, Value)> = twin
            .metadata_value(Section::Desired)
            .unwrap()
            .as_object()
            .unwrap()
            .clone()
            .into_iter()
            .collect();
        let options = WriteOptions::new("2027-01-01T00:00:00Z".parse().unwrap());
        let fresh = json!({"fresh": {"x": 1}});
        let outcome = twin.patch(Section::Desired, &fresh, &options).unwrap();
        assert_eq!(
            (outcome.version, outcome.section_version),
            (version + 1, Some(desired + 1)),
            "{name}"
        );
        let meta = twin.metadata_value(Section::Desired).unwrap();
        assert_eq!(meta["$lastUpdated"], "2027-01-01T00:00:00.0000000Z", "{name}");
        assert_eq!(meta["fresh"]["x"]["$lastUpdatedVersion"], desired + 1, "{name}");
        for (key, node) in untouched.iter().filter(|(k, _)| !k.starts_with('$')) {
            assert_eq!(&meta[key], node, "{name}: untouched {key} was re-stamped");
        }
    }
}
