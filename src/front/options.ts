/**
 * The options of `createLogger()` and `attachLogger()`, and the one step that
 * checks them. {@linkcode resolveConfig} runs on the caller's thread, before
 * anything starts: every bad option, an unknown key included (with the
 * closest valid name), is a `TypeError` or `RangeError` that names it. What
 * it returns is what the transport, the worker and the store run with; they
 * do not check it again.
 *
 * Nothing here reaches the platform: what the runtime provides (environment
 * variables, terminals, module paths) comes in as a {@linkcode CallerEnv}.
 *
 * @module
 */
import { DEFAULT_LIMITS, type Limits, MAX_DECODE_DEPTH, MIN_RECORD_BYTES } from "../wire/codec.ts";
import { MIN_CAPACITY, ringCapacity } from "../wire/ring.ts";
import { isLevelName, type LevelName, LEVELS, parseLevel } from "../level.ts";
import { type CategoryFilter, getCategoryFilter, isCategoryName } from "./category_filter.ts";
import { defaultRedactor, getRedactor, type RedactOptions, type Redactor } from "../redact.ts";
import {
  type CallerEnv,
  CONSOLE_OPTION_KEYS,
  type ConsoleOptions,
  METRICS_OPTION_KEYS,
  METRICS_SERVE_OPTION_KEYS,
  type MetricsOptions,
  type ObserverConfig,
  resolveObserverConfig,
  resolveServe,
  type ServeAddress,
} from "../sinks/setup.ts";
import {
  resolveSinks,
  SINK_OPTION_KEYS,
  type SinkConfig,
  type SinkOptions,
} from "../sinks/sink.ts";
import { resolveStoreOptions, STORE_OPTION_KEYS, type StoreOptions } from "../store/options.ts";
import {
  BACKOFF_OPTION_KEYS,
  type ResolvedUplinkOptions,
  resolveUplinkOptions,
  UPLINK_OPTION_KEYS,
  type UplinkOptions,
} from "../uplink/options.ts";

/** Fields of an event: correlation ids and anything else worth recording. */
export type Fields = Record<string, unknown>;

/**
 * A level method: synchronous, returns nothing, never throws. Besides
 * `(event, fields?)` it takes pino's shapes: an `Error` alone records event
 * `"error"` with the error in field `err`; `(err, event)` and `(event, err)`
 * name the event; `(fields, event)` is `(event, fields)`. A function in place
 * of the fields is called only when the level is enabled, and returns them.
 *
 * @example Every shape a level method takes
 * ```ts
 * import { createLogger } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const log = createLogger({ transport: "inline", dir, exitHooks: false });
 * const err = new Error("connection refused", { cause: new Error("ECONNREFUSED") });
 * log.info("step_end", { step_id: "fetch" });
 * log.error(err); // event "error", fields { err }
 * log.error(err, "fetch_failed"); // event "fetch_failed", fields { err }
 * log.error("fetch_failed", err); // the same
 * log.info({ step_id: "fetch" }, "step_end"); // pino's order
 * log.debug("state", () => ({ size: 3 })); // called only when debug is enabled
 * await log.flush();
 * const { events } = await log.query({ level: "error" });
 * assert.deepEqual(events.map((e) => e.event), ["error", "fetch_failed", "fetch_failed"]);
 * assert.equal((events[0]?.fields.err as Error).message, "connection refused");
 * await log.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface LogMethod {
  /** Records `event` with `fields` (an `Error` becomes field `err`; a function is called for them). */
  (event: string, fields?: Fields | Error | (() => Fields)): void;
  /** Records `event` (default `"error"`) with `err` in field `err`. */
  (err: Error, event?: string): void;
  /** pino's order: the same as `(event, fields)`. */
  (fields: Fields, event: string): void;
}

