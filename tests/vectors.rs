//! Runs the spec vectors of `tests/vectors/*.json` (format in `tests/vectors/README.md`).
//!
//! Each file's cases run in one test so that a failure names the file; every failing case is
//! reported, not only the first.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use twindoc::{
    Condition, Configurations, DesiredUpdate, DeviceTwin, Limits, Query, Section, Timestamp, Twin, WriteOptions,
};

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

/// A time as vectors write it: RFC 3339 text or Unix milliseconds.
#[derive(Deserialize)]
#[serde(untagged)]
enum Time {
    Text(String),
    Millis(i64),
}

impl Time {
    fn timestamp(&self) -> Result<Timestamp, String> {
        match self {
            Time::Text(s) => s.parse().map_err(|e| format!("bad time {s:?}: {e}")),
            Time::Millis(n) => Timestamp::from_unix_millis(*n).map_err(|e| e.to_string()),
        }
    }
}

/// `{"$new": {...}}`: a twin made by `Twin::new` or `Twin::new_module`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTwinSpec {
    #[serde(rename = "$new")]
    new: NewTwin,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NewTwin {
    device_id: String,
    module_id: Option<String>,
    now: Time,
}

fn section(name: &str) -> Result<Section, String> {
    name.parse().map_err(|e: twindoc::Error| e.to_string())
}

/// The twin a case starts from: a twin document, or `{"$new": {...}}` (checked like any case).
fn initial_twin(spec: &Value) -> Result<Twin, String> {
    if spec.get("$new").is_some() {
        let NewTwinSpec { new } = NewTwinSpec::deserialize(spec).map_err(|e| format!("twin: {e}"))?;
        let now = new.now.timestamp()?;
        return Ok(match &new.module_id {
            Some(module) => Twin::new_module(&new.device_id, module, now),
            None => Twin::new(&new.device_id, now),
        });
    }
    Twin::from_value(spec.clone()).map_err(|e| format!("initial twin refused: {e}"))
}

/// An expected error: its code and, when given, its path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedError {
    code: String,
    path: Option<String>,
}

fn expect_error(result: Result<impl std::fmt::Debug, twindoc::Error>, expected: &ExpectedError) -> Result<(), String> {
    match result {
        Ok(ok) => Err(format!("expected error {expected:?}, got {ok:?}")),
        Err(e) if e.code() != expected.code => Err(format!("expected {}, got {e}", expected.code)),
        Err(e) => match &expected.path {
            Some(path) if e.path() != path => Err(format!("expected path {path:?}, got {e}")),
            _ => Ok(()),
        },
    }
}

/// Deserializes a member that may be `null` as `Some(Value::Null)`, so that an expected `null`
/// differs from an absent expectation.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A case of a vector file, by its `"op"`; `name` and `spec`, common to all, are read first.
#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
enum Case {
    Write(WriteCase),
    Merge(MergeCase),
    Size(SizeCase),
    Timestamp(TimestampCase),
    Validate(ValidateCase),
    Parse(ParseCase),
    Delta(DeltaCase),
    Diff(DiffCase),
    Ack(AckCase),
    Replica(ReplicaCase),
    Configure(ConfigureCase),
    DigitalTwin(DigitalTwinCase),
}

