/**
 * A store worker whose script does not load, in real headless Chromium, in
 * both transports: the server answers `flightlog_worker.js` with 404 (given
 * up at once) or 503 (tried again, START_ATTEMPTS in all). One error names
 * the URL and why; the events that waited are counted as dropped.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { START_ATTEMPTS } from "../../src/transport/supervisor.ts";
import {
  loadTestPage,
  PAGE_MODES,
  withBuiltChromium,
  withServer,
} from "../support/browser_page.ts";

/** Logs 10 events on a fresh logger, waits until it gives its worker up, and reports. */
function giveUp(page: Page) {
  return page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const log = (globalThis as any).flightlog.createLogger({ dir: "no-worker" });
    for (let i = 0; i < 10; i++) log.info("waiting", { i });
    const before = log.stats().worker;
    // A real condition, polled: the worker is given up (the test's timeout bounds it).
    while (log.stats().worker !== "failed") await new Promise((r) => setTimeout(r, 20));
    const stats = log.stats();
    const flushed = await log.flush().then(() => "resolved", (e: Error) => e.message);
    log.info("after"); // never throws: dropped and counted
    const after = log.stats();
    await log.close();
    return { before, stats, flushed, after };
  });
}

Deno.test("a worker script that does not load: one error naming it, bounded attempts, events counted as dropped", async (t) => {
  await withBuiltChromium(async (chrome, dist) => {
    for (const { isolated, mode } of PAGE_MODES) {
      for (const status of [404, 503]) {
        const attempts = status === 404 ? 1 : START_ATTEMPTS;
        await t.step(
          `"${mode}": HTTP ${status} for the worker script: ${attempts} attempt(s), then given up`,
          async () => {
            let requests = 0;
            const answer = (name: string) => {
              if (name !== "flightlog_worker.js") return undefined;
              requests++;
              return new Response("nope", { status });
            };
            await withServer(dist, isolated, async (server) => {
              const page = await chrome.context.newPage();
              const errors: string[] = [];
              page.on("console", (msg) => {
                if (msg.type() === "error" && msg.text().includes("flightlog")) {
                  errors.push(msg.text());
                }
              });
              try {
                await loadTestPage(page, server.url);
                const r = await giveUp(page);
                const url = `${server.url}flightlog_worker.js`;
                assert.equal(r.before, "starting");
                const why = status === 404
                  ? "Not Found; serve flightlog_worker.js next to flightlog.js, or load flightlog.inline.js, which needs no second file"
                  : `Service Unavailable; check the server; given up after ${START_ATTEMPTS} attempts,`;
                assert.equal(
                  r.stats.error,
                  `The flightlog worker could not start: its script ${url} answered HTTP ${status} ${why}${
                    status === 404 ? ";" : ""
                  } this logger drops (and counts) every event from now on`,
                );
                assert.equal(r.flushed, r.stats.error);
                // Every event that waited for the worker is counted as dropped, none pending.
                assert.deepEqual(
                  [r.stats.emitted, r.stats.persisted, r.stats.dropped, r.stats.pending],
                  [10, 0, 10, 0],
                );
                assert.deepEqual([r.after.emitted, r.after.dropped], [11, 11]);
                // Each attempt: the worker's load, and one fetch that finds out why.
                assert.equal(requests, 2 * attempts);
                assert.deepEqual(errors, [r.stats.error], "one error on the console");
              } finally {
                await page.close();
              }
            }, { answer });
          },
        );
      }
    }
  });
});