/** Information passed to {@linkcode LoggerOptions.onDrop}. */
export interface DropInfo {
  /** Events dropped in the current burst so far. */
  count: number;
  /** Time of the burst's first drop (ms since the epoch). */
  since_ms: number;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /**
   * Directory of the store (created if missing).
   * @default {".flightlog"}
   */
  dir?: string;
  /**
   * Least severe level recorded; calls below it cost about an empty call.
   * @default {"info"}
   */
  level?: LevelName;
  /**
   * Bytes of this thread's ring: a power of two from 4096 to 1073741824
   * (1 GiB), and at least four times `limits.maxRecordBytes`. Never rounded:
   * another value is a `RangeError` that names the nearest valid one. The
   * default holds about 100,000 events of seven inline fields, so a burst of
   * that many calls in one task is not dropped while the worker catches up;
   * it costs 16 MiB of shared memory per logging thread (docs/api.md).
   * @default {16777216, or 4 × limits.maxRecordBytes rounded up to a power of two when larger}
   */
  ringBytes?: number;
  /**
   * What a log call does when the ring is full: `"drop"` drops the event and
   * counts it; `"block"` waits up to `blockTimeoutMs` for space, then drops.
   * `"block"` is refused where the thread may not wait (a browser main thread).
   * @default {"drop"}
   */
  overflow?: "drop" | "block";
  /**
   * Longest wait of one log call under the `"block"` policy.
   * @default {100}
   */
  blockTimeoutMs?: number;
  /**
   * Called (synchronously, guarded) for each dropped event. Keep it cheap.
   */
  onDrop?: (info: DropInfo) => void;
  /**
   * How events reach the store. `"auto"` picks `"sab"` when
   * `SharedArrayBuffer` and workers are available, else `"message"` when
   * workers are, else `"inline"`.
   * @default {"auto"}
   */
  transport?: "auto" | "sab" | "message" | "inline";
  /** Bounds on one event; see `src/wire/codec.ts`. */
  limits?: Partial<Limits>;
  /** Segment rotation and retention. */
  store?: StoreOptions;
  /**
   * Wall clock in ms since the epoch (fractional allowed). Injected by tests;
   * pass `() => performance.timeOrigin + performance.now()` for sub-millisecond
   * timestamps at about 45 ns more per event.
   * @default {Date.now}
   */
  clock?: () => number;
  /**
   * Flush synchronously at process exit (end of script, `Deno.exit()`, uncaught
   * exception, unhandled rejection, SIGINT, SIGTERM), with the `log.dropped`
   * record of a drop burst still open. After the flush on SIGINT or SIGTERM the
   * process exits with code 130 or 143, unless the application listens to that
   * signal itself (`Deno.addSignalListener` or `process.on`, from the time
   * flightlog was imported): then exiting is left to the application.
   * @default {true}
   */
  exitHooks?: boolean;
  /**
   * Longest wait of the synchronous exit flush for the worker.
   * @default {1000}
   */
  exitTimeoutMs?: number;
  /**
   * In-thread and postMessage modes: delay before buffered events are handed on.
   * @default {10}
   */
  flushIntervalMs?: number;
  /**
   * A store worker that makes no progress for this long while events or a
   * request wait for it is hung: it is terminated and replaced like one that
   * crashed (docs/internals.md "Watchdog"). Checked on a timer, never in a log
   * call; 0 turns the watchdog off; the `"inline"` transport has no worker
   * to watch. Raise it if one query or fsync of your store can take that long.
   * @default {2000}
   */
  hungAfterMs?: number;
  /**
   * Redaction applied on this thread while encoding, before anything leaves
   * it: `true` redacts the default sensitive keys, options configure keys
   * and value patterns (see `getRedactor`), `false` turns it off.
   * @default {true}
   */
  redact?: boolean | RedactOptions;
  /**
   * Console output, formatted by the consumer (the worker), never in a log
   * call: `true` for the defaults (pretty on a terminal, else text, unless
   * `FLIGHTLOG_FORMAT` names one; ISO times; stderr; colors on a terminal).
   * Off by default: the store is the record, and a library should not write
   * to its host's terminal unasked.
   * @default {false}
   */
  console?: boolean | ConsoleOptions;
  /**
   * Prometheus metrics of runs, jobs, steps, events, drops and ring fill, fed
   * in the consumer from persisted events (see `logger.metrics()`), plus the
   * optional `METRICS` sink of `module` / `FLIGHTLOG_METRICS_MODULE` and an
   * optional `/metrics` listener. On when given or when
   * `FLIGHTLOG_METRICS_MODULE` is set.
   * @default {false}
   */
  metrics?: boolean | MetricsOptions;
  /**
   * Your own sinks: modules whose default export, called once with
   * `options`, returns a function that receives each batch of persisted
   * events (after redaction, in order) in the store worker (or beside the
   * `"inline"` consumer). A sink that throws, rejects or falls behind never
   * holds back persistence; `stats().sinks` counts what each received,
   * dropped and failed. See docs/sinks.md.
   * @default {[]}
   */
  sinks?: SinkOptions[];
  /**
   * Ships the persisted logs and spans to an OpenTelemetry collector over
   * OTLP/HTTP, from the worker, oldest first, resuming where it stopped after
   * a restart. Off when absent. Needs a worker (`transport` other than `"inline"`).
   */
  uplink?: UplinkOptions;
  /**
   * The store worker's module, for when a bundler moved flightlog without it.
   * In a browser: a URL where `flightlog/browser-worker` (the package's
   * `dist/browser/flightlog_worker.js`) is served, a relative one resolved
   * against the page. In Deno: a URL or path of `flightlog/worker`, a
   * relative path resolved against the working directory.
   * @default {the worker beside flightlog's module (the inline bundle: its own)}
   */
  workerUrl?: string | URL;
}

