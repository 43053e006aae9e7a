/**
 * The built-in Prometheus metrics of flightlog, fed in the consumer from the
 * persisted events (so every producer counts) and from the consumer's
 * counters at scrape time.
 *
 * | metric                                    | type      | labels                 |
 * | ----------------------------------------- | --------- | ---------------------- |
 * | `flightlog_runs_total`                    | counter   | `status`               |
 * | `flightlog_runs_active`                   | gauge     |                        |
 * | `flightlog_run_duration_seconds`          | histogram | `status`               |
 * | `flightlog_jobs_total`                    | counter   | `status`               |
 * | `flightlog_steps_total`                   | counter   | `step_type`, `status`  |
 * | `flightlog_step_duration_seconds`         | histogram | `step_type`            |
 * | `flightlog_events_total`                  | counter   | `level`                |
 * | `flightlog_dropped_events_total`          | counter   |                        |
 * | `flightlog_ring_fill_ratio`               | gauge     | `producer`             |
 * | `flightlog_lifecycle_malformed_total`     | counter   | `event`                |
 * | `flightlog_metrics_sink_errors_total`     | counter   |                        |
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import { type LevelName, LEVELS } from "../level.ts";
import { checkLifecycle, dispatchLifecycle, fieldOf } from "./lifecycle_dispatch.ts";
import type {
  EndInfo,
  JobInfo,
  MetricsSink,
  RunInfo,
  Status,
  StepInfo,
} from "../lifecycle_events.ts";
import {
  type Counter,
  type Gauge,
  type Histogram,
  type HistogramState,
  Registry,
} from "./prometheus.ts";

/** Upper bounds (seconds) of the run duration histogram. */
export const RUN_BUCKETS: readonly number[] = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];
/** Upper bounds (seconds) of the step duration histogram. */
export const STEP_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
];

/** What the registry reads from the consumer at scrape time. */
export interface ScrapeCounters {
  /** Events dropped or lost, summed over producers. */
  dropped: number;
  /** Bytes in use and capacity of each ring the consumer drains. */
  rings: readonly { producer: string; used: number; capacity: number }[];
}

/**
 * Prometheus metrics of runs, jobs, steps and events. Implements
 * {@linkcode MetricsSink}; {@linkcode FlowMetrics.observe} feeds it (and an
 * optional extra sink, such as the one of `FLIGHTLOG_METRICS_MODULE`) from
 * persisted events.
 *
 * @example Count a step and render the exposition text
 * ```ts
 * import { FlowMetrics } from "./flow_metrics.ts";
 * import assert from "node:assert/strict";
 *
 * const m = new FlowMetrics();
 * const base = { ts_ms: 0, severity: 9, level: "info" as const, producer: "p", seq: 1 };
 * m.observe([{ ...base, event: "step_end", fields: {
 *   flow_id: "f", run_id: "r", job_id: "j", step_id: "s", step_type: "llm",
 *   status: "ok", duration_ms: 1200,
 * } }]);
 * const text = m.render({ dropped: 0, rings: [] });
 * assert.match(text, /^flightlog_steps_total\{step_type="llm",status="ok"\} 1$/m);
 * assert.match(text, /^flightlog_step_duration_seconds_sum\{step_type="llm"\} 1.2$/m);
 * ```
 */
