/**
 * The front end: `createLogger()` and the synchronous level methods.
 *
 * A level method encodes the event into a private scratch buffer, copies it
 * into this thread's ring and returns. It never throws, never blocks (except
 * under the opt-in `"block"` overflow policy, where waiting is allowed), and
 * allocates nothing for primitive fields beyond what the caller passed.
 *
 * @module
 */
import {
  DEFAULT_LIMITS,
  Encoder,
  type Limits,
  MAX_DECODE_DEPTH,
  MIN_RECORD_BYTES,
} from "../wire/codec.ts";
import { isLevelName, type LevelName, parseLevel, SEVERITY } from "../level.ts";
import { FLAG_INTERNAL, ringCapacity, type RingCounters } from "../wire/ring.ts";
import { INTERNAL_EVENTS } from "../event.ts";
import type { FlowLog, QueryFilter, QueryPage } from "../query/types.ts";
import {
  openTransport,
  type Producer,
  type Transport,
  type TransportMode,
} from "../transport/open.ts";
import { type ContextFrame, contextState, currentFrame } from "./context.ts";
import { defaultRedactor, getRedactor, type RedactOptions, type Redactor } from "../redact.ts";
import type { ConsoleOptions, MetricsOptions } from "../worker/observers.ts";
import {
  metricsUrlOf,
  observeSetup,
  registerMetricsServer,
  startMetricsServer,
  stopMetricsServer,
} from "../sinks/setup.ts";
import type { StoreOptions } from "../store/options.ts";
import type { ProducerHandle } from "../transport/handle.ts";
import { resolveUplinkOptions, type UplinkOptions, type UplinkStats } from "../uplink/options.ts";

/** Fields of an event: correlation ids and anything else worth recording. */
export type Fields = Record<string, unknown>;

/** A level method: synchronous, returns nothing, never throws. */
export type LogMethod = (event: string, fields?: Fields) => void;

