/**
 * The front end: `createLogger()`, `attachLogger()` and the {@linkcode Logger}
 * they return. The options and their check are in `./options.ts`; the hot
 * path a level method runs, in `./producer.ts`.
 *
 * @module
 */
import { Encoder } from "../wire/codec.ts";
import { isLevelName, type LevelName, parseLevel, SEVERITY } from "../level.ts";
import type { FlowLog, QueryFilter, QueryPage } from "../query/types.ts";
import { compileFlowListing, type FlowPage, type ListFlowsOptions } from "../query/flow_list.ts";
import {
  NodeStatsAccumulator,
  type NodeStatsFilter,
  type NodeStatsRow,
} from "../query/node_stats.ts";
import { openTransport, type Transport, type TransportMode } from "../transport/open.ts";
import type { ProducerHandle } from "../transport/handle.ts";
import type { UplinkStats } from "../uplink/options.ts";
import type { SinkStats } from "../sinks/sink.ts";
import {
  type CallerEnv,
  metricsUrlOf,
  registerMetricsServer,
  startMetricsServer,
  stopMetricsServer,
} from "../sinks/setup.ts";
import { isTerminal, moduleUrl, readEnv, serveHttp } from "../platform/deno.ts";
import { type ContextFrame, contextState, currentFrame, defineFields } from "./context.ts";
import {
  type AttachOptions,
  type Fields,
  type FlushOptions,
  type LoggerConfig,
  type LoggerOptions,
  type LogMethod,
  resolveAttachConfig,
  resolveConfig,
} from "./options.ts";
import { Bindings, Core } from "./producer.ts";

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
  /**
   * Each user sink's counters, in the order of the `sinks` option, when it
   * names any. From a worker they are as of its last report: every `flush()`,
   * and at most 100 ms apart while they change.
   */
  sinks?: SinkStats[];
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
  /**
   * The least severe level recorded. Assigning a level name changes what
   * this logger records at once, and what its children record that were
   * not given a level of their own (those made before included); another
   * value throws a `TypeError`.
   */
  level: LevelName;
  /** True when events of `level` are recorded (always false for an unconfigured `getLogger()` logger). */
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
  /**
   * The stored flows, a page at a time, the most recent last event first
   * (ties by flow id); pass the page's `cursor` back for the next page
   * (`null` after the last). A listing is a snapshot taken at its first
   * page: events stored later are not counted on its next pages, so no
   * flow moves, repeats or is skipped between pages; start a new listing
   * to see them. Rejects with a `TypeError` or `RangeError` for invalid
   * options or a cursor of another listing.
   *
   * @example List every flow
   * ```ts ignore
   * let cursor: string | null = null;
   * do {
   *   const page = await log.listFlows({ limit: 100, ...(cursor === null ? {} : { cursor }) });
   *   for (const flow of page.flows) console.log(flow.flow_id, flow.status);
   *   cursor = page.cursor;
   * } while (cursor !== null);
   * ```
   */
  listFlows(options?: ListFlowsOptions): Promise<FlowPage>;
  /**
   * One row per node of the stored flows — a step (`step_end`) or an
   * `observable()` node (`node_exit` / `node_error`) — with its executions by
   * status, duration percentiles (within 1%, from a sketch: memory bounded by
   * the number of nodes, not of events), tokens, cost and share of the flow's
   * wall time; widest `total_ms` first. Rejects with a `TypeError` or
   * `RangeError` for an invalid filter.
   *
   * @example The slowest nodes of one flow
   * ```ts ignore
   * for (const row of await log.nodeStats({ flow_id: "ingest" })) {
   *   console.log(row.name, row.count, row.p50, row.p99, row.cost_usd);
   * }
   * ```
   */
  nodeStats(filter?: NodeStatsFilter): Promise<NodeStatsRow[]>;
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

function noop(_event?: unknown, _fields?: unknown): void {}

/**
 * What a tree of loggers (a root and its children) shares to see a level
 * assignment or a new store: its epoch, bumped by each. A logger re-reads its
 * level and store at its first use after a bump, so a parent keeps no list
 * of its children (a child per request must stay free to be collected).
 */
export interface LoggerTree {
  epoch: number;
}

/**
 * Where the `getLogger()` loggers record: set by `configure()`, cleared by
 * `resetConfiguration()` (`./configure.ts`). One per process, shared by
 * every getLogger() tree.
 */
export interface LibraryHome extends LoggerTree {
  /** The configured logger, or null while none is configured. */
  root: FlightLogger | null;
  /** The level of a category that was given none of its own. */
  levelOf(category: string): LevelName;
}

