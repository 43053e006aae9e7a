import assert from "node:assert/strict";
import { createLogger, observable, observeRun } from "../../mod.ts";
import type { LogEvent } from "../../src/event.ts";
import {
  NodeStatsAccumulator,
  type NodeStatsRow,
  SCAN_WINDOW_EVENTS,
  SCAN_WINDOW_RECORDS,
  scanNodeStats,
} from "../../src/query/node_stats.ts";
import type { RecordSummary } from "../../src/query/record.ts";
import type { QueryIndex } from "../../src/query/search.ts";
import { SKETCH_RELATIVE_ACCURACY } from "../../src/query/duration_sketch.ts";
import { makeEvent } from "../support/log_event.ts";

const step = (ts: number, fields: Record<string, unknown>, level: "info" | "error" = "info") =>
  makeEvent(ts, { flow_id: "f", ...fields }, { event: "step_end", level });
const node = (ts: number, event: "node_exit" | "node_error", fields: Record<string, unknown>) =>
  makeEvent(ts, { flow_id: "f", ...fields }, {
    event,
    level: event === "node_error" ? "error" : "info",
  });
const runEnd = (ts: number, run: string, duration_ms: number) =>
  makeEvent(ts, { flow_id: "f", run_id: run, status: "ok", duration_ms }, { event: "run_end" });

/** Percentiles as `rows()` defines them: the value at rank ⌊q·(n − 1)⌋. */
function exact(values: number[], q: number): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function near(got: number | null, want: number, what: string): void {
  assert.ok(
    got !== null && Math.abs(got - want) <= want * SKETCH_RELATIVE_ACCURACY,
    `${what}: ${got} vs ${want}`,
  );
}

/** Ten runs of flow f: fetch takes 1..100 ms over them, parse 10 ms, an LLM node with usage. */
function tenRuns(): LogEvent[] {
  const events: LogEvent[] = [];
  let ts = 1_000;
  let fetchMs = 1;
  for (let r = 0; r < 10; r++) {
    const run = `r-${r}`;
    for (let i = 0; i < 10; i++) {
      events.push(
        step(ts++, {
          run_id: run,
          step_id: "fetch",
          step_type: "http",
          status: "ok",
          duration_ms: fetchMs++,
        }),
      );
    }
    const parse = r === 3 ? "failed" : r === 4 ? "skipped" : r === 5 ? "cancelled" : "ok";
    events.push(
      step(ts++, {
        run_id: run,
        step_id: "parse",
        step_type: "tool",
        status: parse,
        duration_ms: 10,
      }, parse === "failed" ? "error" : "info"),
    );
    events.push(node(ts++, "node_exit", {
      run_id: run,
      node: "complete",
      category: "llm.openai",
      duration_ms: 200,
      usage: { input_tokens: 100, output_tokens: 20, total_tokens: 120, cost_usd: 0.5 },
    }));
    if (r % 5 === 0) {
      events.push(
        node(ts++, "node_error", {
          run_id: run,
          node: "complete",
          category: "llm.openai",
          duration_ms: 50,
        }),
      );
    }
    events.push(runEnd(ts++, run, 1_000));
  }
  return events;
}

function byName(rows: NodeStatsRow[]): Record<string, NodeStatsRow> {
  return Object.fromEntries(rows.map((r) => [r.name, r]));
}

Deno.test("NodeStatsAccumulator counts each node's executions by status, exactly", () => {
  const stats = new NodeStatsAccumulator();
  stats.offer(tenRuns());
  const rows = stats.rows();
  assert.deepEqual(rows.map((r) => [r.kind, r.name, r.step_type, r.category]), [
    ["step", "fetch", "http", null],
    ["node", "complete", null, "llm.openai"],
    ["step", "parse", "tool", null],
  ]);
  const { fetch, parse, complete } = byName(rows);
  assert.deepEqual(
    [fetch!.count, fetch!.ok, fetch!.failed, fetch!.skipped, fetch!.cancelled],
    [100, 100, 0, 0, 0],
  );
  assert.deepEqual(
    [parse!.count, parse!.ok, parse!.failed, parse!.skipped, parse!.cancelled],
    [10, 7, 1, 1, 1],
  );
  assert.deepEqual([complete!.count, complete!.ok, complete!.failed], [12, 10, 2]);
  assert.equal(stats.size, 3);
});

Deno.test("NodeStatsAccumulator gives percentiles within 1%, and max and total exactly", () => {
  const stats = new NodeStatsAccumulator({ flow_id: "f" });
  stats.offer(tenRuns());
  const { fetch, complete } = byName(stats.rows());
  const fetchMs = Array.from({ length: 100 }, (_, i) => i + 1);
  near(fetch!.p50, exact(fetchMs, 0.5), "p50");
  near(fetch!.p90, exact(fetchMs, 0.9), "p90");
  near(fetch!.p99, exact(fetchMs, 0.99), "p99");
  assert.equal(fetch!.max, 100);
  assert.equal(fetch!.total_ms, 5_050);
  assert.equal(complete!.max, 200);
  assert.equal(complete!.total_ms, 10 * 200 + 2 * 50);
  near(complete!.p50, 200, "node p50");
});

