/**
 * Transports carry encoded records from a producing thread to the consumer:
 *
 * - `"sab"`: a SharedArrayBuffer ring drained by a worker (the fast path);
 * - `"message"`: records batched in a private buffer and posted to the worker
 *   (no SharedArrayBuffer, e.g. a page that is not cross-origin isolated);
 * - `"inline"`: no worker at all; the consumer runs on this thread, on a timer;
 * - `"attached"`: an application Worker writing into its own ring of another
 *   logger's store (see `attachLogger`).
 *
 * All of them share the record format, so the semantics (sequence numbers,
 * drops, `emitted = persisted + dropped`) are the same.
 *
 * @module
 */
import * as Comlink from "comlink/dist/esm/comlink.mjs";
import {
  align4,
  ConsumerState,
  createControlBuffer,
  createRingBuffer,
  DURABLE,
  FLAG_BINDINGS,
  FLAG_INTERNAL,
  FLUSH_ACK,
  FLUSH_REQ,
  GENERATION,
  HEAD,
  HEADER_BYTES,
  LOST,
  REGISTERED,
  RESUME,
  type RingCounters,
  RingProducer,
  SLEEPING,
  STATE,
  TAIL,
  walkRecords,
} from "../wire/ring.ts";
import { Consumer } from "../worker/consumer.ts";
import { eventsLostInCrash, RestartBudget, START_ATTEMPTS } from "./supervisor.ts";
import { FAILURE_BYTES, startFailure, WorkerStartError } from "../worker/start_failure.ts";
import { MAX_HUNG_WORKERS, ringSample, Watchdog, type WorkSample } from "./watchdog.ts";
import { type DefinitionRecord, lossBatch, spillRing } from "../wire/sab_spill.ts";
import type { PendingBatch } from "../wire/sab_spill.ts";
import type { Encoder } from "../wire/codec.ts";
import type { LevelName } from "../level.ts";
import type { FlowLog, QueryFilter, QueryPage } from "../query/types.ts";
import type { StoreOptions } from "../store/options.ts";
import type { ProducerHandle } from "./handle.ts";
import type { WorkerApi, WorkerInit, WorkerNotice } from "../worker/api.ts";
import { isPackedFlowLog, type PackedFlowLog, unpackFlowLog } from "../worker/packed_flow_log.ts";
import * as runtime from "../platform/deno.ts";
import { installObservers, type Observers, scrapeCounters } from "../worker/observers.ts";
import type { ObserverConfig } from "../sinks/setup.ts";
import {
  readUplinkStats,
  type ResolvedUplinkOptions,
  UPLINK_STAT_NAMES,
  type UplinkStats,
} from "../uplink/options.ts";

/** The transport a logger uses, as `stats().mode` reports it. */
export type TransportMode = "sab" | "message" | "inline" | "attached";

/** The producer side of a transport: where the hot path copies records. */
export interface Producer {
  readonly capacity: number;
  /** Data area for in-place encoding, when the producer supports it. */
  readonly data: Uint8Array;
  /** DataView of `data`. */
  readonly view: DataView;
  /**
   * Advances when a child logger must define its bindings again before its
   * next event (docs/internals.md "Bindings by reference").
   */
  readonly epoch: number;
  /**
   * Copies a bindings definition into the ring's definitions mirror (an
   * attached producer's ring; docs/internals.md "Definitions mirror").
   */
  mirror?(record: Uint8Array, len: number, epoch: number): void;
  /** Offset with `max` contiguous free bytes in `data`, or -1. */
  reserve(max: number): number;
  /** Publishes a record encoded in place at the reserved offset. */
  commit(len: number): void;
  /** True when at least `n` bytes are free. */
  hasRoom(n: number): boolean;
  write(src: Uint8Array, len: number): boolean;
  wake(): void;
  /** Publishes the front end's counters (absolute values) for the consumer. */
  publish(emitted: number, dropped: number): void;
  counters(): RingCounters;
  used(): number;
  waitForSpace(ms: number): boolean;
}

/** A transport, as the logger front end sees it. */
export interface Transport {
  readonly mode: TransportMode;
  readonly producer: Producer;
  readonly producerId: string;
  /** True when the `"block"` overflow policy may wait on this thread. */
  readonly canBlock: boolean;
  flush(durable: boolean): Promise<void>;
  query(filter: QueryFilter): Promise<QueryPage>;
  getFlowLog(flowId: string): Promise<FlowLog>;
  /** The Prometheus exposition text (ring fill read, then drained), or null when metrics are off. */
  metrics(): Promise<string | null>;
  producerHandle(level: LevelName, encoder: Encoder): ProducerHandle;
  state(): "starting" | "running" | "failed" | "closed";
  error(): string | null;
  /** Events the store evicted while this logger ran (absent where the store is another logger's). */
  evicted?: () => number;
  /** The uplink's self-metrics, present when an uplink runs. */
  uplinkStats?: () => UplinkStats;
  /**
   * Set by the front end: returns the bindings definitions its ring may
   * still refer to, for a restarted worker (docs/internals.md "Worker restart").
   */
  bindingsSource?: (() => Uint8Array) | undefined;
  /** Set by the front end: publishes its exact counters to the ring header. */
  publishCounters?: (() => void) | undefined;
  /** Set by the front end: drops (and counts) every later log call; the worker was given up. */
  stopProducing?: (() => void) | undefined;
  /**
   * Set by the front end: writes the `log.dropped` record of an open drop
   * burst; false when the ring has no room for it yet.
   */
  settleDrops?: (() => boolean) | undefined;
  /** Set by the logger: a child's bindings definition by id (the `sab` unload spill needs it). */
  definitions?: (id: number) => DefinitionRecord | undefined;
  close(): Promise<void>;
}

