/**
 * The run / job / step lifecycle observer: start and end events with
 * durations (monotonic clock) and statuses, failure attribution, an
 * end-of-run summary, optional wide events, and {@linkcode MetricsSink}
 * callbacks on the caller's thread.
 *
 * Every event carries the correlation of its level (`flow_id`, `run_id`,
 * `trace_id`, `span_id`, and `job_id`, `parent_id`, `step_id`, `step_type`,
 * `node` below the run) through child loggers; inside
 * {@linkcode RunObserver.within}, {@linkcode JobObserver.within} and
 * {@linkcode JobObserver.runStep} the same ids are bound with `withContext`,
 * so the flow's own log calls are correlated too.
 *
 * @module
 */
import type { Logger } from "../front/logger.ts";
import type { Fields } from "../front/options.ts";
import {
  type EndInfo,
  type JobInfo,
  LIFECYCLE_EVENTS,
  type MetricsSink,
  type Status,
  type StepInfo,
} from "../lifecycle_events.ts";
import { getContext, remoteParentBindings, withContext } from "../front/context.ts";
import { addUsage } from "../query/flow_log.ts";
import { isSpanId, isTraceId, newSpanId, newTraceId } from "../trace_context.ts";

/** Wide events: one denormalized record per step and per run (opt-in). */
export const WIDE_EVENTS = {
  /** After each `step_end`: every fact about the step in one record. */
  step: "step_wide",
  /** After `run_summary`: every fact about the run in one record. */
  run: "run_wide",
} as const;

/** Where in a step's life a failure happened. */
export type FailurePhase = "validate" | "resolve" | "execute";

/** The summary of an error recorded with a failure. */
export interface ErrorSummary {
  /** `error.code` when it is a string or number, else null. */
  code: string | number | null;
  /** The error's name (`TypeError`...) or, for a non-Error, its `typeof`. */
  type: string;
  /** The error's message. */
  message: string;
  /** `error.retryable` when it is a boolean, else false. */
  retryable: boolean;
  /** The stack, when there is one. */
  stack: string | null;
}

/** Where and why a run failed: its first failure. */
export interface FailureInfo {
  /** The failing job. */
  job_id: string;
  /** The failing step. */
  step_id: string;
  /** The phase the step failed in. */
  phase: FailurePhase;
  /** What was thrown. */
  error: ErrorSummary;
  /** From the start of the run to the failure, on the monotonic clock. */
  time_to_failure_ms: number;
}

/** Counts of outcomes. */
export interface StatusCounts {
  /** All that ended. */
  total: number;
  /** Ended ok. */
  ok: number;
  /** Failed. */
  failed: number;
  /** Skipped (an outcome, not a failure). */
  skipped: number;
  /** Cancelled. */
  cancelled: number;
}

/** Token and cost usage of provider calls. */
export interface Usage {
  /** Prompt / input tokens. */
  input_tokens?: number;
  /** Completion / output tokens. */
  output_tokens?: number;
  /** Total tokens (input + output when not given). */
  total_tokens?: number;
  /** Cost in US dollars. */
  cost_usd?: number;
}

/** Summed usage, as in summaries. */
export interface UsageTotals {
  /** Provider calls recorded. */
  provider_calls: number;
  /** Input tokens. */
  input_tokens: number;
  /** Output tokens. */
  output_tokens: number;
  /** Total tokens. */
  total_tokens: number;
  /** Cost in US dollars. */
  cost_usd: number;
}

/** One step in a run summary. */
export interface StepSummary {
  /** Its job. */
  job_id: string;
  /** The step. */
  step_id: string;
  /** Its kind, or null. */
  step_type: string | null;
  /** Its outcome. */
  status: Status;
  /** Its duration. */
  duration_ms: number;
}

/** One job in a run summary. */
export interface JobSummary {
  /** The job. */
  job_id: string;
  /** Its outcome. */
  status: Status;
  /** Its duration. */
  duration_ms: number;
  /** Its steps' outcomes. */
  steps: StatusCounts;
}

