/**
 * The worker transports: `"sab"` (a SharedArrayBuffer ring drained by a
 * worker, the fast path) and `"message"` (records batched in a private
 * buffer and posted to the worker: no SharedArrayBuffer, e.g. a page that is
 * not cross-origin isolated). The transport starts the worker, watches it
 * (src/transport/watchdog.ts), replaces it when it dies or hangs
 * (docs/internals.md "Worker restart"), and gives it up past its budget.
 *
 * @module
 */
import * as Comlink from "comlink/dist/esm/comlink.mjs";
import {
  addLost,
  ConsumerState,
  createControlBuffer,
  createRingBuffer,
  FLUSH_ACK,
  GENERATION,
  RESUME,
  RingProducer,
  STATE,
} from "../wire/ring.ts";
import type { DefinitionRecord } from "../wire/sab_spill.ts";
import type { Encoder } from "../wire/codec.ts";
import type { LevelName } from "../level.ts";
import type { FlowLog, QueryFilter, QueryPage } from "../query/types.ts";
import type { FlowPage, ListFlowsOptions } from "../query/flow_list.ts";
import type { NodeStatsFilter, NodeStatsRow } from "../query/node_stats.ts";
import type { WorkerApi, WorkerInit, WorkerNotice } from "../worker/api.ts";
import type { SinkStats } from "../sinks/sink.ts";
import { isPackedFlowLog, type PackedFlowLog, unpackFlowLog } from "../worker/packed_flow_log.ts";
import { FAILURE_BYTES, startFailure, WorkerStartError } from "../worker/start_failure.ts";
import { readUplinkStats, UPLINK_STAT_NAMES, type UplinkStats } from "../uplink/options.ts";
import type { Platform, WorkerHandle } from "../platform/types.ts";
import {
  BindingsHandover,
  eventsLostInCrash,
  RestartBudget,
  START_ATTEMPTS,
} from "./supervisor.ts";
import { MAX_HUNG_WORKERS, ringSample, Watchdog, type WorkSample } from "./watchdog.ts";
import { BatchProducer } from "./batch_producer.ts";
import { UnloadSpill } from "./unload_spill.ts";
import type { ProducerHandle } from "./handle.ts";
import {
  consumerState,
  flushAtExit,
  LoggerClosedError,
  newInstanceId,
  oneLine,
  type OwnStoreConfig,
  type Producer,
  requestFlush,
  type Transport,
} from "./types.ts";

/**
 * What a worker transport is built on besides its configuration: injected,
 * so that tests reach its worker (through the platform) and drive its
 * watchdog (src/transport/_testing.ts).
 */
export interface WorkerTransportDeps {
  platform: Platform;
  /**
   * The watchdog's monotonic clock, in ms.
   * @default {performance.now}
   */
  clock?: () => number;
  /** Called after each restart of the worker, with the error that ended the old one. */
  onRestart?: (why: Error) => void;
  /** Called once with the hung-worker watchdog and the sample it judges. */
  onWatchdog?: (watchdog: Watchdog, sample: () => WorkSample) => void;
}

/** Statically checked `instanceof SharedArrayBuffer` that works where it is undefined. */
function isShared(buf: ArrayBufferLike): buf is SharedArrayBuffer {
  return typeof SharedArrayBuffer === "function" && buf instanceof SharedArrayBuffer;
}

/** The `"sab"` and `"message"` transports; see the module doc. */
export class WorkerTransport implements Transport {
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
  #worker!: WorkerHandle;
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
  sinkStats?: () => SinkStats[];
  // The sinks' counters as the current worker last reported them, and the
  // sum of the workers before it (a restarted worker counts from zero).
  #sinksNow: SinkStats[] = [];
  #sinksBefore: SinkStats[] = [];
  bindingsSource: (() => Uint8Array) | undefined = undefined;
  definitions?: (id: number) => DefinitionRecord | undefined;
  readonly #platform: Platform;
  readonly #onRestart: (why: Error) => void;

