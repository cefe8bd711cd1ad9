#![no_main]

// The check itself lives in checks/merge_vs_json_patch.rs, shared with tests/fuzz_regressions.rs.
#[path = "checks/merge_vs_json_patch.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
