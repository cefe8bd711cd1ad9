//! Runs the spec vectors of `tests/vectors/*.json` (format in `tests/vectors/README.md`).
//!
//! Each file's cases run in one test so that a failure names the file; every failing case is
//! reported, not only the first.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use twindoc::{Condition, Limits, Query, Section, Timestamp, Twin, WriteOptions};

/// Expands `{{S*N}}` (S repeated N times) in every string and key.
fn expand(value: &Value) -> Value {
    fn text(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start..].find("}}") else { break };
            let inner = &rest[start + 2..start + len];
            let Some((unit, count)) = inner.rsplit_once('*') else {
                break;
            };
            let Ok(count) = count.parse::<usize>() else { break };
            out.push_str(&rest[..start]);
            out.push_str(&unit.repeat(count));
            rest = &rest[start + len + 2..];
        }
        out.push_str(rest);
        out
    }
    match value {
        Value::String(s) => Value::String(text(s)),
        Value::Array(items) => Value::Array(items.iter().map(expand).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (text(k), expand(v))).collect()),
        other => other.clone(),
    }
}

fn time(value: &Value) -> Result<Timestamp, String> {
    match value {
        Value::String(s) => s.parse().map_err(|e| format!("bad time {s:?}: {e}")),
        Value::Number(n) => Timestamp::from_unix_millis(n.as_i64().ok_or("bad millis")?).map_err(|e| e.to_string()),
        other => Err(format!("bad time {other}")),
    }
}

fn section(value: &Value) -> Result<Section, String> {
    value
        .as_str()
        .ok_or("section must be a string")?
        .parse()
        .map_err(|e: twindoc::Error| e.to_string())
}

fn initial_twin(spec: &Value) -> Result<Twin, String> {
    if let Some(new) = spec.get("$new") {
        let device = new["deviceId"].as_str().ok_or("$new needs deviceId")?;
        let now = time(&new["now"])?;
        return Ok(match new.get("moduleId").and_then(Value::as_str) {
            Some(module) => Twin::new_module(device, module, now),
            None => Twin::new(device, now),
        });
    }
    Twin::from_value(spec.clone()).map_err(|e| format!("initial twin refused: {e}"))
}

fn expect_error(result: Result<impl std::fmt::Debug, twindoc::Error>, expected: &Value) -> Result<(), String> {
    match result {
        Ok(ok) => Err(format!("expected error {expected}, got {ok:?}")),
        Err(e) => {
            if let Some(code) = expected.get("code").and_then(Value::as_str) {
                if e.code() != code {
                    return Err(format!("expected {code}, got {e}"));
                }
            }
            if let Some(path) = expected.get("path").and_then(Value::as_str) {
                if e.path() != path {
                    return Err(format!("expected path {path:?}, got {e}"));
                }
            }
            Ok(())
        }
    }
}

