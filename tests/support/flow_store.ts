/**
 * Writes a store of agent flows with the real logger, for the CLI benchmark
 * and the CLI tests.
 *
 * Each flow is one run: `run_start`, then steps of `step_start`, some
 * `llm_call` events and `step_end` (every 50th step fails at error level),
 * then `run_end` and `run_summary`. Flows advance round-robin, a step each,
 * as concurrent flows would.
 *
 * @module
 */
import { createLogger } from "../../mod.ts";

/** Shape of the generated store. */
export interface FlowStoreOptions {
  /** Number of flows. */
  flows: number;
  /** Steps per flow. */
  steps: number;
  /** `llm_call` events per step. */
  callsPerStep: number;
  /**
   * Steps (of every flow) between two `flush()` calls; each flush ends the
   * worker's batch, so smaller values give more, smaller records.
   * @default {64}
   */
  flushEverySteps?: number;
  /** First timestamp, epoch ms; the clock advances 0.01 ms per step. */
  startMs?: number;
}

/** Events a store of these options holds: per flow 3 + steps × (2 + calls). */
export function flowStoreEvents(o: FlowStoreOptions): number {
  return o.flows * (3 + o.steps * (2 + o.callsPerStep));
}

/** Writes the flows into `dir` with `createLogger` and closes the logger. */
export async function writeFlowStore(dir: string, o: FlowStoreOptions): Promise<void> {
  let now = o.startMs ?? 1_767_225_600_000;
  const log = createLogger({
    dir,
    overflow: "block",
    blockTimeoutMs: 10_000,
    ringBytes: 8 << 20,
    exitHooks: false,
    clock: () => now,
    store: { maxAgeMs: 1e15 },
  });
  const flows = Array.from(
    { length: o.flows },
    (_, f) => log.child({ flow_id: `flow-${String(f).padStart(4, "0")}`, run_id: `run-${f}` }),
  );
  for (const flow of flows) flow.info("run_start");
  for (let s = 0; s < o.steps; s++) {
    for (let f = 0; f < flows.length; f++) {
      now += 0.01;
      const step = flows[f]!.child({ job_id: "main", step_id: `step-${s}`, step_type: "llm" });
      step.info("step_start");
      for (let c = 0; c < o.callsPerStep; c++) {
        step.info("llm_call", { model: "m-1", tokens: 100 + c, latency_ms: 12.5 });
      }
      const failed = s % 50 === 49;
      if (failed) {
        step.error("step_end", {
          status: "failed",
          duration_ms: 3,
          error: { name: "TimeoutError", message: `step ${s} timed out` },
        });
      } else {
        step.info("step_end", { status: "ok", duration_ms: 3 });
      }
    }
    const every = o.flushEverySteps ?? 64;
    if (s % every === every - 1) await log.flush();
  }
  for (let f = 0; f < flows.length; f++) {
    now += 0.01;
    const failed = o.steps >= 50;
    flows[f]!.info("run_end", { status: failed ? "failed" : "ok", duration_ms: o.steps });
    flows[f]!.info("run_summary", { steps: o.steps });
  }
  await log.close();
}
