import assert from "node:assert/strict";
import { attachLogger, type FlowListing, type Logger, type LoggerOptions } from "../../mod.ts";
import { withLogger } from "../support/test_logger.ts";

// A logger whose clock the test sets, starting at 1000.
function withClockedLogger(
  options: LoggerOptions,
  fn: (log: Logger, clock: { now: number }) => Promise<void>,
): Promise<void> {
  const clock = { now: 1_000 };
  return withLogger({ ...options, clock: () => clock.now }, (log) => fn(log, clock));
}

/** Every page of a listing, in order. */
async function allPages(
  log: Logger,
  options: { limit?: number; since_ms?: number; until_ms?: number } = {},
): Promise<FlowListing[][]> {
  const pages: FlowListing[][] = [];
  let cursor: string | null = null;
  do {
    const page: { flows: FlowListing[]; cursor: string | null } = await log.listFlows({
      ...options,
      ...(cursor === null ? {} : { cursor }),
    });
    pages.push(page.flows);
    cursor = page.cursor;
  } while (cursor !== null);
  return pages;
}

for (const mode of ["sab", "message", "inline"] as const) {
  Deno.test(`listFlows() in ${mode} mode pages every flow once, newest last event first`, async () => {
    await withClockedLogger({ transport: mode }, async (log, clock) => {
      // 250 flows; pairs share a last time, so ties go by flow id.
      for (let i = 0; i < 250; i++) {
        clock.now = 10_000 + Math.floor(i / 2);
        log.child({ flow_id: `f-${String(i).padStart(3, "0")}` }).info("step", { i });
      }
      const pages = await allPages(log, { limit: 100 });
      assert.deepEqual(pages.map((p) => p.length), [100, 100, 50]);
      const ids = pages.flat().map((f) => f.flow_id);
      const expected = Array.from({ length: 250 }, (_, i) => `f-${String(i).padStart(3, "0")}`)
        .sort((a, b) => {
          const ta = Math.floor(Number(a.slice(2)) / 2);
          const tb = Math.floor(Number(b.slice(2)) / 2);
          return tb - ta || (a < b ? -1 : 1);
        });
      assert.deepEqual(ids, expected);
      assert.deepEqual(ids.slice(0, 3), ["f-248", "f-249", "f-246"]);
      const first = pages[0]![0]!;
      assert.deepEqual(first, {
        flow_id: "f-248",
        run_ids: [],
        first_ts_ms: 10_124,
        last_ts_ms: 10_124,
        event_count: 1,
        error_count: 0,
        status: "-",
      });
    });
  });
}

Deno.test("listFlows() gives 100 flows by default and at most 1000", async () => {
  await withClockedLogger({ transport: "inline" }, async (log, clock) => {
    for (let i = 0; i < 1_100; i++) {
      clock.now = 1_000 + i;
      log.child({ flow_id: `f-${i}` }).info("step");
    }
    const page = await log.listFlows();
    assert.equal(page.flows.length, 100);
    assert.notEqual(page.cursor, null);
    const big = await log.listFlows({ limit: 1_000 });
    assert.equal(big.flows.length, 1_000);
    const rest = await log.listFlows({ limit: 1_000, cursor: big.cursor! });
    assert.deepEqual([rest.flows.length, rest.cursor], [100, null]);
    assert.equal(rest.flows[99]!.flow_id, "f-0");
  });
});

