//! A harness for counting the instructions of one small desired write, under valgrind's
//! callgrind (repeatable, unlike wall time on a shared machine), for `benches/README.md`.
//!
//! ```sh
//! cargo build --release --example write_instructions
//! valgrind --tool=callgrind --toggle-collect='write_instructions::timed' \
//!     target/release/examples/write_instructions MODE [SIZE] [WRITES]
//! ```
//!
//! Callgrind then counts only what `timed` runs: divide its total by WRITES. SIZE is the desired
//! section's S4 size in bytes (default 30720, the benches' "32k" twin; above 100000 the limits are
//! off, as for the benches' 256 KB twin); WRITES defaults to 200. MODE:
//!
//! - `twindoc`: `Twin::patch` of the benches' ~200 B desired patch, each on a fresh copy of the
//!   twin (the copies are made before, outside `timed`);
//! - `json_patch`: `json_patch::merge` of the same patch, each on a fresh copy of the desired
//!   content;
//! - `twindoc_resident`, `json_patch_resident`: the patch and the patch that undoes it, in turn,
//!   on one twin (one desired content) held throughout, as the `patch_resident` bench group;
//! - `notification_floor_resident`: as `json_patch_resident`, plus what every twin write must
//!   also do to hand back the S7 notification of a borrowed body: copy the body, add `$version`,
//!   and drop the copy.

#[allow(dead_code)]
#[path = "../benches/fixtures/mod.rs"]
mod fixtures;

use std::hint::black_box;

use serde_json::Value;
use twindoc::{Limits, Section, Twin, WriteOptions};

use fixtures::{content, desired_content, desired_patch, time, twin_with_desired};

/// The one kind of work callgrind counts.
enum Work<'a> {
    Twin(&'a mut Twin, &'a WriteOptions),
    Merge(&'a mut Value),
    MergeAndNotify(&'a mut Value),
}

#[inline(never)]
fn timed(work: Work<'_>, patch: &Value) {
    match work {
        Work::Twin(twin, options) => {
            black_box(twin.patch(Section::Desired, patch, options).expect("an accepted write"));
        }
        Work::Merge(desired) => json_patch::merge(desired, patch),
        Work::MergeAndNotify(desired) => {
            json_patch::merge(desired, patch);
            let mut notification = patch.clone();
            if let Value::Object(members) = &mut notification {
                members.insert("$version".into(), 7.into());
            }
            black_box(notification);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("twindoc", String::as_str);
    let size: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(30 * 1024);
    let writes: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);

    let twin = twin_with_desired(&desired_content(size, 42));
    let desired = Value::Object(content(&twin, Section::Desired));
    let limits = if size > 100_000 {
        Limits::none()
    } else {
        Limits::azure()
    };
    let options = WriteOptions::new(time(100)).limits(limits);
    let patch = desired_patch(desired.as_object().expect("an object"), 200, 7);
    let mut after = desired.clone();
    twindoc::merge(&mut after, &patch).expect("a valid patch");
    let pair = [patch.clone(), twindoc::diff(&after, &desired).expect("two objects")];

    match mode {
        "twindoc" => {
            let mut twins = vec![twin; writes];
            for twin in &mut twins {
                timed(Work::Twin(twin, &options), &patch);
            }
        }
        "json_patch" => {
            let mut copies = vec![desired; writes];
            for copy in &mut copies {
                timed(Work::Merge(copy), &patch);
            }
        }
        "twindoc_resident" => {
            let mut twin = twin;
            for i in 0..writes {
                timed(Work::Twin(&mut twin, &options), &pair[i % 2]);
            }
        }
        "json_patch_resident" | "notification_floor_resident" => {
            let mut desired = desired;
            for i in 0..writes {
                let work = if mode == "json_patch_resident" {
                    Work::Merge(&mut desired)
                } else {
                    Work::MergeAndNotify(&mut desired)
                };
                timed(work, &pair[i % 2]);
            }
        }
        other => {
            eprintln!("unknown mode {other:?}");
            std::process::exit(2);
        }
    }
}
