// The twindoc playground. Every twin rule (merge, versions, etags, metadata, errors, what changed)
// is the engine's, from the web build of the package; this file only moves text between the panes
// and the engine, and marks places in that text.
import init, { Twin, diff, jsonPatch, query } from "../pkg-web/index.js";
import { locate, pretty } from "./json-text.js";

const $ = (id) => document.getElementById(id);
const undoStack = []; // the twin pane's text before each write, newest last

// ---- engine calls --------------------------------------------------------------------------

/** Runs `use` on the twin read from `text`, and frees it (a Twin lives in WebAssembly memory). */
function withTwin(text, use) {
  let twin;
  try {
    twin = Twin.fromJSON(text);
  } catch (error) {
    throw blame(error, "twin");
  }
  try {
    return use(twin);
  } finally {
    twin.free();
  }
}

/** Notes which panes an error's path points into, to mark it there. */
function blame(error, ...panes) {
  error.panes ??= panes;
  return error;
}

function writeOptions() {
  const options = {};
  const now = $("now").value.trim();
  // Empty means now: the binding then reads Date.now() itself. Digits are Unix milliseconds.
  if (now) options.now = /^-?\d+$/.test(now) ? Number(now) : now;
  const ifMatch = $("if-match").value.trim();
  if (ifMatch) options.ifMatch = ifMatch;
  return options;
}

function write(kind) {
  const section = $("section").value;
  // The digital twin event is asked for: the playground shows both events of each write.
  applyWrite(`${kind} ${section}`, (twin) => twin[kind](section, $("body").value, { ...writeOptions(), digitalTwinEvent: true }));
}

/** The body pane's RFC 6902 operations on the digital twin, as one desired write (S14). */
function patchDigitalTwin() {
  applyWrite("patch of the digital twin", (twin) => twin.patchDigitalTwin($("body").value, writeOptions()));
}

/** Makes the write `call` on the twin pane's twin, and shows the new twin and the outcome. */
function applyWrite(title, call) {
  const before = $("twin").value;
  const { outcome, after } = withTwin(before, (twin) => {
    try {
      const outcome = call(twin);
      // toString() is the engine's JSON text, in its member order and with its exact numbers.
      return { outcome, after: pretty(twin.toString()) };
    } catch (error) {
      error.refused = title;
      throw blame(error, "body");
    }
  });
  undoStack.push(before);
  $("twin").value = after;
  showTwinChange(title, before, after, outcome);
}

function undo() {
  const current = $("twin").value;
  const previous = undoStack.pop();
  $("twin").value = previous;
  const outcome = withTwin(previous, (twin) => ({ version: twin.version, etag: twin.etag }));
  showTwinChange("undo", current, previous, outcome);
}

function diffPanes() {
  const [from, to] = [$("twin").value, $("body").value];
  let patch, operations;
  try {
    patch = diff(from, to);
    operations = jsonPatch(from, to);
  } catch (error) {
    throw blame(error, "twin", "body");
  }
  showTitle("diff: twin pane → body pane, as a merge patch");
  showOutcome({ operations: operations.length });
  showChanges(operations);
  // diff() returns a plain object, so this text is JavaScript's rendering of it.
  $("output").textContent = pretty(JSON.stringify(patch));
}

function readTwin(title, read) {
  const value = withTwin($("twin").value, read);
  showTitle(title);
  $("output").textContent = pretty(JSON.stringify(value));
}

/**
 * The twins of the fleet pane, each as its own JSON text, so the engine reads their numbers and
 * member order exactly. Text that is not an array is given as it is, for the engine to refuse.
 */
function fleetTwins(text) {
  const spans = locate(text);
  if (!spans.has("")) {
    // Broken JSON text: the engine's parser says where (InvalidJson).
    Twin.fromJSON(text).free();
  }
  if (!text.trimStart().startsWith("[")) return text;
  const twins = [];
  for (let i = 0; spans.has(`/${i}`); i++) twins.push(text.slice(...spans.get(`/${i}`)));
  return twins;
}

