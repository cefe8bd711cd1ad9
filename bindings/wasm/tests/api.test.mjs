// Every export of the JavaScript package, its errors, and the S10 rules for JavaScript values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { runInNewContext } from "node:vm";

const twindoc = createRequire(import.meta.url)("twindoc");
const { Twin, DeviceTwin, TwinError } = twindoc;
const T0 = "2026-01-01T00:00:00Z";
const at = (second) => ({ now: `2026-01-01T00:00:${String(second).padStart(2, "0")}Z` });

/** Runs `fn`, expecting a TwinError with these fields. */
function throwsTwinError(fn, code, path) {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof TwinError, "a TwinError");
    assert.ok(error instanceof Error, "a real Error");
    assert.ok(error.stack.length > 0);
    assert.equal(error.name, "TwinError");
    assert.equal(error.code, code, error.message);
    if (path !== undefined) assert.equal(error.path, path, error.message);
    assert.equal(typeof error.status, "number");
    assert.equal(typeof error.errorCode, "number");
    assert.ok(error.message.length > 0);
    return true;
  });
}

test("a new twin has IoT Hub's shape, and writes count as S5 says", () => {
  const twin = new Twin("devA", { now: T0 });
  assert.equal(twin.etag, "AAAAAAAAAAE=");
  assert.equal(twin.version, 2);
  const { event, digitalTwinEvent, ...outcome } = twin.patch("desired", { interval: 5 }, at(1));
  assert.deepEqual(outcome, { version: 3, sectionVersion: 2, etag: "AAAAAAAAAAI=", notification: { interval: 5, $version: 2 } });
  assert.equal(event.body.properties.desired.$version, 2);
  assert.equal(digitalTwinEvent, null, "not asked for");
  const { event: reportedEvent, ...reported } = twin.patch("reported", '{"wifi": {"ip": "10.0.0.2"}}', at(2));
  assert.deepEqual(reported, { version: 4, sectionVersion: 2, etag: "AAAAAAAAAAI=", notification: null, digitalTwinEvent: null });
  assert.deepEqual(reportedEvent.body.properties.reported.wifi, { ip: "10.0.0.2" });
  assert.deepEqual(twin.patch("tags", { site: "a" }, { ...at(3), ifMatch: '"AAAAAAAAAAI="' }).sectionVersion, null);
  assert.equal(twin.etag, "AAAAAAAAAAM=");
  assert.deepEqual(twin.deviceView(), { desired: { interval: 5, $version: 2 }, reported: { wifi: { ip: "10.0.0.2" }, $version: 2 } });
  assert.deepEqual(twin.lastUpdated("reported", "/wifi/ip"), { time: "2026-01-01T00:00:02.0000000Z", version: null });
  assert.deepEqual(twin.lastUpdated("desired", "/interval"), { time: "2026-01-01T00:00:01.0000000Z", version: 2 });
  assert.equal(twin.lastUpdated("desired", "/nope"), null);
  assert.equal(twin.size("desired"), "interval".length + 8);
  assert.deepEqual(JSON.parse(twin.toString()), twin.toJSON());
  assert.deepEqual(JSON.parse(JSON.stringify(twin)), twin.toJSON());
  const copy = Twin.fromJSON(twin.toString());
  assert.deepEqual(copy.toJSON(), twin.toJSON());
  twin.free();
});

test("module twins, times as Date and Unix milliseconds, and the clock by default", () => {
  const twin = new Twin("devA", { moduleId: "m1", now: new Date(Date.UTC(2026, 0, 2)) });
  assert.equal(twin.toJSON().moduleId, "m1");
  assert.equal(twin.toJSON().properties.reported.$metadata.$lastUpdated, "2026-01-02T00:00:00.0000000Z");
  twin.patch("desired", { a: 1 }, { now: 1767225600123 });
  assert.equal(twin.lastUpdated("desired", "/a").time, "2026-01-01T00:00:00.1230000Z");
  // Digits in a string are milliseconds too, as the CLI's --now reads them.
  twin.patch("desired", { b: 1 }, { now: "1767225600456" });
  assert.equal(twin.lastUpdated("desired", "/b").time, "2026-01-01T00:00:00.4560000Z");
  const before = Date.now();
  const fresh = new Twin("devB");
  const stamped = Date.parse(fresh.toJSON().properties.desired.$metadata.$lastUpdated);
  assert.ok(stamped >= before - 1000 && stamped <= Date.now() + 1000, "stamped with the clock");
  throwsTwinError(() => new Twin("d", { now: "yesterday" }), "InvalidTimestamp");
  throwsTwinError(() => new Twin("d", { now: new Date(NaN) }), "InvalidTimestamp");
  throwsTwinError(() => new Twin("d", { now: 1.5 }), "InvalidTimestamp");
});

