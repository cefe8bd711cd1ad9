#![no_main]

// The check itself lives in checks/query.rs, shared with tests/fuzz_regressions.rs.
#[path = "checks/query.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
