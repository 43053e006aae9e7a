/**
 * What `observable()` costs per node call: a no-op node whose `node_entry`
 * and `node_exit` events are persisted (sab transport, worker draining),
 * against calling the function directly; and the span id every call makes
 * (group `"span id"`, cited by `src/trace_context.ts`).
 *
 * One iteration is a batch of {@linkcode BATCH} calls (divide by 1,000 for
 * ns per call); the ring is emptied between batches with an untimed
 * `flush()`, as in `bench/logger_bench.ts`. `bench/overhead_gate.ts`-style
 * gating: the median must stay ≤ 1 µs per node (goal), ≤ 20 µs (gate).
 *
 * @module
 */
import { observable } from "../src/integrations/observable.ts";
import { withContext } from "../src/front/context.ts";
import { newSpanId, newTraceId } from "../src/trace_context.ts";
import { BATCH, benchFlow, CALLER_RING, flushedBatch } from "./_workload.ts";

const { log, flow } = benchFlow({ transport: "sab", ringBytes: CALLER_RING });

let sink = 0;
function noop(x: number): number {
  return x + 1;
}
const observed = observable(noop, { logger: flow, node: "noop" });
const disabled = observable(noop, { logger: flow, node: "noop", enabled: false });

Deno.bench({
  group: "observable",
  name: `direct call ×${BATCH} (no-op node)`,
  baseline: true,
  fn() {
    for (let i = 0; i < BATCH; i++) sink += noop(i);
  },
});

Deno.bench({
  group: "observable",
  name: `observable() ×${BATCH}, disabled (the function itself)`,
  fn() {
    for (let i = 0; i < BATCH; i++) sink += disabled(i);
  },
});

Deno.bench({
  group: "observable",
  name: `observable() ×${BATCH}, entry + exit persisted, 7 bound ids (sab)`,
  fn: flushedBatch(log, () => {
    for (let i = 0; i < BATCH; i++) sink += observed(i);
  }),
});

Deno.bench({
  group: "observable",
  name: `observable() ×${BATCH}, same, inside a run's withContext()`,
  async fn(b) {
    await withContext({ flow_id: "f-bench", run_id: "r-bench" }, () => {
      b.start();
      for (let i = 0; i < BATCH; i++) sink += observed(i);
      b.end();
    });
    await log.flush();
  },
});

Deno.bench({
  group: "span id",
  name: `newSpanId() ×${BATCH} (random prefix + counter)`,
  baseline: true,
  fn() {
    for (let i = 0; i < BATCH; i++) sink += newSpanId().length;
  },
});

Deno.bench({
  group: "span id",
  name: `newTraceId() ×${BATCH} (16 fresh random bytes)`,
  fn() {
    for (let i = 0; i < BATCH; i++) sink += newTraceId().length;
  },
});

globalThis.addEventListener("unload", () => {
  if (sink === 42) console.log(sink);
});