test("replace and twin-level writes", () => {
  const twin = new Twin("devA", { now: T0 });
  twin.patch("desired", { cfg: { a: 1, b: 2 } }, at(1));
  const replaced = twin.replace("desired", { cfg: { a: 1 } }, at(2));
  assert.deepEqual(replaced.notification, { cfg: { a: 1, b: null }, $version: 3 });
  const both = twin.patch("twin", { deviceId: "x", tags: { t: 1 }, properties: { desired: { on: true } } }, at(3));
  assert.deepEqual([both.version, both.sectionVersion, both.etag], [5, 4, "AAAAAAAAAAQ="]);
  throwsTwinError(() => twin.patch("twin", { properties: { reported: { x: 1 } } }, at(4)), "InvalidTwin", "/properties/reported");
  twin.replace("twin", { tags: { only: 1 } }, at(5));
  assert.deepEqual(twin.toJSON().tags, { only: 1 });
});

test("every error kind reaches JavaScript as a TwinError, and a rejected write changes nothing", () => {
  const twin = new Twin("devA", { now: T0 });
  twin.patch("desired", { keep: 1 }, at(1));
  const before = twin.toString();
  const cases = [
    [[], "NotAnObject", ""],
    [{ ["k".repeat(1025)]: 1 }, "KeyTooLong", "/" + "k".repeat(1025)],
    [{ x: { "a.b": 1 } }, "InvalidKey", "/x/a.b"],
    [{ "a/b": { $x: 1 } }, "InvalidKey", "/a~1b/$x"],
    [{ s: "é".repeat(2049) }, "ValueTooLong", "/s"],
    [{ n: 4503599627370496 }, "IntegerOutOfRange", "/n"],
    [{ list: [1, null] }, "NullInArray", "/list/1"],
    [[..."abcdefghijk"].reduceRight((inner, key) => ({ [key]: inner }), {}), "TooDeep", "/a/b/c/d/e/f/g/h/i/j/k"],
    [{ big: "x".repeat(4000), more: "y".repeat(4000), again: "z".repeat(4000), last: "w".repeat(4000), over: "v".repeat(4000), end: "u".repeat(4000), x: "t".repeat(4000), y: "s".repeat(4000), z: "r".repeat(1000) }, "SizeLimitExceeded", ""],
    ["{not json", "InvalidJson", ""],
  ];
  for (const [body, code, path] of cases) {
    throwsTwinError(() => twin.patch("desired", body, at(2)), code, path);
    assert.equal(twin.toString(), before, code);
  }
  throwsTwinError(() => twin.patch("desired", { a: 1 }, { ...at(2), ifMatch: "AAAAAAAAAAA=" }), "PreconditionFailed", "");
  throwsTwinError(() => twin.patch("reported", { a: 1 }, { ...at(2), ifVersion: 9 }), "PreconditionFailed", "");
  throwsTwinError(() => Twin.fromJSON({ properties: { desired: { $version: "7" } } }), "InvalidTwin", "/properties/desired/$version");
  throwsTwinError(() => twin.patch("sideways", { a: 1 }, at(2)), "InvalidArgument");
  // Writes take "twin" too, and their error says so; lastUpdated and size take sections only.
  for (const write of [(section) => twin.patch(section, {}, at(2)), (section) => twin.replace(section, {}, at(2))]) {
    assert.throws(() => write("properties"), (e) => e.code === "InvalidArgument" && e.message.endsWith('"properties" is not a section or twin: use tags, desired, reported or twin'), "a write");
  }
  assert.throws(() => twin.size("twin"), (e) => e.code === "InvalidArgument" && e.message.endsWith('"twin" is not a section: use tags, desired or reported'));
  assert.throws(() => twin.lastUpdated("twin", ""), (e) => e.code === "InvalidArgument" && /is not a section: use tags, desired or reported$/.test(e.message));
  assert.equal(twin.toString(), before);
  try {
    twin.patch("desired", { a: { "b c": 1 } }, at(2));
  } catch (error) {
    assert.deepEqual([error.status, error.errorCode], [400, 400004]);
    assert.match(error.message, /\/a\/b c/);
  }
});

