//! Properties of diff, diff_json_patch, merge and the device replica on random twin-like documents.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use twindoc::{diff, diff_json_patch, merge, DesiredUpdate, DeviceTwin};

/// `cases` cases, failures kept in the committed regressions file.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Direct(
            "proptest-regressions/diff_props.txt",
        ))),
        ..ProptestConfig::default()
    }
}

const KEYS: &[&str] = &["a", "b", "c", "d"];

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(KEYS).prop_map(str::to_owned)
}

/// Scalars: booleans, integers, floats (some integral, so that `1` and `1.0` both occur), strings.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        (-3i64..4).prop_map(Value::from),
        prop::sample::select(vec![0.0, 1.0, 2.0, 1.5, -0.25, 1e10]).prop_map(Value::from),
        "[xy]{0,2}".prop_map(Value::from),
    ]
}

fn object_of(inner: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), inner), 0..4).prop_map(|members| Value::Object(members.into_iter().collect()))
}

/// A value of twin content: no nulls, objects and arrays nested up to depth 4.
fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            object_of(inner.clone()),
            object_of(inner),
        ]
    })
}

/// A twin-content document: an object of values.
fn doc() -> impl Strategy<Value = Value> {
    object_of(value())
}

/// A merge patch: like a document, with `null` members in objects (never inside arrays).
fn patch_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![4 => leaf(), 1 => Just(Value::Null)];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(value(), 0..3).prop_map(Value::Array),
            object_of(inner.clone()),
            object_of(inner),
        ]
    })
}

fn patch() -> impl Strategy<Value = Value> {
    object_of(patch_value())
}

fn merged(doc: &Value, patch: &Value) -> Value {
    let mut out = doc.clone();
    merge(&mut out, patch).unwrap();
    out
}

/// Every member of `patch` is a change from `old` to `new`: minimality of the diff.
fn only_changes(old: &Map<String, Value>, new: &Map<String, Value>, patch: &Map<String, Value>) -> bool {
    patch.iter().all(|(k, p)| match (old.get(k), new.get(k), p) {
        (Some(_), None, Value::Null) => true,
        (Some(Value::Object(o)), Some(Value::Object(n)), Value::Object(p)) => !p.is_empty() && only_changes(o, n, p),
        (o, Some(n), p) => o != Some(n) && p == n,
        _ => false,
    })
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn diff_round_trips(a in doc(), b in doc()) {
        let p = diff(&a, &b).unwrap();
        prop_assert_eq!(merged(&a, &p), b.clone());
        prop_assert!(only_changes(a.as_object().unwrap(), b.as_object().unwrap(), p.as_object().unwrap()));
    }

    #[test]
    fn json_patch_round_trips(a in doc(), b in doc()) {
        let ops = diff_json_patch(&a, &b).unwrap();
        let mut patched = a.clone();
        json_patch::patch(&mut patched, &ops).unwrap();
        prop_assert_eq!(patched, b.clone());
        // Same members named as by the merge patch: none when equal.
        prop_assert_eq!(ops.is_empty(), diff(&a, &b).unwrap() == json!({}));
    }

    #[test]
    fn diff_of_equal_is_empty(a in doc()) {
        prop_assert_eq!(diff(&a, &a).unwrap(), json!({}));
        prop_assert!(diff_json_patch(&a, &a).unwrap().is_empty());
    }

    #[test]
    fn diff_of_a_merge_round_trips(a in doc(), p in patch()) {
        let b = merged(&a, &p);
        prop_assert_eq!(merged(&a, &diff(&a, &b).unwrap()), b);
    }

    #[test]
    fn merge_agrees_with_rfc_7396(a in doc(), p in patch()) {
        let mut rfc = a.clone();
        json_patch::merge(&mut rfc, &p);
        prop_assert_eq!(merged(&a, &p), rfc);
    }
}

/// What a device does with a delivery from the simulated hub.
#[derive(Clone, Debug)]
enum Delivery {
    /// Deliver notification `i` (modulo the number of notifications).
    Patch(usize),
    /// Fetch the full twin as the hub has it at the latest version sent so far.
    FullTwin,
}

fn deliveries() -> impl Strategy<Value = Vec<Delivery>> {
    prop::collection::vec(
        prop_oneof![8 => any::<usize>().prop_map(Delivery::Patch), 1 => Just(Delivery::FullTwin)],
        0..24,
    )
}

fn view(desired: &Value, version: u64) -> Value {
    let mut desired = desired.clone();
    desired["$version"] = json!(version);
    json!({"desired": desired, "reported": {"$version": 1}})
}

