#![no_main]

// The check itself lives in checks/replica.rs, shared with tests/fuzz_regressions.rs.
#[path = "checks/replica.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
