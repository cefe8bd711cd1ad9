// The spec vectors of tests/vectors/*.json, shared with the Rust tests, run through the JavaScript
// API: once with plain JavaScript values and once with JSON text, so that both ways in are held to
// the native engine's expectations.
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
    case "query":
    case "condition":
      // S11 queries are not in the WebAssembly API yet; the Rust tests run these vectors.
      return;
    default:
      throw new Error(`unknown op ${testCase.op}`);
  }
}

const files = readdirSync(dir).filter((name) => name.endsWith(".json")).sort();
test("the vector files are there", () => assert.ok(files.length >= 10, String(files)));

for (const file of files) {
  const { cases } = JSON.parse(readFileSync(new URL(file, dir), "utf8"));
  for (const asText of [false, true]) {
    test(`${file} (${asText ? "JSON text" : "JavaScript values"})`, () => {
      const failures = [];
      for (const testCase of cases.map(expand)) {
        try {
          runCase(testCase, asText);
        } catch (error) {
          failures.push(`${testCase.name}: ${error.message}`);
        }
      }
      assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases failed`);
    });
  }
}
