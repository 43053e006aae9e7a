/**
 * `nodeStats()` over a segment store of 1,000,000 events (the store of
 * tests/support/million_event_runs.ts). Every event is read: the whole store, that
 * flow's records (flow filter), and a node glob. The claim it backs: a query
 * over a million events in ≤ 1 s. bench/node_stats_idb_bench.ts measures the
 * IndexedDB store in its own process.
 *
 * Run: `npx deno bench --allow-read --allow-write --allow-env bench/node_stats_bench.ts`
 *
 * @module
 */
import { SegmentStore } from "../src/store/segment_store.ts";
import { benchTempDir } from "./_workload.ts";
import { checkRows, nodeStatsBatches } from "../tests/support/million_event_runs.ts";

const segments = SegmentStore.open(benchTempDir(), { maxAgeMs: Infinity, maxBytes: 1 << 30 });
for (const batch of nodeStatsBatches()) segments.append(batch);
addEventListener("unload", () => segments.close());

Deno.bench({
  group: "segment store",
  name: "nodeStats: every node of 1,000,000 events",
  baseline: true,
  n: 10,
  fn() {
    checkRows(segments.nodeStats({}).rows(), 14, 980_000);
  },
});

Deno.bench({
  group: "segment store",
  name: "nodeStats: flow_id (that flow's records)",
  n: 10,
  fn() {
    checkRows(segments.nodeStats({ flow_id: "agent" }).rows(), 14, 980_000);
  },
});

Deno.bench({
  group: "segment store",
  name: "nodeStats: node glob tool.*",
  n: 10,
  fn() {
    checkRows(segments.nodeStats({ node: "tool.*" }).rows(), 2, 140_000);
  },
});