/// Applies a full twin and checks the catch-up patch turns the old state into the new one.
fn full_twin(replica: &mut DeviceTwin, state: &Value, version: u64) -> Result<(), TestCaseError> {
    let old = Value::Object(replica.desired().clone());
    let catch_up = replica.apply_full_twin(&view(state, version)).unwrap();
    prop_assert_eq!(&Value::Object(replica.desired().clone()), state);
    prop_assert_eq!(replica.desired_version(), version);
    match catch_up {
        None => prop_assert_eq!(&old, state),
        Some(mut patch) => {
            prop_assert_eq!(patch.as_object_mut().unwrap().remove("$version"), Some(json!(version)));
            prop_assert_eq!(&merged(&old, &patch), state);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn replica_follows_the_hub(start in doc(), first in 1u64..5, patches in prop::collection::vec(patch(), 0..8),
                               plan in deliveries()) {
        // The hub's history: states[i] holds at version first + i.
        let mut states = vec![start];
        let mut notifications = Vec::new();
        for (i, p) in patches.iter().enumerate() {
            states.push(merged(&states[i], p));
            let mut n = p.clone();
            n["$version"] = json!(first + i as u64 + 1);
            notifications.push(n);
        }
        let mut replica = DeviceTwin::from_device_view(&view(&states[0], first)).unwrap();
        let mut sent = 0; // the hub has sent notifications[..sent] so far
        for step in plan {
            let at = |replica: &DeviceTwin| (replica.desired_version() - first) as usize;
            match step {
                Delivery::Patch(_) if notifications.is_empty() => {}
                Delivery::Patch(i) => {
                    let i = i % notifications.len();
                    sent = sent.max(i + 1);
                    let before = replica.clone();
                    match replica.apply_desired_patch(&notifications[i]).unwrap() {
                        DesiredUpdate::Applied { patch } => {
                            prop_assert_eq!(replica.desired_version(), first + i as u64 + 1);
                            prop_assert_eq!(&patch, &patches[i]);
                        }
                        DesiredUpdate::Stale { version } => {
                            prop_assert!(version <= before.desired_version());
                            prop_assert_eq!(&replica, &before);
                        }
                        DesiredUpdate::Gap { expected, got } => {
                            prop_assert_eq!((expected, got), (before.desired_version() + 1, first + i as u64 + 1));
                            prop_assert_eq!(&replica, &before);
                            full_twin(&mut replica, &states[i + 1], got)?;
                        }
                    }
                }
                Delivery::FullTwin => full_twin(&mut replica, &states[sent], first + sent as u64)?,
            }
            // Whatever happened, the replica holds the hub's state at its version.
            prop_assert_eq!(&Value::Object(replica.desired().clone()), &states[at(&replica)]);
        }
        let last = states.len() - 1;
        full_twin(&mut replica, &states[last], first + last as u64)?;
    }
}

/// What the device and the network do on the reported side.
#[derive(Clone, Debug)]
enum Step {
    Report(Value),
    Take,
    /// The hub applies the patch sent and confirms it.
    Confirm,
    /// The patch sent is lost.
    Drop,
    /// The device reconnects and reads the full twin.
    FullTwin,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            4 => patch().prop_map(Step::Report),
            2 => Just(Step::Take),
            2 => Just(Step::Confirm),
            1 => Just(Step::Drop),
            1 => Just(Step::FullTwin),
        ],
        0..24,
    )
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn reported_side_stays_in_step(start in doc(), plan in steps()) {
        let mut reported = start.clone();
        reported["$version"] = json!(1);
        let mut replica = DeviceTwin::from_device_view(&json!({"desired": {"$version": 1}, "reported": reported})).unwrap();
        let mut hub = start;
        let mut hub_version = 1u64;
        let mut sent: Option<Value> = None;
        for step in plan {
            match step {
                Step::Report(p) => {
                    let before = Value::Object(replica.reported().clone());
                    replica.report(&p).unwrap();
                    prop_assert_eq!(Value::Object(replica.reported().clone()), merged(&before, &p));
                }
                Step::Take => {
                    let p = replica.take_reported_patch();
                    if p.is_some() {
                        sent = p;
                    }
                }
                Step::Confirm => {
                    if let Some(p) = sent.take() {
                        hub = merged(&hub, &p);
                        hub_version += 1;
                        replica.confirm_reported(hub_version);
                        prop_assert_eq!(&Value::Object(replica.confirmed_reported().clone()), &hub);
                        prop_assert_eq!(replica.reported_version(), hub_version);
                    }
                }
                Step::Drop => sent = None,
                Step::FullTwin => {
                    sent = None;
                    let confirmed = Value::Object(replica.confirmed_reported().clone());
                    let local = Value::Object(replica.reported().clone());
                    let pending = diff(&confirmed, &local).unwrap();
                    let mut view = json!({"desired": {"$version": 1}, "reported": hub.clone()});
                    view["reported"]["$version"] = json!(hub_version);
                    replica.apply_full_twin(&view).unwrap();
                    prop_assert_eq!(&Value::Object(replica.confirmed_reported().clone()), &hub);
                    prop_assert_eq!(Value::Object(replica.reported().clone()), merged(&hub, &pending));
                }
            }
            // The invariant: local == merge(confirmed, diff(confirmed, local)).
            let confirmed = Value::Object(replica.confirmed_reported().clone());
            let local = Value::Object(replica.reported().clone());
            prop_assert_eq!(&merged(&confirmed, &diff(&confirmed, &local).unwrap()), &local);
            // Sends are applied only when confirmed: the confirmed state is always the hub's.
            prop_assert_eq!(&confirmed, &hub);
        }
        // Finally everything gets through.
        if let Some(p) = replica.take_reported_patch() {
            hub = merged(&hub, &p);
            replica.confirm_reported(hub_version + 1);
        }
        prop_assert_eq!(Value::Object(replica.reported().clone()), hub.clone());
        prop_assert_eq!(Value::Object(replica.confirmed_reported().clone()), hub);
        prop_assert_eq!(replica.take_reported_patch(), None);
    }
}
