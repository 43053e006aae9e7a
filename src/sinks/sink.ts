/**
 * User sinks (`createLogger({ sinks })`): the public shape of a sink module,
 * its options, its counters, and the check of the option on the caller's
 * thread into the structured-cloneable {@linkcode SinkConfig} the consumer
 * runs (src/sinks/sink_runner.ts).
 *
 * @module
 */
import type { LogEvent } from "../event.ts";

/**
 * A sink: receives each batch of persisted events, in order, after
 * redaction. May return a promise: the next batch waits for it. A throw or
 * a rejection is counted (`stats().sinks[i].errors`) and never reaches
 * persistence. The events are shared with the other sinks: read them, do not
 * change them.
 *
 * A sink with a `[Symbol.asyncDispose]()` or `[Symbol.dispose]()` method is
 * disposed of when the logger closes, after its last batch.
 */
export type Sink = (events: LogEvent[]) => void | Promise<void>;

/**
 * The default export of a sink module: called once, in the consumer (the
 * store worker, or the caller's thread under the `"inline"` transport), with
 * the `options` of its {@linkcode SinkOptions} (a structured clone); returns
 * the sink, or a promise of it.
 *
 * @example A sink module that counts errors
 * ```ts
 * import type { Sink, SinkFactory } from "./sink.ts";
 * import type { LogEvent } from "../event.ts";
 * import assert from "node:assert/strict";
 *
 * const factory: SinkFactory<{ label: string }> = ({ label }) => {
 *   let errors = 0;
 *   const sink: Sink = (events: LogEvent[]) => {
 *     for (const e of events) if (e.level === "error") errors++;
 *     if (errors > 0) console.log(`${label}: ${errors} errors`);
 *   };
 *   return sink;
 * };
 * assert.equal(typeof factory({ label: "app" }), "function");
 * ```
 */
export type SinkFactory<O = unknown> = (options: O) => Sink | Promise<Sink>;

/** One entry of `createLogger({ sinks })`. */
export interface SinkOptions {
  /**
   * The sink module, whose default export is a {@linkcode SinkFactory}. In
   * Deno: a URL, an absolute path, or a path relative to the working
   * directory (`Deno.cwd()`); for a path relative to the calling module,
   * pass `new URL("./my_sink.ts", import.meta.url)`. In a browser: a URL, a
   * relative one resolved against the page; the store worker imports it.
   */
  module: string | URL;
  /**
   * Handed to the module's default export. Crosses to the store worker, so
   * it must be structured-cloneable: plain data, no functions.
   */
  options?: unknown;
  /**
   * Most events waiting for this sink (the batch it is working on
   * included). Past it, the events of a new batch that do not fit are not
   * queued and are counted in `stats().sinks[i].dropped`; persistence is
   * never held back by a sink.
   * @default {10000}
   */
  maxQueued?: number;
  /**
   * Longest wait of `flush()` (and of `close()`) for this sink to receive
   * what was persisted before the call. Past it, `flush()` resolves anyway
   * and the events stay queued (`stats().sinks[i].queued`).
   * @default {5000}
   */
  flushTimeoutMs?: number;
}

/** Counters of one sink, in `stats().sinks`, in the order of the `sinks` option. */
export interface SinkStats {
  /** The module's resolved URL. */
  module: string;
  /** Events handed to the sink by calls that returned or resolved. */
  delivered: number;
  /**
   * Events the sink never received: its queue was full
   * ({@linkcode SinkOptions.maxQueued}), or its module failed to load.
   */
  dropped: number;
  /** Calls of the sink (or of its module's default export) that threw or rejected. */
  errors: number;
  /** Events waiting for the sink, the batch in its hands included. */
  queued: number;
  /** The last error of the sink or of loading its module, or null. */
  error: string | null;
}

/** A checked {@linkcode SinkOptions}, as the consumer runs it (structured-cloneable). */
export interface SinkConfig {
  /** The module as a URL. */
  module: string;
  /** A structured clone of the options. */
  options: unknown;
  maxQueued: number;
  flushTimeoutMs: number;
}

/** Every key of {@linkcode SinkOptions}: the compiler keeps it complete. */
export const SINK_OPTION_KEYS: Readonly<Record<keyof SinkOptions, true>> = {
  module: true,
  options: true,
  maxQueued: true,
  flushTimeoutMs: true,
};

const DEFAULT_MAX_QUEUED = 10_000;
const DEFAULT_FLUSH_TIMEOUT_MS = 5000;
// setTimeout fires at once for a longer delay.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checks the `sinks` option, resolving each module with `moduleUrl` (a
 * relative path against the working directory in Deno, against the page in
 * a browser). Throws a `TypeError` / `RangeError` naming the entry. Unknown
 * keys are the caller's check (`resolveConfig()` in src/front/options.ts).
 *
 * @example One sink module, its path resolved by the caller's platform
 * ```ts
 * import { resolveSinks } from "./sink.ts";
 * import assert from "node:assert/strict";
 *
 * const url = (s: string) => new URL(s, "file:///app/").href;
 * const [sink] = resolveSinks([{ module: "./alerts.ts", options: { to: "ops" } }], url);
 * assert.equal(sink?.module, "file:///app/alerts.ts");
 * assert.throws(() => resolveSinks([{}] as never, url), TypeError);
 * ```
 */
export function resolveSinks(
  sinks: readonly SinkOptions[] | undefined,
  moduleUrl: (specifier: string, option: string) => string,
): SinkConfig[] {
  if (sinks === undefined) return [];
  if (!Array.isArray(sinks)) {
    throw new TypeError(
      'Option sinks must be a list such as [{ module: "./my_sink.ts", options: {} }]',
    );
  }
  return sinks.map((entry, i) => resolveSink(entry, `sinks[${i}]`, moduleUrl));
}

function resolveSink(
  entry: SinkOptions,
  name: string,
  moduleUrl: (specifier: string, option: string) => string,
): SinkConfig {
  if (typeof entry !== "object" || entry === null) {
    throw new TypeError(
      `Option ${name} must be an object such as { module: "./my_sink.ts", options: {} }`,
    );
  }
  const m = entry.module;
  let module: string;
  if (m instanceof URL) module = m.href;
  else if (typeof m === "string" && m !== "") module = moduleUrl(m, `${name}.module`);
  else {
    throw new TypeError(
      `Option ${name}.module must be a non-empty path or URL of a module whose default export makes the sink, got ${
        m === undefined ? "nothing" : typeof m
      }`,
    );
  }
  let options: unknown;
  try {
    options = structuredClone(entry.options);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new TypeError(
      `Option ${name}.options must be structured-cloneable data (no functions or symbols), as it crosses to the store worker: ${why}`,
      { cause: err },
    );
  }
  const maxQueued = entry.maxQueued ?? DEFAULT_MAX_QUEUED;
  if (!Number.isInteger(maxQueued) || maxQueued < 1) {
    throw new RangeError(
      `Option ${name}.maxQueued must be a positive integer (events), got ${String(maxQueued)}`,
    );
  }
  const flushTimeoutMs = entry.flushTimeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS;
  if (
    typeof flushTimeoutMs !== "number" || !Number.isFinite(flushTimeoutMs) || flushTimeoutMs < 0 ||
    flushTimeoutMs > MAX_TIMER_MS
  ) {
    throw new RangeError(
      `Option ${name}.flushTimeoutMs must be a number of ms from 0 to ${MAX_TIMER_MS}, got ${
        String(flushTimeoutMs)
      }`,
    );
  }
  return { module, options, maxQueued, flushTimeoutMs };
}
