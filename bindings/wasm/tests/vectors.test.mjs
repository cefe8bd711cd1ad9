// The spec vectors of tests/vectors/*.json, shared with the Rust tests, run through the JavaScript
// API: once with plain JavaScript values and once with JSON text (the query vectors also once with
// Twin handles), so that every way in is held to the native engine's expectations. Every key is
// checked, as tests/vectors.rs checks it, so that a misspelt key fails instead of being skipped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const twindoc = require("twindoc");
// An RFC 6902 implementation of its own, to check that a diff's JSON Patch leads where it should.
const { applyPatch } = require("fast-json-patch");
const dir = new URL("../../../tests/vectors/", import.meta.url);

/** Expands `{{S*N}}` (S repeated N times) in every string and key, as the Rust runner does. */
function expand(value) {
  const text = (s) => s.replace(/\{\{(.+?)\*(\d+)\}\}/g, (_, unit, count) => unit.repeat(Number(count)));
  if (typeof value === "string") return text(value);
  if (Array.isArray(value)) return value.map(expand);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [text(k), expand(v)]));
  }
  return value;
}

/** JSON Pointer lookup; `undefined` when it does not resolve. */
function at(doc, pointer) {
  if (pointer === "") return doc;
  let node = doc;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, token)) return undefined;
    node = node[token];
  }
  return node;
}

/** Fails when `object` has a key outside `allowed` (the keys tests/vectors.rs accepts there). */
function knownKeys(object, allowed, where) {
  const unknown = Object.keys(object).filter((key) => !allowed.includes(key));
  assert.deepEqual(unknown, [], `unknown keys in ${where}`);
}

/** Fails unless `object` has exactly one key, one of `allowed`; returns it. */
function oneOf(object, allowed, where) {
  knownKeys(object, allowed, where);
  const keys = Object.keys(object);
  assert.equal(keys.length, 1, `${where} has one of ${allowed.join(", ")}`);
  return keys[0];
}

/** The keys of each op, besides `name`, `spec` and `op` (tests/vectors/README.md). */
const CASE_KEYS = {
  write: ["twin", "writes", "expectTwin", "expectAt", "expectAbsent"],
  merge: ["doc", "patch", "expect", "expectError"],
  size: ["twin", "section", "expect"],
  timestamp: ["input", "expect", "expectError"],
  validate: ["twin", "expect"],
  parse: ["text", "expectError"],
  delta: ["desired", "reported", "expect", "expectError"],
  diff: ["old", "new", "expectMergePatch", "expectJsonPatch", "expectError", "exactNumbers"],
  ack: ["component", "property", "value", "code", "version", "description", "expect"],
  replica: ["view", "steps", "expectError"],
  configure: ["twins", "steps", "expectTwins", "expectAt", "expectAbsent"],
  digitalTwin: ["twin", "expect"],
};
const WRITE_KEYS = ["section", "kind", "body", "now", "ifMatch", "ifVersion", "limits", "hubName", "digitalTwinEvent", "expect"];
const OUTCOME_KEYS = ["version", "sectionVersion", "etag", "notification", "event", "digitalTwinEvent"];
const ERROR_KEYS = ["code", "path"];
const STEP_KEYS = {
  applyDesiredPatch: ["patch", "expect", "state"],
  applyFullTwin: ["view", "expect", "state"],
  report: ["patch", "expectError", "state"],
  takeReportedPatch: ["expect", "state"],
  confirmReported: ["version", "state"],
};
const STATE_KEYS = ["desired", "desiredVersion", "reported", "reportedVersion"];

function initialTwin(spec, asText) {
  if (spec.$new) {
    knownKeys(spec, ["$new"], "twin");
    knownKeys(spec.$new, ["deviceId", "moduleId", "now"], "$new");
    const { deviceId, moduleId, now } = spec.$new;
    return new twindoc.Twin(deviceId, moduleId === undefined ? { now } : { moduleId, now });
  }
  return twindoc.Twin.fromJSON(asText ? JSON.stringify(spec) : spec);
}