fn run_write(case: &Value) -> Result<(), String> {
    let mut twin = initial_twin(&case["twin"])?;
    for (i, write) in case["writes"].as_array().into_iter().flatten().enumerate() {
        let at = |e: String| format!("write {i}: {e}");
        let mut options = WriteOptions::new(time(&write["now"]).map_err(at)?);
        if let Some(etag) = write.get("ifMatch").and_then(Value::as_str) {
            options = options.if_match(etag);
        }
        if let Some(version) = write.get("ifVersion").and_then(Value::as_u64) {
            options = options.if_version(version);
        }
        if write.get("limits").and_then(Value::as_str) == Some("none") {
            options = options.limits(Limits::none());
        }
        let before = twin.to_json();
        let body = &write["body"];
        let result = match (write["section"].as_str(), write["kind"].as_str()) {
            (Some("twin"), Some("patch")) => twin.update(body, &options),
            (Some("twin"), Some("replace")) => twin.replace_twin(body, &options),
            (_, Some("patch")) => twin.patch(section(&write["section"]).map_err(at)?, body, &options),
            (_, Some("replace")) => twin.replace(section(&write["section"]).map_err(at)?, body, &options),
            (_, other) => return Err(at(format!("unknown kind {other:?}"))),
        };
        let expect = &write["expect"];
        if let Some(error) = expect.get("error") {
            expect_error(result, error).map_err(at)?;
            if twin.to_json() != before {
                return Err(at("a rejected write changed the twin".into()));
            }
        } else {
            let outcome = result.map_err(|e| at(format!("unexpected error {e}")))?;
            let outcome = serde_json::to_value(&outcome).map_err(|e| e.to_string())?;
            for (field, want) in expect.get("outcome").and_then(Value::as_object).into_iter().flatten() {
                if &outcome[field] != want {
                    return Err(at(format!("outcome {field}: expected {want}, got {}", outcome[field])));
                }
            }
        }
    }
    let doc = twin.to_value();
    if let Some(want) = case.get("expectTwin") {
        if &doc != want {
            return Err(format!("final twin differs:\n got  {doc}\n want {want}"));
        }
    }
    for (pointer, want) in case.get("expectAt").and_then(Value::as_object).into_iter().flatten() {
        match doc.pointer(pointer) {
            Some(got) if got == want => {}
            got => return Err(format!("at {pointer}: expected {want}, got {got:?}")),
        }
    }
    for pointer in case.get("expectAbsent").and_then(Value::as_array).into_iter().flatten() {
        let pointer = pointer.as_str().ok_or("expectAbsent holds strings")?;
        if let Some(got) = doc.pointer(pointer) {
            return Err(format!("{pointer} should be absent, is {got}"));
        }
    }
    Ok(())
}

fn run_case(case: &Value) -> Result<(), String> {
    match case["op"].as_str() {
        Some("write") => run_write(case),
        Some("merge") => {
            let mut doc = case["doc"].clone();
            let result = twindoc::merge(&mut doc, &case["patch"]);
            if let Some(error) = case.get("expectError") {
                return expect_error(result, error);
            }
            result.map_err(|e| e.to_string())?;
            (doc == case["expect"]).then_some(()).ok_or(format!("got {doc}"))
        }
        Some("size") => {
            let twin = initial_twin(&case["twin"])?;
            let got = twin.size(section(&case["section"])?);
            (Some(got) == case["expect"].as_u64())
                .then_some(())
                .ok_or(format!("got size {got}"))
        }
        Some("timestamp") => {
            let result = match &case["input"] {
                Value::String(s) => s.parse::<Timestamp>(),
                Value::Number(n) => Timestamp::from_unix_millis(n.as_i64().ok_or("millis must be an i64")?),
                other => return Err(format!("bad input {other}")),
            };
            match (result, case.get("expectError").and_then(Value::as_bool) == Some(true)) {
                (Err(_), true) => Ok(()),
                (Ok(t), false) if case["expect"] == t.to_string() => Ok(()),
                (result, _) => Err(format!("got {result:?}")),
            }
        }
        Some("validate") => {
            let twin = initial_twin(&case["twin"])?;
            let mut got: Vec<Value> = twindoc::validate(&twin)
                .iter()
                .map(|e| serde_json::json!({"code": e.code(), "path": e.path()}))
                .collect();
            let mut want: Vec<Value> = case["expect"]
                .as_array()
                .ok_or("expect must be an array")?
                .iter()
                .map(|v| serde_json::json!({"code": v["code"], "path": v["path"]}))
                .collect();
            let key = |v: &Value| v.to_string();
            got.sort_by_key(key);
            want.sort_by_key(key);
            (got == want).then_some(()).ok_or(format!("got {got:?}, want {want:?}"))
        }
        Some("parse") => {
            let text = case["text"].as_str().ok_or("text must be a string")?;
            expect_error(Twin::from_json(text), &case["expectError"])
        }
        Some("delta") => {
            let got = twindoc::delta(&case["desired"], &case["reported"]).map_err(|e| e.to_string())?;
            (got == case["expect"]).then_some(()).ok_or(format!("got {got}"))
        }
        other => Err(format!("unknown op {other:?}")),
    }
}

