/**
 * A logger whose store worker takes faults, for the crash and hang tests: it
 * runs `faulty_worker.ts` (or, in a browser, the `workerUrl` given) and
 * reaches that worker and the transport's watchdog through the transport's
 * test seams (src/transport/_testing.ts), never through the logger's API.
 *
 * @module
 */
import * as Comlink from "comlink/dist/esm/comlink.mjs";
import { createLogger, type Logger, type LoggerOptions } from "../../mod.ts";
import { withTransportSeams } from "../../src/transport/_testing.ts";
import type { Watchdog, WorkSample } from "../../src/transport/watchdog.ts";
import type { WorkerHandle } from "../../src/platform/types.ts";
import type { FaultApi } from "./faults.ts";

interface Started {
  handle: WorkerHandle;
  faults: Comlink.Remote<FaultApi>;
  exited: Promise<void>;
}

/** A logger and the faults a test injects into its worker; see the module doc. */
export class FaultyLogger {
  readonly log: Logger;
  /** The watchdog's clock in ms: it moves only when the test moves it. */
  now = 0;
  /** Workers started to replace one that died or hung. */
  restarts = 0;
  /** Called at each restart with the error that ended the old worker. */
  onRestart: ((why: Error) => void) | undefined = undefined;
  #watchdog: Watchdog | null = null;
  #sample: () => WorkSample = () => ({ waiting: false, progress: 0 });
  readonly #workers: Started[] = [];
  readonly #hangs: SharedArrayBuffer[] = [];
  readonly #ended: SharedArrayBuffer[] = [];
  #closed: Promise<void> | null = null;

  /** `options.workerUrl` defaults to `faulty_worker.ts`. */
  constructor(options: LoggerOptions) {
    const workerUrl = options.workerUrl ?? new URL("./faulty_worker.ts", import.meta.url);
    this.log = withTransportSeams({
      platform: (platform) => ({
        ...platform,
        startWorker: (init, url) => {
          const handle = platform.startWorker(init, url);
          const exited = new Promise<void>((resolve) => handle.onExit(() => resolve()));
          this.#workers.push({ handle, faults: Comlink.wrap<FaultApi>(handle.endpoint), exited });
          return handle;
        },
      }),
      clock: () => this.now,
      onWatchdog: (watchdog, sample) => {
        this.#watchdog = watchdog;
        this.#sample = sample;
      },
      onRestart: (why) => {
        this.restarts++;
        this.onRestart?.(why);
      },
    }, () => createLogger({ ...options, workerUrl }));
  }

  /** The transport's hung-worker watchdog, on the clock {@linkcode FaultyLogger.now}. */
  get watchdog(): Watchdog {
    if (this.#watchdog === null) throw new TypeError("This logger has no worker, so no watchdog");
    return this.#watchdog;
  }

  /** True when work waits for the worker (the watchdog's sample, judging nothing). */
  waiting(): boolean {
    return this.#sample().waiting;
  }

  /** Resolves at the next restart, with the error that ended the old worker. */
  nextRestart(): Promise<Error> {
    return new Promise((resolve) => {
      this.onRestart = (why) => {
        this.onRestart = undefined;
        resolve(why);
      };
    });
  }

  /**
   * Ends the current worker by `terminate()` or by an uncaught exception
   * inside it, or (`"hang"`) makes it spin in an endless loop and resolves
   * once it spins; `"hang-in-write"` arms the same loop inside its next store
   * write and resolves at once (await {@linkcode FaultyLogger.hangReached}
   * after logging). Only {@linkcode FaultyLogger.endHangs} or
   * {@linkcode FaultyLogger.close} ends a loop.
   */
  async crashWorker(how: "terminate" | "throw" | "hang" | "hang-in-write"): Promise<void> {
    const worker = this.#workers.at(-1);
    if (worker === undefined) throw new TypeError("This logger has not started a worker");
    if (how === "terminate") return await worker.handle.terminate();
    if (how === "throw") return await call(worker, (f) => f.crash("injected worker crash"));
    const release = new SharedArrayBuffer(12);
    this.#hangs.push(release);
    const inWrite = how === "hang-in-write";
    await call(worker, (f) => f.hang(release, inWrite));
    if (!inWrite) await this.hangReached("spinning");
  }

  /** Resolves once the last injected hang spins, or has ended ({@linkcode FaultyLogger.endHangs}). */
  async hangReached(stage: "spinning" | "ended"): Promise<void> {
    const release = this.#hangs.at(-1) ?? this.#ended.at(-1);
    if (release === undefined) throw new TypeError("No hang was injected: call crashWorker first");
    const flag = new Int32Array(release);
    const word = stage === "spinning" ? 1 : 2;
    // A pending waitAsync does not keep the event loop alive; a timer does.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      while (Atomics.load(flag, word) === 0) {
        const r = Atomics.waitAsync(flag, word, 0, 1000);
        if (r.async) await r.value;
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Ends every injected loop: a hang that passes, as a slow step would. */
  endHangs(): void {
    for (const release of this.#hangs.splice(0)) {
      Atomics.store(new Int32Array(release), 0, 1);
      this.#ended.push(release);
    }
  }

  /**
   * Closes the logger, then ends the loops still spinning, so no thread is
   * left busy. A second call waits for the first.
   */
  close(): Promise<void> {
    this.#closed ??= this.log.close().finally(() => this.endHangs());
    return this.#closed;
  }
}

// A call to a worker that may die meanwhile; kept alive while it waits (the worker is unref()ed).
async function call(worker: Started, fn: (f: Comlink.Remote<FaultApi>) => Promise<void>) {
  const release = worker.handle.hold();
  try {
    await Promise.race([fn(worker.faults), worker.exited]);
  } catch {
    // The worker died before it answered: the fault happened anyway.
  } finally {
    release();
  }
}
