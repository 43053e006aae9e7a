/**
 * The hung-worker watchdog in real headless Chromium (cross-origin isolated,
 * so the `sab` transport): the store worker is made to spin in an endless
 * loop, the watchdog (on an injected clock) calls it hung, and a new worker
 * takes over the ring and the IndexedDB store through the crash path.
 * (The `message` transport of a page that is not isolated has no
 * SharedArrayBuffer for the fault injection's flag; its watchdog is the same
 * code, tested under Deno in tests/reliability/worker_hang_test.ts.)
 */
import assert from "node:assert/strict";
import { buildBrowserEntry } from "../../scripts/build.ts";
import { openTestPage, withBuiltChromium, withServer } from "../support/browser_page.ts";

/** The test page's entry and store worker, built with the fault injection. */
async function buildHangBundles(dist: string): Promise<void> {
  await buildBrowserEntry(new URL("./_hang_entry.ts", import.meta.url), dist, "hang.js");
  await buildBrowserEntry(new URL("./_hang_worker.ts", import.meta.url), dist, "hang_worker.js");
}

Deno.test("a hung browser worker is replaced in Chromium; every event is stored with its bindings", async () => {
  await withBuiltChromium(async (chrome, dist) => {
    await withServer(dist, true, async (server) => {
      const page = await openTestPage(chrome, `${server.url}?bundle=hang.js`);
      const r = await page.evaluate(async () => {
        // deno-lint-ignore no-explicit-any
        const { FaultyLogger } = (globalThis as any).flightlog;
        const t = new FaultyLogger({
          dir: "hang",
          hungAfterMs: 2000,
          workerUrl: "./hang_worker.js",
        });
        const log = t.log;
        const flow = log.child({ flow_id: "f-1", k: 1 });
        let n = 0;
        const logSome = (event: string) => {
          for (let i = 0; i < 100; i++) flow.info(event, { n: n++ });
        };
        logSome("before");
        await log.flush();
        await t.crashWorker("hang");
        logSome("during_hang");
        const restarted = t.nextRestart();
        const flushing = log.flush().catch((e: Error) => e);
        while (!t.waiting()) await new Promise((resolve) => setTimeout(resolve, 0));
        const early = t.watchdog.poll();
        t.now += 1999;
        const almost = t.watchdog.poll();
        t.now += 1;
        const hung = t.watchdog.poll();
        const why = await restarted;
        await flushing;
        logSome("after");
        await log.flush().catch(() => {});
        await log.flush();
        const page = await log.query({ flow_id: "f-1", limit: 1000 });
        const s = log.stats();
        await t.close();
        return {
          mode: s.mode,
          early,
          almost,
          hung,
          why: why.message,
          restarts: t.restarts,
          emitted: s.emitted,
          persisted: s.persisted,
          dropped: s.dropped,
          ns: page.events.map((e: { fields: { n: number } }) => e.fields.n),
          bound: page.events.every((e: { fields: { k?: number } }) => e.fields.k === 1),
        };
      });
      assert.equal(r.mode, "sab");
      assert.deepEqual([r.early, r.almost, r.hung], [false, false, true]);
      assert.match(r.why, /no progress for 2000 ms/);
      assert.equal(r.restarts, 1);
      assert.equal(r.emitted, 300);
      assert.equal(r.persisted, 300);
      assert.equal(r.dropped, 0);
      assert.deepEqual(r.ns, Array.from({ length: 300 }, (_, i) => i));
      assert.ok(r.bound);
      await page.close();
    });
  }, buildHangBundles);
});