/** Information passed to {@linkcode LoggerOptions.onDrop}. */
export interface DropInfo {
  /** Events dropped in the current burst so far. */
  count: number;
  /** Time of the burst's first drop (ms since the epoch). */
  since_ms: number;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /**
   * Directory of the store (created if missing).
   * @default {".flightlog"}
   */
  dir?: string;
  /**
   * Least severe level recorded; calls below it cost about an empty call.
   * @default {"info"}
   */
  level?: LevelName;
  /**
   * Bytes of this thread's ring, rounded up to a power of two (at least four
   * times `limits.maxRecordBytes`).
   * @default {1048576}
   */
  ringBytes?: number;
  /**
   * What a log call does when the ring is full: `"drop"` drops the event and
   * counts it; `"block"` waits up to `blockTimeoutMs` for space, then drops.
   * `"block"` is refused where the thread may not wait (a browser main thread).
   * @default {"drop"}
   */
  overflow?: "drop" | "block";
  /**
   * Longest wait of one log call under the `"block"` policy.
   * @default {100}
   */
  blockTimeoutMs?: number;
  /**
   * Called (synchronously, guarded) for each dropped event. Keep it cheap.
   */
  onDrop?: (info: DropInfo) => void;
  /**
   * How events reach the store. `"auto"` picks `"sab"` when
   * `SharedArrayBuffer` and workers are available, else `"message"` when
   * workers are, else `"inline"`.
   * @default {"auto"}
   */
  transport?: "auto" | "sab" | "message" | "inline";
  /** Bounds on one event; see `src/wire/codec.ts`. */
  limits?: Partial<Limits>;
  /** Segment rotation and retention. */
  store?: StoreOptions;
  /**
   * Wall clock in ms since the epoch (fractional allowed). Injected by tests;
   * pass `() => performance.timeOrigin + performance.now()` for sub-millisecond
   * timestamps at about 45 ns more per event.
   * @default {Date.now}
   */
  clock?: () => number;
  /**
   * Flush synchronously at process exit (end of script, `Deno.exit()`, uncaught
   * exception, unhandled rejection, SIGINT, SIGTERM), with the `log.dropped`
   * record of a drop burst still open. After the flush on SIGINT or SIGTERM the
   * process exits with code 130 or 143, unless the application listens to that
   * signal itself (`Deno.addSignalListener` or `process.on`, from the time
   * flightlog was imported): then exiting is left to the application.
   * @default {true}
   */
  exitHooks?: boolean;
  /**
   * Longest wait of the synchronous exit flush for the worker.
   * @default {1000}
   */
  exitTimeoutMs?: number;
  /**
   * In-thread and postMessage modes: delay before buffered events are handed on.
   * @default {10}
   */
  flushIntervalMs?: number;
  /**
   * A store worker that makes no progress for this long while events or a
   * request wait for it is hung: it is terminated and replaced like one that
   * crashed (docs/internals.md "Watchdog"). Checked on a timer, never in a log
   * call; 0 turns the watchdog off; the `"inline"` transport has no worker
   * to watch. Raise it if one query or fsync of your store can take that long.
   * @default {2000}
   */
  hungAfterMs?: number;
  /**
   * Redaction applied on this thread while encoding, before anything leaves
   * it: `true` redacts the default sensitive keys, options configure keys
   * and value patterns (see `getRedactor`), `false` turns it off.
   * @default {true}
   */
  redact?: boolean | RedactOptions;
  /**
   * Console output, formatted by the consumer (the worker), never in a log
   * call: `true` for the defaults (text, or JSON when `FLIGHTLOG_FORMAT=json`;
   * stderr; colors on a terminal). Off by default: the store is the record,
   * and a library should not write to its host's terminal unasked.
   * @default {false}
   */
  console?: boolean | ConsoleOptions;
  /**
   * Prometheus metrics of runs, jobs, steps, events, drops and ring fill, fed
   * in the consumer from persisted events (see `logger.metrics()`), plus the
   * optional `METRICS` sink of `module` / `FLIGHTLOG_METRICS_MODULE` and an
   * optional `/metrics` listener. On when given or when
   * `FLIGHTLOG_METRICS_MODULE` is set.
   * @default {false}
   */
  metrics?: boolean | MetricsOptions;
  /**
   * Ships the persisted logs and spans to an OpenTelemetry collector over
   * OTLP/HTTP, from the worker, oldest first, resuming where it stopped after
   * a restart. Off when absent. Needs a worker (`transport` other than `"inline"`).
   */
  uplink?: UplinkOptions;
  /**
   * The store worker's module, for when a bundler moved flightlog without it.
   * In a browser: a URL where `flightlog/browser-worker` (the package's
   * `dist/browser/flightlog_worker.js`) is served, a relative one resolved
   * against the page. In Deno: a URL or path of `flightlog/worker`, a
   * relative path resolved against the working directory.
   * @default {the worker beside flightlog's module (the inline bundle: its own)}
   */
  workerUrl?: string | URL;
}

/** Options of {@linkcode Logger.flush}. */
export interface FlushOptions {
  /**
   * Also fsync the store, so the events survive a power loss.
   * @default {false}
   */
  durable?: boolean;
}

/** A snapshot of a logger's counters. */
export interface LoggerStats {
  /** The transport in use. */
  mode: TransportMode;
  /** User events that passed the level check on this thread. */
  emitted: number;
  /** Of those, events handed to the store. */
  persisted: number;
  /** Of those, events lost: ring full, or refused by the store. */
  dropped: number;
  /** `dropped / emitted` (0 when nothing was emitted). */
  drop_rate: number;
  /** Events emitted but not yet persisted or dropped (in flight). */
  pending: number;
  /** Internal events persisted (`log.dropped`). */
  internal: number;
  /** Capacity of this thread's ring. */
  ring_bytes: number;
  /** Bytes of the ring in use now. */
  ring_used: number;
  /** Producer id of this thread. */
  producer: string;
  /** The consumer's state. */
  worker: "starting" | "running" | "failed" | "closed";
  /** The last consumer or store error, if any. */
  error: string | null;
  /**
   * Events the store evicted while this logger ran (`store.maxBytes`,
   * `store.maxAgeMs`, or a browser origin's full quota), each eviction also
   * a `log.evicted` event; the worker reports them as they happen. Absent
   * for an attached logger (`attachLogger`): its store is another logger's.
   */
  evicted?: number;
  /** The uplink's self-metrics, when the `uplink` option is set. */
  uplink?: UplinkStats;
}

/**
 * A logger. Level methods are synchronous and never throw; the other methods
 * talk to the worker.
 */
