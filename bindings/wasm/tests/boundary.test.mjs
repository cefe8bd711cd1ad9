// The boundary's routes in (issue #13): a document given as a JavaScript value, as JSON text in a
// string, or as UTF-8 bytes (a Uint8Array or a Buffer) means the same and fails the same (code,
// status, errorCode, path); a value js/boundary.js cannot vouch for is converted by the engine's
// walker, whose errors name the path. And the outcome of a write, built when read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const twindoc = createRequire(import.meta.url)("twindoc");
const { Twin, DeviceTwin, TwinError } = twindoc;
const T0 = "2026-01-01T00:00:00Z";
const at = (second) => ({ now: `2026-01-01T00:00:${String(second).padStart(2, "0")}Z` });
const encoder = new TextEncoder();

/** A document through every route: the value, its JSON text, its UTF-8 bytes, a Buffer of them. */
const routes = (value) => {
  const text = JSON.stringify(value);
  return { value, text, bytes: encoder.encode(text), buffer: Buffer.from(text) };
};

/** What `fn` answers, or the fields of the TwinError it throws. */
function answer(fn) {
  try {
    return { ok: fn() };
  } catch (error) {
    assert.ok(error instanceof TwinError, `a TwinError: ${error}`);
    const { code, status, errorCode, path } = error;
    return { error: { code, status, errorCode, path } };
  }
}

/** Asserts that `fn` answers the same for every route of `value`, and returns that answer. */
function same(value, fn, label = JSON.stringify(value)) {
  const answers = Object.entries(routes(value)).map(([route, input]) => [route, answer(() => fn(input))]);
  for (const [route, got] of answers.slice(1)) assert.deepEqual(got, answers[0][1], `${label}: ${route} against value`);
  return answers[0][1];
}

const base = () => {
  const twin = new Twin("devA", { now: T0 });
  twin.patch("desired", { keep: 1, fan: { speed: 2, mode: "eco" }, list: [1, 2] }, at(1));
  twin.patch("tags", { site: "a" }, at(2));
  return twin;
};

test("writes mean the same from a value, text, bytes and a Buffer", () => {
  const bodies = [
    { fan: { speed: 3, mode: null }, new: { deep: [1, 2.5, "x", true, [false]] } },
    { keep: null },
    { "a/b~c": { "é\u2028\"\\": "\ud83d\ude00", n: -0, big: 2 ** 52 - 1, e: 1e21, tiny: 5e-324 } },
    {},
    { list: [[], {}, [[1]]] },
  ];
  for (const section of ["desired", "reported", "tags"]) {
    for (const body of bodies) {
      for (const write of ["patch", "replace"]) {
        const result = same(body, (input) => {
          const twin = base();
          const outcome = twin[write](section, input, at(3));
          return { outcome: { ...outcome }, twin: twin.toString() };
        }, `${write} ${section} ${JSON.stringify(body)}`);
        assert.ok(result.ok, JSON.stringify(result));
      }
    }
  }
  const twinBody = { deviceId: "x", tags: { t: 1 }, properties: { desired: { on: true, fan: null } } };
  same(twinBody, (input) => {
    const twin = base();
    return { outcome: { ...twin.patch("twin", input, at(4)) }, twin: twin.toString() };
  });
});

test("documents mean the same from every route: fromJSON, merge, diff, jsonPatch, delta, validate, DeviceTwin", () => {
  const doc = JSON.parse(base().toString());
  same(doc, (input) => Twin.fromJSON(input).toString());
  same(doc, (input) => twindoc.validate(input));
  const other = { fan: { speed: 9 }, keep: 1, list: [2] };
  same(other, (input) => [twindoc.merge(doc.properties.desired, input), twindoc.merge(input, doc.properties.desired)]);
  same(other, (input) => [twindoc.diff(doc.properties.desired, input), twindoc.jsonPatch(input, doc.properties.desired)]);
  same(other, (input) => [twindoc.delta(input, { fan: { speed: 1 } }), twindoc.delta({ fan: 1 }, input)]);
  const view = base().deviceView();
  same(view, (input) => {
    const replica = DeviceTwin.fromDeviceView(input);
    return [replica.desired(), replica.reported(), replica.desiredVersion];
  });
  same({ fan: { speed: 5 }, $version: 3 }, (input) => DeviceTwin.fromDeviceView(view).applyDesiredPatch(input));
  same(view, (input) => DeviceTwin.fromDeviceView({ ...view, desired: { $version: 1 } }).applyFullTwin(input));
  same({ wifi: { rssi: -40 } }, (input) => {
    const replica = DeviceTwin.fromDeviceView(view);
    replica.report(input);
    return replica.takeReportedPatch();
  });
});