Deno.test("NodeStatsAccumulator sums tokens and cost, and the share of the flow's wall time", () => {
  const stats = new NodeStatsAccumulator();
  stats.offer(tenRuns());
  stats.offer([
    step(9_000, {
      run_id: "r-0",
      step_id: "fetch",
      step_type: "http",
      status: "ok",
      duration_ms: 0,
      input_tokens: 7,
      output_tokens: 3,
      cost_usd: 0.25,
    }),
  ]);
  const { fetch, complete, parse } = byName(stats.rows());
  assert.deepEqual([complete!.tokens_in, complete!.tokens_out, complete!.cost_usd], [
    1_000,
    200,
    5,
  ]);
  assert.deepEqual([fetch!.tokens_in, fetch!.tokens_out, fetch!.cost_usd], [7, 3, 0.25]);
  // Ten runs of 1,000 ms each.
  assert.equal(fetch!.wall_share, 5_050 / 10_000);
  assert.equal(parse!.wall_share, 100 / 10_000);
  const noFlow = new NodeStatsAccumulator();
  noFlow.offer([makeEvent(1, { step_id: "s", duration_ms: 5 })]);
  assert.equal(noFlow.rows()[0]!.flow_id, null);
  assert.equal(noFlow.rows()[0]!.wall_share, null);
});

Deno.test("NodeStatsAccumulator applies run, time, node glob and category criteria", () => {
  const events = tenRuns();
  const count = (filter: ConstructorParameters<typeof NodeStatsAccumulator>[0]) => {
    const stats = new NodeStatsAccumulator(filter);
    stats.offer(events);
    return stats.rows().map((r) => `${r.name}:${r.count}`).sort();
  };
  assert.deepEqual(count({ run_id: "r-0" }), ["complete:2", "fetch:10", "parse:1"]);
  assert.deepEqual(count({ run_id: ["r-0", "r-1"] }), ["complete:3", "fetch:20", "parse:2"]);
  assert.deepEqual(count({ run_id: [] }), []);
  assert.deepEqual(count({ node: "f*" }), ["fetch:100"]);
  assert.deepEqual(count({ node: "pars?" }), ["parse:10"]);
  // Category by whole dot-separated parts, as query() matches it.
  assert.deepEqual(count({ category: "llm" }), ["complete:12"]);
  assert.deepEqual(count({ category: "ll" }), []);
  // The first run's events are 1,000..1,013 (ts of run r-0).
  assert.deepEqual(count({ since_ms: 1_000, until_ms: 1_005 }), ["fetch:5"]);
  assert.deepEqual(count({ flow_id: "other" }), []);
  // A run's wall time counts in its window only.
  const one = new NodeStatsAccumulator({ run_id: "r-1" });
  one.offer(events);
  assert.equal(byName(one.rows()).fetch!.wall_share, (11 + 20) * 10 / 2 / 1_000);
});

Deno.test("NodeStatsAccumulator refuses a bad filter with what to pass", () => {
  assert.throws(() => new NodeStatsAccumulator({ level: "error" } as never), {
    name: "TypeError",
    message:
      /Unknown node stats filter key "level": use flow_id, run_id, node, category, since_ms, until_ms/,
  });
  assert.throws(() => new NodeStatsAccumulator({ node: 3 } as never), /node must be a glob string/);
  assert.throws(
    () => new NodeStatsAccumulator({ run_id: ["r", 1] } as never),
    /run_id must be a run id string or an array of them/,
  );
  assert.throws(() => new NodeStatsAccumulator({ run_id: 1 } as never), /run_id must be a string/);
  assert.throws(() => new NodeStatsAccumulator({ since_ms: 5, until_ms: 1 }), RangeError);
  assert.throws(() => new NodeStatsAccumulator(null as never), /must be an object, got null/);
});

Deno.test("NodeStatsAccumulator.merge() gives what one accumulator over every event gives", () => {
  const events = tenRuns();
  const whole = new NodeStatsAccumulator();
  whole.offer(events);
  const a = new NodeStatsAccumulator();
  const b = new NodeStatsAccumulator();
  a.offer(events.filter((_, i) => i % 2 === 0));
  b.offer(events.filter((_, i) => i % 2 === 1));
  a.merge(b);
  assert.deepEqual(a.rows(), whole.rows());
});

