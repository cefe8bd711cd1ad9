#![no_main]

// The check itself lives in checks/twin_write.rs, shared with tests/fuzz_regressions.rs.
#[path = "checks/twin_write.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
