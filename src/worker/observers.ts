/**
 * Observers of persisted events: the console sink and the metrics (built-in
 * Prometheus registry plus the optional `FLIGHTLOG_METRICS_MODULE` sink).
 *
 * Their settings are resolved once on the caller's thread by
 * {@linkcode resolveObserverConfig} (options, environment, TTY) into a
 * structured-cloneable {@linkcode ObserverConfig}; the consumer (worker, or the
 * `inline` transport's timer) builds {@linkcode Observers} from it and calls
 * them after each batch is appended to the store.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import { isLevelName, type LevelName, SEVERITY } from "../level.ts";
import type { ConsoleFormat } from "../sinks/console_format.ts";
import { type ConsoleConfig, ConsoleSink } from "../sinks/console_sink.ts";
import { FlowMetrics, type ScrapeCounters } from "../sinks/flow_metrics.ts";
import type { EndInfo, JobInfo, MetricsSink, RunInfo, StepInfo } from "../lifecycle_events.ts";
import { loadMetricsModule } from "../sinks/metrics_module.ts";
import type { Consumer } from "./consumer.ts";

/** Options of the console output (`createLogger({ console })`). */
export interface ConsoleOptions {
  /**
   * Line format; when unset, the `FLIGHTLOG_FORMAT` environment variable
   * (`text` or `json`) decides.
   * @default {"text"}
   */
  format?: ConsoleFormat;
  /**
   * Least severe level written to the console (events below the logger's
   * level are not recorded at all).
   * @default {the logger's level}
   */
  level?: LevelName;
  /**
   * ANSI colors in the text format. `"auto"`: only when the stream is a
   * terminal and `NO_COLOR` is not set.
   * @default {"auto"}
   */
  colors?: boolean | "auto";
  /**
   * Where lines go.
   * @default {"stderr"}
   */
  stream?: "stdout" | "stderr";
}

/** Options of the metrics (`createLogger({ metrics })`). */
export interface MetricsOptions {
  /**
   * Path or URL of a module exporting `METRICS: MetricsSink`, loaded in the
   * worker and fed from persisted lifecycle events. When unset, the
   * `FLIGHTLOG_METRICS_MODULE` environment variable is used.
   */
  module?: string;
  /**
   * Serve the Prometheus text at `http://<hostname>:<port>/metrics` from this
   * thread, until `close()`. `true` means the defaults.
   */
  serve?: boolean | MetricsServeOptions;
}

/** Where the `/metrics` endpoint listens. */
export interface MetricsServeOptions {
  /**
   * Interface to listen on; loopback unless you mean to expose it.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * TCP port; 0 picks a free one (see `logger.metricsUrl()`).
   * @default {9464}
   */
  port?: number;
}

/** Resolved observer settings, handed to the consumer. */
export interface ObserverConfig {
  /** Console output, or `null` when off. */
  console: ConsoleConfig | null;
  /** Metrics, or `null` when off; `module` is a resolved URL. */
  metrics: { module: string | null } | null;
}

/** What {@linkcode resolveObserverConfig} reads from the runtime. */
export interface ObserverEnv {
  /** An environment variable, or undefined (also when not permitted). */
  env(name: string): string | undefined;
  /** True when the stream is a terminal. */
  isTerminal(stream: "stdout" | "stderr"): boolean;
  /** A module specifier as a URL (a path resolved against the working directory). */
  moduleUrl(specifier: string): string;
}

/**
 * Resolves `console` and `metrics` options plus `FLIGHTLOG_FORMAT`,
 * `FLIGHTLOG_METRICS_MODULE` and `NO_COLOR` into the consumer's settings.
 * Console output is off unless `console` is given; metrics are on when
 * `metrics` is given or `FLIGHTLOG_METRICS_MODULE` is set. Throws a
 * `TypeError` / `RangeError` on a bad option or environment value.
 *
 * @example JSON chosen by the environment
 * ```ts
 * import { resolveObserverConfig } from "./observers.ts";
 * import assert from "node:assert/strict";
 *
 * const rt = {
 *   env: (name: string) => (name === "FLIGHTLOG_FORMAT" ? "json" : undefined),
 *   isTerminal: () => true,
 *   moduleUrl: (s: string) => s,
 * };
 * const config = resolveObserverConfig({ console: true }, "info", rt);
 * assert.equal(config.console?.format, "json");
 * assert.equal(config.metrics, null);
 * ```
 */
