//! Black-box tests of the `twindoc` command line: they run the built binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const NOW: &str = "2026-01-01T00:00:00Z";
const NOW_7: &str = "2026-01-01T00:00:00.0000000Z";
const LATER: &str = "2026-01-01T00:00:05.5Z";
const LATER_7: &str = "2026-01-01T00:00:05.5000000Z";

/// What one run of the binary did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The stdout of a successful run, as JSON.
    fn json(&self) -> Value {
        assert_eq!(self.code, Some(0), "stderr: {}", self.stderr);
        assert!(
            self.stdout.ends_with('\n'),
            "output ends with a newline: {:?}",
            self.stdout
        );
        assert_eq!(self.stdout.trim_end().lines().count(), 1, "compact output is one line");
        serde_json::from_str(&self.stdout).expect("stdout is JSON")
    }

    /// Checks the run was a rejected input: exit 1, nothing on stdout, one JSON line on stderr
    /// with these fields. Returns that line.
    fn rejected(&self, code: &str, status: u64, error_code: u64, path: &str) -> Value {
        self.error_line(1, code, status, error_code, path)
    }

    /// Checks the run was a command-line argument the engine refused: a usage error (exit 2),
    /// with the JSON error line of a rejected input. Returns that line.
    fn bad_argument(&self, code: &str, status: u64, error_code: u64, path: &str) -> Value {
        self.error_line(2, code, status, error_code, path)
    }

    fn error_line(&self, exit: i32, code: &str, status: u64, error_code: u64, path: &str) -> Value {
        assert_eq!(self.code, Some(exit), "stderr: {}", self.stderr);
        assert_eq!(self.stdout, "", "nothing on stdout");
        assert_eq!(self.stderr.lines().count(), 1, "one line on stderr: {:?}", self.stderr);
        let error: Value = serde_json::from_str(&self.stderr).expect("stderr is JSON");
        assert_eq!(error["code"], code, "{error}");
        assert_eq!(error["status"], status, "{error}");
        assert_eq!(error["errorCode"], error_code, "{error}");
        assert_eq!(error["path"], path, "{error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");
        let keys: Vec<&str> = error.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["code", "status", "errorCode", "path", "message"]);
        error
    }

    fn usage_error(&self) {
        assert_eq!(self.code, Some(2), "stdout: {} stderr: {}", self.stdout, self.stderr);
        assert_eq!(self.stdout, "");
        assert!(!self.stderr.is_empty());
    }
}

fn twindoc(args: &[&str]) -> Run {
    run_with_stdin(args, b"")
}

fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twindoc"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    // The child may stop reading early (an oversized input): a broken pipe here is expected.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().expect("the binary finishes");
    writer.join().unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// A temporary file, removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new(contents: impl AsRef<[u8]>) -> Temp {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "twindoc-cli-{}-{}.json",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, contents).unwrap();
        Temp(path)
    }

    fn json(value: &Value) -> Temp {
        Temp::new(value.to_string())
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A file holding a new twin of device `devA`, created at `NOW`.
fn new_twin() -> Temp {
    Temp::new(twindoc(&["new", "devA", "--now", NOW]).stdout)
}

/// Patches `body` into `section` of a new twin; the run is returned as is.
fn patch_new(section: &str, body: &[u8], extra: &[&str]) -> Run {
    let twin = new_twin();
    let body = Temp::new(body);
    let mut args = vec!["patch", twin.path(), body.path(), "--section", section, "--now", LATER];
    args.extend_from_slice(extra);
    twindoc(&args)
}

#[test]
fn new_twin_has_the_iot_hub_shape() {
    let twin = twindoc(&["new", "devA", "--now", NOW]).json();
    assert_eq!(
        twin,
        json!({
            "deviceId": "devA",
            "etag": "AAAAAAAAAAE=",
            "version": 2,
            "properties": {
                "desired": {"$metadata": {"$lastUpdated": NOW_7, "$lastUpdatedVersion": 1}, "$version": 1},
                "reported": {"$metadata": {"$lastUpdated": NOW_7}, "$version": 1}
            }
        })
    );
    assert!(twin.get("tags").is_none());
}

#[test]
fn new_accepts_unix_millis_offsets_and_modules() {
    let twin = twindoc(&["new", "devA", "--module", "mod1", "--now", "1767225600123"]).json();
    assert_eq!(twin["moduleId"], "mod1");
    assert_eq!(
        twin["properties"]["reported"]["$metadata"]["$lastUpdated"],
        "2026-01-01T00:00:00.1230000Z"
    );
    let twin = twindoc(&["new", "devA", "--now", "-1"]).json();
    assert_eq!(
        twin["properties"]["desired"]["$metadata"]["$lastUpdated"],
        "1969-12-31T23:59:59.9990000Z"
    );
    let twin = twindoc(&["new", "devA", "--now", "2026-01-01T02:00:00.123456789+02:00"]).json();
    assert_eq!(
        twin["properties"]["desired"]["$metadata"]["$lastUpdated"],
        "2026-01-01T00:00:00.1234567Z"
    );
}

#[test]
fn new_without_now_reads_the_clock() {
    let twin = twindoc(&["new", "devA"]).json();
    let stamp = twin["properties"]["desired"]["$metadata"]["$lastUpdated"]
        .as_str()
        .unwrap();
    // 2020 or later, in the 7-digit format.
    assert_eq!(stamp.len(), 28, "{stamp}");
    assert!(
        stamp.as_bytes()[0] == b'2' && stamp.ends_with('Z') && stamp > "2020",
        "{stamp}"
    );
}

#[test]
fn pretty_indents_every_output() {
    let run = twindoc(&["new", "devA", "--now", NOW, "--pretty"]);
    assert_eq!(run.code, Some(0));
    assert!(run.stdout.starts_with("{\n  \"deviceId\": \"devA\""), "{}", run.stdout);
    assert!(run.stdout.ends_with("}\n"));
    let twin = new_twin();
    let run = twindoc(&["--pretty", "device-view", twin.path()]);
    assert!(run.stdout.starts_with("{\n  \"desired\""), "{}", run.stdout);
}

#[test]
fn patch_desired_from_files() {
    let twin = patch_new("desired", br#"{"fan": {"speed": 3}, "mode": "eco"}"#, &[]).json();
    let desired = &twin["properties"]["desired"];
    assert_eq!(desired["fan"], json!({"speed": 3}));
    assert_eq!(desired["mode"], "eco");
    assert_eq!(desired["$version"], 2);
    assert_eq!(twin["version"], 3);
    assert_eq!(twin["etag"], "AAAAAAAAAAI=");
    let meta = &desired["$metadata"];
    assert_eq!(meta["$lastUpdated"], LATER_7);
    assert_eq!(
        meta["fan"]["speed"],
        json!({"$lastUpdated": LATER_7, "$lastUpdatedVersion": 2})
    );
    assert_eq!(meta["mode"]["$lastUpdatedVersion"], 2);
}

#[test]
fn patch_reads_the_body_or_the_twin_from_stdin() {
    let twin = new_twin();
    let run = run_with_stdin(
        &["patch", twin.path(), "-", "--section", "desired", "--now", LATER],
        br#"{"a": 1}"#,
    );
    assert_eq!(run.json()["properties"]["desired"]["a"], 1);

    let twin_text = twindoc(&["new", "devA", "--now", NOW]).stdout;
    let body = Temp::new(r#"{"loc": {"city": "Oslo"}}"#);
    let run = run_with_stdin(
        &["patch", "-", body.path(), "--section", "tags", "--now", LATER],
        twin_text.as_bytes(),
    );
    let out = run.json();
    assert_eq!(out["tags"], json!({"loc": {"city": "Oslo"}}));
    // IoT Hub shows tags before properties.
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["deviceId", "etag", "version", "tags", "properties"]);
}

#[test]
fn two_stdin_inputs_are_a_usage_error() {
    twindoc(&["patch", "-", "-", "--section", "desired", "--now", NOW]).usage_error();
    twindoc(&["merge", "-", "-"]).usage_error();
}

#[test]
fn print_outcome_gives_versions_etag_and_notification() {
    let out = patch_new("desired", br#"{"a": {"b": null}, "c": null}"#, &["--print", "outcome"]).json();
    let stamp = json!({"$lastUpdated": LATER_7, "$lastUpdatedVersion": 2});
    let mut metadata = stamp.clone();
    metadata["a"] = stamp.clone();
    assert_eq!(
        out,
        json!({"version": 3, "sectionVersion": 2, "etag": "AAAAAAAAAAI=",
               "notification": {"a": {"b": null}, "c": null, "$version": 2},
               "event": {"properties": {"deviceId": "devA", "operationTimestamp": LATER_7,
                                        "iothub-message-schema": "twinChangeNotification", "opType": "updateTwin"},
                         "body": {"version": 3, "properties": {"desired": {"a": {"b": null}, "c": null,
                                  "$metadata": metadata, "$version": 2}}}},
               "digitalTwinEvent": {"properties": {"deviceId": "devA", "operationTimestamp": LATER_7,
                                        "iothub-message-schema": "digitalTwinChangeNotification", "opType": "updateTwin"},
                                    "body": [{"op": "add", "path": "/$metadata/a", "value": {"desiredValue": {}, "desiredVersion": 2}}]}})
    );
    let out = patch_new("reported", br#"{"x": 1}"#, &["--print", "outcome"]).json();
    assert_eq!(
        (
            &out["version"],
            &out["sectionVersion"],
            &out["etag"],
            &out["notification"]
        ),
        (&json!(3), &json!(2), &json!("AAAAAAAAAAE="), &Value::Null)
    );
    assert_eq!(
        out["digitalTwinEvent"]["body"][1],
        json!({"op": "add", "path": "/x", "value": 1})
    );
    let out = patch_new("tags", br#"{"x": 1}"#, &["--print", "outcome"]).json();
    assert_eq!(out["sectionVersion"], Value::Null);
    assert_eq!(out["etag"], "AAAAAAAAAAI=");
}

#[test]
fn replace_makes_the_section_the_body() {
    let twin = patch_new("desired", br#"{"cfg": {"a": 1, "b": 2}, "x": 1}"#, &[]).json();
    let twin = Temp::json(&twin);
    let body = Temp::new(r#"{"cfg": {"a": 1}, "n": null}"#);
    let args = [
        "replace",
        twin.path(),
        body.path(),
        "--section",
        "desired",
        "--now",
        NOW,
    ];
    let out = twindoc(&[&args[..], &["--print", "outcome"]].concat()).json();
    assert_eq!(
        out["notification"],
        json!({"cfg": {"a": 1, "b": null}, "x": null, "$version": 3})
    );
    let desired = twindoc(&args).json()["properties"]["desired"].clone();
    assert_eq!(desired["cfg"], json!({"a": 1}));
    assert!(desired.get("x").is_none() && desired.get("n").is_none());
    assert_eq!(desired["$metadata"]["cfg"]["a"]["$lastUpdated"], NOW_7);
}

#[test]
fn preconditions_are_checked() {
    patch_new("desired", b"{}", &["--if-match", "AAAAAAAAAAE="]).json();
    patch_new("desired", b"{}", &["--if-match", "W/\"AAAAAAAAAAE=\""]).json();
    patch_new("desired", b"{}", &["--if-match", "*"]).json();
    patch_new("desired", b"{}", &["--if-match", "AAAAAAAAAAc="]).rejected("PreconditionFailed", 412, 412001, "");
    patch_new("reported", b"{}", &["--if-version", "1"]).json();
    patch_new("reported", b"{}", &["--if-version", "7"]).rejected("PreconditionFailed", 412, 412001, "");
}

#[test]
fn key_rules_name_the_offending_path() {
    patch_new("desired", br#"{"x": {"a.b": 1}}"#, &[]).rejected("InvalidKey", 400, 400004, "/x/a.b");
    patch_new("tags", br#"{"a": {"b c": 1}}"#, &[]).rejected("InvalidKey", 400, 400004, "/a/b c");
    patch_new("desired", br#"{"$version": 9}"#, &[]).rejected("InvalidKey", 400, 400004, "/$version");
    patch_new("desired", br#"{"a/b": {"c~d#": 1}}"#, &[]).rejected("InvalidKey", 400, 400004, "/a~1b/c~0d#");
    let long_key = format!(r#"{{"p": {{"{}": 1}}}}"#, "k".repeat(1025));
    let path = format!("/p/{}", "k".repeat(1025));
    patch_new("reported", long_key.as_bytes(), &[]).rejected("KeyTooLong", 400, 400004, &path);
}

#[test]
fn value_rules_name_the_offending_path() {
    let long = format!(r#"{{"s": "{}"}}"#, "v".repeat(4097));
    patch_new("desired", long.as_bytes(), &[]).rejected("ValueTooLong", 400, 400004, "/s");
    patch_new("desired", br#"{"n": 4503599627370496}"#, &[]).rejected("IntegerOutOfRange", 400, 400004, "/n");
    patch_new("desired", br#"{"n": -4503599627370496}"#, &[]).json();
    patch_new("desired", br#"{"a": [1, null]}"#, &[]).rejected("NullInArray", 400, 400004, "/a/1");
    let deep = r#"{"l1":{"l2":{"l3":{"l4":{"l5":{"l6":{"l7":{"l8":{"l9":{"l10":{"l11":{}}}}}}}}}}}}"#;
    patch_new("desired", deep.as_bytes(), &[]).rejected("TooDeep", 400, 400004, "/l1/l2/l3/l4/l5/l6/l7/l8/l9/l10/l11");
}

#[test]
fn an_integer_literal_past_64_bits_is_refused_in_the_order_of_the_body_rules() {
    let huge = "18446744073709551616";
    patch_new("tags", format!(r#"{{"c": {huge}}}"#).as_bytes(), &[]).rejected("IntegerOutOfRange", 400, 400004, "/c");
    patch_new("tags", format!(r#"{{"a.b": 1, "c": {huge}}}"#).as_bytes(), &[]).rejected(
        "InvalidKey",
        400,
        400004,
        "/a.b",
    );
    patch_new("desired", format!(r#"{{"a": [null, -{huge}]}}"#).as_bytes(), &[]).rejected(
        "NullInArray",
        400,
        400004,
        "/a/0",
    );
    patch_new("desired", format!("[{huge}]").as_bytes(), &[]).rejected("NotAnObject", 400, 400004, "");
    // An identity field of a twin-level body is ignored, however large.
    let ignored = format!(r#"{{"version": {huge}, "tags": {{"x": 1}}}}"#);
    assert_eq!(
        patch_new("twin", ignored.as_bytes(), &[]).json()["tags"],
        json!({"x": 1})
    );
    // With the limits off the literal is a float, as JSON text of it reads.
    let lenient = patch_new("tags", format!(r#"{{"c": {huge}}}"#).as_bytes(), &["--no-limits"]).json();
    assert_eq!(lenient["tags"]["c"], json!(18446744073709551616.0));
}

#[test]
fn body_must_be_a_json_object() {
    patch_new("desired", b"[1, 2]", &[]).rejected("NotAnObject", 400, 400004, "");
    patch_new("desired", b"\"text\"", &[]).rejected("NotAnObject", 400, 400004, "");
    patch_new("desired", br#"{"a": 1"#, &[]).rejected("InvalidJson", 400, 400006, "");
    patch_new("desired", b"", &[]).rejected("InvalidJson", 400, 400006, "");
    patch_new("desired", b"{\"a\": \"\xff\"}", &[]).rejected("InvalidJson", 400, 400006, "");
}

#[test]
fn deeply_nested_input_is_refused_quickly() {
    let start = Instant::now();
    let body = "[".repeat(100_000);
    patch_new("desired", body.as_bytes(), &[]).rejected("InvalidJson", 400, 400006, "");
    let twin = "{\"tags\":".repeat(100_000);
    let run = run_with_stdin(&["device-view", "-"], twin.as_bytes());
    run.rejected("InvalidJson", 400, 400006, "");
    assert!(start.elapsed() < Duration::from_secs(30), "{:?}", start.elapsed());
}

#[test]
fn a_50_mb_string_is_too_long() {
    let body = format!(r#"{{"big": "{}"}}"#, "x".repeat(50 << 20));
    patch_new("reported", body.as_bytes(), &[]).rejected("ValueTooLong", 400, 400004, "/big");
}

#[test]
fn oversized_input_is_refused_unread() {
    let max = twindoc::Limits::azure().max_input_bytes();
    let mut input = vec![b' '; max + 1];
    input[0] = b'{';
    let run = run_with_stdin(&["device-view", "-"], &input);
    let error = run.rejected("InvalidJson", 400, 400006, "");
    assert!(error["message"].as_str().unwrap().contains("too large"), "{error}");
}

#[test]
fn section_size_is_limited() {
    let part = "y".repeat(4000);
    let body = json!({"a": part, "b": part, "c": part}).to_string();
    patch_new("tags", body.as_bytes(), &[]).rejected("SizeLimitExceeded", 403, 403100, "");
    patch_new("desired", body.as_bytes(), &[]).json();
    patch_new("desired", body.as_bytes(), &["--desired-bytes", "100"]).rejected("SizeLimitExceeded", 403, 403100, "");
    patch_new("tags", body.as_bytes(), &["--tags-bytes", "20000"]).json();
    patch_new("reported", br#"{"abc": 1}"#, &["--reported-bytes", "10"]).rejected("SizeLimitExceeded", 403, 403100, "");
}

#[test]
fn no_limits_accepts_what_azure_refuses() {
    let body = json!({"s": "z".repeat(5000)}).to_string();
    patch_new("desired", body.as_bytes(), &[]).rejected("ValueTooLong", 400, 400004, "/s");
    let twin = patch_new("desired", body.as_bytes(), &["--no-limits"]).json();
    assert_eq!(twin["properties"]["desired"]["s"].as_str().map(str::len), Some(5000));
    patch_new("desired", br#"{"n": 4503599627370496}"#, &["--no-limits"]).json();
    // The document-model rules still apply.
    patch_new("desired", br#"{"a b": 1}"#, &["--no-limits"]).rejected("InvalidKey", 400, 400004, "/a b");
    // And a limit flag applies over none.
    patch_new("desired", body.as_bytes(), &["--no-limits", "--max-value-bytes", "10"]).rejected(
        "ValueTooLong",
        400,
        400004,
        "/s",
    );
}

#[test]
fn custom_limit_flags_apply() {
    let depth3 = br#"{"a": {"b": {"c": {}}}}"#;
    patch_new("desired", depth3, &[]).json();
    patch_new("desired", depth3, &["--max-depth", "2"]).rejected("TooDeep", 400, 400004, "/a/b/c");
    patch_new("desired", br#"{"a": {"b": 1}}"#, &["--max-depth", "2"]).json();
    patch_new("desired", br#"{"abcd": 1}"#, &["--max-key-bytes", "3"]).rejected("KeyTooLong", 400, 400004, "/abcd");
    patch_new("desired", br#"{"abc": "12345"}"#, &["--max-value-bytes", "4"]).rejected(
        "ValueTooLong",
        400,
        400004,
        "/abc",
    );
    let deep = br#"{"l1":{"l2":{"l3":{"l4":{"l5":{"l6":{"l7":{"l8":{"l9":{"l10":{"l11":{}}}}}}}}}}}}"#;
    patch_new("desired", deep, &["--max-depth", "11"]).json();
}

#[test]
fn bad_twins_and_times_are_rejected() {
    let twin = Temp::new(r#"{"deviceId": "d", "version": "x"}"#);
    let body = Temp::new("{}");
    let args = ["patch", twin.path(), body.path(), "--section", "tags", "--now", NOW];
    twindoc(&args).rejected("InvalidTwin", 400, 400004, "/version");
    let twin = Temp::new(r#"{"properties": {"desired": {"$version": -1}}}"#);
    twindoc(&["device-view", twin.path()]).rejected("InvalidTwin", 400, 400004, "/properties/desired/$version");
    // A bad `--now` is a usage error (exit 2), with the JSON error line.
    twindoc(&["new", "d", "--now", "yesterday"]).bad_argument("InvalidTimestamp", 400, 400004, "");
    twindoc(&["new", "d", "--now", "2026-02-30T00:00:00Z"]).bad_argument("InvalidTimestamp", 400, 400004, "");
    twindoc(&["new", "d", "--now", "99999999999999999999999"]).bad_argument("InvalidTimestamp", 400, 400004, "");
    let twin = new_twin();
    let args = [
        "patch",
        twin.path(),
        body.path(),
        "--section",
        "desired",
        "--now",
        "1e3",
    ];
    twindoc(&args).bad_argument("InvalidTimestamp", 400, 400004, "");
}

#[test]
fn a_failed_write_prints_nothing_and_changes_nothing() {
    let twin = new_twin();
    let before = std::fs::read(&twin.0).unwrap();
    let body = Temp::new(r#"{"ok": 1, "bad#": 2}"#);
    let run = twindoc(&["patch", twin.path(), body.path(), "--section", "desired"]);
    run.rejected("InvalidKey", 400, 400004, "/bad#");
    assert_eq!(std::fs::read(&twin.0).unwrap(), before);
}

#[test]
fn merge_follows_the_twin_rules() {
    let doc = Temp::json(&json!({"a": {"b": 1, "c": 2}, "list": [1, 2]}));
    let patch = Temp::json(&json!({"a": {"b": null, "d": {"e": null}}, "list": [3]}));
    let out = twindoc(&["merge", doc.path(), patch.path()]).json();
    assert_eq!(out, json!({"a": {"c": 2, "d": {}}, "list": [3]}));
    let out = run_with_stdin(&["merge", "-", patch.path()], br#"{"z": true}"#).json();
    assert_eq!(out, json!({"z": true, "a": {"d": {}}, "list": [3]}));
    let array = Temp::new("[]");
    twindoc(&["merge", doc.path(), array.path()]).rejected("NotAnObject", 400, 400004, "");
    twindoc(&["merge", array.path(), doc.path()]).rejected("NotAnObject", 400, 400004, "");
}

#[test]
fn validate_reports_every_violation() {
    let twin = new_twin();
    let run = twindoc(&["validate", twin.path()]);
    assert_eq!(run.json(), json!({"valid": true, "violations": []}));

    let bad = Temp::json(&json!({
        "deviceId": "d",
        "tags": {"a b": [1, null]},
        "properties": {"desired": {"s": "q".repeat(4097), "$version": 2}}
    }));
    let run = twindoc(&["validate", bad.path()]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stderr, "");
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["valid"], false);
    let found: Vec<(&str, &str)> = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["code"].as_str().unwrap(), v["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("InvalidKey", "/tags/a b"),
            ("NullInArray", "/tags/a b/1"),
            ("ValueTooLong", "/properties/desired/s")
        ]
    );
    assert!(report["violations"][0]["message"].as_str().is_some());

    let malformed = Temp::new("[]");
    twindoc(&["validate", malformed.path()]).rejected("InvalidTwin", 400, 400004, "");

    // Input that is not JSON is a report with one violation.
    for text in [&b"{\"a\": "[..], b"", b"\xff"] {
        let unparsable = Temp::new(text);
        let run = twindoc(&["validate", unparsable.path()]);
        assert_eq!((run.code, run.stderr.as_str()), (Some(1), ""), "{}", run.stdout);
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(report["valid"], false);
        let violations = report["violations"].as_array().unwrap();
        assert_eq!(violations.len(), 1, "{report}");
        assert_eq!(violations[0]["code"], "InvalidJson");
        assert_eq!(violations[0]["path"], "");
        let message = violations[0]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("twin {}: ", unparsable.path())),
            "{message}"
        );
    }
}

#[test]
fn device_view_hides_metadata() {
    let twin = patch_new("desired", br#"{"a": {"b": 1}}"#, &[]).json();
    let twin = Temp::json(&twin);
    let view = twindoc(&["device-view", twin.path()]).json();
    assert_eq!(
        view,
        json!({"desired": {"a": {"b": 1}, "$version": 2}, "reported": {"$version": 1}})
    );
}

#[test]
fn usage_errors_exit_2() {
    let twin = new_twin();
    let body = Temp::new("{}");
    twindoc(&[]).usage_error();
    twindoc(&["frobnicate"]).usage_error();
    twindoc(&["patch", twin.path(), body.path()]).usage_error();
    twindoc(&["patch", twin.path(), body.path(), "--section", "secret"]).usage_error();
    twindoc(&["patch", twin.path(), "--section", "tags"]).usage_error();
    twindoc(&[
        "patch",
        twin.path(),
        body.path(),
        "--section",
        "tags",
        "--if-version",
        "x",
    ])
    .usage_error();
    twindoc(&["patch", twin.path(), body.path(), "--section", "tags", "--print", "all"]).usage_error();
    twindoc(&["new"]).usage_error();
}

#[test]
fn unreadable_files_are_usage_errors() {
    let missing = std::env::temp_dir().join(format!("twindoc-cli-missing-{}.json", std::process::id()));
    let missing = missing.to_str().unwrap();
    let run = twindoc(&["device-view", missing]);
    run.usage_error();
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains(missing));
    let dir = std::env::temp_dir();
    twindoc(&["validate", dir.to_str().unwrap()]).usage_error();
    let twin = new_twin();
    twindoc(&["patch", twin.path(), missing, "--section", "tags"]).usage_error();
    assert!(Path::new(twin.path()).exists());
}

#[test]
fn section_twin_writes_tags_and_desired_at_once() {
    let body = br#"{"deviceId": "ignored", "tags": {"site": "a"}, "properties": {"desired": {"on": true}}}"#;
    let outcome = patch_new("twin", body, &["--print", "outcome"]).json();
    assert_eq!(
        (
            &outcome["version"],
            &outcome["sectionVersion"],
            &outcome["etag"],
            &outcome["notification"]
        ),
        (
            &json!(3),
            &json!(2),
            &json!("AAAAAAAAAAI="),
            &json!({"on": true, "$version": 2})
        )
    );
    assert_eq!(outcome["event"]["body"]["tags"], json!({"site": "a"}));
    let refused = patch_new(
        "twin",
        br#"{"tags": {"ok": 1}, "properties": {"reported": {"x": 1}}}"#,
        &[],
    );
    refused.rejected("InvalidTwin", 400, 400004, "/properties/reported");
    let refused = patch_new(
        "twin",
        br#"{"tags": {"a.b": 1}, "properties": {"desired": {"ok": 1}}}"#,
        &[],
    );
    refused.rejected("InvalidKey", 400, 400004, "/tags/a.b");
}

#[test]
fn diff_gives_a_merge_patch_or_json_patch() {
    let old = Temp::new(br#"{"a": {"b": 1, "c": 2}, "list": [1, 2], "$version": 4}"#);
    let new = Temp::new(br#"{"a": {"b": 1}, "list": [1], "d": "x", "$version": 9}"#);
    let merge = twindoc(&["diff", old.path(), new.path()]).json();
    assert_eq!(merge, json!({"a": {"c": null}, "list": [1], "d": "x"}));
    let ops = twindoc(&["diff", old.path(), new.path(), "--format", "json-patch"]).json();
    let mut doc = json!({"a": {"b": 1, "c": 2}, "list": [1, 2]});
    let patch: json_patch::Patch = serde_json::from_value(ops).expect("RFC 6902 operations");
    json_patch::patch(&mut doc, &patch).expect("applies");
    assert_eq!(doc, json!({"a": {"b": 1}, "list": [1], "d": "x"}));
    twindoc(&["diff", old.path(), Temp::new(b"[1]").path()]).rejected("NotAnObject", 400, 400004, "");
}

#[test]
fn delta_lists_what_the_device_has_not_reached() {
    let twin = new_twin();
    let desired = Temp::new(br#"{"interval": 5, "mode": "eco"}"#);
    let patched = twindoc(&[
        "patch",
        twin.path(),
        desired.path(),
        "--section",
        "desired",
        "--now",
        LATER,
    ]);
    let patched = Temp::new(patched.stdout);
    let reported = Temp::new(br#"{"interval": 5.0, "extra": true}"#);
    let both = twindoc(&[
        "patch",
        patched.path(),
        reported.path(),
        "--section",
        "reported",
        "--now",
        LATER,
    ]);
    let both = Temp::new(both.stdout);
    assert_eq!(twindoc(&["delta", both.path()]).json(), json!({"mode": "eco"}));
}

#[test]
fn integer_literals_beyond_64_bits_are_out_of_range() {
    let run = patch_new("desired", br#"{"a": {"b": [100000000000000000000]}}"#, &[]);
    run.rejected("IntegerOutOfRange", 400, 400004, "/a/b/0");
    let floats = patch_new("desired", br#"{"a": 1e20}"#, &["--print", "outcome"]);
    assert_eq!(floats.json()["sectionVersion"], 2);
    let unlimited = patch_new(
        "desired",
        br#"{"a": 100000000000000000000}"#,
        &["--no-limits", "--print", "outcome"],
    );
    assert_eq!(unlimited.json()["sectionVersion"], 2);
}

/// A small fleet: two prod devices, a test device and a module.
fn fleet() -> Vec<Value> {
    vec![
        json!({"deviceId": "a", "tags": {"env": "prod"}, "properties": {"reported": {"temp": 20}}}),
        json!({"deviceId": "b", "tags": {"env": "test"}, "properties": {"reported": {"temp": 25.5}}}),
        json!({"deviceId": "c", "tags": {"env": "prod"}, "properties": {"reported": {"temp": 20.0}}}),
        json!({"deviceId": "a", "moduleId": "m", "tags": {"env": "prod"}}),
    ]
}

fn ndjson(twins: &[Value]) -> String {
    twins.iter().map(|t| format!("{t}\n")).collect()
}

#[test]
fn query_reads_one_twin_arrays_and_ndjson_in_order() {
    let fleet = fleet();
    let array = Temp::json(&json!(fleet[..2]));
    let lines = Temp::new(ndjson(&fleet[2..]));
    let one = Temp::new(serde_json::to_string_pretty(&fleet[0]).unwrap());
    let query = "SELECT deviceId, properties.reported.temp AS t FROM devices";
    let rows = twindoc(&["query", query, array.path(), lines.path(), one.path()]).json();
    assert_eq!(
        rows,
        json!([{"deviceId": "a", "t": 20}, {"deviceId": "b", "t": 25.5}, {"deviceId": "c", "t": 20.0}, {"deviceId": "a", "t": 20}])
    );
    let run = run_with_stdin(
        &["query", "SELECT * FROM devices.modules", "-"],
        ndjson(&fleet).as_bytes(),
    );
    assert_eq!(run.json(), json!([fleet[3]]));
    let run = run_with_stdin(&["query", "SELECT deviceId FROM devices", lines.path(), "-"], b"[]\n");
    assert_eq!(run.json(), json!([{"deviceId": "c"}]));
}

/// Twins one after another are found by their brackets before they are parsed: strings full of
/// brackets, quotes and backslashes, twins written with or without whitespace between them,
/// pretty or compact, and twins long enough that reads of the input end inside them (on a
/// backslash too, the text shifted by one byte from file to file).
#[test]
fn query_finds_each_twin_of_a_stream() {
    let tricky = "a\"}]{[\\\\\"\\";
    let twins: Vec<Value> = (0..24)
        .map(|n| {
            // As JSON text `\"}]\\`: a bracket after each escape, to end a twin early if an escape
            // cut by a read were missed.
            let pad = "\"}]\\".repeat(if n % 3 == 0 { 50_000 + n } else { n });
            json!({"deviceId": format!("d{n}"), "tags": {"s": tricky, "pad": pad, "n": n}})
        })
        .collect();
    let expected: Vec<Value> = twins
        .iter()
        .map(|t| json!({"deviceId": t["deviceId"], "s": tricky, "n": t["tags"]["n"]}))
        .collect();
    let query = "SELECT deviceId, tags.s, tags.n FROM devices";
    for shift in 0..2 {
        let mut text = " ".repeat(shift);
        for (n, twin) in twins.iter().enumerate() {
            match n % 3 {
                0 => text.push_str(&format!("{twin}\n")),
                1 => text.push_str(&twin.to_string()),
                _ => text.push_str(&format!("\t{}\r\n", serde_json::to_string_pretty(twin).unwrap())),
            }
        }
        let file = Temp::new(&text);
        assert_eq!(twindoc(&["query", query, file.path()]).json(), json!(expected));
        let run = run_with_stdin(&["query", query, "-"], text.as_bytes());
        assert_eq!(run.json(), json!(expected));
    }
}

#[test]
fn query_prints_an_array_or_a_row_a_line() {
    let fleet = Temp::new(ndjson(&fleet()));
    let query = "SELECT tags.env, COUNT() AS n, AVG(properties.reported.temp) FROM devices GROUP BY tags.env";
    let run = twindoc(&["query", "--ndjson", query, fleet.path()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "{\"env\":\"prod\",\"n\":2,\"avg\":20.0}\n{\"env\":\"test\",\"n\":1,\"avg\":25.5}\n"
    );
    let pretty = twindoc(&["--pretty", "query", query, fleet.path()]);
    let rows: Value = serde_json::from_str(&pretty.stdout).unwrap();
    assert_eq!(
        pretty.stdout,
        format!("{}\n", serde_json::to_string_pretty(&rows).unwrap())
    );
    let none = twindoc(&["query", "--ndjson", "SELECT * FROM devices WHERE false", fleet.path()]);
    assert_eq!((none.code, none.stdout.as_str()), (Some(0), ""));
    assert_eq!(
        twindoc(&["query", "SELECT * FROM devices WHERE false", fleet.path()]).json(),
        json!([])
    );
    let pretty_none = twindoc(&["--pretty", "query", "SELECT * FROM devices WHERE false", fleet.path()]);
    assert_eq!(pretty_none.stdout, "[]\n");
}

#[test]
fn query_stops_reading_at_top() {
    // The input breaks after the first twin: TOP 1 never reads that far.
    let run = run_with_stdin(
        &["query", "SELECT TOP 1 deviceId FROM devices", "-"],
        b"{\"deviceId\": \"a\"}\n{oops",
    );
    assert_eq!(run.json(), json!([{"deviceId": "a"}]));
    let run = run_with_stdin(
        &["query", "SELECT TOP 1 deviceId FROM devices", "-"],
        b"[{\"deviceId\": \"a\"}, {oops",
    );
    assert_eq!(run.json(), json!([{"deviceId": "a"}]));
}

#[test]
fn bad_queries_and_twins_are_rejected() {
    let fleet = Temp::new(ndjson(&fleet()));
    // The query text is an argument: refused, it is a usage error.
    let error = twindoc(&["query", "SELECT * FROM devices WHERE tags.group = 1", fleet.path()]).bad_argument(
        "InvalidQuery",
        400,
        400004,
        "",
    );
    assert!(
        error["message"].as_str().unwrap().ends_with("at character offset 33"),
        "{error}"
    );
    let bad = [
        (&b"[{\"deviceId\": \"a\"}, 5]"[..], "InvalidTwin"),
        (b"{\"deviceId\": \"a\"}\n[1]", "InvalidTwin"),
        (b"{\"deviceId\": \"a\", \"version\": -1}", "InvalidTwin"),
        (b"{\"deviceId\": \"a\"} {\"a\":", "InvalidJson"),
        (b"[{\"deviceId\": \"a\"}] x", "InvalidJson"),
        (b"\xff", "InvalidJson"),
    ];
    for (input, code) in bad {
        let run = run_with_stdin(&["query", "SELECT deviceId FROM devices", "-"], input);
        let status = if code == "InvalidJson" { 400006 } else { 400004 };
        let path = if input.starts_with(b"{\"deviceId\": \"a\", \"version\"") {
            "/version"
        } else {
            ""
        };
        let error = run.rejected(code, 400, status, path);
        assert!(
            error["message"].as_str().unwrap().starts_with("standard input"),
            "{error}"
        );
    }
    let missing = std::env::temp_dir().join(format!("twindoc-cli-missing-{}.json", std::process::id()));
    twindoc(&["query", "SELECT * FROM devices", missing.to_str().unwrap()]).usage_error();
    twindoc(&["query", "SELECT * FROM devices"]).usage_error();
    twindoc(&["query", "SELECT * FROM devices", "-", "-"]).usage_error();
}

/// The peak resident memory of a running process, in KiB (Linux).
#[cfg(target_os = "linux")]
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn query_memory_does_not_grow_with_the_number_of_twins() {
    for array in [false, true] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_twindoc"))
            .args([
                "query",
                "--ndjson",
                "SELECT deviceId, tags.n FROM devices WHERE tags.n % 2 = 0",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let mut input = std::io::BufWriter::new(child.stdin.take().unwrap());
        let mut send = |from: usize, to: usize| {
            for n in from..to {
                let separator = match (array, n) {
                    (true, 0) => "[",
                    (true, _) => ",",
                    (false, _) => "",
                };
                let twin = json!({"deviceId": format!("d{n}"), "tags": {"n": n, "pad": "x".repeat(64)},
                                  "properties": {"reported": {"a": {"b": [1, 2, 3]}}}});
                writeln!(input, "{separator}{twin}").unwrap();
            }
            input.flush().unwrap();
            // Let the binary catch up with what was sent.
            std::thread::sleep(Duration::from_millis(300));
        };
        send(0, 5_000);
        let early = peak_kib(child.id());
        send(5_000, 60_000);
        let late = peak_kib(child.id());
        if array {
            writeln!(input, "]").unwrap();
        }
        drop(input);
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        // 55,000 more twins (over 10 MB of text) must not show in the peak.
        assert!(
            late < early + 2_048,
            "peak {early} KiB after 5,000 twins, {late} KiB after 60,000"
        );
    }
}

/// A new directory for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("twindoc-cli-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).unwrap();
        TempDir(path)
    }

    fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_str().unwrap().to_string()
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn in_place_replaces_the_twin_file_or_leaves_it_as_it_was() {
    let dir = TempDir::new("in-place");
    let twin = dir.file("t.json", twindoc(&["new", "devA", "--now", NOW]).stdout);
    let body = dir.file("b.json", br#"{"mode": "eco"}"#);
    let run = twindoc(&[
        "patch",
        &twin,
        &body,
        "--section",
        "desired",
        "--now",
        LATER,
        "--in-place",
    ]);
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (Some(0), "", ""));
    let written = std::fs::read_to_string(&twin).unwrap();
    assert!(written.ends_with('\n'));
    let written: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(written["properties"]["desired"]["mode"], "eco");
    assert_eq!(written["properties"]["desired"]["$version"], 2);

    // `-i`, `replace`, and `--print outcome` still printed.
    let body = dir.file("b.json", br#"{"fan": 1}"#);
    let run = twindoc(&[
        "replace",
        &twin,
        &body,
        "--section",
        "desired",
        "-i",
        "--print",
        "outcome",
    ]);
    assert_eq!(run.json()["sectionVersion"], 3);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&twin).unwrap()).unwrap();
    assert_eq!(written["properties"]["desired"]["fan"], 1);
    assert!(written["properties"]["desired"].get("mode").is_none());

    // A refused write leaves the file byte for byte as it was.
    let before = std::fs::read(&twin).unwrap();
    let bad = dir.file("b.json", br#"{"bad#": 1}"#);
    let run = twindoc(&["patch", &twin, &bad, "--section", "desired", "-i"]);
    run.rejected("InvalidKey", 400, 400004, "/bad#");
    let stale = twindoc(&["patch", &twin, &body, "--section", "desired", "-i", "--if-version", "1"]);
    assert_eq!(stale.code, Some(1));
    assert_eq!(std::fs::read(&twin).unwrap(), before);
    assert_eq!(dir.names(), ["b.json", "t.json"], "no temporary file remains");

    // The twin cannot come from stdin.
    run_with_stdin(&["patch", "-", &body, "--section", "desired", "-i"], &before).usage_error();
}

#[test]
fn a_refused_input_is_named_by_its_role_and_path() {
    let twin = new_twin();
    let body = Temp::new(r#"{"a": 1}"#);
    let broken = Temp::new("{");
    let args = ["patch", broken.path(), body.path(), "--section", "desired"];
    let error = twindoc(&args).rejected("InvalidJson", 400, 400006, "");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("twin {}: malformed JSON: ", broken.path())),
        "{message}"
    );
    let args = ["patch", twin.path(), broken.path(), "--section", "desired"];
    let error = twindoc(&args).rejected("InvalidJson", 400, 400006, "");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("body {}: malformed JSON: ", broken.path())),
        "{message}"
    );
    let run = run_with_stdin(&["patch", twin.path(), "-", "--section", "desired"], b"[");
    let error = run.rejected("InvalidJson", 400, 400006, "");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("body (standard input): "),
        "{error}"
    );
    // A twin of the wrong shape keeps its path.
    let shape = Temp::new(r#"{"version": "x"}"#);
    let error = twindoc(&["validate", shape.path()]).rejected("InvalidTwin", 400, 400004, "/version");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("twin {}: ", shape.path())),
        "{error}"
    );
    let error = twindoc(&["merge", body.path(), broken.path()]).rejected("InvalidJson", 400, 400006, "");
    assert!(error["message"].as_str().unwrap().starts_with("patch "), "{error}");
}

#[test]
fn delta_and_device_view_read_a_twin_or_a_device_view_only() {
    for command in ["delta", "device-view"] {
        let other = Temp::new(r#"{"a": 1}"#);
        let error = twindoc(&[command, other.path()]).rejected("InvalidTwin", 400, 400004, "");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("properties") && message.contains("desired"),
            "{message}"
        );
        let half = Temp::new(r#"{"desired": {"a": 1, "$version": 2}}"#);
        twindoc(&[command, half.path()]).rejected("InvalidTwin", 400, 400004, "/reported");
        let no_reported = Temp::new(r#"{"deviceId": "d", "properties": {"desired": {"$version": 1}}}"#);
        let run = twindoc(&[command, no_reported.path()]);
        run.rejected("InvalidTwin", 400, 400004, "/properties/reported/$version");
        let array = Temp::new("[]");
        twindoc(&[command, array.path()]).rejected("InvalidTwin", 400, 400004, "");
    }

    let view = json!({
        "desired": {"interval": 5, "mode": "eco", "$version": 3},
        "reported": {"interval": 5, "$version": 7}
    });
    let file = Temp::json(&view);
    assert_eq!(twindoc(&["delta", file.path()]).json(), json!({"mode": "eco"}));
    assert_eq!(twindoc(&["device-view", file.path()]).json(), view);

    let twin = patch_new("desired", br#"{"mode": "eco"}"#, &[]).json();
    let twin = Temp::json(&twin);
    assert_eq!(twindoc(&["delta", twin.path()]).json(), json!({"mode": "eco"}));
    let seen = twindoc(&["device-view", twin.path()]).json();
    assert_eq!(
        seen,
        json!({"desired": {"mode": "eco", "$version": 2}, "reported": {"$version": 1}})
    );
    // What device-view prints, delta reads back.
    assert_eq!(
        twindoc(&["delta", Temp::json(&seen).path()]).json(),
        json!({"mode": "eco"})
    );
}

#[test]
fn ids_iot_hub_refuses_are_usage_errors() {
    let error = twindoc(&["new", "bad id with space", "--now", NOW]).bad_argument("InvalidArgument", 400, 400004, "");
    assert!(error["message"].as_str().unwrap().contains("device id"), "{error}");
    twindoc(&["new", "", "--now", NOW]).bad_argument("InvalidArgument", 400, 400004, "");
    twindoc(&["new", &"d".repeat(129), "--now", NOW]).bad_argument("InvalidArgument", 400, 400004, "");
    let error =
        twindoc(&["new", "devA", "--module", "m/1", "--now", NOW]).bad_argument("InvalidArgument", 400, 400004, "");
    assert!(error["message"].as_str().unwrap().contains("module id"), "{error}");
    let twin = twindoc(&["new", "a-Z.0+%_#*?!(),:=@$'", "--module", "$edgeAgent", "--now", NOW]).json();
    assert_eq!(twin["deviceId"], "a-Z.0+%_#*?!(),:=@$'");
    twindoc(&["new", &"d".repeat(128), "--now", NOW]).json();
}

#[test]
fn a_leap_second_is_refused_as_unsupported() {
    let run = twindoc(&["new", "devA", "--now", "2026-12-31T23:59:60Z"]);
    let error = run.bad_argument("InvalidTimestamp", 400, 400004, "");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("leap seconds are not supported"), "{message}");
    assert!(!message.contains("not an RFC 3339 time"), "{message}");
}

fn configurations() -> Value {
    json!([
        {"id": "base", "priority": 1, "targetCondition": "*",
         "content": {"deviceContent": {"properties.desired": {"mode": "eco"}}},
         "metrics": {"queries": {"eco": "SELECT deviceId FROM devices WHERE properties.desired.mode = 'eco'"}}},
        {"id": "agents", "targetCondition": "FROM devices.modules WHERE moduleId = 'agent'",
         "content": {"moduleContent": {"properties.desired.level": "debug"}}}
    ])
}

#[test]
fn configure_applies_configurations_to_every_twin_in_input_order() {
    let configs = Temp::json(&configurations());
    let array = Temp::json(&json!([{"deviceId": "a"}, {"deviceId": "a", "moduleId": "agent"}]));
    let lines = Temp::new(ndjson(&[
        json!({"deviceId": "b", "properties": {"desired": {"old": 1}}}),
    ]));
    let out = run_with_stdin(
        &[
            "configure",
            configs.path(),
            array.path(),
            "-",
            lines.path(),
            "--now",
            NOW,
        ],
        br#"{"deviceId": "c", "moduleId": "other"}"#,
    )
    .json();
    let ids: Vec<(Value, Value)> = out["twins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["deviceId"].clone(), t["moduleId"].clone()))
        .collect();
    assert_eq!(
        ids,
        [
            (json!("a"), Value::Null),
            (json!("a"), json!("agent")),
            (json!("c"), json!("other")),
            (json!("b"), Value::Null)
        ]
    );
    assert_eq!(out["twins"][0]["properties"]["desired"]["mode"], "eco");
    assert_eq!(
        out["twins"][0]["configurations"],
        json!({"base": {"status": "applied"}})
    );
    assert_eq!(
        out["twins"][0]["properties"]["desired"]["$metadata"]["mode"]["$lastUpdated"],
        NOW_7
    );
    assert_eq!(out["twins"][1]["properties"]["desired"]["level"], "debug");
    assert!(out["twins"][2].get("configurations").is_none());
    // `properties.desired` replaced whole: the old member is gone.
    assert_eq!(out["twins"][3]["properties"]["desired"]["old"], Value::Null);
    assert_eq!(
        out["metrics"],
        json!({
            "base": {"targetedCount": 2, "appliedCount": 2, "queries": {"eco": 2}},
            "agents": {"targetedCount": 1, "appliedCount": 1, "queries": {}}
        })
    );
    assert_eq!(out["failures"], json!([]));
}

#[test]
fn configure_reports_a_failed_twin_unchanged_and_exits_1() {
    let configs = Temp::json(&json!({"id": "bad", "targetCondition": "*",
        "content": {"moduleContent": {"properties.desired.cfg": {"a b": 1}}}}));
    let module = json!({"deviceId": "a", "moduleId": "m", "version": 4});
    let twins = Temp::json(&json!([module, {"deviceId": "b"}]));
    let run = twindoc(&["configure", configs.path(), twins.path(), "--now", NOW]);
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).expect("the result is printed");
    assert_eq!(out["twins"][0], module);
    assert_eq!(out["failures"].as_array().map(Vec::len), Some(1));
    let failure = &out["failures"][0];
    assert_eq!((&failure["deviceId"], &failure["moduleId"]), (&json!("a"), &json!("m")));
    assert_eq!(
        (&failure["error"]["code"], &failure["error"]["path"]),
        (&json!("InvalidKey"), &json!("/cfg/a b"))
    );
    assert_eq!(
        out["metrics"],
        json!({"bad": {"targetedCount": 1, "appliedCount": 0, "queries": {}}})
    );
}

#[test]
fn configure_refuses_a_malformed_configuration_before_reading_twins() {
    let mut list = configurations();
    list[1]["priority"] = json!(-2);
    let configs = Temp::json(&list);
    let run = twindoc(&["configure", configs.path(), "/nonexistent/twins.json", "--now", NOW]);
    run.rejected("InvalidConfiguration", 400, 400004, "/1/priority");
    let one = Temp::json(&json!({"id": "Bad", "targetCondition": "*", "content": {"deviceContent": {}}}));
    let run = twindoc(&["configure", one.path(), "/nonexistent/twins.json", "--now", NOW]);
    run.rejected("InvalidConfiguration", 400, 400004, "/id");
    let configs = Temp::json(&configurations());
    run_with_stdin(&["configure", "-", "-"], b"[]").usage_error();
    let twins = Temp::json(&json!([{"deviceId": "a"}]));
    twindoc(&["configure", configs.path(), twins.path(), "--now", "yesterday"]).bad_argument(
        "InvalidTimestamp",
        400,
        400004,
        "",
    );
}

#[test]
fn print_event_gives_the_change_event_with_the_hub_named() {
    let event = patch_new("tags", br#"{"x": 1}"#, &["--print", "event", "--hub-name", "hub1"]).json();
    assert_eq!(
        event,
        json!({"properties": {"deviceId": "devA", "hubName": "hub1", "operationTimestamp": LATER_7,
                              "iothub-message-schema": "twinChangeNotification", "opType": "updateTwin"},
               "body": {"version": 3, "tags": {"x": 1}}})
    );
    // A replace's event body is the twin after the write.
    let twin = new_twin();
    let body = Temp::new(br#"{"x": 1}"#);
    let event = twindoc(&[
        "replace",
        twin.path(),
        body.path(),
        "--section",
        "reported",
        "--now",
        LATER,
        "--print",
        "event",
    ])
    .json();
    assert_eq!(event["properties"]["opType"], "replaceTwin");
    assert_eq!(event["body"]["properties"]["reported"]["x"], 1);
    assert_eq!(event["body"]["version"], 3);
}

#[test]
fn print_digital_twin_event_is_null_when_the_digital_twin_is_unchanged() {
    let tags = patch_new("tags", br#"{"x": 1}"#, &["--print", "digital-twin-event"]);
    assert_eq!(tags.json(), Value::Null);
    let reported = patch_new("reported", br#"{"temp": 20}"#, &["--print", "digital-twin-event"]).json();
    assert_eq!(
        reported["body"],
        json!([{"op": "add", "path": "/$metadata/temp", "value": {"lastUpdateTime": LATER_7}},
               {"op": "add", "path": "/temp", "value": 20}])
    );
    assert_eq!(
        reported["properties"]["iothub-message-schema"],
        "digitalTwinChangeNotification"
    );
}

#[test]
fn digital_twin_prints_the_view_and_patch_digital_twin_writes_desired() {
    let twin = new_twin();
    assert_eq!(
        twindoc(&["digital-twin", twin.path()]).json(),
        json!({"$dtId": "devA", "$metadata": {}})
    );
    let ops = Temp::new(br#"[{"op": "add", "path": "/fan", "value": {"speed": 2}}]"#);
    let written = twindoc(&["patch-digital-twin", twin.path(), ops.path(), "--now", LATER]).json();
    assert_eq!(written["properties"]["desired"]["fan"], json!({"speed": 2}));
    assert_eq!(written["version"], 3);
    let outcome = twindoc(&[
        "patch-digital-twin",
        twin.path(),
        ops.path(),
        "--now",
        LATER,
        "--print",
        "outcome",
        "--hub-name",
        "h",
    ])
    .json();
    assert_eq!(outcome["notification"], json!({"fan": {"speed": 2}, "$version": 2}));
    assert_eq!(outcome["event"]["properties"]["hubName"], "h");
    assert_eq!(
        outcome["digitalTwinEvent"]["body"],
        json!([{"op": "add", "path": "/$metadata/fan", "value": {"desiredValue": {"speed": 2}, "desiredVersion": 2}}])
    );
    // In place, then the precondition and a refused operation leave the file as it is.
    let in_place = twindoc(&["patch-digital-twin", "-i", twin.path(), ops.path(), "--now", LATER]);
    assert_eq!(
        (in_place.code, in_place.stdout.as_str()),
        (Some(0), ""),
        "{}",
        in_place.stderr
    );
    let after = std::fs::read_to_string(twin.path()).unwrap();
    assert!(after.contains(r#""fan":{"speed":2}"#), "{after}");
    twindoc(&[
        "patch-digital-twin",
        "-i",
        twin.path(),
        ops.path(),
        "--if-match",
        "AAAAAAAAAAE=",
    ])
    .rejected("PreconditionFailed", 412, 412001, "");
    let refused = Temp::new(br#"[{"op": "move", "from": "/fan", "path": "/x"}]"#);
    twindoc(&["patch-digital-twin", "-i", twin.path(), refused.path()]).rejected("InvalidArgument", 400, 400004, "/0");
    assert_eq!(std::fs::read_to_string(twin.path()).unwrap(), after);
    assert_eq!(
        twindoc(&["digital-twin", twin.path()]).json()["$metadata"]["fan"]["desiredValue"],
        json!({"speed": 2})
    );
}
