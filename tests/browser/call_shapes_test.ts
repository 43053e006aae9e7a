/**
 * The browser build takes the same call shapes as Deno: an Error alone,
 * pino's `(fields, event)` order and lazy fields, in headless Chromium, with
 * the SharedArrayBuffer ring and with the postMessage fallback.
 */
import assert from "node:assert/strict";
import { stepEachPageMode } from "../support/browser_page.ts";

Deno.test("level methods take an Error, pino's order and lazy fields in headless Chromium", async (t) => {
  await stepEachPageMode(t, async (page, mode) => {
    const r = await page.evaluate(async () => {
      // deno-lint-ignore no-explicit-any
      const { createLogger } = (globalThis as any).flightlog;
      const log = createLogger({ dir: "shapes", level: "info" });
      const flow = log.child({ flow_id: "f-shapes" });
      const err = Object.assign(new Error("refused", { cause: new Error("down") }), {
        code: "E1",
      });
      let lazyCalls = 0;
      flow.error(err);
      flow.error(err, "fetch_failed");
      flow.info({ user: 1 }, "login");
      flow.debug("off", () => ++lazyCalls);
      flow.info("on", () => ({ n: ++lazyCalls }));
      await log.flush();
      const { events } = await log.getFlowLog("f-shapes");
      const stats = log.stats();
      await log.close();
      return {
        mode: stats.mode,
        lazyCalls,
        events: events.map((e: { event: string; fields: Record<string, unknown> }) => [
          e.event,
          e.fields,
        ]),
      };
    });
    assert.equal(r.mode, mode);
    assert.equal(r.lazyCalls, 1);
    assert.deepEqual(r.events.map(([event]: [string]) => event), [
      "error",
      "fetch_failed",
      "login",
      "on",
    ]);
    const [, first] = r.events[0] as [string, { err: Record<string, unknown> }];
    assert.equal(first.err.message, "refused");
    assert.equal(first.err.code, "E1");
    assert.equal((first.err.cause as Record<string, unknown>).message, "down");
    assert.match(first.err.stack as string, /refused/);
    assert.deepEqual(r.events[1]![1], first);
    assert.deepEqual(r.events[2]![1], { flow_id: "f-shapes", user: 1 });
    assert.deepEqual(r.events[3]![1], { flow_id: "f-shapes", n: 1 });
  });
});
