// Automatic configurations (S12) through the JavaScript API: applyConfigurations over twins in
// every form, and Twin.applyConfigurations on one twin.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Twin, TwinError, applyConfigurations } = require("twindoc");

const NOW = "2026-12-01T00:00:00Z";
const configurations = [
  { id: "base", priority: 1, targetCondition: "*", content: { deviceContent: { "properties.desired": { mode: "eco" } } },
    metrics: { queries: { eco: "SELECT deviceId FROM devices WHERE properties.desired.mode = 'eco'" } } },
  { id: "fast", priority: 2, targetCondition: "tags.fast = true", content: { deviceContent: { "properties.desired.fan": 3 } } },
];

test("applyConfigurations takes Twin handles, objects and JSON text, and leaves them as they are", () => {
  const handle = new Twin("a", { now: NOW });
  const object = { deviceId: "b", tags: { fast: true } };
  const text = JSON.stringify({ deviceId: "c", moduleId: "m" });
  const before = handle.toString();
  const result = applyConfigurations(configurations, [handle, object, text], { now: NOW });
  assert.deepEqual(Object.keys(result), ["twins", "metrics", "failures"]);
  assert.equal(handle.toString(), before, "the handle is not changed");
  assert.deepEqual(object, { deviceId: "b", tags: { fast: true } });
  assert.deepEqual(result.twins.map((t) => [t.deviceId, t.properties?.desired?.mode, t.properties?.desired?.fan]), [
    ["a", "eco", undefined],
    ["b", "eco", 3],
    ["c", undefined, undefined],
  ]);
  assert.deepEqual(result.twins[1].configurations, { base: { status: "applied" }, fast: { status: "applied" } });
  assert.equal(result.twins[1].properties.desired.$metadata.fan.$lastUpdatedBy, "fast");
  assert.deepEqual(result.metrics, {
    base: { targetedCount: 2, appliedCount: 2, queries: { eco: 2 } },
    fast: { targetedCount: 1, appliedCount: 1, queries: {} },
  });
  assert.deepEqual(result.failures, []);
  handle.free();
});

test("a twin whose write fails comes back unchanged and is listed with its error", () => {
  const bad = { id: "bad", targetCondition: "*", content: { moduleContent: { "properties.desired.x": { "a b": 1 } } } };
  const module = { deviceId: "a", moduleId: "m", version: 4 };
  const result = applyConfigurations(JSON.stringify(bad), [module], { now: NOW });
  assert.deepEqual(result.twins, [module]);
  assert.equal(result.failures.length, 1);
  const [failure] = result.failures;
  assert.deepEqual([failure.deviceId, failure.moduleId, failure.error.code, failure.error.path, failure.error.status], ["a", "m", "InvalidKey", "/x/a b", 400]);
  const passed = applyConfigurations(bad, [module], { now: NOW, limits: "none" });
  assert.equal(passed.failures.length, 1, "key characters are checked even without limits");
});

test("Twin.applyConfigurations writes once, then nothing, and throws on a malformed configuration", () => {
  const twin = new Twin("a", { now: NOW });
  const first = twin.applyConfigurations(configurations, { now: "2026-12-02T00:00:00Z" });
  assert.deepEqual(first.statuses, { base: "applied" });
  const { event, digitalTwinEvent, ...written } = first.outcome;
  assert.deepEqual(written, { version: 3, sectionVersion: 2, etag: "AAAAAAAAAAI=", notification: { mode: "eco", $version: 2 } });
  assert.deepEqual([event.properties.opType, event.body.properties.desired.mode, digitalTwinEvent], ["updateTwin", "eco", null]);
  const second = twin.applyConfigurations(configurations, { now: "2026-12-03T00:00:00Z" });
  assert.deepEqual(second, { statuses: { base: "applied" }, outcome: null });
  assert.equal(twin.version, 3);
  const before = twin.toString();
  const malformed = [configurations[0], { ...configurations[1], priority: -1 }];
  assert.throws(() => twin.applyConfigurations(malformed, { now: NOW }), (error) => {
    assert.ok(error instanceof TwinError);
    assert.deepEqual([error.code, error.path, error.status, error.errorCode], ["InvalidConfiguration", "/1/priority", 400, 400004]);
    return true;
  });
  assert.throws(() => twin.applyConfigurations(configurations, { now: "yesterday" }), { code: "InvalidTimestamp" });
  assert.throws(() => applyConfigurations(configurations, "not an array", { now: NOW }), { code: "InvalidArgument" });
  assert.equal(twin.toString(), before, "a refused application changes nothing");
  twin.free();
});

test("Twin.applyConfigurations throws the write's error and leaves the twin unchanged", () => {
  const twin = Twin.fromJSON({ deviceId: "a", properties: { desired: { big: "x".repeat(4000), $version: 1 } } });
  const before = twin.toString();
  const huge = { id: "huge", targetCondition: "*", content: { deviceContent: { "properties.desired.more": "y".repeat(4097) } } };
  assert.throws(() => twin.applyConfigurations(huge, { now: NOW }), { code: "ValueTooLong", path: "/more" });
  assert.equal(twin.toString(), before);
  twin.free();
});
