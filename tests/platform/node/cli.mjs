// The command line on Node.js: the package's bin (what `npx flightlog` runs)
// reads a store with no Deno anywhere on PATH.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { runChild, runFixture, tempDir } from "./_helpers.mjs";

const PROJECT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(PROJECT, "node_modules/.bin/flightlog");

test("npx flightlog runs the CLI on Node.js: flows, show --json, verify, bad usage", async (t) => {
  const dir = await tempDir(t);
  const w = await runFixture("log_then_exit.mjs", [dir, "end", "250"]);
  assert.equal(w.code, 0, w.stderr);
  // Node.js's own directory and the system's, and nothing else: no Deno to find.
  const env = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` };
  const deno = await runChild("sh", ["-c", "command -v deno || echo none"], { env });
  assert.equal(deno.stdout.trim(), "none", "a deno on PATH would not prove anything");

  const flows = await runChild("npx", ["--no-install", "flightlog", "flows", dir], {
    cwd: PROJECT,
    env,
  });
  assert.equal(flows.code, 0, flows.stderr);
  assert.match(flows.stdout, /^f-exit\s+\S+\s+\S+\s+\S+\s+250\s+0$/m);
  const show = await runChild(BIN, ["show", dir, "f-exit", "--json"], { env });
  assert.equal(show.code, 0, show.stderr);
  assert.equal(JSON.parse(show.stdout).summary.event_count, 250);
  const verify = await runChild(BIN, ["verify", dir], { env });
  assert.equal(verify.code, 0, verify.stderr);
  const usage = await runChild(BIN, ["show", dir], { env });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /^flightlog: /);
});

test("flightlog bench measures on Node.js and names it", async () => {
  const bench = await runChild(BIN, ["bench", "--seconds", "0.5", "-q"]);
  assert.equal(bench.code, 0, bench.stderr);
  assert.match(bench.stdout, /^runtime {4}Node\.js \d+\.\d+\.\d+, V8 /m);
  assert.match(bench.stdout, /^end to end [\d,]+ events\/s persisted/m);
});
