/**
 * The caller's side of console output and metrics: the `console` and
 * `metrics` options of `createLogger`, their resolution with the environment
 * into the {@linkcode ObserverConfig} the consumer runs (src/worker/observers.ts),
 * and the optional `/metrics` listener of a logger until it is closed.
 *
 * Nothing here reaches the platform: what it reads from the runtime comes in
 * as a {@linkcode CallerEnv}, the listener as a function.
 *
 * @module
 */
import { isLevelName, type LevelName, SEVERITY } from "../level.ts";
import type { ConsoleFormat, ConsoleTime } from "./console_format.ts";
import type { ConsoleConfig } from "./console_sink.ts";
import { metricsHandler } from "./metrics_server.ts";

/** Options of the console output (`createLogger({ console })`). */
export interface ConsoleOptions {
  /**
   * Line format; when unset, the `FLIGHTLOG_FORMAT` environment variable
   * (`text`, `json` or `pretty`) decides, else `pretty` when the stream is a
   * terminal and `text` when it is not.
   * @default {"pretty" on a terminal, else "text"}
   */
  format?: ConsoleFormat;
  /**
   * What starts each text or pretty line: the event's ISO 8601 UTC time with
   * milliseconds, the time since the logger was created (`+12.345s`), or
   * nothing. The JSON format always carries `ts_ms`.
   * @default {"iso"}
   */
  time?: ConsoleTime;
  /**
   * Least severe level written to the console (events below the logger's
   * level are not recorded at all).
   * @default {the logger's level}
   */
  level?: LevelName;
  /**
   * ANSI colors in the text and pretty formats. `"auto"`: only when the stream is a
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

/** Every key of {@linkcode ConsoleOptions}: the compiler keeps it complete. */
export const CONSOLE_OPTION_KEYS: Readonly<Record<keyof ConsoleOptions, true>> = {
  format: true,
  time: true,
  level: true,
  colors: true,
  stream: true,
};

/** Every key of {@linkcode MetricsOptions}. */
export const METRICS_OPTION_KEYS: Readonly<Record<keyof MetricsOptions, true>> = {
  module: true,
  serve: true,
};

/** Every key of {@linkcode MetricsServeOptions}. */
export const METRICS_SERVE_OPTION_KEYS: Readonly<Record<keyof MetricsServeOptions, true>> = {
  hostname: true,
  port: true,
};

/** Resolved observer settings, handed to the consumer (structured-cloneable). */
export interface ObserverConfig {
  /** Console output, or `null` when off. */
  console: ConsoleConfig | null;
  /** Metrics, or `null` when off; `module` is a resolved URL. */
  metrics: { module: string | null } | null;
}

/**
 * What the caller's platform provides to resolve options: its environment,
 * its terminals and how it finds a module. `createLogger` passes the one of
 * src/platform/; tests pass their own.
 */
export interface CallerEnv {
  /** An environment variable, or undefined (also when not permitted). */
  env(name: string): string | undefined;
  /** True when the stream is a terminal. */
  isTerminal(stream: "stdout" | "stderr"): boolean;
  /**
   * A module specifier as a URL (a path resolved against the working
   * directory); throws a `TypeError` for a module that cannot be read,
   * naming `option` (the metrics options when absent).
   */
  moduleUrl(specifier: string, option?: string): string;
}

/**
 * Resolves `console` and `metrics` options plus `FLIGHTLOG_FORMAT`,
 * `FLIGHTLOG_METRICS_MODULE` and `NO_COLOR` into the consumer's settings.
 * Console output is off unless `console` is given; metrics are on when
 * `metrics` is given or `FLIGHTLOG_METRICS_MODULE` is set. Throws a
 * `TypeError` / `RangeError` on a bad option or environment value. Unknown
 * keys are the caller's check (`resolveConfig()` in src/front/options.ts).
 * `startMs` is the logger's start in its clock (`console.time: "elapsed"`).
 *
 * @example JSON chosen by the environment
 * ```ts
 * import { resolveObserverConfig } from "./setup.ts";
 * import assert from "node:assert/strict";
 *
 * const env = {
 *   env: (name: string) => (name === "FLIGHTLOG_FORMAT" ? "json" : undefined),
 *   isTerminal: () => true,
 *   moduleUrl: (s: string) => s,
 * };
 * const config = resolveObserverConfig({ console: true }, "info", env);
 * assert.equal(config.console?.format, "json");
 * assert.equal(config.metrics, null);
 * ```
 */
export function resolveObserverConfig(
  options: { console?: boolean | ConsoleOptions; metrics?: boolean | MetricsOptions },
  loggerLevel: LevelName,
  env: CallerEnv,
  startMs = 0,
): ObserverConfig {
  return {
    console: resolveConsole(options.console, loggerLevel, env, startMs),
    metrics: resolveMetrics(options.metrics, env),
  };
}

function resolveConsole(
  opt: boolean | ConsoleOptions | undefined,
  loggerLevel: LevelName,
  rt: CallerEnv,
  startMs: number,
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
      if (!isConsoleFormat(env)) {
        throw new TypeError(
          `FLIGHTLOG_FORMAT must be "text", "json" or "pretty", got ${
            JSON.stringify(env)
          }: fix or unset it`,
        );
      }
      format = env;
    }
  } else if (!isConsoleFormat(format)) {
    throw new TypeError(
      `Invalid option console.format ${JSON.stringify(format)}: use "text", "json" or "pretty"`,
    );
  }
  const time = o.time ?? "iso";
  if (time !== "iso" && time !== "elapsed" && time !== false) {
    throw new TypeError(
      `Invalid option console.time ${JSON.stringify(time)}: use "iso", "elapsed" or false`,
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
  return {
    format: format ?? (rt.isTerminal(stream) ? "pretty" : "text"),
    minSeverity: SEVERITY[level],
    colors,
    time,
    startMs,
    stream,
  };
}

function isConsoleFormat(format: unknown): format is ConsoleFormat {
  return format === "text" || format === "json" || format === "pretty";
}

function resolveMetrics(
  opt: boolean | MetricsOptions | undefined,
  rt: CallerEnv,
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

/** Where a logger's `/metrics` listener listens. */
export interface ServeAddress {
  hostname: string;
  port: number;
}

/** Normalizes `metrics.serve` into a hostname and port, or null when not serving. */
export function resolveServe(opt: boolean | MetricsOptions | undefined): ServeAddress | null {
  const serve = typeof opt === "object" && opt !== null ? opt.serve : undefined;
  if (serve === undefined || serve === false) return null;
  if (serve !== true && (typeof serve !== "object" || serve === null)) {
    throw new TypeError(
      "Option metrics.serve must be true, false or an object such as { port: 9464 }",
    );
  }
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

/** A running HTTP listener, as the platform's `serveHttp` returns it. */
export interface MetricsListener {
  /** Base URL, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  /** Stops listening and waits for open requests. */
  close(): Promise<void>;
}

/** The platform's HTTP listener (`serveHttp` of src/platform/). */
export type Listen = (
  hostname: string,
  port: number,
  handler: (req: Request) => Response | Promise<Response>,
) => MetricsListener;

const listeners = new WeakMap<object, MetricsListener>();

/**
 * Starts a `/metrics` listener answering with `render()`. Throws a
 * `TypeError` naming the address when it cannot listen.
 */
export function startMetricsServer(
  listen: Listen,
  serve: ServeAddress,
  render: () => Promise<string>,
): MetricsListener {
  try {
    return listen(serve.hostname, serve.port, metricsHandler(render));
  } catch (err) {
    // A runtime that cannot listen at all (a browser) says so itself: no port advice.
    if (err instanceof TypeError && err.message.startsWith("Option metrics.serve")) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new TypeError(
      `Cannot serve /metrics on ${serve.hostname}:${serve.port}: ${why}; pick another metrics.serve.port (0 for any free port)`,
      { cause: err },
    );
  }
}

/** Ties a listener to the logger owning `key` (its transport), for `metricsUrl()` and `close()`. */
export function registerMetricsServer(key: object, listener: MetricsListener): void {
  listeners.set(key, listener);
}

/** The base URL of the logger's `/metrics` listener, or null. */
export function metricsUrlOf(key: object): string | null {
  const l = listeners.get(key);
  return l === undefined ? null : `${l.url}/metrics`;
}

/** Closes the logger's `/metrics` listener, if any. Idempotent. */
export async function stopMetricsServer(key: object): Promise<void> {
  const l = listeners.get(key);
  if (l === undefined) return;
  listeners.delete(key);
  await l.close();
}