/** The fields of the `run_summary` event (also returned by {@linkcode RunObserver.end}). */
export interface RunSummary {
  /** The flow. */
  flow_id: string;
  /** The run. */
  run_id: string;
  /** The run's trace. */
  trace_id: string;
  /** The run's span. */
  span_id: string;
  /** The run's outcome. */
  status: Status;
  /** The run's duration. */
  duration_ms: number;
  /** Outcomes of the jobs. */
  jobs: StatusCounts;
  /** Outcomes of the steps. */
  steps: StatusCounts;
  /** Each job, in start order. */
  job_summaries: JobSummary[];
  /** Each step, in start order. */
  step_durations: StepSummary[];
  /** The first failure, or null. */
  failure: FailureInfo | null;
  /** Usage of provider calls made in the run's steps. */
  provider_usage: UsageTotals;
}

/** Options of {@linkcode observeRun}. */
export interface RunObserverOptions {
  /** The flow this run belongs to. */
  flow_id: string;
  /**
   * The run id.
   * @default {a new random id}
   */
  run_id?: string;
  /**
   * Continue the trace of an incoming `traceparent` header (null or invalid:
   * a new trace, the run its root).
   * @default {the current context's trace (its span, else the caller's span it continues), else a new trace}
   */
  traceparent?: string | null;
  /** The `tracestate` header going with `traceparent`. */
  tracestate?: string | null;
  /** Called on the caller's thread at each start and end; a throwing sink is counted, never surfaced. */
  sink?: MetricsSink;
  /**
   * Also write one `step_wide` record per step and one `run_wide` per run.
   * @default {false}
   */
  wide?: boolean;
  /**
   * Monotonic clock in ms for durations (injected by tests).
   * @default {performance.now}
   */
  now?: () => number;
  /** More fields bound to every event of the run. */
  fields?: Fields;
}

/** Options of {@linkcode JobObserver.step}. */
export interface StepOptions {
  /** Kind of step, e.g. `"llm"`, `"http"`, `"tool"`. */
  step_type?: string;
  /** The node (action, tool) the step runs. */
  node?: string;
}

/** Options of a step failure. */
export interface FailOptions {
  /**
   * Where the step failed; else `error.phase` when valid, else `"execute"`.
   */
  phase?: FailurePhase;
  /** Overrides `error.retryable`. */
  retryable?: boolean;
}

const PHASES: readonly string[] = ["validate", "resolve", "execute"];
// Hidden in withContext bindings (string-keyed fields only are logged) so
// observable() can add provider usage to the step it runs in.
const STEP_KEY = Symbol("flightlog.step");

function counts(): StatusCounts {
  return { total: 0, ok: 0, failed: 0, skipped: 0, cancelled: 0 };
}

function derive(own: StatusCounts, explicit: Status | undefined): Status {
  // A failure below fails this level whatever was asked; otherwise an explicit
  // status stands; else cancelled below cancels, all-skipped skips.
  if (own.failed > 0 || explicit === "failed") return "failed";
  if (explicit !== undefined) return explicit;
  if (own.cancelled > 0) return "cancelled";
  if (own.total > 0 && own.skipped === own.total) return "skipped";
  return "ok";
}

/**
 * Summarizes what was thrown: `code`, `type`, `message`, `retryable` and
 * `stack`. Accepts anything (a string, a plain object, null).
 *
 * @example Summarize an error
 * ```ts
 * import { summarizeError } from "./lifecycle.ts";
 * import assert from "node:assert/strict";
 * const err = Object.assign(new RangeError("quota exceeded"), { code: 429, retryable: true });
 * const s = summarizeError(err);
 * assert.deepEqual([s.code, s.type, s.message, s.retryable], [429, "RangeError", "quota exceeded", true]);
 * ```
 */
export function summarizeError(error: unknown): ErrorSummary {
  try {
    if (error !== null && typeof error === "object") {
      const e = error as Record<string, unknown>;
      const code = e.code;
      const name = error instanceof Error ? error.name : e.name;
      return {
        code: typeof code === "string" || typeof code === "number" ? code : null,
        type: typeof name === "string" && name !== "" ? name : "Object",
        message: typeof e.message === "string" ? e.message : String(error),
        retryable: e.retryable === true,
        stack: typeof e.stack === "string" ? e.stack : null,
      };
    }
    return {
      code: null,
      type: typeof error,
      message: String(error),
      retryable: false,
      stack: null,
    };
  } catch {
    return {
      code: null,
      type: "unknown",
      message: "[Unserializable]",
      retryable: false,
      stack: null,
    };
  }
}

