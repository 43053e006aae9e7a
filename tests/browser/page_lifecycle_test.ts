/**
 * The page lifecycle promise in real headless Chromium, in both transports:
 * a page logs 1,000 events and leaves in the same task (reload, same-origin
 * and cross-origin navigation, tab closed), with its worker ready or not
 * started yet; a page of the first origin then finds every event stored,
 * once. `bench/browser_pagehide.ts` runs the same scenario 20 times each
 * (figures in docs/browser.md "Page lifecycle"); this runs each `ROUNDS` times.
 */
import assert from "node:assert/strict";
import { PAGE_MODES, withBuiltChromium, withServer } from "../support/browser_page.ts";
import { leaveAndCount, LEAVES } from "./_lifecycle.ts";

const ROUNDS = 2;

Deno.test("events logged in the task that leaves the page are stored, once, in headless Chromium", async (t) => {
  await withBuiltChromium(async (chrome, dist) => {
    for (const { isolated, mode } of PAGE_MODES) {
      // Two servers: two ports, so two origins.
      await withServer(dist, isolated, (server) =>
        withServer(dist, isolated, async (other) => {
          for (const ready of [true, false]) {
            const worker = ready ? "its worker ready" : "its worker not started yet";
            await t.step(`"${mode}", ${worker}: reload, navigations, tab close`, async () => {
              const results: Record<string, unknown> = {};
              const all: Record<string, unknown> = {};
              for (let round = 0; round < ROUNDS; round++) {
                for (const leave of LEAVES) {
                  results[`${leave} ${round}`] = await leaveAndCount(
                    chrome.context,
                    server.url,
                    other.url,
                    {
                      dir: `${ready ? "ready" : "new"}-${leave}-${round}`,
                      events: 1000,
                      ready,
                      leave,
                    },
                  );
                  all[`${leave} ${round}`] = { stored: 1000, distinct: 1000, droppedReported: 0 };
                }
              }
              assert.deepEqual(results, all);
            });
          }
        }));
    }
  });
});