test("limits: none, and custom numbers", () => {
  const twin = new Twin("devA", { now: T0 });
  throwsTwinError(() => twin.patch("tags", { s: "x".repeat(5000) }, at(1)), "ValueTooLong");
  twin.patch("tags", { s: "x".repeat(5000) }, { ...at(1), limits: "none" });
  throwsTwinError(() => twin.patch("tags", { "a b": 1 }, { ...at(1), limits: "none" }), "InvalidKey");
  throwsTwinError(() => twin.patch("desired", { a: { b: {} } }, { ...at(2), limits: { maxDepth: 1 } }), "TooDeep", "/a/b");
  throwsTwinError(() => twin.patch("desired", { abc: 1 }, { ...at(2), limits: { maxKeyBytes: 2 } }), "KeyTooLong", "/abc");
  throwsTwinError(() => twin.patch("desired", { a: "abc" }, { ...at(2), limits: { maxValueBytes: 2 } }), "ValueTooLong", "/a");
  throwsTwinError(() => twin.patch("desired", { abc: 1 }, { ...at(2), limits: { desiredBytes: 5 } }), "SizeLimitExceeded");
  throwsTwinError(() => twin.patch("desired", { a: 1 }, { ...at(2), limits: "loose" }), "InvalidArgument", "/limits");
  // Overrides over no limits, as the CLI's --no-limits with --max-value-bytes.
  const none = { ...at(2), limits: { base: "none", maxValueBytes: 10 } };
  twin.patch("tags", { s: "y".repeat(10), n: 2 ** 52 + 1 }, none);
  throwsTwinError(() => twin.patch("tags", { s: "x".repeat(11) }, none), "ValueTooLong", "/s");
  throwsTwinError(() => twin.patch("desired", { a: 1 }, { ...at(2), limits: { base: "huge" } }), "InvalidArgument", "/limits/base");
  throwsTwinError(() => twin.patch("desired", { a: 1 }, { ...at(2), limits: { maxDepth: 1.5 } }), "InvalidArgument", "/limits/maxDepth");
  throwsTwinError(() => twin.patch("desired", { a: 1 }, { ...at(2), limits: 5 }), "InvalidArgument", "/limits");
  throwsTwinError(() => twin.patch("desired", { a: 1 }, { ...at(2), ifVersion: -3 }), "InvalidArgument", "/ifVersion");
  throwsTwinError(() => twin.patch("desired", { a: 1 }, { ...at(2), ifMatch: 7 }), "InvalidArgument", "/ifMatch");
});

