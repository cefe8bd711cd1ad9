// The WebAssembly package against plain JavaScript on the generated bench twins of
// benches/fixtures/ (the same inputs as the native criterion benches):
//
//   wasm Twin handle   `twin.patch("desired", patchObject, {now})` on a twin held in WASM memory
//   plain JS in memory json-merge-patch `apply` on the desired object, and fast-json-patch
//                      `applyPatch` with the same change as RFC 6902 operations
//   wasm string API    `Twin.fromJSON(text)` + `patch("desired", patchText, {now})` + `toString()`
//   plain JS text      `JSON.parse` + json-merge-patch `apply` on the desired section + `JSON.stringify`
//
// Run with `npm run bench` after `npm run build`. The fixtures come from
// `cargo run --release --example bench_fixtures` (run here when target/bench-fixtures/ lacks
// them). BENCH_ROUNDS=N changes the number of timed rounds; BENCH_TWINS=desired_32k (a comma-
// separated list) measures only those twins. Each wasm case and its plain-JavaScript baseline are
// timed in alternate rounds and their ratio is the median of the rounds' ratios, so that a busy
// machine slows both alike. The last table is issue #13's targets: the two ratios on desired_32k
// (30 KiB of desired content by S4, full $metadata) and the modules' sizes gzipped (level 9).
// The native columns are criterion's
// medians from target/criterion: `patch` (each write on a fresh copy of the twin) and
// `patch_resident` (writes in turn on one twin held in memory, the nearer to the handle's case).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { Twin } = require("twindoc");
const mergePatch = require("json-merge-patch");
const jsonPatch = require("fast-json-patch");

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const FIXTURES = join(ROOT, "target", "bench-fixtures");
const CRITERION = join(ROOT, "target", "criterion");
const NAMES = (process.env.BENCH_TWINS ?? "desired_1k,desired_8k,desired_32k,desired_256k_nolimits").split(",");
const PKG = join(dirname(fileURLToPath(import.meta.url)), "..");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const WARMUP = 3;
/** A round lasts at least this long (repeating its body), so timer resolution does not matter. */
const MIN_ROUND_NS = 20_000_000n;
const T0 = Date.parse("2026-11-28T12:00:00Z");

function fixtures() {
  if (NAMES.some((name) => !existsSync(join(FIXTURES, `${name}.json`)))) {
    console.error("writing the fixtures: cargo run --release --example bench_fixtures");
    execFileSync("cargo", ["run", "--release", "--example", "bench_fixtures"], { cwd: ROOT, stdio: "inherit" });
  }
  return NAMES.map((name) => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")));
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Nanoseconds per operation of one round: calls `setup()` (untimed) for a fresh state, then
 * times `run(state)`, which performs `perRun` operations, then calls `teardown(state)` (untimed),
 * repeating until the round lasts MIN_ROUND_NS.
 */
function round({ setup, run, perRun, teardown = () => {} }) {
  let elapsed = 0n;
  let ops = 0;
  while (elapsed < MIN_ROUND_NS) {
    const state = setup();
    const start = process.hrtime.bigint();
    run(state);
    elapsed += process.hrtime.bigint() - start;
    teardown(state);
    ops += perRun;
  }
  return Number(elapsed) / ops;
}

/** Median nanoseconds per operation of `cases` (name -> case), timed in alternate rounds. */
function measure(cases) {
  const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  for (let index = 0; index < WARMUP + ROUNDS; index++) {
    for (const [name, bench] of Object.entries(cases)) {
      const ns = round(bench);
      if (index >= WARMUP) samples[name].push(ns);
    }
  }
  return samples;
}

/** The medians of `samples`, and the median of the rounds' ratios of `wasm` to `js`. */
function summarize(samples, wasm, js) {
  const ratios = samples[wasm].map((ns, index) => ns / samples[js][index]);
  return { ...Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, median(list)])), ratio: median(ratios), samples };
}

