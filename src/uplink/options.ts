/**
 * The `uplink` option and the uplink's self-metrics: what the logger's thread
 * needs (validation, reading the stats the worker mirrors), without the
 * delivery code.
 *
 * @module
 */
import type { BackoffOptions } from "./policy.ts";

/** The signals an uplink can ship, by OTLP/HTTP path. */
export type UplinkSignal = "logs" | "traces";

/** Options of the `uplink` option of `createLogger`. */
export interface UplinkOptions {
  /**
   * Base URL of the OTLP/HTTP receiver, such as `http://collector:4318`;
   * `/v1/logs` and `/v1/traces` are appended.
   */
  url: string;
  /** Extra request headers (authentication, tenant). */
  headers?: Record<string, string>;
  /**
   * OTLP resource attributes, such as `{ "service.name": "checkout" }`.
   * @default {{ "service.name": "flightlog" }}
   */
  resource?: Record<string, unknown>;
  /**
   * Signals to ship.
   * @default {["logs", "traces"]}
   */
  signals?: UplinkSignal[];
  /**
   * Most events per request.
   * Also bounds the synchronous work of one request (read, encode,
   * stringify) in the worker, whose thread also drains the rings.
   * @default {512}
   */
  batchEvents?: number;
  /**
   * Most bytes of a request body before compression; a larger batch is sent in halves.
   * @default {4194304}
   */
  batchBytes?: number;
  /**
   * Delay between two looks at the store when everything was sent.
   * @default {1000}
   */
  intervalMs?: number;
  /**
   * Most bytes of unsent data per signal; past it, the oldest unsent records
   * are skipped (evicted from delivery), counted, and a `log.evicted` event
   * with `reason: "uplink_backlog"` is written. The disk itself is bounded by
   * `store.maxBytes`, whose evictions of unsent data are counted the same way.
   * @default {Infinity}
   */
  maxBacklogBytes?: number;
  /**
   * `"gzip"` compresses request bodies where `CompressionStream` exists.
   * @default {"gzip"}
   */
  compression?: "gzip" | "none";
  /**
   * Longest wait for one response; past it the attempt counts as a network error.
   * @default {30000}
   */
  timeoutMs?: number;
  /** Retry backoff bounds (`initialMs` 1000, `maxMs` 300000 by default). */
  backoff?: Partial<BackoffOptions>;
}

/** Names of the self-metrics, in the order of the shared stats array. */
export const UPLINK_STAT_NAMES = [
  "sent",
  "failed",
  "retried",
  "rejected",
  "dead_lettered",
  "evicted",
  "backlog_bytes",
  "backlog_events",
  "last_success_ms",
  "offline",
  "requests",
  "bytes_sent",
] as const;

/** The uplink's self-metrics, summed over its signals (backlog: the largest). */
export type UplinkStats = {
  /** Items (log records, spans) acknowledged by the receiver (a partial success counts its accepted part). */
  sent: number;
  /** Attempts that failed (any non-2xx or network error). */
  failed: number;
  /** Attempts scheduled again after a retryable failure. */
  retried: number;
  /** Events a receiver refused in a partial success (recorded, not retried). */
  rejected: number;
  /** Items moved to the dead-letter area after a non-retryable refusal. */
  dead_lettered: number;
  /** Unsent events evicted (backlog cap or store retention), never to be sent. */
  evicted: number;
  /** Bytes of the store not yet acknowledged. */
  backlog_bytes: number;
  /** Events of the store not yet acknowledged. */
  backlog_events: number;
  /** Time of the last acknowledged request (epoch ms), 0 before the first. */
  last_success_ms: number;
  /** 1 while the last attempt failed with a network error or a retryable status. */
  offline: number;
  /** Requests sent. */
  requests: number;
  /** Request body bytes sent (after compression). */
  bytes_sent: number;
};

/** Every key of {@linkcode UplinkOptions}: the compiler keeps it complete. */
export const UPLINK_OPTION_KEYS: Readonly<Record<keyof UplinkOptions, true>> = {
  url: true,
  headers: true,
  resource: true,
  signals: true,
  batchEvents: true,
  batchBytes: true,
  intervalMs: true,
  maxBacklogBytes: true,
  compression: true,
  timeoutMs: true,
  backoff: true,
};

/** Every key of `uplink.backoff`. */
export const BACKOFF_OPTION_KEYS: Readonly<Record<keyof BackoffOptions, true>> = {
  initialMs: true,
  maxMs: true,
};

/**
 * Uplink options checked and with their defaults applied, by
 * {@linkcode resolveUplinkOptions} on the caller's thread: what the worker's
 * uplink runs with, as given (structured-cloneable).
 */
