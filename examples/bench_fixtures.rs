//! Writes the generated bench twins of `benches/fixtures/` as JSON into `target/bench-fixtures/`,
//! for the Node benchmark of the WebAssembly package (`bindings/wasm/bench/bench.mjs`), so that
//! both benchmarks measure the same inputs.
//!
//! ```sh
//! cargo run --release --example bench_fixtures [-- OUT_DIR]
//! ```
//!
//! One file per twin, `<name>.json`: `{"name", "limits": "azure" | "none", "twin": <the twin's
//! JSON text, as a string>, "patches": [...], "ops": [...]}`. `patches` are [`PATCHES`] distinct
//! desired patches of at most 200 B of JSON text (the first is the one `benches/twin.rs` writes),
//! each accepted by the twin after the ones before it; `ops[i]` is the same change as `patches[i]`
//! as RFC 6902 operations on the desired content after `patches[..i]` (`twindoc::diff_json_patch`).

#[allow(dead_code)]
#[path = "../benches/fixtures/mod.rs"]
mod fixtures;

use std::path::PathBuf;

use serde_json::{json, Value};
use twindoc::{Limits, Section, Twin, WriteOptions};

use fixtures::{content, desired_content, desired_patch, time, twin_with_desired};

/// The distinct small patches per twin.
const PATCHES: u64 = 16;

/// The generated twins of `benches/twin.rs`: name, desired S4 size, limits off.
const SIZES: [(&str, u64, bool); 4] = [
    ("desired_1k", 1024, false),
    ("desired_8k", 8 * 1024, false),
    ("desired_32k", 30 * 1024, false),
    ("desired_256k_nolimits", 256 * 1024, true),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-fixtures"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&out)?;
    for (name, bytes, no_limits) in SIZES {
        let limits = if no_limits { Limits::none() } else { Limits::azure() };
        let original = desired_content(bytes, 42);
        let twin = twin_with_desired(&original);
        let mut check = twin.clone();
        let mut state = Value::Object(content(&twin, Section::Desired));
        let (mut patches, mut ops) = (Vec::new(), Vec::new());
        // Seed 7 is the patch of benches/twin.rs; the others vary it.
        for (i, seed) in (7..7 + PATCHES).enumerate() {
            let patch = desired_patch(&original, 200, seed);
            let options = WriteOptions::new(time(100 + i as i64)).limits(limits);
            check
                .patch(Section::Desired, &patch, &options)
                .map_err(|e| format!("{name}: patch {i} is refused: {e}"))?;
            let next = Value::Object(content(&check, Section::Desired));
            ops.push(serde_json::to_value(twindoc::diff_json_patch(&state, &next)?)?);
            patches.push(patch);
            state = next;
        }
        let fixture = json!({
            "name": name,
            "limits": if no_limits { "none" } else { "azure" },
            "twin": twin.to_json(),
            "patches": patches,
            "ops": ops,
        });
        let path = out.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_string(&fixture)?)?;
        println!("{}", path.display());
    }
    // The twins read back as they were written.
    for (name, ..) in SIZES {
        let text = std::fs::read_to_string(out.join(format!("{name}.json")))?;
        let fixture: Value = serde_json::from_str(&text)?;
        Twin::from_json(fixture["twin"].as_str().unwrap_or_default())?;
    }
    Ok(())
}
