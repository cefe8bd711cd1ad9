// The TypeScript declarations, strictly checked: tsc --strict over types.mts (every export, used
// with its real types, and what they must refuse) and over the README's examples.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL("..", import.meta.url));

test("the declarations type-check strictly, with the README's examples", () => {
  const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));
  const args = [tsc, "--strict", "--noEmit", "--allowJs", "--checkJs", "--module", "nodenext", "--moduleResolution", "nodenext",
    "--target", "es2022", "--lib", "es2022,esnext.disposable,dom", "tests/types.mts", "tests/readme-examples.cjs"];
  const run = spawnSync(process.execPath, args, { cwd: here, encoding: "utf8" });
  assert.equal(run.error, undefined, "typescript is installed (npm ci)");
  assert.equal(run.status, 0, run.stdout + run.stderr);
});
