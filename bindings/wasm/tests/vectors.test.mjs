// The spec vectors of tests/vectors/*.json, shared with the Rust tests, run through the JavaScript
// API: once with plain JavaScript values and once with JSON text (the query vectors also once with
// Twin handles), so that every way in is held to the native engine's expectations.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";

const twindoc = createRequire(import.meta.url)("twindoc");
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

function initialTwin(spec, asText) {
  if (spec.$new) {
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
  assert.ok(thrown, `expected ${JSON.stringify(expected)}, nothing was thrown`);
  assert.equal(thrown.name, "TwinError", String(thrown));
  if (expected.code !== undefined) assert.equal(thrown.code, expected.code, thrown.message);
  if (expected.path !== undefined) assert.equal(thrown.path, expected.path, thrown.message);
}

function runWrite(testCase, asText) {
  const twin = initialTwin(testCase.twin, asText);
  for (const write of testCase.writes) {
    const options = { now: write.now };
    if (write.ifMatch !== undefined) options.ifMatch = write.ifMatch;
    if (write.ifVersion !== undefined) options.ifVersion = write.ifVersion;
    if (write.limits !== undefined) options.limits = write.limits;
    // A string argument is JSON text, so a body that is a JSON string can only be sent as text.
    const body = asText || typeof write.body === "string" ? JSON.stringify(write.body) : write.body;
    const apply = () => twin[write.kind](write.section, body, options);
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

function runCase(testCase, asText) {
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
      const report = twindoc.validate(text(testCase.twin));
      const key = (v) => JSON.stringify([v.code, v.path]);
      const got = report.violations.map(key).sort();
      assert.deepEqual(got, testCase.expect.map(key).sort());
      return assert.equal(report.valid, got.length === 0);
    }
    case "parse":
      return expectError(() => twindoc.Twin.fromJSON(testCase.text), testCase.expectError);
    case "delta":
      return assert.deepEqual(twindoc.delta(text(testCase.desired), text(testCase.reported)), testCase.expect);
    default:
      throw new Error(`unknown op ${testCase.op}`);
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
