//! Writes a generated fleet of twins as NDJSON (one twin's compact JSON a line) on standard
//! output: the input of `scripts/bench-query`, which times `twindoc query` against `jq` on it.
//!
//! ```sh
//! cargo run --release --example fleet_ndjson -- 50000 > target/fleet.ndjson
//! ```
//!
//! The twins are `benches/fixtures`' `fleet_twin(0..N, seed)` (seed 2026 unless a second argument
//! gives one): the same file for the same arguments, about 1.4 KB a twin.

#[allow(dead_code)]
#[path = "../benches/fixtures/mod.rs"]
mod fixtures;

use std::io::{self, BufWriter, Write};

use fixtures::fleet_twin;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().as_deref().unwrap_or("50000").parse()?;
    let seed: u64 = args.next().as_deref().unwrap_or("2026").parse()?;
    let mut out = BufWriter::new(io::stdout().lock());
    for index in 0..count {
        writeln!(out, "{}", fleet_twin(index, seed).to_json())?;
    }
    out.flush()?;
    Ok(())
}
