/**
 * The JSR package: `deno publish --dry-run` (JSR itself is not reachable
 * here; the dry run builds and checks the package as a publish would) passes
 * without `--allow-slow-types` and ships only the library.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

// What the package may hold: the entry point, the library, the worker entry
// points, and the files JSR shows on the package page.
const SHIPPED = /^(mod\.ts|deno\.json|README\.md|LICENSE|src\/.+\.ts|workers\/.+\.ts)$/;

Deno.test("deno publish --dry-run passes without --allow-slow-types and lists only library files", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    // --allow-dirty: a working tree with uncommitted edits must be checkable too.
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.doesNotMatch(text, /^error|missing-explicit-type/m);
  assert.match(text, /Simulating publish of @flightlog\/flightlog@0\.1\.0/);
  const prefix = `file://${ROOT}`;
  const listed = [...text.matchAll(/^\s+(file:\/\/\S+) \(/gm)].map((m) => m[1]!);
  assert.ok(listed.length > 50, `the file list was read:\n${text}`);
  for (const url of listed) {
    assert.ok(url.startsWith(prefix), url);
    const path = url.slice(prefix.length);
    assert.match(path, SHIPPED, `${path} should not be published`);
  }
  const paths = new Set(listed.map((url) => url.slice(prefix.length)));
  for (const entry of ["mod.ts", "src/cli/main.ts", "workers/flightlog_worker.ts"]) {
    assert.ok(paths.has(entry), `${entry} is published`);
  }
});

Deno.test("deno.json exports the library, the CLI and both worker entry points", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  assert.deepEqual(config.exports, {
    ".": "./mod.ts",
    "./cli": "./src/cli/main.ts",
    "./worker": "./workers/flightlog_worker.ts",
    "./browser-worker": "./workers/flightlog_browser_worker.ts",
  });
  // Every npm dependency of the library is mapped to a versioned npm: specifier
  // that package.json's range agrees with (so the two registries ship the same).
  const pkg = JSON.parse(await Deno.readTextFile(`${ROOT}package.json`));
  for (const [name, range] of Object.entries(pkg.dependencies as Record<string, string>)) {
    const mapped = Object.entries(config.imports as Record<string, string>).filter(([k]) =>
      k === name || k.startsWith(`${name}/`)
    );
    assert.ok(mapped.length > 0, `${name} is in deno.json imports`);
    for (const [, target] of mapped) assert.ok(target.startsWith(`npm:${name}@${range}`), target);
  }
});