/** Configuration of {@linkcode openTransport}. */
export type TransportConfig =
  | {
    mode: "auto" | "sab" | "message" | "inline";
    dir: string;
    ringBytes: number;
    store: StoreOptions;
    exitHooks: boolean;
    exitTimeoutMs: number;
    flushIntervalMs: number;
    /** No progress for this long while work waits: the worker is hung (0: never); src/transport/watchdog.ts. */
    hungAfterMs?: number;
    /** Console output and metrics, run by the consumer. */
    observe?: ObserverConfig;
    uplink?: ResolvedUplinkOptions;
    /** The worker's module, when not flightlog's own (the `workerUrl` option). */
    workerUrl?: string | URL;
  }
  | { mode: "attached"; handle: ProducerHandle };

/** Error thrown by flush/query when the worker is gone or the logger is closed. */
export class LoggerClosedError extends Error {
  /** Always `"LoggerClosedError"`. */
  override name = "LoggerClosedError";
}

// A message written as one stderr line.
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}

/**
 * The exit flush of a transport whose `flushSync` stores everything on this
 * thread's ring before it returns: the exact counters and the `log.dropped`
 * record of the drop burst still open go with the last events, so the store
 * holds `events + dropped counts = emitted`. When the ring is too full for
 * that record, a first flush makes room for it.
 */
function flushAtExit(transport: Transport, flushSync: () => void): void {
  transport.publishCounters?.();
  if (transport.settleDrops?.() === false) {
    flushSync();
    transport.settleDrops();
  }
  flushSync();
}