function noUsage(): UsageTotals {
  return { provider_calls: 0, input_tokens: 0, output_tokens: 0, total_tokens: 0, cost_usd: 0 };
}

/**
 * Adds provider usage to the step of the current context (inside
 * {@linkcode JobObserver.runStep} or {@linkcode StepObserver.within}), so the
 * run summary totals it. Returns false outside a step. `observable()` calls
 * it for provider calls.
 *
 * @example Count a provider call made by hand
 * ```ts
 * import { createLogger } from "../../mod.ts";
 * import { addUsageToCurrentStep, observeRun } from "./lifecycle.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const log = createLogger({ dir, transport: "inline" });
 * const run = observeRun(log, { flow_id: "f-usage" });
 * run.job("j").runStep("ask", { step_type: "llm" }, () => {
 *   addUsageToCurrentStep({ input_tokens: 10, output_tokens: 5, cost_usd: 0.01 });
 * });
 * assert.equal(run.end().provider_usage.total_tokens, 15);
 * assert.equal(addUsageToCurrentStep({ input_tokens: 1 }), false); // outside a step
 * await log.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function addUsageToCurrentStep(usage: Usage): boolean {
  const step = (getContext() as Record<PropertyKey, unknown>)[STEP_KEY];
  if (!(step instanceof StepObserver)) return false;
  step.addUsage(usage);
  return true;
}

/** What a run continues: its trace, parent span, and the caller's headers when it has any. */
interface RunParent {
  trace_id: string;
  parent_id: string;
  traceparent?: string;
  tracestate?: string;
}

/**
 * The current context's trace, as OpenTelemetry starts a span under the
 * active one: its span, else (a context from `contextFromHeaders()`) the
 * caller's span. Its incoming headers go along, so the caller's sampled flag
 * and trace state carry on.
 */
function parentFromContext(): RunParent | null {
  const ctx = getContext();
  const traceId = ctx.trace_id;
  if (!isTraceId(traceId)) return null;
  const parentId = isSpanId(ctx.span_id) ? ctx.span_id : ctx.parent_id;
  if (!isSpanId(parentId)) return null;
  const parent: RunParent = { trace_id: traceId, parent_id: parentId };
  if (typeof ctx.traceparent === "string") parent.traceparent = ctx.traceparent;
  if (typeof ctx.tracestate === "string" && ctx.tracestate !== "") {
    parent.tracestate = ctx.tracestate;
  }
  return parent;
}

/** A run in progress. Create with {@linkcode observeRun}. */
export class RunObserver {
  /** The flow. */
  readonly flow_id: string;
  /** The run. */
  readonly run_id: string;
  /** The trace (continued from `traceparent` or the current context, or new). */
  readonly trace_id: string;
  /** The run's span. */
  readonly span_id: string;
  /** The span the run continues (from `traceparent` or the current context), or null for a root. */
  readonly parent_id: string | null;
  /** A logger bound to the run's correlation. */
  readonly logger: Logger;
  /** Sink calls that threw (counted, never surfaced). */
  sinkErrors = 0;
  /** @internal */
  readonly now: () => number;
  /** @internal */
  readonly wide: boolean;
  /** @internal */
  readonly startedAt: number;
  /** @internal */
  readonly jobs: JobObserver[] = [];
  /** @internal */
  failure: FailureInfo | null = null;
  /** @internal */
  readonly usage: UsageTotals = noUsage();
  readonly #sink: MetricsSink | undefined;
  readonly #bindings: Fields;
  #summary: RunSummary | null = null;