/** Options of {@linkcode configure}: those of {@linkcode createLogger}, plus category levels. */
export interface ConfigureOptions extends LoggerOptions {
  /**
   * Levels of `getLogger()` categories, such as
   * `{ "my-lib": "warn", "my-lib.db": "debug" }`: a logger takes the level
   * of the longest rule that is its category or a prefix of it by
   * dot-separated parts (`my-lib` covers `my-lib.db`, never `my-library`),
   * else `level`.
   * @default {{}}
   */
  categories?: Record<string, LevelName>;
  /**
   * Replace the configuration in force: its store is flushed and closed
   * first. Without it, configuring twice is an error.
   * @default {false}
   */
  reset?: boolean;
}

/** Options of {@linkcode Logger.flush}. */
export interface FlushOptions {
  /**
   * Also fsync the store, so the events survive a power loss.
   * @default {false}
   */
  durable?: boolean;
}

/** Options of {@linkcode attachLogger}. */
export interface AttachOptions {
  /**
   * Least severe level recorded.
   * @default {the handle's level}
   */
  level?: LevelName;
  /**
   * What a log call does when the ring is full (see {@linkcode LoggerOptions.overflow}).
   * @default {"drop"}
   */
  overflow?: "drop" | "block";
  /**
   * Longest wait of one log call under the `"block"` policy.
   * @default {100}
   */
  blockTimeoutMs?: number;
  /** Called for each dropped event (see {@linkcode LoggerOptions.onDrop}). */
  onDrop?: (info: DropInfo) => void;
  /**
   * Wall clock in ms since the epoch.
   * @default {Date.now}
   */
  clock?: () => number;
  /**
   * Redaction on this thread (see {@linkcode LoggerOptions.redact}).
   * @default {true}
   */
  redact?: boolean | RedactOptions;
}

/** Every key of {@linkcode LoggerOptions}: the compiler keeps it complete. */
const LOGGER_OPTION_KEYS: Readonly<Record<keyof LoggerOptions, true>> = {
  dir: true,
  level: true,
  ringBytes: true,
  overflow: true,
  blockTimeoutMs: true,
  onDrop: true,
  transport: true,
  limits: true,
  store: true,
  clock: true,
  exitHooks: true,
  exitTimeoutMs: true,
  flushIntervalMs: true,
  hungAfterMs: true,
  redact: true,
  console: true,
  metrics: true,
  sinks: true,
  uplink: true,
  workerUrl: true,
};

/** Every key of {@linkcode ConfigureOptions}. */
const CONFIGURE_OPTION_KEYS: Readonly<Record<keyof ConfigureOptions, true>> = {
  ...LOGGER_OPTION_KEYS,
  categories: true,
  reset: true,
};

/** Every key of {@linkcode AttachOptions}. */
const ATTACH_OPTION_KEYS: Readonly<Record<keyof AttachOptions, true>> = {
  level: true,
  overflow: true,
  blockTimeoutMs: true,
  onDrop: true,
  clock: true,
  redact: true,
};