test("JavaScript values mean what their JSON text means (S10)", () => {
  const twin = new Twin("devA", { now: T0 });
  twin.patch("desired", { keep: 1, drop: 2 }, at(1));
  // undefined is absent: it does not delete.
  twin.patch("desired", { keep: undefined, drop: null, nested: { u: undefined, v: 1 } }, at(2));
  assert.deepEqual(twin.deviceView().desired, { keep: 1, nested: { v: 1 }, $version: 3 });
  // What JSON.stringify would silently turn into null (a deletion) is refused.
  for (const [value, code] of [[NaN, "InvalidJson"], [Infinity, "InvalidJson"], [-Infinity, "InvalidJson"], [10n, "InvalidJson"],
    [() => 1, "InvalidJson"], [Symbol("s"), "InvalidJson"], [new Date(), "InvalidJson"], [new Map(), "InvalidJson"],
    [new (class Point { constructor() { this.x = 1; } })(), "InvalidJson"], [2 ** 53, "IntegerOutOfRange"], [-(2 ** 53), "IntegerOutOfRange"]]) {
    throwsTwinError(() => twin.patch("desired", { keep: value }, { ...at(3), limits: "none" }), code, "/keep");
  }
  // Integral numbers below 1e21 are integer literals: the ±2^52 range applies to them.
  throwsTwinError(() => twin.patch("desired", { n: 2 ** 52 }, at(3)), "IntegerOutOfRange", "/n");
  twin.patch("desired", { n: 2 ** 52 - 1, f: 1.5, e: 1e21, neg: -0 }, at(3));
  assert.deepEqual(twin.deviceView().desired.n, 2 ** 52 - 1);
  // Objects without a prototype are plain; cycles and 100,000 levels are refused without a crash.
  const bare = Object.create(null);
  bare.x = 1;
  twin.patch("desired", { bare }, at(4));
  const cycle = {};
  cycle.self = cycle;
  throwsTwinError(() => twin.patch("desired", cycle, at(5)), "InvalidJson");
  let deep = {};
  const root = deep;
  for (let i = 0; i < 100000; i++) deep = deep.a = {};
  for (const limits of ["azure", "none"]) throwsTwinError(() => twin.patch("desired", root, { ...at(5), limits }), "InvalidJson");
  throwsTwinError(() => twin.patch("desired", "[".repeat(100000), at(5)), "InvalidJson");
  // A value nested deep means what its JSON text means: the same error, at the same path, on
  // either side of the parser's bound (127 levels of objects parse, 128 do not).
  const nested = (levels) => {
    let value = 1;
    for (let i = 0; i < levels; i++) value = i % 2 ? [value] : { a: value };
    return value;
  };
  for (const levels of [104, 105, 110, 127, 128, 129, 300]) {
    for (const limits of ["azure", "none"]) {
      const outcome = (body) => {
        try {
          Twin.fromJSON(twin.toString()).patch("desired", body, { ...at(5), limits });
          return "accepted";
        } catch (error) {
          return `${error.code} at ${JSON.stringify(error.path)}`;
        }
      };
      const body = { top: nested(levels - 1) };
      assert.equal(outcome(body), outcome(JSON.stringify(body)), `${levels} levels, limits ${limits}`);
    }
  }
  throwsTwinError(() => twin.patch("desired", { list: [1, undefined] }, at(5)), "NullInArray", "/list/1");
  // A lone surrogate is not Unicode text: refused, as its JSON text is, in a value or a key, and
  // in JSON text given as a string; never replaced by U+FFFD. A real U+FFFD is text.
  for (const body of [{ s: "a\ud800b" }, { ["k\udc00"]: 1 }, { deep: [{ s: "\udbff" }] }]) {
    throwsTwinError(() => twin.patch("desired", body, at(5)), "InvalidJson", "");
    throwsTwinError(() => twin.patch("desired", JSON.stringify(body), at(5)), "InvalidJson", "");
  }
  throwsTwinError(() => twin.patch("desired", '{"s": "\ud800"}', at(5)), "InvalidJson", "");
  const replacement = new Twin("devR", { now: T0 });
  replacement.patch("desired", { s: "\ufffd", ["k\ufffd"]: "ok" }, at(5));
  assert.deepEqual(replacement.deviceView().desired, { s: "\ufffd", ["k\ufffd"]: "ok", $version: 2 });
  // The twin still works after all of that.
  assert.equal(twin.patch("desired", {}, at(6)).sectionVersion, 6);
});

test("merge, diff, jsonPatch, delta and validate", () => {
  assert.deepEqual(twindoc.merge({ a: { b: 1 }, c: [1] }, { a: { b: null, d: { e: null } }, c: [2] }), { a: { d: {} }, c: [2] });
  assert.deepEqual(twindoc.merge('{"a": 1}', '{"b": 2}'), { a: 1, b: 2 });
  throwsTwinError(() => twindoc.merge({}, [1]), "NotAnObject");
  const oldDoc = { fan: { speed: 1, mode: "eco" }, list: [1, 2], $version: 3 };
  const newDoc = { fan: { speed: 2 }, list: [1], $version: 4 };
  assert.deepEqual(twindoc.diff(oldDoc, newDoc), { fan: { speed: 2, mode: null }, list: [1] });
  const ops = twindoc.jsonPatch(oldDoc, newDoc);
  assert.ok(ops.every((op) => ["add", "remove", "replace"].includes(op.op) && op.path.startsWith("/")), JSON.stringify(ops));
  assert.deepEqual(twindoc.diff({ a: 1 }, { a: 1 }), {});
  assert.deepEqual(twindoc.delta({ a: 1, b: [1, 2], c: "x" }, { a: 1.0, b: [1, 2], c: "y", d: 1 }), { c: "x" });
  const valid = twindoc.validate(new Twin("devA", { now: T0 }).toString());
  assert.deepEqual(valid, { valid: true, violations: [] });
  const invalid = twindoc.validate({ deviceId: "d", tags: { "a b": [null] } });
  assert.equal(invalid.valid, false);
  assert.deepEqual(invalid.violations.map((v) => [v.code, v.path]), [["InvalidKey", "/tags/a b"], ["NullInArray", "/tags/a b/0"]]);
  assert.ok(invalid.violations.every((v) => v.message.length > 0));
});