export interface Logger {
  /** Records a `trace` event (severity 1). */
  readonly trace: LogMethod;
  /** Records a `debug` event (severity 5). */
  readonly debug: LogMethod;
  /** Records an `info` event (severity 9). */
  readonly info: LogMethod;
  /** Records a `warn` event (severity 13). */
  readonly warn: LogMethod;
  /** Records an `error` event (severity 17). */
  readonly error: LogMethod;
  /** Records a `fatal` event (severity 21). */
  readonly fatal: LogMethod;
  /** The least severe level recorded. */
  readonly level: LevelName;
  /** True when events of `level` are recorded. */
  isEnabled(level: LevelName): boolean;
  /**
   * A logger whose events all carry `bindings` (after this logger's own). The
   * bindings are encoded once, here, not per call.
   */
  child(bindings: Fields, options?: { level?: LevelName }): Logger;
  /** Resolves once every event logged before the call is in the store. */
  flush(options?: FlushOptions): Promise<void>;
  /** Everything recorded for one flow: events in order, span tree, summary. */
  getFlowLog(flowId: string): Promise<FlowLog>;
  /** Events matching `filter`, a page at a time. */
  query(filter?: QueryFilter): Promise<QueryPage>;
  /** Counters of this thread's producer (synchronous). */
  stats(): LoggerStats;
  /**
   * The Prometheus text exposition of the logger's metrics; it counts every event
   * logged before the call, and reads the ring fill before the worker drains.
   * Rejects with a `TypeError` when the `metrics` option is off.
   */
  metrics(): Promise<string>;
  /** The URL of the `/metrics` listener (`metrics.serve`), or null. */
  metricsUrl(): string | null;
  /**
   * A structured-cloneable handle that lets an application Worker log into
   * the same store with {@linkcode attachLogger}.
   */
  producerHandle(): ProducerHandle;
  /** Flushes and releases the worker, files and timers. Idempotent. */
  close(): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

function noop(_event: string, _fields?: Fields): void {}

// A log.dropped record (about 100 bytes) plus the smallest event record.
const BURST_PROBE_BYTES = MIN_RECORD_BYTES;

/**
 * A child logger's bindings as its producer writes them: one definition
 * record, written again once per ring epoch (docs/internals.md
 * "Bindings by reference"); id 0 means no bindings.
 */
export class Bindings {
  /** Id of the definition in its producer (0: no bindings). */
  readonly id: number;
  /** The definition record, padded to whole 4-byte words. */
  readonly record: Uint8Array;
  /** Bytes of the record (unpadded). */
  readonly length: number;
  /** The epoch the definition was last written in (0: never). */
  epoch = 0;
  /** The epoch the definition was last mirrored in (docs/internals.md "Definitions mirror"). */
  mirrored = 0;
  readonly #words: Uint32Array;

  constructor(id: number, record: Uint8Array) {
    this.id = record.length === 0 ? 0 : id;
    this.record = record;
    this.#words = new Uint32Array(record.buffer, record.byteOffset, record.byteLength >> 2);
    this.length = record.length === 0 ? 0 : this.#words[0]! + 4;
  }

  /** Writes `epoch` into the record's epoch slot. */
  stamp(epoch: number): void {
    this.#words[1] = epoch;
  }
}

/**
 * The producer side shared by a root logger and its children: sequence
 * numbers, drop accounting, the encoder and the ring.
 */
export class Core {
  readonly transport: Transport;
  readonly producer: Producer;
  readonly encoder: Encoder;
  readonly clock: () => number;
  readonly #overflow: "drop" | "block";
  readonly #blockTimeoutMs: number;
  readonly #onDrop: ((info: DropInfo) => void) | undefined;
  readonly #maxRecord: number;
  #seq = 0;
  #emitted = 0;
  #dropped = 0;
  #burst = 0;
  #burstSince = 0;
  #closed = false;