Deno.test("listFlows() reports run ids, times, counts and the status of the latest run", async () => {
  await withClockedLogger({ transport: "sab" }, async (log, clock) => {
    const at = (ms: number) => (clock.now = ms);
    const ok = log.child({ flow_id: "ok" });
    at(100);
    ok.child({ run_id: "r-1" }).info("run_start");
    at(110);
    ok.child({ run_id: "r-1" }).error("step_end", { status: "failed" });
    at(120);
    ok.child({ run_id: "r-1" }).info("run_end", { status: "failed" });
    at(130);
    ok.child({ run_id: "r-2" }).info("run_start");
    at(140);
    ok.child({ run_id: "r-2" }).info("run_end", { status: "ok" });
    const failed = log.child({ flow_id: "failed", run_id: "r-3" });
    at(200);
    failed.info("run_start");
    at(210);
    failed.info("run_end", { status: "failed" });
    const running = log.child({ flow_id: "running", run_id: "r-4" });
    at(300);
    running.info("run_start");
    at(310);
    running.info("step_end", { status: "ok" });
    at(400);
    log.child({ flow_id: "errors" }).error("boom");
    at(500);
    log.child({ flow_id: "quiet" }).info("hello");
    at(600);
    log.info("no flow at all");
    const { flows, cursor } = await log.listFlows();
    assert.equal(cursor, null);
    const byId = Object.fromEntries(flows.map((f) => [f.flow_id, f]));
    assert.deepEqual(flows.map((f) => f.flow_id), ["quiet", "errors", "running", "failed", "ok"]);
    assert.deepEqual(byId.ok, {
      flow_id: "ok",
      run_ids: ["r-1", "r-2"],
      first_ts_ms: 100,
      last_ts_ms: 140,
      event_count: 5,
      error_count: 1,
      status: "ok",
    });
    assert.equal(byId.failed!.status, "failed");
    assert.deepEqual(byId.running!.run_ids, ["r-4"]);
    assert.equal(byId.running!.status, "running");
    assert.deepEqual([byId.errors!.status, byId.errors!.error_count], ["errors", 1]);
    assert.equal(byId.quiet!.status, "-");
    // A flow in progress: its run ends, and a new listing says so.
    at(700);
    running.info("run_end", { status: "ok" });
    const again = (await log.listFlows()).flows;
    assert.deepEqual(again.map((f) => f.flow_id), ["running", "quiet", "errors", "failed", "ok"]);
    assert.deepEqual([again[0]!.status, again[0]!.event_count], ["ok", 3]);
  });
});

Deno.test("listFlows() lists flows active between since_ms and until_ms", async () => {
  await withClockedLogger({ transport: "inline" }, async (log, clock) => {
    const span = (flow: string, from: number, to: number) => {
      clock.now = from;
      log.child({ flow_id: flow }).info("a");
      clock.now = to;
      log.child({ flow_id: flow }).info("b");
    };
    span("early", 100, 200);
    span("across", 150, 450);
    span("middle", 300, 350);
    span("late", 500, 600);
    const ids = async (options: { since_ms?: number; until_ms?: number }) =>
      (await log.listFlows(options)).flows.map((f) => f.flow_id);
    assert.deepEqual(await ids({ since_ms: 300, until_ms: 500 }), ["across", "middle"]);
    assert.deepEqual(await ids({ since_ms: 200 }), ["late", "across", "middle", "early"]);
    assert.deepEqual(await ids({ until_ms: 150 }), ["early"]);
    assert.deepEqual(await ids({ since_ms: 601 }), []);
    // The totals are the whole flow's, not clipped to the window.
    const [across] = (await log.listFlows({ since_ms: 400, until_ms: 420 })).flows;
    assert.deepEqual([across?.first_ts_ms, across?.last_ts_ms], [150, 450]);
    const pages = await allPages(log, { since_ms: 200, limit: 1 });
    assert.deepEqual(pages.flat().map((f) => f.flow_id), ["late", "across", "middle", "early"]);
  });
});