function runQuery() {
  let rows;
  try {
    rows = query($("query").value, fleetTwins($("fleet").value));
  } catch (error) {
    // An error's path points into the fleet (`/1/tags`), or is empty for the query text.
    throw blame(error, "fleet");
  }
  showTitle("query: the rows, in fleet order");
  showOutcome({ rows: rows.length });
  // query() returns plain objects, so this text is JavaScript's rendering of them.
  $("output").textContent = pretty(JSON.stringify(rows));
}

// ---- showing results -----------------------------------------------------------------------

/** Shows `after` with the nodes the engine's jsonPatch(before, after) touches marked. */
function showTwinChange(title, before, after, outcome) {
  const operations = jsonPatch(before, after);
  const spans = locate(after);
  // A removed node is not in the new text (or only as a null the diff counts as absent): it is
  // listed, not marked.
  const marks = operations
    .filter((op) => op.op !== "remove" && spans.has(op.path))
    .map((op) => [op.path, spans.get(op.path)]);
  const { event, digitalTwinEvent, ...fields } = outcome;
  showTitle(title);
  showOutcome(fields);
  showEvents(event, digitalTwinEvent);
  showChanges(operations);
  paint($("output"), after, marks, "changed");
  // Scroll to the first change below the twin's own etag and version, the part that was written.
  const first = [...$("output").querySelectorAll("mark")].find((m) => !["/etag", "/version"].includes(m.dataset.path));
  if (first) $("output").scrollTop = first.offsetTop - $("output").offsetTop - 40;
  $("undo").disabled = undoStack.length === 0;
}

function showTitle(title) {
  $("result-title").textContent = title;
}

function showOutcome(fields) {
  $("outcome").replaceChildren();
  for (const [name, value] of Object.entries(fields)) {
    const dd = element("dd", typeof value === "object" ? JSON.stringify(value) : String(value));
    dd.dataset.field = name;
    $("outcome").append(element("dt", name), dd);
  }
}

/** Shows a write's twin change event and digital twin change event (none after an undo). */
function showEvents(event, digitalTwinEvent) {
  $("events").hidden = event === undefined;
  $("event").textContent = event === undefined ? "" : pretty(JSON.stringify(event));
  $("digital-twin-event").textContent =
    digitalTwinEvent ? pretty(JSON.stringify(digitalTwinEvent)) : "null: the write left the digital twin as it was";
}

function showChanges(operations) {
  $("changes").replaceChildren(
    ...operations.map((op) => {
      const item = element("li", "");
      item.dataset.op = op.op;
      item.append(element("code", op.path), ` ${op.op}`);
      return item;
    }),
  );
}

function showError(error) {
  const fields = {
    code: error.code ?? error.name,
    status: error.status === undefined ? "" : `${error.status} (IoT Hub ${error.errorCode})`,
    path: error.path === undefined ? "" : error.path === "" ? '"" (the root)' : error.path,
    message: error.message,
    refused: error.refused ? `The ${error.refused} was refused: the twin is unchanged.` : "",
  };
  for (const [name, text] of Object.entries(fields)) {
    $("error").querySelector(`[data-error="${name}"]`).textContent = text;
  }
  $("error").hidden = false;
  // Mark the offending input: the node at the path in the pane it came from, or, for an error
  // about the write as a whole, the option field it is about.
  const field = { InvalidTimestamp: "now", PreconditionFailed: "if-match" }[error.code];
  if (field && error.path === "" && error.panes?.includes("body")) $(field).classList.add("bad");
  for (const pane of error.panes ?? []) {
    if (markPane(pane, error.path)) break;
  }
}

/** Marks the node at `path` in a pane's text; false when the path is the root or not there. */
function markPane(pane, path) {
  const text = $(pane).value;
  const span = path ? locate(text).get(path) : undefined;
  if (!span) return false;
  paint($(`${pane}-marks`), text, [[path, span]], "error");
  // Bring the marked line into view, a few lines down from the top.
  const line = text.slice(0, span[0]).split("\n").length - 1;
  $(pane).scrollTop = Math.max(0, (line - 3) * parseFloat(getComputedStyle($(pane)).lineHeight));
  syncScroll(pane);
  return true;
}

