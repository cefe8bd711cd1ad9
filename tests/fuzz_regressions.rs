//! Replays every input kept in `tests/fuzz-regressions/<target>/` (the fuzz seeds, and every
//! crash the fuzzers ever found) through the same checks as the fuzz targets of `fuzz/`, on
//! stable and without libFuzzer.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

#[path = "../fuzz/fuzz_targets/checks/twin_write.rs"]
mod twin_write;

#[path = "../fuzz/fuzz_targets/checks/parse.rs"]
mod parse;

#[path = "../fuzz/fuzz_targets/checks/merge_vs_json_patch.rs"]
mod merge_vs_json_patch;

#[path = "../fuzz/fuzz_targets/checks/diff_roundtrip.rs"]
mod diff_roundtrip;

#[path = "../fuzz/fuzz_targets/checks/replica.rs"]
mod replica;

#[path = "../fuzz/fuzz_targets/checks/query.rs"]
mod query;

#[path = "../fuzz/fuzz_targets/checks/configure.rs"]
mod configure;

#[path = "../fuzz/fuzz_targets/checks/digital_twin.rs"]
mod digital_twin;

/// Runs `check` on every file of the target's directory; fails naming every input that panics.
fn replay(target: &str, check: fn(&[u8])) {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(target);
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs in {}", folder.display());
    let failed: Vec<String> = inputs
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("a readable input");
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "{target}: these inputs fail: {failed:#?}");
}

#[test]
fn twin_write_regressions() {
    replay("twin_write", twin_write::run);
}

#[test]
fn parse_regressions() {
    replay("parse", parse::run);
}

#[test]
fn merge_vs_json_patch_regressions() {
    replay("merge_vs_json_patch", merge_vs_json_patch::run);
}

#[test]
fn diff_roundtrip_regressions() {
    replay("diff_roundtrip", diff_roundtrip::run);
}

#[test]
fn replica_regressions() {
    replay("replica", replica::run);
}

#[test]
fn query_regressions() {
    replay("query", query::run);
}

#[test]
fn configure_regressions() {
    replay("configure", configure::run);
}

#[test]
fn digital_twin_regressions() {
    replay("digital_twin", digital_twin::run);
}
