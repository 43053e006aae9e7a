/**
 * The consumer's observers of persisted events: the console sink and the
 * metrics (built-in Prometheus registry plus the optional
 * `FLIGHTLOG_METRICS_MODULE` sink).
 *
 * Their settings come resolved from the caller's thread (an
 * {@linkcode ObserverConfig} of src/sinks/setup.ts); the consumer (worker,
 * or the `inline` transport's timer) builds {@linkcode Observers} from them
 * and calls them after each batch is appended to the store.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import { ConsoleSink } from "../sinks/console_sink.ts";
import { FlowMetrics, type ScrapeCounters } from "../sinks/flow_metrics.ts";
import type { EndInfo, JobInfo, MetricsSink, RunInfo, StepInfo } from "../lifecycle_events.ts";
import { loadMetricsModule } from "../sinks/metrics_module.ts";
import type { ObserverConfig } from "../sinks/setup.ts";
import type { Consumer } from "./consumer.ts";

const MAX_PENDING_CALLS = 10_000;

// Stands in for the module's sink while it loads: queues the calls (bounded)
// and replays them once it is there, so lifecycle events of the first
// milliseconds are not missed.
class PendingSink implements MetricsSink {
  #queue: [keyof MetricsSink, unknown[]][] | null = [];
  #target: MetricsSink | null = null;
  overflow = 0;
  errors = 0;

  #call(name: keyof MetricsSink, args: unknown[]): void {
    if (this.#target !== null) {
      (this.#target[name] as ((...a: unknown[]) => void) | undefined)?.apply(this.#target, args);
      return;
    }
    if (this.#queue === null) return;
    if (this.#queue.length < MAX_PENDING_CALLS) this.#queue.push([name, args]);
    else this.overflow++;
  }

  resolve(target: MetricsSink): void {
    const queue = this.#queue ?? [];
    this.#queue = null;
    for (const [name, args] of queue) {
      try {
        (target[name] as ((...a: unknown[]) => void) | undefined)?.apply(target, args);
      } catch {
        this.errors++;
      }
    }
    this.#target = target;
  }

  reject(): void {
    this.#queue = null;
  }

  onRunStart(run: RunInfo): void {
    this.#call("onRunStart", [run]);
  }
  onRunEnd(run: RunInfo, end: EndInfo): void {
    this.#call("onRunEnd", [run, end]);
  }
  onJobStart(job: JobInfo): void {
    this.#call("onJobStart", [job]);
  }
  onJobEnd(job: JobInfo, end: EndInfo): void {
    this.#call("onJobEnd", [job, end]);
  }
  onStepStart(step: StepInfo): void {
    this.#call("onStepStart", [step]);
  }
  onStepEnd(step: StepInfo, end: EndInfo): void {
    this.#call("onStepEnd", [step, end]);
  }
}

/**
 * The consumer-side observers built from an {@linkcode ObserverConfig}.
 * {@linkcode Observers.observe} is what the consumer calls after each append.
 */
export class Observers {
  /** The console sink, or null. */
  readonly console: ConsoleSink | null;
  /** The built-in Prometheus metrics, or null. */
  readonly metrics: FlowMetrics | null;
  /** Settles once the metrics module is loaded (or failed to load; see `moduleError`). */
  readonly ready: Promise<void>;
  /** Why the metrics module could not be loaded, if it could not. */
  moduleError: string | null = null;

  constructor(
    config: ObserverConfig,
    write: (stream: "stdout" | "stderr", text: string) => void,
    load: (url: string) => Promise<MetricsSink> = loadMetricsModule,
  ) {
    const c = config.console;
    this.console = c === null ? null : new ConsoleSink(c, (text) => write(c.stream, text));
    const m = config.metrics;
    this.metrics = m === null ? null : new FlowMetrics();
    if (m === null || m.module === null) {
      this.ready = Promise.resolve();
      return;
    }
    const pending = new PendingSink();
    const metrics = this.metrics!;
    metrics.setExtraSink(pending);
    this.ready = load(m.module).then((sink) => {
      pending.resolve(sink);
      // Replayed calls that threw, and calls past the queue's bound.
      metrics.countSinkErrors(pending.errors + pending.overflow);
    }, (err) => {
      pending.reject();
      metrics.setExtraSink(null);
      metrics.countSinkErrors();
      this.moduleError = err instanceof Error ? err.message : String(err);
      // Logging goes on without the sink; say so once where an operator looks.
      write("stderr", `flightlog: ${this.moduleError}\n`);
    });
  }

  /** Feeds a batch of persisted events to every observer. Never throws. */
  readonly observe = (events: readonly LogEvent[]): void => {
    this.metrics?.observe(events);
    this.console?.observe(events);
  };

  /** The Prometheus exposition text, or null when metrics are off. */
  metricsText(counters: ScrapeCounters): string | null {
    return this.metrics?.render(counters) ?? null;
  }
}

/**
 * Builds the observers of `config` and registers them with the consumer.
 * Returns null when neither console output nor metrics are on.
 */
export function installObservers(
  consumer: Consumer,
  config: ObserverConfig | undefined,
  write: (stream: "stdout" | "stderr", text: string) => void,
): Observers | null {
  if (config === undefined || (config.console === null && config.metrics === null)) return null;
  const observers = new Observers(config, write);
  consumer.addObserver(observers.observe);
  return observers;
}

/** Reads the consumer's drop counters and ring fill for a scrape. */
export function scrapeCounters(consumer: Consumer): ScrapeCounters {
  let dropped = 0;
  for (const p of consumer.stats().producers) dropped += p.dropped + p.lost;
  return { dropped, rings: consumer.rings() };
}