/** Fills `pre` with `text`, each [path, [start, end]] of `marks` wrapped in a <mark>. */
function paint(pre, text, marks, className) {
  pre.replaceChildren();
  let at = 0;
  for (const [path, [start, end]] of [...marks].sort((a, b) => a[1][0] - b[1][0])) {
    if (start < at) continue; // inside a node already marked
    const mark = element("mark", text.slice(start, end));
    mark.className = className;
    mark.dataset.path = path;
    pre.append(text.slice(at, start), mark);
    at = end;
  }
  pre.append(text.slice(at));
}

function element(tag, text) {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}

// The marks layer sits under its transparent textarea (same font and box), so it scrolls with it.
function syncScroll(pane) {
  $(`${pane}-marks`).scrollTop = $(pane).scrollTop;
  $(`${pane}-marks`).scrollLeft = $(pane).scrollLeft;
}

function clearResult() {
  $("error").hidden = true;
  for (const id of ["outcome", "changes", "output", "twin-marks", "body-marks", "fleet-marks", "event", "digital-twin-event"]) {
    $(id).replaceChildren();
  }
  $("events").hidden = true;
  showTitle("");
  for (const field of document.querySelectorAll(".bad")) field.classList.remove("bad");
}

/** Runs a button's action: the result pane shows its result or its error, never a stale one. */
function action(id, run) {
  $(id).addEventListener("click", () => {
    clearResult();
    try {
      run();
    } catch (error) {
      showError(error);
    }
  });
}

// ---- wiring --------------------------------------------------------------------------------

function showTab(name) {
  for (const tab of ["twin", "query"]) {
    $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`${tab}-inputs`).hidden = tab !== name;
  }
  clearResult();
}

async function loadSampleFleet() {
  $("fleet").value = await (await fetch("sample-fleet.json")).text();
}

async function loadSample() {
  // A copy of tests/fixtures/fleet-device.json; the e2e test checks that it stays the same.
  $("twin").value = pretty(await (await fetch("fleet-device.json")).text());
}

action("patch", () => write("patch"));
action("replace", () => write("replace"));
action("diff", diffPanes);
action("delta", () => readTwin("delta: what the device has not reached yet", (twin) => twin.delta()));
action("device-view", () => readTwin("device view: what the device sees", (twin) => twin.deviceView()));
action("digital-twin", () => readTwin("digital twin: the IoT Plug and Play view", (twin) => twin.digitalTwin()));
action("patch-digital-twin", patchDigitalTwin);
action("undo", undo);
action("run-query", runQuery);
$("tab-twin").addEventListener("click", () => showTab("twin"));
$("tab-query").addEventListener("click", () => showTab("query"));
$("sample-fleet").addEventListener("click", loadSampleFleet);
$("query").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("run-query").click();
});
// Filling If-Match is not an action: it keeps the result pane, unless the twin cannot be read.
$("use-etag").addEventListener("click", () => {
  try {
    $("if-match").value = withTwin($("twin").value, (twin) => twin.etag);
    $("if-match").classList.remove("bad");
  } catch (error) {
    clearResult();
    showError(error);
  }
});

for (const pane of ["twin", "body", "fleet"]) {
  $(pane).addEventListener("scroll", () => syncScroll(pane));
  // A mark belongs to the text it was found in; editing makes it wrong.
  $(pane).addEventListener("input", () => $(`${pane}-marks`).replaceChildren());
}
$("body").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("patch").click();
});
$("sample").addEventListener("click", loadSample);
$("file").addEventListener("change", async () => {
  const file = $("file").files[0];
  if (file) $("twin").value = pretty(await file.text());
  $("file").value = "";
});

try {
  await Promise.all([init(), loadSample(), loadSampleFleet()]);
  $("status").textContent = "engine ready";
  document.body.dataset.ready = "true"; // for the end-to-end test
} catch (error) {
  $("status").textContent = `failed to load: ${error.message}`;
  $("status").classList.add("bad");
}