test("Plug and Play acknowledgements and a twin's delta", () => {
  assert.deepEqual(twindoc.writablePropertyAck("target", 21.5, 200, 3, "applied"), {
    target: { value: 21.5, ac: 200, av: 3, ad: "applied" },
  });
  assert.deepEqual(twindoc.writablePropertyAck("target", "on", 203, 0), { target: { value: "on", ac: 203, av: 0 } });
  assert.deepEqual(twindoc.componentPropertyAck("thermostat1", "target", 20, 202, 4, "in progress"), {
    thermostat1: { __t: "c", target: { value: 20, ac: 202, av: 4, ad: "in progress" } },
  });
  throwsTwinError(() => twindoc.writablePropertyAck("p", NaN, 200, 1), "InvalidJson");
  // A status code is checked, not narrowed to 16 bits (65736 would be sent as 200).
  throwsTwinError(() => twindoc.writablePropertyAck("p", 1, 65736, 1), "InvalidArgument", "/code");
  throwsTwinError(() => twindoc.componentPropertyAck("c", "p", 1, 200.5, 1), "InvalidArgument", "/code");
  throwsTwinError(() => twindoc.writablePropertyAck("p", 1, 200, -1), "InvalidArgument", "/version");
  const twin = new Twin("devA", { now: T0 });
  twin.patch("desired", { target: 21.5, mode: "eco" }, at(1));
  twin.patch("reported", twindoc.writablePropertyAck("target", 21.5, 200, 2), at(2));
  assert.deepEqual(twin.delta(), { mode: "eco" });
});

test("the device replica: order, stale patches, gaps, catch-up and reported diffs", () => {
  const hub = new Twin("devA", { now: T0 });
  hub.patch("desired", { fan: { speed: 1, mode: "eco" } }, at(1));
  const device = DeviceTwin.fromDeviceView(hub.deviceView());
  assert.equal(device.desiredVersion, 2);
  const n3 = hub.patch("desired", { fan: { speed: 2 } }, at(2)).notification;
  const n4 = hub.patch("desired", { fan: { mode: null } }, at(3)).notification;
  const n5 = hub.patch("desired", { light: true }, at(4)).notification;
  assert.deepEqual(device.applyDesiredPatch(n3), { status: "applied", version: 3, patch: { fan: { speed: 2 } } });
  assert.deepEqual(device.applyDesiredPatch(n3), { status: "stale", version: 3 });
  assert.deepEqual(device.applyDesiredPatch(JSON.stringify(n5)), { status: "gap", version: 5, expected: 4 });
  assert.deepEqual(device.desired(), { fan: { speed: 2, mode: "eco" } });
  const resync = device.applyFullTwin(hub.deviceView());
  assert.deepEqual(resync, { status: "resynced", patch: { fan: { mode: null }, light: true, $version: 5 } });
  assert.deepEqual(device.desired(), { fan: { speed: 2 }, light: true });
  assert.deepEqual(device.applyFullTwin(hub.deviceView()), { status: "unchanged" });
  assert.equal(device.desiredVersion, 5);
  void n4;

  device.report({ fw: "1.1" });
  assert.deepEqual(device.takeReportedPatch(), { fw: "1.1" });
  device.report({ rssi: -60 });
  assert.deepEqual(device.takeReportedPatch(), { fw: "1.1", rssi: -60 }, "an unconfirmed send is sent again");
  device.confirmReported(2);
  assert.equal(device.reportedVersion, 2);
  assert.equal(device.takeReportedPatch(), null);
  device.report({ rssi: null });
  assert.deepEqual(device.takeReportedPatch(), { rssi: null });
  assert.deepEqual(device.reported(), { fw: "1.1" });
  throwsTwinError(() => device.report({ "a.b": 1 }), "InvalidKey", "/a.b");
  throwsTwinError(() => device.applyDesiredPatch({ a: 1 }), "InvalidTwin");
  throwsTwinError(() => DeviceTwin.fromDeviceView({ desired: {} }), "InvalidTwin");
});

/** A small fleet for the query tests: two devices and a module, as plain documents. */
function queryFleet() {
  const a = new Twin("devA", { now: T0 });
  a.patch("tags", { env: "prod", floor: 12 }, at(1));
  a.patch("reported", { temp: 20.5 }, at(2));
  const b = new Twin("devB", { now: T0 });
  b.patch("tags", { env: "test" }, at(1));
  b.patch("reported", { temp: 25 }, at(2));
  const m = new Twin("devA", { moduleId: "m1", now: T0 });
  m.patch("tags", { env: "prod" }, at(1));
  const docs = [a, b, m].map((twin) => twin.toJSON());
  for (const twin of [a, b, m]) twin.free();
  return docs;
}

