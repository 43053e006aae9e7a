/**
 * `listFlows()` over 10,000 flows of 10 events each (a run of eight steps,
 * with its `run_id`), written in batches of 1,000 events (100 flows, one
 * record each): a first page of 100, a page deep in the listing (cursor),
 * and a page of 1,000, on the segment store and on the IndexedDB store
 * (fake-indexeddb: Deno has no IndexedDB; a browser's differs).
 *
 * Run: `npx deno bench --allow-read --allow-write --allow-env bench/list_flows_bench.ts`
 *
 * @module
 */
import "fake-indexeddb/auto";
import type { LogEvent } from "../src/event.ts";
import { IdbStore } from "../src/store/idb_store.ts";
import { SegmentStore } from "../src/store/segment_store.ts";
import { benchTempDir, decodedEvent } from "./_workload.ts";

const FLOWS = 10_000;
const T0 = Date.UTC(2026, 11, 5);

/** The 10 events of flow `f`: run_start, eight steps, run_end. */
function flowEvents(f: number, seq: number): LogEvent[] {
  const ids = { flow_id: `f-${f}`, run_id: `r-${f}` };
  const t = T0 + f * 10;
  const events = [decodedEvent(seq, t, ids, undefined, "run_start")];
  for (let s = 1; s <= 8; s++) {
    events.push(decodedEvent(seq + s, t + s, { ...ids, step_id: `s-${s}` }, undefined, "step_end"));
  }
  events.push(decodedEvent(seq + 9, t + 9, { ...ids, status: "ok" }, undefined, "run_end"));
  return events;
}

function* batches(): Generator<LogEvent[]> {
  for (let f = 0; f < FLOWS; f += 100) {
    const batch: LogEvent[] = [];
    for (let g = f; g < f + 100; g++) batch.push(...flowEvents(g, g * 10 + 1));
    yield batch;
  }
}

const segments = SegmentStore.open(benchTempDir(), { maxAgeMs: Infinity });
for (const batch of batches()) segments.append(batch);
const idb = await IdbStore.open("list-flows-bench", { maxAgeMs: Infinity, maxBytes: 1 << 30 });
for (const batch of batches()) await idb.append(batch);
addEventListener("unload", () => {
  segments.close();
  idb.close();
});

function check(flows: number, want: number): void {
  if (flows !== want) throw new Error(`got ${flows} flows, want ${want}`);
}

// The cursor of page 50 of 100 (flows 4,901 to 5,000 from the newest).
let deep = segments.listFlowPage({ limit: 1000 });
for (let i = 0; i < 3; i++) deep = segments.listFlowPage({ limit: 1000, cursor: deep.cursor! });
deep = segments.listFlowPage({ limit: 900, cursor: deep.cursor! });
const deepCursor = deep.cursor!;

Deno.bench({
  group: "segment store",
  name: "listFlows: first page (100) of 10,000 flows",
  baseline: true,
  fn() {
    check(segments.listFlowPage({}).flows.length, 100);
  },
});

Deno.bench({
  group: "segment store",
  name: "listFlows: page 50 of 100 (cursor) of 10,000 flows",
  fn() {
    check(segments.listFlowPage({ cursor: deepCursor }).flows.length, 100);
  },
});

Deno.bench({
  group: "segment store",
  name: "listFlows: a page of 1,000 of 10,000 flows",
  fn() {
    check(segments.listFlowPage({ limit: 1000 }).flows.length, 1000);
  },
});

Deno.bench({
  group: "segment store",
  name: "listFlows() before: headers only, no page (StoreIndex.listFlows)",
  fn() {
    check(segments.listFlows().length, FLOWS);
  },
});

Deno.bench({
  group: "IndexedDB (fake-indexeddb)",
  name: "listFlows: first page (100) of 10,000 flows",
  baseline: true,
  n: 20,
  async fn() {
    check((await idb.listFlowPage({})).flows.length, 100);
  },
});
