/**
 * `nodeStats()` over an IndexedDB store of 1,000,000 events (the store of
 * tests/support/million_event_runs.ts) under fake-indexeddb: Deno has no IndexedDB,
 * and a browser's is not this one. The whole store, and that flow's records
 * through the `flow` index.
 *
 * Run: `npx deno bench --allow-read --allow-write --allow-env bench/node_stats_idb_bench.ts`
 *
 * @module
 */
import "fake-indexeddb/auto";
import { IdbStore } from "../src/store/idb_store.ts";
import { checkRows, nodeStatsBatches } from "../tests/support/million_event_runs.ts";

const idb = await IdbStore.open("node-stats-bench", { maxAgeMs: Infinity, maxBytes: 1 << 30 });
for (const batch of nodeStatsBatches()) await idb.append(batch);
addEventListener("unload", () => idb.close());

Deno.bench({
  group: "IndexedDB (fake-indexeddb)",
  name: "nodeStats: every node of 1,000,000 events",
  baseline: true,
  n: 5,
  async fn() {
    checkRows((await idb.nodeStats({})).rows(), 14, 980_000);
  },
});

Deno.bench({
  group: "IndexedDB (fake-indexeddb)",
  name: "nodeStats: flow_id (the flow index)",
  n: 5,
  async fn() {
    checkRows((await idb.nodeStats({ flow_id: "agent" })).rows(), 14, 980_000);
  },
});