test("query gives the same rows over values, JSON text and Twin handles, and leaves the handles usable", () => {
  const docs = queryFleet();
  const text = "SELECT deviceId, tags.env, properties.reported.temp AS t FROM devices";
  const want = [{ deviceId: "devA", env: "prod", t: 20.5 }, { deviceId: "devB", env: "test", t: 25 }];
  assert.deepEqual(twindoc.query(text, docs), want);
  assert.deepEqual(twindoc.query(text, docs.map((doc) => JSON.stringify(doc))), want);
  const handles = docs.map((doc) => Twin.fromJSON(doc));
  assert.deepEqual(twindoc.query(text, handles), want);
  // The handles are read as they are now, and stay theirs after the query.
  handles[1].patch("reported", { temp: 26 }, at(3));
  assert.deepEqual(twindoc.query(text, handles)[1], { deviceId: "devB", env: "test", t: 26 });
  assert.equal(handles[1].version, 5);
  // The three forms mix in one array, in order.
  assert.deepEqual(twindoc.query("SELECT * FROM devices.modules", [docs[0], handles[2], JSON.stringify(docs[1])]), [docs[2]]);
  assert.deepEqual(twindoc.query("SELECT * FROM devices", []), []);
  // An array made in another realm (an iframe, a vm context) is an array all the same.
  assert.deepEqual(twindoc.query(text, runInNewContext("docs.slice(1)", { docs })), want.slice(1));
  for (const handle of handles) handle.free();
});

test("Query: parsed once, matches and run, with aggregates and TOP", () => {
  const docs = queryFleet();
  const prod = new twindoc.Query("SELECT deviceId FROM devices WHERE tags.env = 'prod'");
  assert.deepEqual(docs.map((doc) => prod.matches(doc)), [true, false, false], "a module is not in FROM devices");
  const handle = Twin.fromJSON(JSON.stringify(docs[0]));
  assert.equal(prod.matches(handle), true);
  assert.equal(prod.matches(JSON.stringify(docs[1])), false);
  assert.deepEqual(prod.run(docs), [{ deviceId: "devA" }]);
  assert.deepEqual(prod.run([handle, ...docs]), [{ deviceId: "devA" }, { deviceId: "devA" }]);
  handle.free();
  const grouped = new twindoc.Query("SELECT tags.env, COUNT() AS n, AVG(properties.reported.temp) FROM devices GROUP BY tags.env");
  assert.deepEqual(grouped.run(docs), [{ env: "prod", n: 1, avg: 20.5 }, { env: "test", n: 1, avg: 25 }]);
  assert.deepEqual(new twindoc.Query("SELECT COUNT() FROM devices.modules").run([]), [{ count: 0 }]);
  assert.deepEqual(new twindoc.Query("SELECT TOP 1 deviceId FROM devices").run(docs), [{ deviceId: "devA" }]);
  const target = new twindoc.Condition("tags.env = 'prod'");
  assert.deepEqual(docs.map((doc) => target.matches(doc)), [true, false, true], "a condition alone looks at no collection");
  assert.equal(new twindoc.Condition("*").matches("{}"), true);
  prod.free();
  grouped.free();
  target.free();
});

test("query errors: InvalidQuery with its offset, InvalidTwin at the twin's index, InvalidArgument for a non-array", () => {
  const docs = queryFleet();
  for (const parse of [(text) => twindoc.query(text, docs), (text) => new twindoc.Query(text), (text) => new twindoc.Condition(text)]) {
    assert.throws(() => parse("SELECT * FROM devices WHERE tags.env = "), (error) => {
      assert.equal(error.name, "TwinError");
      assert.deepEqual([error.code, error.status, error.errorCode, error.path], ["InvalidQuery", 400, 400004, ""]);
      assert.match(error.message, /at character offset (39|0)$/);
      return true;
    });
  }
  const query = new twindoc.Query("SELECT deviceId FROM devices");
  throwsTwinError(() => query.run([docs[0], 42]), "InvalidTwin", "/1");
  throwsTwinError(() => query.run([docs[0], "[1]"]), "InvalidTwin", "/1");
  throwsTwinError(() => query.run(["{"]), "InvalidJson", "/0");
  throwsTwinError(() => query.run([{ deviceId: "d", tags: [] }]), "InvalidTwin", "/0/tags");
  throwsTwinError(() => query.run([{ deviceId: "d", tags: { bad: NaN } }]), "InvalidJson", "/0/tags/bad");
  throwsTwinError(() => query.matches(null), "InvalidTwin", "");
  throwsTwinError(() => query.matches(new Date()), "InvalidJson", "");
  for (const twins of [undefined, null, "[]", docs[0], new Set(docs)]) {
    throwsTwinError(() => query.run(twins), "InvalidArgument", "");
    throwsTwinError(() => twindoc.query("SELECT * FROM devices", twins), "InvalidArgument", "");
  }
  const freed = Twin.fromJSON(docs[0]);
  freed.free();
  throwsTwinError(() => query.run([docs[1], freed]), "InvalidArgument", "/1");
  query.free();
});

