/**
 * The contracts between the logger front end and its transport: what the
 * hot path writes into ({@linkcode Producer}), what the logger calls
 * ({@linkcode Transport}), how a transport is configured, and the helpers
 * every transport shares. `open.ts` picks and opens one.
 *
 * @module
 */
import { FLUSH_REQ, SLEEPING, STATE } from "../wire/ring.ts";
import type { RingCounters } from "../wire/ring.ts";
import type { DefinitionRecord } from "../wire/sab_spill.ts";
import type { Encoder } from "../wire/codec.ts";
import type { LevelName } from "../level.ts";
import type { FlowLog, QueryFilter, QueryPage } from "../query/types.ts";
import type { FlowPage, ListFlowsOptions } from "../query/flow_list.ts";
import type { NodeStatsFilter, NodeStatsRow } from "../query/node_stats.ts";
import type { StoreOptions } from "../store/options.ts";
import type { ObserverConfig } from "../sinks/setup.ts";
import type { SinkConfig, SinkStats } from "../sinks/sink.ts";
import type { ResolvedUplinkOptions, UplinkStats } from "../uplink/options.ts";
import type { ProducerHandle } from "./handle.ts";

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
  listFlows(options: ListFlowsOptions | undefined): Promise<FlowPage>;
  nodeStats(filter: NodeStatsFilter | undefined): Promise<NodeStatsRow[]>;
  /** The Prometheus exposition text (ring fill read, then drained), or null when metrics are off. */
  metrics(): Promise<string | null>;
  producerHandle(level: LevelName, encoder: Encoder): ProducerHandle;
  state(): "starting" | "running" | "failed" | "closed";
  error(): string | null;
  /** Events the store evicted while this logger ran (absent where the store is another logger's). */
  evicted?: () => number;
  /** The uplink's self-metrics, present when an uplink runs. */
  uplinkStats?: () => UplinkStats;
  /** The user sinks' counters, present when the `sinks` option names any. */
  sinkStats?: () => SinkStats[];
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
    /** The user sinks, run by the consumer. */
    sinks?: SinkConfig[];
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

/** Configuration of a transport with a store of its own (every mode but `"attached"`). */
export type OwnStoreConfig = Extract<
  TransportConfig,
  { mode: "auto" | "sab" | "message" | "inline" }
>;

/** A message written as one stderr line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}

/**
 * The exit flush of a transport whose `flushSync` stores everything on this
 * thread's ring before it returns: the exact counters and the `log.dropped`
 * record of the drop burst still open go with the last events, so the store
 * holds `events + dropped counts = emitted`. When the ring is too full for
 * that record, a first flush makes room for it.
 */
export function flushAtExit(transport: Transport, flushSync: () => void): void {
  transport.publishCounters?.();
  if (transport.settleDrops?.() === false) {
    flushSync();
    transport.settleDrops();
  }
  flushSync();
}

/** A random id for this logger's producers (`<instance>.<n>`). */
export function newInstanceId(): string {
  const b = new Uint8Array(6);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

const STATE_NAMES = ["starting", "running", "failed", "closed"] as const;

/** The consumer's state as the control buffer's `STATE` slot says it. */
export function consumerState(control: Int32Array): "starting" | "running" | "failed" | "closed" {
  return STATE_NAMES[Atomics.load(control, STATE)] ?? "starting";
}

/**
 * Asks the consumer for a synchronous flush and wakes it (docs/internals.md
 * "Control buffer"); returns the request's number: it is done once
 * `FLUSH_ACK` reaches it.
 */
export function requestFlush(control: Int32Array): number {
  const req = Atomics.add(control, FLUSH_REQ, 1) + 1;
  Atomics.store(control, SLEEPING, 0);
  Atomics.notify(control, SLEEPING);
  return req;
}
