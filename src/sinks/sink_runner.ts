/**
 * Runs the user sinks of `createLogger({ sinks })` beside the consumer:
 * loads each module, calls its default export once, and hands the sink each
 * persisted batch, in order, one call at a time, through a queue bounded in
 * events. Nothing a sink does (throw, reject, hang, take its time) reaches
 * the store: batches are queued and delivered asynchronously, counted, and
 * dropped past the bound.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import type { Sink, SinkConfig, SinkStats } from "./sink.ts";

/** Imports a module by URL (a test passes its own). */
export type ModuleLoader = (url: string) => Promise<unknown>;

const importModule: ModuleLoader = (url) => import(url);

/** Options of {@linkcode Sinks}. */
export interface SinksOptions {
  /**
   * Imports a sink module.
   * @default {dynamic `import()`}
   */
  load?: ModuleLoader;
  /** Called after any counter of any sink changed (the worker reports them to the logger). */
  onChange?: () => void;
}

// One sink: its queue, its delivery loop and its counters.
class SinkRunner {
  readonly #config: SinkConfig;
  readonly #name: string;
  readonly #report: (text: string) => void;
  readonly #changed: () => void;
  #sink: Sink | null = null;
  #failed = false;
  #closed = false;
  // Batches waiting, oldest at #head: no Array.shift() per delivery.
  #queue: (LogEvent[] | undefined)[] = [];
  #head = 0;
  #queued = 0;
  #pumping = false;
  // Events accepted into the queue / taken out of it (delivered, failed or
  // dropped after a failed load): what flush waiters wait for.
  #accepted = 0;
  #settled = 0;
  #waiters: { at: number; done: () => void }[] = [];
  #noted = false;
  #delivered = 0;
  #dropped = 0;
  #errors = 0;
  #error: string | null = null;
  readonly ready: Promise<void>;

  constructor(
    config: SinkConfig,
    index: number,
    load: ModuleLoader,
    report: (text: string) => void,
    changed: () => void,
  ) {
    this.#config = config;
    this.#name = `sinks[${index}]`;
    this.#report = report;
    this.#changed = changed;
    this.ready = this.#load(load);
  }