test("bad documents fail the same from every route: code, status, errorCode and path", () => {
  const bad = [
    [{ "a.b": 1 }, "InvalidKey", "/a.b"],
    [{ a: { b: [1, null] } }, "NullInArray", "/a/b/1"],
    [{ "x/y": { n: 2 ** 52 } }, "IntegerOutOfRange", "/x~1y/n"],
    [{ s: "x".repeat(5000) }, "ValueTooLong", "/s"],
    [[1], "NotAnObject", ""],
    [5, "NotAnObject", ""],
  ];
  for (const [body, code, path] of bad) {
    const result = same(body, (input) => base().patch("desired", input, at(3)));
    assert.deepEqual([result.error?.code, result.error?.path], [code, path], JSON.stringify(body));
  }
  const notATwin = same([1, 2], (input) => Twin.fromJSON(input));
  assert.equal(notATwin.error.code, "InvalidTwin");
  // Text alone: its errors, the same from a string and its bytes.
  for (const [text, code, path] of [['{"a": 1', "InvalidJson", ""], ['{"a": [100000000000000000000]}', "IntegerOutOfRange", "/a/0"],
    ['{"a": 1, "a": 2}', undefined, undefined], ["", "InvalidJson", ""]]) {
    const fromText = answer(() => ({ ...base().patch("desired", text, at(3)) }));
    const fromBytes = answer(() => ({ ...base().patch("desired", encoder.encode(text), at(3)) }));
    assert.deepEqual(fromBytes, fromText, text);
    assert.deepEqual([fromText.error?.code, fromText.error?.path], [code, path], text);
  }
  // Bytes that are not UTF-8 are not text.
  for (const bytes of [new Uint8Array([0x7b, 0xff, 0x7d]), Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])]) {
    const result = answer(() => base().patch("desired", bytes, at(3)));
    assert.deepEqual([result.error.code, result.error.path], ["InvalidJson", ""]);
    assert.equal(answer(() => Twin.fromJSON(bytes)).error.code, "InvalidJson");
  }
});

