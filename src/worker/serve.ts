/**
 * Builds the worker's RPC object from its start-up data. Runtime-neutral:
 * the worker entry point supplies the store opener and the platform's pieces
 * (workers/flightlog_worker.ts wires Deno's in).
 *
 * @module
 */
import { Consumer, type Store } from "./consumer.ts";
import type { WorkerApi, WorkerInit, WorkerNotice } from "./api.ts";
import { installObservers, type Observers, scrapeCounters } from "./observers.ts";
import { type SinkHost, startSinks } from "./sink_host.ts";
import {
  Uplink,
  type UplinkFiles,
  type UplinkRuntime,
  type UplinkSource,
} from "../uplink/uplink.ts";
import { StoreLockedError } from "../store/errors.ts";
import type { StoreOptions } from "../store/options.ts";
import type { SegmentStoreOptions } from "../store/segment_options.ts";
import { waitForResume } from "../wire/ring.ts";
import { reportStartFailure } from "./start_failure.ts";

/** What a store is opened with: the logger's store options and the worker's own. */
export type StoreOpenOptions =
  & StoreOptions
  & Pick<SegmentStoreOptions, "onEvict" | "lockHeld" | "appendToLast">;

/** Opens the store in `dir` (Deno: the segment files). */
export type StoreOpener = (dir: string, options: StoreOpenOptions) => Store;

/** Options of {@linkcode serveWorker}: the platform's pieces. */
export interface ServeWorkerOptions {
  /** Where console output goes (option `console` of `createLogger`). */
  writeConsole: (stream: "stdout" | "stderr", text: string) => void;
  /** The uplink's position and dead-letter files beside the store in `dir`. */
  openUplinkFiles: (dir: string) => UplinkFiles;
  /**
   * Gzips the uplink's request bodies.
   * @default {a `CompressionStream`}
   */
  gzip?: UplinkRuntime["gzip"];
  /** Sends the front end a notice (evictions: its `stats()`). */
  notify?: (notice: WorkerNotice) => void;
}

/**
 * Opens the store. Normally the logger's thread holds the lock (`lockHeld`,
 * docs/internals.md "The lock"). Where it could not take it, the
 * worker takes it itself, and one that replaces a dead worker may find it
 * still held by that one (the dead thread's files are closed asynchronously
 * after it ends; a hung thread's never): then it retries for up to
 * `RESTART_LOCK_WAIT_MS`.
 */
