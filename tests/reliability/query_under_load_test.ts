/**
 * A worker that never runs out of work still answers queries: the caller
 * keeps its ring at least half full, so the worker's drain loop never goes
 * idle, and a query must come back while that load still runs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { withLogger } from "../support/test_logger.ts";

// Ends the load if the query never comes back (the test then fails); not a timing.
const LOAD_CAP_MS = 10_000;

Deno.test("a query is answered while the worker drains without a pause", async () => {
  await withLogger({}, async (log) => {
    await log.flush();
    const half = log.stats().ring_bytes / 2;
    const started = Date.now();
    let answered = false;
    let topUps = 0;
    const load = (async () => {
      let i = 0;
      while (!answered && Date.now() - started < LOAD_CAP_MS) {
        // Half a 16 MiB ring takes the worker tens of milliseconds: it is never drained meanwhile.
        while (log.stats().ring_used < half) {
          for (let k = 0; k < 1000; k++) log.info("step_end", { flow_id: "f-load", i: i++ });
        }
        topUps++;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      return Date.now() - started < LOAD_CAP_MS;
    })();
    const flow = await log.getFlowLog("f-other");
    answered = true;
    const stillLoaded = await load;
    assert.equal(flow.events.length, 0);
    assert.ok(topUps > 0, "the load ran");
    assert.ok(stillLoaded, `the query was answered only once the load had stopped`);
    assert.equal(log.stats().dropped, 0);
  });
});
