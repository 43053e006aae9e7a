/**
 * `nodeStats()` over a real segment store of 1,000,000 events: exact counts
 * and sums, percentiles within the sketch's stated error, one sketch per
 * node whatever the number of events. bench/node_stats_bench.ts times the
 * same store (a test does not time: the machine may be slow).
 */
import assert from "node:assert/strict";
import { SKETCH_RELATIVE_ACCURACY } from "../../src/query/duration_sketch.ts";
import { SegmentStore } from "../../src/store/segment_store.ts";
import { NODES, nodeStatsBatches, RUNS, STEPS } from "../support/million_event_runs.ts";
import { withTempDir } from "../support/temp_dir.ts";

Deno.test("nodeStats() over a segment store of 1,000,000 events: exact counts, percentiles within 1%", async () => {
  await withTempDir((dir) => {
    const durations = new Map<string, number[]>();
    let events = 0;
    const store = SegmentStore.open(dir, { maxAgeMs: Infinity, maxBytes: 1 << 30 });
    try {
      for (const batch of nodeStatsBatches()) {
        events += batch.length;
        for (const e of batch) {
          const name = e.fields.step_id ?? e.fields.node;
          if (typeof name !== "string") continue;
          let list = durations.get(name);
          if (list === undefined) durations.set(name, list = []);
          list.push(e.fields.duration_ms as number);
        }
        store.append(batch);
      }
      assert.equal(events, 1_000_000);
      const stats = store.nodeStats({ flow_id: "agent" });
      // Memory: one aggregate (one sketch) per node, not per event or run.
      assert.equal(stats.size, STEPS.length + NODES.length);
      const rows = stats.rows();
      assert.deepEqual(rows.map((r) => r.name).sort(), [...STEPS, ...NODES].sort());
      const wall = RUNS * 99;
      for (const row of rows) {
        const list = durations.get(row.name)!;
        const total = list.reduce((a, b) => a + b, 0);
        list.sort((a, b) => a - b);
        const perRun = 7;
        assert.deepEqual(
          [row.count, row.ok, row.failed, row.kind],
          [RUNS * perRun, RUNS * perRun, 0, STEPS.includes(row.name) ? "step" : "node"],
          row.name,
        );
        assert.equal(row.max, list.at(-1), row.name);
        assert.ok(Math.abs(row.total_ms - total) <= total * 1e-12, row.name);
        assert.ok(Math.abs(row.wall_share! - total / wall) <= 1e-12, row.name);
        for (const [q, got] of [[0.5, row.p50], [0.9, row.p90], [0.99, row.p99]] as const) {
          const exact = list[Math.floor(q * (list.length - 1))]!;
          assert.ok(
            Math.abs(got! - exact) <= exact * SKETCH_RELATIVE_ACCURACY,
            `${row.name} p${q * 100}: ${got} vs ${exact}`,
          );
        }
        const isNode = NODES.includes(row.name);
        assert.equal(row.tokens_in, isNode ? RUNS * perRun * 100 : 0, row.name);
        assert.equal(row.tokens_out, isNode ? RUNS * perRun * 20 : 0, row.name);
        assert.ok(Math.abs(row.cost_usd - (isNode ? RUNS * perRun * 0.001 : 0)) < 1e-6, row.name);
      }
      // The whole store (no flow filter) reads the same rows.
      assert.deepEqual(store.nodeStats().rows(), rows);
    } finally {
      store.close();
    }
  });
});