test("every value JSON text cannot carry exactly is refused at its path, whatever surrounds it", () => {
  class Point {
    constructor() {
      this.x = 1;
    }
  }
  const kinds = [
    [NaN, "InvalidJson"], [Infinity, "InvalidJson"], [-Infinity, "InvalidJson"], [10n, "InvalidJson"],
    [() => 1, "InvalidJson"], [Symbol("s"), "InvalidJson"], [new Date(0), "InvalidJson"], [new Map(), "InvalidJson"],
    [new Point(), "InvalidJson"], [new Number(1), "InvalidJson"], [new String("s"), "InvalidJson"], [[new Set()], "InvalidJson", "/0"],
    [new Uint8Array([1]), "InvalidJson"], [2 ** 53, "IntegerOutOfRange"], [-(2 ** 53), "IntegerOutOfRange"],
    [1e20, "IntegerOutOfRange"], [{ toJSON: () => 1 }, "InvalidJson", "/toJSON"],
  ];
  for (const [value, code, below = ""] of kinds) {
    for (const limits of ["azure", "none"]) {
      const twin = base();
      const before = twin.toString();
      for (const [body, path] of [
        [{ k: value }, "/k"],
        [{ ok: 1, "a/b": { "c~d": [0, { k: value }] } }, "/a~1b/c~0d/1/k"],
        [{ k: [1, 2, value] }, "/k/2"],
      ]) {
        assert.throws(() => twin.patch("desired", body, { ...at(3), limits }), (error) => {
          assert.ok(error instanceof TwinError);
          assert.deepEqual([error.code, error.path], [code, path + below], `${String(value)} in ${path}, limits ${limits}`);
          return true;
        });
      }
      assert.equal(twin.toString(), before, "a refused write changes nothing");
    }
  }
  // Integral numbers below 2^53 are integers, refused by the ±2^52 range only when it applies.
  const twin = base();
  twin.patch("desired", { n: 2 ** 53 - 1, m: -(2 ** 53 - 1) }, { ...at(3), limits: "none" });
  assert.equal(twin.deviceView().desired.n, 2 ** 53 - 1);
  // Lone surrogates, in a value or a key, at any depth: InvalidJson without a path, as the text's.
  for (const body of [{ s: "a\ud800b" }, { ["k\udc00"]: 1 }, { deep: [{ s: "\udbff" }] }]) {
    const result = same(body, (input) => base().patch("desired", input, at(3)), "lone surrogate");
    assert.deepEqual([result.error.code, result.error.path], ["InvalidJson", ""]);
  }
});

test("undefined members are absent, undefined array elements null, in values alone", () => {
  const twin = base();
  const outcome = twin.patch("desired", { keep: undefined, fan: { speed: undefined, mode: null }, added: { u: undefined } }, at(3));
  assert.deepEqual(outcome.notification, { fan: { mode: null }, added: {}, $version: 3 });
  assert.deepEqual(twin.deviceView().desired, { keep: 1, fan: { speed: 2 }, list: [1, 2], added: {}, $version: 3 });
  const result = answer(() => twin.patch("desired", { list: [1, undefined] }, at(4)));
  assert.deepEqual([result.error.code, result.error.path], ["NullInArray", "/list/1"]);
  assert.deepEqual(twindoc.merge({ a: 1, b: 2 }, { a: undefined, b: null }), { a: 1 });
});

test("a value is read as the engine's walker reads it", () => {
  // Each member read once; an inherited toJSON never called (JSON.stringify would call it).
  let reads = 0;
  const body = {
    get counted() {
      reads += 1;
      return { n: reads };
    },
  };
  const twin = base();
  assert.deepEqual(twin.patch("desired", body, at(3)).notification, { counted: { n: 1 }, $version: 3 });
  assert.equal(reads, 1);
  Object.defineProperty(Object.prototype, "toJSON", { value: () => "polluted", configurable: true, writable: true });
  try {
    assert.deepEqual(twindoc.merge({ a: { b: 1 } }, { a: { c: 2 } }), { a: { b: 1, c: 2 } });
  } finally {
    delete Object.prototype.toJSON;
  }
  // Non-enumerable and symbol-keyed members are not members; objects without a prototype are plain.
  const bare = Object.create(null);
  bare.x = 1;
  Object.defineProperty(bare, "hidden", { value: NaN, enumerable: false });
  bare[Symbol("s")] = NaN;
  assert.deepEqual(twindoc.merge({}, { bare }), { bare: { x: 1 } });
  // A member whose getter throws: the walker's error, naming it.
  const throwing = { get bad() { throw new Error("no"); } };
  assert.equal(answer(() => twindoc.merge({}, throwing)).error.code, "InvalidJson");
  // Cycles and nesting past the walker's bound: InvalidJson, without a crash.
  const cycle = { a: [] };
  cycle.a.push(cycle);
  assert.equal(answer(() => twindoc.merge({}, cycle)).error.code, "InvalidJson");
});

