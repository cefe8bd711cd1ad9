//! Properties of S12 automatic configurations over generated fleets and configuration sets:
//! applying twice changes nothing the second time, and the result does not depend on the order
//! the configurations are given in.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Map, Value};
use twindoc::{Configurations, Limits, Section, Timestamp, Twin, WriteOptions};

fn time(text: &str) -> Timestamp {
    text.parse().expect("a valid time")
}

/// A value a configuration sets or a manual write leaves: scalars (1 and 1.0 both), arrays,
/// small objects, and `null` (absent).
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(json!(1)),
        Just(json!(1.0)),
        Just(json!("on")),
        Just(json!(true)),
        Just(json!([1, 2])),
    ];
    prop_oneof![
        3 => leaf.clone(),
        2 => prop::collection::btree_map(prop::sample::select(vec!["x", "y"]), leaf, 0..3)
            .prop_map(|m| json!(m)),
        1 => Just(Value::Null),
    ]
}

const KEYS: [&str; 6] = [
    "properties.desired",
    "properties.desired.a",
    "properties.desired.b",
    "properties.desired.a.x",
    "properties.desired.c.y",
    "properties.desired.c",
];

/// One configuration's content: keys from [`KEYS`], those that overlap an earlier one left out.
fn content() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((prop::sample::select(KEYS.to_vec()), value()), 0..4).prop_map(|pairs| {
        let mut out = Map::new();
        for (key, value) in pairs {
            let overlaps = out
                .keys()
                .any(|k: &String| k.starts_with(key) || key.starts_with(k.as_str()));
            if overlaps {
                continue;
            }
            // `properties.desired` itself must be given an object.
            let value = match (key, value) {
                ("properties.desired", Value::Object(m)) => Value::Object(m),
                ("properties.desired", _) => json!({"z": 1}),
                (_, v) => v,
            };
            out.insert(key.to_owned(), value);
        }
        out
    })
}

/// A set of configurations with distinct ids, ranks that may tie on priority and creation time,
/// device and module kinds, and conditions on tags.
fn configurations() -> impl Strategy<Value = Vec<Value>> {
    let one = (
        prop::option::of(0u64..3),
        prop::option::of(prop::sample::select(vec![
            "2026-01-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
        ])),
        prop::sample::select(vec![
            "*",
            "tags.env = 'prod'",
            "tags.env = 'test'",
            "NOT tags.env = 'prod'",
        ]),
        prop::bool::weighted(0.2),
        content(),
    );
    prop::collection::vec(one, 0..5).prop_map(|list| {
        list.into_iter()
            .enumerate()
            .map(|(i, (priority, created, condition, module, content))| {
                let kind = if module { "moduleContent" } else { "deviceContent" };
                let mut c = json!({"id": format!("c{i}"), "targetCondition": condition, "content": {kind: content}});
                if let Some(priority) = priority {
                    c["priority"] = priority.into();
                }
                if let Some(created) = created {
                    c["createdTimeUtc"] = created.into();
                }
                c
            })
            .collect()
    })
}

/// A fleet of twins made by `Twin::new`, with tags and a manual desired write, some of them
/// modules.
fn fleet() -> impl Strategy<Value = Vec<Twin>> {
    let twin = (
        prop::option::of(prop::sample::select(vec!["prod", "test"])),
        prop::collection::btree_map(prop::sample::select(vec!["a", "b", "c", "d"]), value(), 0..3),
        prop::bool::weighted(0.2),
    );
    prop::collection::vec(twin, 1..5).prop_map(|twins| {
        let created = time("2026-11-01T00:00:00Z");
        let options = WriteOptions::new(time("2026-11-02T00:00:00Z"));
        twins
            .into_iter()
            .enumerate()
            .map(|(i, (env, desired, module))| {
                let id = format!("d{i}");
                let mut twin = match module {
                    true => Twin::new_module(&id, "m", created),
                    false => Twin::new(&id, created),
                };
                if let Some(env) = env {
                    twin.patch(Section::Tags, &json!({"env": env}), &options).expect("tags");
                }
                twin.patch(Section::Desired, &json!(desired), &options)
                    .expect("desired");
                twin
            })
            .collect()
    })
}

/// The fleet after an earlier application (so that nodes carry `$lastUpdatedBy`) and a manual
/// write over some of it.
fn configured_fleet() -> impl Strategy<Value = Vec<Twin>> {
    (
        fleet(),
        configurations(),
        prop::collection::btree_map(prop::sample::select(vec!["a", "c"]), value(), 0..2),
    )
        .prop_map(|(mut twins, earlier, manual)| {
            let earlier =
                Configurations::from_value(&Value::Array(earlier)).expect("generated configurations are valid");
            earlier.apply_all(&mut twins, time("2026-11-03T00:00:00Z"), &Limits::azure());
            if let Some(first) = twins.first_mut() {
                first
                    .patch(
                        Section::Desired,
                        &json!(manual),
                        &WriteOptions::new(time("2026-11-04T00:00:00Z")),
                    )
                    .expect("manual write");
            }
            twins
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/configuration_props.txt"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn applying_twice_changes_nothing_the_second_time(twins in configured_fleet(), list in configurations()) {
        let configurations = Configurations::from_value(&Value::Array(list)).expect("generated configurations are valid");
        let mut twins = twins;
        let first = configurations.apply_all(&mut twins, time("2026-12-01T00:00:00Z"), &Limits::azure());
        prop_assert!(first.failures.is_empty(), "{:?}", first.failures);
        let after_first: Vec<String> = twins.iter().map(Twin::to_json).collect();
        for twin in &mut twins {
            let again = configurations.apply(twin, time("2026-12-02T00:00:00Z"), &Limits::azure()).expect("applies");
            prop_assert!(again.outcome.is_none(), "a second application wrote {:?}", again.outcome);
        }
        let after_second: Vec<String> = twins.iter().map(Twin::to_json).collect();
        prop_assert_eq!(after_first, after_second);
    }

    #[test]
    fn the_order_configurations_are_given_in_does_not_matter(
        twins in configured_fleet(),
        list in configurations(),
        order in Just(()).prop_perturb(|_, mut rng| rng.random::<u64>()),
    ) {
        let mut shuffled = list.clone();
        // A permutation drawn from the seed: rotate, then reverse when odd.
        if !shuffled.is_empty() {
            let by = (order as usize) % shuffled.len();
            shuffled.rotate_left(by);
        }
        if order % 2 == 1 {
            shuffled.reverse();
        }
        let given = Configurations::from_value(&Value::Array(list)).expect("valid");
        let reordered = Configurations::from_value(&Value::Array(shuffled)).expect("valid");
        let (mut left, mut right) = (twins.clone(), twins);
        let now = time("2026-12-01T00:00:00Z");
        let a = given.apply_all(&mut left, now, &Limits::azure());
        let b = reordered.apply_all(&mut right, now, &Limits::azure());
        let left: Vec<String> = left.iter().map(Twin::to_json).collect();
        let right: Vec<String> = right.iter().map(Twin::to_json).collect();
        prop_assert_eq!(left, right);
        let (mut ma, mut mb) = (a.metrics, b.metrics);
        ma.sort_by(|x, y| x.0.cmp(&y.0));
        mb.sort_by(|x, y| x.0.cmp(&y.0));
        prop_assert_eq!(ma, mb);
        prop_assert_eq!(a.failures, b.failures);
    }
}
