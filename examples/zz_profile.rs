#[allow(dead_code)]
#[path = "../benches/fixtures/mod.rs"]
mod fixtures;
use fixtures::{content, desired_content, desired_patch, time, twin_with_desired};
use twindoc::{Limits, Section, Twin, WriteOptions};
fn main() {
    let what = std::env::args().nth(1).unwrap_or_default();
    let twin = twin_with_desired(&desired_content(
        if what == "load" { 256 * 1024 } else { 30 * 1024 },
        42,
    ));
    let text = twin.to_json();
    if what == "load" {
        for _ in 0..100 {
            std::hint::black_box(Twin::from_json(&text).unwrap());
        }
    } else {
        let desired = serde_json::Value::Object(content(&twin, Section::Desired));
        let patch = desired_patch(desired.as_object().unwrap(), 200, 7);
        let mut after = desired.clone();
        json_patch::merge(&mut after, &patch);
        let undo = twindoc::diff(&after, &desired).unwrap();
        let options = WriteOptions::new(time(100)).limits(Limits::none());
        let mut twin = twin;
        for _ in 0..300000 {
            std::hint::black_box(twin.patch(Section::Desired, &patch, &options).unwrap());
            std::hint::black_box(twin.patch(Section::Desired, &undo, &options).unwrap());
        }
    }
}
