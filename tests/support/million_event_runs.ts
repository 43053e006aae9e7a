/**
 * A store's worth of runs: 1,000,000 events, 10,000 runs of one flow, each a
 * `run_start`, 49 `step_end` of 7 steps, 49 `node_exit` of 7 `observable()`
 * nodes and a `run_end`, in batches of 1,000 events (ten runs), with seeded
 * durations. tests/store/node_stats_million_test.ts checks `nodeStats()` over
 * it; bench/node_stats_bench.ts and bench/node_stats_idb_bench.ts time it.
 *
 * @module
 */
import type { LogEvent } from "../../src/event.ts";
import { makeEvent } from "./log_event.ts";
import { seededRandom } from "./seeded_random.ts";

/** Runs in the store. */
export const RUNS = 10_000;
/** The store's step names; step `STEPS[k]` takes about 10 + 10·k ms. */
export const STEPS = ["plan", "search", "fetch", "parse", "rank", "write", "check"];
/** The store's `observable()` nodes; node `NODES[k]` runs half as long as step `STEPS[k]`. */
export const NODES = [
  "complete",
  "embed",
  "rerank",
  "tool.web",
  "tool.code",
  "moderate",
  "summarize",
];
const T0 = Date.UTC(2026, 11, 5);

function runEvents(r: number, seq: number, next: () => number): LogEvent[] {
  const ids = { flow_id: "agent", run_id: `r-${r}` };
  let t = T0 + r * 100;
  const event = (name: string, fields: Record<string, unknown>) =>
    makeEvent(t++, { ...ids, ...fields }, { event: name, seq: seq++ });
  const events = [event("run_start", {})];
  for (let i = 0; i < 49; i++) {
    const duration_ms = -Math.log(1 - next()) * (10 + 10 * (i % 7));
    events.push(event("step_end", {
      step_id: STEPS[i % 7]!,
      step_type: "tool",
      status: "ok",
      duration_ms,
    }));
    events.push(event("node_exit", {
      node: NODES[i % 7]!,
      category: "llm",
      duration_ms: duration_ms / 2,
      usage: { input_tokens: 100, output_tokens: 20, cost_usd: 0.001 },
    }));
  }
  events.push(event("run_end", { status: "ok", duration_ms: 99 }));
  return events;
}

/** The store's events, one batch (record) at a time; the same durations on every call (seeded). */
export function* nodeStatsBatches(): Generator<LogEvent[]> {
  const next = seededRandom(18);
  for (let r = 0; r < RUNS; r += 10) {
    const batch: LogEvent[] = [];
    for (let s = r; s < r + 10; s++) batch.push(...runEvents(s, s * 100 + 1, next));
    yield batch;
  }
}

/** Throws unless `rows` are `nodes` nodes with `executions` executions in all. */
export function checkRows(rows: { count: number }[], nodes: number, executions: number): void {
  const total = rows.reduce((n, r) => n + r.count, 0);
  if (rows.length !== nodes || total !== executions) {
    throw new Error(`got ${rows.length} nodes, ${total} executions`);
  }
}
