#![no_main]

// The check itself lives in checks/diff_roundtrip.rs, shared with tests/fuzz_regressions.rs.
#[path = "checks/diff_roundtrip.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
