/**
 * The worker's RPC surface (served over comlink) and its start-up data.
 *
 * @module
 */
import type { StoreOptions } from "../store/options.ts";
import type { ResolvedUplinkOptions } from "../uplink/options.ts";
import type { FlowLog, QueryFilter, QueryPage } from "../query/types.ts";
import type { FlowPage, ListFlowsOptions } from "../query/flow_list.ts";
import type { NodeStatsFilter, NodeStatsRow } from "../query/node_stats.ts";
import type { ObserverConfig } from "../sinks/setup.ts";
import type { SinkConfig, SinkStats } from "../sinks/sink.ts";
import type { ConsumerStats } from "./consumer.ts";
import type { PackedFlowLog } from "./packed_flow_log.ts";
import type { PendingBatch } from "../wire/sab_spill.ts";

/** Start-up data of the worker (its `workerData`). */
export interface WorkerInit {
  dir: string;
  /** Checked on the logger's thread (`resolveStoreOptions()`): the store trusts them. */
  store: StoreOptions;
  control: SharedArrayBuffer | ArrayBuffer;
  rings: { producer: string; buffer: SharedArrayBuffer; bindings?: Uint8Array }[];
  /**
   * True when this worker replaces one that died (docs/internals.md
   * "Worker restart"): each ring comes with the definitions its producer handed over.
   */
  restarted?: boolean;
  /**
   * This worker's number in the control buffer's `GENERATION` slot: it stops
   * draining once the slot holds another (docs/internals.md "Worker restart").
   */
  generation?: number;
  /**
   * The front end holds the store's lock for this process: open the store
   * without taking it (docs/internals.md "The lock").
   */
  lockHeld?: boolean;
  /**
   * Where a worker whose store cannot open writes why, before it stores
   * `STATE` = failed, for a synchronous flush at exit (src/worker/start_failure.ts
   * `reportStartFailure`); shared memory only.
   */
  failure?: SharedArrayBuffer;
  /** True for the SharedArrayBuffer transport: run the drain loop. */
  shared: boolean;
  /** Console output and metrics fed from persisted events. */
  observe?: ObserverConfig;
  /** The user sinks (option `sinks`), loaded and fed from persisted events in the worker. */
  sinks?: SinkConfig[];
  /** The uplink's options, checked on the logger's thread, when one runs in the worker. */
  uplink?: ResolvedUplinkOptions;
  /** Where the worker mirrors the uplink's counters (a Float64Array) for the logger's thread. */
  uplinkStats?: SharedArrayBuffer;
  /**
   * Browser: batches earlier pages spilled into `localStorage` at `pagehide`
   * (their database was not open yet), taken by this page: stored, like the
   * database's `pending` store, before any call is answered.
   */
  spilled?: PendingBatch[];
}

/**
 * A message the worker posts on its own (not an answer to a call), read by
 * the transport for `stats()`: store errors and evictions as they happen. The
 * browser worker also sends one after each write, a sign of life for the
 * watchdog (src/transport/watchdog.ts) while a batch waits for IndexedDB.
 */
export interface WorkerNotice {
  type: "flightlog-notice";
  /** A write the store refused: the message the next `flush()` rejects with. */
  error: string | null;
  /** Events the store evicted (retention, quota) in the write this notice is about. */
  evicted: number;
  /** The user sinks' counters now, in the order of the `sinks` option. */
  sinks?: SinkStats[];
}

/** What the front end may call on the worker. */
export interface WorkerApi {
  /** Resolves when the store is open: `null`, or the error message. */
  ready(): Promise<string | null>;
  addRing(producer: string, buffer: SharedArrayBuffer): void;
  ingest(
    producer: string,
    bytes: Uint8Array,
    emitted: number,
    dropped: number,
  ): { persisted: number; internal: number; lost: number };
  /** Drains and stores every ring; resolves once the uplink's backlog counts it too. */
  flush(durable: boolean): void | Promise<void>;
  query(filter: QueryFilter): QueryPage;
  /** A flow log, or (browser worker) its packed payloads for the caller to unpack. */
  getFlowLog(flowId: string): FlowLog | PackedFlowLog;
  /** One page of the stored flows (options checked by the front end too, for real error classes). */
  listFlows(options: ListFlowsOptions | undefined): FlowPage;
  /** One row per node (filter checked by the front end too, for real error classes). */
  nodeStats(filter: NodeStatsFilter | undefined): NodeStatsRow[];
  stats(): ConsumerStats;
  /** The Prometheus exposition text (after a drain), or null when metrics are off. */
  metrics(): string | null;
  close(): void | Promise<void>;
}