export function resolveObserverConfig(
  options: { console?: boolean | ConsoleOptions; metrics?: boolean | MetricsOptions },
  loggerLevel: LevelName,
  rt: ObserverEnv,
): ObserverConfig {
  return {
    console: resolveConsole(options.console, loggerLevel, rt),
    metrics: resolveMetrics(options.metrics, rt),
  };
}

function resolveConsole(
  opt: boolean | ConsoleOptions | undefined,
  loggerLevel: LevelName,
  rt: ObserverEnv,
): ConsoleConfig | null {
  if (opt === undefined || opt === false) return null;
  if (opt !== true && (typeof opt !== "object" || opt === null)) {
    throw new TypeError(
      'Option console must be true, false or an object such as { format: "json" }',
    );
  }
  const o: ConsoleOptions = opt === true ? {} : opt;
  let format = o.format;
  if (format === undefined) {
    const env = rt.env("FLIGHTLOG_FORMAT");
    if (env !== undefined && env !== "") {
      if (env !== "text" && env !== "json") {
        throw new TypeError(
          `FLIGHTLOG_FORMAT must be "text" or "json", got ${JSON.stringify(env)}: fix or unset it`,
        );
      }
      format = env;
    }
  } else if (format !== "text" && format !== "json") {
    throw new TypeError(
      `Invalid option console.format ${JSON.stringify(format)}: use "text" or "json"`,
    );
  }
  const level = o.level ?? loggerLevel;
  if (!isLevelName(level)) {
    throw new TypeError(
      `Invalid option console.level ${
        JSON.stringify(level)
      }: use trace, debug, info, warn, error or fatal`,
    );
  }
  const stream = o.stream ?? "stderr";
  if (stream !== "stdout" && stream !== "stderr") {
    throw new TypeError(
      `Invalid option console.stream ${JSON.stringify(stream)}: use "stdout" or "stderr"`,
    );
  }
  const c = o.colors ?? "auto";
  if (c !== "auto" && typeof c !== "boolean") {
    throw new TypeError(
      `Invalid option console.colors ${JSON.stringify(c)}: use true, false or "auto"`,
    );
  }
  const noColor = rt.env("NO_COLOR");
  const colors = c === "auto"
    ? rt.isTerminal(stream) && (noColor === undefined || noColor === "")
    : c;
  return { format: format ?? "text", minSeverity: SEVERITY[level], colors, stream };
}

function resolveMetrics(
  opt: boolean | MetricsOptions | undefined,
  rt: ObserverEnv,
): { module: string | null } | null {
  if (opt !== undefined && typeof opt !== "boolean" && (typeof opt !== "object" || opt === null)) {
    throw new TypeError("Option metrics must be true, false or an object such as { serve: true }");
  }
  const o: MetricsOptions = typeof opt === "object" ? opt : {};
  if (o.module !== undefined && (typeof o.module !== "string" || o.module === "")) {
    throw new TypeError("Option metrics.module must be a non-empty module path or URL");
  }
  const envModule = rt.env("FLIGHTLOG_METRICS_MODULE");
  const specifier = o.module ?? (envModule === "" ? undefined : envModule);
  if (opt === false || (opt === undefined && specifier === undefined)) return null;
  return { module: specifier === undefined ? null : rt.moduleUrl(specifier) };
}

/** Normalizes `metrics.serve` into a hostname and port, or null when not serving. */
export function resolveServe(
  opt: boolean | MetricsOptions | undefined,
): { hostname: string; port: number } | null {
  const serve = typeof opt === "object" && opt !== null ? opt.serve : undefined;
  if (serve === undefined || serve === false) return null;
  const s: MetricsServeOptions = serve === true ? {} : serve;
  const port = s.port ?? 9464;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Option metrics.serve.port must be an integer 0–65535, got ${String(port)}`,
    );
  }
  const hostname = s.hostname ?? "127.0.0.1";
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError("Option metrics.serve.hostname must be a non-empty host name or address");
  }
  return { hostname, port };
}

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