function openStoreAfterRestart(
  init: WorkerInit,
  openStore: StoreOpener,
  options: StoreOpenOptions,
): Store {
  const deadline = performance.now() + RESTART_LOCK_WAIT_MS;
  for (;;) {
    try {
      return openStore(init.dir, options);
    } catch (err) {
      if (init.restarted !== true || !(err instanceof StoreLockedError)) throw err;
      if (performance.now() >= deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

const RESTART_LOCK_WAIT_MS = 5000;

/**
 * Opens the store with `openStore` and returns the worker API. A store that
 * cannot be opened does not crash the worker: `ready()` reports the error
 * and every other call throws it.
 */
export function serveWorker(
  init: WorkerInit,
  openStore: StoreOpener,
  options: ServeWorkerOptions,
): WorkerApi {
  const notify = options.notify ?? (() => {});
  let consumer: Consumer | null = null;
  let uplink: Uplink | null = null;
  let onOnline: (() => void) | null = null;
  let failure: Error | null = null;
  let observers: Observers | null = null;
  let sinks: SinkHost | null = null;
  try {
    const store = openStoreAfterRestart(init, openStore, {
      ...init.store,
      onEvict: (records) => {
        uplink?.onStoreEvict(records);
        let events = 0;
        for (const r of records) events += r.eventCount;
        notify({ type: "flightlog-notice", error: null, evicted: events });
      },
      lockHeld: init.lockHeld === true,
      // The worker it replaces may still be writing its segment (a hung thread).
      appendToLast: init.restarted !== true,
    });
    consumer = new Consumer(store, init.control, init.generation ?? 0);
    observers = installObservers(consumer, init.observe, options.writeConsole);
    sinks = startSinks(init.sinks, options.writeConsole, notify);
    if (sinks !== null) consumer.addObserver(sinks.sinks.offer);
    if (init.uplink !== undefined) {
      if (!isUplinkSource(store)) {
        throw new TypeError(
          "This runtime's store cannot feed the uplink yet: remove option uplink",
        );
      }
      const mirror = init.uplinkStats === undefined
        ? undefined
        : new Float64Array(init.uplinkStats);
      const started = new Uplink(
        init.uplink,
        {
          source: store,
          files: options.openUplinkFiles(init.dir),
          ...(options.gzip === undefined ? {} : { gzip: options.gzip }),
        },
        mirror,
      );
      uplink = started;
      started.start();
      // A browser's "online" event is a hint to try now; failures alone decide that it is offline.
      onOnline = () => started.wake();
      globalThis.addEventListener?.("online", onOnline);
    }
    for (const r of init.rings) {
      consumer.addRing(
        r.producer,
        r.buffer,
        init.restarted === true ? { bindings: r.bindings } : undefined,
      );
    }
    if (init.shared) {
      const c = consumer;
      // A restarted consumer drains only once the front end has counted what
      // the dead one took (docs/internals.md "Worker restart").
      const resumed = init.restarted === true ? waitForResume(init.control) : Promise.resolve();
      resumed.then(() => c.run()).catch((err) => {
        failure = err instanceof Error ? err : new Error(String(err));
        // A drain loop that failed drains no more: end the worker so the
        // front end notices and starts a new one (docs/internals.md "Worker restart").
        setTimeout(() => {
          throw failure;
        }, 0);
      });
    }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    // A lock held by another writer says itself what to do (another dir, or the CLI).
    failure = err instanceof StoreLockedError ? err : new Error(
      `Cannot open the flightlog store in "${init.dir}": ${why}; this logger drops (and counts) every event: give option dir a writable directory`,
      { cause: err },
    );
    if (init.failure !== undefined) reportStartFailure(init.failure, init.control, failure.message);
  }
  const live = (): Consumer => {
    if (failure !== null) throw failure;
    return consumer!;
  };
  return {
    // Waits for the metrics module, so its sink sees events from the start.
    ready: async () => {
      await observers?.ready;
      return failure === null ? null : failure.message;
    },
    addRing: (producer, buffer) => live().addRing(producer, buffer),
    ingest: (producer, bytes, emitted, dropped) => live().ingest(producer, bytes, emitted, dropped),
    flush: async (durable) => {
      live().flush(durable);
      // Resolves once the sinks have what it stored, or their flushTimeoutMs passed.
      await sinks?.flushed();
      // The backlog counted at the end of the uplink's last step misses what
      // this flush stored. A failed count leaves the flush good: the uplink's
      // own loop meets the same store read again and retries it.
      await uplink?.refreshBacklog().catch(() => {});
    },
    query: (filter) => live().query(filter),
    getFlowLog: (flowId) => live().getFlowLog(flowId),
    listFlows: (options) => live().listFlows(options),
    nodeStats: (filter) => live().nodeStats(filter),
    stats: () => live().stats(),
    metrics: () => {
      const c = live();
      const counters = scrapeCounters(c); // ring fill as the producers left it
      c.drain();
      return observers?.metricsText(counters) ?? null;
    },
    close: async () => {
      // The uplink reads the store, so it stops (and saves its positions) first.
      if (onOnline !== null) globalThis.removeEventListener?.("online", onOnline);
      await uplink?.close();
      consumer?.close();
      await sinks?.close();
    },
  };
}

function isUplinkSource(store: object): store is UplinkSource {
  const s = store as Partial<UplinkSource>;
  return typeof s.readAfter === "function" && typeof s.recordsAfter === "function" &&
    typeof s.backlog === "function";
}