Deno.test("listFlows() keeps its pages stable while events arrive: a snapshot at the first page", async () => {
  await withClockedLogger({ transport: "sab" }, async (log, clock) => {
    for (let i = 0; i < 6; i++) {
      clock.now = 1_000 + i;
      log.child({ flow_id: `f-${i}` }).info("step");
    }
    const first = await log.listFlows({ limit: 3 });
    assert.deepEqual(first.flows.map((f) => f.flow_id), ["f-5", "f-4", "f-3"]);
    // f-1 (not listed yet) gets newer events, and a new flow starts.
    clock.now = 2_000;
    log.child({ flow_id: "f-1" }).info("step");
    log.child({ flow_id: "new" }).info("step");
    const second = await log.listFlows({ limit: 3, cursor: first.cursor! });
    assert.deepEqual(second.flows.map((f) => f.flow_id), ["f-2", "f-1", "f-0"]);
    const f1 = second.flows[1]!;
    assert.deepEqual([f1.last_ts_ms, f1.event_count], [1_001, 1]);
    assert.equal(second.cursor, null);
    // A new listing sees everything.
    const fresh = await log.listFlows({ limit: 3 });
    assert.deepEqual(fresh.flows.map((f) => f.flow_id), ["f-1", "new", "f-5"]);
    assert.equal(fresh.flows[0]!.event_count, 2);
  });
});

Deno.test("listFlows() rejects bad options and foreign cursors with what to do", async () => {
  await withClockedLogger({ transport: "sab" }, async (log, clock) => {
    for (let i = 0; i < 3; i++) {
      clock.now = 1_000 + i;
      log.child({ flow_id: `f-${i}` }).info("step");
    }
    const bad = (options: unknown, error: typeof TypeError, message: RegExp) =>
      assert.rejects(() => log.listFlows(options as never), (err: Error) => {
        assert.ok(err instanceof error, `${err.name}: ${err.message}`);
        assert.match(err.message, message);
        return true;
      });
    await bad("all", TypeError, /options must be an object/);
    await bad({ limit: 0 }, RangeError, /limit must be an integer from 1 to 1000, got 0/);
    await bad({ limit: 1001 }, RangeError, /page with cursor for more/);
    await bad({ limit: "10" }, TypeError, /limit must be a number/);
    await bad({ since_ms: "yesterday" }, TypeError, /since_ms must be a number/);
    await bad({ until_ms: Infinity }, RangeError, /until_ms must be finite/);
    await bad({ since_ms: 5, until_ms: 1 }, RangeError, /since_ms \(5\) is after until_ms/);
    await bad({ flow_id: "f-1" }, TypeError, /Unknown listFlows\(\) option "flow_id"/);
    await bad({ cursor: 42 }, TypeError, /cursor must be the string of a previous page's cursor/);
    await bad({ cursor: "not-a-cursor" }, TypeError, /Invalid listFlows\(\) cursor/);
    const page = await log.listFlows({ limit: 1, since_ms: 0 });
    // The same listing's cursor with other bounds, or changed by a byte.
    await bad({ cursor: page.cursor, since_ms: 1 }, RangeError, /other since_ms\/until_ms/);
    await bad({ cursor: page.cursor!.slice(0, -2) }, TypeError, /Invalid listFlows\(\) cursor/);
    const query = await log.query({ limit: 1 });
    await bad({ cursor: query.cursor }, TypeError, /is a query\(\) cursor/);
    const next = await log.listFlows({ limit: 5, since_ms: 0, cursor: page.cursor! });
    assert.deepEqual(next.flows.map((f) => f.flow_id), ["f-1", "f-0"]);
  });
});

Deno.test("listFlows() lists what attached loggers wrote; an attached logger points to its owner", async () => {
  await withClockedLogger({ transport: "sab" }, async (log) => {
    const attached = attachLogger(log.producerHandle());
    try {
      attached.child({ flow_id: "from-attached", run_id: "r-a" }).info("run_start");
      await attached.flush();
      const { flows } = await log.listFlows();
      assert.deepEqual(flows.map((f) => [f.flow_id, f.run_ids, f.status]), [
        ["from-attached", ["r-a"], "running"],
      ]);
      await assert.rejects(
        () => attached.listFlows(),
        (err: Error) =>
          err instanceof TypeError &&
          /answered by the logger that made the handle/.test(err.message),
      );
    } finally {
      await attached.close();
    }
  });
});
