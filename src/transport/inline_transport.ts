/**
 * The `"inline"` transport: no worker at all. The consumer runs on the
 * logger's own thread, on a timer, over a private ring and a synchronous
 * store (Deno's segment files; browsers have none).
 *
 * @module
 */
import { createControlBuffer, createRingBuffer, RingProducer, SLEEPING } from "../wire/ring.ts";
import { Consumer } from "../worker/consumer.ts";
import { installObservers, type Observers, scrapeCounters } from "../worker/observers.ts";
import { type SinkHost, startSinks } from "../worker/sink_host.ts";
import type { SinkStats } from "../sinks/sink.ts";
import type { FlowLog, QueryFilter, QueryPage } from "../query/types.ts";
import type { FlowPage, ListFlowsOptions } from "../query/flow_list.ts";
import type { NodeStatsFilter, NodeStatsRow } from "../query/node_stats.ts";
import type { Store } from "../worker/consumer.ts";
import type { Platform } from "../platform/types.ts";
import { StoreLockedError } from "../store/errors.ts";
import type { ProducerHandle } from "./handle.ts";
import {
  flushAtExit,
  LoggerClosedError,
  newInstanceId,
  type OwnStoreConfig,
  type Transport,
} from "./types.ts";

/** The consumer on the logger's thread; see the module doc. */
export class InlineTransport implements Transport {
  readonly mode = "inline" as const;
  readonly producer: RingProducer;
  readonly producerId: string;
  readonly canBlock = false;
  readonly #consumer: Consumer;
  readonly #observers: Observers | null;
  readonly #sinks: SinkHost | null;
  sinkStats?: () => SinkStats[];
  readonly #control: Int32Array;
  readonly #intervalMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #failure: Error | null = null;
  readonly #removeExitHook: () => void;
  publishCounters: (() => void) | undefined = undefined;
  settleDrops: (() => boolean) | undefined = undefined;

  readonly #platform: Platform;

  constructor(config: OwnStoreConfig, platform: Platform) {
    this.#platform = platform;
    // The store first: where none can be opened (browsers), nothing else is built.
    let store: Store;
    try {
      store = platform.openStore(config.dir, {
        ...config.store,
        onEvict: (records) => {
          for (const r of records) this.#evicted += r.eventCount;
        },
      });
    } catch (err) {
      // No store here at all (a browser), or a lock whose error says what to do.
      if (err instanceof TypeError || err instanceof StoreLockedError) throw err;
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
    this.#observers = installObservers(this.#consumer, config.observe, platform.writeConsole);
    const sinks = startSinks(config.sinks, platform.writeConsole, null);
    this.#sinks = sinks;
    if (sinks !== null) {
      this.#consumer.addObserver(sinks.sinks.offer);
      this.sinkStats = () => sinks.sinks.stats();
    }
    // The consumer "sleeps" until the first write; a write then schedules one drain.
    Atomics.store(this.#control, SLEEPING, 1);
    this.producer.onWake = () => this.#schedule();
    this.#removeExitHook = config.exitHooks
      ? platform.addExitHook(() => flushAtExit(this, () => this.#drain()))
      : () => {};
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.#drain();
    }, this.#intervalMs);
    this.#platform.unrefTimer(timer);
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

  // Answers on this thread, through a promise as the worker transports do.
  #answer<T>(fn: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new LoggerClosedError("The logger is closed"));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async flush(durable: boolean): Promise<void> {
    await this.#answer(() => {
      this.#consumer.flush(durable);
      Atomics.store(this.#control, SLEEPING, 1);
    });
    // Resolves once the sinks have what it stored, or their flushTimeoutMs passed.
    await this.#sinks?.flushed();
  }

  query(filter: QueryFilter): Promise<QueryPage> {
    return this.#answer(() => this.#consumer.query(filter));
  }

  getFlowLog(flowId: string): Promise<FlowLog> {
    return this.#answer(() => this.#consumer.getFlowLog(flowId));
  }

  listFlows(options: ListFlowsOptions | undefined): Promise<FlowPage> {
    return this.#answer(() => this.#consumer.listFlows(options));
  }

  nodeStats(filter: NodeStatsFilter | undefined): Promise<NodeStatsRow[]> {
    return this.#answer(() => this.#consumer.nodeStats(filter));
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

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#removeExitHook();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      this.#consumer.close();
    } finally {
      this.#closed = true;
      // The sinks get what the last drain stored, within their flushTimeoutMs.
      await this.#sinks?.close();
    }
  }
}
