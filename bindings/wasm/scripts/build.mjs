// Builds the npm package: the core compiled to WebAssembly, then wasm-bindgen's glue for Node.js
// (pkg/, CommonJS) and for browsers and edge runtimes (pkg-web/, an ES module with init()), each
// with js/twin_error.js (the class of thrown errors) and an entry point, index.js, exporting both.
// It needs the wasm32-unknown-unknown target, the wasm-bindgen CLI at the version the crate pins,
// and `npm ci` (for wasm-opt); it installs none of them: the repository's ./scripts/check does.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const root = join(here, "..", "..");
const pinned = readFileSync(join(here, "Cargo.toml"), "utf8").match(/wasm-bindgen = "=([^"]+)"/)[1];

function run(command, args, options = {}) {
  console.log(`$ ${command} ${args.join(" ")}`);
  return execFileSync(command, args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", ...options });
}

let cli;
try {
  cli = run("wasm-bindgen", ["--version"]).trim().split(" ")[1];
} catch {
  throw new Error(`wasm-bindgen CLI not found: cargo install wasm-bindgen-cli --version ${pinned}`);
}
if (cli !== pinned) {
  throw new Error(`wasm-bindgen CLI is ${cli}, the crate pins ${pinned}: cargo install wasm-bindgen-cli --version ${pinned}`);
}

run("cargo", ["build", "-p", "twindoc-wasm", "--target", "wasm32-unknown-unknown", "--profile", "wasm-release"], {
  cwd: root,
  stdio: "inherit",
});
const wasm = join(root, "target", "wasm32-unknown-unknown", "wasm-release", "twindoc_wasm.wasm");
const wasmOpt = join(here, "node_modules", ".bin", "wasm-opt");
const features = ["bulk-memory", "nontrapping-float-to-int", "reference-types", "multivalue", "sign-ext", "mutable-globals"];

for (const [target, dir] of [["nodejs", "pkg"], ["web", "pkg-web"]]) {
  const out = join(here, dir);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  run("wasm-bindgen", ["--target", target, "--remove-name-section", "--remove-producers-section", "--out-dir", out, wasm]);
  const bg = join(out, "twindoc_wasm_bg.wasm");
  run(wasmOpt, ["-O3", ...features.map((f) => `--enable-${f}`), bg, "-o", bg]);
  // TwinError, which the glue imports from ./twin_error.js and the entry point (index.js) exports
  // beside the glue's exports (wasm-bindgen exports no imported class).
  const twinError = readFileSync(join(here, "js", "twin_error.js"), "utf8");
  copyFileSync(join(here, "js", "twin_error.d.ts"), join(out, "twin_error.d.ts"));
  const types = ['export * from "./twindoc_wasm.js";', 'export { TwinError } from "./twin_error.js";'];
  if (target === "web") {
    writeFileSync(join(out, "twin_error.js"), twinError);
    const entry = [...types, 'export { default } from "./twindoc_wasm.js";'];
    writeFileSync(join(out, "index.js"), entry.join("\n") + "\n");
    writeFileSync(join(out, "index.d.ts"), entry.join("\n") + "\n");
  } else {
    const common = twinError.replace(/^export class TwinError /m, "class TwinError ");
    if (common === twinError) throw new Error("js/twin_error.js no longer starts its class with `export class TwinError `");
    writeFileSync(join(out, "twin_error.js"), `"use strict";\n${common}module.exports = { TwinError };\n`);
    const entry = ['"use strict";', 'const { TwinError } = require("./twin_error.js");', 'module.exports = { ...require("./twindoc_wasm.js"), TwinError };'];
    writeFileSync(join(out, "index.js"), entry.join("\n") + "\n");
    writeFileSync(join(out, "index.d.ts"), types.join("\n") + "\n");
  }
  // Each folder says how Node should read its .js files, whatever the package around it says.
  const manifest = { type: target === "web" ? "module" : "commonjs", main: "index.js", types: "index.d.ts" };
  writeFileSync(join(out, "package.json"), JSON.stringify(manifest) + "\n");
}

const bytes = readFileSync(join(here, "pkg", "twindoc_wasm_bg.wasm"));
const raw = statSync(join(here, "pkg", "twindoc_wasm_bg.wasm")).size;
const gzipped = gzipSync(bytes, { level: 9 }).length;
console.log(`twindoc_wasm_bg.wasm: ${raw} bytes raw, ${gzipped} bytes gzipped`);
// 0.2.0: the compact twin (its own tree, reader and writer beside serde_json) grew the module from
// about 200 KB to 225 KB raw (100 KB gzipped); issue #13 sets the size budgets anew.
// Queries (S11: the core's lexer, parser and evaluator, with 128-bit integer arithmetic and
// grouping) grew it from 226,258 to 299,175 bytes raw (100,574 to 137,136 gzipped), and the
// query-aware read of twin text (`QueryRun::push_json`) to 300,094 (137,566); the budget leaves
// 20 KB of room, and issue #13 is where the module is made smaller again.
// Change events and the digital twin (S13, S14: the events' serializers, the view, its change
// walk and the Update Digital Twin operation, whose RFC 6902 operations are read by hand rather
// than by json-patch's Deserialize, which alone was 57 KB) grew it from 304,883 to 353,427 bytes
// raw (139,621 to 160,471 gzipped); the budget moves to 360 KB until issue #13's size work.
const budget = 360 * 1000;
if (raw > budget) {
  throw new Error(`the WebAssembly module is ${raw} bytes, over the ${budget}-byte budget`);
}
