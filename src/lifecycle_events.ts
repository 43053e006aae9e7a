/**
 * The lifecycle contract shared by the run/job/step observer (which emits the
 * events), metrics sinks (which receive the callbacks) and readers of the
 * store: event names, correlation fields and outcomes.
 *
 * A metrics sink configured in code is called on the caller's thread by the
 * lifecycle observer; a sink loaded from `FLIGHTLOG_METRICS_MODULE` and the
 * built-in Prometheus registry are fed in the worker from the persisted
 * lifecycle events, so they see every producer.
 *
 * @module
 */

/** Event names of the run/job/step lifecycle. */
export const LIFECYCLE_EVENTS = {
  /** A run began: `{ flow_id, run_id }`. */
  runStart: "run_start",
  /** A run ended: `{ flow_id, run_id, status, duration_ms }`. */
  runEnd: "run_end",
  /** A job began: `{ flow_id, run_id, job_id }`. */
  jobStart: "job_start",
  /** A job ended: `{ flow_id, run_id, job_id, status, duration_ms }`. */
  jobEnd: "job_end",
  /** A step began: `{ flow_id, run_id, job_id, step_id, step_type }`. */
  stepStart: "step_start",
  /** A step ended: `{ flow_id, run_id, job_id, step_id, step_type, status, duration_ms }`. */
  stepEnd: "step_end",
  /** One per run, after `run_end`: durations, status counts, per-job and per-step summaries. */
  runSummary: "run_summary",
} as const;

/**
 * The outcome of a run, job or step. `"skipped"` is an outcome, not a
 * failure; `"failed"` of a step fails its job and its run.
 */
export type Status = "ok" | "failed" | "skipped" | "cancelled";

/** Correlation of a run. */
export interface RunInfo {
  /** The flow the run belongs to. */
  flow_id: string;
  /** The run. */
  run_id: string;
}

/** Correlation of a job. */
export interface JobInfo extends RunInfo {
  /** The job within the run. */
  job_id: string;
}

/** Correlation of a step. */
export interface StepInfo extends JobInfo {
  /** The step within the job. */
  step_id: string;
  /** Kind of step, e.g. `"llm"`, `"http"`, `"tool"`. */
  step_type?: string;
}

/** How a run, job or step ended. */
export interface EndInfo {
  /** Its outcome. */
  status: Status;
  /** Its duration on a monotonic clock. */
  duration_ms: number;
}

/**
 * Receives lifecycle callbacks. Every method is optional; a throwing sink is
 * caught and counted, never surfaced to the flow.
 *
 * @example A sink counting failed steps
 * ```ts
 * import type { MetricsSink } from "./lifecycle_events.ts";
 * import assert from "node:assert/strict";
 *
 * let failed = 0;
 * const sink: MetricsSink = {
 *   onStepEnd(_step, end) {
 *     if (end.status === "failed") failed++;
 *   },
 * };
 * sink.onStepEnd?.({ flow_id: "f", run_id: "r", job_id: "j", step_id: "s" }, {
 *   status: "failed",
 *   duration_ms: 3,
 * });
 * assert.equal(failed, 1);
 * ```
 */
export interface MetricsSink {
  /** A run began. */
  onRunStart?(run: RunInfo): void;
  /** A run ended. */
  onRunEnd?(run: RunInfo, end: EndInfo): void;
  /** A job began. */
  onJobStart?(job: JobInfo): void;
  /** A job ended. */
  onJobEnd?(job: JobInfo, end: EndInfo): void;
  /** A step began. */
  onStepStart?(step: StepInfo): void;
  /** A step ended. */
  onStepEnd?(step: StepInfo, end: EndInfo): void;
}