test("a write's outcome is built when read, a plain object with the engine's members", () => {
  const twin = base();
  const first = twin.patch("desired", { fan: { speed: 4 } }, at(3));
  const second = twin.patch("tags", { site: "b" }, at(4));
  // An outcome keeps its own write's answer, read after later writes.
  const tagsEvent = {
    properties: { deviceId: "devA", operationTimestamp: "2026-01-01T00:00:04.0000000Z", "iothub-message-schema": "twinChangeNotification", opType: "updateTwin" },
    body: { version: 6, tags: { site: "b" } },
  };
  assert.deepEqual(second, { version: 6, sectionVersion: null, etag: "AAAAAAAAAAU=", notification: null, event: tagsEvent, digitalTwinEvent: null });
  const { event, digitalTwinEvent, ...written } = first;
  assert.deepEqual(written, { version: 5, sectionVersion: 3, etag: "AAAAAAAAAAQ=", notification: { fan: { speed: 4 }, $version: 3 } });
  assert.deepEqual([event.body.version, event.body.properties.desired.fan, digitalTwinEvent], [5, { speed: 4 }, null]);
  assert.equal(Object.getPrototypeOf(first), Object.prototype);
  assert.deepEqual(Object.keys(first), ["version", "sectionVersion", "etag", "notification", "event", "digitalTwinEvent"]);
  assert.equal(first.notification, first.notification, "built once");
  const third = twin.patch("desired", { keep: 2 }, at(5));
  assert.deepEqual(JSON.parse(JSON.stringify(third)), { ...third });
  assert.deepEqual({ ...third }.notification, { keep: 2, $version: 4 });
  third.notification = "mine";
  assert.equal(third.notification, "mine", "members are writable, as a plain object's");
});

test("the lean route and the engine's walker answer alike, value for value", () => {
  // The glue's own merge (not wrapped by js/boundary.js) converts its arguments with the walker.
  const glue = createRequire(import.meta.url)("../pkg/twindoc_wasm.js");
  assert.notEqual(glue.merge, twindoc.merge);
  let seed = 13;
  const next = (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const leaves = [0, -0, 1, -1, 1.5, 2 ** 52, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 53, 1e20, 1e21, -1e21, 1e300, 5e-324, 0.1,
    NaN, Infinity, 10n, "", "plain", "q\"uo\\te", "\u0000\u001f\u007f", "é€😀", "\ud800", "\ufffd", "\u2028", true, false, null,
    undefined, () => 1, Symbol("s"), new Date(0), [], {}, Object.create(null)];
  const keys = ["a", "", "a/b", "m~n", "é", "\"", "1", "__proto__", "\udc00", "$x"];
  const build = (depth) => {
    const kind = next(depth > 3 ? 1 : 3);
    if (kind === 0) return leaves[next(leaves.length)];
    if (kind === 1) return Array.from({ length: next(4) }, () => build(depth + 1));
    const object = {};
    for (let i = next(4); i > 0; i--) Object.defineProperty(object, keys[next(keys.length)], { value: build(depth + 1), enumerable: true, configurable: true, writable: true });
    return object;
  };
  const fields = (fn) => {
    try {
      return { ok: fn() };
    } catch (error) {
      return { error: [error.code, error.path, error.status, error.errorCode] };
    }
  };
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const value = { root: build(0) };
    const walker = fields(() => glue.merge({ keep: 1 }, value));
    const lean = fields(() => twindoc.merge({ keep: 1 }, value));
    assert.deepEqual(lean, walker, `case ${i}`);
    if (walker.error) refused += 1;
  }
  assert.ok(refused > 300 && refused < 2700, `both kinds of value drawn (${refused} refused)`);
});

test("an outcome's etag is exact whatever it holds", () => {
  for (const etag of ["", "a b", "\"quoted\" 12", "é😀 \n null 3"]) {
    const twin = Twin.fromJSON({ deviceId: "d", etag, version: 2, properties: { desired: { $version: 1 }, reported: { $version: 1 } } });
    const outcome = twin.patch("tags", { a: 1 }, at(1));
    assert.equal(outcome.etag, twin.etag, JSON.stringify(etag));
    assert.deepEqual([outcome.version, outcome.sectionVersion, outcome.notification], [twin.version, null, null]);
    const desired = twin.patch("desired", { b: 1 }, at(2));
    const { event, digitalTwinEvent, ...written } = desired;
    assert.deepEqual(written, { version: twin.version, sectionVersion: 2, etag: twin.etag, notification: { b: 1, $version: 2 } });
    assert.deepEqual([event.body.version, event.body.properties.desired.b, digitalTwinEvent], [twin.version, 1, null]);
  }
});