Deno.test("scanNodeStats() over 1,000,000 events holds one sketch per node and reads a window at a time", () => {
  // 1,000 records of 1,000 events each, made when read: nothing holds them all.
  const NODES = ["plan", "search", "read", "write"];
  type R = RecordSummary;
  const records: R[] = Array.from({ length: 1_000 }, (_, i) => ({
    seq: i + 1,
    eventCount: 1_000,
    errorCount: 0,
    maxSeverity: 9,
    minTs: i * 1_000,
    maxTs: i * 1_000 + 999,
  }));
  const index: QueryIndex<R> = {
    segments: [{ minTs: 0, maxTs: 999_999, maxSeverity: 9, records }],
    flowRecords: () => null,
  };
  let largestRead = 0;
  let held = 0;
  const stats = scanNodeStats(index, (rs) => {
    largestRead = Math.max(largestRead, rs.length);
    return rs.map((r) => {
      const events: LogEvent[] = [];
      for (let j = 0; j < 1_000; j++) {
        const ts = r.minTs + j;
        events.push(makeEvent(ts, {
          flow_id: "agent",
          node: NODES[ts % 4],
          duration_ms: 1 + (ts % 997),
        }, { event: "node_exit" }));
      }
      return [r, events] as const;
    });
  }, {});
  held = stats.size;
  // One 1,000-event record a read: two would pass SCAN_WINDOW_EVENTS.
  assert.equal(largestRead, 1);
  assert.equal(held, NODES.length);
  const rows = stats.rows();
  assert.equal(rows.reduce((n, r) => n + r.count, 0), 1_000_000);
  for (const entry of stats.entries()) {
    assert.ok(entry.durations.size <= 700, `${entry.row.name}: ${entry.durations.size} buckets`);
  }
});

Deno.test("scanNodeStats() reads small records SCAN_WINDOW_RECORDS at a time, big ones alone", () => {
  // Records of 1 event, then of 600 (one per read: two would pass the event bound), then of 1,024.
  const sizes = [...Array(200).fill(1), ...Array(5).fill(600), ...Array(3).fill(1_024)];
  const records: RecordSummary[] = sizes.map((eventCount, i) => ({
    seq: i + 1,
    eventCount,
    errorCount: 0,
    maxSeverity: 9,
    minTs: i,
    maxTs: i,
  }));
  const index: QueryIndex<RecordSummary> = {
    segments: [{ minTs: 0, maxTs: sizes.length, maxSeverity: 9, records }],
    flowRecords: () => null,
  };
  const reads: number[][] = [];
  const stats = scanNodeStats(index, (rs) => {
    reads.push(rs.map((r) => r.eventCount));
    return rs.map((r) =>
      [
        r,
        Array.from(
          { length: r.eventCount },
          (_, j) => makeEvent(r.minTs, { node: "n", duration_ms: j }, { event: "node_exit" }),
        ),
      ] as const
    );
  }, {});
  assert.deepEqual(reads.map((r) => r.length), [
    SCAN_WINDOW_RECORDS,
    SCAN_WINDOW_RECORDS,
    SCAN_WINDOW_RECORDS,
    200 - 3 * SCAN_WINDOW_RECORDS + 1, // the last small ones and the first 600
    1,
    1,
    1,
    1,
    1,
    1,
    1,
  ]);
  for (const read of reads) {
    assert.ok(read.length === 1 || read.reduce((a, b) => a + b) <= SCAN_WINDOW_EVENTS);
  }
  assert.equal(stats.rows()[0]?.count, sizes.reduce((a, b) => a + b));
});

for (const mode of ["inline", "message", "sab"] as const) {
  Deno.test(`nodeStats() in ${mode} mode gives rows for observeRun() steps and observable() nodes`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "flightlog-nodes-" });
    const log = createLogger({ dir, transport: mode, exitHooks: false });
    try {
      let clock = 0;
      const now = () => clock;
      const complete = observable((ms: number) => {
        clock += ms;
        return { tokens: 5 };
      }, {
        logger: log,
        node: "complete",
        now,
        category: "llm.openai",
        provider: {
          name: "openai",
          usage: (r) => ({ input_tokens: 40, output_tokens: r.tokens, cost_usd: 0.01 }),
        },
      });
      for (let r = 0; r < 4; r++) {
        const run = observeRun(log, { flow_id: "agent", run_id: `r-${r}`, now });
        const job = run.job("main");
        await job.runStep("think", { step_type: "llm" }, () => {
          complete(100 * (r + 1));
        });
        clock += 50;
        job.end();
        run.end();
      }
      const rows = await log.nodeStats({ flow_id: "agent" });
      const { think, complete: node } = byName(rows);
      assert.deepEqual([think!.kind, think!.step_type, think!.count, think!.ok], [
        "step",
        "llm",
        4,
        4,
      ]);
      assert.equal(think!.total_ms, 1_000);
      assert.equal(think!.max, 400);
      // The step carries its calls' usage, in and out apart.
      assert.deepEqual([think!.tokens_in, think!.tokens_out], [160, 20]);
      assert.ok(Math.abs(think!.cost_usd - 0.04) < 1e-12);
      assert.deepEqual([node!.kind, node!.category, node!.count, node!.tokens_in], [
        "node",
        "llm.openai",
        4,
        160,
      ]);
      // Four runs of 150, 250, 350 and 450 ms.
      assert.equal(think!.wall_share, 1_000 / 1_200);
      near(node!.p50, 200, "node p50");
      assert.deepEqual((await log.nodeStats({ category: "llm" })).map((r) => r.name), ["complete"]);
      await assert.rejects(() => log.nodeStats({ nodes: "x" } as never), TypeError);
    } finally {
      await log.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
