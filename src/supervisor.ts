/**
 * Worker supervision: how often a dead worker may be replaced, and what a
 * replacement costs in events. The transport (src/transport.ts) notices the
 * death and starts the new worker; the protocol that keeps every event still
 * in a ring, with its bindings, is "Worker restart" in src/ring.ts.
 *
 * @module
 */
import { ConsumerState, FLUSH_ACK, pendingEvents, type RingCounters, STATE } from "./ring.ts";

/** Options of {@linkcode RestartBudget}. */
export interface RestartBudgetOptions {
  /**
   * Restarts allowed within `windowMs`; past it the logger stays failed (a
   * worker that dies at once, again and again, is not restarted forever).
   * @default {10}
   */
  maxRestarts?: number;
  /**
   * The sliding window of `maxRestarts`.
   * @default {60000}
   */
  windowMs?: number;
  /**
   * Monotonic clock in ms (injected by tests).
   * @default {performance.now}
   */
  clock?: () => number;
}

/** Counts restarts in a sliding window and says whether one more is allowed. */
export class RestartBudget {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #clock: () => number;
  readonly #times: number[] = [];
  /** Restarts taken so far. */
  restarts = 0;

  /** Restarts allowed within {@linkcode RestartBudget.windowMs}. */
  get maxRestarts(): number {
    return this.#max;
  }

  /** The sliding window of {@linkcode RestartBudget.maxRestarts}, in ms. */
  get windowMs(): number {
    return this.#windowMs;
  }

  constructor(options: RestartBudgetOptions = {}) {
    this.#max = options.maxRestarts ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#clock = options.clock ?? (() => performance.now());
  }

  /** Takes one restart if the window allows it; false means give up. */
  take(): boolean {
    const now = this.#clock();
    const times = this.#times;
    while (times.length > 0 && now - times[0]! >= this.#windowMs) times.shift();
    if (times.length >= this.#max) return false;
    times.push(now);
    this.restarts++;
    return true;
  }
}

/**
 * User events a dead consumer had taken from a ring but not stored: the
 * producer's exact `emitted` minus what is persisted, dropped, lost and still
 * in the ring. Counting them as lost keeps `emitted = persisted + dropped`.
 */
export function eventsLostInCrash(
  ring: SharedArrayBuffer | ArrayBuffer,
  counters: RingCounters,
): number {
  const taken = counters.emitted - counters.dropped - counters.persisted - counters.lost;
  return Math.max(0, taken - pendingEvents(ring));
}

/** Bytes of the buffer a worker writes its start-up failure into ({@linkcode reportStartFailure}). */
export const FAILURE_BYTES = 1024;

/**
 * In a worker whose store cannot open: writes `message` into `failure` (a
 * u32 byte length, then UTF-8, cut to fit) and only then stores `STATE` =
 * failed and wakes a synchronous flush, so a front end that waits for one at
 * exit stops waiting and can say why (src/ring.ts "Control buffer").
 */
export function reportStartFailure(
  failure: SharedArrayBuffer,
  control: SharedArrayBuffer | ArrayBuffer,
  message: string,
): void {
  const text = new Uint8Array(failure, 4);
  const { written } = new TextEncoder().encodeInto(message, text);
  Atomics.store(new Int32Array(failure, 0, 1), 0, written);
  const c = new Int32Array(control);
  Atomics.store(c, STATE, ConsumerState.failed);
  Atomics.notify(c, FLUSH_ACK);
}

/** The message {@linkcode reportStartFailure} wrote, or null when none was. */
export function startFailure(failure: SharedArrayBuffer): string | null {
  const n = Atomics.load(new Int32Array(failure, 0, 1), 0);
  if (n === 0) return null;
  return new TextDecoder().decode(new Uint8Array(failure, 4, n).slice());
}

/**
 * Workers started (the first and its replacements after a transient start
 * failure) before a worker that never started is given up. A script that is
 * not there, not JavaScript or not allowed to run is given up at once.
 */
export const START_ATTEMPTS = 3;

/**
 * A worker that ended before it ever ran: its script did not load or did not
 * run. `transient` when the network failed (worth another attempt); `url` is
 * the script's URL.
 *
 * @example What the transport makes of it
 * ```ts
 * import { WorkerStartError } from "./supervisor.ts";
 * import assert from "node:assert/strict";
 * const err = new WorkerStartError("https://app.example/flightlog_worker.js", "answered HTTP 404", false);
 * assert.match(err.message, /flightlog_worker\.js answered HTTP 404/);
 * ```
 */
export class WorkerStartError extends Error {
  /** Always `"WorkerStartError"`. */
  override name = "WorkerStartError";
  /** The worker script's URL (a `blob:` URL for the inlined bundle). */
  readonly url: string;
  /** True when another attempt may succeed (the fetch failed, no HTTP answer). */
  readonly transient: boolean;

  /** `why` completes "its script <url> …". */
  constructor(url: string, why: string, transient: boolean) {
    super(`The flightlog worker could not start: its script ${url} ${why}`);
    this.url = url;
    this.transient = transient;
  }
}