  constructor(
    transport: Transport,
    encoder: Encoder,
    clock: () => number,
    overflow: "drop" | "block",
    blockTimeoutMs: number,
    onDrop: ((info: DropInfo) => void) | undefined,
  ) {
    this.transport = transport;
    this.producer = transport.producer;
    this.encoder = encoder;
    this.#maxRecord = encoder.limits.maxRecordBytes;
    this.clock = clock;
    this.#overflow = overflow;
    this.#blockTimeoutMs = blockTimeoutMs;
    this.#onDrop = onDrop;
    transport.bindingsSource = () => this.handOverBindings();
    transport.publishCounters = () => this.producer.publish(this.#emitted, this.#dropped);
    transport.stopProducing = () => this.close();
    transport.settleDrops = () => this.settleDrops();
    // The sab transport's unload spill looks definitions up here (src/wire/sab_spill.ts).
    transport.definitions = (id) => this.#kept.get(id) ?? this.#keptBefore.get(id);
  }

  /** The hot path. Never throws. */
  write(severity: number, event: string, fields: Fields | undefined, b: Bindings): void {
    const enc = this.encoder;
    const emitted = ++this.#emitted;
    // A getter that logs while its object is being encoded: drop, counted.
    if (enc.busy || this.#closed) {
      this.#drop();
      return;
    }
    enc.busy = true;
    try {
      const seq = ++this.#seq;
      const producer = this.producer;
      // During a drop burst, skip encoding while there is not even room for
      // the log.dropped record and a minimal event: drops stay cheap. (The
      // "block" policy waits instead.)
      if (this.#burst !== 0 && this.#overflow === "drop" && !producer.hasRoom(BURST_PROBE_BYTES)) {
        this.#drop();
        return;
      }
      // The child's bindings travel by reference: defined once per ring epoch
      // (docs/internals.md "Bindings by reference").
      if (b.id !== 0 && b.epoch !== producer.epoch && !this.#define(b)) {
        this.#drop();
        return;
      }
      const ts = this.clock();
      // Encode in place when the ring has a whole record's contiguous room;
      // otherwise (near the end, nearly full, or after drops) go through the
      // scratch buffer (bench/logger_bench.ts "info").
      const at = this.#burst === 0 ? producer.reserve(this.#maxRecord) : -1;
      if (at >= 0) {
        producer.commit(
          enc.encodeAt(producer.data, producer.view, at, seq, ts, severity, event, fields, b.id),
        );
        if ((emitted & 255) === 0) producer.publish(emitted, this.#dropped);
        return;
      }
      const len = enc.encode(seq, ts, severity, 0, event, fields, b.id);
      if (this.#burst !== 0 && !this.#writeDropped(ts)) {
        this.#drop();
      } else if (producer.write(enc.buf, len) || this.#block(enc.buf, len)) {
        // Counters reach the shared header every 256 events, not per event.
        if ((emitted & 255) === 0) producer.publish(emitted, this.#dropped);
      } else {
        this.#drop();
      }
    } catch {
      // Unreachable by design (the encoder guards every user value); kept so a
      // bug can never surface as an exception in the caller.
      this.#drop();
    } finally {
      enc.busy = false;
    }
  }

  // Writes the child's bindings definition stamped with the current epoch.
  #define(b: Bindings): boolean {
    const epoch = this.producer.epoch;
    b.stamp(epoch);
    // An attached ring's definitions are mirrored for a restarted worker,
    // before the ring write, once per epoch (docs/internals.md "Definitions mirror").
    if (b.mirrored !== epoch) {
      b.mirrored = epoch;
      this.producer.mirror?.(b.record, b.length, epoch);
    }
    if (!this.producer.write(b.record, b.length) && !this.#block(b.record, b.length)) return false;
    b.epoch = epoch;
    this.#keep(b, epoch);
    return true;
  }

  // The definitions written in the current and the previous epoch: a worker
  // that restarts gets them before it drains (docs/internals.md "Worker restart").
  // Cold path: once per child per epoch.
  // Definitions written in the current and the previous epoch, by id: all
  // the ring can still refer to. A restarted worker gets them handed over
  // (docs/internals.md "Worker restart"); the sab unload spill looks them up
  // (src/wire/sab_spill.ts). Once per child per epoch, never per event.
  #kept = new Map<number, Bindings>();
  #keptBefore = new Map<number, Bindings>();
  #keptEpoch = 0;

  #keep(b: Bindings, epoch: number): void {
    if (epoch !== this.#keptEpoch) {
      this.#keptBefore = epoch === this.#keptEpoch + 1 ? this.#kept : new Map();
      this.#kept = new Map();
      this.#keptEpoch = epoch;
    }
    this.#kept.set(b.id, b);
  }

  /**
   * For a worker restart (docs/internals.md "Worker restart"): returns the bindings
   * definitions the ring may still refer to, framed end to end, and makes
   * every child define itself again before its next event.
   */
  handOverBindings(): Uint8Array {
    const all = new Set([...this.#keptBefore.values(), ...this.#kept.values()]);
    let bytes = 0;
    for (const b of all) bytes += b.record.length;
    const out = new Uint8Array(bytes);
    let at = 0;
    for (const b of all) {
      out.set(b.record, at);
      at += b.record.length;
      b.epoch = 0;
    }
    this.#kept = new Map();
    this.#keptBefore = new Map();
    return out;
  }

  #block(src: Uint8Array, len: number): boolean {
    if (this.#overflow !== "block") return false;
    const deadline = performance.now() + this.#blockTimeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0 || !this.producer.waitForSpace(left)) return false;
      if (this.producer.write(src, len)) return true;
    }
  }

  #drop(): void {
    this.producer.publish(this.#emitted, ++this.#dropped);
    if (this.#burst++ === 0) this.#burstSince = this.clock();
    const cb = this.#onDrop;
    if (cb !== undefined) {
      try {
        cb({ count: this.#burst, since_ms: this.#burstSince });
      } catch {
        // A throwing callback must not turn a drop into an exception.
      }
    }
  }

  // Writes the `log.dropped` record for the current burst; the user event's
  // bytes in the scratch buffer are re-encoded afterwards by the caller path,
  // so the burst record is encoded in a second scratch.
  #writeDropped(ts: number): boolean {
    const scratch = this.#droppedEncoder ??= new Encoder({
      ...DEFAULT_LIMITS,
      maxRecordBytes: MIN_RECORD_BYTES,
    });
    const len = scratch.encode(
      0,
      ts,
      SEVERITY.warn,
      FLAG_INTERNAL,
      INTERNAL_EVENTS.dropped,
      {
        count: this.#burst,
        since_ms: this.#burstSince,
        until_ms: ts,
      },
    );
    if (!this.producer.write(scratch.buf, len)) return false;
    this.#burst = 0;
    return true;
  }
  #droppedEncoder: Encoder | undefined;
  #bindIds = 0;

  /** A new bindings id for a child logger (unique on this producer). */
  nextBindId(): number {
    this.#bindIds = (this.#bindIds + 1) >>> 0 || 1;
    return this.#bindIds;
  }

  /** Counters for `stats()`: exact on this thread, the consumer's from the header. */
  counters(): RingCounters {
    const c = this.producer.counters();
    c.emitted = this.#emitted;
    c.dropped = this.#dropped;
    return c;
  }

  /**
   * Writes the `log.dropped` record of an open drop burst, if there is room.
   * Returns true when no burst is left open.
   */
  settleDrops(): boolean {
    if (this.#burst === 0) return true;
    if (!this.#writeDropped(this.clock())) return false;
    this.producer.wake();
    return true;
  }

  /** Publishes HEAD and the exact counters to the consumer (before a flush). */
  publish(): void {
    this.producer.publish(this.#emitted, this.#dropped);
    this.producer.wake();
  }

  /** Marks the producer closed: later calls are dropped and counted. */
  close(): void {
    this.#closed = true;
  }
}

/** Options of {@linkcode attachLogger}. */
export interface AttachOptions {
  /**
   * Least severe level recorded.
   * @default {the handle's level}
   */
  level?: LevelName;
  /**
   * What a log call does when the ring is full (see {@linkcode LoggerOptions.overflow}).
   * @default {"drop"}
   */
  overflow?: "drop" | "block";
  /**
   * Longest wait of one log call under the `"block"` policy.
   * @default {100}
   */
  blockTimeoutMs?: number;
  /** Called for each dropped event (see {@linkcode LoggerOptions.onDrop}). */
  onDrop?: (info: DropInfo) => void;
  /**
   * Wall clock in ms since the epoch.
   * @default {Date.now}
   */
  clock?: () => number;
  /**
   * Redaction on this thread (see {@linkcode LoggerOptions.redact}).
   * @default {true}
   */
  redact?: boolean | RedactOptions;
}

function resolveRedactor(redact: boolean | RedactOptions | undefined): Redactor | null {
  if (redact === undefined || redact === true) return defaultRedactor();
  if (redact === false) return null;
  return getRedactor(redact);
}

class FlightLogger implements Logger {
  readonly trace: LogMethod;
  readonly debug: LogMethod;
  readonly info: LogMethod;
  readonly warn: LogMethod;
  readonly error: LogMethod;
  readonly fatal: LogMethod;
  readonly level: LevelName;
  readonly #core: Core;
  readonly #bindings: Fields;
  readonly #bound: Bindings;
  // The last withContext() frame seen and this logger's bindings merged into
  // it, encoded once: a one-entry cache, as frames are immutable.
  #frame: ContextFrame | undefined;
  #frameBound: Bindings | undefined;

  constructor(core: Core, level: LevelName, bindings: Fields) {
    this.#core = core;
    this.level = level;
    this.#bindings = bindings;
    // A getter that calls child() while an event is being encoded must not
    // clobber the shared scratch buffer.
    const encoder = core.encoder.busy
      ? new Encoder(core.encoder.limits, core.encoder.redactor)
      : core.encoder;
    const id = core.nextBindId();
    this.#bound = new Bindings(id, encoder.encodeBindings(bindings, id));
    const min = SEVERITY[level];
    // Every instance gets the same six own properties in the same order, so
    // call sites stay monomorphic; a disabled level is the shared no-op
    // (bench/logger_bench.ts "disabled level").
    this.trace = SEVERITY.trace >= min ? this.#method(SEVERITY.trace) : noop;
    this.debug = SEVERITY.debug >= min ? this.#method(SEVERITY.debug) : noop;
    this.info = SEVERITY.info >= min ? this.#method(SEVERITY.info) : noop;
    this.warn = SEVERITY.warn >= min ? this.#method(SEVERITY.warn) : noop;
    this.error = SEVERITY.error >= min ? this.#method(SEVERITY.error) : noop;
    this.fatal = SEVERITY.fatal >= min ? this.#method(SEVERITY.fatal) : noop;
  }

  #method(severity: number): LogMethod {
    const core = this.#core;
    const bound = this.#bound;
    return (event, fields) => {
      // Until withContext() is first called, the context costs this one check
      // (bench/observability_gate.ts "info outside withContext()").
      if (contextState.active) this.#writeInContext(severity, event, fields);
      else core.write(severity, event, fields, bound);
    };
  }

  #writeInContext(severity: number, event: string, fields: Fields | undefined): void {
    const core = this.#core;
    const frame = currentFrame();
    if (frame === undefined) {
      core.write(severity, event, fields, this.#bound);
      return;
    }
    let bound = this.#frameBound;
    if (frame !== this.#frame || bound === undefined) {
      // A getter that logs while an event is being encoded is dropped by
      // write(); only the scratch buffer must not be clobbered here.
      if (core.encoder.busy) {
        core.write(severity, event, fields, this.#bound);
        return;
      }
      // Context first: a logger's own child bindings and the event's fields win.
      const merged: Fields = {};
      for (const src of [frame.bindings, this.#bindings]) {
        for (const key of Object.keys(src)) {
          Object.defineProperty(merged, key, {
            value: src[key],
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
      }
      const id = core.nextBindId();
      bound = new Bindings(id, core.encoder.encodeBindings(merged, id));
      this.#frame = frame;
      this.#frameBound = bound;
    }
    core.write(severity, event, fields, bound);
  }

  isEnabled(level: LevelName): boolean {
    return isLevelName(level) && SEVERITY[level] >= SEVERITY[this.level];
  }

  child(bindings: Fields, options?: { level?: LevelName }): Logger {
    if (typeof bindings !== "object" || bindings === null) {
      throw new TypeError('child() takes an object of bindings, such as { flow_id: "f-1" }');
    }
    const level = options?.level === undefined ? this.level : parseLevel(options.level);
    // Later bindings win: a shallow merge, encoded once by the new logger.
    const merged: Fields = { ...this.#bindings };
    for (const key of Object.keys(bindings)) {
      Object.defineProperty(merged, key, {
        value: bindings[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return new FlightLogger(this.#core, level, merged);
  }

  async flush(options?: FlushOptions): Promise<void> {
    const core = this.#core;
    core.publish();
    // A drop burst still open gets its log.dropped record now; if the ring is
    // still full, once the worker has drained it.
    if (!core.settleDrops()) {
      await core.transport.flush(false);
      core.settleDrops();
    }
    return await core.transport.flush(options?.durable === true);
  }

  getFlowLog(flowId: string): Promise<FlowLog> {
    if (typeof flowId !== "string" || flowId === "") {
      return Promise.reject(new TypeError("getFlowLog() takes a non-empty flow id string"));
    }
    this.#core.publish();
    return this.#core.transport.getFlowLog(flowId);
  }

  query(filter: QueryFilter = {}): Promise<QueryPage> {
    this.#core.publish();
    return this.#core.transport.query(filter);
  }

  stats(): LoggerStats {
    const t = this.#core.transport;
    const c = this.#core.counters();
    const dropped = c.dropped + c.lost;
    return {
      mode: t.mode,
      emitted: c.emitted,
      persisted: c.persisted,
      dropped,
      drop_rate: c.emitted === 0 ? 0 : dropped / c.emitted,
      pending: Math.max(0, c.emitted - c.persisted - dropped),
      internal: c.internal,
      ring_bytes: this.#core.producer.capacity,
      ring_used: this.#core.producer.used(),
      producer: t.producerId,
      worker: t.state(),
      error: t.error(),
      ...(t.evicted === undefined ? {} : { evicted: t.evicted() }),
      ...(t.uplinkStats === undefined ? {} : { uplink: t.uplinkStats() }),
    };
  }

  async metrics(): Promise<string> {
    this.#core.publish();
    const text = await this.#core.transport.metrics();
    if (text === null) {
      throw new TypeError("metrics() needs the metrics option: createLogger({ metrics: true })");
    }
    return text;
  }

  metricsUrl(): string | null {
    return metricsUrlOf(this.#core.transport);
  }

  producerHandle(): ProducerHandle {
    return this.#core.transport.producerHandle(this.level, this.#core.encoder);
  }

  async close(): Promise<void> {
    const core = this.#core;
    await stopMetricsServer(core.transport);
    core.publish();
    if (!core.settleDrops() && core.transport.state() === "running") {
      await core.transport.flush(false).catch(() => {});
      core.settleDrops();
    }
    core.close();
    return await core.transport.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function validateOptions(options: LoggerOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError('createLogger() takes an options object, such as { dir: "./logs" }');
  }
  if (options.dir !== undefined && (typeof options.dir !== "string" || options.dir === "")) {
    throw new TypeError("Option dir must be a non-empty directory path string");
  }
  if (options.level !== undefined) parseLevel(options.level, "option level");
  if (
    options.overflow !== undefined && options.overflow !== "drop" && options.overflow !== "block"
  ) {
    throw new TypeError(
      `Invalid option overflow ${JSON.stringify(options.overflow)}: use "drop" or "block"`,
    );
  }
  const modes = ["auto", "sab", "message", "inline"];
  if (options.transport !== undefined && !modes.includes(options.transport)) {
    throw new TypeError(
      `Invalid option transport ${JSON.stringify(options.transport)}: use one of ${
        modes.join(", ")
      }`,
    );
  }
  if (options.uplink !== undefined) {
    resolveUplinkOptions(options.uplink);
    if (options.transport === "inline") {
      throw new TypeError(
        'Option uplink needs a worker: use transport "auto", "sab" or "message", not "inline"',
      );
    }
  }
  const workerUrl = options.workerUrl;
  if (workerUrl !== undefined) {
    if (!(workerUrl instanceof URL) && (typeof workerUrl !== "string" || workerUrl === "")) {
      throw new TypeError(
        "Option workerUrl must be a URL or a non-empty string: where flightlog's worker module is",
      );
    }
    if (options.transport === "inline") {
      throw new TypeError(
        'Option workerUrl needs a worker: use transport "auto", "sab" or "message", not "inline"',
      );
    }
  }
  for (
    const key of [
      "ringBytes",
      "blockTimeoutMs",
      "exitTimeoutMs",
      "flushIntervalMs",
      "hungAfterMs",
    ] as const
  ) {
    const v = options[key];
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || v < 0)) {
      throw new RangeError(`Option ${key} must be a finite number ≥ 0, got ${String(v)}`);
    }
  }
}

function resolveLimits(partial: Partial<Limits> | undefined): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS, ...partial };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const v = limits[key];
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`Limit ${key} must be a positive integer, got ${String(v)}`);
    }
  }
  if (limits.maxDepth > MAX_DECODE_DEPTH) {
    throw new RangeError(
      `Limit maxDepth must be at most ${MAX_DECODE_DEPTH}, got ${limits.maxDepth}`,
    );
  }
  if (limits.maxRecordBytes < MIN_RECORD_BYTES || limits.maxRecordBytes > 16 * 1024 * 1024) {
    throw new RangeError(
      `Limit maxRecordBytes must be between ${MIN_RECORD_BYTES} and 16777216, got ${limits.maxRecordBytes}`,
    );
  }
  return limits;
}

// Date.now() costs about half of performance.now() in Deno (55 vs 100 ns,
// bench/logger_bench.ts "clock"); order within a millisecond comes from seq.
const defaultClock = (): number => Date.now();

/**
 * Creates a logger writing to the store in `options.dir`. Synchronous: the
 * worker starts in the background, and events logged before it is ready wait
 * in the ring.
 *
 * @example Log a step of a flow and read the flow back
 * ```ts ignore
 * import { createLogger } from "./logger.ts";
 *
 * const log = createLogger({ dir: "./logs" });
 * const flow = log.child({ flow_id: "f-42", run_id: "r-1" });
 * flow.info("step_end", { step_id: "fetch", step_type: "http", duration_ms: 12.5, status: "ok" });
 * await log.flush();
 * const trace = await log.getFlowLog("f-42");
 * console.log(trace.summary.event_count);
 * await log.close();
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  validateOptions(options);
  const limits = resolveLimits(options.limits);
  const redactor = resolveRedactor(options.redact);
  const level = options.level ?? "info";
  const ringBytes = ringCapacity(Math.max(options.ringBytes ?? 1 << 20, limits.maxRecordBytes * 4));
  const observe = observeSetup(options, level);
  let log: Logger | null = null;
  // Listening first: a busy port fails here, before a worker exists.
  const metricsServer = observe.serve === null
    ? null
    : startMetricsServer(observe.serve, () => log!.metrics());
  let transport: Transport;
  try {
    transport = openTransport({
      mode: options.transport ?? "auto",
      dir: options.dir ?? ".flightlog",
      ringBytes,
      store: options.store ?? {},
      exitHooks: options.exitHooks ?? true,
      exitTimeoutMs: options.exitTimeoutMs ?? 1000,
      flushIntervalMs: options.flushIntervalMs ?? 10,
      ...(options.hungAfterMs === undefined ? {} : { hungAfterMs: options.hungAfterMs }),
      observe: observe.config,
      ...(options.uplink === undefined ? {} : { uplink: options.uplink }),
      ...(options.workerUrl === undefined ? {} : { workerUrl: options.workerUrl }),
    });
  } catch (err) {
    void metricsServer?.close();
    throw err;
  }
  const overflow = options.overflow ?? "drop";
  if (overflow === "block" && !transport.canBlock) {
    void transport.close();
    void metricsServer?.close();
    throw new TypeError(
      'Option overflow "block" needs a thread that may wait: use "drop" on a browser main thread or without SharedArrayBuffer',
    );
  }
  const core = new Core(
    transport,
    new Encoder(limits, redactor),
    options.clock ?? defaultClock,
    overflow,
    options.blockTimeoutMs ?? 100,
    options.onDrop,
  );
  log = new FlightLogger(core, level, {});
  if (metricsServer !== null) registerMetricsServer(transport, metricsServer);
  return log;
}

/**
 * Creates a logger in an application Worker that logs into the store of the
 * logger that made `handle` (see {@linkcode Logger.producerHandle}). Its
 * `flush()` waits for the store worker; `query()` and `getFlowLog()` are
 * answered by the logger that made the handle, so they reject here.
 *
 * @example In a Worker
 * ```ts ignore
 * import { attachLogger } from "./logger.ts";
 * self.onmessage = (e) => {
 *   const log = attachLogger(e.data);
 *   log.info("tool_call", { flow_id: "f-1", node: "search" });
 * };
 * ```
 */
export function attachLogger(handle: ProducerHandle, options: AttachOptions = {}): Logger {
  if (handle === null || typeof handle !== "object" || handle.kind !== "flightlog-producer") {
    throw new TypeError("attachLogger() takes the handle returned by logger.producerHandle()");
  }
  const level = options.level === undefined ? handle.level : parseLevel(options.level);
  const transport = openTransport({
    mode: "attached",
    handle,
  });
  const core = new Core(
    transport,
    new Encoder(handle.limits, resolveRedactor(options.redact)),
    options.clock ?? defaultClock,
    options.overflow ?? "drop",
    options.blockTimeoutMs ?? 100,
    options.onDrop,
  );
  return new FlightLogger(core, level, {});
}