test("a section patch's change event, built when read from its text, is the one the bytes route prints at once", () => {
  const lazy = base();
  const eager = base();
  const bodies = [
    ["desired", { fan: { speed: 3, mode: null }, added: { deep: [1, "x"] } }],
    ["reported", { fan: { speed: { value: 3, ac: 200, av: 3 } }, thermostat: { __t: "c", t: 21.5 } }],
    ["tags", { site: "b", floor: { n: 2 } }],
    ["desired", {}],
    // Long text (4 KB and more) crosses as bytes, but the entry point keeps it for the event.
    ["desired", { long: "é".repeat(1500), more: "x".repeat(3000), n: { m: 1 } }],
    ["reported", { long: "x".repeat(4000), other: "y".repeat(1000) }],
  ];
  const outcomes = [];
  for (const [i, [section, body]] of bodies.entries()) {
    const options = { ...at(10 + i), hubName: "hub1" };
    const text = JSON.stringify(body);
    const later = lazy.patch(section, text, options);
    const atOnce = eager.patch(section, encoder.encode(text), options);
    outcomes.push([later, atOnce, section]);
    // Changing the options afterwards does not change the event: its time was read at the write.
    options.now = "2030-01-01T00:00:00Z";
    options.hubName = "other";
  }
  // Read after every later write: each event is its own write's.
  for (const [later, atOnce, section] of outcomes) {
    assert.deepEqual(later.event, atOnce.event, section);
    assert.deepEqual(later.notification, atOnce.notification, section);
    assert.equal(later.event.properties.hubName, "hub1");
    assert.equal(later.event.body.version, later.version);
  }
  // A module twin's events name the module; a twin-level patch and a replace print theirs at once.
  const module = new Twin("devA", { now: T0, moduleId: "m1" });
  const modulePatch = module.patch("desired", "{\"a\": 1}", at(20));
  assert.deepEqual([modulePatch.event.properties.deviceId, modulePatch.event.properties.moduleId], ["devA", "m1"]);
  const twinLevel = lazy.patch("twin", "{\"tags\": {\"x\": 1}}", at(21));
  assert.deepEqual(twinLevel.event.body, { version: twinLevel.version, tags: { x: 1 } });
  const replaced = lazy.replace("tags", "{\"y\": 2}", at(22));
  assert.equal(replaced.event.properties.opType, "replaceTwin");
  // Without `now` the write reads the clock: the event built later has the write's time, as its
  // metadata does; so does a Date changed after the write.
  const clocked = lazy.patch("desired", "{\"c\": 1}");
  const when = new Date(Date.UTC(2026, 0, 1, 0, 0, 30));
  const dated = lazy.patch("desired", "{\"d\": 1}", { now: when });
  when.setUTCFullYear(2031);
  const stamped = (name) => lazy.lastUpdated("desired", `/${name}`).time;
  assert.deepEqual(
    [clocked.event.properties.operationTimestamp, dated.event.properties.operationTimestamp],
    [stamped("c"), "2026-01-01T00:00:30.0000000Z"],
  );
  // An event read after its twin is freed (as the playground does) is still built.
  const freed = new Twin("devB", { now: T0, moduleId: "m2" });
  const unread = freed.patch("reported", { a: 1 }, { ...at(23), hubName: "hub2" });
  const unreadDesired = freed.patch("desired", { b: [1, { c: 2 }], d: null, e: { f: null } }, at(24));
  freed.free();
  assert.deepEqual(unreadDesired.notification, { b: [1, { c: 2 }], d: null, e: { f: null }, $version: 2 });
  assert.deepEqual(unread.event.properties, {
    deviceId: "devB", moduleId: "m2", hubName: "hub2", operationTimestamp: "2026-01-01T00:00:23.0000000Z",
    "iothub-message-schema": "twinChangeNotification", opType: "updateTwin",
  });
});

