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
import { forEachPageMode } from "./_browser.ts";
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

const rows: Row[] = [];
let userAgent = "";
await forEachPageMode(async ({ mode, context, serve }) => {
  const server = serve();
  const other = serve(); // another port: another origin
  for (const ready of [true, false]) {
    for (const leave of LEAVES) {
      const row: Row = { mode, ready, leave, kept: 0, missing: 0, duplicated: 0 };
      for (let run = 0; run < RUNS; run++) {
        const dir = `lifecycle-${ready ? "ready" : "new"}-${leave}-${run}`;
        const r = await leaveAndCount(context, server.url, other.url, {
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
  const page = await context.newPage();
  userAgent = await page.evaluate(() => navigator.userAgent);
  await page.close();
});

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
