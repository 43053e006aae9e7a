/**
 * `measureOverhead()` in the browser bundle, in headless Chromium, with the
 * SharedArrayBuffer ring and with the postMessage fallback: the same report
 * as in Deno, its figures measured in the page, its IndexedDB store deleted.
 */
import assert from "node:assert/strict";
import { assertOverheadReport } from "../support/overhead_report.ts";
import { stepEachPageMode } from "../support/browser_page.ts";

Deno.test("measureOverhead() runs in the browser bundle and deletes its IndexedDB store", async (t) => {
  await stepEachPageMode(t, async (page, mode) => {
    const { report, databases, userAgent } = await page.evaluate(async () => {
      // deno-lint-ignore no-explicit-any
      const { measureOverhead } = (globalThis as any).flightlog;
      const report = await measureOverhead({ seconds: 0.5 });
      // deno-lint-ignore no-explicit-any
      const idb = (globalThis as any).indexedDB;
      const databases = (await idb.databases()).map((d: { name: string }) => d.name);
      return { report, databases, userAgent: navigator.userAgent };
    });
    const r = assertOverheadReport(report, "browser");
    assert.equal(r.transport, mode);
    const runtime = r.runtime as Record<string, unknown>;
    assert.equal(runtime.user_agent, userAgent);
    assert.match(runtime.version as string, /^Chrome \d+\./);
    assert.deepEqual(r.cpu, {
      logical_cpus: (r.cpu as { logical_cpus: number }).logical_cpus,
      model: "unknown",
    });
    const store = (r.figures as { end_to_end: { store: string } }).end_to_end.store;
    assert.match(store, /^flightlog-bench-/);
    assert.ok(!databases.includes(store), `${store} in ${databases.join(", ")}`);
  });
});