  async #load(load: ModuleLoader): Promise<void> {
    const url = this.#config.module;
    try {
      let mod: unknown;
      try {
        mod = await load(url);
      } catch (err) {
        throw new TypeError(
          `Cannot import sink module ${url}: ${
            errorMessage(err)
          }; check option ${this.#name}.module`,
          { cause: err },
        );
      }
      const factory = (mod as { default?: unknown } | null)?.default;
      if (typeof factory !== "function") {
        throw new TypeError(
          `Sink module ${url} must export a function as default, (options) => sink; its default export is ${
            factory === undefined ? "missing" : `of type ${typeof factory}`
          }`,
        );
      }
      const sink: unknown = await factory(this.#config.options);
      if (typeof sink !== "function") {
        throw new TypeError(
          `The default export of sink module ${url} must return a sink, a function (events) => void, not a value of type ${typeof sink}`,
        );
      }
      this.#sink = sink as Sink;
      this.#start();
    } catch (err) {
      this.#failed = true;
      this.#errors++;
      this.#error = errorMessage(err);
      // Logging goes on without this sink; say so once where an operator looks.
      this.#report(
        `flightlog: ${this.#error}; its events are dropped and counted in stats().${this.#name}.dropped\n`,
      );
      this.#dropQueued();
      this.#changed();
    }
  }

  /** Queues a copy of what fits of `events`; counts the rest as dropped. Never throws. */
  offer(events: readonly LogEvent[]): void {
    const n = events.length;
    if (n === 0) return;
    if (this.#failed || this.#closed) {
      this.#dropped += n;
    } else {
      const take = Math.min(n, this.#config.maxQueued - this.#queued);
      this.#dropped += n - take;
      if (take > 0) {
        // Its own array: a sink may keep or reorder it without touching another's.
        this.#queue.push(events.slice(0, take));
        this.#queued += take;
        this.#accepted += take;
        this.#start();
      }
    }
    this.#changed();
  }

  #start(): void {
    if (this.#pumping || this.#sink === null || this.#head === this.#queue.length) return;
    this.#pumping = true;
    // After the current drain: the consumer stores the next batches first.
    queueMicrotask(() => void this.#pump(this.#sink!));
  }

  async #pump(sink: Sink): Promise<void> {
    while (this.#head < this.#queue.length) {
      const batch = this.#queue[this.#head]!;
      let ok = true;
      try {
        const r = sink(batch);
        if (r !== undefined && typeof (r as Promise<void>).then === "function") await r;
      } catch (err) {
        ok = false;
        this.#fail(err);
      }
      this.#queue[this.#head++] = undefined;
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      }
      this.#queued -= batch.length;
      if (ok) this.#delivered += batch.length;
      this.#settle(batch.length);
      this.#changed();
    }
    this.#pumping = false;
  }

  #fail(err: unknown): void {
    this.#errors++;
    this.#error = errorMessage(err);
    if (this.#noted) return;
    this.#noted = true;
    this.#report(
      `flightlog: sink ${this.#config.module} failed: ${this.#error}; further failures are counted in stats().${this.#name}.errors\n`,
    );
  }

  #dropQueued(): void {
    const n = this.#queued;
    this.#dropped += n;
    this.#queue = [];
    this.#head = 0;
    this.#queued = 0;
    this.#settle(n);
  }

  #settle(n: number): void {
    this.#settled += n;
    const waiters = this.#waiters;
    let i = 0;
    while (i < waiters.length && waiters[i]!.at <= this.#settled) waiters[i++]!.done();
    if (i > 0) waiters.splice(0, i);
  }

  /**
   * Resolves once the sink has taken every event queued before the call (or
   * it failed to load), or after `flushTimeoutMs`.
   */
  settle(): Promise<void> {
    const at = this.#accepted;
    if (this.#settled >= at) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined = undefined;
      let done = false;
      const waiter = {
        at,
        done: () => {
          done = true;
          clearTimeout(timer);
          resolve();
        },
      };
      // Registered before setTimeout: Deno's first setTimeout may run queued microtasks (the pump).
      this.#waiters.push(waiter);
      // A hung sink must not hang flush(): its events stay queued, counted.
      const t = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve();
      }, this.#config.flushTimeoutMs);
      if (done) clearTimeout(t);
      else timer = t;
    });
  }

  /**
   * Waits (bounded) for the queue, then takes no more events and disposes of
   * the sink when it has a `Symbol.asyncDispose` or `Symbol.dispose` method.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.settle();
    this.#closed = true;
    const sink = this.#sink as (Sink & Partial<AsyncDisposable & Disposable>) | null;
    if (sink === null) return;
    const dispose = typeof Symbol.asyncDispose === "symbol" && sink[Symbol.asyncDispose]
      ? sink[Symbol.asyncDispose]
      : typeof Symbol.dispose === "symbol"
      ? sink[Symbol.dispose]
      : undefined;
    if (typeof dispose !== "function") return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        dispose.call(sink),
        new Promise<void>((resolve) => timer = setTimeout(resolve, this.#config.flushTimeoutMs)),
      ]);
    } catch (err) {
      this.#fail(err);
      this.#changed();
    } finally {
      clearTimeout(timer);
    }
  }

  stats(): SinkStats {
    return {
      module: this.#config.module,
      delivered: this.#delivered,
      dropped: this.#dropped,
      errors: this.#errors,
      queued: this.#queued,
      error: this.#error,
    };
  }
}

/**
 * The sinks of one logger, in the order of the option. `offer` is what the
 * consumer calls with each persisted batch.
 *
 * @example A sink that records what it receives
 * ```ts
 * import { Sinks } from "./sink_runner.ts";
 * import assert from "node:assert/strict";
 *
 * const got: string[] = [];
 * const module = { default: () => (events: { event: string }[]) => void got.push(...events.map((e) => e.event)) };
 * const sinks = new Sinks(
 *   [{ module: "mem:recorder", options: null, maxQueued: 100, flushTimeoutMs: 1000 }],
 *   () => {},
 *   { load: () => Promise.resolve(module) },
 * );
 * sinks.offer([{ ts_ms: 0, level: "info", severity: 9, event: "hello", producer: "p.0", seq: 1, fields: {} }]);
 * await sinks.settle();
 * assert.deepEqual(got, ["hello"]);
 * assert.equal(sinks.stats()[0]?.delivered, 1);
 * await sinks.close();
 * ```
 */
export class Sinks {
  readonly #runners: SinkRunner[];

  /** `report` writes a line where an operator looks (stderr): once per sink that fails. */
  constructor(
    configs: readonly SinkConfig[],
    report: (text: string) => void,
    options: SinksOptions = {},
  ) {
    const load = options.load ?? importModule;
    const changed = options.onChange ?? (() => {});
    this.#runners = configs.map((c, i) => new SinkRunner(c, i, load, report, changed));
  }

  /** Hands a batch of persisted events to every sink (queued). Never throws. */
  readonly offer = (events: readonly LogEvent[]): void => {
    for (const r of this.#runners) r.offer(events);
  };

  /** Resolves once every sink has taken what was offered before, each within its `flushTimeoutMs`. */
  async settle(): Promise<void> {
    await Promise.all(this.#runners.map((r) => r.settle()));
  }

  /** Settles, then disposes of every sink (bounded); later batches are dropped and counted. */
  async close(): Promise<void> {
    await Promise.all(this.#runners.map((r) => r.close()));
  }

  /** Counters of each sink. */
  stats(): SinkStats[] {
    return this.#runners.map((r) => r.stats());
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