/// A file of query vectors (S11): fleets of twins, and cases run over one of them. Typed, so that
/// a misspelt key fails instead of being ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryFile {
    #[allow(dead_code)]
    description: String,
    fleets: BTreeMap<String, Vec<Value>>,
    cases: Vec<QueryCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct QueryCase {
    name: String,
    #[allow(dead_code)]
    spec: String,
    op: QueryOp,
    fleet: String,
    text: String,
    /// `query`: the rows; `condition`: the twins matched, as `deviceId` or `deviceId/moduleId`.
    expect: Option<Vec<Value>>,
    expect_error: Option<QueryError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum QueryOp {
    Query,
    Condition,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryError {
    code: String,
    /// The character offset the message must name.
    offset: usize,
}

fn run_query_case(case: &QueryCase, fleets: &BTreeMap<String, Vec<Twin>>) -> Result<(), String> {
    let fleet = fleets.get(&case.fleet).ok_or(format!("no fleet {:?}", case.fleet))?;
    let result = match case.op {
        QueryOp::Query => Query::parse(&case.text).map(|query| query.run(fleet)),
        QueryOp::Condition => Condition::parse(&case.text).map(|condition| {
            let id = |twin: &Twin| {
                let doc = twin.to_value();
                match doc["moduleId"].as_str() {
                    Some(module) => format!("{}/{module}", doc["deviceId"].as_str().unwrap_or_default()),
                    None => doc["deviceId"].as_str().unwrap_or_default().to_owned(),
                }
            };
            fleet
                .iter()
                .filter(|t| condition.matches(t))
                .map(|t| Value::from(id(t)))
                .collect()
        }),
    };
    match (result, &case.expect, &case.expect_error) {
        (Ok(got), Some(want), None) if &got == want => Ok(()),
        (Ok(got), Some(want), None) => Err(format!("got  {}\nwant {}", Value::from(got), Value::from(want.clone()))),
        (Err(e), None, Some(want)) => {
            let suffix = format!(" at character offset {}", want.offset);
            let ok = e.code() == want.code
                && e.status() == 400
                && e.error_code() == 400004
                && e.path().is_empty()
                && e.message().ends_with(&suffix);
            ok.then_some(())
                .ok_or(format!("expected {} at offset {}, got {e}", want.code, want.offset))
        }
        (result, _, _) => Err(format!("a case has expect or expectError; got {result:?}")),
    }
}

fn run_query_file(name: &str, file: &Value) -> Vec<String> {
    let file: QueryFile = serde_json::from_value(expand(file)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(!file.cases.is_empty(), "{name} has no cases");
    let fleets: BTreeMap<String, Vec<Twin>> = file
        .fleets
        .into_iter()
        .map(|(id, docs)| {
            let twins = docs
                .into_iter()
                .map(|doc| Twin::from_value(doc).unwrap_or_else(|e| panic!("{name}: fleet {id}: {e}")))
                .collect();
            (id, twins)
        })
        .collect();
    file.cases
        .iter()
        .filter_map(|case| {
            run_query_case(case, &fleets)
                .err()
                .map(|e| format!("{name} {:?}: {e}", case.name))
        })
        .collect()
}

/// The failures of one file, each naming the file and the case.
fn run_file(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(name);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    if file.get("fleets").is_some() {
        return run_query_file(name, &file);
    }
    let cases = file["cases"].as_array().unwrap_or_else(|| panic!("{name}: no cases"));
    assert!(!cases.is_empty(), "{name} has no cases");
    cases
        .iter()
        .map(expand)
        .filter_map(|case| run_case(&case).err().map(|e| format!("{name} {}: {e}", case["name"])))
        .collect()
}

#[test]
fn every_vector_file_is_run() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut files: Vec<String> = fs::read_dir(&dir)
        .expect("tests/vectors exists")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "expected the vector files, found {files:?}");
    let mut failures: Vec<String> = files.iter().flat_map(|f| run_file(f)).collect();
    let mut names = std::collections::HashSet::new();
    for file in &files {
        let path = dir.join(file);
        let text = fs::read_to_string(&path).unwrap_or_default();
        let parsed: Value = serde_json::from_str(&text).unwrap_or_default();
        for case in parsed["cases"].as_array().into_iter().flatten() {
            if !names.insert(case["name"].to_string()) {
                failures.push(format!("{file}: duplicate case name {}", case["name"]));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} vector cases failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