/** The logger behind every `Logger` this module makes. */
export class FlightLogger implements Logger {
  // The level methods as of #epoch; the getters below hand them out.
  #trace: LogMethod = noop;
  #debug: LogMethod = noop;
  #info: LogMethod = noop;
  #warn: LogMethod = noop;
  #error: LogMethod = noop;
  #fatal: LogMethod = noop;
  readonly #tree: LoggerTree;
  #epoch = -1;
  // Null in a getLogger() tree while nothing is configured: every level is the no-op.
  #core: Core | null;
  readonly #bindings: Fields;
  #bound: Bindings | null = null;
  readonly #parent: FlightLogger | null;
  // The level given to this logger (child option or assignment); undefined: its parent's.
  #own: LevelName | undefined;
  #level: LevelName = "info";
  // A getLogger() root: where its level and store come from.
  readonly #home: LibraryHome | null;
  readonly #category: string;
  // In a getLogger() tree: close() leaves the configured store open.
  readonly #library: boolean;
  // The enabled level methods made so far, by severity: made once per core.
  #methods: (LogMethod | undefined)[] = [];
  // The last withContext() frame seen and this logger's bindings merged into
  // it, encoded once: a one-entry cache, as frames are immutable.
  #frame: ContextFrame | undefined;
  #frameBound: Bindings | undefined;

  constructor(
    core: Core | null,
    bindings: Fields,
    parent: FlightLogger | null,
    own: LevelName | undefined,
    home: LibraryHome | null = null,
    category = "",
  ) {
    this.#core = null;
    this.#bindings = bindings;
    this.#parent = parent;
    this.#own = own;
    this.#home = home;
    this.#category = category;
    this.#library = home !== null || (parent !== null && parent.#library);
    this.#tree = parent !== null ? parent.#tree : home ?? { epoch: 0 };
    this.#sync(core);
  }

  // Getters, so a level change reaches every child without the parent
  // keeping a list (a WeakRef per child doubled child() and kept the children
  // of a synchronous loop alive): one comparison per call, a disabled level
  // 0.29 → 2.1 ns and still the shared no-op (bench/overhead_gate.ts "disabled level").
  /** Records a `trace` event (severity 1). */
  get trace(): LogMethod {
    return this.#epoch === this.#tree.epoch ? this.#trace : this.#sync().#trace;
  }
  /** Records a `debug` event (severity 5). */
  get debug(): LogMethod {
    return this.#epoch === this.#tree.epoch ? this.#debug : this.#sync().#debug;
  }
  /** Records an `info` event (severity 9). */
  get info(): LogMethod {
    return this.#epoch === this.#tree.epoch ? this.#info : this.#sync().#info;
  }
  /** Records a `warn` event (severity 13). */
  get warn(): LogMethod {
    return this.#epoch === this.#tree.epoch ? this.#warn : this.#sync().#warn;
  }
  /** Records an `error` event (severity 17). */
  get error(): LogMethod {
    return this.#epoch === this.#tree.epoch ? this.#error : this.#sync().#error;
  }
  /** Records a `fatal` event (severity 21). */
  get fatal(): LogMethod {
    return this.#epoch === this.#tree.epoch ? this.#fatal : this.#sync().#fatal;
  }

  // Cold path: at creation, and at the first use after a level assignment or
  // configure() in this tree. `core` is the root's, which never changes.
  #sync(rootCore: Core | null = this.#core): this {
    const parent = this.#parent;
    const home = this.#home;
    let core = rootCore;
    if (parent !== null) {
      parent.#current();
      core = parent.#core;
      this.#level = this.#own ?? parent.#level;
    } else if (home !== null) {
      core = home.root === null ? null : home.root.#core;
      this.#level = this.#own ?? home.levelOf(this.#category);
    } else {
      this.#level = this.#own!;
    }
    if (core !== this.#core) {
      this.#core = core;
      this.#bound = core === null ? null : this.#bind(core);
      this.#methods = [];
      this.#frame = undefined;
      this.#frameBound = undefined;
    }
    const min = core === null ? Infinity : SEVERITY[this.#level];
    this.#trace = SEVERITY.trace >= min ? this.#enabled(SEVERITY.trace) : noop;
    this.#debug = SEVERITY.debug >= min ? this.#enabled(SEVERITY.debug) : noop;
    this.#info = SEVERITY.info >= min ? this.#enabled(SEVERITY.info) : noop;
    this.#warn = SEVERITY.warn >= min ? this.#enabled(SEVERITY.warn) : noop;
    this.#error = SEVERITY.error >= min ? this.#enabled(SEVERITY.error) : noop;
    this.#fatal = SEVERITY.fatal >= min ? this.#enabled(SEVERITY.fatal) : noop;
    this.#epoch = this.#tree.epoch;
    return this;
  }

