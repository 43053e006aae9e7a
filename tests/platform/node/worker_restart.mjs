// A store worker that crashes (an uncaught error in its thread) is
// restarted on the same ring: the events logged before and after are all
// stored, the counters still add up, and the logger keeps working.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { createLogger } from "flightlog";
import { FIXTURES, tempDir, until } from "./_helpers.mjs";

test("a crashed worker is restarted and nothing logged is lost", async (t) => {
  const dir = await tempDir(t);
  const marks = await tempDir(t);
  process.env.FLIGHTLOG_TEST_MARKS = marks;
  const log = createLogger({ dir, workerUrl: join(FIXTURES, "crashing_worker.mjs") });
  const flow = log.child({ flow_id: "f-crash" });
  for (let i = 0; i < 100; i++) flow.info("before", { i });
  await log.flush();
  const starts = () => (existsSync(`${marks}/starts`) ? readFileSync(`${marks}/starts`).length : 0);
  assert.equal(starts(), 1);

  writeFileSync(`${marks}/crash`, "");
  await until(() => starts() === 2, "the worker's restart");
  for (let i = 0; i < 100; i++) flow.info("after", { i });
  await log.flush();

  const events = (await log.getFlowLog("f-crash")).events;
  assert.deepEqual(
    [
      events.filter((e) => e.event === "before").length,
      events.filter((e) => e.event === "after").length,
    ],
    [100, 100],
  );
  const stats = log.stats();
  assert.deepEqual([stats.emitted, stats.persisted, stats.dropped, stats.worker], [
    200,
    200,
    0,
    "running",
  ]);
  await log.close();
});
