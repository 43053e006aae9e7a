/**
 * The segment store alone, as the worker drives it: `append` of drained
 * batches of 1,000 events, and the reads (`getFlowLog`, `query`, `open`) on a
 * store of 1,000,000 events.
 *
 * Each event is the shared workload's (`_workload.ts`): seven correlation ids
 * plus three call fields. Batches are built before timing, as the worker hands
 * the store events it has already decoded.
 *
 * Run: `npx deno bench --allow-read --allow-write --allow-env bench/store_bench.ts`
 *
 * @module
 */
import type { LogEvent } from "../src/event.ts";
import { encodeBatch } from "../src/store/batch_encoder.ts";
import { packEvents } from "../src/store/payload_codec.ts";
import { SegmentStore } from "../src/store/segment_store.ts";
import {
  BATCH,
  benchTempDir,
  BINDINGS,
  boundEvent,
  callFields,
  decodedEvent,
} from "./_workload.ts";

const T0 = Date.UTC(2026, 10, 22);
const PRODUCER = "4f1c2b7a9e3d5c61.1";

/** One drained batch: `BATCH` events spread round-robin over `flows` flows. */
function batch(flows: number, first: number, flowOffset = 0): LogEvent[] {
  const events: LogEvent[] = [];
  for (let i = first; i < first + BATCH; i++) {
    events.push(decodedEvent(i + 1, T0 + i * 0.01, {
      ...BINDINGS,
      flow_id: `f-${flowOffset + (i % flows)}`,
      ...callFields(i),
      attempt: i & 3,
    }, PRODUCER));
  }
  return events;
}

function batches(flows: number): LogEvent[][] {
  return Array.from({ length: 16 }, (_, b) => batch(flows, b * BATCH));
}

const stores: SegmentStore[] = [];
// Registered before benchTempDir()'s listener, so each store is closed before its directory goes.
addEventListener("unload", () => {
  for (const store of stores) store.close();
});

/** A store in a temporary directory, closed and removed when the process unloads. */
function tempStore(
  options: Parameters<typeof SegmentStore.open>[1],
): { dir: string; store: SegmentStore } {
  const dir = benchTempDir();
  const store = SegmentStore.open(dir, options);
  stores.push(store);
  return { dir, store };
}

/** A bench of group "append": `step` on each of the 16 batches of `input` in turn. */
function appendCase(
  name: string,
  input: LogEvent[][],
  step: (events: LogEvent[]) => void,
  baseline = false,
): void {
  let n = 0;
  Deno.bench({
    group: "append",
    name,
    baseline,
    fn() {
      step(input[n++ & 15]!);
    },
  });
}

for (const flows of [1, 10, 100]) {
  // Retention keeps the disk bounded over thousands of iterations; its cost is part of append.
  const { store } = tempStore({ maxBytes: 64 * 1024 * 1024 });
  appendCase(
    `append 1,000 events, ${flows} flow${flows === 1 ? "" : "s"} per batch`,
    batches(flows),
    (events) => store.append(events),
    flows === 1,
  );
}

appendCase(
  "encode only (group, pack, frame), 10 flows per batch",
  batches(10),
  (events) => encodeBatch(events, 1),
);

appendCase("msgpackr pack only, 1,000 events", batches(1), packEvents);

// What the seven bound ids cost the packer: the same events with only their
// call fields (the bindings are the same bytes in every event of a child logger).
appendCase(
  "msgpackr pack only, 1,000 events without the 7 bound ids",
  batches(1).map((events) =>
    events.map((e) => ({ ...e, fields: { ...callFields(e.seq), attempt: e.seq & 3 } }))
  ),
  packEvents,
);

/**
 * A store of 1,000,000 events: 100 flows of 10,000 events. With `flowsPerBatch`
 * 100 every batch holds 10 events of each flow (1,000 records per flow); with
 * 10, each batch holds 100 events of 10 flows (100 records per flow).
 */
function millionEventStore(flowsPerBatch: number): { dir: string; store: SegmentStore } {
  const { dir, store } = tempStore({ maxAgeMs: Infinity });
  const groups = 100 / flowsPerBatch;
  for (let b = 0; b < 1000; b++) {
    store.append(batch(flowsPerBatch, b * BATCH, (b % groups) * flowsPerBatch));
  }
  store.sync();
  return { dir, store };
}

const interleaved = millionEventStore(100);
const grouped = millionEventStore(10);

/**
 * The interleaved store as the logger writes it: each flow has its own child
 * logger, so the worker hands the store events whose bindings (the seven ids,
 * flow_id among them) are one shared object per flow, written once per record.
 */
function millionBoundEventStore(): { dir: string; store: SegmentStore } {
  const { dir, store } = tempStore({ maxAgeMs: Infinity });
  const templates = Array.from({ length: 100 }, (_, f) => ({ ...BINDINGS, flow_id: `f-${f}` }));
  for (let b = 0; b < 1000; b++) {
    const events: LogEvent[] = [];
    for (let i = b * BATCH; i < (b + 1) * BATCH; i++) {
      const fields = { ...callFields(i), attempt: i & 3 };
      events.push(boundEvent(i + 1, T0 + i * 0.01, templates[i % 100]!, fields, PRODUCER));
    }
    store.append(events);
  }
  store.sync();
  return { dir, store };
}
const interleavedBound = millionBoundEventStore();

const FLOW_LOGS: [string, SegmentStore, boolean][] = [
  [
    "getFlowLog: 10,000 of 1,000,000 events, 1,000 records of 10, logger-shaped (bindings once per record)",
    interleavedBound.store,
    false,
  ],
  ["getFlowLog: 10,000 of 1,000,000 events, 1,000 records of 10", interleaved.store, true],
  ["getFlowLog: 10,000 of 1,000,000 events, 100 records of 100", grouped.store, false],
];
for (const [name, store, baseline] of FLOW_LOGS) {
  Deno.bench({
    group: "getFlowLog",
    name,
    baseline,
    fn() {
      const log = store.getFlowLog("f-42");
      if (log.events.length !== 10_000) throw new Error(`got ${log.events.length} events`);
    },
  });
}

Deno.bench({
  group: "query",
  name: "query: first page (1,000) of one flow among 1,000,000",
  baseline: true,
  fn() {
    interleaved.store.query({ flow_id: "f-42" });
  },
});

Deno.bench({
  group: "query",
  name: "query: 1,000 events from a time in the middle, all flows",
  fn() {
    interleaved.store.query({ since_ms: T0 + 5_000 });
  },
});

Deno.bench({
  group: "query",
  name: "query: warn and above (none stored), skipped by the index",
  fn() {
    interleaved.store.query({ level: "warn" });
  },
});

Deno.bench({
  group: "open",
  name: "open (read-only) a store of 1,000,000 events",
  baseline: true,
  n: 10,
  fn() {
    SegmentStore.open(interleaved.dir, { readOnly: true }).close();
  },
});

Deno.bench({
  group: "open",
  name: "listFlows of 100 flows",
  fn() {
    interleaved.store.listFlows();
  },
});