function expectError(fn, expected) {
  let thrown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  knownKeys(expected, ERROR_KEYS, "expectError");
  assert.ok(thrown, `expected ${JSON.stringify(expected)}, nothing was thrown`);
  assert.equal(thrown.name, "TwinError", String(thrown));
  if (expected.code !== undefined) assert.equal(thrown.code, expected.code, thrown.message);
  if (expected.path !== undefined) assert.equal(thrown.path, expected.path, thrown.message);
}

function runWrite(testCase, asText) {
  const twin = initialTwin(testCase.twin, asText);
  for (const write of testCase.writes) {
    knownKeys(write, WRITE_KEYS, "a write");
    if (write.expect !== undefined) oneOf(write.expect, ["outcome", "error"], "a write's expect");
    if (write.expect?.outcome) knownKeys(write.expect.outcome, OUTCOME_KEYS, "outcome");
    const options = { now: write.now };
    if (write.ifMatch !== undefined) options.ifMatch = write.ifMatch;
    if (write.ifVersion !== undefined) options.ifVersion = write.ifVersion;
    if (write.limits !== undefined) options.limits = write.limits;
    if (write.hubName !== undefined) options.hubName = write.hubName;
    if (write.digitalTwinEvent !== undefined) options.digitalTwinEvent = write.digitalTwinEvent;
    // A string argument is JSON text, so a body that is a JSON string can only be sent as text.
    const body = asText || typeof write.body === "string" ? JSON.stringify(write.body) : write.body;
    // Section "digitalTwin" is the Update Digital Twin operation, its body the RFC 6902 operations.
    const apply = write.section === "digitalTwin"
      ? () => { assert.equal(write.kind, "patch"); return twin.patchDigitalTwin(body, options); }
      : () => twin[write.kind](write.section, body, options);
    if (write.expect?.error) {
      const before = twin.toString();
      expectError(apply, write.expect.error);
      assert.equal(twin.toString(), before, "a rejected write changed the twin");
    } else {
      const outcome = apply();
      for (const [field, want] of Object.entries(write.expect?.outcome ?? {})) {
        assert.deepEqual(outcome[field], want, `outcome ${field}`);
      }
    }
  }
  const doc = twin.toJSON();
  if (testCase.expectTwin) assert.deepEqual(doc, testCase.expectTwin);
  for (const [pointer, want] of Object.entries(testCase.expectAt ?? {})) assert.deepEqual(at(doc, pointer), want, pointer);
  for (const pointer of testCase.expectAbsent ?? []) assert.equal(at(doc, pointer), undefined, pointer);
}

/** The keys a query case may have (tests/vectors.rs refuses any other, so a misspelt key fails). */
const QUERY_CASE_KEYS = new Set(["name", "spec", "op", "fleet", "text", "expect", "expectError"]);

/**
 * A query vector (S11): the rows of `text` over the fleet, the ids of the twins a condition
 * matches, or the InvalidQuery error, checked as tests/vectors.rs checks them. Rows are compared as
 * JavaScript values, which cannot tell `20` from `20.0` (the Rust runner does).
 */
function runQueryCase(testCase, fleets, form) {
  const unknown = Object.keys(testCase).filter((key) => !QUERY_CASE_KEYS.has(key));
  assert.deepEqual(unknown, [], "unknown keys");
  assert.ok((testCase.expect === undefined) !== (testCase.expectError === undefined), "expect or expectError");
  const docs = fleets[testCase.fleet];
  assert.ok(docs, `no fleet ${testCase.fleet}`);
  const twins = docs.map((doc) => (form === "handles" ? twindoc.Twin.fromJSON(doc) : form === "text" ? JSON.stringify(doc) : doc));
  try {
    let got;
    if (testCase.op === "query") {
      got = () => twindoc.query(testCase.text, twins);
    } else {
      got = () => {
        const condition = new twindoc.Condition(testCase.text);
        const id = (doc) => (typeof doc.moduleId === "string" ? `${doc.deviceId}/${doc.moduleId}` : doc.deviceId);
        return docs.filter((doc, i) => condition.matches(twins[i])).map(id);
      };
    }
    if (testCase.expectError) {
      const { code, offset, ...rest } = testCase.expectError;
      assert.deepEqual(Object.keys(rest), [], "unknown keys in expectError");
      const error = captured(got);
      assert.equal(error.name, "TwinError", String(error));
      assert.equal(error.code, code, error.message);
      assert.equal(error.path, "");
      assert.equal(error.status, 400);
      assert.equal(error.errorCode, 400004);
      assert.ok(error.message.endsWith(` at character offset ${offset}`), error.message);
    } else {
      assert.deepEqual(got(), testCase.expect);
    }
  } finally {
    if (form === "handles") twins.forEach((twin) => twin.free());
  }
}

