//! The heap one loaded twin holds: `Twin::from_json` against `serde_json::from_str` into a
//! `serde_json::Value` of the same text, and against the length of that text (the twin's compact
//! JSON, `Twin::to_json`).
//!
//! A separate bench target (`harness = false`) so that its counting allocator does not slow the
//! timing benches of `benches/twin.rs`. Every allocation goes through [`Counting`], which keeps
//! the live bytes (by `Layout::size()`, what was asked for, not what the system allocator rounds
//! it up to). One load's heap is the live bytes after it less the live bytes before it, with the
//! loaded value still alive: what the value holds, its maps' and vectors' spare capacity included,
//! without what the parse allocated and freed on the way.
//!
//! ```sh
//! cargo bench --bench memory
//! ```
//!
//! Prints a markdown table and writes the same rows to `$CARGO_TARGET_DIR/memory-report.json`
//! (`target/memory-report.json` without it), which `scripts/bench-report` prints. Run without
//! `--bench` (as `cargo test --all-targets` does), it measures and prints but writes no report.
//! A filter argument, as criterion's, skips the whole run unless it is part of "memory".

// Shared with benches/twin.rs and the examples, which use other parts of it.
#[allow(dead_code)]
mod fixtures;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};
use twindoc::Twin;

use fixtures::{generated_twins, real_twins};

/// The system allocator, counting the bytes live in it.
struct Counting;

/// Bytes allocated and not yet freed, by `Layout::size()`.
static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to `System` unchanged; the counting has no effect on the
// memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::SeqCst);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::SeqCst);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, that is by `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by `System` with `layout`; the caller upholds the rest.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        // On failure the old block stays allocated, and the count with it.
        if !new.is_null() {
            LIVE.fetch_add(new_size, Ordering::SeqCst);
            LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The heap that the value `load` returns holds: live bytes after the load less live bytes
/// before it, read while the value is alive. The value is dropped afterwards.
fn held<T>(load: impl FnOnce() -> T) -> usize {
    let before = LIVE.load(Ordering::SeqCst);
    let value = black_box(load());
    let after = LIVE.load(Ordering::SeqCst);
    black_box(&value);
    drop(value);
    after.saturating_sub(before)
}

/// [`held`] three times after a load that warms up whatever a first load sets up once; the
/// smallest of the three (they are equal unless the load is not deterministic, which is said).
fn heap_of<T>(name: &str, side: &str, load: impl Fn() -> T) -> usize {
    drop(black_box(load()));
    let runs = [held(&load), held(&load), held(&load)];
    if runs.iter().any(|&run| run != runs[0]) {
        eprintln!("memory: {name} ({side}): the three loads hold different heaps: {runs:?}");
    }
    runs.into_iter().min().unwrap_or(0)
}

/// One twin's row of the table.
struct Row {
    twin: &'static str,
    text_bytes: usize,
    twindoc_heap: usize,
    serde_json_heap: usize,
}

impl Row {
    fn measure(name: &'static str, twin: &Twin) -> Row {
        let text = twin.to_json();
        let text = black_box(text.as_str());
        Row {
            twin: name,
            text_bytes: text.len(),
            twindoc_heap: heap_of(name, "twindoc", || Twin::from_json(text).expect("a twin")),
            serde_json_heap: heap_of(name, "serde_json", || {
                serde_json::from_str::<Value>(text).expect("JSON")
            }),
        }
    }

    fn per_text(&self, heap: usize) -> f64 {
        heap as f64 / self.text_bytes as f64
    }

    fn twindoc_per_serde_json(&self) -> f64 {
        self.twindoc_heap as f64 / self.serde_json_heap as f64
    }

    fn to_json(&self) -> Value {
        json!({
            "twin": self.twin,
            "text_bytes": self.text_bytes,
            "twindoc_heap": self.twindoc_heap,
            "twindoc_heap_per_text": self.per_text(self.twindoc_heap),
            "serde_json_heap": self.serde_json_heap,
            "serde_json_heap_per_text": self.per_text(self.serde_json_heap),
            "twindoc_per_serde_json": self.twindoc_per_serde_json(),
        })
    }
}

/// Where the report goes: `$CARGO_TARGET_DIR` (as cargo and criterion read it), else the
/// package's `target/`.
fn report_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("memory-report.json")
}

/// Whether a run with these arguments (criterion's, as `cargo bench -- ARGS` passes them) is
/// for this bench: when it names no filter, or a filter that is part of "memory". The values of
/// criterion's options (`--sample-size 10`) are not filters.
fn selected(args: &[String]) -> bool {
    const WITH_VALUE: &[&str] = &[
        "--warm-up-time",
        "--measurement-time",
        "--sample-size",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--save-baseline",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--profile-time",
        "--plotting-backend",
        "--output-format",
        "--color",
        "--format",
        "-c",
        "-s",
        "-b",
    ];
    let mut filters = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if WITH_VALUE.contains(&arg.as_str()) {
            args.next();
        } else if !arg.starts_with('-') {
            filters.push(arg);
        }
    }
    filters.is_empty() || filters.iter().any(|filter| "memory".contains(filter.as_str()))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench = args.iter().any(|arg| arg == "--bench");
    if !selected(&args) {
        return;
    }

    let twins = generated_twins()
        .into_iter()
        .map(|(name, twin, _)| (name, twin))
        .chain(real_twins());
    let rows: Vec<Row> = twins.map(|(name, twin)| Row::measure(name, &twin)).collect();

    println!(
        "| twin | text bytes | twindoc heap | heap/text | serde_json Value heap | heap/text | twindoc/serde_json |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!(
            "| {} | {} | {} | {:.2}x | {} | {:.2}x | {:.2}x |",
            row.twin,
            row.text_bytes,
            row.twindoc_heap,
            row.per_text(row.twindoc_heap),
            row.serde_json_heap,
            row.per_text(row.serde_json_heap),
            row.twindoc_per_serde_json(),
        );
    }

    if bench {
        let path = report_path();
        let report = Value::Array(rows.iter().map(Row::to_json).collect());
        let text = serde_json::to_string_pretty(&report).expect("printable");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
        std::fs::write(&path, text + "\n").unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("memory: wrote {}", path.display());
    }
}
