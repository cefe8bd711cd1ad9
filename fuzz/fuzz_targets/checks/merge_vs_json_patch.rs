//! `merge_vs_json_patch`: a document and a patch, split on 0xFF. When the patch is a valid twin
//! body (a new twin takes it as a desired patch with no limits), `twindoc::merge` and RFC 7396's
//! `json_patch::merge` give the same document, and so does the twin itself: a new twin whose
//! desired section is replaced by the document (when it takes it) and then patched holds what
//! RFC 7396 gives. Nothing panics either way.

use serde_json::Value;
use twindoc::{Limits, Section, Timestamp, Twin, WriteOptions};

const SEPARATOR: u8 = 0xFF;

pub fn run(data: &[u8]) {
    let mut parts = data.splitn(2, |&b| b == SEPARATOR);
    let (Some(doc), Some(patch)) = (parts.next().and_then(object), parts.next().and_then(object)) else {
        return;
    };
    let mut ours = doc.clone();
    let merged = twindoc::merge(&mut ours, &patch);
    if !is_valid_body(&patch) {
        if merged.is_err() {
            assert_eq!(ours, doc, "a refused merge changed the document");
        }
        return;
    }
    merged.unwrap_or_else(|e| panic!("merge refused a valid body: {e}"));
    let mut reference = doc.clone();
    json_patch::merge(&mut reference, &patch);
    assert_eq!(ours, reference, "twindoc::merge and RFC 7396 disagree");

    let options = WriteOptions::new(Timestamp::from_unix_millis(0).expect("in range")).limits(Limits::none());
    let mut twin = Twin::new("fuzz", options.now);
    if twin.replace(Section::Desired, &doc, &options).is_ok() {
        // A replace drops the document's null members, as a merge into an empty object does.
        let mut expected = Value::Object(Default::default());
        json_patch::merge(&mut expected, &doc);
        json_patch::merge(&mut expected, &patch);
        twin.patch(Section::Desired, &patch, &options)
            .unwrap_or_else(|e| panic!("the twin refused a valid body: {e}"));
        assert_eq!(
            twin.content_value(Section::Desired),
            expected,
            "the twin and RFC 7396 disagree"
        );
    }
}

/// The bytes as a JSON object, if they are one.
fn object(bytes: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    twindoc::parse_json(text, &Limits::none()).ok().filter(Value::is_object)
}

fn is_valid_body(patch: &Value) -> bool {
    let now = Timestamp::from_unix_millis(0).expect("in range");
    let options = WriteOptions::new(now).limits(Limits::none());
    Twin::new("fuzz", now).patch(Section::Desired, patch, &options).is_ok()
}