function newInstanceId(): string {
  const b = new Uint8Array(6);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Picks and opens a transport. */
export function openTransport(config: TransportConfig): Transport {
  if (config.mode === "attached") return new AttachedTransport(config.handle);
  let mode = config.mode;
  if (mode === "auto") {
    mode = !runtime.hasWorkers() ? "inline" : runtime.hasSharedMemory() ? "sab" : "message";
  }
  if (mode === "sab" && !runtime.hasSharedMemory()) {
    throw new TypeError(
      'Transport "sab" needs SharedArrayBuffer (a cross-origin isolated page in browsers): use "auto"',
    );
  }
  if (mode === "inline") return new InlineTransport(config);
  return new WorkerTransport(config, mode);
}

const STATE_NAMES = ["starting", "running", "failed", "closed"] as const;

/** The consumer's state as the control buffer's `STATE` slot says it. */
function consumerState(control: Int32Array): "starting" | "running" | "failed" | "closed" {
  return STATE_NAMES[Atomics.load(control, STATE)] ?? "starting";
}

/** Statically checked `instanceof SharedArrayBuffer` that works where it is undefined. */
function isShared(buf: ArrayBufferLike): buf is SharedArrayBuffer {
  return typeof SharedArrayBuffer === "function" && buf instanceof SharedArrayBuffer;
}

class WorkerTransport implements Transport {
  readonly mode: "sab" | "message";
  readonly producer: Producer;
  readonly producerId: string;
  readonly canBlock: boolean;
  readonly #instance: string;
  readonly #control: SharedArrayBuffer | ArrayBuffer;
  readonly #control32: Int32Array;
  readonly #init: WorkerInit;
  readonly #workerUrl: string | URL | undefined;
  // Replaced when a dead worker is restarted (docs/internals.md "Worker restart").
  #worker!: runtime.WorkerHandle;
  #remote!: Comlink.Remote<WorkerApi>;
  #ready!: Promise<void>;
  #dead!: Promise<never>;
  #failure: Error | null = null;
  // Events a dead worker had taken but not stored: reported by the next flush.
  #crashLoss: Error | null = null;
  readonly #budget = new RestartBudget();
  #closing: Promise<void> | null = null;
  #nextProducer = 1;
  readonly #removeExitHook: () => void;
  readonly #exitTimeoutMs: number;
  uplinkStats?: () => UplinkStats;
  bindingsSource: (() => Uint8Array) | undefined = undefined;
  /** Called after each restart with the error that ended the old worker (tests, stats). */
  onRestart: ((err: Error) => void) | undefined = undefined;
  definitions?: (id: number) => DefinitionRecord | undefined;

  constructor(
    config: Extract<TransportConfig, { mode: "auto" | "sab" | "message" | "inline" }>,
    mode: "sab" | "message",
  ) {
    this.mode = mode;
    this.#instance = newInstanceId();
    this.producerId = `${this.#instance}.0`;
    this.#exitTimeoutMs = config.exitTimeoutMs;
    this.#workerUrl = config.workerUrl;
    const shared = mode === "sab";
    this.#control = createControlBuffer(shared);
    this.#control32 = new Int32Array(this.#control);
    const init: WorkerInit = {
      dir: config.dir,
      store: config.store,
      control: this.#control,
      rings: [],
      shared,
      generation: 1,
    };
    Atomics.store(this.#control32, GENERATION, 1);
    // This thread outlives every worker, a hung one included: it holds the
    // store's lock (docs/internals.md "The lock"). Where it cannot,
    // the worker takes the lock itself and reports why it could not.
    this.#releaseLock = runtime.lockStore(config.dir);
    if (this.#releaseLock !== null) init.lockHeld = true;
    this.watchdog = new Watchdog(() => this.#sample(), (ms) => this.#replaceHung(ms), {
      ...(config.hungAfterMs === undefined ? {} : { hungAfterMs: config.hungAfterMs }),
    });
    if (config.observe !== undefined) init.observe = config.observe;
    this.#init = init;
    if (shared) {
      init.failure = new SharedArrayBuffer(FAILURE_BYTES);
      const ring = createRingBuffer(config.ringBytes, true) as SharedArrayBuffer;
      init.rings.push({ producer: this.producerId, buffer: ring });
      this.producer = new RingProducer(ring, this.#control);
      this.canBlock = runtime.canWait();
    } else {
      this.producer = new BatchProducer(
        config.ringBytes,
        config.flushIntervalMs,
        (bytes, emitted, dropped) => this.#ingest(bytes, emitted, dropped),
      );
      this.canBlock = false;
    }
    if (config.uplink !== undefined) {
      // The worker mirrors the uplink's counters here, so stats() stays synchronous.
      const buffer = runtime.hasSharedMemory()
        ? new SharedArrayBuffer(UPLINK_STAT_NAMES.length * 8)
        : null;
      init.uplink = config.uplink;
      if (buffer !== null) init.uplinkStats = buffer;
      const mirror = new Float64Array(buffer ?? new ArrayBuffer(UPLINK_STAT_NAMES.length * 8));
      this.uplinkStats = () => readUplinkStats(mirror);
    }
    // Browser: a connection kept open to spill, at pagehide, what the worker
    // has not committed; and what earlier pages spilled into localStorage,
    // this page's to store now (or to spill again).
    const spill = config.exitHooks ? runtime.openSpill(config.dir) : null;
    this.#spill = spill;
    this.#claimed = spill?.claim() ?? [];
    if (this.#claimed.length > 0) init.spilled = this.#claimed;
    this.#start(init);
    if (this.watchdog.hungAfterMs > 0) {
      // Cold path: a few atomic loads per tick, never a log call's work
      // (bench/watchdog_bench.ts "watchdog"); at most one tick per 10 ms.
      const every = Math.max(10, this.watchdog.hungAfterMs / 4);
      const timer = setInterval(() => this.watchdog.poll(), every);
      runtime.unrefTimer(timer);
      this.#watchTimer = timer;
    }
    this.#removeExitHook = config.exitHooks
      ? runtime.addExitHook(
        () => {
          // One bound for the exit, even when the open drop burst's record needs two flushes.
          const deadline = performance.now() + this.#exitTimeoutMs;
          flushAtExit(this, () => this.#flushSync(deadline));
        },
        spill === null ? undefined : () => this.#spillBatch(spill, true),
      )
      : () => {};
    // Until the worker is ready, also at beforeunload (src/platform/browser.ts watchLeaving).
    this.#stopWatching = spill === null
      ? () => {}
      : runtime.watchLeaving(() => this.#spillBatch(spill, false));
    this.#ready.then(() => this.#stopWatching(), () => this.#stopWatching());
  }

  #start(init: WorkerInit): void {
    const worker = runtime.startWorker(init, this.#workerUrl);
    this.#worker = worker;
    worker.endpoint.addEventListener("message", this.#onNotice as EventListener);
    this.#remote = Comlink.wrap<WorkerApi>(worker.endpoint);
    let rejectDead!: (e: Error) => void;
    this.#dead = new Promise<never>((_, reject) => (rejectDead = reject));
    this.#dead.catch(() => {});
    this.#rejectDead = rejectDead;
    let ended = false;
    const onEnd = (err: Error | null) => {
      // Once per worker: a hung one is ended here before its exit is reported (if ever).
      if (ended) return;
      ended = true;
      this.watchdog.stop();
      if (this.#closing !== null && err === null) return;
      const why = err ?? new LoggerClosedError("The flightlog worker exited unexpectedly");
      rejectDead(why);
      if (this.#closing !== null || this.#failure !== null) {
        this.#failure ??= why;
        Atomics.store(this.#control32, STATE, ConsumerState.failed);
        return;
      }
      if (why instanceof WorkerStartError) {
        // Never ran: only a network failure is worth another attempt, and a few at most.
        if (why.transient && ++this.#startFailures < START_ATTEMPTS) {
          this.#restart(why);
          return;
        }
        const tried = why.transient ? `given up after ${START_ATTEMPTS} attempts, ` : "";
        this.#giveUp(
          new LoggerClosedError(
            `${why.message}; ${tried}this logger drops (and counts) every event from now on`,
            { cause: why },
          ),
        );
        return;
      }
      if (this.#budget.take()) {
        this.#restart(why);
        return;
      }
      this.#giveUp(
        new LoggerClosedError(
          `The flightlog worker died ${this.#budget.maxRestarts + 1} times within ${
            this.#budget.windowMs / 1000
          } s, past its restart budget; this logger drops (and counts) every event from now on (fix the cause, then create a new logger): ${
            oneLine(why.message)
          }`,
          { cause: why },
        ),
      );
    };
    worker.onExit(onEnd);
    this.#endHung = (why) => {
      // First: Deno may report the exit (as a clean one) within terminate().
      onEnd(why);
      void worker.terminate().catch(() => {});
    };
    this.#ready = this.#call(() => this.#remote.ready()).then((res) => {
      // Without shared memory the worker's STATE slot is a copy: mirror "running" here.
      if (res === null && !init.shared) {
        Atomics.store(this.#control32, STATE, ConsumerState.running);
      }
      if (res === null && init.spilled !== undefined) {
        // Stored: no longer this page's to spill again.
        this.#claimed = [];
        delete this.#init.spilled;
      }
      if (res !== null) {
        this.#giveUp(new Error(res));
      } else if (init.restarted === true && this.#worker === worker) {
        this.#countCrashLoss();
        Atomics.store(this.#control32, RESUME, 1);
        Atomics.notify(this.#control32, RESUME);
      }
      if (res === null && this.#worker === worker && !ended) this.watchdog.watch();
    });
    this.#ready.catch(() => {});
  }

  // Runs in the exit callback, between two log calls of this thread.
  #restart(why: Error): void {
    Atomics.store(this.#control32, STATE, ConsumerState.starting);
    Atomics.store(this.#control32, RESUME, 0);
    // Retires the old consumer, should its thread still run (docs/internals.md "Worker restart").
    const generation = Atomics.add(this.#control32, GENERATION, 1) + 1;
    this.#remote[Comlink.releaseProxy]();
    this.#lastCrash = why;
    const rings = this.#init.rings.map((r) => ({ ...r }));
    const own = rings[0];
    if (own !== undefined && own.producer === this.producerId) {
      let defs = this.bindingsSource?.() ?? new Uint8Array(0);
      this.producer.wake(); // publishes HEAD
      const i32 = new Int32Array(own.buffer, 0, 48);
      // Still needed by events the dead worker never reached: hand them over again.
      const prev = this.#handedOver;
      if (prev !== null && ((Atomics.load(i32, TAIL) - prev.head) | 0) < 0) {
        const merged = new Uint8Array(prev.bytes.length + defs.length);
        merged.set(prev.bytes);
        merged.set(defs, prev.bytes.length);
        defs = merged;
      }
      this.#handedOver = { bytes: defs, head: Atomics.load(i32, HEAD) };
      own.bindings = defs;
    }
    if (this.producer instanceof BatchProducer) this.producer.rebase();
    this.#start({ ...this.#init, rings, restarted: true, generation });
    this.onRestart?.(why);
  }

  // Runs once the new worker holds the store lock, so the dead one has
  // stopped, and before the new one drains: what is neither persisted,
  // dropped, lost nor still in the ring was taken by the dead worker.
  #countCrashLoss(): void {
    const own = this.#init.rings[0];
    if (own === undefined || own.producer !== this.producerId) return;
    this.publishCounters?.();
    this.producer.wake();
    const lost = eventsLostInCrash(own.buffer, this.producer.counters());
    if (lost > 0) {
      const f64 = new Float64Array(own.buffer, 0, 24);
      f64[LOST] = f64[LOST]! + lost;
      this.#crashLoss = new Error(
        `The flightlog worker died (${this.#lastCrash?.message}); ${lost} events it had taken were lost and counted as dropped; it was restarted`,
        { cause: this.#lastCrash },
      );
    }
  }
  #lastCrash: Error | null = null;
  // Workers that never started because the network failed (see START_ATTEMPTS).
  #startFailures = 0;
  #rejectDead: (e: Error) => void = () => {};

  /**
   * Gives the worker up for good (its store cannot open, it died past its
   * restart budget, it hung past MAX_HUNG_WORKERS): says so once on stderr,
   * counts every event still waiting for a worker as dropped, has the front
   * end drop (and count) every later one, and makes `flush()` reject with
   * `why`, so `emitted = persisted + dropped` holds and nothing stays pending.
   * Runtime-neutral: the browser's worker that cannot start ends here too.
   */
  #giveUp(why: Error): void {
    if (this.#failure !== null || this.#closing !== null) return;
    this.#failure = why;
    // A consumer still running (a hung one that comes back) takes and counts nothing more.
    Atomics.add(this.#control32, GENERATION, 1);
    Atomics.store(this.#control32, STATE, ConsumerState.failed);
    this.stopProducing?.();
    this.publishCounters?.();
    if (this.producer instanceof BatchProducer) {
      // Batches in flight are counted as lost when their call rejects (below).
      this.producer.abandon();
    } else {
      const own = this.#init.rings[0];
      if (own !== undefined && own.producer === this.producerId) {
        const c = this.producer.counters();
        const waiting = c.emitted - c.dropped - c.persisted - c.lost;
        if (waiting > 0) {
          const f64 = new Float64Array(own.buffer, 0, 24);
          f64[LOST] = f64[LOST]! + waiting;
        }
      }
    }
    this.#rejectDead(why);
    runtime.writeConsole("stderr", `${why.message}\n`);
  }

  /** Set by the front end: every later log call is dropped and counted (see #giveUp). */
  stopProducing: (() => void) | undefined = undefined;
  settleDrops: (() => boolean) | undefined = undefined;
  #handedOver: { bytes: Uint8Array; head: number } | null = null;
  publishCounters: (() => void) | undefined = undefined;

  /** Restarts so far after the worker died. */
  get restarts(): number {
    return this.#budget.restarts;
  }

  /**
   * Fault injection for the worker-crash tests: ends the current worker by
   * `terminate()` or by an uncaught exception inside it, or (`"hang"`) makes
   * it spin in an endless synchronous loop and resolves once it spins;
   * `"hang-in-write"` arms the same loop inside the worker's next store
   * write (with a batch taken from the ring) and resolves at once: await
   * {@linkcode WorkerTransport.hangReached} after logging. Only
   * {@linkcode WorkerTransport.endHangs} or `close()` ends a loop, so tests
   * leave no spinning thread behind.
   */
  async crashWorker(how: "terminate" | "throw" | "hang" | "hang-in-write"): Promise<void> {
    const worker = this.#worker;
    if (how === "throw") {
      await this.#call(() => this.#remote.crash("injected worker crash")).catch(() => {});
    } else if (how === "hang" || how === "hang-in-write") {
      const release = new SharedArrayBuffer(12);
      this.#hangs.push(release);
      const inWrite = how === "hang-in-write";
      await this.#call(() => this.#remote.hang(release, inWrite)).catch(() => {});
      if (!inWrite) await this.hangReached("spinning");
    } else await worker.terminate();
  }

  /** Resolves once the last injected hang spins, or has ended (`endHangs()`). */
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
  readonly #ended: SharedArrayBuffer[] = [];
  readonly #hangs: SharedArrayBuffer[] = [];

  /** Ends every loop `crashWorker("hang")` started: a hang that passes, as a slow step would. */
  endHangs(): void {
    for (const release of this.#hangs.splice(0)) {
      Atomics.store(new Int32Array(release), 0, 1);
      this.#ended.push(release);
    }
  }

  /** The hung-worker watchdog (src/transport/watchdog.ts); tests drive its clock and `poll()`. */
  readonly watchdog: Watchdog;
  #watchTimer: ReturnType<typeof setInterval> | undefined;
  readonly #releaseLock: (() => void) | null;
  // Ends the current worker as hung: terminate() and the same path as an exit.
  #endHung: (why: Error) => void = () => {};
  // RPCs in flight and answered: a message worker's only sign of life.
  #calls = 0;
  #answered = 0;

  #sample(): WorkSample {
    const waiting = this.#calls > 0;
    if (this.mode !== "sab") return { waiting, progress: this.#answered };
    const rings = ringSample(this.#control, this.#init.rings.map((r) => r.buffer));
    return { waiting: waiting || rings.waiting, progress: (rings.progress + this.#answered) | 0 };
  }

  #replaceHung(stalledMs: number): void {
    const why = new Error(
      `The flightlog worker made no progress for ${
        Math.round(stalledMs)
      } ms while events waited (hung past hungAfterMs ${this.watchdog.hungAfterMs} ms); it was terminated`,
    );
    // Each hung thread may spin until the process exits: stop replacing them.
    if (++this.#hungWorkers > MAX_HUNG_WORKERS) {
      this.#giveUp(
        new Error(
          `The flightlog worker hung ${this.#hungWorkers} times; it is not replaced again, so this logger drops (and counts) every event from now on: ${why.message}`,
          { cause: why },
        ),
      );
    }
    this.#endHung(why);
  }
  #hungWorkers = 0;

  readonly #spill: ReturnType<typeof runtime.openSpill>;
  readonly #stopWatching: () => void;
  // Batches earlier pages spilled into localStorage, until this page's worker stored them.
  #claimed: PendingBatch[];
  // Where the producer was at the last spill (ring HEAD, or batch and fill): unchanged, none again.
  #spilledAt = "";

  // The page is going away: write what the worker has not committed where
  // the next page finds it (docs/browser.md "Page lifecycle"). At
  // beforeunload (`final` false) a copy, as the page may stay after all; at
  // pagehide the unposted records are taken, so no later flush posts them.
  #spillBatch(spill: NonNullable<ReturnType<typeof runtime.openSpill>>, final: boolean): void {
    if (this.#closing !== null) return;
    const at = this.producer instanceof RingProducer
      ? String(this.producer.head())
      : (this.producer as BatchProducer).position();
    if (at === this.#spilledAt) return; // nothing logged since the last spill, which had it all
    this.#spilledAt = at;
    const batches = [...this.#claimed];
    let unposted: Uint8Array | null = null;
    if (this.#failure !== null) {
      // Given up: what it logged is counted as dropped, not spilled.
    } else if (this.producer instanceof RingProducer) {
      const ring = this.producer;
      const definitions = this.definitions ?? (() => undefined);
      const batch = spillRing(ring.buffer, ring.head(), definitions);
      if (batch !== null) {
        const { emitted, dropped } = ring.counters();
        batches.push({ producer: this.producerId, bytes: batch.bytes, emitted, dropped });
      }
    } else {
      const producer = this.producer as BatchProducer;
      const taken = producer.forSpill(final);
      if (taken !== null) {
        unposted = taken.unposted;
        const { emitted, dropped } = producer.counters();
        batches.push({ producer: this.producerId, bytes: taken.bytes, emitted, dropped });
      }
    }
    if (spill.write(batches, lossBatch) === null && final && unposted !== null) {
      (this.producer as BatchProducer).restore(unposted); // the flush that follows posts it
    }
  }

  // Races a call to the worker against its death, so nothing waits forever.
  async #call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#failure !== null) throw this.#failure;
    const release = this.#worker.hold();
    this.#calls++;
    try {
      return await Promise.race([fn(), this.#dead]);
    } finally {
      this.#calls--;
      this.#answered++;
      release();
    }
  }

  async #ingest(
    bytes: Uint8Array,
    emitted: number,
    dropped: number,
  ): Promise<{ persisted: number; internal: number; lost: number }> {
    // Copied, not transferred: the producer keeps the batch until it is acknowledged.
    return await this.#call(() => this.#remote.ingest(this.producerId, bytes, emitted, dropped));
  }

  async flush(durable: boolean): Promise<void> {
    if (this.#closing !== null) throw new LoggerClosedError("The logger is closed");
    for (let attempt = 0;; attempt++) {
      const worker = this.#worker;
      try {
        await this.#ready;
        if (this.producer instanceof BatchProducer) await this.producer.post();
        await this.#call(() => this.#remote.flush(durable));
        break;
      } catch (err) {
        // A store error (the worker lives on): stats().error says it until the next one.
        if (this.#failure === null && this.#worker === worker && err instanceof Error) {
          this.#storeError = err.message;
        }
        // The worker died during the call and a new one took over the same
        // rings: ask the new one (what it must store is still in the ring).
        if (this.#failure !== null) throw this.#failure;
        if (this.#worker === worker || attempt >= 3) throw err;
      }
    }
    const loss = this.#crashLoss;
    if (loss !== null) {
      this.#crashLoss = null;
      throw loss;
    }
  }

  async query(filter: QueryFilter): Promise<QueryPage> {
    await this.flush(false);
    return await this.#call(() => this.#remote.query(filter));
  }

  async getFlowLog(flowId: string): Promise<FlowLog> {
    await this.flush(false);
    const log = await this.#call<FlowLog | PackedFlowLog>(() => this.#remote.getFlowLog(flowId));
    return isPackedFlowLog(log) ? unpackFlowLog(log) : log;
  }

  // Not a flush: the worker reads the ring fill as the producers left it, then drains.
  async metrics(): Promise<string | null> {
    if (this.#closing !== null) throw new LoggerClosedError("The logger is closed");
    await this.#ready;
    if (this.producer instanceof BatchProducer) await this.producer.post();
    return await this.#call(() => this.#remote.metrics());
  }

  producerHandle(level: LevelName, encoder: Encoder): ProducerHandle {
    if (this.mode !== "sab" || !isShared(this.#control)) {
      throw new TypeError(
        'producerHandle() needs the "sab" transport (SharedArrayBuffer and a worker)',
      );
    }
    if (this.#closing !== null) throw new LoggerClosedError("The logger is closed");
    const producer = `${this.#instance}.${this.#nextProducer++}`;
    // Mirrored: its producer cannot hand its definitions over at a restart.
    const ring = createRingBuffer(this.producer.capacity, true, true) as SharedArrayBuffer;
    // A restarted worker gets this ring too.
    this.#init.rings.push({ producer, buffer: ring });
    // Events written before the worker registers the ring wait in it.
    this.#call(() => this.#remote.addRing(producer, ring)).catch(() => {});
    return {
      kind: "flightlog-producer",
      producer,
      ring,
      control: this.#control,
      level,
      limits: encoder.limits,
    };
  }

  state(): "starting" | "running" | "failed" | "closed" {
    if (this.#failure !== null) return "failed";
    return consumerState(this.#control32);
  }

  error(): string | null {
    return this.#failure?.message ?? this.#storeError;
  }

  evicted(): number {
    return this.#evicted;
  }

  // The worker's notices (src/worker/api.ts WorkerNotice): stats() stays synchronous.
  readonly #onNotice = (ev: MessageEvent<WorkerNotice | undefined>): void => {
    const notice = ev.data;
    if (notice?.type !== "flightlog-notice") return;
    this.#answered++; // progress, for the watchdog: the worker's event loop runs
    if (notice.error !== null) this.#storeError = notice.error;
    this.#evicted += notice.evicted;
  };
  #storeError: string | null = null;
  #evicted = 0;

  // Exit path: the main thread may block here (Deno), so wait for the worker's
  // acknowledgement until `deadline`. A dead worker is not waited for.
  #flushSync(deadline: number): void {
    if (this.#failure !== null || this.#closing !== null) return;
    this.producer.wake(); // publishes HEAD
    if (this.producer instanceof BatchProducer) {
      void this.producer.post();
      return;
    }
    const c = this.#control32;
    const req = Atomics.add(c, FLUSH_REQ, 1) + 1;
    Atomics.store(c, SLEEPING, 0);
    Atomics.notify(c, SLEEPING);
    for (;;) {
      const ack = Atomics.load(c, FLUSH_ACK);
      if (ack - req >= 0) return;
      if (Atomics.load(c, STATE) >= ConsumerState.failed) {
        // The store could not open and the process ends before ready() could say so.
        const why = this.#init.failure === undefined ? null : startFailure(this.#init.failure);
        if (why !== null) this.#giveUp(new Error(why));
        return;
      }
      const left = deadline - performance.now();
      if (left <= 0) return;
      try {
        Atomics.wait(c, FLUSH_ACK, ack, left);
      } catch {
        return; // this thread may not wait
      }
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#removeExitHook();
    this.#stopWatching();
    this.#spill?.close();
    let err: unknown = null;
    try {
      if (this.#failure === null) {
        if (this.producer instanceof BatchProducer) await this.producer.post();
        await this.#call(() => this.#remote.close());
      }
    } catch (e) {
      err = e;
    } finally {
      if (this.producer instanceof BatchProducer) this.producer.dispose();
      this.#remote[Comlink.releaseProxy]();
      await this.#worker.terminate();
      clearInterval(this.#watchTimer);
      this.watchdog.stop();
      this.#releaseLock?.();
      // A thread hung by crashWorker("hang") may end now; it was retired long ago.
      this.endHangs();
    }
    if (err !== null && this.#failure === null) throw err;
  }
}

/**
 * The postMessage producer: records are appended to a private buffer and
 * posted as one batch per `intervalMs`. Bytes posted but not yet acknowledged
 * count against the capacity, so memory stays bounded when the worker lags;
 * the producer keeps them (the pagehide spill writes them) until the worker
 * acknowledges them, once IndexedDB committed them.
 */
export class BatchProducer implements Producer {
  readonly capacity: number;
  readonly data: Uint8Array = new Uint8Array(0);
  readonly view: DataView = new DataView(new ArrayBuffer(0));
  /** Advances with each posted batch: a batch defines the bindings it uses. */
  epoch = 1;
  #buf: Uint8Array;
  #fill = 0;
  #inflight = 0;
  #emitted = 0;
  #dropped = 0;
  #persisted = 0;
  #internal = 0;
  #lost = 0;
  #crashLost = 0;
  // Counts acknowledged by workers that have since died; `#gen` numbers the workers.
  readonly #base = { persisted: 0, internal: 0, lost: 0 };
  #gen = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #intervalMs: number;
  readonly #send: (
    bytes: Uint8Array,
    emitted: number,
    dropped: number,
  ) => Promise<{ persisted: number; internal: number; lost: number }>;
  #posting: Promise<void> = Promise.resolve();
  // Posted and not acknowledged, oldest first.
  readonly #unacked: Uint8Array[] = [];

  constructor(
    capacity: number,
    intervalMs: number,
    send: (
      bytes: Uint8Array,
      emitted: number,
      dropped: number,
    ) => Promise<{ persisted: number; internal: number; lost: number }>,
  ) {
    this.capacity = capacity;
    this.#buf = new Uint8Array(capacity);
    this.#intervalMs = intervalMs;
    this.#send = send;
  }

  reserve(_max: number): number {
    return -1;
  }

  commit(_len: number): void {}

  hasRoom(n: number): boolean {
    return this.#inflight + this.#fill + n <= this.capacity;
  }

  write(src: Uint8Array, len: number): boolean {
    const need = align4(len);
    if (this.#inflight + this.#fill + need > this.capacity) return false;
    const buf = this.#buf;
    const at = this.#fill;
    if (len <= 64) { for (let i = 0; i < len; i++) buf[at + i] = src[i]!; }
    else buf.set(src.subarray(0, len), at);
    this.#fill = at + need;
    // The first record of a batch starts the batching timer: nothing waits for a flush.
    if (this.#timer === undefined) this.wake();
    return true;
  }

  wake(): void {
    if (this.#timer === undefined) {
      const timer = setTimeout(() => {
        this.#timer = undefined;
        void this.post();
      }, this.#intervalMs);
      runtime.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** Posts the buffered records now; resolves when the worker has stored them. */
  post(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#fill === 0) return this.#posting;
    const n = this.#fill;
    const bytes = this.#buf.slice(0, n);
    this.#fill = 0;
    this.epoch++;
    this.#inflight += n;
    this.#unacked.push(bytes);
    const gen = this.#gen;
    let users = 0;
    walkRecords(bytes, n, 0, 0x40000000, (b, start) => {
      if ((b[start + 13]! & (FLAG_INTERNAL | FLAG_BINDINGS)) === 0) users++;
    });
    const p = this.#send(bytes, this.#emitted, this.#dropped).then((ack) => {
      this.#persisted = ack.persisted;
      this.#internal = ack.internal;
      this.#lost = ack.lost;
    }, (err) => {
      // The worker died with the batch (docs/internals.md "Worker restart"): its
      // user events are lost, and counted, so emitted = persisted + dropped;
      // the next worker counts from zero, on top of what this one acknowledged.
      this.#crashLost += users;
      if (gen === this.#gen) this.rebase();
      throw err;
    }).finally(() => {
      this.#inflight -= n;
      const i = this.#unacked.indexOf(bytes);
      if (i >= 0) this.#unacked.splice(i, 1);
    });
    this.#posting = p.catch(() => {});
    return p;
  }

  /**
   * A new worker took over: it counts from zero, on top of what the dead one
   * acknowledged. Idempotent per worker.
   */
  rebase(): void {
    this.#gen++;
    this.#base.persisted += this.#persisted;
    this.#base.internal += this.#internal;
    this.#base.lost += this.#lost;
    this.#persisted = this.#internal = this.#lost = 0;
  }

  publish(emitted: number, dropped: number): void {
    this.#emitted = emitted;
    this.#dropped = dropped;
  }

  /**
   * For the unload spill: the batches posted and not acknowledged, then the
   * records not posted yet (with `take`, taken out: no later flush posts
   * them), end to end; null when there are none.
   */
  forSpill(take: boolean): { bytes: Uint8Array; unposted: Uint8Array | null } | null {
    const unposted = this.#fill === 0 ? null : this.#buf.slice(0, this.#fill);
    if (take) this.#fill = 0;
    const parts = unposted === null ? this.#unacked : [...this.#unacked, unposted];
    if (parts.length === 0) return null;
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    return { bytes, unposted };
  }

  /** Where the producer is: changes with each record written and each batch posted. */
  position(): string {
    return `${this.epoch}:${this.#fill}`;
  }

  /**
   * The worker was given up: the user events not posted yet can never be
   * stored, so they are counted as lost (dropped) and the buffer is emptied.
   */
  abandon(): void {
    if (this.#fill === 0) return;
    const bytes = this.#buf.subarray(0, this.#fill);
    walkRecords(bytes, bytes.length, 0, 0x40000000, (b, start) => {
      if ((b[start + 13]! & (FLAG_INTERNAL | FLAG_BINDINGS)) === 0) this.#crashLost++;
    });
    this.#fill = 0;
  }

  /** Puts back the records {@linkcode BatchProducer.forSpill} took (the buffer is still empty). */
  restore(bytes: Uint8Array): void {
    this.#buf.set(bytes, 0);
    this.#fill = bytes.length;
  }

  counters(): RingCounters {
    return {
      emitted: this.#emitted,
      dropped: this.#dropped,
      persisted: this.#base.persisted + this.#persisted,
      internal: this.#base.internal + this.#internal,
      lost: this.#base.lost + this.#lost + this.#crashLost,
    };
  }

  used(): number {
    return this.#fill + this.#inflight;
  }

  waitForSpace(_ms: number): boolean {
    return false;
  }

  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

class InlineTransport implements Transport {
  readonly mode = "inline" as const;
  readonly producer: RingProducer;
  readonly producerId: string;
  readonly canBlock = false;
  readonly #consumer: Consumer;
  readonly #observers: Observers | null;
  readonly #control: Int32Array;
  readonly #intervalMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #failure: Error | null = null;
  readonly #removeExitHook: () => void;
  publishCounters: (() => void) | undefined = undefined;
  settleDrops: (() => boolean) | undefined = undefined;

  constructor(config: Extract<TransportConfig, { mode: "auto" | "sab" | "message" | "inline" }>) {
    // The store first: where none can be opened (browsers), nothing else is built.
    let store: ReturnType<typeof runtime.openStore>;
    try {
      store = runtime.openStore(config.dir, {
        ...config.store,
        onEvict: (records) => {
          for (const r of records) this.#evicted += r.eventCount;
        },
      });
    } catch (err) {
      if (err instanceof TypeError) throw err; // no store here at all (a browser)
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(
        `Cannot open the flightlog store in "${config.dir}": ${why}; give option dir a writable directory`,
        { cause: err },
      );
    }
    this.producerId = `${newInstanceId()}.0`;
    const control = createControlBuffer(false);
    this.#control = new Int32Array(control);
    const ring = createRingBuffer(config.ringBytes, false);
    this.producer = new RingProducer(ring, control);
    this.#intervalMs = config.flushIntervalMs;
    this.#consumer = new Consumer(store, control);
    this.#consumer.addRing(this.producerId, ring);
    this.#observers = installObservers(this.#consumer, config.observe, runtime.writeConsole);
    // The consumer "sleeps" until the first write; a write then schedules one drain.
    Atomics.store(this.#control, SLEEPING, 1);
    this.producer.onWake = () => this.#schedule();
    this.#removeExitHook = config.exitHooks
      ? runtime.addExitHook(() => flushAtExit(this, () => this.#drain()))
      : () => {};
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.#drain();
    }, this.#intervalMs);
    runtime.unrefTimer(timer);
    this.#timer = timer;
  }

  #drain(): void {
    if (this.#closed) return;
    try {
      this.#consumer.drain();
    } catch (err) {
      this.#failure = err instanceof Error ? err : new Error(String(err));
    }
    Atomics.store(this.#control, SLEEPING, 1);
  }

  flush(durable: boolean): Promise<void> {
    if (this.#closed) return Promise.reject(new LoggerClosedError("The logger is closed"));
    try {
      this.#consumer.flush(durable);
      Atomics.store(this.#control, SLEEPING, 1);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  query(filter: QueryFilter): Promise<QueryPage> {
    if (this.#closed) return Promise.reject(new LoggerClosedError("The logger is closed"));
    try {
      return Promise.resolve(this.#consumer.query(filter));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  getFlowLog(flowId: string): Promise<FlowLog> {
    if (this.#closed) return Promise.reject(new LoggerClosedError("The logger is closed"));
    try {
      return Promise.resolve(this.#consumer.getFlowLog(flowId));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async metrics(): Promise<string | null> {
    await this.#observers?.ready;
    if (this.#closed) throw new LoggerClosedError("The logger is closed");
    const observers = this.#observers;
    if (observers === null) return null;
    const counters = scrapeCounters(this.#consumer); // ring fill before the drain
    this.#drain();
    return observers.metricsText(counters);
  }

  producerHandle(): ProducerHandle {
    throw new TypeError(
      'producerHandle() needs the "sab" transport (SharedArrayBuffer and a worker)',
    );
  }

  state(): "running" | "failed" | "closed" {
    return this.#closed ? "closed" : this.#failure !== null ? "failed" : "running";
  }

  error(): string | null {
    return this.#failure?.message ?? null;
  }

  evicted(): number {
    return this.#evicted;
  }
  #evicted = 0;

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#removeExitHook();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      this.#consumer.close();
    } catch (err) {
      return Promise.reject(err);
    } finally {
      this.#closed = true;
    }
    return Promise.resolve();
  }
}

class AttachedTransport implements Transport {
  readonly mode = "attached" as const;
  readonly producer: RingProducer;
  readonly producerId: string;
  readonly canBlock: boolean;
  readonly #control: Int32Array;
  #closed = false;

  constructor(handle: ProducerHandle) {
    this.producerId = handle.producer;
    this.producer = new RingProducer(handle.ring, handle.control);
    this.#control = new Int32Array(handle.control);
    this.#ring = new Int32Array(handle.ring, 0, HEADER_BYTES / 4);
    this.canBlock = runtime.canWait();
  }

  readonly #ring: Int32Array;

  // The handle is made before the worker has registered its ring (an RPC):
  // until then a flush would be acknowledged without this ring being drained.
  async #registered(): Promise<void> {
    const c = this.#control;
    while (Atomics.load(this.#ring, REGISTERED) === 0) {
      if (Atomics.load(c, STATE) >= ConsumerState.failed) {
        throw new LoggerClosedError("The flightlog worker is not running");
      }
      const r = Atomics.waitAsync(this.#ring, REGISTERED, 0, 100);
      if (r.async) {
        // A pending waitAsync does not keep the event loop alive; a timer does.
        const keepAlive = setTimeout(() => {}, 100);
        await r.value;
        clearTimeout(keepAlive);
      }
    }
  }

  async flush(durable: boolean): Promise<void> {
    if (this.#closed) throw new LoggerClosedError("The logger is closed");
    await this.#registered();
    this.producer.wake(); // publishes HEAD
    const c = this.#control;
    if (durable) Atomics.store(c, DURABLE, 1);
    const req = Atomics.add(c, FLUSH_REQ, 1) + 1;
    Atomics.store(c, SLEEPING, 0);
    Atomics.notify(c, SLEEPING);
    for (;;) {
      const ack = Atomics.load(c, FLUSH_ACK);
      if (ack - req >= 0) return;
      if (Atomics.load(c, STATE) >= ConsumerState.failed) {
        throw new LoggerClosedError("The flightlog worker is not running");
      }
      const r = Atomics.waitAsync(c, FLUSH_ACK, ack, 1000);
      if (r.async) {
        // A pending waitAsync does not keep the event loop alive; a timer does.
        const keepAlive = setTimeout(() => {}, 1000);
        await r.value;
        clearTimeout(keepAlive);
      }
    }
  }

  query(): Promise<QueryPage> {
    return Promise.reject(
      new TypeError(
        "query() is answered by the logger that made the handle, not by an attached one",
      ),
    );
  }

  getFlowLog(): Promise<FlowLog> {
    return Promise.reject(
      new TypeError(
        "getFlowLog() is answered by the logger that made the handle, not by an attached one",
      ),
    );
  }

  metrics(): Promise<string | null> {
    return Promise.reject(
      new TypeError(
        "metrics() is answered by the logger that made the handle, not by an attached one",
      ),
    );
  }

  producerHandle(): ProducerHandle {
    throw new TypeError(
      "producerHandle() is available on the logger that owns the store, not on an attached one",
    );
  }

  state(): "starting" | "running" | "failed" | "closed" {
    return consumerState(this.#control);
  }

  error(): string | null {
    return null;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush(false).catch(() => {});
    this.#closed = true;
    this.producer.close();
  }
}
