/**
 * The worker side of the browser build: the {@linkcode Consumer} in front of
 * an asynchronous store (IndexedDB). Plain code with no worker globals, so a
 * Deno test runs it in-process against `fake-indexeddb`.
 *
 * The consumer expects a synchronous {@linkcode Store}; {@linkcode WriteBehind}
 * is one: `append()` queues the events and a single writer hands everything
 * queued to the asynchronous store, one call (one IndexedDB transaction) per
 * batch of up to `maxBatch` events. The queue is bounded: past `maxBacklog`
 * events the worker stops draining, so the rings fill and the front ends drop
 * and count, exactly as when the Deno worker falls behind. Events count as
 * persisted once the store reports them written (`Consumer.confirm`); a batch
 * it fails to write counts as lost (`Consumer.refused`), so
 * `emitted = persisted + dropped` stays exact, and the next flush rejects. A
 * batch that even an emptied database refuses (`StoreFullError`: the origin's
 * quota is smaller than the batch, or taken by other data) is tried again in
 * halves, down to single events.
 *
 * @module
 */
import { Consumer, type ConsumerStats, RPC_TURN_MS, type Store, timerTurn } from "./consumer.ts";
import { waitForResume } from "../wire/ring.ts";
import { INTERNAL_EVENTS, type LogEvent } from "../event.ts";
import type { FlowLog, QueryFilter, QueryPage } from "../query/types.ts";
import type { FlowPage, ListFlowsOptions } from "../query/flow_list.ts";
import type { NodeStatsAccumulator, NodeStatsFilter } from "../query/node_stats.ts";
import type { StoreOptions } from "../store/options.ts";
import type { WorkerApi, WorkerInit, WorkerNotice } from "./api.ts";
import type { PendingBatch } from "../wire/sab_spill.ts";
import { lastSeq, skipStored } from "../wire/sab_spill.ts";
import { errorText } from "../store/errors.ts";
import { installObservers, type Observers, scrapeCounters } from "./observers.ts";
import { type SinkHost, startSinks } from "./sink_host.ts";
import type { ModuleLoader } from "../sinks/sink_runner.ts";

/** What the browser worker needs from a store: the {@linkcode Store} methods, awaited. */
export interface AsyncStore {
  append(events: readonly LogEvent[]): Promise<void>;
  sync(): Promise<void>;
  query(filter: QueryFilter): Promise<QueryPage>;
  getFlowLog(flowId: string): Promise<FlowLog>;
  listFlowPage(options: ListFlowsOptions | undefined): Promise<FlowPage>;
  nodeStats(filter: NodeStatsFilter | undefined): Promise<NodeStatsAccumulator>;
  /** The flow's record payloads (`packEvents` format), when the store can give them. */
  flowPayloads?(flowId: string): Promise<Uint8Array[]>;
  /**
   * Takes the batches pages spilled at `pagehide`, when the store keeps them,
   * and says up to which seq each batch's producer (and each of `also`'s) is
   * stored already (`PendingBatch.stored`).
   */
  takePending?(also?: PendingBatch[]): Promise<PendingBatch[]>;
  stats(): Promise<unknown>;
  close(): Promise<void>;
}

/** Options of {@linkcode WriteBehind}. */
export interface WriteBehindOptions {
  /**
   * Most events handed to the store in one call (one transaction).
   * @default {16384}
   */
  maxBatch?: number;
  /**
   * Queued events past which {@linkcode WriteBehind.full} is true.
   * @default {65536}
   */
  maxBacklog?: number;
  /** Called with the events of a batch the store wrote. */
  onWritten?: (events: readonly LogEvent[]) => void;
  /** Called with the events of a batch the store failed to write. */
  onLost?: (events: readonly LogEvent[], err: Error) => void;
}

/** A synchronous {@linkcode Store} face on an {@linkcode AsyncStore}; see the module doc. */
export class WriteBehind implements Store {
  readonly #store: AsyncStore;
  readonly #maxBatch: number;
  readonly #maxBacklog: number;
  readonly #onWritten: (events: readonly LogEvent[]) => void;
  readonly #onLost: (events: readonly LogEvent[], err: Error) => void;
  #queue: LogEvent[] = [];
  #writing: Promise<void> | null = null;
  #batches = 0;
  // Most events per write now: halved by each StoreFullError, doubled back by each write.
  #cap: number;
  // Events ever appended / written (or counted lost), and the marks waiting for them.
  #appended = 0;
  #written = 0;
  #marks: { at: number; fn: () => void }[] = [];
  #waiters: { at: number; resolve: () => void }[] = [];