/// S14: the digital twin of `twin`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DigitalTwinCase {
    twin: Value,
    expect: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WriteCase {
    twin: Value,
    writes: Vec<Write>,
    expect_twin: Option<Value>,
    #[serde(default)]
    expect_at: serde_json::Map<String, Value>,
    #[serde(default)]
    expect_absent: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Write {
    section: String,
    kind: WriteKind,
    body: Value,
    now: Time,
    if_match: Option<String>,
    if_version: Option<u64>,
    limits: Option<LimitsName>,
    hub_name: Option<String>,
    #[serde(default)]
    digital_twin_event: bool,
    expect: Option<WriteExpect>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum WriteKind {
    Patch,
    Replace,
}

#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
enum LimitsName {
    Azure,
    None,
}

/// `{"outcome": {...}}` or `{"error": {...}}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum WriteExpect {
    Outcome(Box<ExpectedOutcome>),
    Error(ExpectedError),
}

/// The fields of a write's outcome to check; each one given must equal the outcome's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ExpectedOutcome {
    #[serde(default, deserialize_with = "present")]
    version: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    section_version: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    etag: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    notification: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    event: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    digital_twin_event: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MergeCase {
    doc: Value,
    patch: Value,
    expect: Option<Value>,
    expect_error: Option<ExpectedError>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SizeCase {
    twin: Value,
    section: String,
    expect: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TimestampCase {
    input: Time,
    expect: Option<String>,
    #[serde(default)]
    expect_error: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidateCase {
    twin: Value,
    expect: Vec<Violation>,
}

#[derive(Deserialize, PartialEq, PartialOrd, Eq, Ord, Debug)]
#[serde(deny_unknown_fields)]
struct Violation {
    code: String,
    path: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ParseCase {
    text: String,
    expect_error: ExpectedError,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DeltaCase {
    desired: Value,
    reported: Value,
    expect: Option<Value>,
    expect_error: Option<ExpectedError>,
}

/// S9: `twindoc::diff` and `twindoc::diff_json_patch` of the same two documents.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DiffCase {
    old: Value,
    new: Value,
    expect_merge_patch: Option<Value>,
    expect_json_patch: Option<Vec<Value>>,
    expect_error: Option<ExpectedError>,
    /// The case tells `1` from `1.0`, which JavaScript numbers cannot (the Node runner skips it).
    #[serde(default)]
    #[allow(dead_code)]
    exact_numbers: bool,
}

/// S8: `twindoc::writable_property_ack`, or `twindoc::component_property_ack` with `component`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckCase {
    component: Option<String>,
    property: String,
    value: Value,
    code: u16,
    version: u64,
    description: Option<String>,
    expect: Value,
}

/// S8: steps on a `twindoc::DeviceTwin` made from `view`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ReplicaCase {
    view: Value,
    #[serde(default)]
    steps: Vec<ReplicaStep>,
    expect_error: Option<ExpectedError>,
}

#[derive(Deserialize)]
#[serde(tag = "do", rename_all = "camelCase", deny_unknown_fields)]
enum ReplicaStep {
    ApplyDesiredPatch {
        patch: Value,
        expect: DesiredAnswer,
        state: Option<ReplicaState>,
    },
    ApplyFullTwin {
        view: Value,
        expect: FullTwinAnswer,
        state: Option<ReplicaState>,
    },
    #[serde(rename_all = "camelCase")]
    Report {
        patch: Value,
        expect_error: Option<ExpectedError>,
        state: Option<ReplicaState>,
    },
    TakeReportedPatch {
        /// The patch to send, or `null` when nothing differs.
        expect: Value,
        state: Option<ReplicaState>,
    },
    ConfirmReported {
        version: u64,
        state: Option<ReplicaState>,
    },
}

/// What `apply_desired_patch` answers.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum DesiredAnswer {
    Applied(Value),
    Stale(u64),
    Gap(Gap),
    Error(ExpectedError),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Gap {
    expected: u64,
    got: u64,
}

/// What `apply_full_twin` answers: the catch-up patch, `"unchanged"`, or an error.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum FullTwinAnswer {
    Resynced(Value),
    Unchanged,
    Error(ExpectedError),
}

/// The replica's state after a step, as both the Rust and the JavaScript API show it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ReplicaState {
    desired: Value,
    desired_version: u64,
    reported: Value,
    reported_version: u64,
}

fn run_write(case: &WriteCase) -> Result<(), String> {
    let mut twin = initial_twin(&case.twin)?;
    for (i, write) in case.writes.iter().enumerate() {
        let at = |e: String| format!("write {i}: {e}");
        let mut options = WriteOptions::new(write.now.timestamp().map_err(at)?);
        if let Some(etag) = &write.if_match {
            options = options.if_match(etag);
        }
        if let Some(version) = write.if_version {
            options = options.if_version(version);
        }
        if write.limits == Some(LimitsName::None) {
            options = options.limits(Limits::none());
        }
        if let Some(hub) = &write.hub_name {
            options = options.hub_name(hub);
        }
        options = options.digital_twin_event(write.digital_twin_event);
        let before = twin.to_json();
        let body = &write.body;
        let result = match (write.section.as_str(), &write.kind) {
            ("digitalTwin", WriteKind::Patch) => {
                twindoc::digital_twin_operations(body).and_then(|ops| twin.patch_digital_twin(&ops, &options))
            }
            ("twin", WriteKind::Patch) => twin.update(body, &options),
            ("twin", WriteKind::Replace) => twin.replace_twin(body, &options),
            (name, WriteKind::Patch) => twin.patch(section(name).map_err(at)?, body, &options),
            (name, WriteKind::Replace) => twin.replace(section(name).map_err(at)?, body, &options),
        };
        match &write.expect {
            Some(WriteExpect::Error(error)) => {
                expect_error(result, error).map_err(at)?;
                if twin.to_json() != before {
                    return Err(at("a rejected write changed the twin".into()));
                }
            }
            expect => {
                let outcome = result.map_err(|e| at(format!("unexpected error {e}")))?;
                let outcome = serde_json::to_value(&outcome).map_err(|e| e.to_string())?;
                let Some(WriteExpect::Outcome(want)) = expect else {
                    continue;
                };
                let fields = [
                    ("version", &want.version),
                    ("sectionVersion", &want.section_version),
                    ("etag", &want.etag),
                    ("notification", &want.notification),
                    ("event", &want.event),
                    ("digitalTwinEvent", &want.digital_twin_event),
                ];
                for (field, want) in fields {
                    match want {
                        Some(want) if &outcome[field] != want => {
                            return Err(at(format!("outcome {field}: expected {want}, got {}", outcome[field])))
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    let doc = twin.to_value();
    if let Some(want) = &case.expect_twin {
        if &doc != want {
            return Err(format!("final twin differs:\n got  {doc}\n want {want}"));
        }
    }
    for (pointer, want) in &case.expect_at {
        match doc.pointer(pointer) {
            Some(got) if got == want => {}
            got => return Err(format!("at {pointer}: expected {want}, got {got:?}")),
        }
    }
    for pointer in &case.expect_absent {
        if let Some(got) = doc.pointer(pointer) {
            return Err(format!("{pointer} should be absent, is {got}"));
        }
    }
    Ok(())
}

/// `"op": "configure"` (S12): steps on a fleet of twins, then checks on the final twins.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConfigureCase {
    twins: Vec<Value>,
    steps: Vec<ConfigureStep>,
    expect_twins: Option<Vec<Value>>,
    /// JSON Pointers into the array of final twins (`/0/properties/desired/a`).
    #[serde(default)]
    expect_at: serde_json::Map<String, Value>,
    #[serde(default)]
    expect_absent: Vec<String>,
}

#[derive(Deserialize)]
#[serde(tag = "do", rename_all = "camelCase", deny_unknown_fields)]
enum ConfigureStep {
    /// Applies `configurations` to every twin (`Configurations::apply_all`).
    Apply {
        configurations: Value,
        now: Time,
        limits: Option<LimitsName>,
        expect: Option<ApplyExpect>,
    },
    /// An ordinary patch of one twin's `section` (desired when not given).
    Write {
        twin: usize,
        section: Option<String>,
        body: Value,
        now: Time,
    },
}

/// What an application must give: each field given is checked; or the configurations' error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ApplyExpect {
    metrics: Option<Value>,
    /// `[{"deviceId", "moduleId"?, "error": {"code", "path"}}]`.
    failures: Option<Vec<Value>>,
    /// Per twin, whether a desired write happened.
    written: Option<Vec<bool>>,
    error: Option<ExpectedError>,
}

fn run_configure(case: &ConfigureCase) -> Result<(), String> {
    let mut twins = case.twins.iter().map(initial_twin).collect::<Result<Vec<_>, _>>()?;
    for (i, step) in case.steps.iter().enumerate() {
        let at = |e: String| format!("step {i}: {e}");
        match step {
            ConfigureStep::Write {
                twin,
                section: name,
                body,
                now,
            } => {
                let options = WriteOptions::new(now.timestamp().map_err(at)?);
                let section = section(name.as_deref().unwrap_or("desired")).map_err(at)?;
                let twin = twins.get_mut(*twin).ok_or_else(|| at("no such twin".into()))?;
                twin.patch(section, body, &options)
                    .map_err(|e| at(format!("write refused: {e}")))?;
            }
            ConfigureStep::Apply {
                configurations,
                now,
                limits,
                expect,
            } => {
                let parsed = Configurations::from_value(configurations);
                if let Some(ApplyExpect { error: Some(error), .. }) = expect {
                    expect_error(parsed, error).map_err(at)?;
                    continue;
                }
                let configurations = parsed.map_err(|e| at(format!("configurations refused: {e}")))?;
                let limits = match limits {
                    Some(LimitsName::None) => Limits::none(),
                    _ => Limits::azure(),
                };
                let before: Vec<String> = twins.iter().map(Twin::to_json).collect();
                let versions: Vec<u64> = twins.iter().map(Twin::version).collect();
                let result = configurations.apply_all(&mut twins, now.timestamp().map_err(at)?, &limits);
                for failure in &result.failures {
                    if twins[failure.index].to_json() != before[failure.index] {
                        return Err(at(format!("failed twin {} changed", failure.index)));
                    }
                }
                let Some(expect) = expect else { continue };
                let got = serde_json::to_value(&result).map_err(|e| e.to_string())?;
                if let Some(want) = &expect.metrics {
                    if &got["metrics"] != want {
                        return Err(at(format!("metrics: got {}, want {want}", got["metrics"])));
                    }
                }
                if let Some(want) = &expect.failures {
                    let got: Vec<Value> = got["failures"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|f| {
                            let mut f = f.clone();
                            let error = serde_json::json!({"code": f["error"]["code"], "path": f["error"]["path"]});
                            f["error"] = error;
                            f
                        })
                        .collect();
                    if &got != want {
                        return Err(at(format!(
                            "failures: got {}, want {}",
                            Value::from(got),
                            Value::from(want.clone())
                        )));
                    }
                }
                if let Some(want) = &expect.written {
                    let got: Vec<bool> = twins.iter().zip(&versions).map(|(t, v)| t.version() != *v).collect();
                    if &got != want {
                        return Err(at(format!("written: got {got:?}, want {want:?}")));
                    }
                }
            }
        }
    }
    let docs = Value::Array(twins.iter().map(Twin::to_value).collect());
    if let Some(want) = &case.expect_twins {
        let want = Value::Array(want.clone());
        if docs != want {
            return Err(format!("final twins differ:\n got  {docs}\n want {want}"));
        }
    }
    for (pointer, want) in &case.expect_at {
        match docs.pointer(pointer) {
            Some(got) if got == want => {}
            got => return Err(format!("at {pointer}: expected {want}, got {got:?}")),
        }
    }
    for pointer in &case.expect_absent {
        if let Some(got) = docs.pointer(pointer) {
            return Err(format!("{pointer} should be absent, is {got}"));
        }
    }
    Ok(())
}

/// A computed value against the expected one, or the expected error; a case gives exactly one.
fn check_result(
    result: Result<Value, twindoc::Error>,
    expect: &Option<Value>,
    error: &Option<ExpectedError>,
) -> Result<(), String> {
    match (expect, error) {
        (Some(want), None) => {
            let got = result.map_err(|e| format!("unexpected error {e}"))?;
            (&got == want).then_some(()).ok_or(format!("got  {got}\nwant {want}"))
        }
        (None, Some(error)) => expect_error(result, error),
        _ => Err("a case has expect or expectError".into()),
    }
}

fn run_diff(case: &DiffCase) -> Result<(), String> {
    let merge_patch = twindoc::diff(&case.old, &case.new);
    let json_patch = twindoc::diff_json_patch(&case.old, &case.new);
    if let Some(error) = &case.expect_error {
        if case.expect_merge_patch.is_some() || case.expect_json_patch.is_some() {
            return Err("a case with expectError expects no patch".into());
        }
        expect_error(merge_patch, error).map_err(|e| format!("diff: {e}"))?;
        return expect_error(json_patch, error).map_err(|e| format!("diff_json_patch: {e}"));
    }
    let (Some(want_merge), Some(want_ops)) = (&case.expect_merge_patch, &case.expect_json_patch) else {
        return Err("a case has expectMergePatch and expectJsonPatch, or expectError".into());
    };
    let merge_patch = merge_patch.map_err(|e| format!("diff: unexpected error {e}"))?;
    if &merge_patch != want_merge {
        return Err(format!("merge patch:\n got  {merge_patch}\n want {want_merge}"));
    }
    let json_patch = json_patch.map_err(|e| format!("diff_json_patch: unexpected error {e}"))?;
    let ops = serde_json::to_value(&json_patch).map_err(|e| e.to_string())?;
    if ops != Value::from(want_ops.clone()) {
        return Err(format!(
            "JSON Patch:\n got  {ops}\n want {}",
            Value::from(want_ops.clone())
        ));
    }
    // Both patches must lead from old to new (S9), which the expectations alone do not show.
    let reached = reached(&case.old, &case.new);
    let mut merged = case.old.clone();
    twindoc::merge(&mut merged, &merge_patch).map_err(|e| format!("merging the patch: {e}"))?;
    if merged != reached {
        return Err(format!("merging the patch gives {merged}, not {reached}"));
    }
    let mut patched = case.old.clone();
    json_patch::patch(&mut patched, &json_patch).map_err(|e| format!("applying the JSON Patch: {e}"))?;
    if patched != reached {
        return Err(format!("applying the JSON Patch gives {patched}, not {reached}"));
    }
    Ok(())
}

/// What a diff leads to (S9): `new` without its `null` members (outside arrays), except those
/// that are `null` in `old` too (unchanged), with the root `$metadata` and `$version` of `old`.
fn reached(old: &Value, new: &Value) -> Value {
    fn merged(old: Option<&Value>, new: &Value) -> Value {
        let Value::Object(new) = new else { return new.clone() };
        let old = old.and_then(Value::as_object);
        let before = |key: &str| old.and_then(|old| old.get(key));
        let kept = |(key, value): &(&String, &Value)| !value.is_null() || before(key).is_some_and(Value::is_null);
        Value::Object(
            new.iter()
                .filter(kept)
                .map(|(key, value)| (key.clone(), merged(before(key), value)))
                .collect(),
        )
    }
    let reserved = |key: &str| key == "$metadata" || key == "$version";
    let mut out = serde_json::Map::new();
    let Value::Object(content) = merged(Some(old), new) else {
        unreachable!("diffs are of objects")
    };
    out.extend(content.into_iter().filter(|(key, _)| !reserved(key)));
    for (key, value) in old.as_object().into_iter().flatten() {
        if reserved(key) {
            out.insert(key.clone(), value.clone());
        }
    }
    Value::Object(out)
}

fn run_ack(case: &AckCase) -> Result<(), String> {
    let description = case.description.as_deref();
    let got = match &case.component {
        Some(component) => twindoc::component_property_ack(
            component,
            &case.property,
            case.value.clone(),
            case.code,
            case.version,
            description,
        ),
        None => {
            twindoc::writable_property_ack(&case.property, case.value.clone(), case.code, case.version, description)
        }
    };
    (got == case.expect)
        .then_some(())
        .ok_or(format!("got  {got}\nwant {}", case.expect))
}

fn run_replica(case: &ReplicaCase) -> Result<(), String> {
    let replica = DeviceTwin::from_device_view(&case.view);
    let mut replica = match (&case.expect_error, replica) {
        (Some(error), result) => {
            if !case.steps.is_empty() {
                return Err("a case with expectError has no steps".into());
            }
            return expect_error(result, error);
        }
        (None, result) => result.map_err(|e| format!("view refused: {e}"))?,
    };
    for (i, step) in case.steps.iter().enumerate() {
        let at = |e: String| format!("step {i}: {e}");
        let state = match step {
            ReplicaStep::ApplyDesiredPatch { patch, expect, state } => {
                let result = replica.apply_desired_patch(patch);
                match (expect, result) {
                    (DesiredAnswer::Error(error), result) => expect_error(result, error).map_err(at)?,
                    (DesiredAnswer::Applied(want), Ok(DesiredUpdate::Applied { patch })) if &patch == want => {}
                    (DesiredAnswer::Stale(want), Ok(DesiredUpdate::Stale { version })) if version == *want => {}
                    (DesiredAnswer::Gap(want), Ok(DesiredUpdate::Gap { expected, got }))
                        if (expected, got) == (want.expected, want.got) => {}
                    (_, got) => return Err(at(format!("apply_desired_patch gave {got:?}"))),
                }
                state
            }
            ReplicaStep::ApplyFullTwin { view, expect, state } => {
                let result = replica.apply_full_twin(view);
                match (expect, result) {
                    (FullTwinAnswer::Error(error), result) => expect_error(result, error).map_err(at)?,
                    (FullTwinAnswer::Resynced(want), Ok(Some(patch))) if &patch == want => {}
                    (FullTwinAnswer::Unchanged, Ok(None)) => {}
                    (_, got) => return Err(at(format!("apply_full_twin gave {got:?}"))),
                }
                state
            }
            ReplicaStep::Report {
                patch,
                expect_error: error,
                state,
            } => {
                let result = replica.report(patch);
                match error {
                    Some(error) => expect_error(result, error).map_err(at)?,
                    None => result.map_err(|e| at(format!("report: unexpected error {e}")))?,
                }
                state
            }
            ReplicaStep::TakeReportedPatch { expect, state } => {
                let got = replica.take_reported_patch().unwrap_or(Value::Null);
                if &got != expect {
                    return Err(at(format!("take_reported_patch gave {got}, want {expect}")));
                }
                state
            }
            ReplicaStep::ConfirmReported { version, state } => {
                replica.confirm_reported(*version);
                state
            }
        };
        if let Some(want) = state {
            let got = (
                Value::Object(replica.desired().clone()),
                replica.desired_version(),
                Value::Object(replica.reported().clone()),
                replica.reported_version(),
            );
            if got
                != (
                    want.desired.clone(),
                    want.desired_version,
                    want.reported.clone(),
                    want.reported_version,
                )
            {
                return Err(at(format!(
                    "state: got desired {} (version {}), reported {} (version {})",
                    got.0, got.1, got.2, got.3
                )));
            }
        }
    }
    Ok(())
}

fn run_case(case: &Case) -> Result<(), String> {
    match case {
        Case::Write(case) => run_write(case),
        Case::DigitalTwin(case) => {
            let got = initial_twin(&case.twin)?.digital_twin();
            // Member order is part of the view (S14): compared as text.
            let text = |value: &Value| serde_json::to_string(value).unwrap_or_default();
            (text(&got) == text(&case.expect))
                .then_some(())
                .ok_or(format!("got  {got}\nwant {}", case.expect))
        }
        Case::Merge(case) => {
            let mut doc = case.doc.clone();
            let result = twindoc::merge(&mut doc, &case.patch).map(|()| doc);
            check_result(result, &case.expect, &case.expect_error)
        }
        Case::Size(case) => {
            let twin = initial_twin(&case.twin)?;
            let got = twin.size(section(&case.section)?);
            (got == case.expect).then_some(()).ok_or(format!("got size {got}"))
        }
        Case::Timestamp(case) => {
            let result = case.input.timestamp();
            match (result, &case.expect, case.expect_error) {
                (Err(_), None, true) => Ok(()),
                (Ok(t), Some(want), false) if *want == t.to_string() => Ok(()),
                (result, _, _) => Err(format!("got {result:?}")),
            }
        }
        Case::Validate(case) => {
            let twin = initial_twin(&case.twin)?;
            let mut got: Vec<Violation> = twindoc::validate(&twin)
                .iter()
                .map(|e| Violation {
                    code: e.code().to_owned(),
                    path: e.path().to_owned(),
                })
                .collect();
            let mut want: Vec<&Violation> = case.expect.iter().collect();
            got.sort();
            want.sort();
            (got.iter().collect::<Vec<_>>() == want)
                .then_some(())
                .ok_or(format!("got {got:?}, want {want:?}"))
        }
        Case::Parse(case) => expect_error(Twin::from_json(&case.text), &case.expect_error),
        Case::Delta(case) => check_result(
            twindoc::delta(&case.desired, &case.reported),
            &case.expect,
            &case.expect_error,
        ),
        Case::Diff(case) => run_diff(case),
        Case::Ack(case) => run_ack(case),
        Case::Replica(case) => run_replica(case),
        Case::Configure(case) => run_configure(case),
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

/// A file of vectors other than queries.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[allow(dead_code)]
    description: String,
    cases: Vec<Value>,
}

/// The keys every case has, read before the rest so that an error in the rest can name the case.
#[derive(Deserialize)]
struct CaseHeader {
    name: String,
    spec: String,
}

/// Reads a case: its `name` and `spec`, then the fields of its `op`, every key checked.
fn read_case(mut case: Value) -> Result<(String, Case), String> {
    let header = CaseHeader::deserialize(&case).map_err(|e| format!("case {case}: {e}"))?;
    if !header.spec.starts_with('S') {
        return Err(format!(
            "{:?}: spec {:?} is not a section of docs/semantics.md",
            header.name, header.spec
        ));
    }
    if let Some(fields) = case.as_object_mut() {
        fields.remove("name");
        fields.remove("spec");
    }
    let parsed = serde_json::from_value(case).map_err(|e| format!("{:?}: {e}", header.name))?;
    Ok((header.name, parsed))
}

/// The failures of one file, each naming the file and the case.
fn run_file(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(name);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    if file.get("fleets").is_some() {
        return run_query_file(name, &file);
    }
    let file: CaseFile = serde_json::from_value(file).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(!file.cases.is_empty(), "{name} has no cases");
    file.cases
        .iter()
        .map(expand)
        .filter_map(|case| match read_case(case) {
            Ok((case_name, case)) => run_case(&case).err().map(|e| format!("{name} {case_name:?}: {e}")),
            Err(e) => Some(format!("{name} {e}")),
        })
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
