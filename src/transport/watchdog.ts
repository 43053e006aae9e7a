/**
 * The hung-worker watchdog: decides, from samples taken on a timer of the
 * logger's thread (never in a log call), that the store worker has stopped
 * making progress while work waits for it (what counts as work and as
 * progress: docs/internals.md "Watchdog"). The transport
 * (src/transport/worker_transport.ts) supplies the sample and replaces the worker.
 *
 * @module
 */
import { ALIVE, FLUSH_ACK, FLUSH_REQ, loadHead, loadStored, loadTail } from "../wire/ring.ts";

/**
 * Default of `hungAfterMs`: 2 s, 8× the slowest healthy step measured
 * (docs/reliability.md "Worker crash and hang").
 */
export const DEFAULT_HUNG_AFTER_MS = 2000;

/**
 * Hung workers a logger replaces in its life: each may spin until the process
 * exits (docs/reliability.md "Worker crash and hang").
 */
export const MAX_HUNG_WORKERS = 3;

/** One look at the worker: is work waiting, and a number that changes with any progress. */
export interface WorkSample {
  /** Records wait in a ring, or a request waits for an answer. */
  waiting: boolean;
  /** Changes whenever the worker makes progress (drains, sleeps, answers). */
  progress: number;
}

/** Options of {@linkcode Watchdog}. */
export interface WatchdogOptions {
  /**
   * How long work may wait without progress before the worker is called hung.
   * @default {2000}
   */
  hungAfterMs?: number;
  /**
   * Monotonic clock in ms (injected by tests).
   * @default {performance.now}
   */
  clock?: () => number;
}

/**
 * Watches a worker through samples. Call {@linkcode Watchdog.poll} at any
 * rate (the transport does every `hungAfterMs / 4`); it calls `onHung` once
 * work has waited `hungAfterMs` without progress, then stops watching until
 * {@linkcode Watchdog.watch} is called for the next worker.
 *
 * @example Call a worker hung after 2 s without progress
 * ```ts
 * import { Watchdog } from "./watchdog.ts";
 * import assert from "node:assert/strict";
 * let now = 0;
 * let hung = 0;
 * const dog = new Watchdog(() => ({ waiting: true, progress: 7 }), () => hung++, {
 *   hungAfterMs: 2000,
 *   clock: () => now,
 * });
 * dog.watch();
 * dog.poll(); // the first sample: work waits, the stall starts
 * now = 1999;
 * dog.poll();
 * assert.equal(hung, 0);
 * now = 2000;
 * dog.poll();
 * assert.equal(hung, 1);
 * ```
 */
export class Watchdog {
  /** Milliseconds of waiting work without progress that make a hang (0: never). */
  readonly hungAfterMs: number;
  readonly #clock: () => number;
  readonly #sample: () => WorkSample;
  readonly #onHung: (stalledMs: number) => void;
  #watching = false;
  #progress = NaN;
  #since = 0;
  /** Longest time work waited without progress, over every worker watched (ms). */
  longestStallMs = 0;

  constructor(
    sample: () => WorkSample,
    onHung: (stalledMs: number) => void,
    options: WatchdogOptions = {},
  ) {
    const ms = options.hungAfterMs ?? DEFAULT_HUNG_AFTER_MS;
    if (typeof ms !== "number" || !(ms >= 0) || ms === Infinity) {
      throw new RangeError(
        `hungAfterMs must be a finite number of milliseconds ≥ 0 (0 turns the watchdog off), got ${
          String(ms)
        }`,
      );
    }
    this.hungAfterMs = ms;
    this.#clock = options.clock ?? (() => performance.now());
    this.#sample = sample;
    this.#onHung = onHung;
  }

  /** Starts watching a worker that is ready; the stall clock starts now. */
  watch(): void {
    this.#watching = this.hungAfterMs > 0;
    this.#progress = NaN;
    this.#since = this.#clock();
  }

  /** Stops watching (the worker is gone, or the logger closed). */
  stop(): void {
    this.#watching = false;
  }

  /** True while a worker is watched. */
  get watching(): boolean {
    return this.#watching;
  }

  /** Takes a sample; returns true (after calling `onHung`) when the worker is hung. */
  poll(): boolean {
    if (!this.#watching) return false;
    const now = this.#clock();
    const { waiting, progress } = this.#sample();
    if (!waiting || progress !== this.#progress) {
      // Idle is not hung, and any progress restarts the count.
      this.#progress = progress;
      this.#since = now;
      return false;
    }
    const stalled = now - this.#since;
    if (stalled > this.longestStallMs) this.longestStallMs = stalled;
    if (stalled < this.hungAfterMs) return false;
    this.#watching = false;
    this.#onHung(stalled);
    return true;
  }
}

/**
 * The sample of a `sab` worker: work waits when a ring holds published
 * records or a synchronous flush is unanswered; progress is the sum of the
 * rings' `TAIL`s and `STORED`s (the browser worker's commits, while it holds
 * back from draining until IndexedDB catches up), `ALIVE` and `FLUSH_ACK`
 * (docs/internals.md "Watchdog").
 *
 * @example An idle ring is not waiting work
 * ```ts
 * import { ringSample } from "./watchdog.ts";
 * import { createControlBuffer, createRingBuffer } from "../wire/ring.ts";
 * import assert from "node:assert/strict";
 * const control = createControlBuffer(true);
 * const ring = createRingBuffer(4096, true);
 * assert.equal(ringSample(control, [ring]).waiting, false);
 * ```
 */
export function ringSample(
  control: SharedArrayBuffer | ArrayBuffer,
  rings: readonly (SharedArrayBuffer | ArrayBuffer)[],
): WorkSample {
  const c = new Int32Array(control);
  let waiting = Atomics.load(c, FLUSH_REQ) !== Atomics.load(c, FLUSH_ACK);
  // Every term only grows (mod 2^32), so any progress changes the sum.
  let progress = (Atomics.load(c, ALIVE) + Atomics.load(c, FLUSH_ACK)) | 0;
  for (const ring of rings) {
    const tail = loadTail(ring);
    if (loadHead(ring) !== tail) waiting = true;
    progress = (progress + tail + loadStored(ring)) | 0;
  }
  return { waiting, progress };
}