  constructor(store: AsyncStore, options: WriteBehindOptions = {}) {
    this.#store = store;
    this.#maxBatch = options.maxBatch ?? 16384;
    this.#cap = this.#maxBatch;
    this.#maxBacklog = options.maxBacklog ?? 65536;
    this.#onWritten = options.onWritten ?? (() => {});
    this.#onLost = options.onLost ?? (() => {});
  }

  /** Queues the events; the writer stores them. */
  append(events: LogEvent[]): void {
    const q = this.#queue;
    for (let i = 0; i < events.length; i++) q.push(events[i]!);
    this.#appended += events.length;
    this.#writing ??= this.#write();
  }

  /**
   * Calls `fn` once every event appended before the call is written (or
   * counted lost): at once when nothing is queued. A mark made with nothing
   * appended since the previous pending one replaces it (its `fn` is not
   * called), so an idle drain loop does not grow the list.
   */
  mark(fn: () => void): void {
    if (this.#written >= this.#appended) return fn();
    const last = this.#marks[this.#marks.length - 1];
    // Nothing appended since the last mark: the newer callback replaces it (bounded list).
    if (last !== undefined && last.at === this.#appended) last.fn = fn;
    else this.#marks.push({ at: this.#appended, fn });
  }

  /** Resolves once every event appended before the call is written (or counted lost). */
  written(): Promise<void> {
    if (this.#written >= this.#appended) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ at: this.#appended, resolve }));
  }

  /** Events queued and not yet written. */
  backlog(): number {
    return this.#queue.length;
  }

  /** True when the worker should stop draining until the writer catches up. */
  full(): boolean {
    return this.#queue.length >= this.#maxBacklog;
  }

  /** Resolves when everything queued before the call is written (or counted lost). */
  async settle(): Promise<void> {
    while (this.#writing !== null) await this.#writing;
  }

  async #write(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        let batch = this.#queue;
        if (batch.length > this.#cap) batch = batch.splice(0, this.#cap);
        else this.#queue = [];
        try {
          await this.#store.append(batch);
          this.#batches++;
          this.#cap = Math.min(this.#maxBatch, this.#cap * 2);
          this.#onWritten(batch);
        } catch (err) {
          if ((err as Error)?.name === "StoreFullError" && batch.length > 1) {
            // Larger than what the origin can hold: again, in halves.
            this.#cap = Math.ceil(batch.length / 2);
            this.#queue = batch.concat(this.#queue);
            continue;
          }
          this.#onLost(batch, err instanceof Error ? err : new Error(String(err)));
        }
        this.#written += batch.length;
        const marks = this.#marks;
        while (marks.length > 0 && marks[0]!.at <= this.#written) marks.shift()!.fn();
        const waiters = this.#waiters;
        while (waiters.length > 0 && waiters[0]!.at <= this.#written) waiters.shift()!.resolve();
      }
    } finally {
      this.#writing = null;
    }
  }

  /** Durability is the asynchronous store's business: see {@linkcode serveBrowserWorker}'s flush. */
  sync(): void {}

  query(): QueryPage {
    throw new TypeError("WriteBehind answers no queries: await the asynchronous store's query()");
  }

  getFlowLog(): FlowLog {
    throw new TypeError(
      "WriteBehind answers no queries: await the asynchronous store's getFlowLog()",
    );
  }

  listFlowPage(): FlowPage {
    throw new TypeError(
      "WriteBehind answers no queries: await the asynchronous store's listFlowPage()",
    );
  }

  nodeStats(): NodeStatsAccumulator {
    throw new TypeError(
      "WriteBehind answers no queries: await the asynchronous store's nodeStats()",
    );
  }

  stats(): Record<string, unknown> {
    return { backlog: this.#queue.length, batches: this.#batches };
  }

  close(): void {}
}

/** The worker API with every method allowed to answer through a promise (comlink awaits it). */
export type AsyncWorkerApi = {
  [K in keyof WorkerApi]: WorkerApi[K] extends (...args: infer A) => infer R
    ? (...args: A) => R | Promise<R>
    : never;
};

/** Statistics of the browser worker: the consumer's, with the store's awaited. */
export interface BrowserWorkerStats extends Omit<ConsumerStats, "store"> {
  store: unknown;
}

/** Options of {@linkcode serveBrowserWorker}. */
export interface BrowserWorkerOptions extends WriteBehindOptions {
  /**
   * Where console output goes (option `console` of `createLogger`).
   * @default {console.error}
   */
  writeConsole?: (stream: "stdout" | "stderr", text: string) => void;
  /**
   * Longest sleep of the drain loop between wake-ups.
   * @default {1000}
   */
  idleMs?: number;
  /** Sends a notice to the page (store errors, evictions: its `stats()`). */
  notify?: (notice: WorkerNotice) => void;
  /**
   * Imports a sink module (option `sinks`) by URL.
   * @default {dynamic `import()`}
   */
  loadModule?: ModuleLoader;
}

/** What the worker passes the store opener besides the logger's store options. */
export interface BrowserStoreOptions extends StoreOptions {
  /** Called after a write that evicted events (retention or quota) committed. */
  onEvict?: (evicted: { events: number }) => void;
}

/**
 * Opens the store (asynchronously) and returns the worker API at once: every
 * call waits for the store. A store that cannot be opened does not crash the
 * worker: `ready()` reports the error and every other call throws it. With
 * shared memory (`init.shared`), runs the drain loop.
 */
export function serveBrowserWorker(
  init: WorkerInit,
  openStore: (name: string, options: BrowserStoreOptions) => Promise<AsyncStore>,
  options: BrowserWorkerOptions = {},
): AsyncWorkerApi {
  let failure: Error | null = null;
  let closed = false;
  let consumer!: Consumer;
  let store!: AsyncStore;
  let behind!: WriteBehind;
  let loop: Promise<void> = Promise.resolve();
  let observers: Observers | null = null;
  let sinks: SinkHost | null = null;
  // A worker that replaces a dead one with shared rings (docs/internals.md "Worker restart").
  const resumed = init.shared && init.restarted === true
    ? waitForResume(init.control)
    : Promise.resolve();
  const notify = options.notify ?? (() => {});
  const onEvict = ({ events }: { events: number }) => {
    if (events > 0) notify({ type: "flightlog-notice", error: null, evicted: events });
  };
  const opened = openStore(init.dir, { ...init.store, onEvict }).then(async (s) => {
    store = s;
    behind = new WriteBehind(s, {
      ...options,
      onWritten: (events) => {
        for (const [producer, [user, internal]] of countByProducer(events)) {
          consumer.confirm(producer, user, internal);
        }
        // A sign of life for the page's watchdog while an acknowledgement waits for IndexedDB.
        notify({ type: "flightlog-notice", error: null, evicted: 0 });
        // Sinks get what IndexedDB committed, never a batch it then refused.
        sinks?.sinks.offer(events);
        options.onWritten?.(events);
      },
      onLost: (events, err) => {
        for (const [producer, [user]] of countByProducer(events)) {
          consumer.refused(producer, user, err);
        }
        notify({
          type: "flightlog-notice",
          error: `Store write failed, events were dropped: ${errorText(err)}`,
          evicted: 0,
        });
        options.onLost?.(events, err);
      },
    });
    consumer = new Consumer(behind, init.control, init.generation ?? 0, { confirmed: true });
    const writeConsole = options.writeConsole ?? ((_stream, text) => console.error(text));
    observers = installObservers(consumer, init.observe, writeConsole);
    sinks = startSinks(init.sinks, writeConsole, notify, options.loadModule);
    // A worker that replaces a dead one takes the definitions its producers
    // handed over (docs/internals.md "Worker restart").
    for (const r of init.rings) {
      consumer.addRing(
        r.producer,
        r.buffer,
        init.restarted === true ? { bindings: r.bindings } : undefined,
      );
    }
    // Batches pages spilled while going away: stored before any call is
    // answered, each event once (a batch may be spilled twice, or partly
    // committed by the worker of the page that spilled it).
    const spilled = init.spilled ?? [];
    const pending = (await s.takePending?.(spilled)) ?? [];
    const seen = new Map<string, number>();
    for (const batch of [...pending, ...spilled]) {
      const from = Math.max(batch.stored ?? 0, seen.get(batch.producer) ?? 0);
      // A loss record for spilled events that never arrived, stored after all.
      if (batch.unlessStored !== undefined && from >= batch.unlessStored) continue;
      const bytes = skipStored(batch.bytes, from);
      seen.set(batch.producer, Math.max(from, lastSeq(bytes)));
      consumer.ingest(batch.producer, bytes, batch.emitted, batch.dropped);
    }
    await behind.settle();
    if (init.shared) {
      // ...and drains only once the front end has counted what the dead one
      // took, which it does once ready() answers: so not awaited here.
      loop = resumed.then(() => run(options.idleMs ?? 1000));
    }
  }).catch((err) => {
    const why = err instanceof Error ? err.message : String(err);
    failure = new Error(
      `Cannot open the flightlog IndexedDB database "${init.dir}": ${why}; check that IndexedDB is allowed for this origin`,
      { cause: err },
    );
  });

  // Once the events drained so far are committed, tells each ring's page
  // (STORED): its unload spill starts there (src/wire/sab_spill.ts).
  function markStored(): void {
    const tails = consumer.drained();
    behind.mark(() => {
      for (const [ring, tail] of tails) ring.markStored(tail);
    });
  }

  // Drain, answer flush requests, yield so RPCs run; pause while the writer is behind.
  async function run(idleMs: number): Promise<void> {
    const channel = new MessageChannel();
    const yieldToEvents = () =>
      new Promise<void>((resolve) => {
        channel.port2.onmessage = () => resolve();
        channel.port1.postMessage(0);
      });
    let turn = performance.now();
    try {
      // A replaced consumer stops (docs/internals.md "Worker restart").
      while (!closed && !consumer.retired()) {
        if (behind.full()) {
          await behind.settle();
          continue;
        }
        const started = performance.now();
        let n: number;
        do {
          n = consumer.drain();
          consumer.serviceFlushRequests();
        } while (n > 0 && !behind.full() && performance.now() - started < 8 && !closed);
        markStored();
        if (n > 0 && started - turn < RPC_TURN_MS) {
          await yieldToEvents();
          continue;
        }
        // A timer turn, so that RPCs get in (src/worker/consumer.ts run()); idle:
        // first fault in the ring's pages, then sleep.
        turn = started;
        if (n > 0 || consumer.prefault()) await timerTurn();
        else await consumer.sleep(idleMs);
      }
    } catch (err) {
      failure ??= err instanceof Error ? err : new Error(String(err));
    } finally {
      channel.port1.close();
      channel.port2.close();
    }
  }

  // Every call that drains waits for it too: a flush the page sent before
  // ready() answered must not take what the front end is about to count
  // (events taken count as persisted only once IndexedDB has them).
  const live = async (): Promise<Consumer> => {
    await opened;
    if (failure !== null) throw failure;
    await resumed;
    return consumer;
  };
  // A read answers with every event logged before it: drained, and in IndexedDB.
  const caughtUp = async (): Promise<void> => {
    (await live()).drain();
    await behind.settle();
  };

  return {
    ready: async () => {
      await opened;
      await observers?.ready;
      return failure === null ? null : failure.message;
    },
    metrics: async () => {
      const c = await live();
      const counters = scrapeCounters(c); // ring fill as the producers left it
      c.drain();
      return observers?.metricsText(counters) ?? null;
    },
    addRing: async (producer, buffer) => (await live()).addRing(producer, buffer),
    ingest: async (producer, bytes, emitted, dropped) => {
      const c = await live();
      // Bounded memory: the front end keeps the batch counted as in flight meanwhile.
      while (behind.full()) await behind.settle();
      c.ingest(producer, bytes, emitted, dropped);
      // Answered once IndexedDB committed it: until then the page keeps a
      // copy to spill at pagehide, and counts it as pending, not persisted.
      await behind.written();
      return c.countsOf(producer);
    },
    flush: async (durable) => {
      const c = await live();
      c.drain();
      markStored();
      await behind.settle();
      if (durable) await store.sync();
      // Resolves once the sinks have what IndexedDB committed, or their flushTimeoutMs passed.
      await sinks?.flushed();
      c.flush(false); // rethrows a write failure since the last flush
    },
    query: async (filter) => {
      await caughtUp();
      return await store.query(filter);
    },
    getFlowLog: async (flowId) => {
      await caughtUp();
      if (store.flowPayloads === undefined) return await store.getFlowLog(flowId);
      // Payloads, not events: the caller unpacks them faster than it could clone the events.
      const payloads = await store.flowPayloads(flowId);
      return { kind: "flightlog-packed-flow-log", flow_id: flowId, payloads };
    },
    listFlows: async (options) => {
      await caughtUp();
      return await store.listFlowPage(options);
    },
    nodeStats: async (filter) => {
      await caughtUp();
      return (await store.nodeStats(filter)).rows();
    },
    stats: async () => {
      const c = await live();
      return { ...c.stats(), store: await store.stats() } as unknown as ConsumerStats;
    },
    close: async () => {
      await opened;
      if (failure !== null || closed) return;
      closed = true;
      consumer.close();
      await loop;
      await behind.settle();
      await store.sync();
      await store.close();
      await sinks?.close();
    },
  };
}

function countByProducer(events: readonly LogEvent[]): Map<string, [number, number]> {
  const counts = new Map<string, [number, number]>();
  for (const e of events) {
    let c = counts.get(e.producer);
    if (c === undefined) counts.set(e.producer, c = [0, 0]);
    if (e.event === INTERNAL_EVENTS.dropped) c[1]++;
    else c[0]++;
  }
  return counts;
}
