#![no_main]

// The check itself lives in checks/configure.rs, shared with tests/fuzz_regressions.rs.
#[path = "checks/configure.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