  /** @internal Use {@linkcode observeRun}. */
  constructor(logger: Logger, options: RunObserverOptions) {
    const o = options;
    if (typeof o !== "object" || o === null || typeof o.flow_id !== "string" || o.flow_id === "") {
      throw new TypeError(
        'observeRun() needs options with a non-empty flow_id, such as { flow_id: "f-1" }',
      );
    }
    if (o.run_id !== undefined && (typeof o.run_id !== "string" || o.run_id === "")) {
      throw new TypeError("Option run_id must be a non-empty string (or omitted for a random one)");
    }
    if (o.now !== undefined && typeof o.now !== "function") {
      throw new TypeError("Option now must be a function returning monotonic milliseconds");
    }
    this.flow_id = o.flow_id;
    this.run_id = o.run_id ?? `run-${newSpanId()}`;
    const parent = o.traceparent === undefined
      ? parentFromContext()
      : remoteParentBindings(o.traceparent, o.tracestate);
    this.trace_id = parent?.trace_id ?? newTraceId();
    this.parent_id = parent?.parent_id ?? null;
    this.span_id = newSpanId();
    this.now = o.now ?? (() => performance.now());
    this.wide = o.wide === true;
    this.#sink = o.sink;
    const bindings: Fields = { ...o.fields };
    bindings.flow_id = this.flow_id;
    bindings.run_id = this.run_id;
    bindings.trace_id = this.trace_id;
    bindings.span_id = this.span_id;
    if (parent !== null) {
      bindings.parent_id = parent.parent_id;
      if (parent.traceparent !== undefined) bindings.traceparent = parent.traceparent;
      if (parent.tracestate !== undefined) bindings.tracestate = parent.tracestate;
    }
    this.#bindings = bindings;
    this.logger = logger.child(bindings);
    this.startedAt = this.now();
    this.logger.info(LIFECYCLE_EVENTS.runStart);
    this.callSink("onRunStart", { flow_id: this.flow_id, run_id: this.run_id });
  }

  /** The run's correlation bindings (what {@linkcode RunObserver.within} binds). */
  get bindings(): Readonly<Fields> {
    return this.#bindings;
  }

  /** True once {@linkcode RunObserver.end} was called. */
  get ended(): boolean {
    return this.#summary !== null;
  }

  /** Starts a job: writes `job_start`. Throws a `TypeError` on an empty id or after `end()`. */
  job(jobId: string, fields?: Fields): JobObserver {
    if (typeof jobId !== "string" || jobId === "") {
      throw new TypeError("job() takes a non-empty job id string");
    }
    if (this.ended) throw new TypeError(`job("${jobId}") was called after the run ended`);
    const job = new JobObserver(this, jobId, fields);
    this.jobs.push(job);
    return job;
  }

