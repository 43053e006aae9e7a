// One store, two runtimes: what Node.js writes the Deno CLI reads whole, and
// what Deno writes Node.js reads; each one's lock keeps the other out. The
// first case is the package's promise in one script: a fresh project, 1,000
// events in one flow, no flush(), then the Deno CLI and Node.js both read all.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { createLogger, StoreLockedError } from "flightlog";
import { DENO, readFlow, REPO, runChild, runFixture, tempDir } from "./_helpers.mjs";

const EVENTS = 1000;
const DENO_WRITER = join(REPO, "tests/platform/node/fixtures/deno_writer.ts");

function denoCli(args) {
  return runChild(DENO, ["run", "--allow-read", "src/cli/main.ts", ...args], { cwd: REPO });
}

test(`Node.js logs ${EVENTS} events and ends without flush(); the Deno CLI's show and getFlowLog return all`, async (t) => {
  const dir = await tempDir(t);
  const w = await runFixture("log_then_exit.mjs", [dir, "end", String(EVENTS), "cold"]);
  assert.equal(w.code, 0, w.stderr);
  const show = await denoCli(["show", dir, "f-exit", "--json"]);
  assert.equal(show.code, 0, show.stderr);
  const shown = JSON.parse(show.stdout);
  assert.equal(shown.summary.event_count, EVENTS);
  assert.deepEqual(shown.summary.by_event, { step: EVENTS });
  const events = await readFlow(dir, "f-exit");
  assert.deepEqual(events.map((e) => e.fields.i), Array.from({ length: EVENTS }, (_, i) => i));
  const verify = await denoCli(["verify", dir]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

test("Deno writes a store and Node.js reads it whole", async (t) => {
  const dir = await tempDir(t);
  const w = await runChild(DENO, ["run", "-A", DENO_WRITER, dir, "write", String(EVENTS)], {
    cwd: REPO,
  });
  assert.equal(w.code, 0, w.stderr);
  const events = await readFlow(dir, "f-deno");
  assert.deepEqual(events.map((e) => e.fields.i), Array.from({ length: EVENTS }, (_, i) => i));
  // And writes on: a Node.js writer appends to Deno's segments.
  const log = createLogger({ dir });
  log.info("from_node", { flow_id: "f-deno" });
  await log.close();
  const show = await denoCli(["show", dir, "f-deno", "--json"]);
  assert.equal(JSON.parse(show.stdout).summary.event_count, EVENTS + 1);
});

test("the lock holds across runtimes: Deno's writer keeps Node.js out, and the reverse", async (t) => {
  const dir = await tempDir(t);
  let refused = null;
  const held = await runChild(DENO, ["run", "-A", DENO_WRITER, dir, "hold", "1"], {
    cwd: REPO,
    onLine: async (line, child) => {
      if (line !== "holding") return;
      const log = createLogger({ dir });
      refused = await log.flush().then(() => null, (err) => err);
      await log.close().catch(() => {});
      child.kill("SIGTERM");
    },
  });
  assert.ok(refused instanceof StoreLockedError, `Node.js was let in: ${refused} ${held.stderr}`);
  assert.match(refused.message, /locked by process \d+ \(writer [0-9a-f]{16}, opened /);
  const log = createLogger({ dir });
  const tried = await runChild(DENO, ["run", "-A", DENO_WRITER, dir, "try", "0"], { cwd: REPO });
  await log.close();
  assert.match(tried.stdout, new RegExp(`StoreLockedError: .*locked by process ${process.pid}`));
});
