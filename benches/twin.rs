//! twindoc against plain serde_json / json-patch on the same inputs. Each group holds the
//! twindoc case and its baseline side by side; `scripts/bench-report` prints the ratios.

mod fixtures;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use serde_json::{Map, Value};
use twindoc::{Limits, Section, Twin, WriteOptions};

use fixtures::{content, desired_content, desired_patch, real_twins, s4_size, time, twin_with_desired};

/// A generated twin: its name, desired size by S4, and whether it runs with limits off.
struct Size {
    name: &'static str,
    bytes: u64,
    limits: Limits,
}

/// 1, 8 and 32 KB twins under IoT Hub's limits (the "32k" twin is 30 KiB, so that the large
/// patch's new members stay under the 32 KiB desired limit), and a 256 KB twin with limits off.
const SIZES: [Size; 4] = [
    Size {
        name: "desired_1k",
        bytes: 1024,
        limits: Limits::azure(),
    },
    Size {
        name: "desired_8k",
        bytes: 8 * 1024,
        limits: Limits::azure(),
    },
    Size {
        name: "desired_32k",
        bytes: 30 * 1024,
        limits: Limits::azure(),
    },
    Size {
        name: "desired_256k_nolimits",
        bytes: 256 * 1024,
        limits: Limits::none(),
    },
];

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
                        black_box(twin.patch(Section::Desired, patch, &options).expect("accepted"));
                        twin
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

/// Twin text in, a small desired patch, text out; against serde_json parsing and printing the
/// same text.
fn roundtrip(c: &mut Criterion) {
    let mut group = c.benchmark_group("roundtrip");
    for subject in generated().into_iter().chain(real()) {
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

// The `diff` and `delta` groups go here when twindoc's diff and delta land (SEMANTICS.md S9):
// twindoc's diff against `json_patch::diff` on the same pairs of generated twins, and delta on
// the same twins with a partly converged reported section. Add them to `criterion_group!` below.

criterion_group!(benches, patch, roundtrip, validate);
criterion_main!(benches);