export interface ResolvedUplinkOptions {
  url: string;
  headers: Record<string, string>;
  resource: Record<string, unknown> | undefined;
  signals: UplinkSignal[];
  batchEvents: number;
  batchBytes: number;
  intervalMs: number;
  maxBacklogBytes: number;
  gzip: boolean;
  timeoutMs: number;
  backoff: BackoffOptions;
}

// setTimeout fires at once for a longer delay, so no wait may exceed it.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Validates the `uplink` option and applies its defaults; throws a
 * TypeError/RangeError that names the option and says what to fix. Unknown
 * keys are the caller's check (`resolveConfig()` in src/front/options.ts).
 *
 * @example Defaults and a refusal
 * ```ts
 * import { resolveUplinkOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(resolveUplinkOptions({ url: "http://127.0.0.1:4318/" }).url, "http://127.0.0.1:4318");
 * assert.throws(() => resolveUplinkOptions({ url: "collector:4318" }), TypeError);
 * ```
 */
export function resolveUplinkOptions(options: UplinkOptions): ResolvedUplinkOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError('Option uplink must be an object such as { url: "http://127.0.0.1:4318" }');
  }
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new TypeError(
      `Option uplink.url must be an absolute http(s) URL, got ${JSON.stringify(options.url)}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(
      `Option uplink.url must use http or https, got ${url.protocol}: use a URL such as http://collector:4318`,
    );
  }
  const headers = options.headers ?? {};
  if (
    typeof headers !== "object" || headers === null ||
    Object.values(headers).some((v) => typeof v !== "string")
  ) {
    throw new TypeError(
      'Option uplink.headers must be an object of strings, such as { authorization: "Bearer …" }',
    );
  }
  const resource = options.resource;
  if (resource !== undefined && (typeof resource !== "object" || resource === null)) {
    throw new TypeError(
      'Option uplink.resource must be an object of attributes, such as { "service.name": "checkout" }',
    );
  }
  const signals = options.signals ?? ["logs", "traces"];
  if (
    !Array.isArray(signals) || signals.length === 0 ||
    signals.some((s) => s !== "logs" && s !== "traces")
  ) {
    throw new TypeError('Option uplink.signals must list "logs" and/or "traces"');
  }
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (typeof v !== "number" || !(v > 0)) {
      throw new RangeError(`Option uplink.${name} must be a positive number, got ${String(v)}`);
    }
    return v;
  };
  const delay = (name: string, value: number | undefined, fallback: number): number => {
    const v = positive(name, value, fallback);
    if (v > MAX_TIMER_MS) {
      throw new RangeError(
        `Option uplink.${name} must be at most ${MAX_TIMER_MS} ms (about 24.8 days), got ${v}`,
      );
    }
    return v;
  };
  const batchEvents = positive("batchEvents", options.batchEvents, 512);
  if (!Number.isSafeInteger(batchEvents)) {
    throw new RangeError(
      `Option uplink.batchEvents must be a whole number of events, got ${batchEvents}`,
    );
  }
  const compression = options.compression ?? "gzip";
  if (compression !== "gzip" && compression !== "none") {
    throw new TypeError('Option uplink.compression must be "gzip" or "none"');
  }
  const backoff = options.backoff ?? {};
  if (typeof backoff !== "object" || backoff === null) {
    throw new TypeError("Option uplink.backoff must be an object such as { initialMs: 1000 }");
  }
  const initialMs = delay("backoff.initialMs", backoff.initialMs, 1000);
  return {
    url: url.href.replace(/\/+$/, ""),
    headers: { ...headers },
    resource: resource === undefined ? undefined : { ...resource },
    signals: [...new Set(signals)],
    batchEvents,
    batchBytes: positive("batchBytes", options.batchBytes, 4 * 1024 * 1024),
    intervalMs: delay("intervalMs", options.intervalMs, 1000),
    maxBacklogBytes: positive("maxBacklogBytes", options.maxBacklogBytes, Infinity),
    gzip: compression === "gzip" && typeof CompressionStream === "function",
    timeoutMs: delay("timeoutMs", options.timeoutMs, 30_000),
    backoff: {
      initialMs,
      maxMs: Math.max(initialMs, delay("backoff.maxMs", backoff.maxMs, 300_000)),
    },
  };
}

/**
 * Reads the stats an uplink mirrors into `array` (from any thread).
 *
 * @example Read a mirror
 * ```ts
 * import { readUplinkStats, UPLINK_STAT_NAMES } from "./options.ts";
 * import assert from "node:assert/strict";
 * const array = new Float64Array(UPLINK_STAT_NAMES.length);
 * array[0] = 5;
 * assert.equal(readUplinkStats(array).sent, 5);
 * ```
 */
export function readUplinkStats(array: Float64Array): UplinkStats {
  const out = {} as UplinkStats;
  for (let i = 0; i < UPLINK_STAT_NAMES.length; i++) out[UPLINK_STAT_NAMES[i]!] = array[i] ?? 0;
  return out;
}
