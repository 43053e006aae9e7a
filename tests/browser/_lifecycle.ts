/**
 * One run of the page-lifecycle scenario, shared by the Chromium test
 * (`page_lifecycle_test.ts`) and the measurement (`bench/browser_pagehide.ts`):
 * a page logs events and leaves in the same task; a page of the first origin
 * then opens a logger on the same database and counts what was stored.
 *
 * @module
 */
import type { BrowserContext, Page } from "playwright-core";

/** How the page goes away, in the same task as its last log call. */
export type Leave = "reload" | "same-origin" | "cross-origin" | "close";

/** Every way of leaving, in the order the measurement prints them. */
export const LEAVES: readonly Leave[] = ["reload", "same-origin", "cross-origin", "close"];

/** One run's setup. */
export interface LeaveRun {
  /** The database (and flow id) of this run: fresh per run. */
  dir: string;
  /** Events logged in the leaving task. */
  events: number;
  /** True: the logger is made and its worker ready (a flush answered) before that task. */
  ready: boolean;
  leave: Leave;
  /** More `createLogger` options, e.g. `{ transport: "message" }`. */
  options?: Record<string, unknown>;
}

/** What the next page found. */
export interface LeaveResult {
  /** Events of the run stored (with duplicates). */
  stored: number;
  /** Distinct events of the run stored. */
  distinct: number;
  /** `log.dropped` counts stored for the leaving page's producer. */
  droppedReported: number;
}

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const g = globalThis as { flightlogReady?: boolean; flightlogLeft?: boolean };
    return g.flightlogReady === true && g.flightlogLeft !== true;
  });
}

/** Logs `run.events` events, leaves as `run.leave` says, and counts them from a new page. */
export async function leaveAndCount(
  context: BrowserContext,
  url: string,
  otherUrl: string,
  run: LeaveRun,
): Promise<LeaveResult> {
  const page = await context.newPage();
  await page.goto(url);
  await ready(page);
  const target = run.leave === "same-origin"
    ? `${url}?next`
    : run.leave === "cross-origin"
    ? otherUrl
    : run.leave;
  if (run.ready) {
    await page.evaluate(async ({ dir, options }) => {
      // deno-lint-ignore no-explicit-any
      const g = globalThis as any;
      g.log = g.flightlog.createLogger({ ...options, dir });
      await g.log.flush();
    }, { dir: run.dir, options: run.options ?? {} });
  }
  // One task: the log calls and the start of the navigation.
  await page.evaluate(({ dir, events, target, options }) => {
    // deno-lint-ignore no-explicit-any
    const g = globalThis as any;
    g.log ??= g.flightlog.createLogger({ ...options, dir });
    for (let i = 0; i < events; i++) g.log.info("before_leave", { flow_id: dir, i });
    g.flightlogLeft = true;
    if (target === "reload") location.reload();
    else if (target !== "close") location.href = target;
  }, { dir: run.dir, events: run.events, target, options: run.options ?? {} });
  let check = page;
  if (run.leave === "close") {
    await page.close();
    check = await context.newPage();
    await check.goto(url);
  }
  await ready(check);
  if (run.leave === "cross-origin") await check.goto(url);
  await ready(check);
  const r = await check.evaluate(async ({ dir, options }) => {
    // deno-lint-ignore no-explicit-any
    const { createLogger } = (globalThis as any).flightlog;
    const log = createLogger({ ...options, dir });
    const trace = await log.getFlowLog(dir);
    const seen = new Set<number>();
    for (const e of trace.events) seen.add(e.fields.i);
    let droppedReported = 0;
    const drops = await log.query({ event: "log.dropped", limit: 1000 });
    for (const e of drops.events) droppedReported += e.fields.count;
    await log.close();
    return { stored: trace.events.length, distinct: seen.size, droppedReported };
  }, { dir: run.dir, options: run.options ?? {} });
  await check.close();
  return r;
}
