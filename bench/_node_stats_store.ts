/**
 * The store of bench/node_stats_bench.ts and bench/node_stats_idb_bench.ts:
 * 1,000,000 events, 10,000 runs of one flow, each a `run_start`, 49
 * `step_end` of 7 steps, 49 `node_exit` of 7 `observable()` nodes and a
 * `run_end`, in batches of 1,000 events (ten runs), with seeded durations.
 * Each bench fills its store in its own process: a process that also held
 * the other store's million events spent its time in the garbage collector.
 *
 * @module
 */
import type { LogEvent } from "../src/event.ts";
import { decodedEvent } from "./_workload.ts";
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

/** The store's events, one batch (record) at a time. */
export function* nodeStatsBatches(): Generator<LogEvent[]> {
  for (let r = 0; r < RUNS; r += 10) {
    const batch: LogEvent[] = [];
    for (let s = r; s < r + 10; s++) batch.push(...runEvents(s, s * 100 + 1));
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
