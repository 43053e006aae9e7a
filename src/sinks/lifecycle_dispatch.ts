/**
 * Turns persisted lifecycle events (`run_start`, `step_end`, ...) into
 * {@linkcode MetricsSink} callbacks. Pure: the consumer calls it for every
 * persisted event, so worker-side sinks see the events of every producer.
 *
 * @module
 */
import { BOUND_FIELDS, type BoundEvent, type LogEvent } from "../event.ts";
import {
  type EndInfo,
  type JobInfo,
  LIFECYCLE_EVENTS,
  type MetricsSink,
  type RunInfo,
  type Status,
  type StepInfo,
} from "../lifecycle_events.ts";

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

/**
 * Internal: reads one field without building a child logger's merged fields object
 * (bench/console_throughput.ts "FlowMetrics.observe"); a call field wins over
 * a binding of the same name, as in the merged fields.
 */
export function fieldOf(event: LogEvent, key: string): unknown {
  const bound = (event as BoundEvent)[BOUND_FIELDS];
  if (bound === undefined) return event.fields[key];
  return Object.hasOwn(bound[1], key) ? bound[1][key] : bound[0][key];
}

function runInfo(e: LogEvent): RunInfo | null {
  const flow_id = fieldOf(e, "flow_id");
  const run_id = fieldOf(e, "run_id");
  return str(flow_id) && str(run_id) ? { flow_id, run_id } : null;
}

function jobInfo(e: LogEvent): JobInfo | null {
  const run = runInfo(e);
  const job_id = fieldOf(e, "job_id");
  return run !== null && str(job_id) ? { ...run, job_id } : null;
}

function stepInfo(e: LogEvent): StepInfo | null {
  const job = jobInfo(e);
  const step_id = fieldOf(e, "step_id");
  if (job === null || !str(step_id)) return null;
  const step: StepInfo = { ...job, step_id };
  const step_type = fieldOf(e, "step_type");
  if (str(step_type)) step.step_type = step_type;
  return step;
}

function endInfo(e: LogEvent): EndInfo | null {
  const status = fieldOf(e, "status");
  const duration_ms = fieldOf(e, "duration_ms");
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

// How many ids each lifecycle event needs (run 2, job 3, step 4) and whether it is an end.
const SHAPES: ReadonlyMap<string, { ids: number; end: boolean }> = new Map([
  [LIFECYCLE_EVENTS.runStart, { ids: 2, end: false }],
  [LIFECYCLE_EVENTS.runEnd, { ids: 2, end: true }],
  [LIFECYCLE_EVENTS.jobStart, { ids: 3, end: false }],
  [LIFECYCLE_EVENTS.jobEnd, { ids: 3, end: true }],
  [LIFECYCLE_EVENTS.stepStart, { ids: 4, end: false }],
  [LIFECYCLE_EVENTS.stepEnd, { ids: 4, end: true }],
]);
const ID_KEYS = ["flow_id", "run_id", "job_id", "step_id"] as const;

/**
 * Internal: what {@linkcode dispatchLifecycle} would say of `event`
 * (`"ignored"`, `"malformed"`, or `"valid"`), without allocating.
 */
export function checkLifecycle(event: LogEvent): "ignored" | "malformed" | "valid" {
  const shape = SHAPES.get(event.event);
  if (shape === undefined) return "ignored";
  for (let i = 0; i < shape.ids; i++) if (!str(fieldOf(event, ID_KEYS[i]!))) return "malformed";
  if (!shape.end) return "valid";
  const status = fieldOf(event, "status");
  const duration_ms = fieldOf(event, "duration_ms");
  return typeof status === "string" && STATUSES.has(status) && typeof duration_ms === "number" &&
      Number.isFinite(duration_ms) && duration_ms >= 0
    ? "valid"
    : "malformed";
}

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
  if (!NAMES.has(name)) return "ignored";
  try {
    switch (name) {
      case LIFECYCLE_EVENTS.runStart: {
        const run = runInfo(event);
        if (run === null) return "malformed";
        sink.onRunStart?.(run);
        return "dispatched";
      }
      case LIFECYCLE_EVENTS.runEnd: {
        const run = runInfo(event);
        const end = endInfo(event);
        if (run === null || end === null) return "malformed";
        sink.onRunEnd?.(run, end);
        return "dispatched";
      }
      case LIFECYCLE_EVENTS.jobStart: {
        const job = jobInfo(event);
        if (job === null) return "malformed";
        sink.onJobStart?.(job);
        return "dispatched";
      }
      case LIFECYCLE_EVENTS.jobEnd: {
        const job = jobInfo(event);
        const end = endInfo(event);
        if (job === null || end === null) return "malformed";
        sink.onJobEnd?.(job, end);
        return "dispatched";
      }
      case LIFECYCLE_EVENTS.stepStart: {
        const step = stepInfo(event);
        if (step === null) return "malformed";
        sink.onStepStart?.(step);
        return "dispatched";
      }
      default: {
        const step = stepInfo(event);
        const end = endInfo(event);
        if (step === null || end === null) return "malformed";
        sink.onStepEnd?.(step, end);
        return "dispatched";
      }
    }
  } catch {
    return "sink_error";
  }
}