  // This logger as of the tree's last change.
  #current(): this {
    return this.#epoch === this.#tree.epoch ? this : this.#sync();
  }

  #bind(core: Core): Bindings {
    // A getter that calls child() while an event is being encoded must not
    // clobber the shared scratch buffer.
    const encoder = core.encoder.busy
      ? new Encoder(core.encoder.limits, core.encoder.redactor)
      : core.encoder;
    const id = core.nextBindId();
    return new Bindings(id, encoder.encodeBindings(this.#bindings, id));
  }

  #enabled(severity: number): LogMethod {
    return this.#methods[severity] ??= this.#method(severity);
  }

  #method(severity: number): LogMethod {
    // Made only while a core is set (#sync); configure() makes new ones.
    const core = this.#core!;
    const bound = this.#bound!;
    return (event: unknown, fields?: unknown) => {
      // Until withContext() is first called, the context costs this one check
      // (bench/observability_gate.ts "info outside withContext()").
      if (contextState.active) this.#writeInContext(severity, event, fields);
      else core.write(severity, event, fields, bound);
    };
  }

  #writeInContext(severity: number, event: unknown, fields: unknown): void {
    const core = this.#core;
    const own = this.#bound;
    // A method kept from before resetConfiguration(): nothing to write to.
    if (core === null || own === null) return;
    const frame = currentFrame();
    if (frame === undefined) {
      core.write(severity, event, fields, own);
      return;
    }
    let bound = this.#frameBound;
    if (frame !== this.#frame || bound === undefined) {
      // A getter that logs while an event is being encoded is dropped by
      // write(); only the scratch buffer must not be clobbered here.
      if (core.encoder.busy) {
        core.write(severity, event, fields, own);
        return;
      }
      // Context first: a logger's own child bindings and the event's fields win.
      const merged: Fields = {};
      for (const src of [frame.bindings, this.#bindings]) {
        defineFields(merged, src, Object.keys(src));
      }
      const id = core.nextBindId();
      bound = new Bindings(id, core.encoder.encodeBindings(merged, id));
      this.#frame = frame;
      this.#frameBound = bound;
    }
    core.write(severity, event, fields, bound);
  }

  get level(): LevelName {
    return this.#current().#level;
  }

  set level(level: LevelName) {
    this.#own = parseLevel(level, "level");
    // Every logger of the tree re-reads its level at its next use.
    this.#tree.epoch++;
  }

  isEnabled(level: LevelName): boolean {
    const self = this.#current();
    return self.#core !== null && isLevelName(level) && SEVERITY[level] >= SEVERITY[self.#level];
  }

  child(bindings: Fields, options?: { level?: LevelName }): Logger {
    if (typeof bindings !== "object" || bindings === null) {
      throw new TypeError('child() takes an object of bindings, such as { flow_id: "f-1" }');
    }
    const level = options?.level === undefined ? undefined : parseLevel(options.level);
    // Later bindings win: a shallow merge, encoded once by the new logger.
    const merged: Fields = { ...this.#bindings };
    defineFields(merged, bindings, Object.keys(bindings));
    return new FlightLogger(this.#current().#core, merged, this, level);
  }

  async flush(options?: FlushOptions): Promise<void> {
    const core = this.#current().#core;
    if (core === null) return;
    core.publish();
    // A drop burst still open gets its log.dropped record now; if the ring is
    // still full, once the worker has drained it.
    if (!core.settleDrops()) {
      await core.transport.flush(false);
      core.settleDrops();
    }
    return await core.transport.flush(options?.durable === true);
  }

  // The core for a method that needs the store; a getLogger() logger has none until configure().
  #homeCore(method: string): Core {
    const core = this.#current().#core;
    if (core !== null) return core;
    throw new Error(
      `${method} needs a configured store: the application calls configure({ dir }) before using this getLogger() logger`,
    );
  }

  getFlowLog(flowId: string): Promise<FlowLog> {
    if (typeof flowId !== "string" || flowId === "") {
      return Promise.reject(new TypeError("getFlowLog() takes a non-empty flow id string"));
    }
    try {
      const core = this.#homeCore("getFlowLog()");
      core.publish();
      return core.transport.getFlowLog(flowId);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  query(filter: QueryFilter = {}): Promise<QueryPage> {
    try {
      const core = this.#homeCore("query()");
      core.publish();
      return core.transport.query(filter);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  listFlows(options?: ListFlowsOptions): Promise<FlowPage> {
    try {
      // Here too, not only in the worker: its errors cross as plain Errors.
      compileFlowListing(options);
      const core = this.#homeCore("listFlows()");
      core.publish();
      return core.transport.listFlows(options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  nodeStats(filter?: NodeStatsFilter): Promise<NodeStatsRow[]> {
    try {
      // Here too, not only in the worker: its errors cross as plain Errors.
      new NodeStatsAccumulator(filter);
      const core = this.#homeCore("nodeStats()");
      core.publish();
      return core.transport.nodeStats(filter);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  stats(): LoggerStats {
    const core = this.#homeCore("stats()");
    const t = core.transport;
    const c = core.counters();
    const dropped = c.dropped + c.lost;
    return {
      mode: t.mode,
      emitted: c.emitted,
      persisted: c.persisted,
      dropped,
      drop_rate: c.emitted === 0 ? 0 : dropped / c.emitted,
      pending: Math.max(0, c.emitted - c.persisted - dropped),
      internal: c.internal,
      ring_bytes: core.producer.capacity,
      ring_used: core.producer.used(),
      producer: t.producerId,
      worker: t.state(),
      error: t.error(),
      ...(t.evicted === undefined ? {} : { evicted: t.evicted() }),
      ...(t.uplinkStats === undefined ? {} : { uplink: t.uplinkStats() }),
      ...(t.sinkStats === undefined ? {} : { sinks: t.sinkStats() }),
    };
  }

  async metrics(): Promise<string> {
    const core = this.#homeCore("metrics()");
    core.publish();
    const text = await core.transport.metrics();
    if (text === null) {
      throw new TypeError("metrics() needs the metrics option: createLogger({ metrics: true })");
    }
    return text;
  }

  metricsUrl(): string | null {
    const core = this.#current().#core;
    return core === null ? null : metricsUrlOf(core.transport);
  }

  producerHandle(): ProducerHandle {
    const core = this.#homeCore("producerHandle()");
    return core.transport.producerHandle(this.#level, core.encoder);
  }

  async close(): Promise<void> {
    // The configured store belongs to the application: resetConfiguration() closes it.
    if (this.#library) return await this.flush();
    const core = this.#core!;
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

/**
 * A `getLogger()` root for `category`: it records into `home.root`'s store
 * once one is configured, and nothing before.
 */
export function libraryLogger(home: LibraryHome, category: string): FlightLogger {
  return new FlightLogger(null, { category }, null, undefined, home, category);
}

// What this runtime offers resolveConfig(); the browser build swaps in src/platform/browser.ts.
export const callerEnv: CallerEnv = { env: readEnv, isTerminal, moduleUrl };

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
  return openLogger(resolveConfig(options, callerEnv));
}

/**
 * Opens the store and the root logger of a checked configuration: what
 * `createLogger()` and `configure()` share.
 */
export function openLogger(config: LoggerConfig): FlightLogger {
  let log: FlightLogger | null = null;
  // Listening first: a busy port fails here, before a worker exists.
  const metricsServer = config.serve === null
    ? null
    : startMetricsServer(serveHttp, config.serve, () => log!.metrics());
  let transport: Transport;
  try {
    transport = openTransport({
      mode: config.transport,
      dir: config.dir,
      ringBytes: config.ringBytes,
      store: config.store,
      exitHooks: config.exitHooks,
      exitTimeoutMs: config.exitTimeoutMs,
      flushIntervalMs: config.flushIntervalMs,
      ...(config.hungAfterMs === undefined ? {} : { hungAfterMs: config.hungAfterMs }),
      observe: config.observe,
      ...(config.sinks.length === 0 ? {} : { sinks: config.sinks }),
      ...(config.uplink === undefined ? {} : { uplink: config.uplink }),
      ...(config.workerUrl === undefined ? {} : { workerUrl: config.workerUrl }),
    });
  } catch (err) {
    void metricsServer?.close();
    throw err;
  }
  if (config.overflow === "block" && !transport.canBlock) {
    void transport.close();
    void metricsServer?.close();
    throw blockRefused();
  }
  const core = new Core(
    transport,
    new Encoder(config.limits, config.redactor),
    config.clock,
    config.overflow,
    config.blockTimeoutMs,
    config.onDrop,
  );
  log = new FlightLogger(core, {}, null, config.level);
  if (metricsServer !== null) registerMetricsServer(transport, metricsServer);
  return log;
}

function blockRefused(): TypeError {
  return new TypeError(
    'Option overflow "block" needs a thread that may wait: use "drop" on a browser main thread or without SharedArrayBuffer',
  );
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
  const config = resolveAttachConfig(options);
  const transport = openTransport({
    mode: "attached",
    handle,
  });
  if (config.overflow === "block" && !transport.canBlock) {
    void transport.close();
    throw blockRefused();
  }
  const core = new Core(
    transport,
    new Encoder(handle.limits, config.redactor),
    config.clock,
    config.overflow,
    config.blockTimeoutMs,
    config.onDrop,
  );
  return new FlightLogger(core, {}, null, config.level ?? handle.level);
}