test("TwinError is a class: every thrown error is an instance, in require and import alike", async () => {
  assert.equal(typeof TwinError, "function");
  const imported = await import("twindoc");
  assert.equal(imported.TwinError, TwinError, "the CommonJS build's named exports reach import");
  assert.equal(imported.Twin, Twin);
  const thrown = [() => new Twin("d", { now: "yesterday" }), () => twindoc.merge({}, [1]), () => new twindoc.Query("SELECT"),
    () => twindoc.writablePropertyAck("p", 1, 65736, 1), () => DeviceTwin.fromDeviceView({})];
  for (const fn of thrown) {
    assert.throws(fn, (error) => error instanceof TwinError && error instanceof Error && error.name === "TwinError"
      && Object.prototype.toString.call(error) === "[object Error]" && error.stack.startsWith("TwinError: "));
  }
});

test("the web build loads with init() and behaves the same", async () => {
  const web = await import("twindoc/web");
  await web.default({ module_or_path: readFileSync(new URL("../pkg-web/twindoc_wasm_bg.wasm", import.meta.url)) });
  const twin = new web.Twin("devA", { now: T0 });
  assert.deepEqual(twin.patch("desired", { a: 1 }, at(1)).notification, { a: 1, $version: 2 });
  assert.throws(() => twin.patch("desired", { "a.b": 1 }, at(2)), (e) => e instanceof web.TwinError && e instanceof Error && e.code === "InvalidKey");
  assert.equal(typeof web.TwinError, "function");
});

test("TypeScript declarations cover every export", () => {
  const types = readFileSync(new URL("../pkg/twindoc_wasm.d.ts", import.meta.url), "utf8");
  for (const name of ["class Twin", "class DeviceTwin", "function merge", "function diff", "function jsonPatch", "function delta",
    "function validate", "function writablePropertyAck", "function componentPropertyAck", "interface WriteOutcome",
    "function query", "class Query", "class Condition", "type TwinInput", "type QueryRow"]) {
    assert.ok(types.includes(`export ${name}`), name);
  }
  assert.match(types, /patch\(section: SectionName \| "twin", body: string \| Uint8Array \| object, options\?: WriteOptions \| null\): WriteOutcome;/);
  assert.match(types, /export function query\(text: string, twins: TwinInput\[\]\): QueryRow\[\];/);
  assert.match(types, /run\(twins: TwinInput\[\]\): QueryRow\[\];/);
  assert.match(types, /matches\(twin: TwinInput\): boolean;/);
  assert.ok(!types.includes("__copyForQuery"), "the handle's hidden copy is not API");
  assert.ok(!/: any\b/.test(types), "no untyped parameters or results");
  for (const dir of ["pkg", "pkg-web"]) {
    const entry = readFileSync(new URL(`../${dir}/index.d.ts`, import.meta.url), "utf8");
    assert.match(entry, /export \* from "\.\/twindoc_wasm\.js";/);
    assert.match(entry, /export \{ TwinError \} from "\.\/twin_error\.js";/);
  }
  assert.match(readFileSync(new URL("../pkg/twin_error.d.ts", import.meta.url), "utf8"), /export declare class TwinError extends Error/);
});

