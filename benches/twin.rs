//! twindoc against plain serde_json / json-patch on the same inputs. Each group holds the
//! twindoc case and its baseline side by side; `scripts/bench-report` prints the ratios.

// Shared with benches/memory.rs and the examples, which use other parts of it.
#[allow(dead_code)]
mod fixtures;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use serde_json::{Map, Value};
use twindoc::{Limits, Section, Twin, WriteOptions};

use fixtures::{
    content, desired_content, desired_patch, fleet_twin, near_limit_twin, real_twins, s4_size, time, twin_with_desired,
    NEAR_LIMIT, SIZES,
};
use twindoc::Query;

/// The desired patches: about 200 B and 4 KB of JSON text.
const PATCHES: [(&str, usize); 2] = [("patch_200b", 200), ("patch_4k", 4096)];

/// One twin to bench: held in memory, as text, and its desired content as plain JSON.
struct Subject {
    name: String,
    twin: Twin,
    text: String,
    desired: Value,
    limits: Limits,
}

impl Subject {
    fn new(name: &str, twin: Twin, limits: Limits) -> Subject {
        Subject {
            name: name.to_owned(),
            text: twin.to_json(),
            desired: Value::Object(content(&twin, Section::Desired)),
            twin,
            limits,
        }
    }

    fn options(&self) -> WriteOptions {
        WriteOptions::new(time(100)).limits(self.limits)
    }

    fn patch(&self, text_bytes: usize) -> Value {
        let content = self.desired.as_object().expect("an object");
        let patch = desired_patch(content, text_bytes, 7);
        // The bench measures accepted writes only.
        if let Err(e) = self.twin.clone().patch(Section::Desired, &patch, &self.options()) {
            panic!("{}: the bench patch is refused: {e}", self.name);
        }
        patch
    }
}

fn generated() -> Vec<Subject> {
    SIZES
        .iter()
        .map(|size| {
            Subject::new(
                size.name,
                twin_with_desired(&desired_content(size.bytes, 42)),
                size.limits,
            )
        })
        .collect()
}

/// [`generated`], then the twin near IoT Hub's limits (desired and reported about 31 KiB each).
fn generated_and_near_limit() -> Vec<Subject> {
    let mut subjects = generated();
    subjects.push(Subject::new(NEAR_LIMIT, near_limit_twin(), Limits::azure()));
    subjects
}

fn real() -> Vec<Subject> {
    real_twins()
        .into_iter()
        .map(|(name, twin)| Subject::new(name, twin, Limits::azure()))
        .collect()
}