function show(ns) {
  for (const [unit, scale] of [["s", 1e9], ["ms", 1e6], ["µs", 1e3]]) {
    if (ns >= scale) return `${(ns / scale).toFixed(2)} ${unit}`;
  }
  return `${ns.toFixed(0)} ns`;
}

/** The native median of a criterion bench, if scripts/bench-report (or cargo bench) ran it. */
function native(group, fn, caseDir) {
  const file = join(CRITERION, group, fn, caseDir, "new", "estimates.json");
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, "utf8")).median.point_estimate;
}

const deepCopy = (value) => structuredClone(value);

function bench(fixture) {
  const { name, twin: text, patches, ops } = fixture;
  const limits = fixture.limits;
  const patchTexts = patches.map((p) => JSON.stringify(p));
  const desired = JSON.parse(text).properties.desired;
  let clock = T0;
  const options = () => ({ now: (clock += 1), limits });

  // Sanity: the WASM twin and json-merge-patch reach the same desired content.
  {
    const twin = Twin.fromJSON(text);
    let plain = deepCopy(desired);
    for (const patch of patches) {
      twin.patch("desired", patch, options());
      plain = mergePatch.apply(plain, deepCopy(patch));
    }
    let viaOps = deepCopy(desired);
    for (const list of ops) viaOps = jsonPatch.applyPatch(viaOps, deepCopy(list), false, true).newDocument;
    const strip = ({ $metadata: _m, $version: _v, ...rest }) => rest;
    const content = strip(twin.toJSON().properties.desired);
    twin.free();
    if (JSON.stringify(sortKeys(content)) !== JSON.stringify(sortKeys(strip(plain)))) {
      throw new Error(`${name}: the WASM twin and json-merge-patch disagree`);
    }
    if (JSON.stringify(sortKeys(strip(viaOps))) !== JSON.stringify(sortKeys(strip(plain)))) {
      throw new Error(`${name}: fast-json-patch and json-merge-patch disagree`);
    }
  }

  const n = patches.length;
  /** The n `bodies` written in a row on a Twin handle, fresh for each run. */
  const handleWrites = (bodies) => ({
    setup: () => Twin.fromJSON(text),
    run: (twin) => {
      for (let i = 0; i < n; i++) twin.patch("desired", bodies[i], options());
    },
    teardown: (twin) => twin.free(),
    perRun: n,
  });
  // In memory: n distinct small patches in a row on one fresh state per run.
  const memory = summarize(
    measure({
      wasmHandle: handleWrites(patches),
      // The same writes with each body given as its JSON text: the handle write less the writing
      // of the body's text in JavaScript.
      wasmHandleText: handleWrites(patchTexts),
      jsMerge: {
        setup: () => ({ doc: deepCopy(desired), patches: deepCopy(patches) }),
        run: ({ doc, patches }) => {
          for (let i = 0; i < n; i++) doc = mergePatch.apply(doc, patches[i]);
        },
        perRun: n,
      },
      jsOps: {
        setup: () => ({ doc: deepCopy(desired), ops: deepCopy(ops) }),
        run: ({ doc, ops }) => {
          for (let i = 0; i < n; i++) doc = jsonPatch.applyPatch(doc, ops[i], false, true).newDocument;
        },
        perRun: n,
      },
    }),
    "wasmHandle",
    "jsMerge",
  );
  // Text in, one small patch, text out (the first patch, as in the native roundtrip group).
  const roundtrip = summarize(
    measure({
      wasmText: {
        setup: () => null,
        run: () => {
          const twin = Twin.fromJSON(text);
          twin.patch("desired", patchTexts[0], options());
          twin.toString();
          twin.free();
        },
        perRun: 1,
      },
      jsText: {
        setup: () => null,
        run: () => {
          const doc = JSON.parse(text);
          doc.properties.desired = mergePatch.apply(doc.properties.desired, JSON.parse(patchTexts[0]));
          JSON.stringify(doc);
        },
        perRun: 1,
      },
    }),
    "wasmText",
    "jsText",
  );
  return {
    name,
    textBytes: Buffer.byteLength(text),
    ...memory,
    handleRatio: memory.ratio,
    handleTextRatio: median(memory.samples.wasmHandleText.map((ns, i) => ns / memory.samples.jsMerge[i])),
    ...roundtrip,
    textRatio: roundtrip.ratio,
    nativePatch: native("patch", "twindoc", `${name}_patch_200b`),
    nativeResident: native("patch_resident", "twindoc", `${name}_patch_200b`),
    nativeRoundtrip: native("roundtrip", "twindoc", name),
  };
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
  }
  return value;
}

