/**
 * Page lifecycle measurement (`deno task bench:pagehide [runs]`): how many
 * of the events a page logged right before it went away are in IndexedDB
 * afterwards, in headless Chromium, for both transports (`sab`: a
 * cross-origin isolated page; `message`: not isolated).
 *
 * Each run logs 1,000 `info` events to a fresh database and leaves the page
 * in the same task as the log calls: `location.reload()`, a same-origin
 * navigation, a cross-origin navigation (another port), or the tab closed
 * (Playwright's `page.close()` right after the task). Two cases: the logger
 * made earlier and its worker ready (`await log.flush()`), and the logger
 * made in the same task that leaves (its worker not started yet). A page on
 * the first origin then opens a logger on the same database, whose worker
 * stores what the leaving page spilled, and counts the run's events (each
 * once: duplicates are reported apart).
 *
 * Prints, per mode, case and way of leaving, the runs that kept all 1,000
 * events, the events missing in all, and duplicates. A measurement, not a test
 * (tests/browser/page_lifecycle_test.ts runs fewer).
 *
 * @module
 */
import type { Page } from "playwright-core";
import { buildBrowser } from "../scripts/build.ts";
import { launchChromium } from "../tests/support/chromium.ts";
import { serveBundles } from "../tests/browser/_server.ts";
import { table } from "./_workload.ts";
import { type Leave, leaveAndCount, LEAVES } from "../tests/browser/_lifecycle.ts";

const RUNS = Number(Deno.args[0] ?? 20);
const EVENTS = 1000;

interface Row {
  mode: string;
  ready: boolean;
  leave: Leave;
  kept: number;
  missing: number;
  duplicated: number;
}

const dist = await Deno.makeTempDir({ prefix: "flightlog-bench-dist-" });
const chrome = await launchChromium();
const rows: Row[] = [];
let userAgent = "";
try {
  await buildBrowser(dist);
  for (const isolated of [true, false]) {
    const server = serveBundles(dist, isolated);
    const other = serveBundles(dist, isolated);
    try {
      for (const ready of [true, false]) {
        for (const leave of LEAVES) {
          const row: Row = {
            mode: isolated ? "sab" : "message",
            ready,
            leave,
            kept: 0,
            missing: 0,
            duplicated: 0,
          };
          for (let run = 0; run < RUNS; run++) {
            const dir = `lifecycle-${ready ? "ready" : "new"}-${leave}-${run}`;
            const r = await leaveAndCount(chrome.context, server.url, other.url, {
              dir,
              events: EVENTS,
              ready,
              leave,
            });
            if (r.distinct === EVENTS) row.kept++;
            row.missing += EVENTS - r.distinct;
            row.duplicated += r.stored - r.distinct;
          }
          rows.push(row);
          console.error(JSON.stringify(row));
        }
      }
      const page: Page = await chrome.context.newPage();
      userAgent = await page.evaluate(() => navigator.userAgent);
      await page.close();
    } finally {
      await server.close();
      await other.close();
    }
  }
} finally {
  await chrome.close();
  await Deno.remove(dist, { recursive: true });
}

console.log(`flightlog page lifecycle — ${userAgent}; ${new Date().toISOString()}; ${RUNS} runs\n`);
console.log(table(
  [
    ["mode", "worker", "leave", `runs keeping all ${EVENTS}`, "events missing", "duplicates"],
    ...rows.map((r) => [
      r.mode,
      r.ready ? "ready" : "not started",
      r.leave,
      `${r.kept} / ${RUNS}`,
      String(r.missing),
      String(r.duplicated),
    ]),
  ],
  ["l", "l", "l", "r", "r", "r"],
));