  constructor(config: OwnStoreConfig, mode: "sab" | "message", deps: WorkerTransportDeps) {
    const platform = deps.platform;
    this.#platform = platform;
    this.#onRestart = deps.onRestart ?? (() => {});
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
    try {
      this.#releaseLock = platform.lockStore(config.dir);
    } catch (err) {
      // Another writer holds it: the worker meets the same lock and fails, and
      // this logger gives up with this error, so flush() rejects with its class.
      this.#releaseLock = null;
      this.#lockedOut = err instanceof Error ? err : new Error(String(err));
    }
    if (this.#releaseLock !== null) init.lockHeld = true;
    const sample = () => this.#sample();
    this.#watchdog = new Watchdog(sample, (ms) => this.#replaceHung(ms), {
      ...(config.hungAfterMs === undefined ? {} : { hungAfterMs: config.hungAfterMs }),
      ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    });
    deps.onWatchdog?.(this.#watchdog, sample);
    if (config.observe !== undefined) init.observe = config.observe;
    if (config.sinks !== undefined && config.sinks.length > 0) {
      init.sinks = config.sinks;
      const sinks = config.sinks;
      this.#sinksNow = sinks.map((s) => emptySinkStats(s.module));
      this.#sinksBefore = sinks.map((s) => emptySinkStats(s.module));
      this.sinkStats = () =>
        this.#sinksNow.map((now, i) => addSinkStats(this.#sinksBefore[i]!, now));
    }
    this.#init = init;
    if (shared) {
      init.failure = new SharedArrayBuffer(FAILURE_BYTES);
      const ring = createRingBuffer(config.ringBytes, true) as SharedArrayBuffer;
      init.rings.push({ producer: this.producerId, buffer: ring });
      this.producer = new RingProducer(ring, this.#control);
      this.canBlock = platform.canWait();
    } else {
      this.producer = new BatchProducer(
        config.ringBytes,
        config.flushIntervalMs,
        (bytes, emitted, dropped) => this.#ingest(bytes, emitted, dropped),
        platform.unrefTimer,
      );
      this.canBlock = false;
    }
    if (config.uplink !== undefined) {
      // The worker mirrors the uplink's counters here, so stats() stays synchronous.
      const buffer = platform.hasSharedMemory()
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
    const spill = config.exitHooks ? platform.openSpill(config.dir) : null;
    const unload = spill === null
      ? null
      : new UnloadSpill(spill, this.producer, this.producerId, (id) => this.definitions?.(id));
    this.#unload = unload;
    if (unload !== null && unload.claimed.length > 0) init.spilled = unload.claimed;
    this.#start(init);
    if (this.#watchdog.hungAfterMs > 0) {
      // Cold path: a few atomic loads per tick, never a log call's work
      // (bench/watchdog_bench.ts "watchdog"); at most one tick per 10 ms.
      const every = Math.max(10, this.#watchdog.hungAfterMs / 4);
      const timer = setInterval(() => this.#watchdog.poll(), every);
      platform.unrefTimer(timer);
      this.#watchTimer = timer;
    }
    this.#removeExitHook = config.exitHooks
      ? platform.addExitHook(
        () => {
          // One bound for the exit, even when the open drop burst's record needs two flushes.
          const deadline = performance.now() + this.#exitTimeoutMs;
          flushAtExit(this, () => this.#flushSync(deadline));
        },
        unload === null ? undefined : () => this.#spill(true),
      )
      : () => {};
    // Until the worker is ready, also at beforeunload (src/platform/browser.ts watchLeaving).
    this.#stopWatching = unload === null
      ? () => {}
      : platform.watchLeaving(() => this.#spill(false));
    this.#ready.then(() => this.#stopWatching(), () => this.#stopWatching());
  }

  #start(init: WorkerInit): void {
    const worker = this.#platform.startWorker(init, this.#workerUrl);
    this.#worker = worker;
    worker.endpoint.addEventListener("message", this.#onNotice as EventListener);
    if (this.sinkStats !== undefined) {
      const onSinks = (ev: MessageEvent<WorkerNotice | undefined>): void => {
        const sinks = ev.data?.type === "flightlog-notice" ? ev.data.sinks : undefined;
        // A late notice of a replaced worker would count its sinks twice.
        if (sinks?.length === this.#sinksNow.length && this.#worker === worker) {
          this.#sinksNow = sinks;
        }
      };
      worker.endpoint.addEventListener("message", onSinks as EventListener);
    }
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
      this.#watchdog.stop();
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
        this.#unload?.claimedStored();
        delete this.#init.spilled;
      }
      if (res !== null) {
        this.#giveUp(this.#lockedOut ?? new Error(res));
      } else if (init.restarted === true && this.#worker === worker) {
        this.#countCrashLoss();
        Atomics.store(this.#control32, RESUME, 1);
        Atomics.notify(this.#control32, RESUME);
      }
      if (res === null && this.#worker === worker && !ended) this.#watchdog.watch();
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
    this.#sinksBefore = this.#sinksNow.map((now, i) => addSinkStats(this.#sinksBefore[i]!, now));
    this.#sinksNow = this.#sinksNow.map((s) => emptySinkStats(s.module));
    const rings = this.#init.rings.map((r) => ({ ...r }));
    const own = rings[0];
    if (own !== undefined && own.producer === this.producerId) {
      const current = this.bindingsSource?.() ?? new Uint8Array(0);
      this.producer.wake(); // publishes HEAD
      own.bindings = this.#handover.take(own.buffer, current);
    }
    if (this.producer instanceof BatchProducer) this.producer.rebase();
    this.#start({ ...this.#init, rings, restarted: true, generation });
    this.#onRestart(why);
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
      addLost(own.buffer, lost);
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
        if (waiting > 0) addLost(own.buffer, waiting);
      }
    }
    this.#rejectDead(why);
    this.#platform.writeConsole("stderr", `${why.message}\n`);
  }

  /** Set by the front end: every later log call is dropped and counted (see #giveUp). */
  stopProducing: (() => void) | undefined = undefined;
  settleDrops: (() => boolean) | undefined = undefined;
  publishCounters: (() => void) | undefined = undefined;

  readonly #handover = new BindingsHandover();

  /** The hung-worker watchdog (src/transport/watchdog.ts). */
  readonly #watchdog: Watchdog;
  #watchTimer: ReturnType<typeof setInterval> | undefined;
  readonly #releaseLock: (() => void) | null;
  // The lock refusal met on this thread (src/platform/types.ts lockStore), if any.
  #lockedOut: Error | null = null;
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
      } ms while events waited (hung past hungAfterMs ${this.#watchdog.hungAfterMs} ms); it was terminated`,
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

  readonly #unload: UnloadSpill | null;
  readonly #stopWatching: () => void;

  // The page is going away (src/transport/unload_spill.ts).
  #spill(final: boolean): void {
    if (this.#closing === null) this.#unload?.write(final, this.#failure !== null);
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

  async listFlows(options: ListFlowsOptions | undefined): Promise<FlowPage> {
    await this.flush(false);
    return await this.#call(() => this.#remote.listFlows(options));
  }

  async nodeStats(filter: NodeStatsFilter | undefined): Promise<NodeStatsRow[]> {
    await this.flush(false);
    return await this.#call(() => this.#remote.nodeStats(filter));
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
    const req = requestFlush(c);
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
    this.#unload?.close();
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
      this.#watchdog.stop();
      this.#releaseLock?.();
    }
    if (err !== null && this.#failure === null) throw err;
  }
}

function emptySinkStats(module: string): SinkStats {
  return { module, delivered: 0, dropped: 0, errors: 0, queued: 0, error: null };
}

// A restarted worker's counters on top of its predecessors'; its queue is its own.
function addSinkStats(before: SinkStats, now: SinkStats): SinkStats {
  return {
    module: now.module,
    delivered: before.delivered + now.delivered,
    dropped: before.dropped + now.dropped,
    errors: before.errors + now.errors,
    queued: now.queued,
    error: now.error ?? before.error,
  };
}
