/**
 * Fault injection inside a store worker, for the crash and hang tests: the
 * tests' own worker entry points (`faulty_worker.ts`,
 * `../browser/_hang_worker.ts`) serve the worker API with these calls added,
 * and {@linkcode WriteTrap} wraps the store they open. Worker side only:
 * `faulty_logger.ts` drives them from the logger's thread.
 *
 * @module
 */
import type { LogEvent } from "../../src/event.ts";
import type { PackedPayload } from "../../src/store/record.ts";

/** The calls a faulty worker adds to the worker API. */
export interface FaultApi {
  /** Throws `message` as an uncaught exception in the worker, outside any call, as a bug would. */
  crash(message: string): void;
  /**
   * Spins in an endless synchronous loop, which Deno 2.9.6's `terminate()`
   * does not interrupt, from the next task on (or, with `inWrite`, inside
   * the next store write, with a batch taken from the ring: Deno worker
   * only), until `release[0]` (Int32) is set; sets `release[1]` as it
   * starts and `release[2]` as it ends.
   */
  hang(release: SharedArrayBuffer, inWrite?: boolean): void;
}

/** Spins until `flag[0]` is set; `flag[1]` says it spins, `flag[2]` that it ended. */
export function spin(flag: Int32Array): void {
  Atomics.store(flag, 1, 1);
  Atomics.notify(flag, 1);
  while (Atomics.load(flag, 0) === 0) { /* hung */ }
  Atomics.store(flag, 2, 1);
  Atomics.notify(flag, 2);
}

/** Makes the next store write spin (`hang(release, true)`). */
export class WriteTrap {
  #armed: Int32Array | null = null;

  /** Springs at the next write (`append()`, `appendPayloads()`) of a store {@linkcode WriteTrap.wrap} wrapped. */
  arm(flag: Int32Array): void {
    this.#armed = flag;
  }

  /**
   * Wraps the store's writes in place (the store stays the uplink's source
   * too): `append`, and `appendPayloads`, which the consumer uses instead
   * while nothing observes the events.
   */
  wrap<
    S extends {
      append(events: LogEvent[]): void;
      appendPayloads?(payloads: readonly PackedPayload[]): void;
    },
  >(store: S): S {
    const append = store.append.bind(store);
    store.append = (events) => {
      this.#spring();
      append(events);
    };
    const appendPayloads = store.appendPayloads?.bind(store);
    if (appendPayloads !== undefined) {
      store.appendPayloads = (payloads) => {
        this.#spring();
        appendPayloads(payloads);
      };
    }
    return store;
  }

  #spring(): void {
    const flag = this.#armed;
    if (flag !== null) {
      this.#armed = null;
      spin(flag);
    }
  }
}

/** `api` with {@linkcode FaultApi} added; `trap` serves `hang(…, true)`. */
export function withFaults<T extends object>(api: T, trap?: WriteTrap): T & FaultApi {
  return {
    ...api,
    crash: (message) => {
      setTimeout(() => {
        throw new Error(message);
      }, 0);
    },
    hang: (release, inWrite) => {
      const flag = new Int32Array(release);
      if (inWrite !== true) setTimeout(() => spin(flag), 0);
      else if (trap === undefined) throw new TypeError("This worker has no store write to hang in");
      else trap.arm(flag);
    },
  };
}