const REDACT_OPTION_KEYS: Readonly<Record<keyof RedactOptions, true>> = {
  keys: true,
  extraKeys: true,
  patterns: true,
};

const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];
const LIMIT_OPTION_KEYS: Readonly<Record<string, true>> = Object.fromEntries(
  LIMIT_KEYS.map((key) => [key, true]),
);

/**
 * Everything `createLogger()` runs with, checked and with its defaults
 * applied. Structured-cloneable where it crosses to the worker (`store`,
 * `observe`, `uplink`).
 */
export interface LoggerConfig {
  dir: string;
  level: LevelName;
  transport: "auto" | "sab" | "message" | "inline";
  /** A power of two in range, at least four records. */
  ringBytes: number;
  overflow: "drop" | "block";
  blockTimeoutMs: number;
  onDrop: ((info: DropInfo) => void) | undefined;
  limits: Limits;
  /** The redactor, or null when redaction is off. */
  redactor: Redactor | null;
  clock: () => number;
  /** The given store options, checked; absent keys take the store's defaults. */
  store: StoreOptions;
  exitHooks: boolean;
  exitTimeoutMs: number;
  flushIntervalMs: number;
  /** Absent: the watchdog's default. */
  hungAfterMs: number | undefined;
  /** Console output and metrics, as the consumer runs them. */
  observe: ObserverConfig;
  /** Where the `/metrics` listener listens, or null. */
  serve: ServeAddress | null;
  /** The user sinks, modules resolved to URLs (empty: none). */
  sinks: SinkConfig[];
  uplink: ResolvedUplinkOptions | undefined;
  workerUrl: string | URL | undefined;
}

/** What `configure()` runs with. */
export interface ConfigureConfig extends LoggerConfig {
  /** The level of each category (the `categories` rules, else `level`). */
  categories: CategoryFilter;
  reset: boolean;
}

/** What `attachLogger()` runs with, besides the handle's own settings. */
export interface AttachConfig {
  /** Absent: the handle's level. */
  level: LevelName | undefined;
  overflow: "drop" | "block";
  blockTimeoutMs: number;
  onDrop: ((info: DropInfo) => void) | undefined;
  clock: () => number;
  redactor: Redactor | null;
}

// Date.now() costs about half of performance.now() in Deno (55 vs 100 ns,
// bench/logger_bench.ts "clock"); order within a millisecond comes from seq.
const defaultClock = (): number => Date.now();

// Holds 99,864 records of 168 bytes (seven fields inline, STEP_INLINE in
// src/bench/workload.ts): a burst of that many calls in one task fits even
// when the worker drains nothing meanwhile, as a worker just started barely
// does (docs/performance.md "Bursts into the default ring").
const DEFAULT_RING_BYTES = 16 << 20;
// ringCapacity()'s ceiling (src/wire/ring.ts): ring offsets stay within an int32.
const MAX_RING_BYTES = 2 ** 30;
// setTimeout fires at once for a longer delay.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checks every option of `createLogger()` and resolves it with `env`: the
 * one configuration step. Throws a `TypeError` (wrong type, unknown key,
 * unknown name) or a `RangeError` (a number out of range) whose message
 * names the option and says what to use instead.
 *
 * @example An unknown key, and a ring size that is not a power of two
 * ```ts
 * import { resolveConfig } from "./options.ts";
 * import assert from "node:assert/strict";
 * const env = { env: () => undefined, isTerminal: () => false, moduleUrl: (s: string) => s };
 * assert.equal(resolveConfig({ level: "warn" }, env).level, "warn");
 * assert.throws(() => resolveConfig({ levle: "warn" } as never, env), {
 *   name: "TypeError",
 *   message: 'Unknown option "levle": did you mean "level"?',
 * });
 * assert.throws(() => resolveConfig({ ringBytes: 1000 }, env), RangeError);
 * ```
 */
