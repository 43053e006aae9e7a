/**
 * The user sinks where the consumer runs (the Deno and browser workers, the
 * `inline` transport): starts them from their resolved configs and, in a
 * worker, reports their counters to the logger's thread in notices, so its
 * `stats()` stays synchronous.
 *
 * @module
 */
import { type ModuleLoader, Sinks } from "../sinks/sink_runner.ts";
import type { SinkConfig } from "../sinks/sink.ts";
import type { WorkerNotice } from "./api.ts";

// Counters reach the logger at most this often between flushes; also the
// sign of life a flush waiting for a slow sink gives the watchdog.
const NOTICE_MS = 100;

/** The sinks of a consumer and how their counters reach the logger. */
export class SinkHost {
  /** The sinks; register `sinks.offer` as an observer of persisted batches. */
  readonly sinks: Sinks;
  readonly #notify: ((notice: WorkerNotice) => void) | null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /**
   * `notify` posts a notice to the logger's thread (a worker); null where
   * the logger reads `sinks.stats()` itself (the `inline` transport).
   */
  constructor(
    configs: readonly SinkConfig[],
    write: (stream: "stdout" | "stderr", text: string) => void,
    notify: ((notice: WorkerNotice) => void) | null,
    load?: ModuleLoader,
  ) {
    this.#notify = notify;
    this.sinks = new Sinks(configs, (text) => write("stderr", text), {
      ...(load === undefined ? {} : { load }),
      ...(notify === null ? {} : { onChange: () => this.#schedule() }),
    });
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => this.#report(), NOTICE_MS);
  }

  #report(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#notify?.({
      type: "flightlog-notice",
      error: null,
      evicted: 0,
      sinks: this.sinks.stats(),
    });
  }

  /**
   * Resolves once the sinks have taken what was persisted before the call
   * (each within its `flushTimeoutMs`), then reports their counters: the
   * notice reaches the logger before the flush's answer.
   */
  async flushed(): Promise<void> {
    // The worker's event loop runs while it waits: tell the watchdog.
    const beat = this.#notify === null ? undefined : setInterval(() => this.#report(), NOTICE_MS);
    try {
      await this.sinks.settle();
    } finally {
      clearInterval(beat);
    }
    if (this.#notify !== null) this.#report();
  }

  /** Settles and disposes of the sinks (bounded), then reports their last counters. */
  async close(): Promise<void> {
    if (this.#closed) return;
    const beat = this.#notify === null ? undefined : setInterval(() => this.#report(), NOTICE_MS);
    try {
      await this.sinks.close();
    } finally {
      clearInterval(beat);
      this.#closed = true;
      if (this.#notify !== null) this.#report();
    }
  }
}

/** A {@linkcode SinkHost} for `configs`, or null when there are none. */
export function startSinks(
  configs: readonly SinkConfig[] | undefined,
  write: (stream: "stdout" | "stderr", text: string) => void,
  notify: ((notice: WorkerNotice) => void) | null,
  load?: ModuleLoader,
): SinkHost | null {
  if (configs === undefined || configs.length === 0) return null;
  return new SinkHost(configs, write, notify, load);
}
