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

// The info objects of an event that checkLifecycle() found valid.
function runInfo(e: LogEvent): RunInfo {
  return { flow_id: fieldOf(e, "flow_id") as string, run_id: fieldOf(e, "run_id") as string };
}

function jobInfo(e: LogEvent): JobInfo {
  return { ...runInfo(e), job_id: fieldOf(e, "job_id") as string };
}

function stepInfo(e: LogEvent): StepInfo {
  const step: StepInfo = { ...jobInfo(e), step_id: fieldOf(e, "step_id") as string };
  const step_type = fieldOf(e, "step_type");
  if (str(step_type)) step.step_type = step_type;
  return step;
}

function endInfo(e: LogEvent): EndInfo {
  return {
    status: fieldOf(e, "status") as Status,
    duration_ms: fieldOf(e, "duration_ms") as number,
  };
}

/** A lifecycle event: the ids it needs (run 2, job 3, step 4), whether it is an end, its callback. */
interface Shape {
  ids: number;
  end: boolean;
  /** Calls the sink with the event's info; the event is valid. */
  call(sink: MetricsSink, event: LogEvent): void;
}

const { runStart, runEnd, jobStart, jobEnd, stepStart, stepEnd } = LIFECYCLE_EVENTS;
const SHAPES: ReadonlyMap<string, Shape> = new Map<string, Shape>([
  [runStart, { ids: 2, end: false, call: (s, e) => s.onRunStart?.(runInfo(e)) }],
  [runEnd, { ids: 2, end: true, call: (s, e) => s.onRunEnd?.(runInfo(e), endInfo(e)) }],
  [jobStart, { ids: 3, end: false, call: (s, e) => s.onJobStart?.(jobInfo(e)) }],
  [jobEnd, { ids: 3, end: true, call: (s, e) => s.onJobEnd?.(jobInfo(e), endInfo(e)) }],
  [stepStart, { ids: 4, end: false, call: (s, e) => s.onStepStart?.(stepInfo(e)) }],
  [stepEnd, { ids: 4, end: true, call: (s, e) => s.onStepEnd?.(stepInfo(e), endInfo(e)) }],
]);
const ID_KEYS = ["flow_id", "run_id", "job_id", "step_id"] as const;

function isValid(event: LogEvent, shape: Shape): boolean {
  for (let i = 0; i < shape.ids; i++) if (!str(fieldOf(event, ID_KEYS[i]!))) return false;
  if (!shape.end) return true;
  const status = fieldOf(event, "status");
  const duration_ms = fieldOf(event, "duration_ms");
  return typeof status === "string" && STATUSES.has(status) && typeof duration_ms === "number" &&
    Number.isFinite(duration_ms) && duration_ms >= 0;
}

/**
 * Internal: what {@linkcode dispatchLifecycle} would say of `event`
 * (`"ignored"`, `"malformed"`, or `"valid"`), without allocating.
 */
export function checkLifecycle(event: LogEvent): "ignored" | "malformed" | "valid" {
  const shape = SHAPES.get(event.event);
  if (shape === undefined) return "ignored";
  return isValid(event, shape) ? "valid" : "malformed";
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
  const shape = SHAPES.get(event.event);
  if (shape === undefined) return "ignored";
  try {
    if (!isValid(event, shape)) return "malformed";
    shape.call(sink, event);
    return "dispatched";
  } catch {
    return "sink_error";
  }
}
