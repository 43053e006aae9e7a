/**
 * Worker supervision: how often a dead worker may be replaced, and what a
 * replacement costs in events. The transport (src/transport/worker_transport.ts) notices the
 * death and starts the new worker; the protocol that keeps every event still
 * in a ring, with its bindings: docs/internals.md "Worker restart".
 *
 * @module
 */
import { loadHead, loadTail, pendingEvents, type RingCounters } from "../wire/ring.ts";

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

/**
 * Workers started (the first and its replacements after a transient start
 * failure) before a worker that never started is given up. A script that is
 * not there, not JavaScript or not allowed to run is given up at once.
 */
export const START_ATTEMPTS = 3;

/**
 * The bindings definitions a producer hands a restarted consumer with its
 * ring (docs/internals.md "Worker restart"): what it holds now, after those
 * of the last handover while the dead worker never reached the ring
 * position they were handed over at (the events that need them wait there).
 */
export class BindingsHandover {
  #last: { bytes: Uint8Array; head: number } | null = null;

  /** The definitions to hand over with `ring`, given the producer's `current` ones. */
  take(ring: SharedArrayBuffer | ArrayBuffer, current: Uint8Array): Uint8Array {
    let defs = current;
    const last = this.#last;
    if (last !== null && ((loadTail(ring) - last.head) | 0) < 0) {
      defs = new Uint8Array(last.bytes.length + current.length);
      defs.set(last.bytes);
      defs.set(current, last.bytes.length);
    }
    this.#last = { bytes: defs, head: loadHead(ring) };
    return defs;
  }
}
