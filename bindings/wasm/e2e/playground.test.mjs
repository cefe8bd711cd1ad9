// End-to-end test of the playground (www/) in a real browser: the Chromium or Chrome that
// CHROMIUM_PATH names (never a downloaded one; scripts/e2e finds one and sets it), driven by
// playwright-core, loading the page from a static server this test starts and stops itself.
// Needs `npm run build` first (the page imports pkg-web/).
// Set UPDATE_SCREENSHOT=1 to refresh www/screenshot.png, the README's picture, from the run.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, sep } from "node:path";
import { after, before, test } from "node:test";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(dirname(fileURLToPath(import.meta.url))); // bindings/wasm
const root = join(here, "..", "..");
const engine = createRequire(import.meta.url)("../pkg/twindoc_wasm.js"); // the Node build, to compare
const executablePath = process.env.CHROMIUM_PATH;
// Without the background-networking flags Chromium dials out at start, and a closed network
// refuses it; none of them changes how the page runs.
const args = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm", // init() streams the module only with this type
  ".png": "image/png",
};

let server, origin, profile, context, page;
const requests = [];
const problems = []; // uncaught exceptions and console errors in the page

/** A static server for bindings/wasm/ on a free port of 127.0.0.1. */
function serve(dir) {
  const server = createServer(async (request, response) => {
    const url = new URL(request.url, "http://localhost");
    let path = normalize(join(dir, decodeURIComponent(url.pathname)));
    if (path !== dir && !path.startsWith(dir + sep)) return response.writeHead(403).end();
    if (url.pathname.endsWith("/")) path = join(path, "index.html");
    try {
      const body = await readFile(path);
      response.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

before(async () => {
  assert.ok(existsSync(join(here, "pkg-web", "twindoc_wasm_bg.wasm")), "build the package first: npm run build");
  assert.ok(executablePath, "CHROMIUM_PATH is not set: run scripts/e2e, which finds a browser, or set it to one");
  assert.ok(existsSync(executablePath), `CHROMIUM_PATH=${executablePath} does not exist`);
  server = await serve(here);
  origin = `http://127.0.0.1:${server.address().port}`;
  profile = await mkdtemp(join(tmpdir(), "twindoc-e2e-"));
  // A persistent context is how playwright takes a user data dir: a fresh one per run.
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    args,
    headless: true,
    viewport: { width: 1440, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("request", (request) => requests.push(request));
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => message.type() === "error" && problems.push(message.text()));
});

after(async () => {
  await context?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (profile) await rm(profile, { recursive: true, force: true });
});

const field = (name) => page.textContent(`#outcome dd[data-field="${name}"]`);
const errorField = (name) => page.textContent(`#error [data-error="${name}"]`);
const marks = (selector) => page.$$eval(selector, (all) => all.map((m) => [m.dataset.path, m.textContent]));
const twinPane = () => page.inputValue("#twin");
let sampleText;

const desiredPatch = `{
  "telemetry": {
    "batch": { "size": 100 }
  },
  "fanMode": "eco"
}`;

async function patch(section, body) {
  await page.selectOption("#section", section);
  await page.fill("#body", body);
  await page.click("#patch");
}

test("the page loads the engine and the sample twin from its own server only", async () => {
  await page.goto(`${origin}/www/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 10_000 });
  sampleText = await twinPane();
  assert.match(sampleText, /"etag": "AAAAAAAAAAQ="/);
  const [fixture, copy] = await Promise.all([
    readFile(join(root, "tests", "fixtures", "fleet-device.json"), "utf8"),
    readFile(join(here, "www", "fleet-device.json"), "utf8"),
  ]);
  assert.equal(copy, fixture, "www/fleet-device.json must stay a copy of tests/fixtures/fleet-device.json");
  const wasm = requests.find((r) => r.url().endsWith(".wasm"));
  assert.equal((await wasm.response()).headers()["content-type"], "application/wasm");
  assert.deepEqual(requests.filter((r) => !r.url().startsWith(origin + "/")).map((r) => r.url()), []);
});

test("a desired patch shows the outcome, the new twin and its changed paths", async () => {
  await page.fill("#now", "2026-11-28T10:00:00Z");
  await patch("desired", desiredPatch);
  assert.equal(await page.isHidden("#error"), true);
  assert.equal(await field("version"), "9");
  assert.equal(await field("sectionVersion"), "4");
  assert.equal(await field("etag"), "AAAAAAAAAAU=");
  assert.deepEqual(JSON.parse(await field("notification")), {
    telemetry: { batch: { size: 100 } },
    fanMode: "eco",
    $version: 4,
  });
  const twin = await twinPane();
  assert.match(twin, /"size": 100,/);
  assert.match(twin, /"fanMode": "eco"/);
  assert.match(twin, /"version": 9,/);

  const changed = await marks("#output mark.changed");
  for (const expected of [
    ["/etag", '"etag": "AAAAAAAAAAU="'],
    ["/version", '"version": 9'],
    ["/properties/desired/telemetry/batch/size", '"size": 100'],
    ["/properties/desired/fanMode", '"fanMode": "eco"'],
    ["/properties/desired/$version", '"$version": 4'],
  ]) {
    assert.ok(changed.some(([p, t]) => p === expected[0] && t === expected[1]), `marked ${expected}: ${JSON.stringify(changed)}`);
  }
  assert.ok(changed.some(([p, t]) => p.startsWith("/properties/desired/$metadata/") && t.includes("2026-11-28T10:00:00.0000000Z")));
  assert.ok(!changed.some(([p]) => p.startsWith("/properties/reported") || p.startsWith("/tags")));
  // The list is the engine's jsonPatch(old, new), as it is; everything but removals is marked.
  const listed = await page.$$eval("#changes li", (all) => all.map((li) => [li.dataset.op, li.firstChild.textContent]));
  const operations = engine.jsonPatch(sampleText, twin);
  assert.deepEqual(listed, operations.map((op) => [op.op, op.path]));
  assert.deepEqual(changed.map(([p]) => p), operations.filter((op) => op.op !== "remove").map((op) => op.path));
});

test("a refused write shows its error and marks the offending key in the body", async () => {
  const before = await twinPane();
  await patch("desired", '{\n  "a": {\n    "b c": 1\n  },\n  "ok": true\n}');
  assert.equal(await page.isVisible("#error"), true);
  assert.equal(await errorField("code"), "InvalidKey");
  assert.match(await errorField("status"), /^400 \(IoT Hub 400004\)$/);
  assert.equal(await errorField("path"), "/a/b c");
  assert.match(await errorField("refused"), /patch desired was refused/);
  assert.deepEqual(await marks("#body-marks mark.error"), [["/a/b c", '"b c": 1']]);
  assert.equal(await twinPane(), before, "a refused write changes nothing");
  assert.equal(await page.textContent("#outcome"), "");

  // Editing the body drops the mark that belonged to the old text.
  await page.fill("#body", "{}");
  assert.deepEqual(await marks("#body-marks mark"), []);

  // An error about the write as a whole marks the option it is about.
  await page.fill("#if-match", '"AAAAAAAAAAE="');
  await patch("tags", '{"floor": 12}');
  assert.equal(await errorField("code"), "PreconditionFailed");
  assert.equal(await page.getAttribute("#if-match", "class"), "bad");
  await page.fill("#if-match", "");
});

test("Undo restores the twin before the last write", async () => {
  assert.equal(await page.isEnabled("#undo"), true);
  await page.click("#undo");
  assert.equal(await twinPane(), sampleText);
  assert.equal(await field("version"), "8");
  assert.equal(await field("etag"), "AAAAAAAAAAQ=");
  assert.equal(await page.isDisabled("#undo"), true);
});

test("Diff, Delta and Device view show the engine's answers", async () => {
  await page.fill("#body", sampleText.replace('"sendDataInterval": 5000', '"sendDataInterval": 6000'));
  await page.click("#diff");
  const body = await page.inputValue("#body");
  assert.equal(await field("operations"), String(engine.jsonPatch(sampleText, body).length));
  assert.deepEqual(JSON.parse(await page.textContent("#output")), engine.diff(sampleText, body));
  assert.equal(JSON.parse(await page.textContent("#output")).properties.desired.sendDataInterval, 6000);

  await page.click("#device-view");
  const view = JSON.parse(await page.textContent("#output"));
  assert.deepEqual(Object.keys(view), ["desired", "reported"]);
  assert.equal(view.desired.$version, 3);
  assert.equal(view.desired.$metadata, undefined);

  await page.click("#delta");
  assert.equal(await page.isHidden("#error"), true);
  JSON.parse(await page.textContent("#output"));
});

test("a write shows its change events; Digital twin shows the view; Patch digital twin writes operations", async () => {
  await page.fill("#now", "2026-11-28T10:00:00Z");
  await patch("reported", '{"thermostat1": {"__t": "c", "temp": 21}}');
  assert.equal(await page.isVisible("#events"), true);
  const event = JSON.parse(await page.textContent("#event"));
  assert.equal(event.properties.opType, "updateTwin");
  assert.equal(event.properties.operationTimestamp, "2026-11-28T10:00:00.0000000Z");
  assert.deepEqual(event.body.properties.reported.thermostat1, { __t: "c", temp: 21 });
  // A new component is one add in the digital twin change event.
  const added = JSON.parse(await page.textContent("#digital-twin-event"));
  assert.deepEqual(added.body, [{
    op: "add", path: "/thermostat1", value: { temp: 21, $metadata: { temp: { lastUpdateTime: "2026-11-28T10:00:00.0000000Z" } } },
  }]);

  await page.click("#digital-twin");
  const twin = engine.Twin.fromJSON(await twinPane());
  assert.equal(await page.textContent("#output"), JSON.stringify(twin.digitalTwin(), null, 2));
  twin.free();
  assert.equal(await page.isHidden("#events"), true, "a read shows no events");

  await page.fill("#body", '[{"op": "add", "path": "/thermostat1/target", "value": 22}]');
  await page.click("#patch-digital-twin");
  assert.equal(await page.isHidden("#error"), true);
  assert.deepEqual(JSON.parse(await field("notification")), { thermostat1: { __t: "c", target: 22 }, $version: 4 });
  assert.match(await page.textContent("#digital-twin-event"), /"desiredValue": 22/);
  await page.fill("#body", "[]");
  await page.click("#patch-digital-twin");
  assert.match(await page.textContent("#digital-twin-event"), /^null: the write left the digital twin as it was/);

  // A refused operation is marked in the body and writes nothing.
  const before = await twinPane();
  await page.fill("#body", '[\n  {"op": "move", "from": "/a", "path": "/b"}\n]');
  await page.click("#patch-digital-twin");
  assert.equal(await errorField("code"), "InvalidArgument");
  assert.equal(await errorField("path"), "/0");
  assert.match(await errorField("refused"), /patch of the digital twin was refused/);
  assert.deepEqual(await marks("#body-marks mark.error"), [["/0", '{"op": "move", "from": "/a", "path": "/b"}']]);
  assert.equal(await twinPane(), before);
  for (let i = 0; i < 3; i++) await page.click("#undo");
  assert.equal(await twinPane(), sampleText);
});

test("the Query tab runs a query over the sample fleet and shows its rows", async () => {
  await page.click("#tab-query");
  assert.equal(await page.isHidden("#twin-inputs"), true);
  assert.equal(await page.getAttribute("#tab-query", "aria-selected"), "true");
  assert.equal(await page.textContent("#output"), "", "a new tab starts with an empty result");
  const fleet = await page.inputValue("#fleet");
  assert.equal(fleet, await readFile(join(here, "www", "sample-fleet.json"), "utf8"));

  const text = "SELECT deviceId, tags.location.city AS city FROM devices WHERE properties.reported.fw = '1.2.0'";
  await page.fill("#query", text);
  await page.click("#run-query");
  assert.equal(await page.isHidden("#error"), true);
  assert.equal(await field("rows"), "2");
  const rows = [{ deviceId: "thermo-01", city: "Chicago" }, { deviceId: "thermo-03", city: "Chicago" }];
  assert.deepEqual(JSON.parse(await page.textContent("#output")), rows);
  assert.deepEqual(engine.query(text, JSON.parse(fleet)), rows);

  // Ctrl+Enter runs; an aggregate gives one row per group, modules are not devices.
  await page.fill("#query", "SELECT tags.env, COUNT() AS n FROM devices GROUP BY tags.env");
  await page.press("#query", "Control+Enter");
  assert.deepEqual(JSON.parse(await page.textContent("#output")), [{ env: "prod", n: 3 }, { env: "test", n: 1 }]);

  // A malformed query is the engine's InvalidQuery, naming the offset.
  await page.fill("#query", "SELECT * FROM devices WHERE");
  await page.click("#run-query");
  assert.equal(await errorField("code"), "InvalidQuery");
  assert.match(await errorField("status"), /^400 \(IoT Hub 400004\)$/);
  assert.match(await errorField("message"), /at character offset 27$/);
  assert.equal(await page.textContent("#output"), "");

  // A twin the engine cannot read is marked in the fleet, at its index.
  await page.fill("#fleet", fleet.replace('"tags": { "env": "prod", "location": { "city": "Seattle", "floor": 3 } }', '"tags": []'));
  await page.fill("#query", "SELECT deviceId FROM devices");
  await page.click("#run-query");
  assert.equal(await errorField("code"), "InvalidTwin");
  assert.equal(await errorField("path"), "/1/tags");
  assert.deepEqual(await marks("#fleet-marks mark.error"), [["/1/tags", '"tags": []']]);

  await page.click("#sample-fleet");
  await page.waitForFunction((text) => document.getElementById("fleet").value === text, fleet);
  await page.click("#run-query");
  assert.equal(await field("rows"), "4");
  await page.click("#tab-twin");
  assert.equal(await page.isHidden("#query-inputs"), true);
  assert.equal(await page.isVisible("#twin"), true);
});

test("screenshot of a patched twin", async () => {
  await page.fill("#now", "2026-11-28T10:00:00Z");
  await patch("desired", desiredPatch);
  assert.equal(await field("version"), "9");
  assert.deepEqual(problems, []);
  const shot = join(root, "target", "playground.png");
  await mkdir(dirname(shot), { recursive: true });
  await page.screenshot({ path: shot });
  if (process.env.UPDATE_SCREENSHOT) await copyFile(shot, join(here, "www", "screenshot.png"));
});