test("the packed tarball holds every file package.json points to, each build with its declarations", () => {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  const [packed] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json"], {
    cwd: new URL("..", import.meta.url), encoding: "utf8", stdio: ["ignore", "pipe", "ignore"],
  }));
  const files = new Set(packed.files.map((file) => file.path));
  const leaves = (value) => (typeof value === "string" ? [value] : Object.values(value).flatMap(leaves));
  const targets = [manifest.main, manifest.types, ...leaves(manifest.exports)];
  assert.ok(targets.length > 8);
  for (const target of targets) assert.ok(files.has(target.replace(/^\.\//, "")), `${target} is packed`);
  for (const dir of ["pkg", "pkg-web"]) {
    for (const file of ["package.json", "index.js", "index.d.ts", "twin_error.js", "twin_error.d.ts", "boundary.js", "twindoc_wasm.js", "twindoc_wasm.d.ts", "twindoc_wasm_bg.wasm"]) {
      assert.ok(files.has(`${dir}/${file}`), `${dir}/${file} is packed`);
    }
  }
});

test("the README's JavaScript examples are the ones types.test.mjs type-checks, verbatim", () => {
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## JavaScript (WebAssembly)"), readme.indexOf("\n## ", readme.indexOf("## JavaScript (WebAssembly)") + 1));
  const blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]);
  assert.ok(blocks.length > 0, "the section has JavaScript examples");
  const checked = readFileSync(new URL("readme-examples.cjs", import.meta.url), "utf8");
  for (const block of blocks) assert.ok(checked.includes(block), `tests/readme-examples.cjs holds, verbatim:\n${block}`);
});

test("every write's outcome has its change event; the digital twin event when asked for", () => {
  const twin = new Twin("devA", { moduleId: "m1", now: T0 });
  const time = "2026-01-01T00:00:01.0000000Z";
  const { event, digitalTwinEvent } = twin.patch("reported", { temp: 20 }, { ...at(1), hubName: "hub1", digitalTwinEvent: true });
  assert.deepEqual(event.properties, {
    deviceId: "devA", moduleId: "m1", hubName: "hub1", operationTimestamp: time,
    "iothub-message-schema": "twinChangeNotification", opType: "updateTwin",
  });
  assert.deepEqual(event.body, {
    version: 3, properties: { reported: { temp: 20, $metadata: { $lastUpdated: time, temp: { $lastUpdated: time } }, $version: 2 } },
  });
  assert.equal(digitalTwinEvent.properties["iothub-message-schema"], "digitalTwinChangeNotification");
  assert.deepEqual(digitalTwinEvent.body, [
    { op: "add", path: "/$metadata/temp", value: { lastUpdateTime: time } },
    { op: "add", path: "/temp", value: 20 },
  ]);
  // A replace's event body is the twin after the write.
  const replaced = twin.replace("tags", { site: "a" }, at(2)).event;
  assert.equal(replaced.properties.opType, "replaceTwin");
  assert.deepEqual(replaced.body.tags, { site: "a" });
  assert.equal(replaced.body.version, twin.version);
  throwsTwinError(() => twin.patch("tags", {}, { ...at(3), hubName: 5 }), "InvalidArgument", "/hubName");
  throwsTwinError(() => twin.patch("tags", {}, { ...at(3), digitalTwinEvent: "yes" }), "InvalidArgument", "/digitalTwinEvent");
});

test("digitalTwin() is the Plug and Play view; patchDigitalTwin writes operations on it as one desired patch", () => {
  const twin = new Twin("devA", { now: T0 });
  twin.patch("reported", { thermostat1: { __t: "c", temp: 20 } }, at(1));
  const time = "2026-01-01T00:00:01.0000000Z";
  assert.equal(
    JSON.stringify(twin.digitalTwin()),
    JSON.stringify({ $dtId: "devA", thermostat1: { temp: 20, $metadata: { temp: { lastUpdateTime: time } } }, $metadata: {} }),
  );
  const outcome = twin.patchDigitalTwin([{ op: "add", path: "/thermostat1/target", value: 21 }], at(2));
  assert.deepEqual(outcome.notification, { thermostat1: { __t: "c", target: 21 }, $version: 2 });
  assert.deepEqual(outcome.digitalTwinEvent.body, [
    { op: "add", path: "/thermostat1/$metadata/target", value: { desiredValue: 21, desiredVersion: 2 } },
  ]);
  // JSON text works too; a refused operation throws and writes nothing.
  const again = twin.patchDigitalTwin('[{"op": "remove", "path": "/thermostat1/target"}]', { ...at(3), ifMatch: twin.etag });
  assert.deepEqual(again.notification, { thermostat1: { __t: "c", target: null }, $version: 3 });
  const before = twin.toString();
  throwsTwinError(() => twin.patchDigitalTwin([{ op: "test", path: "/thermostat1/temp", value: 20 }], at(4)), "InvalidArgument", "/0");
  throwsTwinError(() => twin.patchDigitalTwin([{ op: "add", path: "/x", value: 1 }], { ...at(4), ifMatch: "nope" }), "PreconditionFailed", "");
  assert.equal(twin.toString(), before);
});