function captured(fn) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail("nothing was thrown");
}

/** What a diff leads to (S9): `newDoc` without its `null` members (outside arrays), except those
 * that are `null` in `oldDoc` too (unchanged), with the root `$metadata` and `$version` of `oldDoc`. */
function reached(oldDoc, newDoc) {
  const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
  const merged = (before, after) => {
    if (!isObject(after)) return after;
    const old = isObject(before) ? before : {};
    const kept = Object.entries(after).filter(([key, value]) => value !== null || (Object.hasOwn(old, key) && old[key] === null));
    return Object.fromEntries(kept.map(([key, value]) => [key, merged(old[key], value)]));
  };
  const reserved = (key) => key === "$metadata" || key === "$version";
  const out = Object.fromEntries(Object.entries(merged(oldDoc, newDoc)).filter(([key]) => !reserved(key)));
  for (const [key, value] of Object.entries(oldDoc)) if (reserved(key)) out[key] = value;
  return out;
}

function runDiff(testCase, text) {
  const { old: oldDoc, new: newDoc } = testCase;
  if (testCase.expectError) {
    assert.equal(testCase.expectMergePatch ?? testCase.expectJsonPatch, undefined, "expectError and a patch");
    expectError(() => twindoc.diff(text(oldDoc), text(newDoc)), testCase.expectError);
    return expectError(() => twindoc.jsonPatch(text(oldDoc), text(newDoc)), testCase.expectError);
  }
  const mergePatch = twindoc.diff(text(oldDoc), text(newDoc));
  assert.deepEqual(mergePatch, testCase.expectMergePatch, "merge patch");
  const ops = twindoc.jsonPatch(text(oldDoc), text(newDoc));
  assert.deepEqual(ops, testCase.expectJsonPatch, "JSON Patch");
  // Both patches must lead from old to new (S9), which the expectations alone do not show.
  const want = reached(oldDoc, newDoc);
  assert.deepEqual(twindoc.merge(text(oldDoc), text(mergePatch)), want, "merging the patch");
  assert.deepEqual(applyPatch(structuredClone(oldDoc), ops).newDocument, want, "applying the JSON Patch");
}

function runAck(testCase) {
  const { component, property, value, code, version, description } = testCase;
  const got =
    component === undefined
      ? twindoc.writablePropertyAck(property, value, code, version, description)
      : twindoc.componentPropertyAck(component, property, value, code, version, description);
  assert.deepEqual(got, testCase.expect);
}