/// `Twin::patch` on a twin in memory against `json_patch::merge` (RFC 7396) of the same patch on
/// the desired content as a `serde_json::Value`. Both work on a fresh clone made outside the
/// timed part, and both hand the result back so that dropping it is not timed either.
fn patch(c: &mut Criterion) {
    let mut group = c.benchmark_group("patch");
    for subject in generated() {
        for (patch_name, text_bytes) in PATCHES {
            let patch = subject.patch(text_bytes);
            let options = subject.options();
            let case = format!("{}/{patch_name}", subject.name);
            group.bench_with_input(BenchmarkId::new("twindoc", &case), &patch, |b, patch| {
                b.iter_batched(
                    || subject.twin.clone(),
                    |mut twin| {
                        let outcome = twin.patch(Section::Desired, patch, &options).expect("accepted");
                        (twin, outcome)
                    },
                    BatchSize::LargeInput,
                )
            });
            group.bench_with_input(BenchmarkId::new("json_patch", &case), &patch, |b, patch| {
                b.iter_batched(
                    || subject.desired.clone(),
                    |mut desired| {
                        json_patch::merge(&mut desired, patch);
                        desired
                    },
                    BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

/// The same small patch on a twin that stays in memory, as a service holds a device's twin
/// between writes: the ~200 B patch and the patch that undoes it (`twindoc::diff` of the two
/// states) are written in turn, so every write of a pair does the same work each time round;
/// the baseline merges the same two patches in turn into the desired content. Both hand their
/// results back untimed. Time per write: the mean of the patch and its undoing.
fn patch_resident(c: &mut Criterion) {
    let mut group = c.benchmark_group("patch_resident");
    for subject in generated_and_near_limit() {
        let forward = subject.patch(200);
        let mut after = subject.desired.clone();
        twindoc::merge(&mut after, &forward).expect("a valid patch");
        let back = twindoc::diff(&after, &subject.desired).expect("two objects");
        let options = subject.options();
        let mut check = subject.twin.clone();
        for body in [&forward, &back] {
            if let Err(e) = check.patch(Section::Desired, body, &options) {
                panic!("{}: the bench patch is refused: {e}", subject.name);
            }
        }
        let pair = [forward, back];
        let case = format!("{}/patch_200b", subject.name);
        group.bench_function(BenchmarkId::new("twindoc", &case), |b| {
            let mut twin = subject.twin.clone();
            // The first write is the patch (`pair[0]`), then its undoing, and so on.
            let mut turn = 1;
            b.iter_with_large_drop(|| {
                turn ^= 1;
                twin.patch(Section::Desired, &pair[turn], &options).expect("accepted")
            })
        });
        group.bench_function(BenchmarkId::new("json_patch", &case), |b| {
            let mut desired = subject.desired.clone();
            // The first write is the patch (`pair[0]`), then its undoing, and so on.
            let mut turn = 1;
            b.iter(|| {
                turn ^= 1;
                json_patch::merge(&mut desired, &pair[turn]);
            })
        });
    }
    group.finish();
}

/// Twin text in, a twin in memory out: `Twin::from_json` against `serde_json::from_str` of the
/// same text into a `serde_json::Value`. Both hand the result back untimed
/// (`iter_with_large_drop`): the load alone is timed, not the drop.
fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    for subject in generated_and_near_limit().into_iter().chain(real()) {
        group.bench_with_input(BenchmarkId::new("twindoc", &subject.name), &subject.text, |b, text| {
            b.iter_with_large_drop(|| Twin::from_json(text).expect("a twin"))
        });
        group.bench_with_input(
            BenchmarkId::new("serde_json", &subject.name),
            &subject.text,
            |b, text| b.iter_with_large_drop(|| serde_json::from_str::<Value>(text).expect("JSON")),
        );
    }
    group.finish();
}

/// Twin text in, a small desired patch, text out; against serde_json parsing and printing the
/// same text.
fn roundtrip(c: &mut Criterion) {
    let mut group = c.benchmark_group("roundtrip");
    for subject in generated_and_near_limit().into_iter().chain(real()) {
        let patch = subject.patch(200);
        let options = subject.options();
        group.bench_with_input(BenchmarkId::new("twindoc", &subject.name), &subject.text, |b, text| {
            b.iter(|| {
                let mut twin = Twin::from_json(text).expect("a twin");
                twin.patch(Section::Desired, &patch, &options).expect("accepted");
                twin.to_json()
            })
        });
        group.bench_with_input(
            BenchmarkId::new("serde_json", &subject.name),
            &subject.text,
            |b, text| {
                b.iter(|| {
                    let value: Value = serde_json::from_str(text).expect("JSON");
                    serde_json::to_string(&value).expect("printable")
                })
            },
        );
    }
    group.finish();
}

/// `twindoc::validate` against a plain walk of the same content (the S4 size of each section):
/// what touching every node costs.
fn validate(c: &mut Criterion) {
    let mut group = c.benchmark_group("validate");
    for subject in generated().into_iter().chain(real()) {
        group.bench_with_input(BenchmarkId::new("twindoc", &subject.name), &subject.twin, |b, twin| {
            b.iter(|| twindoc::validate(twin))
        });
        let sections: Vec<Map<String, Value>> = Section::ALL.iter().map(|&s| content(&subject.twin, s)).collect();
        group.bench_with_input(BenchmarkId::new("s4_walk", &subject.name), &sections, |b, sections| {
            b.iter(|| {
                sections
                    .iter()
                    .flatten()
                    .map(|(k, v)| k.len() as u64 + s4_size(v))
                    .sum::<u64>()
            })
        });
    }
    group.finish();
}

/// `twindoc::diff` (a merge patch) and `twindoc::diff_json_patch` (RFC 6902, arrays whole) of two
/// desired sections against `json_patch::diff` (RFC 6902, element by element) of the same pair.
/// The new section is the old one with the ~4 KB patch merged and one top-level member in five
/// deleted ([`changed_desired`]).
fn diff(c: &mut Criterion) {
    let mut group = c.benchmark_group("diff");
    for subject in generated() {
        let old = subject.desired.clone();
        let new = changed_desired(&subject);
        let pair = (old, new);
        group.bench_with_input(BenchmarkId::new("twindoc", &subject.name), &pair, |b, (old, new)| {
            b.iter(|| twindoc::diff(old, new).expect("two objects"))
        });
        group.bench_with_input(
            BenchmarkId::new("twindoc_diff_json_patch", &subject.name),
            &pair,
            |b, (old, new)| b.iter(|| twindoc::diff_json_patch(old, new).expect("two objects")),
        );
        group.bench_with_input(BenchmarkId::new("json_patch", &subject.name), &pair, |b, (old, new)| {
            b.iter(|| json_patch::diff(old, new))
        });
    }
    group.finish();
}

/// The subject's desired content with its ~4 KB patch merged and every fifth top-level member
/// deleted, checked to round-trip through `twindoc::diff`.
fn changed_desired(subject: &Subject) -> Value {
    let mut new = subject.desired.clone();
    json_patch::merge(&mut new, &subject.patch(4096));
    let members = new.as_object_mut().expect("an object");
    let doomed: Vec<String> = members.keys().step_by(5).cloned().collect();
    for key in doomed {
        members.shift_remove(&key);
    }
    let mut check = subject.desired.clone();
    twindoc::merge(&mut check, &twindoc::diff(&subject.desired, &new).expect("two objects")).expect("merges");
    assert_eq!(check, new, "{}: the diff does not round-trip", subject.name);
    new
}

/// `twindoc::delta` of a twin's desired and reported sections (as stored, `$metadata` included)
/// and `Twin::delta` on the twin itself, against a plain recursive equality walk of the same two
/// sections ([`equality_walk`]: objects on both sides member by member, anything else by
/// `serde_json`'s `==`). Reported mostly matches desired: the desired content with a ~200 B
/// patch merged (a few values differ, one member new), plus the twin's own reported members.
fn delta(c: &mut Criterion) {
    let mut group = c.benchmark_group("delta");
    for subject in generated() {
        let mut reported = subject.desired.clone();
        json_patch::merge(&mut reported, &subject.patch(200));
        let mut twin = subject.twin.clone();
        let options = WriteOptions::new(time(200)).limits(Limits::none());
        twin.patch(Section::Reported, &reported, &options)
            .expect("a valid reported write");
        // The sections as stored, read from the twin's document.
        let doc = twin.to_value();
        let section = |s: Section| doc.pointer(s.pointer()).expect("a section").clone();
        let pair = (section(Section::Desired), section(Section::Reported));
        let pending = twindoc::delta(&pair.0, &pair.1).expect("two objects");
        assert!(
            !pending.as_object().expect("an object").is_empty(),
            "{}: nothing pending",
            subject.name
        );
        assert_eq!(twin.delta(), pending);
        group.bench_with_input(
            BenchmarkId::new("twindoc", &subject.name),
            &pair,
            |b, (desired, reported)| b.iter(|| twindoc::delta(desired, reported).expect("two objects")),
        );
        group.bench_with_input(BenchmarkId::new("twindoc_twin", &subject.name), &twin, |b, twin| {
            b.iter(|| twin.delta())
        });
        group.bench_with_input(
            BenchmarkId::new("equality_walk", &subject.name),
            &pair,
            |b, (desired, reported)| b.iter(|| equality_walk(desired, reported, true)),
        );
    }
    group.finish();
}

/// The members of `desired` that `reported` lacks or holds differently, counted: objects on both
/// sides are walked member by member, anything else compares with `serde_json`'s `==`; at the
/// root `$metadata` and `$version` are skipped.
fn equality_walk(desired: &Value, reported: &Value, root: bool) -> usize {
    let (Value::Object(desired), Value::Object(reported)) = (desired, reported) else {
        return usize::from(desired != reported);
    };
    desired
        .iter()
        .filter(|(key, _)| !(root && matches!(key.as_str(), "$metadata" | "$version")))
        .map(|(key, want)| match reported.get(key) {
            Some(have) => equality_walk(want, have, false),
            None => 1,
        })
        .sum()
}

/// The twins of the `query` group: the first [`QUERY_FLEET`] of the fleet that
/// `examples/fleet_ndjson.rs` writes (seed 2026), a mix of device and module twins.
const QUERY_FLEET: u64 = 4000;

/// The two-term condition of the `query` group and of `scripts/bench-query`.
const QUERY: &str = "SELECT * FROM devices WHERE tags.region = 'eu' AND properties.reported.temperature > 25";

/// `Query::matches` over a fleet of resident twins, against a hand-written closure comparing the
/// same two members of each twin as a `serde_json::Value` (`Twin::to_value` of the same twins).
/// Both count the twins they select, over the whole fleet; the two selections are checked to be
/// the same twins before timing (module twins have no tags, so the closure needs no `moduleId`
/// test to leave them out, as `FROM devices` does).
fn query(c: &mut Criterion) {
    let mut group = c.benchmark_group("query");
    let twins: Vec<Twin> = (0..QUERY_FLEET).map(|i| fleet_twin(i, 2026)).collect();
    let values: Vec<Value> = twins.iter().map(Twin::to_value).collect();
    let query = Query::parse(QUERY).expect("a valid query");
    let closure = |v: &Value| {
        v["tags"]["region"] == "eu"
            && v["properties"]["reported"]["temperature"]
                .as_f64()
                .is_some_and(|t| t > 25.0)
    };
    let by_query: Vec<usize> = (0..twins.len()).filter(|&i| query.matches(&twins[i])).collect();
    let by_closure: Vec<usize> = (0..values.len()).filter(|&i| closure(&values[i])).collect();
    assert_eq!(by_query, by_closure, "the query and the closure select different twins");
    assert!(
        !by_query.is_empty() && by_query.len() < twins.len() / 4,
        "a selective condition"
    );
    let case = format!("where_2_terms/{QUERY_FLEET}_twins");
    group.bench_with_input(BenchmarkId::new("twindoc", &case), &twins, |b, twins| {
        b.iter(|| twins.iter().filter(|twin| query.matches(twin)).count())
    });
    group.bench_with_input(BenchmarkId::new("closure_value", &case), &values, |b, values| {
        b.iter(|| values.iter().filter(|value| closure(value)).count())
    });
    group.finish();
}

criterion_group!(
    benches,
    patch,
    patch_resident,
    load,
    roundtrip,
    validate,
    diff,
    delta,
    query
);
criterion_main!(benches);
