//! Properties of S11 queries over generated fleets and conditions: the logic connectives select
//! what their operands select, `TOP` keeps a prefix, `matches` and `run` agree, aggregates count
//! what the condition selects.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Map, Value};
use twindoc::{Condition, Query, Twin};

/// A leaf value of a generated twin.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i64..4).prop_map(Value::from),
        prop::sample::select(vec![1.0, 2.5, -0.5]).prop_map(Value::from),
        prop::sample::select(vec!["x", "xy", "y", ""]).prop_map(Value::from),
    ]
}

fn member_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => leaf(),
        1 => leaf().prop_map(|v| json!({"a": v})),
        1 => prop::collection::vec(1i64..3, 0..3).prop_map(|v| json!(v)),
    ]
}

/// A fleet: twins `d0`, `d1`, ... with tags and reported properties drawn from a small set of
/// names and values, some of them modules.
fn fleet() -> impl Strategy<Value = Vec<Twin>> {
    let twin = (
        prop::collection::btree_map(prop::sample::select(vec!["a", "b", "c"]), member_value(), 0..3),
        prop::collection::btree_map(prop::sample::select(vec!["a", "t"]), member_value(), 0..2),
        prop::bool::weighted(0.2),
    );
    prop::collection::vec(twin, 0..10).prop_map(|twins| {
        twins
            .into_iter()
            .enumerate()
            .map(|(i, (tags, reported, module))| {
                let mut doc = Map::new();
                doc.insert("deviceId".into(), format!("d{i}").into());
                if module {
                    doc.insert("moduleId".into(), "m".into());
                }
                if !tags.is_empty() {
                    doc.insert("tags".into(), json!(tags));
                }
                doc.insert("properties".into(), json!({"reported": reported}));
                Twin::from_value(Value::Object(doc)).expect("a generated twin is a twin")
            })
            .collect()
    })
}

fn path() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "tags.a",
        "tags.b",
        "tags.c",
        "tags.a.a",
        "tags.missing",
        "properties.reported.t",
        "properties.reported.a",
        "deviceId",
    ])
}

fn literal() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "1",
        "1.0",
        "-3",
        "2.5",
        "'x'",
        "''",
        "true",
        "false",
        "null",
        "undefined",
    ])
}

/// One comparison or function call.
fn atom() -> impl Strategy<Value = String> {
    let op = prop::sample::select(vec!["=", "!=", "<>", "<", ">", "<=", ">="]);
    prop_oneof![
        (path(), op, literal()).prop_map(|(p, op, l)| format!("{p} {op} {l}")),
        (
            path(),
            prop::sample::select(vec!["+ 1", "* 2", "% 2", "/ 2"]),
            literal()
        )
            .prop_map(|(p, arith, l)| format!("{p} {arith} = {l}")),
        (
            path(),
            prop::sample::select(vec!["IN", "NIN", "NOT IN"]),
            prop::collection::vec(literal(), 0..3)
        )
            .prop_map(|(p, op, items)| format!("{p} {op} [{}]", items.join(", "))),
        path().prop_map(|p| format!("IS_DEFINED({p})")),
        (path(), literal()).prop_map(|(p, l)| format!("STARTSWITH({p}, {l})")),
        path().prop_map(str::to_owned),
    ]
}

/// A condition of atoms joined by AND, OR, NOT and parentheses.
fn condition() -> impl Strategy<Value = String> {
    atom().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| format!("NOT ({c})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) AND ({b})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("({a}) OR ({b})")),
        ]
    })
}

/// A condition that is never undefined: true or false for every twin.
fn total_condition() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        path().prop_map(|p| format!("IS_DEFINED({p})")),
        Just("true".to_string()),
        Just("false".to_string()),
    ];
    atom.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| format!("NOT ({c})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) AND ({b})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("({a}) OR ({b})")),
        ]
    })
}

