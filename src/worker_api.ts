/**
 * The worker's RPC surface (served over comlink) and its start-up data.
 *
 * @module
 */
import type { StoreOptions } from "./logger.ts";
import type { FlowLog, QueryFilter, QueryPage } from "./query.ts";
import type { ConsumerStats } from "./worker_core.ts";

/** Start-up data of the worker (its `workerData`). */
export interface WorkerInit {
  dir: string;
  store: StoreOptions;
  control: SharedArrayBuffer | ArrayBuffer;
  rings: { producer: string; buffer: SharedArrayBuffer; bindings?: Uint8Array }[];
  /**
   * True when this worker replaces one that died (src/ring.ts "Worker
   * restart"): each ring comes with the definitions its producer handed over.
   */
  restarted?: boolean;
  /** True for the SharedArrayBuffer transport: run the drain loop. */
  shared: boolean;
}

/** What the front end may call on the worker. */
export interface WorkerApi {
  /** Resolves when the store is open: `null`, or the error message. */
  ready(): string | null;
  addRing(producer: string, buffer: SharedArrayBuffer): void;
  ingest(
    producer: string,
    bytes: Uint8Array,
    emitted: number,
    dropped: number,
  ): { persisted: number; internal: number; lost: number };
  flush(durable: boolean): void;
  query(filter: QueryFilter): QueryPage;
  getFlowLog(flowId: string): FlowLog;
  stats(): ConsumerStats;
  close(): void;
  /** Throws `message` as an uncaught exception in the worker (fault injection in tests). */
  crash(message: string): void;
}