export class FlowMetrics implements MetricsSink {
  /** The registry holding every metric below. */
  readonly registry: Registry = new Registry();
  readonly #runs: Counter;
  readonly #runsActive: Gauge;
  readonly #runDuration: Histogram;
  readonly #jobs: Counter;
  readonly #steps: Counter;
  readonly #stepDuration: Histogram;
  readonly #events: Counter;
  readonly #dropped: Counter;
  readonly #ringFill: Gauge;
  readonly #malformed: Counter;
  readonly #sinkErrors: Counter;
  #extra: MetricsSink | null = null;
  readonly #byLevel: Record<LevelName, number> = {
    trace: 0,
    debug: 0,
    info: 0,
    warn: 0,
    error: 0,
    fatal: 0,
  };

  constructor() {
    const r = this.registry;
    this.#runs = r.counter("flightlog_runs_total", "Runs ended, by status.", ["status"]);
    this.#runsActive = r.gauge("flightlog_runs_active", "Runs started and not yet ended.");
    this.#runDuration = r.histogram(
      "flightlog_run_duration_seconds",
      "Duration of ended runs.",
      ["status"],
      RUN_BUCKETS,
    );
    this.#jobs = r.counter("flightlog_jobs_total", "Jobs ended, by status.", ["status"]);
    this.#steps = r.counter("flightlog_steps_total", "Steps ended, by step type and status.", [
      "step_type",
      "status",
    ]);
    this.#stepDuration = r.histogram(
      "flightlog_step_duration_seconds",
      "Duration of ended steps.",
      ["step_type"],
      STEP_BUCKETS,
    );
    this.#events = r.counter("flightlog_events_total", "Events persisted, by level.", ["level"]);
    this.#dropped = r.counter(
      "flightlog_dropped_events_total",
      "Events dropped (ring full) or lost (store write failed), all producers.",
    );
    this.#ringFill = r.gauge(
      "flightlog_ring_fill_ratio",
      "Fraction of each producer ring in use at scrape time.",
      ["producer"],
    );
    this.#malformed = r.counter(
      "flightlog_lifecycle_malformed_total",
      "Lifecycle events without their ids, status or duration, not counted above.",
      ["event"],
    );
    this.#sinkErrors = r.counter(
      "flightlog_metrics_sink_errors_total",
      "Callbacks of the FLIGHTLOG_METRICS_MODULE sink that threw, and failures to load it.",
    );
  }

  /** Also calls `sink` for every lifecycle event observed (errors are counted). */
  setExtraSink(sink: MetricsSink | null): void {
    this.#extra = sink;
  }

  /** Counts `n` failures of the extra sink outside a callback (loading it, replaying calls). */
  countSinkErrors(n = 1): void {
    this.#sinkErrors.inc([], n);
  }

  /** Feeds a batch of persisted events. Never throws. */
  observe(events: readonly LogEvent[]): void {
    const extra = this.#extra;
    const byLevel = this.#byLevel;
    for (const ev of events) {
      // A plain per-level tally, mirrored into the counter at scrape time:
      // no label lookup per event.
      byLevel[ev.level]++;
      const check = checkLifecycle(ev);
      if (check === "ignored") continue;
      if (check === "malformed") {
        this.#malformed.inc([ev.event]);
        continue;
      }
      // Valid: ids, status and duration were checked; read them in place,
      // without building the sink's info objects (bench/console_throughput.ts).
      switch (ev.event) {
        case "run_start":
          this.#runsActive.add([], 1);
          break;
        case "run_end":
          this.#runEnd(fieldOf(ev, "status") as Status, fieldOf(ev, "duration_ms") as number);
          break;
        case "job_end":
          this.#jobs.inc([fieldOf(ev, "status") as string]);
          break;
        case "step_end": {
          const type = fieldOf(ev, "step_type");
          this.#stepEnd(
            typeof type === "string" && type !== "" ? type : "none",
            fieldOf(ev, "status") as string,
            fieldOf(ev, "duration_ms") as number,
          );
          break;
        }
      }
      if (extra !== null && dispatchLifecycle(ev, extra) === "sink_error") this.#sinkErrors.inc();
    }
  }

  #runEnd(status: Status, durationMs: number): void {
    // A run that began before the registry existed must not push it below 0.
    if (this.#runsActive.get() > 0) this.#runsActive.add([], -1);
    this.#runs.inc([status]);
    this.#runDuration.observe([status], durationMs / 1000);
  }

  // Series of the step metrics by step type and status, looked up once.
  readonly #stepSeries = new Map<string, { count: { v: number }; duration: HistogramState }>();

  #stepEnd(type: string, status: string, durationMs: number): void {
    const key = type + "\u0000" + status;
    let s = this.#stepSeries.get(key);
    if (s === undefined) {
      s = { count: this.#steps.at([type, status]), duration: this.#stepDuration.at([type]) };
      // Bounded like the registry's own series (past maxSeries they fold into _overflow).
      if (this.#stepSeries.size < 1000) this.#stepSeries.set(key, s);
    }
    s.count.v++;
    this.#stepDuration.observeAt(s.duration, durationMs / 1000);
  }

  /** The exposition text, after reading the scrape-time counters. */
  render(counters: ScrapeCounters): string {
    this.#dropped.mirror([], counters.dropped);
    for (const level of LEVELS) {
      if (this.#byLevel[level] > 0) this.#events.mirror([level], this.#byLevel[level]);
    }
    for (const ring of counters.rings) {
      this.#ringFill.set([ring.producer], ring.capacity === 0 ? 0 : ring.used / ring.capacity);
    }
    return this.registry.render();
  }

  /** A run began (as a {@linkcode MetricsSink}). */
  onRunStart(_run: RunInfo): void {
    this.#runsActive.add([], 1);
  }
  /** A run ended. */
  onRunEnd(_run: RunInfo, end: EndInfo): void {
    this.#runEnd(end.status, end.duration_ms);
  }
  /** A job ended. */
  onJobEnd(_job: JobInfo, end: EndInfo): void {
    this.#jobs.inc([end.status]);
  }
  /** A step ended. */
  onStepEnd(step: StepInfo, end: EndInfo): void {
    this.#stepEnd(step.step_type ?? "none", end.status, end.duration_ms);
  }
}
