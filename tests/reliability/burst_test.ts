/**
 * Bursts into the default ring: calls made in one task, without an `await`,
 * with the default settings, while the store worker drains nothing at all
 * (made to spin through the transport's test seams, `faulty_logger.ts`). What
 * the ring holds is then all that is kept, so these are not timing tests: a
 * burst of 10,000 calls of seven inline fields loses nothing, and one of
 * 100,000 loses at most a third, whatever the worker's speed.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Logger } from "../../src/front/logger.ts";
import { EVENT, stepInlineFields } from "../../src/bench/workload.ts";
import { FaultyLogger } from "../support/faulty_logger.ts";
import { withTempDir } from "../support/temp_dir.ts";

/** `n` calls of seven inline fields (a per-call string, a float) in one task. */
function burst(log: Logger, n: number): void {
  for (let i = 0; i < n; i++) log.info(EVENT, stepInlineFields(i));
}

/**
 * Logs `n` calls into a logger with default settings whose worker spins
 * meanwhile, and returns the drops counted right after the burst; then lets
 * the worker go and returns what it stored.
 */
async function stalledBurst(
  n: number,
): Promise<{ dropped: number; persisted: number; emitted: number; stepIds: Set<unknown> }> {
  return await withTempDir(async (dir) => {
    // Only what the worker needs to be stalled: no other option is set.
    const t = new FaultyLogger({ dir, exitHooks: false });
    // A pending waitAsync does not keep the process alive; a timer does.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await t.log.flush(); // the worker is up and has registered the ring
      await t.crashWorker("hang"); // resolves once the worker spins
      burst(t.log, n);
      const dropped = t.log.stats().dropped;
      t.endHangs();
      await t.hangReached("ended");
      await t.log.flush();
      const s = t.log.stats();
      const stepIds = new Set<unknown>();
      if (n <= 10_000) {
        const page = await t.log.query({ event: EVENT, limit: n + 1 });
        for (const e of page.events) stepIds.add(e.fields.step_id);
      }
      return { dropped, persisted: s.persisted, emitted: s.emitted, stepIds };
    } finally {
      clearInterval(keepAlive);
      await t.close();
    }
  });
}

Deno.test("the default ring holds a burst of 10,000 inline-field calls with the worker stalled: nothing dropped", async () => {
  const r = await stalledBurst(10_000);
  assert.equal(r.dropped, 0);
  assert.equal(r.emitted, 10_000);
  assert.equal(r.persisted, 10_000);
  assert.equal(r.stepIds.size, 10_000);
  for (const i of [0, 4_999, 9_999]) assert.ok(r.stepIds.has(`step-${i}`), `step-${i}`);
});

Deno.test("the default ring holds two thirds of a burst of 100,000 inline-field calls with the worker stalled", async () => {
  const r = await stalledBurst(100_000);
  assert.ok(r.dropped <= 100_000 / 3, `dropped ${r.dropped} of 100,000`);
  assert.equal(r.emitted, 100_000);
  assert.equal(r.persisted + r.dropped, 100_000);
});
