// Builds the npm package: the core compiled to WebAssembly twice, then wasm-bindgen's glue for
// Node.js (pkg/, CommonJS; cargo profile wasm-node and wasm-opt -O3: built for speed) and for
// browsers and edge runtimes (pkg-web/, an ES module with init(); cargo profile wasm-release and
// wasm-opt -Oz: built for size), each with js/twin_error.js (the class of thrown errors),
// js/boundary.js (the JavaScript side of the boundary) and an entry point, index.js, exporting
// the glue's API through the boundary.
// It needs the wasm32-unknown-unknown target, the wasm-bindgen CLI at the version the crate pins,
// and `npm ci` (for wasm-opt); it installs none of them: the repository's ./scripts/check does.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

const wasmOpt = join(here, "node_modules", ".bin", "wasm-opt");
const features = ["bulk-memory", "nontrapping-float-to-int", "reference-types", "multivalue", "sign-ext", "mutable-globals"];
const builds = [
  { target: "nodejs", dir: "pkg", profile: "wasm-node", opt: ["-O3"] },
  // --converge: -Oz again until the module stops shrinking. --low-memory-unused: lets wasm-opt
  // fold a small constant added to a pointer into the load or store's offset, assuming the sum
  // never wraps past 2^32 into the first 1024 bytes; Rust's pointers lie far below 2^32 - 1024.
  { target: "web", dir: "pkg-web", profile: "wasm-release", opt: ["-Oz", "--converge", "--low-memory-unused"] },
];

for (const { target, dir, profile, opt } of builds) {
  run("cargo", ["build", "-p", "twindoc-wasm", "--target", "wasm32-unknown-unknown", "--profile", profile], {
    cwd: root,
    stdio: "inherit",
  });
  const wasm = join(root, "target", "wasm32-unknown-unknown", profile, "twindoc_wasm.wasm");
  const out = join(here, dir);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  run("wasm-bindgen", ["--target", target, "--remove-name-section", "--remove-producers-section", "--out-dir", out, wasm]);
  const bg = join(out, "twindoc_wasm_bg.wasm");
  run(wasmOpt, [...opt, ...features.map((f) => `--enable-${f}`), bg, "-o", bg]);
  // TwinError, which the glue imports from ./twin_error.js and the entry point (index.js) exports
  // beside the glue's exports (wasm-bindgen exports no imported class).
  const twinError = readFileSync(join(here, "js", "twin_error.js"), "utf8");
  const boundary = readFileSync(join(here, "js", "boundary.js"), "utf8");
  copyFileSync(join(here, "js", "twin_error.d.ts"), join(out, "twin_error.d.ts"));
  const types = ['export * from "./twindoc_wasm.js";', 'export { TwinError } from "./twin_error.js";'];
  // The glue's functions that the boundary wraps (explicit exports shadow `export *`).
  const wrapped = "merge, validate, diff, jsonPatch, delta";
  if (target === "web") {
    writeFileSync(join(out, "twin_error.js"), twinError);
    writeFileSync(join(out, "boundary.js"), boundary);
    const entry = [
      'import * as glue from "./twindoc_wasm.js";',
      'import { install } from "./boundary.js";',
      ...types,
      `export const { ${wrapped} } = install(glue);`,
      'export { default } from "./twindoc_wasm.js";',
    ];
    writeFileSync(join(out, "index.js"), entry.join("\n") + "\n");
    writeFileSync(join(out, "index.d.ts"), [...types, 'export { default } from "./twindoc_wasm.js";'].join("\n") + "\n");
  } else {
    writeFileSync(join(out, "twin_error.js"), commonJs(twinError, "class", "TwinError"));
    writeFileSync(join(out, "boundary.js"), commonJs(boundary, "function", "install"));
    // In the shape Node's CommonJS lexer reads, so that `import { Twin } from "twindoc"` works.
    const entry = [
      '"use strict";',
      'const { TwinError } = require("./twin_error.js");',
      'const wrapped = require("./boundary.js").install(require("./twindoc_wasm.js"));',
      `module.exports = { ...require("./twindoc_wasm.js"), TwinError, ${wrapped
        .split(", ")
        .map((name) => `${name}: wrapped.${name}`)
        .join(", ")} };`,
    ];
    writeFileSync(join(out, "index.js"), entry.join("\n") + "\n");
    writeFileSync(join(out, "index.d.ts"), types.join("\n") + "\n");
  }
  // Each folder says how Node should read its .js files, whatever the package around it says.
  const manifest = { type: target === "web" ? "module" : "commonjs", main: "index.js", types: "index.d.ts" };
  writeFileSync(join(out, "package.json"), JSON.stringify(manifest) + "\n");
}

/** A file of js/ as CommonJS: its one `export <kind> <name>` made local and assigned to module.exports. */
function commonJs(source, kind, name) {
  const local = source.replace(new RegExp(`^export ${kind} ${name}\\b`, "m"), `${kind} ${name}`);
  if (local === source) throw new Error(`js/: no \`export ${kind} ${name}\` to make CommonJS`);
  return `"use strict";\n${local}module.exports = { ${name} };\n`;
}

const sizes = {};
for (const { dir } of builds) {
  const bytes = readFileSync(join(here, dir, "twindoc_wasm_bg.wasm"));
  sizes[dir] = { raw: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
  console.log(`${dir}/twindoc_wasm_bg.wasm: ${sizes[dir].raw} bytes raw, ${sizes[dir].gzipped} bytes gzipped`);
}
// The web module's budgets. Its size history: the compact twin (0.2.0) grew it from about 200 KB to
// 225 KB raw (100 KB gzipped); queries (S11) to 299,175 (137,136 gzipped), the query-aware read of
// twin text to 300,094 (137,566); issue #13 (a lean boundary, twin text read straight into the
// compact twin, -Oz instead of -O3) made it 321,827 (147,893); automatic configurations (S12:
// reading and checking them, ranking, painting, configured stamps, statuses, metrics, their glue)
// add about 33 KB raw (14 KB gzipped), with no new dependency: 362,986 (166,150). Issue #13's size
// pass: the query lexer's floats read by serde_json's parser instead of core's (dec2flt and its
// tables gone) 344,993 (152,471); wasm-opt --converge --low-memory-unused 342,192 (151,227); a
// query group's key text without Value's Display (serde_json's pretty printer gone) 338,690
// (149,963); two messages without an i128's Display 337,464 (149,461). Its 100 KB gzipped
// target is not met: benches/README.md shows what the module holds. Change events and the digital
// twin (S13, S14: the events' serializers, the view, its change walk and the Update Digital Twin
// operation, whose RFC 6902 operations are read by hand rather than by json-patch's Deserialize,
// which alone was 57 KB) add about 48 KB raw (20 KB gzipped): 387,089 (168,862). The handle write's
// own entry (options read in JavaScript, notification made when read) and S12's fixes (creation
// times to the nanosecond, the section root's mark, configuration marks in change events):
// 395,113 (172,840); with S11's exact AVG, the walker's wide integers and parse_body_json,
// 398,106 (174,377).
const web = sizes["pkg-web"];
const budget = { raw: 400 * 1000, gzipped: 176 * 1000 };
for (const measure of ["raw", "gzipped"]) {
  if (web[measure] > budget[measure]) {
    throw new Error(`the web module is ${web[measure]} bytes ${measure}, over its budget of ${budget[measure]}`);
  }
}