/** A second instance of the glue, without the entry point's boundary: the engine reading its arguments itself. */
function bareGlue() {
  const require = createRequire(import.meta.url);
  const path = require.resolve("twindoc").replace(/index\.js$/, "twindoc_wasm.js");
  const installed = require.cache[path];
  delete require.cache[path];
  try {
    return require(path);
  } finally {
    require.cache[path] = installed;
  }
}

/** The bare glue's answer: version, section version, etag's length, etag, then the outcome's JSON. */
function decode(answer) {
  const [version, sectionVersion, units] = answer.split(" ", 3);
  const etagStart = version.length + sectionVersion.length + units.length + 3;
  const etagEnd = etagStart + Number(units);
  const { notification, event, digitalTwinEvent } = JSON.parse(answer.slice(etagEnd));
  return {
    version: Number(version), sectionVersion: sectionVersion === "null" ? null : Number(sectionVersion),
    etag: answer.slice(etagStart, etagEnd), notification, event, digitalTwinEvent,
  };
}

test("a write's options read by the entry point mean what the engine's own reading of them means", () => {
  const bare = bareGlue();
  assert.notEqual(bare.Twin, Twin, "a second instance");
  const doc = base().toString();
  const throwing = (name) => Object.defineProperty({ now: T0 }, name, { get() { throw new Error("no"); }, enumerable: true });
  const inherited = Object.create({ now: "2026-01-01T00:00:07Z", hubName: "h" });
  const options = [
    undefined, null, {}, { now: T0 }, { now: Date.parse("2026-01-01T00:00:03Z") }, { now: "1767225603000" },
    { now: new Date(Date.parse("2026-01-01T00:00:04Z")) }, { now: NaN }, { now: Infinity }, { now: 1.5 }, { now: {} },
    { now: true }, { now: "garbage" }, { now: null }, { now: new Date(NaN) }, { now: 10n }, 5, "x", true, () => {},
    { now: T0, ifMatch: "*" }, { now: T0, ifMatch: "\"AAAAAAAAAAM=\"" }, { now: T0, ifMatch: "W/\"AAAAAAAAAAI=\"" },
    { now: T0, ifMatch: 5 }, { now: T0, ifMatch: null }, { now: T0, ifVersion: 2 }, { now: T0, ifVersion: 1 },
    { now: T0, ifVersion: 1.5 }, { now: T0, ifVersion: -1 }, { now: T0, ifVersion: "2" }, { now: T0, ifVersion: 2 ** 53 },
    { now: T0, hubName: "h" }, { now: T0, hubName: 3 }, { now: T0, digitalTwinEvent: true }, { now: T0, digitalTwinEvent: "yes" },
    { now: T0, limits: "none" }, { now: T0, limits: "bogus" }, { now: T0, limits: { maxDepth: 2 } },
    { now: T0, limits: { maxDepth: -1 } }, { now: T0, limits: null }, { now: T0, limits: { desiredBytes: 10 } },
    throwing("now"), throwing("limits"), throwing("hubName"), throwing("digitalTwinEvent"), inherited,
    new Proxy({ now: T0 }, {}),
  ];
  const bodies = ['{"fan": {"speed": 7}, "deep": {"a": {"b": {}}}}', '{"a.b": 1}', "{", { fan: null }];
  const read = (twin, write) => {
    try {
      const outcome = write();
      return { ok: [outcome, twin.version, twin.etag, twin.toString()] };
    } catch (error) {
      return { error: [error.code, error.path, error.message] };
    }
  };
  for (const [index, option] of options.entries()) {
    for (const body of bodies) {
      for (const [section, write] of [["desired", "patch"], ["reported", "patch"], ["twin", "patch"], ["tags", "replace"], ["nope", "patch"]]) {
        const label = `options #${index} ${write} ${section} ${JSON.stringify(body)}`;
        const shaped = section === "twin" && typeof body === "string" && body.startsWith('{"fan"') ? `{"tags": ${body}}` : body;
        const engine = bare.Twin.fromJSON(doc);
        const entry = Twin.fromJSON(doc);
        // The bare glue takes text or a value as the engine's walker reads it.
        const bareBody = typeof shaped === "string" ? shaped : JSON.stringify(shaped);
        const want = read(engine, () => decode(engine[write](section, bareBody, option)));
        const got = read(entry, () => ({ ...entry[write](section, shaped, option) }));
        const clocked = (() => {
          try {
            return option?.now == null;
          } catch {
            return false;
          }
        })();
        if (clocked) {
          // Both read the clock: the same answer but for the times.
          const untimed = (result) => result.error ?? [{ ...result.ok[0], event: result.ok[0].event.body.version }, ...result.ok.slice(1, 3)];
          assert.deepEqual(untimed(got), untimed(want), label);
        } else {
          assert.deepEqual(got, want, label);
        }
        engine.free();
        entry.free();
      }
    }
  }
});