/** The steps of a replica case on a `DeviceTwin` (S8), each checked, then the state after it. */
function runReplica(testCase, text) {
  if (testCase.expectError) {
    assert.equal(testCase.steps, undefined, "expectError and steps");
    return expectError(() => twindoc.DeviceTwin.fromDeviceView(text(testCase.view)), testCase.expectError);
  }
  const replica = twindoc.DeviceTwin.fromDeviceView(text(testCase.view));
  try {
    (testCase.steps ?? []).forEach((step, i) => {
      const where = `step ${i} (${step.do})`;
      assert.ok(Object.hasOwn(STEP_KEYS, step.do), `${where}: unknown step`);
      knownKeys(step, ["do", ...STEP_KEYS[step.do]], where);
      switch (step.do) {
        case "applyDesiredPatch": {
          const kind = oneOf(step.expect, ["applied", "stale", "gap", "error"], `${where} expect`);
          const want = step.expect[kind];
          if (kind === "error") {
            expectError(() => replica.applyDesiredPatch(text(step.patch)), want);
            break;
          }
          const got = replica.applyDesiredPatch(text(step.patch));
          assert.equal(got.status, kind, where);
          if (kind === "applied") assert.deepEqual(got.patch, want, where);
          if (kind === "stale") assert.equal(got.version, want, where);
          if (kind === "gap") {
            knownKeys(want, ["expected", "got"], `${where} gap`);
            assert.deepEqual([got.expected, got.version], [want.expected, want.got], where);
          }
          break;
        }
        case "applyFullTwin": {
          if (step.expect === "unchanged") {
            assert.deepEqual(replica.applyFullTwin(text(step.view)), { status: "unchanged" }, where);
            break;
          }
          const kind = oneOf(step.expect, ["resynced", "error"], `${where} expect`);
          if (kind === "error") expectError(() => replica.applyFullTwin(text(step.view)), step.expect.error);
          else assert.deepEqual(replica.applyFullTwin(text(step.view)), { status: "resynced", patch: step.expect.resynced }, where);
          break;
        }
        case "report":
          if (step.expectError) expectError(() => replica.report(text(step.patch)), step.expectError);
          else replica.report(text(step.patch));
          break;
        case "takeReportedPatch":
          assert.deepEqual(replica.takeReportedPatch(), step.expect, where);
          break;
        case "confirmReported":
          replica.confirmReported(step.version);
          break;
      }
      if (step.state !== undefined) {
        knownKeys(step.state, STATE_KEYS, `${where} state`);
        const got = {
          desired: replica.desired(),
          desiredVersion: replica.desiredVersion,
          reported: replica.reported(),
          reportedVersion: replica.reportedVersion,
        };
        assert.deepEqual(got, step.state, `${where}: state`);
      }
    });
  } finally {
    replica.free();
  }
}

const CONFIGURE_STEP_KEYS = {
  apply: ["configurations", "now", "limits", "expect"],
  write: ["twin", "section", "body", "now"],
};
const APPLY_EXPECT_KEYS = ["metrics", "failures", "written", "error"];

/** A configure case (S12): twins kept as documents, `applyConfigurations` over all of them, plain
 * patches through a Twin, then the checks on the final twins. */
function runConfigure(testCase, text) {
  let docs = testCase.twins.map((spec) => {
    const twin = initialTwin(spec, false);
    const doc = twin.toJSON();
    twin.free();
    return doc;
  });
  testCase.steps.forEach((step, i) => {
    const where = `step ${i} (${step.do})`;
    assert.ok(Object.hasOwn(CONFIGURE_STEP_KEYS, step.do), `${where}: unknown step`);
    knownKeys(step, ["do", ...CONFIGURE_STEP_KEYS[step.do]], where);
    if (step.do === "write") {
      const twin = twindoc.Twin.fromJSON(text(docs[step.twin]));
      twin.patch(step.section ?? "desired", text(step.body), { now: step.now });
      docs[step.twin] = twin.toJSON();
      twin.free();
      return;
    }
    const expect = step.expect ?? {};
    knownKeys(expect, APPLY_EXPECT_KEYS, `${where} expect`);
    const options = { now: step.now, ...(step.limits === undefined ? {} : { limits: step.limits }) };
    // A string argument is JSON text, so configurations that are a JSON string can only be sent as text.
    const configs = typeof step.configurations === "string" ? JSON.stringify(step.configurations) : text(step.configurations);
    const apply = () => twindoc.applyConfigurations(configs, docs.map(text), options);
    if (expect.error) return expectError(apply, expect.error);
    const result = apply();
    assert.deepEqual(Object.keys(result), ["twins", "metrics", "failures"], where);
    // A failed twin comes back unchanged (the vectors' twins have distinct ids).
    for (const failure of result.failures) {
      const index = docs.findIndex((doc) => doc.deviceId === failure.deviceId && doc.moduleId === failure.moduleId);
      assert.deepEqual(result.twins[index], docs[index], `${where}: a failed twin changed`);
    }
    if (expect.metrics !== undefined) assert.deepEqual(result.metrics, expect.metrics, `${where}: metrics`);
    if (expect.failures !== undefined) {
      const got = result.failures.map(({ error, ...rest }) => ({ ...rest, error: { code: error.code, path: error.path } }));
      assert.deepEqual(got, expect.failures, `${where}: failures`);
    }
    if (expect.written !== undefined) {
      assert.deepEqual(result.twins.map((doc, j) => doc.version !== docs[j].version), expect.written, `${where}: written`);
    }
    docs = result.twins;
  });
  if (testCase.expectTwins) assert.deepEqual(docs, testCase.expectTwins);
  for (const [pointer, want] of Object.entries(testCase.expectAt ?? {})) assert.deepEqual(at(docs, pointer), want, pointer);
  for (const pointer of testCase.expectAbsent ?? []) assert.equal(at(docs, pointer), undefined, pointer);
}

