/**
 * A full origin in real headless Chromium, in both transports: the origin's
 * quota is set through the DevTools Protocol (`Storage.overrideQuotaForOrigin`),
 * each scenario on an origin (a server) of its own.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { Chromium } from "../support/chromium.ts";
import {
  openTestPage,
  PAGE_MODES,
  withBuiltChromium,
  withServer,
} from "../support/browser_page.ts";

/**
 * Runs `fn` on a page of a fresh server whose origin may store at most
 * `quotaBytes`; closes the page and the server after.
 */
async function withQuotaPage(
  chrome: Chromium,
  dist: string,
  isolated: boolean,
  quotaBytes: number,
  fn: (page: Page) => Promise<void>,
): Promise<void> {
  await withServer(dist, isolated, async (server) => {
    const page = await openTestPage(chrome, server.url);
    try {
      // The override lasts as long as the DevTools session: closing the page ends both.
      const cdp = await chrome.context.newCDPSession(page);
      await cdp.send("Storage.overrideQuotaForOrigin", {
        origin: new URL(server.url).origin,
        quotaSize: quotaBytes,
      });
      await fn(page);
    } finally {
      await page.close();
    }
  });
}

Deno.test("a full origin in headless Chromium: eviction, exact counters, the browser's reason", async (t) => {
  await withBuiltChromium(async (chrome, dist) => {
    for (const { isolated, mode } of PAGE_MODES) {
      await t.step(
        `"${mode}": a 2 MiB origin keeps the newest events; every flush resolves; evictions are counted and announced`,
        async () => {
          await withQuotaPage(chrome, dist, isolated, 2 << 20, async (page) => {
            const r = await page.evaluate(async () => {
              // deno-lint-ignore no-explicit-any
              const { createLogger } = (globalThis as any).flightlog;
              const log = createLogger({ dir: "quota" });
              // About 200 bytes an event, random so that IndexedDB cannot compress them.
              const noise = () => Math.random().toString(36).slice(2, 12);
              const rejected: string[] = [];
              for (let i = 0; i < 60_000; i++) {
                log.info("step", {
                  flow_id: "q",
                  i,
                  pad: Array.from({ length: 15 }, noise).join(""),
                });
                if (i % 3000 === 2999) {
                  await log.flush().catch((e: Error) => rejected.push(e.message));
                }
              }
              const stats = log.stats();
              const stored = (await log.getFlowLog("q")).events.length;
              // The notices themselves are records, and the oldest go with the rest: the
              // newest has the highest seq, the number of notices this store wrote.
              const notices = (await log.query({ event: "log.evicted", limit: 1000 })).events;
              await log.close();
              return {
                rejected,
                stats,
                stored,
                noticesWritten: Math.max(...notices.map((e: { seq: number }) => e.seq)),
                noticesStored: notices.length,
                causes: [
                  ...new Set(notices.map((e: { fields: { cause?: string } }) => e.fields.cause)),
                ],
              };
            });
            assert.equal(r.stats.mode, mode);
            assert.deepEqual(r.rejected, []);
            assert.equal(r.stats.emitted, 60_000);
            assert.equal(r.stats.persisted, 60_000);
            assert.equal(r.stats.dropped, 0);
            assert.equal(r.stats.error, null);
            assert.ok(r.stored > 5_000 && r.stored < 20_000, `${r.stored} events kept in 2 MiB`);
            assert.deepEqual(r.causes, ["quota"]);
            // Every persisted event is stored, or evicted and counted in stats().evicted.
            const evictedNotices = r.noticesWritten - r.noticesStored;
            assert.equal(r.stored + r.stats.evicted - evictedNotices, 60_000);
          });
        },
      );

      await t.step(
        `"${mode}": events a 16 KiB origin refuses count as dropped; flush() and stats().error say QuotaExceededError`,
        async () => {
          await withQuotaPage(chrome, dist, isolated, 16 << 10, async (page) => {
            const r = await page.evaluate(async () => {
              // deno-lint-ignore no-explicit-any
              const { createLogger } = (globalThis as any).flightlog;
              const log = createLogger({ dir: "tiny" });
              const noise = () => Math.random().toString(36).slice(2, 12);
              for (let i = 0; i < 100; i++) {
                log.info("step", {
                  flow_id: "t",
                  i,
                  pad: Array.from({ length: 200 }, noise).join(""),
                });
              }
              const flushed = await log.flush().then(() => "resolved", (e: Error) => e.message);
              const stats = log.stats();
              const stored = (await log.getFlowLog("t")).events.length;
              await log.close().catch(() => {});
              return { flushed, stats, stored };
            });
            assert.match(
              r.flushed,
              /^Store write failed, events were dropped: .*storage quota refused .*QuotaExceededError/,
            );
            assert.equal(r.stats.error, r.flushed);
            assert.equal(r.stats.emitted, 100);
            assert.equal(r.stats.emitted, r.stats.persisted + r.stats.dropped);
            // persisted counts what IndexedDB confirmed: no more than it holds or evicted.
            assert.ok(r.stats.dropped > 0);
            assert.ok(r.stats.persisted <= r.stored + r.stats.evicted);
          });
        },
      );
    }
  });
});
