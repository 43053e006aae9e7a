/**
 * Turns persisted lifecycle events (`run_start`, `step_end`, ...) into
 * {@linkcode MetricsSink} callbacks. Pure: the consumer calls it for every
 * persisted event, so worker-side sinks see the events of every producer.
 *
 * @module
 */
import type { LogEvent } from "./event.ts";
import {
  type EndInfo,
  type JobInfo,
  LIFECYCLE_EVENTS,
  type MetricsSink,
  type RunInfo,
  type Status,
  type StepInfo,
} from "./metrics_sink.ts";

/** What {@linkcode dispatchLifecycle} did with one event. */
export type DispatchResult =
  /** Not a lifecycle callback event (any other event, or `run_summary`). */
  | "ignored"
  /** The sink's callback was called (or the sink has none for it). */
  | "dispatched"
  /** A lifecycle event without its ids, or an end without a valid status and duration. */
  | "malformed"
  /** The sink's callback threw; the error is not rethrown. */
  | "sink_error";

const STATUSES: ReadonlySet<string> = new Set<Status>(["ok", "failed", "skipped", "cancelled"]);

function str(v: unknown): v is string {
  return typeof v === "string" && v !== "";
}

function runInfo(f: Record<string, unknown>): RunInfo | null {
  return str(f.flow_id) && str(f.run_id) ? { flow_id: f.flow_id, run_id: f.run_id } : null;
}

function jobInfo(f: Record<string, unknown>): JobInfo | null {
  const run = runInfo(f);
  return run !== null && str(f.job_id) ? { ...run, job_id: f.job_id } : null;
}

function stepInfo(f: Record<string, unknown>): StepInfo | null {
  const job = jobInfo(f);
  if (job === null || !str(f.step_id)) return null;
  const step: StepInfo = { ...job, step_id: f.step_id };
  if (str(f.step_type)) step.step_type = f.step_type;
  return step;
}

function endInfo(f: Record<string, unknown>): EndInfo | null {
  const { status, duration_ms } = f;
  if (typeof status !== "string" || !STATUSES.has(status)) return null;
  if (typeof duration_ms !== "number" || !Number.isFinite(duration_ms) || duration_ms < 0) {
    return null;
  }
  return { status: status as Status, duration_ms };
}

const NAMES: ReadonlySet<string> = new Set([
  LIFECYCLE_EVENTS.runStart,
  LIFECYCLE_EVENTS.runEnd,
  LIFECYCLE_EVENTS.jobStart,
  LIFECYCLE_EVENTS.jobEnd,
  LIFECYCLE_EVENTS.stepStart,
  LIFECYCLE_EVENTS.stepEnd,
]);

/**
 * Calls the sink callback matching `event`, with the correlation ids and, for
 * an end, `{ status, duration_ms }` read from the event's fields. Never
 * throws: a malformed event or a throwing sink is reported in the result.
 *
 * @example Feed a sink from persisted events
 * ```ts
 * import { dispatchLifecycle } from "./lifecycle_dispatch.ts";
 * import assert from "node:assert/strict";
 *
 * const ended: string[] = [];
 * const sink = { onStepEnd: (s: { step_id: string }, e: { status: string }) => ended.push(`${s.step_id}:${e.status}`) };
 * const base = { ts_ms: 0, severity: 9, level: "info" as const, producer: "p", seq: 1 };
 * const fields = { flow_id: "f", run_id: "r", job_id: "j", step_id: "s1", status: "skipped", duration_ms: 0 };
 * assert.equal(dispatchLifecycle({ ...base, event: "step_end", fields }, sink), "dispatched");
 * assert.equal(dispatchLifecycle({ ...base, event: "step_end", fields: {} }, sink), "malformed");
 * assert.equal(dispatchLifecycle({ ...base, event: "cache_hit", fields }, sink), "ignored");
 * assert.deepEqual(ended, ["s1:skipped"]);
 * ```
 */
export function dispatchLifecycle(event: LogEvent, sink: MetricsSink): DispatchResult {
  const name = event.event;
  // Checked before reading fields: a child logger's event merges its fields only if read.
  if (!NAMES.has(name)) return "ignored";
  const f = event.fields;
  try {
    switch (name) {
      case LIFECYCLE_EVENTS.runStart: {
        const run = runInfo(f);
        if (run === null) return "malformed";
        sink.onRunStart?.(run);
        return "dispatched";
      }
      case LIFECYCLE_EVENTS.runEnd: {
        const run = runInfo(f);
        const end = endInfo(f);
        if (run === null || end === null) return "malformed";
        sink.onRunEnd?.(run, end);
        return "dispatched";
      }
      case LIFECYCLE_EVENTS.jobStart: {
        const job = jobInfo(f);
        if (job === null) return "malformed";
        sink.onJobStart?.(job);
        return "dispatched";
      }
      case LIFECYCLE_EVENTS.jobEnd: {
        const job = jobInfo(f);
        const end = endInfo(f);
        if (job === null || end === null) return "malformed";
        sink.onJobEnd?.(job, end);
        return "dispatched";
      }
      case LIFECYCLE_EVENTS.stepStart: {
        const step = stepInfo(f);
        if (step === null) return "malformed";
        sink.onStepStart?.(step);
        return "dispatched";
      }
      default: {
        const step = stepInfo(f);
        const end = endInfo(f);
        if (step === null || end === null) return "malformed";
        sink.onStepEnd?.(step, end);
        return "dispatched";
      }
    }
  } catch {
    return "sink_error";
  }
}
