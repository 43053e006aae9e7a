/**
 * `nodeStats()` over a store of 1,000,000 events: 10,000 runs of one flow,
 * each a `run_start`, 49 `step_end` of 7 steps, 49 `node_exit` of 7
 * `observable()` nodes and a `run_end`, written in batches of 1,000 events
 * (ten runs), on the segment store and on the IndexedDB store
 * (fake-indexeddb: Deno has no IndexedDB; a browser's differs). Every event
 * is read: the whole store, that flow's records (flow filter), and a node
 * glob. The claim it backs: a query over a million events in ≤ 1 s.
 *
 * Run: `npx deno bench --allow-read --allow-write --allow-env bench/node_stats_bench.ts`
 *
 * @module
 */
import "fake-indexeddb/auto";
import type { LogEvent } from "../src/event.ts";
import { IdbStore } from "../src/store/idb_store.ts";
import { SegmentStore } from "../src/store/segment_store.ts";
import { benchTempDir, decodedEvent } from "./_workload.ts";
import { seededRandom } from "../tests/support/seeded_random.ts";

const RUNS = 10_000;
const T0 = Date.UTC(2026, 11, 5);
const STEPS = ["plan", "search", "fetch", "parse", "rank", "write", "check"];
const NODES = ["complete", "embed", "rerank", "tool.web", "tool.code", "moderate", "summarize"];

// Seeded: every run of the bench stores the same durations.
const next = seededRandom(18);

function runEvents(r: number, seq: number): LogEvent[] {
  const ids = { flow_id: "agent", run_id: `r-${r}` };
  let t = T0 + r * 100;
  const events = [decodedEvent(seq++, t++, ids, undefined, "run_start")];
  for (let i = 0; i < 49; i++) {
    const step_id = STEPS[i % 7]!;
    const duration_ms = -Math.log(1 - next()) * (10 + 10 * (i % 7));
    events.push(decodedEvent(
      seq++,
      t++,
      {
        ...ids,
        step_id,
        step_type: "tool",
        status: "ok",
        duration_ms,
      },
      undefined,
      "step_end",
    ));
    events.push(decodedEvent(
      seq++,
      t++,
      {
        ...ids,
        node: NODES[i % 7]!,
        category: "llm",
        duration_ms: duration_ms / 2,
        usage: { input_tokens: 100, output_tokens: 20, cost_usd: 0.001 },
      },
      undefined,
      "node_exit",
    ));
  }
  events.push(
    decodedEvent(seq++, t, { ...ids, status: "ok", duration_ms: 99 }, undefined, "run_end"),
  );
  return events;
}

function* batches(): Generator<LogEvent[]> {
  for (let r = 0; r < RUNS; r += 10) {
    const batch: LogEvent[] = [];
    for (let s = r; s < r + 10; s++) batch.push(...runEvents(s, s * 100 + 1));
    yield batch;
  }
}

const segments = SegmentStore.open(benchTempDir(), { maxAgeMs: Infinity, maxBytes: 1 << 30 });
for (const batch of batches()) segments.append(batch);
const idb = await IdbStore.open("node-stats-bench", { maxAgeMs: Infinity, maxBytes: 1 << 30 });
for (const batch of batches()) await idb.append(batch);
addEventListener("unload", () => {
  segments.close();
  idb.close();
});

function check(rows: { count: number }[], nodes: number, executions: number): void {
  const total = rows.reduce((n, r) => n + r.count, 0);
  if (rows.length !== nodes || total !== executions) {
    throw new Error(`got ${rows.length} nodes, ${total} executions`);
  }
}

Deno.bench({
  group: "segment store",
  name: "nodeStats: every node of 1,000,000 events",
  baseline: true,
  n: 10,
  fn() {
    check(segments.nodeStats({}).rows(), 14, 980_000);
  },
});

Deno.bench({
  group: "segment store",
  name: "nodeStats: flow_id (that flow's records)",
  n: 10,
  fn() {
    check(segments.nodeStats({ flow_id: "agent" }).rows(), 14, 980_000);
  },
});

Deno.bench({
  group: "segment store",
  name: "nodeStats: node glob tool.*",
  n: 10,
  fn() {
    check(segments.nodeStats({ node: "tool.*" }).rows(), 2, 140_000);
  },
});

Deno.bench({
  group: "IndexedDB (fake-indexeddb)",
  name: "nodeStats: every node of 1,000,000 events",
  baseline: true,
  n: 5,
  async fn() {
    check((await idb.nodeStats({})).rows(), 14, 980_000);
  },
});

Deno.bench({
  group: "IndexedDB (fake-indexeddb)",
  name: "nodeStats: flow_id (the flow index)",
  n: 5,
  async fn() {
    check((await idb.nodeStats({ flow_id: "agent" })).rows(), 14, 980_000);
  },
});