  /** Runs `fn` with the run's correlation bound by `withContext`. */
  within<T>(fn: () => T): T {
    return withContext(this.#bindings, fn);
  }

  /**
   * Ends the run: ends open jobs (their open steps as `cancelled`), writes
   * `run_end`, `run_summary` and, with `wide`, `run_wide`, and returns the
   * summary. The status is derived from the jobs unless given (a failed job
   * still fails the run). Idempotent: a second call returns the same summary.
   */
  end(status?: Status): RunSummary {
    if (this.#summary !== null) return this.#summary;
    for (const job of this.jobs) {
      if (!job.ended) job.end(status === "cancelled" ? "cancelled" : undefined);
    }
    const jobs = counts();
    const steps = counts();
    const jobSummaries: JobSummary[] = [];
    const stepDurations: StepSummary[] = [];
    for (const job of this.jobs) {
      const js = job.summary!;
      jobs.total++;
      jobs[js.status]++;
      jobSummaries.push(js);
      for (const step of job.steps) {
        steps.total++;
        steps[step.status!]++;
        stepDurations.push({
          job_id: job.job_id,
          step_id: step.step_id,
          step_type: step.step_type ?? null,
          status: step.status!,
          duration_ms: step.duration_ms!,
        });
      }
    }
    const final = derive(jobs, status);
    const duration = this.now() - this.startedAt;
    const end: EndInfo = { status: final, duration_ms: duration };
    const runEnd: Fields = { status: final, duration_ms: duration };
    if (this.failure !== null) {
      runEnd.failed_job_id = this.failure.job_id;
      runEnd.failed_step_id = this.failure.step_id;
      runEnd.phase = this.failure.phase;
      runEnd.time_to_failure_ms = this.failure.time_to_failure_ms;
    }
    this.logger.info(LIFECYCLE_EVENTS.runEnd, runEnd);
    this.callSink("onRunEnd", { flow_id: this.flow_id, run_id: this.run_id }, end);
    // The run_summary event is the summary without the ids the run's logger binds.
    const outcome = {
      status: final,
      duration_ms: duration,
      jobs,
      steps,
      job_summaries: jobSummaries,
      step_durations: stepDurations,
      failure: this.failure,
      provider_usage: { ...this.usage },
    };
    const summary: RunSummary = {
      flow_id: this.flow_id,
      run_id: this.run_id,
      trace_id: this.trace_id,
      span_id: this.span_id,
      ...outcome,
    };
    this.#summary = summary;
    this.logger.info(LIFECYCLE_EVENTS.runSummary, outcome);
    if (this.wide) {
      this.logger.info(WIDE_EVENTS.run, {
        status: final,
        duration_ms: duration,
        jobs_total: jobs.total,
        jobs_ok: jobs.ok,
        jobs_failed: jobs.failed,
        jobs_skipped: jobs.skipped,
        jobs_cancelled: jobs.cancelled,
        steps_total: steps.total,
        steps_ok: steps.ok,
        steps_failed: steps.failed,
        steps_skipped: steps.skipped,
        steps_cancelled: steps.cancelled,
        failed_job_id: this.failure?.job_id ?? null,
        failed_step_id: this.failure?.step_id ?? null,
        failure_phase: this.failure?.phase ?? null,
        error_type: this.failure?.error.type ?? null,
        error_code: this.failure?.error.code ?? null,
        error_message: this.failure?.error.message ?? null,
        time_to_failure_ms: this.failure?.time_to_failure_ms ?? null,
        provider_calls: this.usage.provider_calls,
        total_tokens: this.usage.total_tokens,
        cost_usd: this.usage.cost_usd,
      });
    }
    return summary;
  }

  /** @internal Calls a sink method, guarded. */
  callSink<K extends keyof MetricsSink>(
    method: K,
    ...args: Parameters<NonNullable<MetricsSink[K]>>
  ): void {
    const sink = this.#sink;
    if (sink === undefined) return;
    try {
      const fn = sink[method] as ((...a: unknown[]) => void) | undefined;
      if (typeof fn === "function") fn.apply(sink, args);
    } catch {
      // A metrics sink never breaks the flow; the count says it misbehaved.
      this.sinkErrors++;
    }
  }
}

/** A job in progress. Create with {@linkcode RunObserver.job}. */
export class JobObserver {
  /** The job. */
  readonly job_id: string;
  /** The job's span. */
  readonly span_id: string;
  /** A logger bound to the job's correlation. */
  readonly logger: Logger;
  /** @internal */
  readonly run: RunObserver;
  /** @internal */
  readonly steps: StepObserver[] = [];
  /** @internal */
  summary: JobSummary | null = null;
  readonly #startedAt: number;
  readonly #bindings: Fields;

  /** @internal Use {@linkcode RunObserver.job}. */
  constructor(run: RunObserver, jobId: string, fields: Fields | undefined) {
    this.run = run;
    this.job_id = jobId;
    this.span_id = newSpanId();
    this.#bindings = { ...fields, job_id: jobId, span_id: this.span_id, parent_id: run.span_id };
    this.logger = run.logger.child(this.#bindings);
    this.#startedAt = run.now();
    this.logger.info(LIFECYCLE_EVENTS.jobStart);
    run.callSink("onJobStart", this.info);
  }

  /** @internal */
  get info(): JobInfo {
    return { flow_id: this.run.flow_id, run_id: this.run.run_id, job_id: this.job_id };
  }

  /** True once the job ended. */
  get ended(): boolean {
    return this.summary !== null;
  }

  /** Starts a step: writes `step_start`. Throws a `TypeError` on an empty id or after `end()`. */
  step(stepId: string, options: StepOptions = {}): StepObserver {
    if (typeof stepId !== "string" || stepId === "") {
      throw new TypeError("step() takes a non-empty step id string");
    }
    if (this.ended) {
      throw new TypeError(`step("${stepId}") was called after job "${this.job_id}" ended`);
    }
    const step = new StepObserver(this, stepId, options);
    this.steps.push(step);
    return step;
  }

  /**
   * Runs `fn` as a step: starts it, binds its correlation with `withContext`,
   * ends it `ok` with what `fn` returns, or `failed` with what it throws
   * (phase from `error.phase`, else `"execute"`) and rethrows. `fn` may also
   * end the step itself (e.g. `step.skip()`).
   */
  runStep<T>(stepId: string, options: StepOptions, fn: (step: StepObserver) => T): T {
    const step = this.step(stepId, options);
    let result: T;
    try {
      result = step.within(() => fn(step));
    } catch (error) {
      if (!step.ended) step.fail(error);
      throw error;
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => {
          if (!step.ended) step.end("ok");
          return value;
        },
        (error) => {
          if (!step.ended) step.fail(error);
          throw error;
        },
      ) as T;
    }
    if (!step.ended) step.end("ok");
    return result;
  }

  /** Runs `fn` with the job's correlation bound by `withContext`. */
  within<T>(fn: () => T): T {
    return withContext({ ...this.run.bindings, ...this.#bindings }, fn);
  }

  /**
   * Ends the job: open steps end `cancelled`; writes `job_end`. The status
   * is derived from the steps unless given (a failed step still fails it).
   * Idempotent.
   */
  end(status?: Status): JobSummary {
    if (this.summary !== null) return this.summary;
    for (const step of this.steps) if (!step.ended) step.end("cancelled");
    const own = counts();
    for (const step of this.steps) {
      own.total++;
      own[step.status!]++;
    }
    const final = derive(own, status);
    const duration = this.run.now() - this.#startedAt;
    this.summary = { job_id: this.job_id, status: final, duration_ms: duration, steps: own };
    const fields: Fields = { status: final, duration_ms: duration };
    const failure = this.run.failure;
    if (final === "failed" && failure !== null && failure.job_id === this.job_id) {
      fields.failed_step_id = failure.step_id;
      fields.phase = failure.phase;
      fields.time_to_failure_ms = failure.time_to_failure_ms;
    }
    this.logger.info(LIFECYCLE_EVENTS.jobEnd, fields);
    this.run.callSink("onJobEnd", this.info, { status: final, duration_ms: duration });
    return this.summary;
  }
}

/** A step in progress. Create with {@linkcode JobObserver.step}. */
export class StepObserver {
  /** The step. */
  readonly step_id: string;
  /** Its kind, if given. */
  readonly step_type: string | undefined;
  /** The step's span. */
  readonly span_id: string;
  /** A logger bound to the step's correlation. */
  readonly logger: Logger;
  /** Its outcome, once ended. */
  status: Status | undefined;
  /** Its duration, once ended. */
  duration_ms: number | undefined;
  /** Usage of the provider calls made in this step. */
  readonly usage: UsageTotals = noUsage();
  readonly #job: JobObserver;
  readonly #startedAt: number;
  readonly #bindings: Fields;

  /** @internal Use {@linkcode JobObserver.step}. */
  constructor(job: JobObserver, stepId: string, options: StepOptions) {
    this.#job = job;
    this.step_id = stepId;
    this.step_type = options.step_type;
    this.span_id = newSpanId();
    const b: Fields = { step_id: stepId };
    if (options.step_type !== undefined) b.step_type = options.step_type;
    if (options.node !== undefined) b.node = options.node;
    b.span_id = this.span_id;
    b.parent_id = job.span_id;
    this.#bindings = b;
    this.logger = job.logger.child(b);
    this.#startedAt = job.run.now();
    this.logger.info(LIFECYCLE_EVENTS.stepStart);
    job.run.callSink("onStepStart", this.info);
  }

  /** @internal */
  get info(): StepInfo {
    const i: StepInfo = { ...this.#job.info, step_id: this.step_id };
    if (this.step_type !== undefined) i.step_type = this.step_type;
    return i;
  }

  /** True once the step ended. */
  get ended(): boolean {
    return this.status !== undefined;
  }

  /** Runs `fn` with the step's correlation bound by `withContext`. */
  within<T>(fn: () => T): T {
    const job = this.#job;
    return withContext(
      { ...job.run.bindings, job_id: job.job_id, ...this.#bindings, [STEP_KEY]: this },
      fn,
    );
  }

  /** Adds provider usage (tokens, cost) to this step and its run. */
  addUsage(usage: Usage): void {
    addUsage(this.usage, usage);
    addUsage(this.#job.run.usage, usage);
  }

  /** Ends the step as skipped (an outcome, not a failure). */
  skip(reason?: string): void {
    this.end("skipped", reason === undefined ? undefined : { reason });
  }

  /**
   * Ends the step as failed, attributing the failure: phase, error summary,
   * time to failure. The first failure of the run is the run's `failure`.
   */
  fail(error: unknown, options: FailOptions = {}): void {
    if (this.ended) return;
    const run = this.#job.run;
    const errorPhase = (error as { phase?: unknown } | null)?.phase;
    const phase: FailurePhase = options.phase ??
      (typeof errorPhase === "string" && PHASES.includes(errorPhase)
        ? errorPhase as FailurePhase
        : "execute");
    if (!PHASES.includes(phase)) {
      throw new TypeError(
        `Invalid failure phase ${JSON.stringify(phase)}: use validate, resolve or execute`,
      );
    }
    const summary = summarizeError(error);
    if (options.retryable !== undefined) summary.retryable = options.retryable;
    const ttf = run.now() - run.startedAt;
    if (run.failure === null) {
      run.failure = {
        job_id: this.#job.job_id,
        step_id: this.step_id,
        phase,
        error: summary,
        time_to_failure_ms: ttf,
      };
    }
    this.end("failed", { phase, error: summary, time_to_failure_ms: ttf });
  }

  /**
   * Ends the step with `status` (writes `step_end`, and `step_wide` when the
   * run has `wide`). Idempotent: later calls are ignored.
   */
  end(status: Status = "ok", fields?: Fields): void {
    if (this.ended) return;
    if (status !== "ok" && status !== "failed" && status !== "skipped" && status !== "cancelled") {
      throw new TypeError(
        `Invalid status ${JSON.stringify(status)}: use ok, failed, skipped or cancelled`,
      );
    }
    const run = this.#job.run;
    const duration = run.now() - this.#startedAt;
    this.status = status;
    this.duration_ms = duration;
    const out: Fields = { ...fields, status, duration_ms: duration };
    if (this.usage.provider_calls > 0) {
      // In and out apart too: per-node statistics sum each (query/node_stats.ts).
      out.input_tokens = this.usage.input_tokens;
      out.output_tokens = this.usage.output_tokens;
      out.total_tokens = this.usage.total_tokens;
      out.cost_usd = this.usage.cost_usd;
    }
    if (status === "failed") this.logger.error(LIFECYCLE_EVENTS.stepEnd, out);
    else this.logger.info(LIFECYCLE_EVENTS.stepEnd, out);
    run.callSink("onStepEnd", this.info, { status, duration_ms: duration });
    if (run.wide) {
      const e = (fields?.error ?? null) as ErrorSummary | null;
      this.logger.info(WIDE_EVENTS.step, {
        flow_id: run.flow_id,
        run_id: run.run_id,
        job_id: this.#job.job_id,
        step_id: this.step_id,
        step_type: this.step_type ?? null,
        status,
        duration_ms: duration,
        phase: fields?.phase ?? null,
        error_type: e?.type ?? null,
        error_code: e?.code ?? null,
        error_message: e?.message ?? null,
        retryable: e?.retryable ?? null,
        time_to_failure_ms: fields?.time_to_failure_ms ?? null,
        reason: fields?.reason ?? null,
        provider_calls: this.usage.provider_calls,
        input_tokens: this.usage.input_tokens,
        output_tokens: this.usage.output_tokens,
        total_tokens: this.usage.total_tokens,
        cost_usd: this.usage.cost_usd,
      });
    }
  }
}

/**
 * Starts observing a run: writes `run_start` and returns the
 * {@linkcode RunObserver} from which jobs and steps are started. Throws a
 * `TypeError` without a non-empty `flow_id`.
 *
 * @example A run with one job of two steps
 * ```ts
 * import { createLogger } from "../../mod.ts";
 * import { observeRun } from "./lifecycle.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const log = createLogger({ dir, transport: "inline" });
 * const run = observeRun(log, { flow_id: "f-1", run_id: "r-1" });
 * const job = run.job("build");
 * await job.runStep("fetch", { step_type: "http" }, async () => "page");
 * job.step("lint").skip("no changes");
 * job.end();
 * const summary = run.end();
 * assert.equal(summary.status, "ok");
 * assert.deepEqual([summary.steps.ok, summary.steps.skipped], [1, 1]);
 * await log.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function observeRun(logger: Logger, options: RunObserverOptions): RunObserver {
  return new RunObserver(logger, options);
}