/// The device ids of the device twins (no module) `condition` selects.
fn selected(fleet: &[Twin], condition: &str) -> Vec<String> {
    let query =
        Query::parse(&format!("SELECT deviceId FROM devices WHERE {condition}")).expect("a generated query parses");
    query
        .run(fleet)
        .into_iter()
        .map(|row| row["deviceId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn device_ids(fleet: &[Twin]) -> Vec<String> {
    selected(fleet, "true")
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/query_props.txt"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn and_selects_what_both_select(fleet in fleet(), a in condition(), b in condition()) {
        let (left, right) = (selected(&fleet, &a), selected(&fleet, &b));
        let both: Vec<String> = left.iter().filter(|id| right.contains(id)).cloned().collect();
        prop_assert_eq!(selected(&fleet, &format!("({a}) AND ({b})")), both);
    }

    #[test]
    fn or_selects_what_either_selects(fleet in fleet(), a in condition(), b in condition()) {
        let (left, right) = (selected(&fleet, &a), selected(&fleet, &b));
        let either: Vec<String> = device_ids(&fleet).into_iter().filter(|id| left.contains(id) || right.contains(id)).collect();
        prop_assert_eq!(selected(&fleet, &format!("({a}) OR ({b})")), either);
    }

    #[test]
    fn not_of_a_total_condition_selects_the_complement(fleet in fleet(), c in total_condition()) {
        let chosen = selected(&fleet, &c);
        let rest: Vec<String> = device_ids(&fleet).into_iter().filter(|id| !chosen.contains(id)).collect();
        prop_assert_eq!(selected(&fleet, &format!("NOT ({c})")), rest);
    }

    #[test]
    fn not_never_selects_what_the_condition_selects(fleet in fleet(), c in condition()) {
        let chosen = selected(&fleet, &c);
        let negated = selected(&fleet, &format!("NOT ({c})"));
        prop_assert!(negated.iter().all(|id| !chosen.contains(id)));
    }

    #[test]
    fn nin_and_not_in_are_not_in(fleet in fleet(), p in path(), items in prop::collection::vec(literal(), 0..4)) {
        let list = items.join(", ");
        let negated = selected(&fleet, &format!("NOT ({p} IN [{list}])"));
        prop_assert_eq!(selected(&fleet, &format!("{p} NIN [{list}]")), negated.clone());
        prop_assert_eq!(selected(&fleet, &format!("{p} NOT IN [{list}]")), negated);
    }

    #[test]
    fn top_gives_a_prefix(fleet in fleet(), c in condition(), n in 0u64..12) {
        let all = selected(&fleet, &c);
        let top = Query::parse(&format!("SELECT TOP {n} deviceId FROM devices WHERE {c}")).unwrap().run(&fleet);
        let ids: Vec<&str> = top.iter().map(|row| row["deviceId"].as_str().unwrap_or_default()).collect();
        let n = usize::try_from(n).unwrap();
        prop_assert_eq!(ids, all.iter().take(n).map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn twins_pushed_as_text_give_the_rows_of_twins_read_whole(fleet in fleet(), c in condition(), modules in any::<bool>(), n in 0u64..12) {
        let from = if modules { "devices.modules" } else { "devices" };
        let query = Query::parse(&format!("SELECT TOP {n} * FROM {from} WHERE {c}")).unwrap();
        let mut run = query.start();
        let mut rows = Vec::new();
        for twin in &fleet {
            rows.extend(run.push_json(&twin.to_json()).unwrap());
        }
        prop_assert_eq!(rows, query.run(&fleet));
    }

    #[test]
    fn rows_are_the_twins_the_query_matches(fleet in fleet(), c in condition(), modules in any::<bool>()) {
        let from = if modules { "devices.modules" } else { "devices" };
        let query = Query::parse(&format!("SELECT * FROM {from} WHERE {c}")).unwrap();
        let matched: Vec<Value> = fleet.iter().filter(|t| query.matches(t)).map(Twin::to_value).collect();
        prop_assert_eq!(query.run(&fleet), matched);
        // The condition alone is the WHERE condition, whatever the collection.
        let condition = Condition::parse(&c).unwrap();
        for twin in &fleet {
            prop_assert_eq!(condition.matches(twin), query.condition().matches(twin));
        }
    }

    #[test]
    fn count_counts_what_the_condition_selects(fleet in fleet(), c in condition()) {
        let count = Query::parse(&format!("SELECT COUNT() AS n FROM devices WHERE {c}")).unwrap().run(&fleet);
        prop_assert_eq!(count, vec![json!({"n": selected(&fleet, &c).len()})]);
    }

    #[test]
    fn groups_partition_the_selected_twins(fleet in fleet(), c in condition(), p in path()) {
        let query = Query::parse(&format!("SELECT COUNT() AS n FROM devices WHERE {c} GROUP BY {p}")).unwrap();
        let rows = query.run(&fleet);
        let counts: Vec<u64> = rows.iter().map(|row| row["n"].as_u64().unwrap_or(0)).collect();
        prop_assert!(counts.iter().all(|&n| n > 0));
        prop_assert_eq!(counts.iter().sum::<u64>(), selected(&fleet, &c).len() as u64);
    }

    #[test]
    fn any_text_parses_or_is_invalid_query(text in "\\PC{0,40}") {
        for result in [Query::parse(&text).map(|_| ()), Condition::parse(&text).map(|_| ())] {
            if let Err(e) = result {
                prop_assert_eq!(e.code(), "InvalidQuery");
                prop_assert!(e.message().contains(" at character offset "), "{}", e);
            }
        }
    }
}
