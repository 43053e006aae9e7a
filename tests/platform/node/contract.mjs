// The core contract on Node.js, through the installed package: log, flush,
// getFlowLog, query and exact stats on the default transport (sab) and its
// fallbacks, withContext() across await, the store lock, log.metrics(), require().
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger, StoreLockedError, withContext } from "flightlog";
import { runFixture, tempDir } from "./_helpers.mjs";

test("createLogger() logs, flushes and reads back exactly, on the sab transport by default", async (t) => {
  const dir = await tempDir(t);
  const log = createLogger({ dir });
  const flow = log.child({ flow_id: "f-1", run_id: "r-1" });
  flow.info("run_start", { span_id: "run" });
  for (let i = 0; i < 500; i++) {
    flow.info("step_end", { span_id: `s-${i}`, parent_id: "run", status: "ok", duration_ms: i });
  }
  flow.error("step_failed", { span_id: "s-x", parent_id: "run", reason: "on purpose" });
  log.debug("below the default level");
  await log.flush();
  const trace = await log.getFlowLog("f-1");
  assert.equal(trace.events.length, 502);
  assert.deepEqual(trace.events.slice(1, 4).map((e) => e.fields.duration_ms), [0, 1, 2]);
  assert.equal(trace.spans[0]?.children.length, 501);
  const errors = await log.query({ level: "error" });
  assert.deepEqual(errors.events.map((e) => [e.event, e.fields.reason]), [
    ["step_failed", "on purpose"],
  ]);
  const stats = log.stats();
  assert.deepEqual(
    [stats.mode, stats.emitted, stats.persisted, stats.dropped, stats.worker],
    ["sab", 502, 502, 0, "running"],
  );
  await log.close();
});

for (const transport of ["message", "inline"]) {
  test(`transport "${transport}" works on Node.js too`, async (t) => {
    const dir = await tempDir(t);
    const log = createLogger({ dir, transport });
    for (let i = 0; i < 100; i++) log.info("step", { flow_id: "f-2", i });
    await log.flush();
    assert.equal((await log.getFlowLog("f-2")).events.length, 100);
    const stats = log.stats();
    assert.deepEqual([stats.mode, stats.emitted, stats.persisted], [transport, 100, 100]);
    await log.close();
  });
}

test("withContext() carries its fields across await (AsyncLocalStorage)", async (t) => {
  const dir = await tempDir(t);
  const log = createLogger({ dir });
  await withContext({ flow_id: "f-ctx", run_id: "r-ctx" }, async () => {
    log.info("before_await");
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.resolve();
    log.info("after_await");
  });
  log.info("outside");
  await log.flush();
  const events = (await log.getFlowLog("f-ctx")).events;
  assert.deepEqual(events.map((e) => [e.event, e.fields.run_id]), [
    ["before_await", "r-ctx"],
    ["after_await", "r-ctx"],
  ]);
  await log.close();
});

test("a second writer of the same store is refused with a StoreLockedError naming this process", async (t) => {
  const dir = await tempDir(t);
  const log = createLogger({ dir });
  const second = createLogger({ dir });
  await assert.rejects(second.flush(), (err) => {
    assert.ok(err instanceof StoreLockedError, String(err));
    assert.match(err.message, new RegExp(`locked by process ${process.pid} \\(this process; `));
    return true;
  });
  await second.close().catch(() => {});
  await log.close();
  const again = createLogger({ dir });
  again.info("after");
  await again.flush();
  await again.close();
});

test("log.metrics() gives the Prometheus text; metrics.serve is refused with what to do", async (t) => {
  const dir = await tempDir(t);
  assert.throws(
    () => createLogger({ dir, metrics: { serve: { port: 0 } } }),
    (err) => {
      assert.ok(err instanceof TypeError);
      assert.match(err.message, /^Option metrics\.serve is not available on Node\.js yet: serve /);
      return true;
    },
  );
  const log = createLogger({ dir, metrics: true });
  log.info("step_end", { flow_id: "f-m", status: "ok" });
  await log.flush();
  assert.match(await log.metrics(), /^# (HELP|TYPE) flightlog_/m);
  await log.close();
});

test('require("flightlog") from CommonJS works the same', async (t) => {
  const dir = await tempDir(t);
  const r = await runFixture("require.cjs", [dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { events: 10, mode: "sab" });
});