test("a body string that is not well-formed Unicode is refused whatever its length", () => {
  for (const body of ['{"a": "\ud800"}', `{"a": "${"x".repeat(5000)}\udc00"}`]) {
    for (const section of ["desired", "tags", "twin"]) {
      const twin = base();
      const before = twin.toString();
      const got = answer(() => twin.patch(section, body, at(5)));
      assert.equal(got.error?.code, "InvalidJson", `${section} ${body.length}`);
      assert.equal(twin.toString(), before);
    }
  }
});

test("a handle write through the entry point answers as the engine's own glue does, on drawn bodies and options", () => {
  const bare = bareGlue();
  // mulberry32: its low bits vary as well as its high ones.
  let seed = 29;
  const next = (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  // Mostly what a write takes, sometimes what one of the rules (S3, S10) refuses.
  const leaves = [0, -0, 1, -7, 2.5, 2 ** 52 - 1, "", "text", "q\"\\", "é😀", "\u2028", "y".repeat(2100), true, false, null, undefined, [], {}];
  const badLeaves = [2 ** 52, 2 ** 53, 1e21, "\ud800", "x".repeat(4097), NaN, Infinity, 10n, new Date(0), [null]];
  const keys = ["a", "b", "", "é", "__t", "value", "ac", "n1"];
  const badKeys = ["a.b", "$v", "c d", "long".repeat(300)];
  const pick = (good, bad) => (next(16) === 0 ? bad[next(bad.length)] : good[next(good.length)]);
  const build = (depth) => {
    const kind = next(depth > 4 ? 1 : 3);
    if (kind === 0) return pick(leaves, badLeaves);
    if (kind === 1) return Array.from({ length: next(3) }, () => build(depth + 1));
    const object = {};
    for (let i = next(4); i > 0; i--) object[pick(keys, badKeys)] = build(depth + 1);
    return object;
  };
  const options = [
    () => ({ now: `2026-01-01T00:01:${String(next(60)).padStart(2, "0")}Z` }),
    () => ({ now: Date.parse("2026-01-01T00:02:00Z") + next(1000) }),
    () => ({ now: new Date(Date.parse("2026-01-01T00:03:00Z") + next(1000)) }),
    () => ({ now: T0, hubName: "hub", digitalTwinEvent: true }),
    () => ({ now: T0, limits: "none" }),
    () => ({ now: T0, ifMatch: ["*", "\"AAAAAAAAAAM=\"", "W/\"AAAAAAAAAAM=\""][next(3)] }),
  ];
  const badOptions = [
    () => ({ now: T0, limits: { maxDepth: 2, desiredBytes: 3000 } }),
    () => ({ now: T0, ifMatch: ["nope", 3][next(2)] }),
    () => ({ now: T0, ifVersion: [1, 2, 3, 1.5, "2"][next(5)] }),
    () => ({ now: [NaN, "soon", {}, null][next(4)] }),
    () => 7,
  ];
  const read = (twin, write) => {
    try {
      const outcome = write();
      return { ok: [outcome, twin.toString()] };
    } catch (error) {
      return { error: [error.code, error.path, error.message] };
    }
  };
  let refused = 0;
  for (let i = 0; i < 800; i++) {
    const section = ["desired", "reported", "tags", "twin"][next(4)];
    const write = next(4) === 0 ? "replace" : "patch";
    // A body is an object but now and then (NotAnObject).
    let drawn = build(0);
    while (next(12) !== 0 && (typeof drawn !== "object" || drawn === null || Array.isArray(drawn))) drawn = build(0);
    const body = section !== "twin" ? drawn : next(2) ? { tags: drawn } : { properties: { desired: drawn } };
    const option = (next(6) === 0 ? badOptions[next(badOptions.length)] : options[next(options.length)])();
    // As a value or as its text (when it has one), to both.
    let text;
    try {
      text = JSON.stringify(body);
    } catch {
      text = undefined;
    }
    const given = text !== undefined && next(3) === 0 ? text : body;
    const engine = bare.Twin.fromJSON(base().toString());
    const entry = Twin.fromJSON(base().toString());
    const want = read(engine, () => decode(engine[write](section, given, option)));
    const got = read(entry, () => ({ ...entry[write](section, given, option) }));
    const clocked = option?.now === null;
    if (clocked) {
      assert.deepEqual(got.error, want.error, `case ${i}`);
    } else {
      assert.deepEqual(got, want, `case ${i}: ${write} ${section} ${text?.slice(0, 200)} ${JSON.stringify(option)}`);
    }
    if (want.error) refused += 1;
    engine.free();
    entry.free();
  }
  assert.ok(refused > 150 && refused < 650, `both kinds of write drawn (${refused} refused)`);
});

test("an integral number at or past 2^53 in a write's body fails as its JSON text does, in the rules' order", () => {
  // JSON.stringify writes these as integer literals: the value and its text must answer alike,
  // an earlier violation included (S10, S3), beyond 64 bits too.
  const numbers = [2 ** 52, 2 ** 53, 2 ** 60, 18446744073709549568, -(2 ** 63) + 1024, -(2 ** 63), -(2 ** 53), 2 ** 64, -(2 ** 63) - 4096, 1e20, -9e20];
  for (const n of numbers) {
    const bodies = [{ "a.b": 1, c: n }, { c: n }, { a: [null], c: n }, [n], { a: { "b c": n } }, { a: "x".repeat(5000), c: n }];
    for (const body of bodies) {
      for (const section of ["tags", "desired", "reported", "twin"]) {
        const shaped = section === "twin" && !Array.isArray(body) ? { tags: body } : body;
        const result = same(shaped, (input) => {
          const twin = base();
          const before = twin.toString();
          try {
            return twin.patch(section, input, at(3)).version;
          } finally {
            if (twin.version === 4) assert.equal(twin.toString(), before, "unchanged when refused");
          }
        }, `${section} ${JSON.stringify(shaped).slice(0, 80)}`);
        if (Math.abs(n) > 2 ** 52 || !(typeof body === "object" && !Array.isArray(body))) assert.ok(result.error, `${n} refused`);
      }
      const report = same(body, (input) => DeviceTwin.fromDeviceView({ desired: { $version: 1 }, reported: { $version: 1 } }).report(input));
      assert.ok(report.error || Math.abs(n) <= 2 ** 52);
    }
  }
  // With the range off the value is still refused (S10: no longer exact), where its text is not.
  assert.equal(answer(() => base().patch("tags", { c: 2 ** 53 }, { ...at(3), limits: "none" })).error.code, "IntegerOutOfRange");
  assert.ok(answer(() => base().patch("tags", "{\"c\": 9007199254740992}", { ...at(3), limits: "none" })).ok);
});