function runCase(testCase, asText) {
  assert.ok(Object.hasOwn(CASE_KEYS, testCase.op), `unknown op ${testCase.op}`);
  knownKeys(testCase, ["name", "spec", "op", ...CASE_KEYS[testCase.op]], "the case");
  const text = (v) => (asText ? JSON.stringify(v) : v);
  switch (testCase.op) {
    case "write":
      return runWrite(testCase, asText);
    case "merge":
      if (testCase.expectError) return expectError(() => twindoc.merge(text(testCase.doc), text(testCase.patch)), testCase.expectError);
      return assert.deepEqual(twindoc.merge(text(testCase.doc), text(testCase.patch)), testCase.expect);
    case "size":
      return assert.equal(initialTwin(testCase.twin, asText).size(testCase.section), testCase.expect);
    case "timestamp": {
      const make = () => new twindoc.Twin("d", { now: testCase.input });
      if (testCase.expectError) return expectError(make, { code: "InvalidTimestamp" });
      return assert.equal(make().toJSON().properties.desired.$metadata.$lastUpdated, testCase.expect);
    }
    case "validate": {
      testCase.expect.forEach((violation) => knownKeys(violation, ERROR_KEYS, "a violation"));
      const report = twindoc.validate(text(testCase.twin));
      const key = (v) => JSON.stringify([v.code, v.path]);
      const got = report.violations.map(key).sort();
      assert.deepEqual(got, testCase.expect.map(key).sort());
      return assert.equal(report.valid, got.length === 0);
    }
    case "parse":
      return expectError(() => twindoc.Twin.fromJSON(testCase.text), testCase.expectError);
    case "delta":
      if (testCase.expectError) return expectError(() => twindoc.delta(text(testCase.desired), text(testCase.reported)), testCase.expectError);
      return assert.deepEqual(twindoc.delta(text(testCase.desired), text(testCase.reported)), testCase.expect);
    case "diff":
      return runDiff(testCase, text);
    case "ack":
      return runAck(testCase);
    case "replica":
      return runReplica(testCase, text);
    case "configure":
      return runConfigure(testCase, text);
    case "digitalTwin":
      // Member order is part of the view (S14): compared as text.
      return assert.equal(JSON.stringify(initialTwin(testCase.twin, asText).digitalTwin()), JSON.stringify(testCase.expect));
  }
}

const files = readdirSync(dir).filter((name) => name.endsWith(".json")).sort();
test("the vector files are there", () => assert.ok(files.length >= 10, String(files)));

const FORMS = { values: "JavaScript values", text: "JSON text", handles: "Twin handles" };

for (const file of files) {
  const { cases, fleets } = JSON.parse(readFileSync(new URL(file, dir), "utf8"));
  // A file with fleets holds query vectors (tests/vectors/README.md), over twins in three forms.
  const forms = fleets ? ["values", "text", "handles"] : ["values", "text"];
  for (const form of forms) {
    test(`${file} (${FORMS[form]})`, () => {
      const failures = [];
      const expandedFleets = fleets && expand(fleets);
      for (const testCase of cases.map(expand)) {
        // JSON.parse reads `1.0` as `1`, so a case telling them apart cannot run here.
        if (testCase.exactNumbers) continue;
        try {
          if (fleets) runQueryCase(testCase, expandedFleets, form);
          else runCase(testCase, form === "text");
        } catch (error) {
          failures.push(`${testCase.name}: ${error.message}`);
        }
      }
      assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases failed`);
    });
  }
}