export function resolveConfig(options: LoggerOptions, env: CallerEnv): LoggerConfig;
/** The same check for `configure()`, which also takes `categories` and `reset`. */
export function resolveConfig(
  options: ConfigureOptions,
  env: CallerEnv,
  caller: "configure()",
): ConfigureConfig;
export function resolveConfig(
  options: ConfigureOptions,
  env: CallerEnv,
  caller: "createLogger()" | "configure()" = "createLogger()",
): LoggerConfig | ConfigureConfig {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${caller} takes an options object, such as { dir: "./logs" }`);
  }
  if (caller === "createLogger()") {
    for (const key of ["categories", "reset"]) {
      if (Object.hasOwn(options, key)) {
        throw new TypeError(
          `Option ${key} is one of configure(), for getLogger() loggers: createLogger() takes none`,
        );
      }
    }
  }
  checkKeys(options, caller === "configure()" ? CONFIGURE_OPTION_KEYS : LOGGER_OPTION_KEYS, "");
  if (options.dir !== undefined && (typeof options.dir !== "string" || options.dir === "")) {
    throw new TypeError("Option dir must be a non-empty directory path string");
  }
  const level = options.level === undefined ? "info" : parseLevel(options.level, "option level");
  const modes = ["auto", "sab", "message", "inline"] as const;
  const transport = options.transport ?? "auto";
  if (!modes.includes(transport)) {
    throw new TypeError(
      `Invalid option transport ${JSON.stringify(transport)}: use one of ${modes.join(", ")}`,
    );
  }
  const limits = resolveLimits(options.limits);
  const store = options.store ?? {};
  if (typeof store !== "object" || store === null) {
    throw new TypeError("Option store must be an object such as { maxBytes: 268435456 }");
  }
  checkKeys(store, STORE_OPTION_KEYS, "store.");
  if (typeof options.console === "object" && options.console !== null) {
    checkKeys(options.console, CONSOLE_OPTION_KEYS, "console.");
  }
  const metrics = options.metrics;
  if (typeof metrics === "object" && metrics !== null) {
    checkKeys(metrics, METRICS_OPTION_KEYS, "metrics.");
    if (typeof metrics.serve === "object" && metrics.serve !== null) {
      checkKeys(metrics.serve, METRICS_SERVE_OPTION_KEYS, "metrics.serve.");
    }
  }
  const sinks = options.sinks;
  if (Array.isArray(sinks)) {
    sinks.forEach((entry: unknown, i) => {
      if (typeof entry === "object" && entry !== null) {
        checkKeys(entry, SINK_OPTION_KEYS, `sinks[${i}].`);
      }
    });
  }
  const exitHooks = options.exitHooks ?? true;
  if (typeof exitHooks !== "boolean") {
    throw new TypeError(`Option exitHooks must be true or false, got ${String(exitHooks)}`);
  }
  const producing = resolveProducing(options);
  const config: LoggerConfig = {
    dir: options.dir ?? ".flightlog",
    level,
    transport,
    ringBytes: resolveRingBytes(options.ringBytes, limits),
    ...producing,
    limits,
    redactor: resolveRedactor(options.redact),
    store: resolveStoreOptions(store),
    exitHooks,
    exitTimeoutMs: milliseconds("exitTimeoutMs", options.exitTimeoutMs) ?? 1000,
    flushIntervalMs: milliseconds("flushIntervalMs", options.flushIntervalMs) ?? 10,
    hungAfterMs: milliseconds("hungAfterMs", options.hungAfterMs),
    // The logger's start, for console.time "elapsed", in the events' clock.
    observe: resolveObserverConfig(options, level, env, producing.clock()),
    serve: resolveServe(metrics),
    sinks: resolveSinks(sinks, (specifier, option) => env.moduleUrl(specifier, option)),
    uplink: resolveUplink(options.uplink, transport),
    workerUrl: resolveWorkerUrl(options.workerUrl, transport),
  };
  if (caller === "createLogger()") return config;
  const reset = options.reset ?? false;
  if (typeof reset !== "boolean") {
    throw new TypeError(`Option reset must be true or false, got ${String(reset)}`);
  }
  return { ...config, categories: resolveCategories(options.categories, level), reset };
}

function resolveCategories(
  categories: Record<string, LevelName> | undefined,
  level: LevelName,
): CategoryFilter {
  if (categories === undefined) return getCategoryFilter({}, level);
  if (typeof categories !== "object" || categories === null || Array.isArray(categories)) {
    throw new TypeError(
      'Option categories must be an object of category levels, such as { "my-lib": "warn" }',
    );
  }
  for (const [category, value] of Object.entries(categories)) {
    if (!isCategoryName(category)) {
      throw new TypeError(
        `Invalid category ${
          JSON.stringify(category)
        } in option categories: use dot-separated names of letters, digits, _ and -, such as my-lib.db (option level sets the default)`,
      );
    }
    if (!isLevelName(value)) {
      throw new TypeError(
        `Invalid level ${JSON.stringify(String(value))} for category ${
          JSON.stringify(category)
        } in option categories: use one of ${LEVELS.join(", ")}`,
      );
    }
  }
  return getCategoryFilter(categories, level);
}

/**
 * Checks the options of `attachLogger()`, with the same rules and messages
 * as {@linkcode resolveConfig}.
 */
export function resolveAttachConfig(options: AttachOptions): AttachConfig {
  if (typeof options !== "object" || options === null) {
    throw new TypeError('attachLogger() takes an options object, such as { level: "debug" }');
  }
  checkKeys(options, ATTACH_OPTION_KEYS, "");
  return {
    level: options.level === undefined ? undefined : parseLevel(options.level, "option level"),
    ...resolveProducing(options),
    redactor: resolveRedactor(options.redact),
  };
}

// The options a producing thread runs its hot path with (createLogger and attachLogger).
function resolveProducing(options: AttachOptions): {
  overflow: "drop" | "block";
  blockTimeoutMs: number;
  onDrop: ((info: DropInfo) => void) | undefined;
  clock: () => number;
} {
  const overflow = options.overflow ?? "drop";
  if (overflow !== "drop" && overflow !== "block") {
    throw new TypeError(
      `Invalid option overflow ${JSON.stringify(overflow)}: use "drop" or "block"`,
    );
  }
  const { onDrop, clock } = options;
  if (onDrop !== undefined && typeof onDrop !== "function") {
    throw new TypeError("Option onDrop must be a function, such as (info) => counter.add(1)");
  }
  if (clock !== undefined && typeof clock !== "function") {
    throw new TypeError("Option clock must be a function returning epoch milliseconds");
  }
  return {
    overflow,
    blockTimeoutMs: milliseconds("blockTimeoutMs", options.blockTimeoutMs) ?? 100,
    onDrop,
    clock: clock ?? defaultClock,
  };
}

function milliseconds(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`Option ${name} must be a finite number ≥ 0, got ${String(value)}`);
  }
  if (value > MAX_TIMER_MS) {
    throw new RangeError(
      `Option ${name} must be at most ${MAX_TIMER_MS} ms (about 24.8 days), got ${value}`,
    );
  }
  return value;
}

function resolveLimits(partial: Partial<Limits> | undefined): Limits {
  if (partial === undefined) return { ...DEFAULT_LIMITS };
  if (typeof partial !== "object" || partial === null) {
    throw new TypeError("Option limits must be an object such as { maxStringLength: 4096 }");
  }
  checkKeys(partial, LIMIT_OPTION_KEYS, "limits.");
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const key of LIMIT_KEYS) {
    const v = partial[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`Option limits.${key} must be a positive integer, got ${String(v)}`);
    }
    limits[key] = v;
  }
  if (limits.maxDepth > MAX_DECODE_DEPTH) {
    throw new RangeError(
      `Option limits.maxDepth must be at most ${MAX_DECODE_DEPTH}, got ${limits.maxDepth}`,
    );
  }
  if (limits.maxRecordBytes < MIN_RECORD_BYTES || limits.maxRecordBytes > 16 * 1024 * 1024) {
    throw new RangeError(
      `Option limits.maxRecordBytes must be between ${MIN_RECORD_BYTES} and 16777216, got ${limits.maxRecordBytes}`,
    );
  }
  return limits;
}

// No rounding: a size that silently became another would hide a typo (1000
// for 1024) and size the ring, hence the memory, unlike what was asked.
function resolveRingBytes(value: number | undefined, limits: Limits): number {
  const least = 4 * limits.maxRecordBytes;
  if (value === undefined) return ringCapacity(Math.max(DEFAULT_RING_BYTES, least));
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < MIN_CAPACITY ||
    value > MAX_RING_BYTES || (value & (value - 1)) !== 0
  ) {
    const near = typeof value === "number" && value > 0 && value < MAX_RING_BYTES
      ? `: use ${ringCapacity(Math.max(value, least))}`
      : "";
    throw new RangeError(
      `Option ringBytes must be a power of two from ${MIN_CAPACITY} to ${MAX_RING_BYTES}, got ${
        String(value)
      }${near}`,
    );
  }
  if (value < least) {
    throw new RangeError(
      `Option ringBytes must hold four records of limits.maxRecordBytes (${limits.maxRecordBytes}), got ${value}: use ${
        ringCapacity(least)
      } or lower limits.maxRecordBytes`,
    );
  }
  return value;
}

function resolveRedactor(redact: boolean | RedactOptions | undefined): Redactor | null {
  if (redact === undefined || redact === true) return defaultRedactor();
  if (redact === false) return null;
  if (typeof redact !== "object" || redact === null) {
    throw new TypeError(
      "Option redact must be true, false or an object such as { patterns: true }",
    );
  }
  checkKeys(redact, REDACT_OPTION_KEYS, "redact.");
  for (const key of ["keys", "extraKeys"] as const) {
    const list = redact[key];
    if (list !== undefined && !Array.isArray(list)) {
      throw new TypeError(`Option redact.${key} must be a list of strings such as ["session"]`);
    }
  }
  try {
    return getRedactor(redact);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    const why = err.message.charAt(0).toLowerCase() + err.message.slice(1);
    throw new TypeError(`Invalid option redact: ${why}`, { cause: err });
  }
}

function resolveUplink(
  uplink: UplinkOptions | undefined,
  transport: LoggerConfig["transport"],
): ResolvedUplinkOptions | undefined {
  if (uplink === undefined) return undefined;
  if (typeof uplink === "object" && uplink !== null) {
    checkKeys(uplink, UPLINK_OPTION_KEYS, "uplink.");
    const backoff = uplink.backoff;
    if (typeof backoff === "object" && backoff !== null) {
      checkKeys(backoff, BACKOFF_OPTION_KEYS, "uplink.backoff.");
    }
  }
  const resolved = resolveUplinkOptions(uplink);
  if (transport === "inline") {
    throw new TypeError(
      'Option uplink needs a worker: use transport "auto", "sab" or "message", not "inline"',
    );
  }
  return resolved;
}

function resolveWorkerUrl(
  workerUrl: string | URL | undefined,
  transport: LoggerConfig["transport"],
): string | URL | undefined {
  if (workerUrl === undefined) return undefined;
  if (!(workerUrl instanceof URL) && (typeof workerUrl !== "string" || workerUrl === "")) {
    throw new TypeError(
      "Option workerUrl must be a URL or a non-empty string: where flightlog's worker module is",
    );
  }
  if (transport === "inline") {
    throw new TypeError(
      'Option workerUrl needs a worker: use transport "auto", "sab" or "message", not "inline"',
    );
  }
  return workerUrl;
}

/** Throws a `TypeError` for the first key of `value` not in `known`, with the closest known one. */
function checkKeys(value: object, known: Readonly<Record<string, true>>, prefix: string): void {
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(known, key)) continue;
    const names = Object.keys(known);
    const near = closestName(key, names);
    throw new TypeError(
      near === undefined
        ? `Unknown option "${prefix}${key}": use one of ${names.map((n) => prefix + n).join(", ")}`
        : `Unknown option "${prefix}${key}": did you mean "${prefix}${near}"?`,
    );
  }
}

/**
 * The name in `names` closest to `key` (case-insensitive edit distance, a
 * swap of two neighbours counting as one edit, within a third of `key`'s
 * length and at least two edits), else the first that `key` begins (three
 * letters or more: `maxString` for `maxStringLength`), else undefined.
 */
function closestName(key: string, names: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const name of names) {
    const d = editDistance(lower, name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  if (best !== undefined || lower.length < 3) return best;
  return names.find((name) => name.toLowerCase().startsWith(lower));
}

// Optimal string alignment distance: insertions, deletions, substitutions
// and transpositions of adjacent characters. Keys are short: three rows suffice.
function editDistance(a: string, b: string): number {
  let before = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, before[j - 2]! + 1);
      }
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}