const results = fixtures().map(bench);
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
const nativeCell = (ns) => (ns == null ? "run scripts/bench-report" : show(ns));

console.log(`Node ${process.version}, ${ROUNDS} rounds (median), ${WARMUP} warm-up; times per write.\n`);
console.log("In memory: a ~200 B desired patch on a twin (16 distinct patches in a row)\n");
console.log(
  "| twin | wasm Twin.patch | json-merge-patch apply | ratio | fast-json-patch applyPatch | ratio | " +
    "native Twin::patch, fresh copy | native, resident twin | wasm / native resident |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of results) {
  const versusNative = r.nativeResident == null ? "" : ratio(r.wasmHandle, r.nativeResident);
  console.log(
    `| ${r.name} | ${show(r.wasmHandle)} | ${show(r.jsMerge)} | ${r.handleRatio.toFixed(2)}x | ` +
      `${show(r.jsOps)} | ${ratio(r.wasmHandle, r.jsOps)} | ${nativeCell(r.nativePatch)} | ` +
      `${nativeCell(r.nativeResident)} | ${versusNative} |`,
  );
}
console.log("\nText in, a ~200 B desired patch, text out\n");
console.log("| twin | wasm fromJSON + patch + toString | JSON.parse + apply + JSON.stringify | ratio | native roundtrip |");
console.log("|---|---:|---:|---:|---:|");
for (const r of results) {
  console.log(`| ${r.name} | ${show(r.wasmText)} | ${show(r.jsText)} | ${r.textRatio.toFixed(2)}x | ${nativeCell(r.nativeRoundtrip)} |`);
}

// Issue #13's targets.
const target = results.find((r) => r.name === "desired_32k");
console.log("\nIssue #13 targets\n");
console.log("| measure | now | target |");
console.log("|---|---:|---:|");
if (target) {
  const kb = (target.textBytes / 1000).toFixed(0);
  console.log(`| desired_32k (${kb} KB of text) handle write / json-merge-patch | ${target.handleRatio.toFixed(2)}x | <= 5x |`);
  console.log(`| the same, each body given as its JSON text / json-merge-patch | ${target.handleTextRatio.toFixed(2)}x | (the writer's share) |`);
  console.log(`| desired_32k text round trip / JSON.parse + apply + JSON.stringify | ${target.textRatio.toFixed(2)}x | <= 1.0x |`);
}
for (const dir of ["pkg", "pkg-web"]) {
  const bytes = readFileSync(join(PKG, dir, "twindoc_wasm_bg.wasm"));
  const gzipped = gzipSync(bytes, { level: 9 }).length;
  const budget = dir === "pkg-web" ? "<= 100 KB" : "(speed build: no budget)";
  console.log(`| ${dir}/twindoc_wasm_bg.wasm gzipped (raw) | ${(gzipped / 1000).toFixed(1)} KB (${(bytes.length / 1000).toFixed(1)} KB) | ${budget} |`);
}
if (results.some((r) => r.nativePatch == null || r.nativeResident == null)) {
  console.log("\nNative times: run scripts/bench-report (criterion's target/criterion estimates) first.");
}
