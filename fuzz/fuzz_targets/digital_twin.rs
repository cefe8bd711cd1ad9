#![no_main]

// The check itself lives in checks/digital_twin.rs, shared with tests/fuzz_regressions.rs.
#[path = "checks/digital_twin.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
